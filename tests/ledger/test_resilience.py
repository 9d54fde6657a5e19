"""The ingest keeps serving: a full disk pauses it (and it resumes), reconnects start
the backoff over after a good connection, gaps within a batch are chained.

The ingestor runs in this process against the real integration in a real Home
Assistant. The full disk is SQLite's own: ``PRAGMA max_page_count`` makes every write
beyond the limit fail with SQLITE_FULL ("database or disk is full"), the same error a
full filesystem gives; raising the limit is freeing the space.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from ev_charging_ledger.homeassistant import websocket_url
from ev_charging_ledger.ingest import Ingestor
from ev_charging_ledger.storage import Ledger
from tests.ledger.conftest import HomeAssistantEndpoint
from tests.ledger.integration_records import make_record
from tests.ledger.ledger_process import free_port

WAIT = 30.0


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def _ingesting(ingestor: Ingestor) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(ingestor.run_forever())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if ingestor.connection is not None:
            # Closing again is harmless and stops the heartbeat a cancelled close left.
            await ingestor.connection.close()


@pytest.fixture
def expected_lingering_timers() -> bool:
    # aiohttp re-arms a client websocket's heartbeat when a message arrives while the
    # connection is being closed; the timer fires once into a closed socket and ends.
    return True


@pytest.fixture
async def client_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _count(ledger: Ledger) -> int:
    return int(ledger._db.execute("SELECT count(*) FROM sessions").fetchone()[0])


async def test_full_disk_pauses_ingest_and_the_next_session_after_freeing_is_stored(
    home_assistant: HomeAssistantEndpoint,
    client_session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    ha = home_assistant
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ingestor = Ingestor(
        ledger, client_session, websocket_url(ha.url), ha.token, min_backoff=0.05, max_backoff=0.2
    )
    try:
        async with _ingesting(ingestor) as task:
            await ha.complete(make_record(1))
            await ha.acknowledged(1)
            pages = int(ledger._db.execute("PRAGMA page_count").fetchone()[0])
            ledger._db.execute(f"PRAGMA max_page_count = {pages}")
            # Big enough records that the next write needs new pages.
            for seq in range(2, 6):
                await ha.complete(make_record(seq, flags=[f"note {n:03d}" for n in range(90)]))
            await _until(lambda: ingestor.status.state == "degraded")
            assert ingestor.status.health() == {
                "status": "degraded",
                "error": "database: database or disk is full",
            }
            await asyncio.sleep(0.5)  # several retries, all refused
            assert not task.done()
            # Nothing is acknowledged that is not stored.
            assert ha.history.acked_seq < 5
            assert _count(ledger) == ha.history.acked_seq

            # Space is freed: the retry stores everything, once, and acknowledges it.
            ledger._db.execute("PRAGMA max_page_count = 1073741823")
            await ha.acknowledged(5, wait=WAIT)
            await ha.complete(make_record(6))
            await ha.acknowledged(6, wait=WAIT)
            assert ingestor.status.health() == {"status": "ok"}
            assert _count(ledger) == 6
            assert ledger.verify().ok
    finally:
        ledger.close()


async def test_backoff_starts_over_after_a_good_connection(
    home_assistant: HomeAssistantEndpoint,
    client_session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    ha = home_assistant
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        # Nothing listens on this port: every attempt fails and the delay doubles.
        ingestor = Ingestor(
            ledger,
            client_session,
            websocket_url(f"http://127.0.0.1:{free_port()}"),
            ha.token,
            min_backoff=0.02,
            max_backoff=0.64,
        )
        async with _ingesting(ingestor):
            await _until(lambda: (ingestor.status.retry_in or 0) >= 0.16)
            assert ingestor.status.state == "disconnected"
            ingestor._url = websocket_url(ha.url)  # Home Assistant is reachable again
            await _until(lambda: ingestor.caught_up.is_set())
            assert ingestor.status.retry_in is None
            # The connection drops after serving: the next wait is the shortest again.
            connection = ingestor.connection
            assert connection is not None
            await connection.close()
            await _until(lambda: ingestor.status.retry_in is not None)
            assert ingestor.status.retry_in == 0.02
            await ha.complete(make_record(1))
            await ha.acknowledged(1)


def test_a_jump_in_seq_within_a_batch_is_a_chained_gap(ledger: Ledger) -> None:
    result = ledger.append_sessions([make_record(1), make_record(2), make_record(6)])
    assert result.stored == 3
    [gap] = ledger.gaps()
    assert (gap.from_seq, gap.to_seq) == (3, 5)
    # Between session 2's end and session 6's end.
    assert gap.after == "2026-03-01T21:30:00.000000Z"
    assert gap.before == "2026-03-02T01:30:00.000000Z"
    report = ledger.verify()
    assert report.ok
    assert report.gaps == (
        "3 session(s) with Home Assistant seq 3-5 are missing (between "
        "2026-03-01T21:30:00.000000Z and 2026-03-02T01:30:00.000000Z): Home Assistant no "
        "longer has these sessions",
    )
    # Delivered again (a re-sent page): no second gap.
    ledger.append_sessions([make_record(6), make_record(7)])
    assert len(ledger.gaps()) == 1


def test_a_database_error_rolls_the_batch_back_whole(ledger: Ledger) -> None:
    ledger.append_sessions([make_record(1)])
    pages = int(ledger._db.execute("PRAGMA page_count").fetchone()[0])
    ledger._db.execute(f"PRAGMA max_page_count = {pages}")
    batch = [make_record(seq, flags=[f"n{n:03d}" for n in range(90)]) for seq in range(2, 40)]
    with pytest.raises(sqlite3.OperationalError, match="full"):
        ledger.append_sessions(batch)
    ledger._db.execute("PRAGMA max_page_count = 1073741823")
    assert ledger.last_seq() == 1
    assert _count(ledger) == 1
    assert ledger.verify().ok
    ledger.append_sessions(batch)
    assert _count(ledger) == 39
    assert ledger.verify().ok


def test_schema_copy_in_the_add_on_is_the_integrations_file() -> None:
    repo = Path(__file__).resolve().parents[2]
    shipped = repo / "custom_components" / "ev_charging_monitor" / "session_record.schema.json"
    copy = repo / "addon" / "app" / "ev_charging_ledger" / "session_record.schema.json"
    assert copy.read_bytes() == shipped.read_bytes()
