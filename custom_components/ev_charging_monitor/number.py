"""The charging current limit."""

from __future__ import annotations

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .authorization.guard import acting_as
from .coordinator import EVChargingConfigEntry
from .entity import EVChargingEntity
from .helpers import run_device_command

PARALLEL_UPDATES = 1

CURRENT_LIMIT = NumberEntityDescription(
    key="current_limit",
    translation_key="current_limit",
    device_class=NumberDeviceClass.CURRENT,
    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    native_step=1,
    mode=NumberMode.SLIDER,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EVChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the current limit when the charger takes a setpoint."""
    if entry.runtime_data.device.capabilities.can_set_current:
        async_add_entities([EVChargingCurrentLimit(entry=entry, description=CURRENT_LIMIT)])


class EVChargingCurrentLimit(EVChargingEntity, NumberEntity):
    """The current the charger may offer the car, within the device's range."""

    def __init__(
        self, *, entry: EVChargingConfigEntry, description: NumberEntityDescription
    ) -> None:
        """Take the range from the device's capabilities."""
        super().__init__(entry=entry, description=description)
        caps = entry.runtime_data.device.capabilities
        self._attr_native_min_value = caps.min_current_a or 6
        self._attr_native_max_value = caps.max_current_a or 32

    @property
    def native_value(self) -> float | None:
        """The limit the device reports."""
        return self.coordinator.data.current_limit

    async def async_set_native_value(self, value: float) -> None:
        """Set the limit, as the user who asked (a held charger refuses some users)."""
        with acting_as(None if self._context is None else self._context.user_id):
            await run_device_command(self, self.coordinator.device.set_current_limit(value))
