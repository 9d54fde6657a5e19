"""The integration's sessions reach the real ledger process, acknowledged and pruned."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant

from custom_components.ev_charging_monitor.ledger_link.history import SessionHistory
from custom_components.ev_charging_monitor.ledger_link.websocket_api import HISTORY
from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle
from tests.ledger.ledger_process import free_port, start_ledger, stop

from .clocks import poll
from .conftest import AddDevice

pytestmark = pytest.mark.no_watchdog

WAIT = 60.0


async def _acknowledged(history: SessionHistory, seq: int) -> None:
    """Wait until the ledger (another process) has acknowledged `seq`."""
    async with asyncio.timeout(WAIT):
        # The acknowledgement arrives over the ledger's websocket; the store has no event.
        while history.acked_seq < seq:  # noqa: ASYNC110
            await asyncio.sleep(0.1)


def _stored(data_dir: Path) -> list[tuple[str, str]]:
    database = data_dir / "ledger.sqlite3"
    if not database.exists():
        return []
    with sqlite3.connect(database) as db:
        return list(db.execute("SELECT session_id, body FROM sessions ORDER BY rowid"))


async def test_sessions_reach_the_ledger(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    add_device: AddDevice,
    aiohttp_client: Callable[..., Awaitable[object]],
    hass_access_token: str,
    tmp_path: Path,
) -> None:
    """Two sessions: one before the ledger starts (catch-up), one while it runs (live)."""
    await add_device(wallbox)
    client = await aiohttp_client(hass.http.app)
    url = f"http://127.0.0.1:{client.server.port}"  # type: ignore[attr-defined]

    async def session() -> None:
        wallbox.charger.plug(Vehicle(max_current=16, phases=3))
        for _ in range(4):
            await poll(hass, clock, 10)
        wallbox.charger.unplug()
        await poll(hass, clock, 1)

    history = hass.data[HISTORY]
    await session()
    data_dir = tmp_path / "ledger"
    process = await start_ledger(
        "--ha-url", url, "--token", hass_access_token, "--data-dir", str(data_dir),
        "--listen", f"127.0.0.1:{free_port()}", "--api-token", "test",
        log=tmp_path / "ledger.log",
    )  # fmt: skip
    try:
        await _acknowledged(history, 1)
        await session()
        await _acknowledged(history, 2)
    finally:
        assert await stop(process) == 0
    stored = _stored(data_dir)
    assert [session_id for session_id, _ in stored] == [r["id"] for r in history.after(0, 10)]
    assert len(stored) == 2
