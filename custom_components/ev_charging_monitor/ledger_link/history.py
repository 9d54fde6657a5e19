"""Completed sessions with a strictly increasing `seq`: the ledger's outbox.

One history per Home Assistant instance. Every completed session is saved before it is
announced. Unacknowledged sessions are kept until the ledger acknowledges them, however
long that takes; acknowledged ones are kept for a while longer (bounded by age and
count) so that a ledger restored from an older snapshot can refill what it lost instead
of showing a gap.

A record no ledger has received yet may still gain signed meter values that came after
it (`async_add_signed`); once one was handed to a ledger it never changes, since the
ledger keeps the first copy of an id.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.json import json_bytes
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads

from ..const import DOMAIN
from . import contract

LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
# A restore from last year's snapshot can still be refilled...
ACKNOWLEDGED_MAX_AGE = timedelta(days=400)
# ...within a bounded store (a fleet's year of sessions is a few MB).
ACKNOWLEDGED_MAX_COUNT = 20_000
# Each websocket message stays well under the ledger's 4 MB+ limit; a record larger than
# this alone is sent as a stand-in the ledger quarantines (the record stays here).
MESSAGE_BUDGET = 1024 * 1024

type SessionListener = Callable[[list[dict[str, Any]]], None]


def _ended(record: dict[str, Any]) -> datetime | None:
    value = record.get("ended_at")
    return dt_util.parse_datetime(value) if isinstance(value, str) else None


def _size(record: dict[str, Any]) -> int:
    """The record's size as Home Assistant's encoder writes it; a record it cannot write
    (nested too deeply, not JSON) counts as oversized, so it travels as a stand-in."""
    try:
        return len(json_bytes(record))
    except (TypeError, ValueError, RecursionError):
        return MESSAGE_BUDGET + 1


def _wire(record: dict[str, Any], size: int) -> dict[str, Any]:
    if size <= MESSAGE_BUDGET:
        return record
    return {
        "schema": record.get("schema", 1),
        "id": record.get("id"),
        "seq": record["seq"],
        "oversized_bytes": size,
    }


def pages(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split records into messages of at most MESSAGE_BUDGET bytes (at least one each)."""
    result: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    used = 0
    for record in records:
        size = _size(record)
        wire = _wire(record, size)
        if wire is not record:
            size = 200  # the stand-in
        if current and used + size > MESSAGE_BUDGET:
            result.append(current)
            current, used = [], 0
        current.append(wire)
        used += size
    if current:
        result.append(current)
    return result


def _wire_problems(record: dict[str, Any]) -> list[str]:
    """The contract checked on the record as the ledger will receive it: written as JSON
    and read back (so a str subclass from YAML, for one, is the plain string it becomes)."""
    try:
        wire = json_loads(json_bytes(record))
    except (TypeError, ValueError) as err:
        return [f"cannot be written as JSON: {err}"]
    return contract.problems(wire)


class SessionHistory:
    """The store behind the websocket API and the session_ended event."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Bind to the instance's storage."""
        self._hass = hass
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, f"{DOMAIN}.sessions")
        self._data: dict[str, Any] = {"last_seq": 0, "acked_seq": 0, "sessions": []}
        self._listeners: list[SessionListener] = []
        self._ids: set[str] = set()
        # Every record up to this seq may have reached a ledger (over the websocket API).
        # Not stored: after a restart every record kept counts as delivered.
        self._delivered_seq = 0

    async def async_load(self) -> None:
        """Read what was saved, and the contract records are checked against."""
        # Read once here, off the event loop; every later check uses the cached copy.
        await self._hass.async_add_executor_job(contract.schema)
        if (data := await self._store.async_load()) is not None:
            self._data = data
        self._ids = {record["id"] for record in self._data["sessions"]}
        self._delivered_seq = self.last_seq

    @property
    def last_seq(self) -> int:
        """The highest seq ever assigned."""
        return int(self._data["last_seq"])

    @property
    def acked_seq(self) -> int:
        """Everything up to this seq has been acknowledged by the ledger."""
        return int(self._data["acked_seq"])

    def has(self, session_id: str) -> bool:
        """Whether a session id was recorded already (recovery must not add it twice)."""
        return session_id in self._ids

    async def async_add(self, record: dict[str, Any]) -> dict[str, Any]:
        """Assign the next seq, save durably, then tell subscribers."""
        seq = self.last_seq + 1
        stored = {**record, "seq": seq}
        if found := _wire_problems(stored):
            LOGGER.error(
                "Session %s does not match the ledger contract (kept and delivered; the "
                "ledger will quarantine it): %s",
                stored.get("id"),
                "; ".join(found),
            )
        self._data["last_seq"] = seq
        self._data["sessions"].append(stored)
        self._ids.add(stored["id"])
        await self._store.async_save(self._data)
        for listener in list(self._listeners):
            for page in pages([stored]):
                listener(page)
        return stored

    def mark_delivered(self, records: list[dict[str, Any]]) -> None:
        """These records were handed to a ledger: they no longer change."""
        for record in records:
            if isinstance(seq := record.get("seq"), int):
                self._delivered_seq = max(self._delivered_seq, seq)

    async def async_add_signed(self, session_id: str, items: list[dict[str, Any]]) -> bool:
        """Add signed meter values to a record no ledger has received yet; False when it
        was delivered (or is not kept), when the values would break the contract, or when
        they are there already."""
        sessions = self._data["sessions"]
        index = next((i for i, r in enumerate(sessions) if r["id"] == session_id), None)
        if index is None or sessions[index]["seq"] <= self._delivered_seq:
            return False
        record = sessions[index]
        known = record.get("signed_meter_values") or []
        new = [item for item in items if item not in known]
        if not new:
            return False
        amended = {**record, "signed_meter_values": [*known, *new]}
        if found := _wire_problems(amended):
            LOGGER.warning(
                "Session %s keeps its record: the signed values that came after it would "
                "break the ledger contract: %s",
                session_id,
                "; ".join(found),
            )
            return False
        sessions[index] = amended
        await self._store.async_save(self._data)
        return True

    def after(self, after_seq: int, limit: int) -> list[dict[str, Any]]:
        """Sessions with seq > after_seq, ascending, at most `limit` (as stored)."""
        sessions = self._data["sessions"]
        start = bisect.bisect_right(sessions, after_seq, key=lambda record: record["seq"])
        return list(sessions[start : start + limit])

    def page_after(self, after_seq: int, limit: int) -> list[dict[str, Any]]:
        """Like `after`, cut to one message: at most MESSAGE_BUDGET bytes, oversized
        records replaced by their stand-in."""
        found = self.after(after_seq, limit)
        return pages(found)[0] if found else []

    async def async_ack(self, up_to_seq: int) -> int:
        """The ledger has durably stored everything up to `up_to_seq`; prune."""
        acked = max(self.acked_seq, min(up_to_seq, self.last_seq))
        self._data["acked_seq"] = acked
        self._data["sessions"] = self._kept(self._data["sessions"], acked)
        self._ids = {record["id"] for record in self._data["sessions"]}
        await self._store.async_save(self._data)
        return acked

    @staticmethod
    def _kept(sessions: list[dict[str, Any]], acked: int) -> list[dict[str, Any]]:
        unacked = [r for r in sessions if r["seq"] > acked]
        horizon = dt_util.utcnow() - ACKNOWLEDGED_MAX_AGE
        recent = [
            r
            for r in sessions
            if r["seq"] <= acked and ((ended := _ended(r)) is None or ended >= horizon)
        ][-ACKNOWLEDGED_MAX_COUNT:]
        return recent + unacked

    @callback
    def async_subscribe(self, listener: SessionListener) -> Callable[[], None]:
        """Call `listener` with each newly completed session."""
        self._listeners.append(listener)

        @callback
        def unsubscribe() -> None:
            self._listeners.remove(listener)

        return unsubscribe
