"""Sensors only an OCPP charger has: its error code, the vendor's own code for it, and the
signals of its meter values that are no readings of its meter.

The codes follow the connector's last StatusNotification. The error code is one of OCPP
1.6's ChargePointErrorCode values (`no_error` once the charger reports none); the vendor's
code carries the notification's free texts (info, vendor id) as attributes, since what
they mean is the vendor's.

The signals (the current and power the charger offers the vehicle, the vehicle's state of
charge) are created once the charger first sends them: a charger that never does gets no
sensor that is always unknown. Once created they stay (across restarts too, by their
registry entry); the state of charge is unavailable while no vehicle reports one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from ocpp.v16.enums import ChargePointErrorCode

from ..const import CONF_DRIVER, DOMAIN
from ..coordinator import EVChargingConfigEntry
from ..devices import Reading
from ..entity import EVChargingEntity, device_key
from .charger import ErrorReport
from .const import DRIVER_OCPP


def _state_name(code: str) -> str:
    """An OCPP name as a state: GroundFailure -> ground_failure, EVCommunication... -> ev_..."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", code).lower()


# OCPP 1.6 ChargePointErrorCode values as the sensor's states.
ERROR_CODE_STATES: Final = {code.value: _state_name(code.value) for code in ChargePointErrorCode}


def _report(reading: Reading) -> ErrorReport | None:
    report = reading.extra.get("ocpp_error_report")
    return report if isinstance(report, ErrorReport) else None


def _error_code(reading: Reading) -> StateType:
    report = _report(reading)
    return None if report is None else ERROR_CODE_STATES.get(report.error_code)


def _vendor_error_code(reading: Reading) -> StateType:
    report = _report(reading)
    return None if report is None else report.vendor_error_code


def _vendor_details(reading: Reading) -> dict[str, Any]:
    report = _report(reading)
    if report is None:
        return {"info": None, "vendor_id": None}
    return {"info": report.info, "vendor_id": report.vendor_id}


@dataclass(frozen=True, kw_only=True)
class OcppSensorDescription(SensorEntityDescription):
    """A sensor of the charger's StatusNotification."""

    value_fn: Callable[[Reading], StateType]
    attributes_fn: Callable[[Reading], Mapping[str, Any]] | None = None
    # Unavailable while the value is not known (not unknown: nobody reports it then).
    known_only: bool = False


def _signal(key: str) -> Callable[[Reading], StateType]:
    """The reading's signal `key` (meter_values.signals)."""

    def value(reading: Reading) -> StateType:
        found = reading.extra.get(key)
        return found if isinstance(found, float) else None

    return value


OCPP_SENSORS: Final = (
    OcppSensorDescription(
        key="ocpp_error_code",
        translation_key="ocpp_error_code",
        device_class=SensorDeviceClass.ENUM,
        options=list(ERROR_CODE_STATES.values()),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_error_code,
    ),
    OcppSensorDescription(
        key="ocpp_vendor_error_code",
        translation_key="ocpp_vendor_error_code",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_vendor_error_code,
        attributes_fn=_vendor_details,
    ),
)


# Created once the charger sends them (async_add_signal_sensors).
SIGNAL_SENSORS: Final = (
    OcppSensorDescription(
        key="ocpp_current_offered",
        translation_key="current_offered",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
        value_fn=_signal("ocpp_current_offered"),
    ),
    OcppSensorDescription(
        key="ocpp_power_offered",
        translation_key="power_offered",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=_signal("ocpp_power_offered"),
    ),
    OcppSensorDescription(
        key="ocpp_vehicle_soc",
        translation_key="vehicle_soc",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=_signal("ocpp_soc"),
        known_only=True,
    ),
)


@callback
def async_add_signal_sensors(
    hass: HomeAssistant,
    entry: EVChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The signal sensors the charger has sent values for (now, before, or from now on)."""
    if entry.data.get(CONF_DRIVER) != DRIVER_OCPP:
        return
    registry = er.async_get(hass)
    live = entry.runtime_data.live
    added: set[str] = set()

    def known(description: OcppSensorDescription) -> bool:
        unique_id = f"{device_key(entry)}_{description.key}"
        return registry.async_get_entity_id("sensor", DOMAIN, unique_id) is not None

    stop: list[Callable[[], None]] = []

    @callback
    def add_new() -> None:
        reading = live.data
        new = [
            description
            for description in SIGNAL_SENSORS
            if description.key not in added
            and (description.value_fn(reading) is not None or known(description))
        ]
        if new:
            added.update(description.key for description in new)
            async_add_entities([OcppSensor(entry=entry, description=d) for d in new])
        if len(added) == len(SIGNAL_SENSORS):
            stop_listening()  # all there: nothing left to wait for

    @callback
    def stop_listening() -> None:
        while stop:
            stop.pop()()

    add_new()
    if len(added) < len(SIGNAL_SENSORS):
        stop.append(live.async_add_listener(add_new))
        entry.async_on_unload(stop_listening)


def ocpp_sensors(entry: EVChargingConfigEntry) -> list[SensorEntity]:
    """The entry's OCPP sensors (none for a charger that is not connected over OCPP)."""
    if entry.data.get(CONF_DRIVER) != DRIVER_OCPP:
        return []
    return [OcppSensor(entry=entry, description=description) for description in OCPP_SENSORS]


class OcppSensor(EVChargingEntity, SensorEntity):
    """A sensor fed by the charger's StatusNotifications (through the live coordinator)."""

    entity_description: OcppSensorDescription

    @property
    def available(self) -> bool:
        """Connected; for a value only a vehicle reports, also while one does."""
        if not super().available:
            return False
        description = self.entity_description
        return not description.known_only or description.value_fn(self.coordinator.data) is not None

    @property
    def native_value(self) -> StateType:
        """The value of the latest reading."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The notification's free texts, where the description has them."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.coordinator.data)
