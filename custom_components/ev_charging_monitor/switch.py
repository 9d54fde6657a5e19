"""The switch that allows or stops charging."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .central_system.entities import ocpp_switches
from .coordinator import EVChargingConfigEntry
from .entity import EVChargingEntity
from .helpers import run_device_command

PARALLEL_UPDATES = 1

CHARGING_ENABLED = SwitchEntityDescription(
    key="charging_enabled", translation_key="charging_enabled"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EVChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switch when the charger can be enabled remotely."""
    if entry.runtime_data.device.capabilities.can_enable:
        async_add_entities([EVChargingEnabledSwitch(entry=entry, description=CHARGING_ENABLED)])
    async_add_entities(ocpp_switches(entry))


class EVChargingEnabledSwitch(EVChargingEntity, SwitchEntity):
    """Charging allowed (on) or paused (off)."""

    @property
    def is_on(self) -> bool | None:
        """Whether the charger may charge."""
        return self.coordinator.data.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Allow charging."""
        await run_device_command(self, self.coordinator.device.set_enabled(True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        await run_device_command(self, self.coordinator.device.set_enabled(False))
