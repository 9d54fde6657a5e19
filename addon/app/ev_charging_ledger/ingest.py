"""Ingestion of completed sessions from Home Assistant (DESIGN.md section 6).

Order of work per batch: store durably, then acknowledge. A crash between the two only
means Home Assistant delivers the batch again, which the ledger ignores by session id;
a crash before the commit loses nothing because Home Assistant still holds the
unacknowledged sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ev_charging_ledger import contract
from ev_charging_ledger.homeassistant import (
    AuthenticationError,
    Connection,
    ConnectionLostError,
    HomeAssistantError,
)
from ev_charging_ledger.storage import AppendResult, Ledger

LOGGER = logging.getLogger(__name__)

DOMAIN = "ev_charging_monitor"
CMD_SESSIONS = f"{DOMAIN}/sessions"
CMD_SUBSCRIBE = f"{DOMAIN}/subscribe_sessions"
CMD_ACK = f"{DOMAIN}/ack_sessions"
CMD_LINK = f"{DOMAIN}/link_ledger"
PAGE_LIMIT = 1000


@dataclass(slots=True)
class IngestStatus:
    # "starting", "ok", "degraded" (the database refuses writes: ingest paused) or
    # "disconnected" (Home Assistant unreachable; retrying).
    state: str = "starting"
    connected: bool = False
    ha_version: str | None = None
    last_error: str | None = None
    last_batch_at: str | None = None
    stored_since_start: int = 0
    duplicates_since_start: int = 0
    rejected_since_start: int = 0
    acknowledged_seq: int | None = None
    restore: dict[str, Any] | None = None
    # Seconds until the next connection attempt while retrying (before jitter).
    retry_in: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "connected": self.connected,
            "ha_version": self.ha_version,
            "last_error": self.last_error,
            "last_batch_at": self.last_batch_at,
            "stored_since_start": self.stored_since_start,
            "duplicates_since_start": self.duplicates_since_start,
            "rejected_since_start": self.rejected_since_start,
            "acknowledged_seq": self.acknowledged_seq,
            "restore": self.restore,
            "retry_in": self.retry_in,
        }

    def health(self) -> dict[str, Any]:
        """What /health reports: degraded while the database refuses writes."""
        if self.state == "degraded":
            return {"status": "degraded", "error": self.last_error}
        return {"status": "ok"}


class Ingestor:
    """Keeps the ledger in step with Home Assistant, reconnecting with backoff."""

    def __init__(
        self,
        ledger: Ledger,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        *,
        min_backoff: float = 1.0,
        max_backoff: float = 60.0,
        announce_url: str | None = None,
    ) -> None:
        self._ledger = ledger
        # A standalone ledger tells the integration where browsers open it, so Home
        # Assistant can offer to link it (a sidebar entry); the add-on has its panel.
        self._announce_url = announce_url
        self._session = session
        self._url = url
        self._token = token
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self.status = IngestStatus()
        self.caught_up = asyncio.Event()
        self._served = False
        self.connection: Connection | None = None

    async def run_forever(self) -> None:
        """Run until cancelled; raises AuthenticationError, which retrying cannot fix."""
        delay = self._min_backoff
        while True:
            self._served = False
            try:
                await self._run_connection()
            except AuthenticationError:
                self.status.connected = False
                raise
            except sqlite3.Error as err:
                # Disk full, I/O error, locked file: nothing was acknowledged, so Home
                # Assistant keeps the sessions; pause and try again instead of exiting.
                self.status.state = "degraded"
                self.status.last_error = f"database: {err}"
                LOGGER.error(
                    "ledger database refused the write (%s); ingest paused, retrying in %.0f s",
                    err,
                    delay,
                )
            except (
                OSError,
                TimeoutError,
                aiohttp.ClientError,
                HomeAssistantError,
            ) as err:
                self.status.state = "disconnected"
                self.status.last_error = _describe(err)
                LOGGER.warning(
                    "Home Assistant at %s: %s; retrying in %.0f s",
                    self._url,
                    self.status.last_error,
                    delay,
                )
            self.status.connected = False
            if self._served:
                # The connection worked (caught up, stored, acknowledged) before it ended:
                # start the backoff over instead of waiting as long as after many failures.
                delay = self._min_backoff
            self.status.retry_in = delay
            # Jitter keeps several ledgers from reconnecting in lockstep after an HA restart.
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self._max_backoff)

    async def _run_connection(self) -> None:
        connection = await Connection.open(self._session, self._url, self._token, heartbeat=30)
        self.connection = connection
        try:
            self.status.connected = True
            self.status.ha_version = connection.ha_version
            LOGGER.info("connected to Home Assistant %s", connection.ha_version)
            await self._catch_up(connection)
            _, queue = await connection.subscribe(
                {"type": CMD_SUBSCRIBE, "after_seq": await asyncio.to_thread(self._last_seq)}
            )
            self._mark_served()
            self.caught_up.set()
            # In the background: a peer slow to answer must not hold up the sessions.
            announcing = asyncio.create_task(self._announce(connection))
            try:
                while (event := await queue.get()) is not None:
                    sessions = event.get("sessions")
                    if isinstance(sessions, list) and sessions:
                        await self._store_and_ack(connection, sessions)
            finally:
                announcing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await announcing
            raise ConnectionLostError("Home Assistant closed the websocket")
        finally:
            self.status.connected = False
            await connection.close()

    async def _announce(self, connection: Connection) -> None:
        if self._announce_url is None:
            return
        try:
            await connection.command({"type": CMD_LINK, "url": self._announce_url})
        except (HomeAssistantError, TimeoutError) as err:
            # An integration without the command (older) or a refused URL: the ledger
            # works all the same, only without the sidebar entry.
            LOGGER.info("Home Assistant did not take the ledger's address: %s", err)

    def _mark_served(self) -> None:
        self._served = True
        self.status.retry_in = None
        self.status.state = "ok"
        self.status.last_error = None

    def _last_seq(self) -> int:
        return self._ledger.last_seq()

    async def _catch_up(self, connection: Connection) -> None:
        """Page through the backlog before subscribing, so a long outage is caught up in
        bounded batches."""
        first = True
        while True:
            after = await asyncio.to_thread(self._last_seq)
            result = await connection.command(
                {"type": CMD_SESSIONS, "after_seq": after, "limit": PAGE_LIMIT}
            )
            sessions = result.get("sessions") if isinstance(result, dict) else None
            if not isinstance(sessions, list):
                raise HomeAssistantError(f"{CMD_SESSIONS} returned no session list")
            # The envelope is checked here; each record when it is stored.
            if problem := contract.first_problem({**result, "sessions": []}, "sessions_reply"):
                raise HomeAssistantError(f"{CMD_SESSIONS} reply {problem}")
            if first:
                first = False
                await self._check_position(after, result)
            if not sessions:
                return
            stored = await self._store_and_ack(connection, sessions)
            if stored.last_seq <= after:
                # Nothing advanced: do not loop on a peer that ignores after_seq.
                raise HomeAssistantError(f"{CMD_SESSIONS} did not advance past seq {after}")

    async def _check_position(self, ledger_seq: int, reply: dict[str, Any]) -> None:
        """A ledger behind what Home Assistant saw acknowledged was restored (or lost its
        newest rows): say so loudly and chain it; the catch-up then refills what Home
        Assistant still has, and whatever it lacks becomes an explicit gap."""
        acknowledged = reply.get("acknowledged_seq")
        last = reply.get("last_seq")
        if type(last) is int and type(acknowledged) is int and last < ledger_seq:
            # Home Assistant was restored from an older backup: it will number its next
            # sessions from last + 1 again, which the ledger must not skip as seen.
            await asyncio.to_thread(self._ledger.record_rebase, ledger_seq, last, acknowledged)
            self.status.restore = {
                "ledger_seq": ledger_seq,
                "ha_last_seq": last,
                "home_assistant_behind": True,
            }
            LOGGER.warning(
                "Home Assistant numbers sessions only up to seq %s but the ledger is at seq "
                "%s: Home Assistant was restored from an older backup; continuing from its "
                "position (sessions already stored are recognised by id)",
                last,
                ledger_seq,
            )
            return
        if type(acknowledged) is not int or acknowledged <= ledger_seq:
            return
        await asyncio.to_thread(self._ledger.record_restore, ledger_seq, acknowledged)
        self.status.restore = {"ledger_seq": ledger_seq, "ha_acknowledged_seq": acknowledged}
        LOGGER.warning(
            "the ledger is at seq %s but Home Assistant saw seq %s acknowledged: it was "
            "restored from an older copy (or lost its newest sessions); refilling from "
            "Home Assistant, anything it no longer has is recorded as a gap",
            ledger_seq,
            acknowledged,
        )

    async def _store_and_ack(self, connection: Connection, sessions: list[Any]) -> AppendResult:
        result = await asyncio.to_thread(self._ledger.append_sessions, sessions)
        for ref, reason in result.rejected:
            LOGGER.error("session %s quarantined: %s", ref, reason)
        self.status.stored_since_start += result.stored
        self.status.duplicates_since_start += result.duplicates
        self.status.rejected_since_start += len(result.rejected)
        self.status.last_batch_at = datetime.now(UTC).isoformat()
        # The commit above is durable (WAL, synchronous=FULL) before this ack leaves.
        reply = await connection.command({"type": CMD_ACK, "up_to_seq": result.last_seq})
        if isinstance(reply, dict):
            self.status.acknowledged_seq = reply.get("acknowledged_seq")
        self._mark_served()
        return result


def _describe(err: BaseException) -> str:
    if isinstance(err, aiohttp.WSServerHandshakeError):
        return f"websocket handshake refused (HTTP {err.status})"
    if isinstance(err, aiohttp.ClientConnectorError):
        return f"cannot connect ({err.os_error.strerror or err.os_error})"
    if isinstance(err, TimeoutError):
        return "timed out"
    text = str(err) or type(err).__name__
    return text.splitlines()[0]
