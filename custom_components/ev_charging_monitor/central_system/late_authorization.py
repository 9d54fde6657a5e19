"""The card of a queued start, decided quietly: the session happened hours ago.

A charger that was offline sends its StartTransaction late; OCPP wants its card checked
again. The answer is the allow-list's as it is now (the charger may still act on it), but
nobody stands at the charger now: no unknown-card notification, no release of the charger,
no concurrent-use check against today's sessions. The authorization event still fires,
marked `late`, so automations can tell it from a card presented now, and the session's
record names the person the card belongs to.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..authorization.charger import NO_ATTRIBUTION
from ..authorization.decisions import authorization_event
from ..authorization.engine import decide, short_hash
from ..authorization.manager import AUTHORIZATION, EVENT_AUTHORIZATION
from ..authorization.model import AuthorizationMode, AuthorizationResult, CredentialKind
from ..const import LOGGER

# OCPP 1.6 idTagInfo.status of each decision.
STATUS: dict[AuthorizationResult, str] = {
    AuthorizationResult.ACCEPTED: "Accepted",
    AuthorizationResult.BLOCKED: "Blocked",
    AuthorizationResult.EXPIRED: "Expired",
    AuthorizationResult.INVALID: "Invalid",
    AuthorizationResult.CONCURRENT: "ConcurrentTx",
}


async def async_decide_late(
    hass: HomeAssistant, entry_id: str, id_tag: str
) -> tuple[str, dict[str, Any] | None]:
    """The 1.6 status of `id_tag` from the allow-list now, and whom it names."""
    manager = hass.data.get(AUTHORIZATION)
    authorization = None if manager is None else manager.chargers.get(entry_id)
    if manager is None or authorization is None:
        return "Invalid", None
    key = manager.hash(CredentialKind.RFID, id_tag)
    decision = decide(
        manager.data.directory,
        CredentialKind.RFID,
        key,
        charger_id=entry_id,
        now=dt_util.utcnow(),
        in_use={},  # it began before now: what is in use now says nothing of then
    )
    attribution = await manager.async_attribution(CredentialKind.RFID, key, decision, id_tag)
    event = {**authorization_event(authorization, attribution, decision.reason), "late": True}
    hass.bus.async_fire(EVENT_AUTHORIZATION, event)
    LOGGER.info(
        "Queued start at %s by card %s: %s (%s), decided late",
        authorization.name,
        short_hash(key),
        decision.result.value,
        decision.reason,
    )
    if authorization.mode is AuthorizationMode.FREE:
        # Authorization is not required here: the card is only recorded.
        return "Accepted", {**NO_ATTRIBUTION, **attribution}
    return STATUS[decision.result], {**NO_ATTRIBUTION, **attribution}
