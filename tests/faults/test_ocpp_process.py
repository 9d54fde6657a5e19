"""kill -9 of a real Home Assistant process in the middle of an OCPP transaction.

The simulated OCPP 1.6J charger charges on while Home Assistant is gone, queues its meter
values and its stop with the times they happened, and sends them once Home Assistant is
back: the session that was running goes on (same id) and ends with the charger's exact
meter delta. Real clocks throughout; the expected energy is the sum of the register steps
this test makes the charger take.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulators.ocpp_charger import GenericOcpp16Charger

from .ha_process import DOMAIN, HomeAssistantProcess

pytestmark = pytest.mark.faults

WAIT_S = 180.0
CHARGER_PASSWORD = "queue-and-replay-4711"
CARD = "04AABBCCDD"
LIVE_STEP_WH = 5  # every 2 s: 9 kW, believable to the live tracker
# While Home Assistant is down: every 12 s, 7.5 kW. Stamped more than 30 s before the
# reconnect, they count as queued (message_time.py), not as live values.
QUEUED_STEP_WH = 25


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until(condition: Callable[[], Awaitable[Any]]) -> Any:
    """The condition's first true value (polled twice a second)."""
    async with asyncio.timeout(WAIT_S):
        # Another process's state: there is no event to wait on, only polling.
        while not (value := await condition()):  # noqa: ASYNC110
            await asyncio.sleep(0.5)
    return value


async def _flow(
    http: aiohttp.ClientSession, ha: HomeAssistantProcess, flow_id: str, steps: list[Any]
) -> dict[str, Any]:
    url = f"{ha.base}/api/config/config_entries/flow"
    result: dict[str, Any] = {}
    for values in steps:
        async with http.post(f"{url}/{flow_id}", json=values, headers=ha.headers) as response:
            result = await response.json()
    return result


async def _set_up_central_system(
    http: aiohttp.ClientSession, ha: HomeAssistantProcess, port: int
) -> None:
    url = f"{ha.base}/api/config/config_entries/flow"
    async with http.post(url, json={"handler": DOMAIN}, headers=ha.headers) as response:
        flow = await response.json()
    result = await _flow(
        http, ha, flow["flow_id"], [{"next_step_id": "central_system"}, {"port": port}]
    )
    assert result.get("type") == "create_entry", result


async def _discovery(http: aiohttp.ClientSession, ha: HomeAssistantProcess) -> str | None:
    """The id of the discovery flow a connected charger started, if there is one yet."""
    async with http.ws_connect(f"{ha.base}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": ha.token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, "type": "config_entries/flow/progress"})
        flows = (await ws.receive_json())["result"]
    for flow in flows:
        if flow["handler"] == DOMAIN and flow["context"]["source"] == "integration_discovery":
            return str(flow["flow_id"])
    return None


def _checkpoint(ha: HomeAssistantProcess, entry_id: str) -> dict[str, Any] | None:
    path = ha.config / ".storage" / f"{DOMAIN}.{entry_id}.session"
    if not path.exists():
        return None
    session: dict[str, Any] | None = json.loads(path.read_text())["data"]["session"]
    return session


async def test_kill_mid_transaction_then_the_queue_continues_the_session(
    tmp_path: Path, socket_enabled: None
) -> None:
    """Live start and meter values, kill -9, queued meter values and stop, start again,
    replay: one record, the running session's id, the exact delta."""
    http = aiohttp.ClientSession()
    ha = HomeAssistantProcess(tmp_path, _free_port())
    ocpp_port = _free_port()
    url = f"ws://127.0.0.1:{ocpp_port}"
    sim = GenericOcpp16Charger(
        "CP-PROCESS", password=CHARGER_PASSWORD, serial="PROC-1", at=datetime.now(UTC)
    )
    try:
        await ha.start(http)
        await ha.onboard(http)
        await _set_up_central_system(http, ha, ocpp_port)
        await sim.connect(url)
        assert await sim.boot() == "Pending"
        flow_id = await _until(lambda: _discovery(http, ha))
        result = await _flow(http, ha, flow_id, [{"password": CHARGER_PASSWORD}])
        assert result.get("type") == "create_entry", result
        entry_id = str(result["result"]["entry_id"])
        await sim.wait_accepted(timeout=WAIT_S)
        await _until(lambda: ha.entry_loaded(http, entry_id))

        start_wh = sim.register_wh
        sim.at = datetime.now(UTC)
        await sim.status("Available")
        await sim.meter_values(0)
        await sim.status("Preparing")
        assert await sim.start_transaction(CARD) == "Accepted"
        await sim.status("Charging")
        for _ in range(3):
            await asyncio.sleep(2)
            sim.at = datetime.now(UTC)
            sim.register_wh += LIVE_STEP_WH
            await sim.meter_values(9_000)

        async def checkpointed() -> dict[str, Any] | None:
            return _checkpoint(ha, entry_id)

        running = await _until(checkpointed)

        await ha.kill()
        await sim.go_offline()
        for _ in range(3):
            await asyncio.sleep(12)
            sim.at = datetime.now(UTC)
            sim.register_wh += QUEUED_STEP_WH
            await sim.meter_values(7_500)
        await sim.stop_transaction()
        stopped_at = sim.at

        await ha.start(http)
        await _until(lambda: ha.entry_loaded(http, entry_id))
        assert await sim.reconnect(url) == 4  # 3 meter values and the stop
        sim.at = datetime.now(UTC)
        await sim.status("Available")
        records = await _until(lambda: ha.sessions(http))
        await asyncio.sleep(2)
        records = await ha.sessions(http)
    finally:
        await sim.disconnect()
        await ha.close()
        await http.close()

    (record,) = records
    # By hand: 3 live steps of 5 Wh and 3 queued steps of 25 Wh.
    assert sim.register_wh - start_wh == 3 * 5 + 3 * 25
    assert record["energy_wh"] == "90"
    assert record["meter_start_wh"] == str(start_wh)
    assert record["id"] == running["id"]
    assert record["ended_at"] == stopped_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert "delivered_late" in record["flags"]
    assert "recovered_after_restart" in record["flags"]
