"""The ledger as a real process against the real integration in a real Home Assistant:
catch-up, live, SIGKILL, quarantine, restores and hostile records.

Sessions are recorded by the integration's own SessionHistory and served by its own
websocket API; records are built by the integration's record code (integration_records).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from custom_components.ev_charging_monitor.ledger_link import history as history_module
from ev_charging_ledger.storage import Ledger
from tests.ledger.conftest import HomeAssistantEndpoint
from tests.ledger.integration_records import make_record
from tests.ledger.ledger_process import free_port, run_ledger, start_ledger, stop

WAIT = 60.0


def stored_ids(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "ledger.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT session_id FROM sessions")]


def quarantine_reasons(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "ledger.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT reason FROM quarantine ORDER BY id")]


def ledger_args(ha: HomeAssistantEndpoint, data_dir: Path) -> list[str]:
    return [
        "--ha-url", ha.url, "--token", ha.token, "--data-dir", str(data_dir),
        "--listen", f"127.0.0.1:{free_port()}", "--api-token", "test-api-token",
    ]  # fmt: skip


def numbered(first: int, last: int, **kwargs: Any) -> list[dict[str, Any]]:
    return [make_record(seq, **kwargs) for seq in range(first, last + 1)]


async def test_sessions_completed_while_stopped_are_caught_up_once(
    home_assistant: HomeAssistantEndpoint, tmp_path: Path
) -> None:
    ha = home_assistant
    data_dir = tmp_path / "data"
    log = tmp_path / "ledger.log"
    for record in numbered(1, 10):
        await ha.complete(record)

    ledger = await start_ledger(*ledger_args(ha, data_dir), log=log)
    await ha.acknowledged(10)
    assert await stop(ledger) == 0

    # 100 sessions end while the ledger is stopped.
    for record in numbered(11, 110):
        await ha.complete(record)
    ha.asked_after.clear()
    ledger = await start_ledger(*ledger_args(ha, data_dir), log=log)
    await ha.acknowledged(110)
    # ...and live sessions after the catch-up.
    for record in numbered(111, 115):
        await ha.complete(record)
    await ha.acknowledged(115)
    assert await stop(ledger) == 0

    ids = stored_ids(data_dir)
    assert len(ids) == 115
    assert set(ids) == {record["id"] for record in numbered(1, 115)}
    # The second start resumed after seq 10 instead of asking for everything again.
    assert ha.asked_after[0] == 10
    code, out, _ = await run_ledger("verify", "--data-dir", str(data_dir))
    assert (code, out.splitlines()) == (
        0,
        [
            "ok: 115 sessions and 0 adjustments verified",
            "0 signed meter values (OCMF) re-verified against their public keys",
        ],
    )


@pytest.mark.parametrize("kill_point", ["before_ack_is_recorded", "while_storing_a_page"])
async def test_sigkill_during_catch_up_loses_and_duplicates_nothing(
    home_assistant: HomeAssistantEndpoint, tmp_path: Path, kill_point: str
) -> None:
    ha = home_assistant
    data_dir = tmp_path / "data"
    log = tmp_path / "ledger.log"
    total = 2500  # several 1 MB pages of the integration's websocket API
    await ha.preload(numbered(1, total, energy_wh=1000))

    ledger = await start_ledger(*ledger_args(ha, data_dir), log=log)
    killed = asyncio.Event()

    def kill() -> None:
        if not killed.is_set():
            os.kill(ledger.pid, signal.SIGKILL)
            killed.set()

    history = ha.history
    real_ack = history.async_ack
    real_page = history.page_after
    if kill_point == "before_ack_is_recorded":
        # The ledger has committed the page; its acknowledgement is lost with it.
        async def lost_ack(up_to_seq: int) -> int:
            kill()
            return history.acked_seq

        history.async_ack = lost_ack  # type: ignore[method-assign]
    else:

        def page_then_kill(after_seq: int, limit: int) -> list[dict[str, Any]]:
            page = real_page(after_seq, limit)
            if after_seq >= 1:
                # The page is on its way: the ledger dies while storing it.
                ha.hass.loop.call_later(0.01, kill)
            return page

        history.page_after = page_then_kill  # type: ignore[method-assign]
    async with asyncio.timeout(WAIT):
        await killed.wait()
        assert await ledger.wait() == -signal.SIGKILL
    history.async_ack = real_ack  # type: ignore[method-assign]
    history.page_after = real_page  # type: ignore[method-assign]
    assert history.acked_seq < total
    stored_before_restart = len(stored_ids(data_dir))
    assert stored_before_restart < total
    if kill_point == "before_ack_is_recorded":
        # Stored but not acknowledged: Home Assistant will deliver these again.
        assert stored_before_restart > history.acked_seq

    ledger = await start_ledger(*ledger_args(ha, data_dir), log=log)
    await ha.acknowledged(total)
    assert await stop(ledger) == 0

    ids = stored_ids(data_dir)
    assert len(ids) == total
    assert set(ids) == {record["id"] for record in numbered(1, total)}
    code, out, _ = await run_ledger("verify", "--data-dir", str(data_dir))
    assert (code, out.splitlines()[0]) == (0, f"ok: {total} sessions and 0 adjustments verified")


async def test_invalid_record_is_quarantined_and_acknowledged(
    home_assistant: HomeAssistantEndpoint, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ha = home_assistant
    data_dir = tmp_path / "data"
    broken = make_record(2)
    broken["energy_wh"] = "lots"
    for record in (make_record(1), broken, make_record(3)):
        await ha.complete(record)
    # The integration says so where it emits the record, and keeps it.
    assert "does not match the ledger contract" in caplog.text
    ledger = await start_ledger(*ledger_args(ha, data_dir), log=tmp_path / "log")
    await ha.acknowledged(3)
    assert await stop(ledger) == 0

    assert sorted(stored_ids(data_dir)) == sorted([make_record(1)["id"], make_record(3)["id"]])
    [reason] = quarantine_reasons(data_dir)
    assert reason.startswith("does not match the session record schema at energy_wh")
    assert f"session {broken['id']} quarantined" in (tmp_path / "log").read_text()


async def _restore_scenario(
    ha: HomeAssistantEndpoint, tmp_path: Path
) -> tuple[Path, asyncio.subprocess.Process]:
    """10 sessions stored and snapshotted, 10 more stored, then the snapshot restored."""
    data_dir = tmp_path / "data"
    log = tmp_path / "ledger.log"
    for record in numbered(1, 10):
        await ha.complete(record)
    ledger = await start_ledger(*ledger_args(ha, data_dir), log=log)
    await ha.acknowledged(10)
    assert await stop(ledger) == 0
    code, _, _ = await run_ledger("snapshot", "--data-dir", str(data_dir))
    assert code == 0
    snapshot = data_dir / "ledger.snapshot.sqlite3"
    kept = tmp_path / "old.sqlite3"
    shutil.copy(snapshot, kept)

    ledger = await start_ledger(*ledger_args(ha, data_dir), log=log)
    for record in numbered(11, 20):
        await ha.complete(record)
    await ha.acknowledged(20)
    assert await stop(ledger) == 0

    # Restore: the database is replaced by the older copy.
    for name in ("ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm"):
        (data_dir / name).unlink(missing_ok=True)
    shutil.copy(kept, data_dir / "ledger.sqlite3")
    ledger = await start_ledger(*ledger_args(ha, data_dir), log=log)
    return data_dir, ledger


async def test_restore_of_an_older_snapshot_is_refilled_and_recorded(
    home_assistant: HomeAssistantEndpoint, tmp_path: Path
) -> None:
    ha = home_assistant
    data_dir, ledger = await _restore_scenario(ha, tmp_path)
    await ha.complete(make_record(21))
    await ha.acknowledged(21)
    assert await stop(ledger) == 0

    # Home Assistant still had sessions 11-20: nothing is missing.
    assert sorted(stored_ids(data_dir)) == sorted(r["id"] for r in numbered(1, 21))
    code, out, _ = await run_ledger("verify", "--data-dir", str(data_dir))
    assert code == 0
    assert out.splitlines()[0] == "ok: 21 sessions and 0 adjustments verified"
    # ...and the restore is not silent: chained, printed by verify, logged.
    assert "restore detected" in out
    assert "the ledger was at seq 10, Home Assistant had 20 acknowledged" in out
    assert "restored from an older copy" in (tmp_path / "ledger.log").read_text()
    assert "missing" not in out


async def test_restore_beyond_home_assistants_history_is_an_explicit_gap(
    home_assistant: HomeAssistantEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ha = home_assistant
    # Home Assistant keeps only 4 acknowledged sessions here (20,000 in production).
    monkeypatch.setattr(history_module, "ACKNOWLEDGED_MAX_COUNT", 4)
    data_dir, ledger = await _restore_scenario(ha, tmp_path)
    await ha.complete(make_record(21))
    await ha.acknowledged(21)
    assert await stop(ledger) == 0

    # 17-20 were refilled; 11-16 were pruned from Home Assistant and are a recorded gap.
    assert sorted(stored_ids(data_dir)) == sorted(
        r["id"] for r in [*numbered(1, 10), *numbered(17, 21)]
    )
    code, out, _ = await run_ledger("verify", "--data-dir", str(data_dir))
    assert code == 0
    assert "6 session(s) with Home Assistant seq 11-16 are missing" in out
    with Ledger(data_dir / "ledger.sqlite3") as opened:
        [gap] = opened.status()["gaps"]
        assert (gap["from_seq"], gap["to_seq"]) == (11, 16)
        # The gap lies between session 10's end and session 17's end (March 2026); every
        # statement covering March says so.
        person = opened.add_person("Alex")
        statement = opened.statement(person.id, "2026-03")
        assert [(g["from_seq"], g["to_seq"]) for g in statement.gaps] == [(11, 16)]
        assert any("seq 11-16 are missing" in warning for warning in statement.warnings)
        assert opened.statement(person.id, "2026-05").gaps == []


async def test_hostile_signed_values_never_stall_the_stream(
    home_assistant: HomeAssistantEndpoint, tmp_path: Path
) -> None:
    ha = home_assistant
    data_dir = tmp_path / "data"
    log = tmp_path / "ledger.log"
    huge = "OCMF|" + "x" * (10 * 1024 * 1024) + "|{}"
    deep = "OCMF|" + "[" * 100_000 + "]" * 100_000 + "|{}"
    large = "OCMF|" + "y" * (100 * 1024) + "|{}"
    shallow_deep = "OCMF|" + "[" * 30_000 + "]" * 30_000 + "|{}"  # under 64 KB

    def signed(data: str) -> list[dict[str, Any]]:
        return [{"format": "OCMF", "data": data, "public_key": None}]

    records = [
        make_record(1),
        make_record(2, signed_meter_values=[]),  # replaced below: contract-valid form
        make_record(3, signed_meter_values=signed(shallow_deep)),
        make_record(4),
        make_record(5),
        make_record(6),
    ]
    records[1]["signed_meter_values"] = signed(huge)
    records[4]["signed_meter_values"] = signed(large)
    records.append(make_record(7, signed_meter_values=signed("OCMF|{}|{}")))
    records.append(make_record(8))
    ledger = await start_ledger(*ledger_args(ha, data_dir), log=log)
    for record in records:
        await ha.complete(record)
    await ha.acknowledged(8)
    # A record with a 100,000-deep OCMF string straight into the ledger's parser.
    with Ledger(tmp_path / "direct.sqlite3") as direct:
        deep_record = make_record(9)
        deep_record["signed_meter_values"] = signed(deep)
        result = direct.append_sessions([deep_record])
    assert await stop(ledger) == 0

    ids = stored_ids(data_dir)
    assert {make_record(seq)["id"] for seq in (1, 3, 4, 6, 7, 8)} == set(ids)
    reasons = quarantine_reasons(data_dir)
    assert len(reasons) == 2
    assert reasons[0].startswith("record of ")
    assert "larger than one message" in reasons[0]
    assert "signed_meter_values/0/data" in reasons[1]
    # The deep string of session 3 was stored, its evidence says why it proves nothing.
    with Ledger(data_dir / "ledger.sqlite3") as opened:
        detail = opened.session(make_record(3)["id"])
        assert detail is not None
        assert detail.evidence["class"] == "non_mid_meter"
        assert "nested deeper" in " ".join(detail.evidence["ocmf"]["problems"])
    # Over 64 KB: quarantined by the schema's limit with the path in the reason.
    assert result.stored == 0
    assert "signed_meter_values/0/data" in result.rejected[0][1]


async def test_home_assistant_restored_from_an_older_backup_loses_no_new_session(
    home_assistant: HomeAssistantEndpoint, tmp_path: Path
) -> None:
    ha = home_assistant
    data_dir = tmp_path / "data"
    log = tmp_path / "ledger.log"
    for record in numbered(1, 5):
        await ha.complete(record)
    ledger = await start_ledger(*ledger_args(ha, data_dir), log=log)
    await ha.acknowledged(5)
    assert await stop(ledger) == 0

    # Home Assistant comes back from a backup taken after session 3.
    await ha.preload(numbered(1, 3), acked=3)
    assert ha.history.last_seq == 3
    ledger = await start_ledger(*ledger_args(ha, data_dir), log=log)
    # Its next session is numbered 4 again, with a new id.
    new = await ha.complete(make_record(4, session_id="after-the-restore"))
    assert new["seq"] == 4
    await ha.acknowledged(4)
    assert await stop(ledger) == 0

    ids = stored_ids(data_dir)
    assert sorted(ids) == sorted([*(r["id"] for r in numbered(1, 5)), "after-the-restore"])
    code, out, _ = await run_ledger("verify", "--data-dir", str(data_dir))
    assert code == 0
    assert out.splitlines()[0] == "ok: 6 sessions and 0 adjustments verified"
    assert "Home Assistant restore detected" in out
    assert "(acknowledged 3), the ledger was at seq 5" in out
    assert "Home Assistant was restored from an older backup" in log.read_text()
