"""An OCPP charger's signed values and meter key, kept across restarts (Home Assistant side).

The values of a running session are saved as they arrive: a begin reading signed before
Home Assistant restarted still belongs to the session that ends afterwards. The key the
charger reports is kept with them; the user's key lives in the entry's options.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from ..const import DOMAIN, LOGGER
from .charger import OcppCharger
from .const import CONF_METER_PUBLIC_KEY
from .signed import PublicKeyError, key_fingerprint, normalize_public_key

STORAGE_VERSION: Final = 1


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.signed")


def user_key(entry: ConfigEntry[Any]) -> str | None:
    """The key the user entered, normalized; None when none (or one that no longer parses)."""
    text = entry.options.get(CONF_METER_PUBLIC_KEY)
    if not text:
        return None
    try:
        return normalize_public_key(str(text))
    except PublicKeyError as err:
        LOGGER.warning("%s: the meter public key in the options is unusable: %s", entry.title, err)
        return None


async def async_attach_signed(
    hass: HomeAssistant, entry: ConfigEntry[Any], charger: OcppCharger
) -> None:
    """Restore the charger's signed values and keys; save every change from now on."""
    store = _store(hass, entry.entry_id)
    signed = charger.signed
    if (data := await store.async_load()) is not None:
        signed.restore(data)
    signed.keys.user = user_key(entry)

    @callback
    def changed() -> None:
        # Written at once: a signed begin reading must survive a crash a moment later.
        entry.async_create_task(hass, store.async_save(signed.to_dict()), "OCPP signed values")

    @callback
    def key_changed(old: str | None, new: str | None) -> None:
        if old is None:
            LOGGER.info("%s reports the meter public key %s", entry.title, key_fingerprint(new))
        else:
            LOGGER.warning(
                "%s reports a new meter public key: %s, was %s",
                entry.title,
                key_fingerprint(new),
                key_fingerprint(old),
            )
        _warn_if_keys_differ(entry, signed.keys.user, new)

    signed.on_change = changed
    signed.on_key_change = key_changed
    _warn_if_keys_differ(entry, signed.keys.user, signed.keys.charger)


def _warn_if_keys_differ(entry: ConfigEntry[Any], user: str | None, charger: str | None) -> None:
    if user is not None and charger is not None and user != charger:
        LOGGER.warning(
            "%s: the meter public key %s entered in the options differs from the charger's "
            "%s; signed values are stamped with the entered one",
            entry.title,
            key_fingerprint(user),
            key_fingerprint(charger),
        )


async def async_remove_signed(hass: HomeAssistant, entry_id: str) -> None:
    """The entry is removed: its saved values and key go with it."""
    await _store(hass, entry_id).async_remove()
