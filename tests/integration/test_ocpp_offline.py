"""Offline is normal: an OCPP 1.6J charger's queued transaction messages, in a real Home
Assistant.

The charger (simulators/ocpp_charger.py) loses its connection, keeps charging, queues its
StartTransaction, MeterValues and StopTransaction with the times they happened, and sends
them in order when it is back; a confirmation that does not reach it makes it send the
message again. Home Assistant's clock and the charger's move together (the freezer), so the
times the records must carry are written here by hand from the test's own timeline.
Energies by hand: 600 s at 11 kW is 1833.3 Wh, which the simulated register rounds to 1833.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import CoreState, HomeAssistant, callback
from homeassistant.util import dt as dt_util
from ocpp.v16 import call

from custom_components.ev_charging_monitor.authorization.manager import (
    AUTHORIZATION,
    AuthorizationManager,
)
from custom_components.ev_charging_monitor.central_system.registry import OCPP_REGISTRY
from custom_components.ev_charging_monitor.session.manager import EVENT_SESSION_STARTED
from ev_charging_ledger.evidence import classify
from ev_charging_ledger.records import session_facts
from simulators.ocpp_alfen import AlfenEveOcpp
from simulators.ocpp_charger import GenericOcpp16Charger

from .ocpp_rig import PASSWORD, Rig
from .test_authorization import CARD, _add_card, _set_up_authorization

STEP_WH = 1833  # one 10-minute meter value at 11 kW
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
async def rig(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> AsyncIterator[Rig]:
    freezer.move_to(T0)
    rig = Rig(hass, freezer)
    await rig.set_up_central_system()
    yield rig
    if rig.central is not None:
        await hass.config_entries.async_unload(rig.central.entry_id)


@pytest.fixture
async def sim() -> AsyncIterator[GenericOcpp16Charger]:
    charger = GenericOcpp16Charger("CP-OFF", password=PASSWORD, serial="OFF-1", at=T0)
    yield charger
    await charger.disconnect()


async def _ready(hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger) -> list[str]:
    """Card known, charger accepted and idle; returns the ids of sessions that start."""
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION])
    await rig.accept(sim)
    await rig.send(sim.status("Available"))
    await rig.send(sim.meter_values(0))
    started: list[str] = []
    hass.bus.async_listen(
        EVENT_SESSION_STARTED, callback(lambda e: started.append(e.data["session_id"]))
    )
    return started


async def _charge(rig: Rig, sim: GenericOcpp16Charger, steps: int) -> None:
    """`steps` x 10 minutes at 11 kW, both clocks moving, one MeterValues each."""
    for _ in range(steps):
        await rig.tick(600)
        await rig.send(sim.charge(600, 11_000))


async def _restart(hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger) -> None:
    """Home Assistant stops (the process' memory gone, the stores kept) and starts again."""
    assert rig.charger is not None
    assert rig.central is not None
    assert await hass.config_entries.async_unload(rig.charger.entry_id)
    assert await hass.config_entries.async_unload(rig.central.entry_id)
    await sim.go_offline()
    del hass.data[OCPP_REGISTRY]
    hass.data[AUTHORIZATION] = await AuthorizationManager.async_load(hass)
    assert await hass.config_entries.async_setup(rig.central.entry_id)
    assert await hass.config_entries.async_setup(rig.charger.entry_id)
    await hass.async_block_till_done()
    rig.drive_monotonic()


def _one(rig: Rig) -> dict[str, Any]:
    (record,) = rig.records
    return record


async def test_offline_for_the_whole_session_then_one_session_on_reconnect(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """Plug-in, card, an hour of charging and unplug all while offline: on reconnect the
    queued messages make exactly one session, at the times they name."""
    started = await _ready(hass, rig, sim)
    start_wh = sim.register_wh
    await sim.go_offline()
    await rig.tick(300)
    sim.at = T0 + timedelta(seconds=300)  # the accept took no time on either clock
    await sim.status("Preparing")  # dropped: a charger queues transaction messages only
    assert await sim.start_transaction(CARD) == "Accepted"
    await _charge(rig, sim, 6)
    await sim.stop_transaction()
    await sim.status("Available")
    await rig.tick(1800)
    assert rig.records == []
    assert await rig.send(sim.reconnect(rig.url)) == 8  # start, 6 meter values, stop
    await rig.send(sim.status("Available"))
    record = _one(rig)
    assert sim.register_wh - start_wh == 6 * STEP_WH
    assert Decimal(record["energy_wh"]) == Decimal(6 * STEP_WH)
    assert record["meter_start_wh"] == str(start_wh)
    # By hand: started 5 minutes after T0, stopped an hour later; it arrived at 11:35.
    assert record["started_at"] == "2026-11-30T10:05:00Z"
    assert record["ended_at"] == "2026-11-30T11:05:00Z"
    assert record["end_reason"] == "stopped"
    assert record["authorization"]["person"] == "Alex"
    assert "delivered_late" in record["flags"]
    assert record["charging_seconds"] == 3600
    assert started == []  # no live session was ever opened for it
    # The whole queue once more (a charger that missed every confirmation): nothing new.
    for payload in sim.sent_again():
        await rig.send(sim.send(payload))
    await rig.tick(60)
    await rig.send(sim.status("Available"))
    assert len(rig.records) == 1


async def test_offline_mid_session_continues_the_live_session(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """Started live, the connection lost half-way, stopped offline: one session, the live
    one's id, the whole meter delta, ended when the charger stopped."""
    started = await _ready(hass, rig, sim)
    await rig.send(sim.status("Preparing"))
    start_wh = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 2)
    (session_id,) = started
    await sim.go_offline()
    await _charge(rig, sim, 3)
    await sim.stop_transaction()
    await sim.status("Available")
    await rig.tick(900)
    # Back: the status first (newer than the queue behind it), then the queued messages.
    await sim.connect(rig.url)
    sim.offline.active = False
    await rig.send(sim.status("Available"))
    assert rig.records == []  # the session waits for its queued stop
    sim.offline.active = True
    await sim.disconnect()
    assert await rig.send(sim.reconnect(rig.url)) == 4
    record = _one(rig)
    assert record["id"] == session_id
    assert Decimal(record["energy_wh"]) == Decimal(5 * STEP_WH) == sim.register_wh - start_wh
    # By hand: the stop came 50 minutes after T0 (5 x 10 minutes of charging).
    assert record["ended_at"] == "2026-11-30T10:50:00Z"
    assert "delivered_late" in record["flags"]
    await rig.tick(60)
    await rig.send(sim.status("Available"))
    assert len(rig.records) == 1
    assert started == [session_id]


async def test_lost_confirmations_and_a_restart_make_no_duplicate(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """The start's confirmation is lost (sent twice), then the stop's, and Home Assistant
    restarts before the charger sends the stop again: one session, one transaction id."""
    await _ready(hass, rig, sim)
    start_wh = sim.register_wh
    await sim.go_offline()
    assert await sim.start_transaction(CARD) == "Accepted"
    await _charge(rig, sim, 2)
    await sim.stop_transaction()
    await rig.tick(600)
    sim.offline.lose_confirmation = call.StartTransaction
    assert await rig.send(sim.reconnect(rig.url)) == 0
    sim.offline.lose_confirmation = call.StopTransaction
    assert await rig.send(sim.reconnect(rig.url)) == 3  # start again, 2 meter values
    first_id = sim.transaction_id
    assert first_id is not None
    record = _one(rig)  # the stop arrived; only its confirmation was lost
    await _restart(hass, rig, sim)
    assert await rig.send(sim.reconnect(rig.url)) == 1  # the stop, again
    await rig.send(sim.status("Available"))
    assert _one(rig)["id"] == record["id"]
    assert Decimal(record["energy_wh"]) == Decimal(2 * STEP_WH) == sim.register_wh - start_wh
    # Transaction ids stay unique across the restart.
    sim.at = dt_util.utcnow()
    await rig.send(sim.status("Preparing"))
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    assert sim.transaction_id is not None
    assert sim.transaction_id > first_id


async def test_restart_mid_transaction_with_queued_messages_continues_it(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """Home Assistant is down while the car charges and stops; the charger queues what
    happened and sends it when Home Assistant is back: the same session, exact energy."""
    started = await _ready(hass, rig, sim)
    await rig.send(sim.status("Preparing"))
    start_wh = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 2)
    (session_id,) = started
    await _restart(hass, rig, sim)  # the charger is cut off while it is down
    await _charge(rig, sim, 2)
    await sim.stop_transaction()
    await rig.tick(300)
    assert await rig.send(sim.reconnect(rig.url)) == 3
    await rig.send(sim.status("Available"))
    record = _one(rig)
    assert record["id"] == session_id
    assert Decimal(record["energy_wh"]) == Decimal(4 * STEP_WH) == sim.register_wh - start_wh
    assert record["ended_at"] == "2026-11-30T10:40:00Z"
    assert record["authorization"]["person"] == "Alex"


async def test_a_session_across_a_tariff_boundary_is_priced_at_the_message_times(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger, freezer: FrozenDateTimeFactory
) -> None:
    """Charged offline from 01:30 to 02:30 UTC across the end of the cheap hours (03:00
    Berlin), delivered at 03:30: the cheap half is priced cheap."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    night = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    freezer.move_to(night)
    sim.at = night
    await _ready(hass, rig, sim)
    assert rig.charger is not None
    tariff = {
        "type": "time_of_use",
        "default_price": "0.40",
        "periods": [{"start": "00:00", "end": "03:00", "price": "0.20"}],
    }
    hass.config_entries.async_update_entry(
        rig.charger, options={**rig.charger.options, "tariff": tariff}
    )
    assert await hass.config_entries.async_reload(rig.charger.entry_id)
    await hass.async_block_till_done()
    rig.drive_monotonic()
    await sim.go_offline()
    await rig.tick(1800)
    sim.at = night + timedelta(minutes=30)
    assert await sim.start_transaction(CARD) == "Accepted"
    await _charge(rig, sim, 6)  # 01:30 to 02:30 UTC, a meter value every 10 minutes
    await sim.stop_transaction()
    await rig.tick(3600)
    assert await rig.send(sim.reconnect(rig.url)) == 8
    await rig.send(sim.status("Available"))
    record = _one(rig)
    # By hand: 3 x 1833 Wh before 02:00 UTC (03:00 Berlin) at 0.20, 3 x 1833 Wh after at
    # 0.40: 1.0998 + 2.1996 = 3.2994 EUR. Priced at the arrival (04:30 Berlin) it would be
    # 10.998 kWh x 0.40 = 4.40.
    assert Decimal(record["cost"]["total"]) == Decimal("3.30")
    assert record["started_at"] == "2026-12-01T01:30:00Z"
    assert record["ended_at"] == "2026-12-01T02:30:00Z"


async def test_impossible_charger_times_are_replaced_by_the_arrival_and_flagged(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """A queued stop stamped two days ahead: the session ends when the stop arrived,
    flagged, its energy still the charger's exact delta."""
    await _ready(hass, rig, sim)
    start_wh = sim.register_wh
    await sim.go_offline()
    assert await sim.start_transaction(CARD) == "Accepted"
    await _charge(rig, sim, 2)
    sim.at += timedelta(days=2)  # its clock jumps
    await sim.stop_transaction()
    await rig.tick(600)
    arrival = T0 + timedelta(seconds=1800)
    assert await rig.send(sim.reconnect(rig.url)) == 4
    await rig.send(sim.status("Available"))
    record = _one(rig)
    assert Decimal(record["energy_wh"]) == Decimal(2 * STEP_WH) == sim.register_wh - start_wh
    assert record["started_at"] == _z(T0)
    assert record["ended_at"] == _z(arrival)
    assert "charger_clock_invalid" in record["flags"]


async def test_back_while_still_charging_then_one_session_until_unplug(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """Offline for 20 minutes of a charge that goes on after the reconnect and stops live:
    one session (the queued registers fill the gap), nothing new while the car stays
    plugged in after the stop, and the next plug-in is a session again."""
    started = await _ready(hass, rig, sim)
    await rig.send(sim.status("Preparing"))
    start_wh = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 2)
    await sim.go_offline()
    await _charge(rig, sim, 2)
    assert await rig.send(sim.reconnect(rig.url)) == 2
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 2)
    await rig.send(sim.stop_transaction())
    await rig.send(sim.status("Finishing"))
    await rig.tick(600)
    await rig.send(sim.status("Finishing"))
    record = _one(rig)
    assert record["id"] == started[0]
    assert Decimal(record["energy_wh"]) == Decimal(6 * STEP_WH) == sim.register_wh - start_wh
    assert record["ended_at"] == "2026-11-30T11:00:00Z"
    await rig.send(sim.status("Available"))
    await rig.tick(60)
    await rig.send(sim.status("Preparing"))
    assert len(started) == 2
    assert len(rig.records) == 1


async def test_a_queue_sent_while_home_assistant_starts_waits_for_its_charger(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """At startup the central system may listen before the charger's entry is set up; a
    charger that sends its queue right then is answered once its entry is there."""
    await _ready(hass, rig, sim)
    start_wh = sim.register_wh
    await sim.go_offline()
    assert await sim.start_transaction(CARD) == "Accepted"
    await _charge(rig, sim, 2)
    await sim.stop_transaction()
    await rig.tick(600)
    assert rig.charger is not None
    assert rig.central is not None
    assert await hass.config_entries.async_unload(rig.charger.entry_id)
    assert await hass.config_entries.async_unload(rig.central.entry_id)
    del hass.data[OCPP_REGISTRY]
    hass.set_state(CoreState.starting)
    assert await hass.config_entries.async_setup(rig.central.entry_id)
    replay = asyncio.create_task(sim.reconnect(rig.url))
    for _ in range(20):  # time enough for the whole queue, were it answered at once
        await rig.settle()
    assert not replay.done()
    assert isinstance(sim.offline.queue[0], call.StartTransaction)
    assert rig.records == []
    assert await hass.config_entries.async_setup(rig.charger.entry_id)
    rig.drive_monotonic()
    assert await replay == 4
    hass.set_state(CoreState.running)
    await rig.send(sim.status("Available"))
    record = _one(rig)
    assert Decimal(record["energy_wh"]) == Decimal(2 * STEP_WH) == sim.register_wh - start_wh
    assert record["started_at"] == _z(T0)


async def test_signed_values_of_a_queued_stop_reach_the_record(
    hass: HomeAssistant, rig: Rig
) -> None:
    """An Alfen-like charger signs the transaction at its stop; the stop is queued: the
    late session carries the OCMF record verbatim and the ledger verifies it."""
    sim = AlfenEveOcpp("ALFEN-OFF", password=PASSWORD, at=T0)
    try:
        await _ready(hass, rig, sim)
        await rig.send(sim.status("Preparing"))
        start_wh = sim.register_wh
        assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
        await rig.send(sim.status("Charging"))
        await _charge(rig, sim, 1)
        await sim.go_offline()
        await _charge(rig, sim, 2)
        await sim.stop_transaction()
        await rig.tick(600)
        assert await rig.send(sim.reconnect(rig.url)) == 3
        await rig.send(sim.status("Available"))
    finally:
        await sim.disconnect()
    record = _one(rig)
    assert Decimal(record["energy_wh"]) == Decimal(3 * STEP_WH) == sim.register_wh - start_wh
    assert "delivered_late" in record["flags"]
    (signed,) = record["signed_meter_values"]
    assert signed["data"] == sim.sent_ocmf[-1]
    evidence = classify(session_facts(record))
    assert evidence.evidence_class == "signed_ocmf"
    assert evidence.ocmf is not None
    assert evidence.ocmf["problems"] == []
