"""Hooks the rest of the integration calls: load, guard a charger, the Authorization entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..devices.base import Device
from ..session.manager import ChargerSessions
from .charger import ChargerAuthorization
from .guard import GuardedDevice
from .manager import AUTHORIZATION, async_get_manager
from .services import async_setup_services
from .subentries import (
    CONF_ROLE,
    ROLE_AUTHORIZATION,
    async_import_legacy,
    async_sync,
    is_authorization_entry,
)

__all__ = ["CONF_ROLE", "ROLE_AUTHORIZATION", "is_authorization_entry"]


async def async_setup_authorization(hass: HomeAssistant) -> None:
    """Load people, credentials and lock states; register the actions."""
    await async_get_manager(hass)
    async_setup_services(hass)


def async_guard_charger(
    hass: HomeAssistant, entry: ConfigEntry[Any], device: Device
) -> tuple[Device, ChargerAuthorization]:
    """The charger's authorization, and its driver guarded by it."""
    charger = ChargerAuthorization(
        hass.data[AUTHORIZATION],
        entry_id=entry.entry_id,
        name=entry.title,
        device=device,
        session_fn=lambda: None,
    )
    return GuardedDevice(device, charger), charger


def async_attach_charger(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    charger: ChargerAuthorization,
    sessions: ChargerSessions | None,
    on_change: Callable[[], None],
) -> None:
    """Before the first poll: sessions and entities follow the charger's authorization."""
    manager = hass.data[AUTHORIZATION]
    if sessions is not None:
        charger.session_fn = lambda: sessions.active
        sessions.authorization_fn = charger.attribution
        entry.async_on_unload(sessions.async_listen_plug_cycle(charger.async_plug_cycle))
    charger.on_change = on_change
    manager.async_register(charger)
    entry.async_on_unload(lambda: manager.async_unregister(charger))


async def async_setup_authorization_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """The Authorization entry exists: chargers are held by their mode from now on.

    People, vehicles and cards of the old Store format become subentries first (once).
    """
    manager = hass.data[AUTHORIZATION]
    if async_import_legacy(hass, entry, manager.data):
        await manager.async_save()
    async_sync(hass, entry, manager.data)

    async def subentries_changed(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        async_sync(hass, entry, manager.data)
        manager.async_directory_changed()

    entry.async_on_unload(entry.add_update_listener(subentries_changed))
    await manager.async_set_enabled(True)
    return True


async def async_remove_authorization_entry(hass: HomeAssistant) -> None:
    """The administrator removed Authorization: every charger is free again.

    Its people, vehicles and cards were its subentries and are gone with it.
    """
    manager = hass.data[AUTHORIZATION]
    manager.data.people, manager.data.vehicles, manager.data.credentials = {}, {}, {}
    await manager.async_set_enabled(False)
