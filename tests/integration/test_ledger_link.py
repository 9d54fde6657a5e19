"""The integration's sessions reach the real ledger process, acknowledged and pruned."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


async def test_history_keeps_unacknowledged_and_a_bounded_acknowledged_window(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unacknowledged sessions stay however old; acknowledged ones by age and count."""
    # Imported here: the module under test, from its ledger_link home.
    from custom_components.ev_charging_monitor.ledger_link import history as module
    from tests.ledger.integration_records import make_record

    monkeypatch.setattr(module, "ACKNOWLEDGED_MAX_COUNT", 3)
    store = SessionHistory(hass)
    await store.async_load()
    old = datetime(2020, 1, 1, tzinfo=UTC)  # far beyond 400 days
    for seq in range(1, 4):
        await store.async_add(make_record(seq, started=old))
    for seq in range(4, 11):
        await store.async_add(make_record(seq))
    assert [r["seq"] for r in store.after(0, 100)] == list(range(1, 11))

    # Nothing acknowledged: the 2020 sessions are kept.
    await store.async_ack(0)
    assert len(store.after(0, 100)) == 10
    # Acknowledged up to 8: the old ones go (age), of 4..8 the newest 3 stay (count).
    await store.async_ack(8)
    assert [r["seq"] for r in store.after(0, 100)] == [6, 7, 8, 9, 10]
    assert store.has(make_record(9)["id"])
    assert not store.has(make_record(1)["id"])


async def test_pages_stay_under_the_message_budget_and_an_oversized_record_is_a_stand_in(
    hass: HomeAssistant,
) -> None:
    from custom_components.ev_charging_monitor.ledger_link.history import (
        MESSAGE_BUDGET,
        pages,
    )
    from tests.ledger.integration_records import make_record

    big = make_record(2, flags=["x" * 90] * 100)  # about 9 KB
    huge = make_record(3)
    huge["signed_meter_values"] = [{"format": "OCMF", "data": "y" * 2_000_000}]
    records = [make_record(1), *[{**big, "seq": n} for n in range(2, 300)], {**huge, "seq": 300}]
    split = pages(records)
    assert sum(len(page) for page in split) == 300
    assert all(len(json.dumps(page)) <= MESSAGE_BUDGET for page in split)
    assert split[-1][-1] == {
        "schema": 1,
        "id": huge["id"],
        "seq": 300,
        "oversized_bytes": len(json.dumps({**huge, "seq": 300}, separators=(",", ":"))),
    }
    # Nested deeper than Home Assistant's encoder writes: a stand-in too, never a message
    # that cannot be sent.
    deep: object = "x"
    for _ in range(300):
        deep = [deep]
    nested = {**make_record(301), "charger": {"serial": "WB", "name": deep}}
    [[stand_in]] = pages([nested])
    assert stand_in["oversized_bytes"] == MESSAGE_BUDGET + 1


async def test_emitted_records_match_the_contract(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    add_device: AddDevice,
) -> None:
    """What the integration records for a real charging session follows the schema."""
    from custom_components.ev_charging_monitor.ledger_link import contract

    await add_device(wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    for _ in range(4):
        await poll(hass, clock, 10)
    wallbox.charger.unplug()
    await poll(hass, clock, 1)
    [record] = hass.data[HISTORY].after(0, 10)
    assert contract.problems(record) == []
    assert isinstance(record["energy_wh"], str)
    assert record["meter"]["mid"] is None


async def test_websocket_messages_match_the_contract(
    hass: HomeAssistant,
    hass_ws_client: Callable[..., Awaitable[Any]],
) -> None:
    """Replies and events of the three commands, as a client receives them."""
    from homeassistant.setup import async_setup_component

    from custom_components.ev_charging_monitor.const import DOMAIN
    from custom_components.ev_charging_monitor.ledger_link import contract
    from tests.ledger.integration_records import make_record

    assert await async_setup_component(hass, DOMAIN, {})
    history = hass.data[HISTORY]
    for seq in (1, 2):
        await history.async_add(make_record(seq))
    client = await hass_ws_client(hass)

    await client.send_json({"id": 1, "type": "ev_charging_monitor/sessions", "after_seq": 0})
    reply = await client.receive_json()
    assert reply["success"], reply
    assert contract.problems(reply["result"], "sessions_reply") == []
    assert [r["seq"] for r in reply["result"]["sessions"]] == [1, 2]
    assert (reply["result"]["last_seq"], reply["result"]["acknowledged_seq"]) == (2, 0)

    await client.send_json(
        {"id": 2, "type": "ev_charging_monitor/subscribe_sessions", "after_seq": 1}
    )
    assert (await client.receive_json())["success"]
    event = await client.receive_json()
    assert contract.problems(event["event"], "sessions_event") == []
    assert [r["seq"] for r in event["event"]["sessions"]] == [2]

    await client.send_json({"id": 3, "type": "ev_charging_monitor/ack_sessions", "up_to_seq": 2})
    ack = await client.receive_json()
    assert contract.problems(ack["result"], "ack_reply") == []
    assert ack["result"] == {"acknowledged_seq": 2}


async def test_a_string_subclass_from_yaml_is_plain_text_on_the_wire(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Names from YAML are str subclasses; the ledger receives them as plain strings."""
    from homeassistant.util.yaml.objects import NodeStrClass

    from tests.ledger.integration_records import make_record

    store = SessionHistory(hass)
    await store.async_load()
    record = make_record(1)
    record["charger"]["name"] = NodeStrClass("Garage")
    record["time_zone"] = NodeStrClass("Europe/Berlin")
    await store.async_add(record)
    assert "does not match the ledger contract" not in caplog.text
    broken = make_record(2)
    broken["energy_wh"] = NodeStrClass("lots")
    await store.async_add(broken)
    assert "energy_wh" in caplog.text
