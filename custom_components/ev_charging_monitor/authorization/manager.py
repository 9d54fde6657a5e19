"""The installation's authorization: decisions, events, unknown cards and NFC tags.

One manager per Home Assistant, loaded in `async_setup` (before any charger entry), so a
charger's lock state is known from its first poll. What it holds is in state.py, how it
decides in decisions.py, what becomes of unknown cards in unknown_cards.py and
notifications.py.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN
from .decisions import EVENT_AUTHORIZATION
from .notifications import EVENT_NOTIFICATION_ACTION
from .store import AuthorizationStore
from .subentries import async_sync, authorization_entry
from .unknown_cards import UnknownCards

# What the rest of the integration reaches authorization by.
__all__ = ["AUTHORIZATION", "EVENT_AUTHORIZATION", "AuthorizationManager", "async_get_manager"]

AUTHORIZATION: HassKey[AuthorizationManager] = HassKey(f"{DOMAIN}_authorization")
EVENT_TAG_SCANNED = "tag_scanned"


async def async_get_manager(hass: HomeAssistant) -> AuthorizationManager:
    """The installation's manager, loaded on first use (a config flow may come first)."""
    if (manager := hass.data.get(AUTHORIZATION)) is None:
        manager = hass.data[AUTHORIZATION] = await AuthorizationManager.async_load(hass)
    return manager


class AuthorizationManager(UnknownCards):
    """Decides, records and tells."""

    @classmethod
    async def async_load(cls, hass: HomeAssistant) -> AuthorizationManager:
        """Read the Store and the Authorization entry's subentries; listen for NFC tags.

        Config entries are known (not necessarily set up) by now: people and cards count
        from a charger's first poll on.
        """
        store = AuthorizationStore(hass)
        manager = cls(hass, store, await store.async_load())
        if (entry := authorization_entry(hass)) is not None:
            async_sync(hass, entry, manager.data)
        hass.bus.async_listen(EVENT_TAG_SCANNED, manager._tag_scanned)
        hass.bus.async_listen(EVENT_NOTIFICATION_ACTION, manager._notification_action)
        return manager
