"""Charging sessions in a real Home Assistant against the simulated wallbox."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ev_charging_monitor.session.manager import (
    EVENT_SESSION_ENDED,
    EVENT_SESSION_STARTED,
)
from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

from .clocks import poll
from .conftest import AddDevice, vestel_register

pytestmark = pytest.mark.no_watchdog

ENERGY = "sensor.vestel_evc04_session_energy"


@pytest.fixture
def synced_clocks(clock: SimClock, freezer: FrozenDateTimeFactory) -> None:
    """Home Assistant's clock moves with the simulators' clock (see clocks.poll)."""
    _FREEZERS[id(clock)] = freezer


_FREEZERS: dict[int, FrozenDateTimeFactory] = {}


async def _poll(hass: HomeAssistant, clock: SimClock, seconds: float = 0) -> None:
    await poll(hass, clock, seconds, _FREEZERS.get(id(clock)))


def _events(hass: HomeAssistant, event_type: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def listener(event: Event) -> None:
        seen.append(dict(event.data))

    hass.bus.async_listen(event_type, listener)
    return seen


async def _charge(
    hass: HomeAssistant, clock: SimClock, wallbox: VestelEVC04, minutes: int
) -> tuple[Decimal, Decimal]:
    """Plug in, charge for `minutes` with a poll a minute, unplug; return the registers."""
    return await _charge_steps(hass, clock, wallbox, steps=minutes, step_s=60)


async def _charge_steps(
    hass: HomeAssistant, clock: SimClock, wallbox: VestelEVC04, *, steps: int, step_s: float
) -> tuple[Decimal, Decimal]:
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await _poll(hass, clock)
    start = vestel_register(wallbox)
    for _ in range(steps):
        await _poll(hass, clock, step_s)
    end = vestel_register(wallbox)
    wallbox.charger.unplug()
    await _poll(hass, clock, 5)
    return start, end


@pytest.mark.usefixtures("synced_clocks")
async def test_session_energy_is_register_delta(
    hass: HomeAssistant, wallbox: VestelEVC04, clock: SimClock, add_device: AddDevice
) -> None:
    """A whole session: events, the record, and energy = end register - start register."""
    started = _events(hass, EVENT_SESSION_STARTED)
    ended = _events(hass, EVENT_SESSION_ENDED)
    await add_device(wallbox)
    start, end = await _charge(hass, clock, wallbox, minutes=90)

    assert len(started) == 1
    assert len(ended) == 1
    record = ended[0]
    assert record["id"] == started[0]["session_id"]
    assert record["seq"] == 1
    # 11 040 W for 1.5 h = 16 560 Wh; the register counts 0.1 kWh steps.
    assert end - start == Decimal(16_500)
    assert Decimal(record["energy_wh"]) == end - start
    assert Decimal(record["meter_start_wh"]) == start
    assert Decimal(record["meter_end_wh"]) == end
    assert record["end_reason"] == "unplugged"
    assert record["charger"]["serial"] == "VES2024000123"
    assert record["max_power_w"] == 11_040
    assert record["flags"] == ["price_missing"]
    assert record["time_zone"] == hass.config.time_zone
    # After unplug the sensor keeps showing the last session.
    assert Decimal(hass.states.get(ENERGY).state) == Decimal("16.5")


async def test_websocket_catch_up_ack_and_live(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    add_device: AddDevice,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Unacknowledged sessions in seq order; ack prunes; a resubscribe misses nothing."""
    await add_device(wallbox)
    client = await hass_ws_client(hass)
    for _ in range(3):
        await _charge_steps(hass, clock, wallbox, steps=3, step_s=10)

    await client.send_json_auto_id({"type": "ev_charging_monitor/sessions", "after_seq": 0})
    result = (await client.receive_json())["result"]
    assert [r["seq"] for r in result["sessions"]] == [1, 2, 3]
    assert result["last_seq"] == 3
    assert len({r["id"] for r in result["sessions"]}) == 3

    await client.send_json_auto_id({"type": "ev_charging_monitor/ack_sessions", "up_to_seq": 2})
    assert (await client.receive_json())["result"] == {"acknowledged_seq": 2}

    await client.send_json_auto_id(
        {"type": "ev_charging_monitor/subscribe_sessions", "after_seq": 2}
    )
    assert (await client.receive_json())["success"]
    catch_up = (await client.receive_json())["event"]["sessions"]
    assert [r["seq"] for r in catch_up] == [3]

    await _charge_steps(hass, clock, wallbox, steps=3, step_s=10)
    live = (await client.receive_json())["event"]["sessions"]
    assert [r["seq"] for r in live] == [4]

    # A subscriber that reconnects with its last seq gets nothing twice.
    second = await hass_ws_client(hass)
    await second.send_json_auto_id(
        {"type": "ev_charging_monitor/subscribe_sessions", "after_seq": 4}
    )
    assert (await second.receive_json())["success"]
    await _charge_steps(hass, clock, wallbox, steps=3, step_s=10)
    assert [r["seq"] for r in (await second.receive_json())["event"]["sessions"]] == [5]


async def test_websocket_needs_admin(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """A non-admin cannot read or acknowledge sessions."""
    await add_device(wallbox)
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": "ev_charging_monitor/sessions"})
    response = await client.receive_json()
    assert response["success"] is False
    assert response["error"]["code"] == "unauthorized"


async def _restart(hass: HomeAssistant, entry: ConfigEntry) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("synced_clocks")
async def test_restart_mid_session_continues_same_session(
    hass: HomeAssistant, wallbox: VestelEVC04, clock: SimClock, add_device: AddDevice
) -> None:
    """Unload and set up again while charging: same id, exact energy, no flag."""
    started = _events(hass, EVENT_SESSION_STARTED)
    ended = _events(hass, EVENT_SESSION_ENDED)
    entry = await add_device(wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await _poll(hass, clock)
    start = vestel_register(wallbox)
    await _poll(hass, clock, 1800)

    await _restart(hass, entry)
    await _poll(hass, clock, 1800)
    end = vestel_register(wallbox)
    wallbox.charger.unplug()
    await _poll(hass, clock, 5)

    assert len(started) == 1
    assert [e["id"] for e in ended] == [started[0]["session_id"]]
    assert Decimal(ended[0]["energy_wh"]) == end - start == Decimal(11_000)
    assert "recovered_after_restart" not in ended[0]["flags"]


@pytest.mark.usefixtures("synced_clocks")
async def test_unclean_stop_is_recovered_and_flagged(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    add_device: AddDevice,
    hass_storage: dict[str, Any],
) -> None:
    """A crash leaves the last checkpoint unclean: the session resumes, flagged."""
    ended = _events(hass, EVENT_SESSION_ENDED)
    entry = await add_device(wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await _poll(hass, clock)
    start = vestel_register(wallbox)
    await _poll(hass, clock, 600)
    key = f"ev_charging_monitor.{entry.entry_id}.session"
    crashed = hass_storage[key]["data"]  # the checkpoint as a crash would leave it
    assert crashed["clean"] is False
    session_id = crashed["session"]["id"]

    assert await hass.config_entries.async_unload(entry.entry_id)
    hass_storage[key]["data"] = crashed  # no shutdown hook ran
    # The car leaves while Home Assistant is down, ten minutes later.
    clock.advance(600)
    _FREEZERS[id(clock)].tick(timedelta(seconds=600))
    wallbox.charger.unplug()
    end = vestel_register(wallbox)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _poll(hass, clock, 5)

    assert len(ended) == 1
    record = ended[0]
    assert record["id"] == session_id
    assert record["end_reason"] == "recovered"
    assert "recovered_after_restart" in record["flags"]
    assert Decimal(record["energy_wh"]) == end - start


@pytest.mark.usefixtures("synced_clocks")
async def test_meter_drop_and_jump_are_gated(
    hass: HomeAssistant, wallbox: VestelEVC04, clock: SimClock, add_device: AddDevice
) -> None:
    """A register that drops to 0 or jumps is flagged, and no energy entity spikes."""
    ended = _events(hass, EVENT_SESSION_ENDED)
    await add_device(wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await _poll(hass, clock)
    start = vestel_register(wallbox)
    await _poll(hass, clock, 600)
    before_fault = vestel_register(wallbox)
    energy_states = [hass.states.get("sensor.vestel_evc04_energy").state]

    # The meter reads 0 once (a glitch), then is back.
    real = wallbox.charger.energy_wh()
    wallbox.charger.replace_meter(0)
    await _poll(hass, clock)
    energy_states.append(hass.states.get("sensor.vestel_evc04_energy").state)
    wallbox.charger.replace_meter(real)
    # A jump of 1 MWh within 10 minutes is impossible at 11 kW.
    wallbox.charger.replace_meter(real + 1_000_000)
    await _poll(hass, clock, 600)
    energy_states.append(hass.states.get("sensor.vestel_evc04_energy").state)
    wallbox.charger.replace_meter(real + 600 * 11_040 / 3600)
    await _poll(hass, clock)
    energy_states.append(hass.states.get("sensor.vestel_evc04_energy").state)
    end = vestel_register(wallbox)
    wallbox.charger.unplug()
    await _poll(hass, clock, 5)

    record = ended[0]
    assert {"meter_register_dropped", "meter_register_jump"} <= set(record["flags"])
    assert Decimal(record["energy_wh"]) == end - start
    assert before_fault - start == Decimal(1800)
    numeric = [float(s) for s in energy_states if s not in ("unknown", "unavailable")]
    assert numeric == sorted(numeric)  # never down, and
    assert numeric[-1] - numeric[0] < 10  # never up by the fake megawatt-hour (kWh units)
    assert energy_states[1] == "unknown"
    assert energy_states[2] == "unknown"
