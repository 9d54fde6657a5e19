"""Buttons that start and stop charging."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .authorization.entities import authorization_buttons
from .central_system.entities import ocpp_buttons, stop_charging
from .coordinator import EVChargingConfigEntry
from .devices.base import Device
from .entity import EVChargingEntity
from .helpers import run_device_command

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class EVChargingButtonDescription(ButtonEntityDescription):
    """A button and the command it sends."""

    press_fn: Callable[[Device], Awaitable[None]]


BUTTONS: tuple[EVChargingButtonDescription, ...] = (
    EVChargingButtonDescription(
        key="start_charging",
        translation_key="start_charging",
        press_fn=lambda device: device.set_enabled(True),
    ),
    EVChargingButtonDescription(
        key="stop_charging",
        translation_key="stop_charging",
        press_fn=stop_charging,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EVChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons when the charger can be enabled remotely."""
    if entry.runtime_data.device.capabilities.can_enable:
        async_add_entities(
            EVChargingButton(entry=entry, description=description) for description in BUTTONS
        )
    async_add_entities(authorization_buttons(hass, entry))
    async_add_entities(ocpp_buttons(entry))


class EVChargingButton(EVChargingEntity, ButtonEntity):
    """Start or stop charging."""

    entity_description: EVChargingButtonDescription

    async def async_press(self) -> None:
        """Send the command."""
        await run_device_command(self, self.entity_description.press_fn(self.coordinator.device))
