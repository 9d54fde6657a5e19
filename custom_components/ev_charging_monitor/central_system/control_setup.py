"""An OCPP charger entry's control: commands, its local list, remote starts for people.

- After every boot of the accepted charger, it gets back its pause or current limit and
  its local list (control.py, local_list.py).
- Whenever the allow-list changes, the local list follows.
- When someone is accepted in Home Assistant (a user's "authorise", an NFC tag, a card
  the administrator allowed once) while a vehicle waits, the charger is started remotely;
  the session is attributed to that person by the authorization as for any charger.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..authorization.manager import AUTHORIZATION, EVENT_AUTHORIZATION
from ..authorization.model import AuthorizationMode, AuthorizationResult, CredentialKind
from ..const import DOMAIN, LOGGER
from ..coordinator import EVChargingConfigEntry
from ..devices import DeviceError
from .const import CONF_CHARGE_POINT_ID
from .control import Ocpp16Control
from .device import OcppDevice
from .local_list import async_get_local_lists, wanted_list
from .registry import OcppRegistry

# Accepted in Home Assistant, not at the charger: these start it remotely.
_REMOTE_METHODS: Final = frozenset({CredentialKind.HA_USER.value, CredentialKind.NFC_TAG.value})
_ALLOWED_ONCE: Final = "allowed_once"
STORAGE_VERSION: Final = 1


def _pause_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.ocpp_pause")


async def async_remove_control(hass: HomeAssistant, entry: EVChargingConfigEntry) -> None:
    """The charger's entry is removed: forget its pause and the list (UIDs) it was sent."""
    await _pause_store(hass, entry.entry_id).async_remove()
    lists = await async_get_local_lists(hass)
    await lists.async_forget(str(entry.data[CONF_CHARGE_POINT_ID]))


async def async_attach_control(
    hass: HomeAssistant, entry: EVChargingConfigEntry, device: OcppDevice, registry: OcppRegistry
) -> None:
    """Give the device its control and keep the charger's list and limit up to date."""
    charger = device.charger
    charge_point_id = charger.charge_point_id
    control = Ocpp16Control(
        hass,
        charge_point_id,
        lambda: registry.connections.get(charge_point_id),
        lambda: charger.quirks.profiles,
    )
    device.control = control
    lists = await async_get_local_lists(hass)
    pause = _pause_store(hass, entry.entry_id)
    charger.paused = bool((await pause.async_load() or {}).get("paused", False))

    async def remember_pause(paused: bool) -> None:
        await pause.async_save({"paused": paused})

    device.remember_pause = remember_pause

    async def sync_local_list() -> None:
        manager = hass.data[AUTHORIZATION]
        mode = manager.data.settings.mode_for(entry.entry_id)
        if mode is AuthorizationMode.FREE and charge_point_id not in lists.sent:
            return  # never ours: a list the owner keeps on the charger stays as it is
        if registry.connections.get(charge_point_id) is None:
            return  # sent when it boots again
        wanted = wanted_list(manager.data, entry.entry_id, mode, dt_util.utcnow())
        await lists.async_sync(charge_point_id, control, wanted)

    async def after_boot() -> None:
        await device.async_restore()
        await sync_local_list()

    @callback
    def booted() -> None:
        lists.forget_connection(charge_point_id)
        entry.async_create_task(hass, after_boot(), f"OCPP after boot {charge_point_id}")

    charger.on_boot = booted

    @callback
    def directory_changed() -> None:
        entry.async_create_task(hass, sync_local_list(), f"OCPP local list {charge_point_id}")

    entry.async_on_unload(hass.data[AUTHORIZATION].async_listen_directory(directory_changed))

    async def start(reason: str) -> None:
        try:
            if await device.start_if_waiting():
                LOGGER.info("%s started remotely (%s)", entry.title, reason)
        except DeviceError as err:
            LOGGER.warning("%s could not be started remotely: %s", entry.title, err)

    @callback
    def accepted(event: Event[dict[str, Any]]) -> None:
        data = event.data
        if (
            data.get("entry_id") == entry.entry_id
            and data.get("result") == AuthorizationResult.ACCEPTED.value
            and (data.get("method") in _REMOTE_METHODS or data.get("reason") == _ALLOWED_ONCE)
        ):
            entry.async_create_task(
                hass, start(str(data.get("method"))), f"OCPP remote start {charge_point_id}"
            )

    entry.async_on_unload(hass.bus.async_listen(EVENT_AUTHORIZATION, accepted))
