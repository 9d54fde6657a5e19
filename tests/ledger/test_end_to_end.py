"""The ledger against a real Home Assistant, as a real process: catch-up, live, SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant

from tests.ledger.conftest import HomeAssistantEndpoint
from tests.ledger.factory import make_record
from tests.ledger.ha_contract import SessionSource
from tests.ledger.ledger_process import free_port, run_ledger, start_ledger, stop

WAIT = 60.0


async def wait_for_ack(source: SessionSource, seq: int) -> None:
    if source.acknowledged_seq >= seq:
        return
    reached = asyncio.Event()
    source.ack_waiters.append((seq, reached.set))
    try:
        async with asyncio.timeout(WAIT):
            await reached.wait()
    finally:
        source.ack_waiters.remove((seq, reached.set))


def stored_ids(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "ledger.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT session_id FROM sessions")]


def ledger_args(ha: HomeAssistantEndpoint, data_dir: Path) -> list[str]:
    return [
        "--ha-url", ha.url, "--token", ha.token, "--data-dir", str(data_dir),
        "--listen", f"127.0.0.1:{free_port()}", "--api-token", "test-api-token",
    ]  # fmt: skip


async def test_sessions_completed_while_stopped_are_caught_up_once(
    home_assistant: HomeAssistantEndpoint, tmp_path: Path
) -> None:
    source = home_assistant.source
    data_dir = tmp_path / "data"
    log = tmp_path / "ledger.log"
    for seq in range(1, 11):
        source.complete(make_record(seq))

    ledger = await start_ledger(*ledger_args(home_assistant, data_dir), log=log)
    await wait_for_ack(source, 10)
    assert await stop(ledger) == 0

    # 100 sessions end while the ledger is stopped.
    for seq in range(11, 111):
        source.complete(make_record(seq))
    ledger = await start_ledger(*ledger_args(home_assistant, data_dir), log=log)
    await wait_for_ack(source, 110)
    # ...and live sessions after the catch-up.
    for seq in range(111, 116):
        source.complete(make_record(seq))
    await wait_for_ack(source, 115)
    assert await stop(ledger) == 0

    ids = stored_ids(data_dir)
    assert len(ids) == 115
    assert set(ids) == {record["id"] for record in source.records}
    # The second start resumed after seq 10 instead of asking for everything again.
    assert {"type": "ev_charging_monitor/sessions", "after_seq": 10} in [
        {key: msg[key] for key in ("type", "after_seq") if key in msg} for msg in source.commands
    ]
    code, out, _ = await run_ledger("verify", "--data-dir", str(data_dir))
    assert (code, out.strip()) == (0, "ok: 115 sessions and 0 adjustments verified")


@pytest.mark.parametrize("kill_point", ["before_ack_is_recorded", "while_storing_a_page"])
async def test_sigkill_during_catch_up_loses_and_duplicates_nothing(
    hass: HomeAssistant, home_assistant: HomeAssistantEndpoint, tmp_path: Path, kill_point: str
) -> None:
    source = home_assistant.source
    data_dir = tmp_path / "data"
    log = tmp_path / "ledger.log"
    total = 2500  # three pages of the ledger's catch-up (1000 per page)
    for seq in range(1, total + 1):
        source.complete(make_record(seq, energy_wh=1000 + seq))

    ledger = await start_ledger(*ledger_args(home_assistant, data_dir), log=log)
    killed = asyncio.Event()

    def kill() -> None:
        if not killed.is_set():
            os.kill(ledger.pid, signal.SIGKILL)
            killed.set()

    if kill_point == "before_ack_is_recorded":
        # The ledger has committed the page; its acknowledgement is lost with it.
        def on_ack(_: int) -> None:
            source.ignore_acks = True
            kill()

        source.on_ack = on_ack
    else:

        def on_sessions(msg: dict[str, object]) -> None:
            after = msg["after_seq"]
            if isinstance(after, int) and after >= 1000:
                # The page has just been sent: the ledger dies while storing it.
                hass.loop.call_later(0.01, kill)

        source.on_sessions = on_sessions
    async with asyncio.timeout(WAIT):
        await killed.wait()
        assert await ledger.wait() == -signal.SIGKILL
    source.on_ack = None
    source.on_sessions = None
    source.ignore_acks = False
    assert source.acknowledged_seq < total
    stored_before_restart = len(stored_ids(data_dir))
    assert stored_before_restart < total
    if kill_point == "before_ack_is_recorded":
        # Stored but not acknowledged: Home Assistant will deliver these again.
        assert stored_before_restart > source.acknowledged_seq

    ledger = await start_ledger(*ledger_args(home_assistant, data_dir), log=log)
    await wait_for_ack(source, total)
    assert await stop(ledger) == 0

    ids = stored_ids(data_dir)
    assert len(ids) == total
    assert set(ids) == {record["id"] for record in source.records}
    code, out, _ = await run_ledger("verify", "--data-dir", str(data_dir))
    assert (code, out.strip()) == (0, f"ok: {total} sessions and 0 adjustments verified")


async def test_invalid_record_is_quarantined_and_acknowledged(
    home_assistant: HomeAssistantEndpoint, tmp_path: Path
) -> None:
    source = home_assistant.source
    data_dir = tmp_path / "data"
    broken = make_record(2)
    broken["energy_wh"] = "lots"
    for record in (make_record(1), broken, make_record(3)):
        source.complete(record)
    ledger = await start_ledger(*ledger_args(home_assistant, data_dir), log=tmp_path / "log")
    await wait_for_ack(source, 3)
    assert await stop(ledger) == 0

    assert sorted(stored_ids(data_dir)) == sorted([make_record(1)["id"], make_record(3)["id"]])
    with sqlite3.connect(data_dir / "ledger.sqlite3") as db:
        reasons = [row[0] for row in db.execute("SELECT reason FROM quarantine")]
    assert reasons == ["energy_wh is not a number: 'lots'"]
    assert f"session {broken['id']} quarantined" in (tmp_path / "log").read_text()
