"""Sensors: status, power, energy, per-phase values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .authorization.entities import authorization_sensors
from .authorization.subentries import is_authorization_entry
from .central_system.sensors import async_add_signal_sensors, ocpp_sensors
from .coordinator import EVChargingConfigEntry
from .devices import Capabilities, ChargerState, DeviceKind, Reading
from .entity import EVChargingEntity
from .session.manager import ChargerSessions
from .total_sensors import async_setup_person_sensors, charger_total_sensors

PARALLEL_UPDATES = 0

STATUS_OPTIONS: dict[ChargerState, str] = {
    ChargerState.A: "no_vehicle",
    ChargerState.B: "connected",
    ChargerState.C: "charging",
    ChargerState.D: "charging_ventilated",
    ChargerState.E: "no_power",
    ChargerState.F: "fault",
}


@dataclass(frozen=True, kw_only=True)
class EVChargingSensorDescription(SensorEntityDescription):
    """A sensor: how to read it, and whether a device has it."""

    value_fn: Callable[[Reading], StateType]
    has_fn: Callable[[Capabilities, Reading], bool] = lambda _caps, _reading: True


def kwh(wh: float | Decimal | None) -> float | None:
    """Wh as kWh, divided in decimal so the state shows the register's digits and no more.

    Home Assistant's own Wh-to-kWh conversion divides in binary, which turns a reading of
    4567890.5 Wh into 4567.890499999999 kWh.
    """
    if wh is None:
        return None
    exact = wh if isinstance(wh, Decimal) else Decimal(repr(wh))
    return float(exact.scaleb(-3))


def _attribute(name: str) -> Callable[[Reading], StateType]:
    def value(reading: Reading) -> StateType:
        result: StateType = getattr(reading, name)
        return result

    return value


def _phase_present(name: str, phase: int) -> Callable[[Capabilities, Reading], bool]:
    def present(caps: Capabilities, reading: Reading) -> bool:
        return phase <= caps.phases and getattr(reading, name) is not None

    return present


def _phase(
    kind: str, unit: str, device_class: SensorDeviceClass
) -> list[EVChargingSensorDescription]:
    return [
        EVChargingSensorDescription(
            key=f"{kind}_l{phase}",
            translation_key=f"{kind}_phase",
            translation_placeholders={"phase": str(phase)},
            device_class=device_class,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=unit,
            suggested_display_precision=1,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
            value_fn=_attribute(f"{kind}_l{phase}"),
            has_fn=_phase_present(f"{kind}_l{phase}", phase),
        )
        for phase in (1, 2, 3)
    ]


SENSORS: tuple[EVChargingSensorDescription, ...] = (
    EVChargingSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=list(STATUS_OPTIONS.values()),
        value_fn=lambda reading: STATUS_OPTIONS[reading.state] if reading.state else None,
        has_fn=lambda caps, _reading: caps.kind is DeviceKind.CHARGER,
    ),
    EVChargingSensorDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda reading: reading.power,
    ),
    EVChargingSensorDescription(
        key="energy",
        translation_key="energy_total",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda reading: kwh(reading.energy),
    ),
    EVChargingSensorDescription(
        key="energy_export",
        translation_key="energy_export",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda reading: kwh(reading.energy_export),
        has_fn=lambda caps, _reading: caps.has_export_energy,
    ),
    EVChargingSensorDescription(
        key="device_session_energy",
        translation_key="device_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda reading: kwh(reading.session_energy),
        has_fn=lambda caps, _reading: caps.has_session_energy,
    ),
    *_phase("current", UnitOfElectricCurrent.AMPERE, SensorDeviceClass.CURRENT),
    *_phase("voltage", UnitOfElectricPotential.VOLT, SensorDeviceClass.VOLTAGE),
    *_phase("power", UnitOfPower.WATT, SensorDeviceClass.POWER),
)


@dataclass(frozen=True, kw_only=True)
class EVChargingSessionSensorDescription(SensorEntityDescription):
    """A sensor of the present (or, after unplug, the last) charging session."""

    value_fn: Callable[[SessionView], StateType | Decimal | datetime]


@dataclass(frozen=True)
class SessionView:
    """What the session sensors show: the running session, else the last completed one."""

    energy_wh: Decimal | None
    started_at: datetime | None
    duration_s: float | None
    cost: Decimal | None
    price: Decimal | None

    @classmethod
    def of(cls, sessions: ChargerSessions) -> SessionView:
        """Take the view from the charger's session manager."""
        price = sessions.current_price
        if (active := sessions.active) is not None:
            duration = (dt_util.utcnow() - active.started_at).total_seconds()
            live = sessions.live_cost
            return cls(
                active.energy_wh,
                active.started_at,
                duration,
                None if live is None else live.total,
                price,
            )
        if (record := sessions.last_record) is not None:
            started = datetime.fromisoformat(record["started_at"])
            ended = datetime.fromisoformat(record["ended_at"])
            total = (record.get("cost") or {}).get("total")
            return cls(
                Decimal(record["energy_wh"]),
                started,
                (ended - started).total_seconds(),
                None if total is None else Decimal(total),
                price,
            )
        return cls(None, None, None, None, price)


SESSION_SENSORS: tuple[EVChargingSessionSensorDescription, ...] = (
    EVChargingSessionSensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda view: kwh(view.energy_wh),
    ),
    EVChargingSessionSensorDescription(
        key="session_start",
        translation_key="session_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda view: view.started_at,
    ),
    EVChargingSessionSensorDescription(
        key="session_cost",
        translation_key="session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda view: view.cost,
    ),
    EVChargingSessionSensorDescription(
        key="current_price",
        translation_key="current_price",
        suggested_display_precision=4,
        value_fn=lambda view: view.price,
    ),
    EVChargingSessionSensorDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        # Whole minutes: the state changes once a minute, not with every poll.
        value_fn=lambda view: None if view.duration_s is None else int(view.duration_s // 60),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EVChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors this device has; the Authorization entry's are each person's totals."""
    if is_authorization_entry(entry):
        async_setup_person_sensors(hass, entry, async_add_entities)
        return
    caps = entry.runtime_data.device.capabilities
    reading = entry.runtime_data.live.data
    entities: list[SensorEntity] = [
        EVChargingSensor(entry=entry, description=description)
        for description in SENSORS
        if description.has_fn(caps, reading)
    ]
    if (sessions := entry.runtime_data.sessions) is not None:
        entities += [
            EVChargingSessionSensor(entry=entry, description=description, sessions=sessions)
            for description in SESSION_SENSORS
        ]
    entities += ocpp_sensors(entry)
    entities += authorization_sensors(hass, entry)
    entities += charger_total_sensors(hass, entry)
    async_add_entities(entities)
    async_add_signal_sensors(hass, entry, async_add_entities)


class EVChargingSensor(EVChargingEntity, SensorEntity):
    """A sensor fed by the live coordinator."""

    entity_description: EVChargingSensorDescription

    @property
    def native_value(self) -> StateType:
        """The value from the latest poll."""
        return self.entity_description.value_fn(self.coordinator.data)


class EVChargingSessionSensor(EVChargingEntity, SensorEntity):
    """A sensor of the charger's session, updated with every poll."""

    entity_description: EVChargingSessionSensorDescription

    def __init__(
        self,
        *,
        entry: EVChargingConfigEntry,
        description: EVChargingSessionSensorDescription,
        sessions: ChargerSessions,
    ) -> None:
        """Follow `sessions`."""
        super().__init__(entry=entry, description=description)
        self._sessions = sessions
        currency = sessions.pricing.currency
        if description.key == "session_cost":
            self._attr_native_unit_of_measurement = currency
        elif description.key == "current_price":
            self._attr_native_unit_of_measurement = f"{currency}/kWh"

    @property
    def native_value(self) -> StateType | Decimal | datetime:
        """The session's value as of the latest poll."""
        return self.entity_description.value_fn(SessionView.of(self._sessions))
