"""The charger's local authorization list: the allow-list's cards, so it decides alone.

While Home Assistant is down an OCPP charger answers cards from its local list
(LocalAuthorizeOffline). The list is what the allow-list decides for this charger, card by
card: accepted (until the card's end of validity), blocked (also a card not meant for this
charger) or expired; a card the allow-list does not know is not in it, so the charger
refuses it as Home Assistant would. What cannot be written down is left to Home Assistant:
single-session cards already in use elsewhere (ConcurrentTx) are decided online only.

A charger needs the card's UID itself. The integration keeps UIDs only as keyed hashes
unless the administrator opted in to raw UIDs, so only cards with a raw UID can be listed;
without the opt-in the list stays empty and the charger refuses every card while offline.
A charger in "free" mode gets an empty list: there is nothing to refuse.

The list last sent and its version are kept per charge point (the Store is private: it
holds UIDs, and it empties with the opt-in). A change is sent as a Differential update;
a Full update when the charger's version is not the one last sent, or it refuses the
difference (Failed, VersionMismatch).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..authorization.engine import decide, normalise_uid
from ..authorization.model import AuthorizationMode, AuthorizationResult, CredentialKind
from ..authorization.store import AuthorizationData
from ..const import DOMAIN, LOGGER
from .control import ChargePointControl, CommandError, LocalListEntry

LOCAL_LISTS: HassKey[LocalLists] = HassKey(f"{DOMAIN}_ocpp_local_lists")
STORAGE_VERSION: Final = 1
STORAGE_KEY: Final = f"{DOMAIN}.ocpp_local_list"
# OCPP 1.6 idTag: at most 20 characters.
MAX_ID_TAG: Final = 20
_STATUS: Final = {
    AuthorizationResult.ACCEPTED: "Accepted",
    AuthorizationResult.BLOCKED: "Blocked",
    AuthorizationResult.EXPIRED: "Expired",
}

type ListEntries = dict[str, dict[str, str | None]]


def wanted_list(
    data: AuthorizationData, charger_id: str, mode: AuthorizationMode, now: datetime
) -> ListEntries:
    """id tag -> {"status", "expiry_date"} of every card this charger should know."""
    if mode is AuthorizationMode.FREE:
        return {}
    entries: ListEntries = {}
    for credential in data.credentials.values():
        if credential.kind is not CredentialKind.RFID or not credential.uid:
            continue
        id_tag = normalise_uid(credential.uid)
        if not id_tag or len(id_tag) > MAX_ID_TAG:
            continue
        # The same decision as online, without concurrency (a list cannot say "in use").
        decision = decide(
            data.directory,
            CredentialKind.RFID,
            credential.key,
            charger_id=charger_id,
            now=now,
            in_use={},
        )
        if (status := _STATUS.get(decision.result)) is None:
            continue
        until = credential.valid_until if status == "Accepted" else None
        entries[id_tag] = {
            "status": status,
            "expiry_date": None if until is None else dt_util.as_utc(until).isoformat(),
        }
    return entries


def _entries(entries: ListEntries) -> list[LocalListEntry]:
    return [
        LocalListEntry(id_tag=tag, status=info["status"], expiry_date=info["expiry_date"])
        for tag, info in sorted(entries.items())
    ]


def _difference(sent: ListEntries, wanted: ListEntries) -> list[LocalListEntry]:
    """What a Differential update carries: changed and new tags, and removed ones."""
    changed = {tag: info for tag, info in wanted.items() if sent.get(tag) != info}
    removed = [LocalListEntry(id_tag=tag, status=None) for tag in sorted(sent.keys() - wanted)]
    return [*_entries(changed), *removed]


class LocalLists:
    """The lists sent to each charge point, and sending them."""

    def __init__(self, store: Store[dict[str, Any]], data: dict[str, Any]) -> None:
        """Use `async_get_local_lists`."""
        self._store = store
        self.sent: dict[str, dict[str, Any]] = dict(data.get("chargers", {}))
        self._locks: dict[str, asyncio.Lock] = {}
        # Charge points whose version was read on this connection.
        self._checked: set[str] = set()
        # Charge points without a local list (told once).
        self.unsupported: set[str] = set()

    async def async_forget(self, charge_point_id: str) -> None:
        """The charger is gone: drop what it was sent."""
        if self.sent.pop(charge_point_id, None) is not None:
            await self._store.async_save({"chargers": self.sent})

    def forget_connection(self, charge_point_id: str) -> None:
        """The charger (re)booted: read its version before the next update."""
        self._checked.discard(charge_point_id)

    async def async_sync(
        self, charge_point_id: str, control: ChargePointControl, wanted: ListEntries
    ) -> str | None:
        """Bring the charger's list to `wanted`; the update sent ("Full", "Differential").

        A charger without a local list is told about once in the log; a failure to
        send is logged and retried at the next change or boot.
        """
        async with self._locks.setdefault(charge_point_id, asyncio.Lock()):
            try:
                return await self._sync(charge_point_id, control, wanted)
            except CommandError as err:
                LOGGER.warning("Local list of %s not sent: %s", charge_point_id, err)
                self._checked.discard(charge_point_id)
                return None

    async def _sync(
        self, charge_point_id: str, control: ChargePointControl, wanted: ListEntries
    ) -> str | None:
        sent = self.sent.get(charge_point_id)
        full = sent is None
        version = 0 if sent is None else int(sent["version"])
        if charge_point_id not in self._checked:
            reported = await control.get_local_list_version()
            if reported < 0:
                self._not_supported(charge_point_id)
                return None
            self._checked.add(charge_point_id)
            # Another central system, a factory reset or a lost Store: start afresh.
            full = full or reported != version
            version = max(version, reported)
        tags: ListEntries = {} if sent is None else sent["tags"]
        if not full and tags == wanted:
            return None
        update = "Full" if full else "Differential"
        status = await control.send_local_list(
            version + 1,
            _entries(wanted) if full else _difference(tags, wanted),
            full=full,
        )
        if status in ("Failed", "VersionMismatch") and not full:
            update = "Full"
            status = await control.send_local_list(version + 2, _entries(wanted), full=True)
            version += 1
        if status == "NotSupported":
            self._not_supported(charge_point_id)
            return None
        if status != "Accepted":
            LOGGER.warning("%s did not take its local list: %s", charge_point_id, status)
            self._checked.discard(charge_point_id)
            return None
        self.sent[charge_point_id] = {"version": version + 1, "tags": wanted}
        await self._store.async_save({"chargers": self.sent})
        LOGGER.debug(
            "%s: local list version %s (%s, %s cards)",
            charge_point_id,
            version + 1,
            update,
            len(wanted),
        )
        return update

    def _not_supported(self, charge_point_id: str) -> None:
        if charge_point_id not in self.unsupported:
            self.unsupported.add(charge_point_id)
            LOGGER.info(
                "%s has no local authorization list: it asks Home Assistant for every card",
                charge_point_id,
            )


_LOCK: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_ocpp_local_lists_lock")


async def async_get_local_lists(hass: HomeAssistant) -> LocalLists:
    """The lists sent, loaded on first use."""
    async with hass.data.setdefault(_LOCK, asyncio.Lock()):
        if (lists := hass.data.get(LOCAL_LISTS)) is None:
            store: Store[dict[str, Any]] = Store(
                hass, STORAGE_VERSION, STORAGE_KEY, private=True, atomic_writes=True
            )
            lists = hass.data[LOCAL_LISTS] = LocalLists(store, await store.async_load() or {})
    return lists
