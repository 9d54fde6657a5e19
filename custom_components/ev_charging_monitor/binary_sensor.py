"""Binary sensors: vehicle connected, charging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EVChargingConfigEntry
from .devices import DeviceKind, Reading
from .entity import EVChargingEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EVChargingBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor and how to read it."""

    is_on_fn: Callable[[Reading], bool | None]


BINARY_SENSORS: tuple[EVChargingBinarySensorDescription, ...] = (
    EVChargingBinarySensorDescription(
        key="vehicle_connected",
        translation_key="vehicle_connected",
        device_class=BinarySensorDeviceClass.PLUG,
        is_on_fn=lambda r: None if r.state is None else r.state.vehicle_connected,
    ),
    EVChargingBinarySensorDescription(
        key="charging",
        translation_key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        is_on_fn=lambda r: None if r.state is None else r.state.charging,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EVChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of a charger."""
    if entry.runtime_data.device.capabilities.kind is not DeviceKind.CHARGER:
        return
    async_add_entities(
        EVChargingBinarySensor(entry=entry, description=description)
        for description in BINARY_SENSORS
    )


class EVChargingBinarySensor(EVChargingEntity, BinarySensorEntity):
    """A binary sensor fed by the live coordinator."""

    entity_description: EVChargingBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The value from the latest poll."""
        return self.entity_description.is_on_fn(self.coordinator.data)
