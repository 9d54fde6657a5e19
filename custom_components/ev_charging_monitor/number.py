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

from .coordinator import EVChargingConfigEntry
from .current_limit import async_set_current_limit
from .entity import EVChargingEntity

PARALLEL_UPDATES = 1
# IEC 61851-1: a PWM duty cycle below 6 A is no charging current.
MIN_CURRENT_A = 6.0
DEFAULT_MAX_CURRENT_A = 32.0

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
        """Take the range from the device's capabilities (IEC 61851: at least 6 A)."""
        super().__init__(entry=entry, description=description)
        self._entry = entry
        caps = entry.runtime_data.device.capabilities
        self._attr_native_min_value = max(caps.min_current_a or MIN_CURRENT_A, MIN_CURRENT_A)
        self._attr_native_max_value = caps.max_current_a or DEFAULT_MAX_CURRENT_A

    @property
    def native_value(self) -> float | None:
        """The limit the device reports; while paused at 0 A, the one it resumes with."""
        limit = self.coordinator.data.current_limit
        if limit is not None and limit < self.native_min_value:
            memory = self._entry.runtime_data.current_limit
            return None if memory is None else memory.amps
        return limit

    async def async_set_native_value(self, value: float) -> None:
        """Set the limit, as the user who asked (a held charger refuses some users)."""
        user_id = None if self._context is None else self._context.user_id
        await async_set_current_limit(self._entry, value, user_id=user_id)
