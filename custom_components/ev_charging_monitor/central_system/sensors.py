"""Sensors only an OCPP charger has: its error code, and the vendor's own code for it.

Both follow the connector's last StatusNotification. The error code is one of OCPP 1.6's
ChargePointErrorCode values (`no_error` once the charger reports none); the vendor's code
carries the notification's free texts (info, vendor id) as attributes, since what they
mean is the vendor's.
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
)
from homeassistant.const import EntityCategory
from homeassistant.helpers.typing import StateType
from ocpp.v16.enums import ChargePointErrorCode

from ..const import CONF_DRIVER
from ..coordinator import EVChargingConfigEntry
from ..devices import Reading
from ..entity import EVChargingEntity
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


def ocpp_sensors(entry: EVChargingConfigEntry) -> list[SensorEntity]:
    """The entry's OCPP sensors (none for a charger that is not connected over OCPP)."""
    if entry.data.get(CONF_DRIVER) != DRIVER_OCPP:
        return []
    return [OcppSensor(entry=entry, description=description) for description in OCPP_SENSORS]


class OcppSensor(EVChargingEntity, SensorEntity):
    """A sensor fed by the charger's StatusNotifications (through the live coordinator)."""

    entity_description: OcppSensorDescription

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
