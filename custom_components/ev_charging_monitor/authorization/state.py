"""What the installation's authorization holds: the stored data and the chargers loaded now.

The data is the allow-list (people, vehicles, credentials), the unknown cards and each
charger's lock state (store.py); a loaded charger registers itself (setup.py).
"""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import HomeAssistant, callback

from .charger import ChargerAuthorization
from .engine import credential_hash
from .model import AuthorizationMode, CredentialKind
from .store import AuthorizationData, AuthorizationStore


class AuthorizationState:
    """The data and the chargers; the manager's decisions build on it."""

    def __init__(self, hass: HomeAssistant, store: AuthorizationStore, data: AuthorizationData):
        """Use `AuthorizationManager.async_load` to build one."""
        self.hass = hass
        self.store = store
        self.data = data
        self.chargers: dict[str, ChargerAuthorization] = {}
        self._directory_listeners: list[Callable[[], None]] = []

    async def async_save(self) -> None:
        """Write the data now."""
        await self.store.async_save(self.data)

    def hash(self, kind: CredentialKind, value: str) -> str:
        """The keyed hash of a UID or tag id."""
        return credential_hash(self.data.secret, kind, value)

    def raw(self, uid: str | None) -> str | None:
        """A raw UID, kept only with the administrator's opt-in."""
        return uid if self.data.settings.store_raw_uids else None

    @callback
    def async_register(self, charger: ChargerAuthorization) -> None:
        """A charger entry is loaded."""
        self.chargers[charger.entry_id] = charger

    @callback
    def async_unregister(self, charger: ChargerAuthorization) -> None:
        """A charger entry is unloaded."""
        if self.chargers.get(charger.entry_id) is charger:
            del self.chargers[charger.entry_id]

    @callback
    def async_listen_directory(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after people, vehicles, cards or settings changed."""
        self._directory_listeners.append(listener)
        return lambda: self._directory_listeners.remove(listener)

    @callback
    def async_directory_changed(self) -> None:
        """People, vehicles, cards or settings changed (OCPP local lists follow)."""
        for listener in list(self._directory_listeners):
            listener()

    def in_use(self) -> dict[str, str]:
        """Credential id -> charger it authorises now."""
        return {
            str(state.attribution["credential_id"]): charger_id
            for charger_id, state in self.data.chargers.items()
            if state.authorized
            and state.attribution is not None
            and state.attribution.get("credential_id")
        }

    # -- the Authorization entry ----------------------------------------------------------

    async def async_set_enabled(self, enabled: bool) -> None:
        """The Authorization entry was set up (or removed)."""
        if self.data.settings.enabled != enabled:
            before = self.modes()
            self.data.settings.enabled = enabled
            await self.async_save()
            self.async_modes_changed(before)

    def modes(self) -> dict[str, AuthorizationMode]:
        """Each loaded charger's mode now."""
        return {charger_id: charger.mode for charger_id, charger in self.chargers.items()}

    @callback
    def async_modes_changed(self, before: dict[str, AuthorizationMode]) -> None:
        """Reload the chargers whose mode changed.

        Their entities follow the mode, and the first poll holds or releases them and
        sets or gives back their failsafe current.
        """
        for charger_id, mode in self.modes().items():
            if before.get(charger_id) is not mode:
                self.hass.config_entries.async_schedule_reload(charger_id)
