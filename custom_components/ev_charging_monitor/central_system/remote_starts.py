"""The id tags of the central system's own remote starts, kept across restarts.

A remote start is decided in Home Assistant (a user's "authorise", an NFC tag, a card the
administrator allowed once); its id tag only carries that decision to the charger, which
presents it again in its StartTransaction or TransactionEvent, maybe after a restart of
Home Assistant. Each tag is therefore kept with its end of validity and written at once
(Home Assistant-free: the entry gives the writer); whom it was started for is the
authorization's, which keeps it across restarts as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


async def _forget(_data: dict[str, Any]) -> None:
    """No store: the tags are forgotten with the process."""


@dataclass(frozen=True, kw_only=True)
class RemoteStart:
    """One remote start's id tag, valid until `expires`."""

    id_tag: str
    expires: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"expires": self.expires.isoformat()}


class RemoteStarts:
    """The tags under way of one charger."""

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        save: Callable[[dict[str, Any]], Awaitable[None]] = _forget,
    ) -> None:
        """`data` as `save` last wrote it; unreadable entries are dropped."""
        self._save = save
        self._tags: dict[str, RemoteStart] = {}
        for tag, item in (data or {}).get("tags", {}).items():
            try:
                expires = datetime.fromisoformat(str(item["expires"]))
            except (KeyError, TypeError, ValueError):
                continue
            if expires.tzinfo is None:
                continue
            self._tags[str(tag)] = RemoteStart(id_tag=str(tag), expires=expires)

    def get(self, id_tag: str, now: datetime | None = None) -> RemoteStart | None:
        """The remote start of `id_tag` if it is still valid."""
        start = self._tags.get(id_tag)
        if start is None or start.expires <= (now or datetime.now(UTC)):
            return None
        return start

    def under_way(self, now: datetime | None = None) -> bool:
        """Whether a remote start waits for its transaction."""
        moment = now or datetime.now(UTC)
        return any(start.expires > moment for start in self._tags.values())

    async def async_add(self, id_tag: str, valid_for: timedelta) -> None:
        """Keep a new tag (and drop the ones that expired)."""
        now = datetime.now(UTC)
        self._tags = {tag: start for tag, start in self._tags.items() if start.expires > now}
        self._tags[id_tag] = RemoteStart(id_tag=id_tag, expires=now + valid_for)
        await self._write()

    async def async_discard(self, id_tag: str) -> None:
        """The charger refused the start: its tag is no start."""
        if self._tags.pop(id_tag, None) is not None:
            await self._write()

    async def _write(self) -> None:
        await self._save({"tags": {tag: start.to_dict() for tag, start in self._tags.items()}})
