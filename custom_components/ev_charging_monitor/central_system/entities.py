"""The entities only an OCPP charger has: restart, unlock, availability.

Charging (pause/resume switch, start/stop buttons and actions, the current limit) uses the
integration's common entities; `stop_charging` is where an OCPP charger differs: it ends
the transaction (RemoteStopTransaction) instead of only pausing it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory

from ..coordinator import EVChargingConfigEntry
from ..devices.base import Device
from ..entity import EVChargingEntity
from ..helpers import run_device_command
from .device import OcppDevice


def ocpp_device(device: Device) -> OcppDevice | None:
    """The OCPP driver behind a device (also behind authorization's guard)."""
    inner = getattr(device, "inner", device)
    return inner if isinstance(inner, OcppDevice) else None


async def stop_charging(device: Device) -> None:
    """End the running OCPP transaction; elsewhere (or without one) disable charging."""
    if (ocpp := ocpp_device(device)) is not None and ocpp.charger.transaction is not None:
        await ocpp.stop_transaction()
        return
    await device.set_enabled(False)


@dataclass(frozen=True, kw_only=True)
class OcppButtonDescription(ButtonEntityDescription):
    """A button and the OCPP command it sends."""

    press_fn: Callable[[OcppDevice], Awaitable[None]]


BUTTONS: tuple[OcppButtonDescription, ...] = (
    OcppButtonDescription(
        key="restart",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda device: device.reset(hard=False),
    ),
    OcppButtonDescription(
        key="unlock_connector",
        translation_key="unlock_connector",
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda device: device.unlock(),
    ),
)
AVAILABLE = SwitchEntityDescription(
    key="available", translation_key="available", entity_category=EntityCategory.CONFIG
)


def ocpp_buttons(entry: EVChargingConfigEntry) -> list[ButtonEntity]:
    """Restart and unlock, on OCPP chargers."""
    if (device := ocpp_device(entry.runtime_data.device)) is None:
        return []
    return [OcppButton(entry=entry, description=d, ocpp=device) for d in BUTTONS]


def ocpp_switches(entry: EVChargingConfigEntry) -> list[SwitchEntity]:
    """Availability, on OCPP chargers."""
    if (device := ocpp_device(entry.runtime_data.device)) is None:
        return []
    return [AvailableSwitch(entry=entry, description=AVAILABLE, ocpp=device)]


class OcppButton(EVChargingEntity, ButtonEntity):
    """Restart or unlock."""

    entity_description: OcppButtonDescription

    def __init__(
        self, *, entry: EVChargingConfigEntry, description: OcppButtonDescription, ocpp: OcppDevice
    ) -> None:
        """A button of `ocpp`."""
        super().__init__(entry=entry, description=description)
        self._ocpp = ocpp

    async def async_press(self) -> None:
        """Send the command; a refusal is a translated error."""
        await run_device_command(self, self.entity_description.press_fn(self._ocpp))


class AvailableSwitch(EVChargingEntity, SwitchEntity):
    """Operative (on) or Unavailable (off): ChangeAvailability of the whole charger."""

    def __init__(
        self,
        *,
        entry: EVChargingConfigEntry,
        description: SwitchEntityDescription,
        ocpp: OcppDevice,
    ) -> None:
        """The availability of `ocpp`."""
        super().__init__(entry=entry, description=description)
        self._ocpp = ocpp

    @property
    def is_on(self) -> bool | None:
        """What the charger's status says."""
        status = self.coordinator.data.extra.get("ocpp_status")
        return None if status is None else status != "Unavailable"

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Operative."""
        await run_device_command(self, self._ocpp.set_available(True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Inoperative (after the running transaction)."""
        await run_device_command(self, self._ocpp.set_available(False))
