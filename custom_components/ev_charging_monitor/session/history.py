"""Completed sessions with a strictly increasing `seq`, kept until the ledger acknowledges.

One history per Home Assistant instance. Every completed session is saved before it is
announced, so a ledger that was down catches up with nothing lost; acknowledged sessions
are pruned except for a bounded recent window.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from ..const import DOMAIN

STORAGE_VERSION = 1
RECENT_WINDOW = 100

type SessionListener = Callable[[list[dict[str, Any]]], None]


class SessionHistory:
    """The store behind the websocket API and the session_ended event."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Bind to the instance's storage."""
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, f"{DOMAIN}.sessions")
        self._data: dict[str, Any] = {"last_seq": 0, "acked_seq": 0, "sessions": []}
        self._listeners: list[SessionListener] = []

    async def async_load(self) -> None:
        """Read what was saved."""
        if (data := await self._store.async_load()) is not None:
            self._data = data

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
        return any(r["id"] == session_id for r in self._data["sessions"])

    async def async_add(self, record: dict[str, Any]) -> dict[str, Any]:
        """Assign the next seq, save durably, then tell subscribers."""
        seq = self.last_seq + 1
        stored = {**record, "seq": seq}
        self._data["last_seq"] = seq
        self._data["sessions"].append(stored)
        await self._store.async_save(self._data)
        for listener in list(self._listeners):
            listener([stored])
        return stored

    def after(self, after_seq: int, limit: int) -> list[dict[str, Any]]:
        """Sessions with seq > after_seq, ascending, at most `limit`."""
        return [r for r in self._data["sessions"] if r["seq"] > after_seq][:limit]

    async def async_ack(self, up_to_seq: int) -> int:
        """The ledger has durably stored everything up to `up_to_seq`; prune."""
        acked = max(self.acked_seq, min(up_to_seq, self.last_seq))
        self._data["acked_seq"] = acked
        sessions = self._data["sessions"]
        unacked = [r for r in sessions if r["seq"] > acked]
        recent = [r for r in sessions if r["seq"] <= acked][-RECENT_WINDOW:]
        self._data["sessions"] = recent + unacked
        await self._store.async_save(self._data)
        return acked

    @callback
    def async_subscribe(self, listener: SessionListener) -> Callable[[], None]:
        """Call `listener` with each newly completed session."""
        self._listeners.append(listener)

        @callback
        def unsubscribe() -> None:
            self._listeners.remove(listener)

        return unsubscribe
