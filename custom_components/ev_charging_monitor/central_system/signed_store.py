"""An OCPP charger's signed values and meter key, kept across restarts (Home Assistant side).

The values of a running session are saved as they arrive: a begin reading signed before
Home Assistant restarted still belongs to the session that ends afterwards. The key the
charger reports is kept with them; the user's key lives in the entry's options.

Values that come after their session was recorded (late_signed.py) join its record while
no ledger has received it; otherwise they are kept here, named in the log and in the
diagnostics, since the ledger contract has no way to add evidence to a delivered session.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, LOGGER
from ..session.manager import ChargerSessions
from .charger import OcppCharger
from .const import CONF_METER_PUBLIC_KEY
from .late_signed import LateOutcome, LateResult, mismatch
from .signed import PublicKeyError, SignedValue, key_fingerprint, normalize_public_key

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


def attach_late_signed(
    entry: ConfigEntry[Any], charger: OcppCharger, sessions: ChargerSessions | None
) -> None:
    """Signed values that come while no transaction runs go where they belong (see above)."""

    async def after_transaction(values: list[SignedValue]) -> LateResult:
        signed = charger.signed
        record = None if sessions is None else sessions.last_record
        problem = None if record is None else mismatch(values, record)
        if sessions is None or (sessions.active is not None and (record is None or problem)):
            # Its session is still open (the vehicle has not left): it takes them.
            signed.add(values)
            return LateResult(outcome=LateOutcome.RUNNING)
        items = signed.stamped(values)
        received = dt_util.utcnow().isoformat()
        if record is None:
            reason = "no session of this charger was recorded since Home Assistant started"
            signed.keep_late(items, session_id=None, received_at=received, reason=reason)
            LOGGER.warning("%s sent signed meter values after its session: %s; kept in the "
                           "diagnostics", entry.title, reason)  # fmt: skip
            return LateResult(outcome=LateOutcome.KEPT, reason=reason)
        session_id = str(record["id"])
        if problem is not None:
            signed.keep_late(items, session_id=session_id, received_at=received, reason=problem)
            LOGGER.warning(
                "%s sent signed meter values after session %s was recorded; refused, they do "
                "not belong to it: %s (kept in the diagnostics)",
                entry.title,
                session_id,
                problem,
            )
            return LateResult(outcome=LateOutcome.REFUSED, reason=problem, session_id=session_id)
        if await sessions.history.async_add_signed(session_id, items):
            LOGGER.info(
                "%s: signed meter values that came after session %s joined its record",
                entry.title,
                session_id,
            )
            return LateResult(outcome=LateOutcome.ATTACHED, session_id=session_id)
        reason = (
            "the ledger has received the session's record already and takes no values "
            "for a delivered session"
        )
        signed.keep_late(items, session_id=session_id, received_at=received, reason=reason)
        LOGGER.warning(
            "%s sent signed meter values for session %s after it was recorded; %s: kept in "
            "the diagnostics",
            entry.title,
            session_id,
            reason,
        )
        return LateResult(outcome=LateOutcome.KEPT, reason=reason, session_id=session_id)

    charger.signed_after_transaction = after_transaction
