"""Every transaction ends up on a pay slip once: lost stops, a second connector, queued
starts (OCPP 1.6J, simulators/ocpp_charger.py, in a real Home Assistant).

- A charger that reboots and forgets its transaction (it boots, shows the connector free,
  and never sends the stop) or that starts a new transaction on the connector without the
  stop of the old one: the old one ends at its last known register and time, flagged, and
  a stop that comes after all makes no second session.
- A second connector's transaction is refused (one charger, one session at a time: connector
  1's), with a repair issue naming the connector, and never merged into connector 1's.
- A queued start is answered from the allow-list without telling anyone that someone is at
  the charger: no unknown-card notification hours later; the record names the person.

Home Assistant's clock and the charger's move together (the freezer), so the times the
records must carry are written here by hand from the test's own timeline. Energies by hand:
600 s at 11 kW is 1833.3 Wh, which the simulated register rounds to 1833.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from ocpp.v16 import call
from ocpp.v16.enums import Reason
from ocpp.v201 import call as v201call
from ocpp.v201.datatypes import (
    EVSEType,
    IdTokenType,
    MeterValueType,
    SampledValueType,
    TransactionType,
)
from ocpp.v201.enums import (
    ConnectorStatusEnumType,
    IdTokenEnumType,
    TransactionEventEnumType,
    TriggerReasonEnumType,
)

from custom_components.ev_charging_monitor.authorization.manager import (
    AUTHORIZATION,
)
from custom_components.ev_charging_monitor.central_system.registry import OCPP_REGISTRY
from custom_components.ev_charging_monitor.const import DOMAIN
from simulators.ocpp201_charger import GenericOcpp201Station
from simulators.ocpp_charger import GenericOcpp16Charger
from simulators.ocpp_link import stamp

from .ocpp_rig import PASSWORD, Rig
from .test_authorization import CARD, OTHER_CARD, _add_card, _set_up_authorization
from .test_ocpp201 import accept as accept_201
from .test_ocpp_offline import STEP_WH, T0, _charge, _ready, _restart

LOST_AFTER_S = 300  # how long after a boot a free connector's transaction may still stop


@pytest.fixture
async def rig(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> AsyncIterator[Rig]:
    """The shared rig, at a fixed time the charger's clock starts from too."""
    freezer.move_to(T0)
    rig = Rig(hass, freezer)
    await rig.set_up_central_system()
    yield rig
    if rig.central is not None:
        await hass.config_entries.async_unload(rig.central.entry_id)


@pytest.fixture
async def sim() -> AsyncIterator[GenericOcpp16Charger]:
    charger = GenericOcpp16Charger("CP-TX", password=PASSWORD, serial="TX-1", at=T0)
    yield charger
    await charger.disconnect()


async def _records(rig: Rig, count: int) -> list[dict[str, Any]]:
    """The records, once `count` are there (a reading reaches the sessions a few loop
    turns after the message that caused it, more under load)."""
    await rig.until(lambda: len(rig.records) >= count, f"{count} session record(s)")
    return rig.records


async def _heartbeat(rig: Rig, sim: GenericOcpp16Charger) -> None:
    await rig.send(sim.send(call.Heartbeat()))


async def _late_stop(rig: Rig, sim: GenericOcpp16Charger, transaction_id: int) -> None:
    """The stop of a transaction the central system ended without it, sent after all."""
    await rig.send(
        sim.send(
            call.StopTransaction(
                meter_stop=sim.register_wh,
                timestamp=stamp(sim.at),
                transaction_id=transaction_id,
                reason=Reason.power_loss,
            )
        )
    )


def _closed(hass: HomeAssistant, transaction_id: int) -> Any:
    book = hass.data[OCPP_REGISTRY].book
    return next(tx for tx in book.closed["CP-TX"] if tx.transaction_id == transaction_id)


async def test_a_reboot_that_loses_the_transaction_ends_it_at_its_last_register(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """Charging 30 minutes, the charger reboots, forgets its transaction and shows the
    connector free: once the stop had time to come (5 minutes), the session ends at the last
    meter value, flagged; the stop sent after all changes nothing; the next plug-in is a
    session of its own."""
    started = await _ready(hass, rig, sim)
    await rig.send(sim.status("Preparing"))
    start_wh = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    lost_id = sim.transaction_id
    assert lost_id is not None
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 3)  # the last meter value at 10:30
    await rig.tick(40)
    sim.at += timedelta(seconds=40)
    assert await rig.send(sim.reboot_losing_transaction()) == "Accepted"
    await rig.send(sim.status("Available"))
    await rig.tick(60)
    sim.at += timedelta(seconds=60)
    await rig.send(sim.meter_values(0))  # its register, of no transaction now
    assert rig.records == []  # its stop may still come
    await rig.tick(LOST_AFTER_S)
    sim.at += timedelta(seconds=LOST_AFTER_S)
    await _heartbeat(rig, sim)
    (record,) = await _records(rig, 1)
    assert record["id"] == started[0]
    assert record["meter_start_wh"] == str(start_wh)
    # By hand: three meter values of 1833 Wh, the last at 10:30.
    assert Decimal(record["energy_wh"]) == Decimal(3 * STEP_WH)
    assert record["meter_end_wh"] == str(start_wh + 3 * STEP_WH)
    assert record["started_at"] == "2026-11-30T10:00:00Z"
    assert record["ended_at"] == "2026-11-30T10:30:00Z"
    assert record["charging_seconds"] == 1800  # from the start to the last meter value
    assert record["end_reason"] == "recovered"
    assert {"stop_missing_after_reboot", "estimated"} <= set(record["flags"])
    assert "delivered_late" not in record["flags"]
    assert record["authorization"]["person"] == "Alex"
    # Its stop, after all: logged and noted, no second session, the record unchanged.
    await _late_stop(rig, sim, lost_id)
    await rig.tick(60)
    await rig.send(sim.status("Available"))
    assert len(rig.records) == 1
    assert "stop_after_lost" in _closed(hass, lost_id).flags
    # The next car: a session of its own, with its own delta.
    sim.at = T0 + timedelta(seconds=1800 + 40 + 60 + LOST_AFTER_S + 60)
    await rig.send(sim.status("Preparing"))
    second_wh = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 1)
    await rig.send(sim.stop_transaction())
    await rig.send(sim.status("Available"))
    assert len(await _records(rig, 2)) == 2
    assert Decimal(rig.records[1]["energy_wh"]) == Decimal(STEP_WH)
    assert rig.records[1]["meter_start_wh"] == str(second_wh)
    assert "estimated" not in rig.records[1]["flags"]
    assert len(started) == 2


async def test_a_restart_between_the_reboot_and_the_decision_loses_nothing(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """The charger reboots and loses its transaction, then Home Assistant restarts before
    the stop's time is up: after the restart the session still ends at the last meter
    value, once, the same session."""
    started = await _ready(hass, rig, sim)
    await rig.send(sim.status("Preparing"))
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    lost_id = sim.transaction_id
    assert lost_id is not None
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 2)  # the last meter value at 10:20
    assert await rig.send(sim.reboot_losing_transaction()) == "Accepted"
    await rig.send(sim.status("Available"))
    await _restart(hass, rig, sim)
    await rig.tick(LOST_AFTER_S + 60)
    sim.at += timedelta(seconds=LOST_AFTER_S + 60)
    assert await rig.send(sim.reconnect(rig.url)) == 0
    assert rig.records == []
    await rig.send(sim.status("Available"))
    (record,) = await _records(rig, 1)
    assert record["id"] == started[0]
    assert Decimal(record["energy_wh"]) == Decimal(2 * STEP_WH)
    assert record["ended_at"] == "2026-11-30T10:20:00Z"
    assert "stop_missing_after_reboot" in record["flags"]
    await _heartbeat(rig, sim)
    assert len(rig.records) == 1
    # Its stop after another restart: still one session.
    await _restart(hass, rig, sim)
    assert await rig.send(sim.reconnect(rig.url)) == 0
    await _late_stop(rig, sim, lost_id)
    await rig.send(sim.status("Available"))
    assert len(rig.records) == 1
    assert "stop_after_lost" in _closed(hass, lost_id).flags


@pytest.mark.parametrize("restart", [False, True])
async def test_a_new_transaction_on_the_connector_ends_the_one_without_a_stop(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger, restart: bool
) -> None:
    """A firmware that never sends the stop after a power cut starts the next transaction
    on the same connector, the car still plugged in (Home Assistant restarted in between,
    or not): two sessions, each its own delta, the first ended at its last meter value and
    flagged."""
    started = await _ready(hass, rig, sim)
    await rig.send(sim.status("Preparing"))
    start_wh = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    lost_id = sim.transaction_id
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 2)  # the last meter value at 10:20
    assert await rig.send(sim.reboot_losing_transaction()) == "Accepted"
    if restart:
        await _restart(hass, rig, sim)
        assert await rig.send(sim.reconnect(rig.url)) == 0
    await rig.tick(60)
    sim.at += timedelta(seconds=60)
    await rig.send(sim.status("Preparing"))  # the car is still there
    second_wh = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    (first,) = await _records(rig, 1)
    assert first["id"] == started[0]
    assert first["meter_start_wh"] == str(start_wh)
    assert Decimal(first["energy_wh"]) == Decimal(2 * STEP_WH)
    assert first["ended_at"] == "2026-11-30T10:20:00Z"
    assert first["charging_seconds"] == 1200  # from the start to the last meter value
    assert first["end_reason"] == "recovered"
    assert {"stop_missing_new_transaction", "estimated"} <= set(first["flags"])
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 2)
    await rig.send(sim.stop_transaction())
    await rig.send(sim.status("Available"))
    assert len(await _records(rig, 2)) == 2
    second = rig.records[1]
    assert second["id"] != first["id"]
    assert second["meter_start_wh"] == str(second_wh)
    assert Decimal(second["energy_wh"]) == Decimal(2 * STEP_WH)
    assert second["started_at"] == "2026-11-30T10:21:00Z"
    # Nothing counted twice: the two add up to the register's change across them.
    assert Decimal(first["energy_wh"]) + Decimal(second["energy_wh"]) == (
        sim.register_wh - start_wh
    )
    assert lost_id is not None
    await _late_stop(rig, sim, lost_id)
    assert len(rig.records) == 2


async def test_a_queued_transaction_whose_stop_is_lost_is_recorded_from_its_registers(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """Started offline, delivered late, then a reboot loses it before its stop: recorded
    from the registers the charger sent (nothing live followed it), with Home Assistant
    restarted in between; no session from the stop that comes after all."""
    started = await _ready(hass, rig, sim)
    start_wh = sim.register_wh
    await sim.go_offline()
    assert await sim.start_transaction(CARD) == "Accepted"
    await _charge(rig, sim, 2)  # the last meter value at 10:20
    await rig.tick(300)
    sim.at += timedelta(seconds=300)
    assert await rig.send(sim.reconnect(rig.url)) == 3  # start, 2 meter values
    lost_id = sim.transaction_id
    assert lost_id is not None
    assert await rig.send(sim.reboot_losing_transaction()) == "Accepted"
    await _restart(hass, rig, sim)
    await rig.tick(LOST_AFTER_S)
    sim.at += timedelta(seconds=LOST_AFTER_S)
    assert await rig.send(sim.reconnect(rig.url)) == 0
    await rig.send(sim.status("Available"))
    (record,) = await _records(rig, 1)
    assert started == []
    assert Decimal(record["energy_wh"]) == Decimal(2 * STEP_WH)
    assert record["meter_start_wh"] == str(start_wh)
    assert record["started_at"] == "2026-11-30T10:00:00Z"
    assert record["ended_at"] == "2026-11-30T10:20:00Z"
    assert {"stop_missing_after_reboot", "estimated", "delivered_late"} <= set(record["flags"])
    assert record["authorization"]["person"] == "Alex"
    await _late_stop(rig, sim, lost_id)
    await rig.tick(60)
    await rig.send(sim.status("Available"))
    assert len(rig.records) == 1


async def test_a_second_connector_is_refused_and_never_merged(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """Two cars charge at once on connectors 1 and 2: connector 2's transaction is refused
    (Invalid, a repair issue names it), its meter values and stop change nothing, and
    connector 1's session has exactly connector 1's delta, across a restart."""
    await _ready(hass, rig, sim)
    await rig.send(sim.status("Preparing"))
    start_wh = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.status("Charging"))
    await rig.send(sim.status_of(2, "Preparing"))
    assert await rig.send(sim.start_on(2, CARD)) == "Invalid"
    assert rig.charger is not None
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"ocpp_connector_refused_{rig.charger.entry_id}_2"
    )
    assert issue is not None
    assert issue.translation_key == "ocpp_connector_refused"
    assert issue.translation_placeholders == {"name": rig.charger.title, "connector": "2"}
    assert rig.events[-1]["result"] == "accepted"  # connector 2's card was not announced
    await rig.send(sim.status_of(2, "Charging"))
    for _ in range(2):
        await rig.tick(600)
        await rig.send(sim.charge(600, 11_000))
        await rig.send(sim.charge_on(2, 600, 7_400))
        assert rig.state("status") == "charging"
    await _restart(hass, rig, sim)
    assert await rig.send(sim.reconnect(rig.url)) == 0
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 1)
    await rig.send(sim.charge_on(2, 600, 7_400))
    await rig.send(sim.stop_on(2))
    await rig.send(sim.status_of(2, "Available"))
    assert rig.records == []  # connector 2 leaving ends nothing
    assert rig.state("status") == "charging"
    await rig.send(sim.stop_transaction())
    await rig.send(sim.status("Finishing"))
    await rig.tick(30)
    await rig.send(sim.status("Available"))
    (record,) = await _records(rig, 1)
    # By hand: connector 1 charged three times 1833 Wh; connector 2's register (10 MWh
    # away) and its 3 x 1233 Wh never reach the session.
    assert Decimal(record["energy_wh"]) == Decimal(3 * STEP_WH) == sim.register_wh - start_wh
    assert record["meter_start_wh"] == str(start_wh)
    assert not {"meter_register_jump", "meter_reset", "meter_register_dropped"} & set(
        record["flags"]
    )


async def test_a_queued_start_is_not_announced_as_someone_at_the_charger(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """Two sessions charged offline, one with a card nobody added, one with Alex's, sent
    after Home Assistant restarted: the unknown card is answered Invalid without an
    unknown-card notification, both authorization events are marked late, and the records
    name whom the cards name."""
    await _ready(hass, rig, sim)
    manager = hass.data[AUTHORIZATION]
    await sim.go_offline()
    first_wh = sim.register_wh
    assert await sim.start_transaction(OTHER_CARD) == "Accepted"  # decided by the charger
    await _charge(rig, sim, 1)
    await sim.stop_transaction()
    await rig.tick(300)
    sim.at += timedelta(seconds=300)
    second_wh = sim.register_wh
    assert await sim.start_transaction(CARD) == "Accepted"
    await _charge(rig, sim, 2)
    await sim.stop_transaction()
    await _restart(hass, rig, sim)
    manager = hass.data[AUTHORIZATION]
    await rig.tick(3600)
    events_before = len(rig.events)
    assert await rig.send(sim.reconnect(rig.url)) == 7
    await rig.send(sim.status("Available"))
    assert sim.answers[-2:] == ["Invalid", "Accepted"]
    late = rig.events[events_before:]
    assert [(event["result"], event["late"]) for event in late] == [
        ("invalid", True),
        ("accepted", True),
    ]
    assert "unknown_card_id" not in late[0]
    assert manager.data.unknown == []
    notifications = hass.data.get("persistent_notification", {})
    assert not any(str(key).startswith(f"{DOMAIN}_unknown_card_") for key in notifications)
    unknown, known = await _records(rig, 2)
    assert Decimal(unknown["energy_wh"]) == Decimal(STEP_WH)
    assert unknown["meter_start_wh"] == str(first_wh)
    assert unknown["authorization"]["person"] is None
    assert unknown["authorization"]["tag_hash"] is not None
    assert Decimal(known["energy_wh"]) == Decimal(2 * STEP_WH)
    assert known["meter_start_wh"] == str(second_wh)
    assert known["authorization"]["person"] == "Alex"
    assert known["started_at"] == "2026-11-30T10:15:00Z"


# -- OCPP 2.0.1: the same rule for TransactionEvent ------------------------------------------

STEP_201_WH = Fraction(11_000 * 600, 3600)  # 1833 1/3 Wh; the station reports whole Wh


async def _station_charging(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station, steps: int
) -> int:
    """Accepted, plugged in, Alex's card, `steps` x 10 minutes at 11 kW; the register before."""
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION])
    await accept_201(rig, station)
    await rig.send(station.status("Available"))
    await rig.send(station.plug_in())
    before = station.register_wh
    assert await rig.send(station.start_transaction(CARD)) == "Accepted"
    await rig.send(station.start_charging(11_000))
    for _ in range(steps):
        await rig.tick(600)
        await rig.send(station.charge(600, 11_000))
    return before


async def _reboot_201(rig: Rig, station: GenericOcpp201Station) -> None:
    """A power cut: the station forgets its transaction, connects again and boots."""
    await station.disconnect()
    station.transaction_id = None
    station.charging_state = None
    await station.connect(rig.url)
    assert await rig.send(station.boot("PowerUp")) == "Accepted"


async def test_201_a_reboot_that_loses_the_transaction_ends_it_at_its_last_register(
    hass: HomeAssistant, rig: Rig
) -> None:
    """OCPP 2.0.1: the station reboots without the Ended event and shows the connector
    Available: the session ends at the last Updated event's register, flagged; the Ended
    event sent after all makes no second session."""
    station = GenericOcpp201Station("CS-TX", password=PASSWORD, serial="TX-201", at=T0)
    try:
        before = await _station_charging(hass, rig, station, 2)  # the last at 10:20
        last = station.events[-1]
        await _reboot_201(rig, station)
        await rig.send(station.status("Available"))
        assert rig.records == []  # its Ended event may still come
        await rig.tick(LOST_AFTER_S)
        station.at += timedelta(seconds=LOST_AFTER_S)
        await rig.send(station.heartbeat())
        (record,) = await _records(rig, 1)
        # By hand: 2 x 1833 1/3 Wh = 3666 2/3 Wh; the station's whole-Wh register moved
        # from 2345000 to 2348667.
        assert round(2 * STEP_201_WH) == 3667 == station.register_wh - before
        assert Decimal(record["energy_wh"]) == Decimal(3667)
        assert record["ended_at"] == "2026-11-30T10:20:00Z"
        assert {"stop_missing_after_reboot", "estimated"} <= set(record["flags"])
        ended = dataclasses.replace(
            last, event_type=TransactionEventEnumType.ended, seq_no=last.seq_no + 1
        )
        assert await rig.send(station.repeat(ended)) is not None
        await rig.send(station.status("Available"))
        assert len(rig.records) == 1
    finally:
        await station.disconnect()


async def test_201_a_new_transaction_ends_the_one_without_its_end(
    hass: HomeAssistant, rig: Rig
) -> None:
    """OCPP 2.0.1: after a reboot that lost it, the station starts a new transaction (the
    car still plugged in): the old one is recorded up to its last register, the new one is
    a session of its own; together they are the register's change."""
    station = GenericOcpp201Station("CS-TX", password=PASSWORD, serial="TX-201", at=T0)
    try:
        before = await _station_charging(hass, rig, station, 2)
        await _reboot_201(rig, station)
        await rig.send(station.status("Occupied"))
        assert await rig.send(station.start_transaction(CARD)) == "Accepted"
        (first,) = await _records(rig, 1)
        assert Decimal(first["energy_wh"]) == Decimal(3667)
        assert "stop_missing_new_transaction" in first["flags"]
        await rig.send(station.start_charging(11_000))
        for _ in range(2):
            await rig.tick(600)
            await rig.send(station.charge(600, 11_000))
        await rig.send(station.stop_transaction())
        await rig.send(station.unplug())
        first, second = await _records(rig, 2)
        # By hand: the register went from 2348667 to round(2345000 + 4 x 1833 1/3) =
        # 2352333, i.e. 3666 Wh in the second session.
        assert Decimal(second["energy_wh"]) == Decimal(3666)
        assert Decimal(first["energy_wh"]) + Decimal(second["energy_wh"]) == (
            station.register_wh - before
        )
    finally:
        await station.disconnect()


async def test_201_a_queued_start_is_not_announced_as_someone_at_the_charger(
    hass: HomeAssistant, rig: Rig
) -> None:
    """OCPP 2.0.1: a transaction with a token nobody added, charged offline and sent later:
    answered Unknown without an unknown-card notification, the event marked late; the
    session is recorded once from the station's registers."""
    station = GenericOcpp201Station("CS-TX", password=PASSWORD, serial="TX-201", at=T0)
    try:
        await _set_up_authorization(hass)
        await accept_201(rig, station)
        await rig.send(station.status("Available"))
        events_before = len(rig.events)
        await station.disconnect()
        before = station.register_wh
        assert await station.start_transaction(OTHER_CARD) == "Accepted"  # queued
        await station.start_charging(11_000)
        for _ in range(2):
            await rig.tick(600)
            await station.charge(600, 11_000)
        await station.stop_transaction()
        await rig.tick(1800)
        await station.connect(rig.url)
        await rig.send(station.deliver_queued())
        await rig.send(station.status("Available"))
        late = rig.events[events_before:]
        assert late != []
        assert all(event["late"] is True for event in late)
        assert all(event["result"] == "invalid" for event in late)
        assert all("unknown_card_id" not in event for event in late)
        assert hass.data[AUTHORIZATION].data.unknown == []
        (record,) = await _records(rig, 1)
        assert Decimal(record["energy_wh"]) == Decimal(3667) == station.register_wh - before
        assert record["authorization"]["person"] is None
        assert record["ended_at"] == "2026-11-30T10:20:00Z"
        assert "delivered_late" in record["flags"]
    finally:
        await station.disconnect()


def _evse2_event(
    station: GenericOcpp201Station, event_type: str, seq_no: int, register_wh: int
) -> v201call.TransactionEvent:
    """A TransactionEvent of a transaction on EVSE 2 (the simulator has one EVSE)."""
    return v201call.TransactionEvent(
        event_type=TransactionEventEnumType(event_type),
        timestamp=stamp(station.at),
        trigger_reason=TriggerReasonEnumType.authorized
        if event_type == "Started"
        else TriggerReasonEnumType.meter_value_periodic,
        seq_no=seq_no,
        transaction_info=TransactionType(transaction_id="evse-2-tx"),
        id_token=IdTokenType(id_token=CARD, type=IdTokenEnumType.iso14443)
        if event_type == "Started"
        else None,
        evse=EVSEType(id=2, connector_id=1) if event_type == "Started" else None,
        meter_value=[
            MeterValueType(
                timestamp=stamp(station.at),
                sampled_value=[SampledValueType(value=register_wh)],
            )
        ],
    )


async def test_201_a_second_evse_is_refused_and_never_merged(hass: HomeAssistant, rig: Rig) -> None:
    """OCPP 2.0.1: a transaction on EVSE 2 while EVSE 1 charges: its token is answered
    Invalid, a repair issue names it, its later events (without an EVSE) and its status
    change nothing; EVSE 1's session has exactly EVSE 1's delta."""
    station = GenericOcpp201Station("CS-TX", password=PASSWORD, serial="TX-201", at=T0)
    try:
        before = await _station_charging(hass, rig, station, 1)
        answer = await rig.send(station.send(_evse2_event(station, "Started", 0, 9_000_000)))
        assert answer.id_token_info["status"] == "Invalid"
        assert rig.charger is not None
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, f"ocpp_connector_refused_{rig.charger.entry_id}_2"
        )
        assert issue is not None
        assert issue.translation_placeholders == {"name": rig.charger.title, "connector": "2"}
        assert [event["result"] for event in rig.events] == ["accepted"]  # EVSE 1's card
        await rig.tick(600)
        await rig.send(station.charge(600, 11_000))
        await rig.send(station.send(_evse2_event(station, "Updated", 1, 9_001_233)))
        await rig.send(
            station.send(
                v201call.StatusNotification(
                    timestamp=stamp(station.at),
                    connector_status=ConnectorStatusEnumType.available,
                    evse_id=2,
                    connector_id=1,
                )
            )
        )
        await rig.send(station.send(_evse2_event(station, "Ended", 2, 9_002_466)))
        assert rig.records == []
        assert rig.state("status") == "charging"
        await rig.send(station.stop_transaction())
        await rig.send(station.unplug())
        (record,) = await _records(rig, 1)
        # By hand: 2 x 1833 1/3 Wh on EVSE 1, the register 2345000 -> 2348667.
        assert Decimal(record["energy_wh"]) == Decimal(3667) == station.register_wh - before
        assert not {"meter_register_jump", "meter_reset"} & set(record["flags"])
    finally:
        await station.disconnect()


async def test_a_new_transaction_after_a_late_stop_with_the_car_still_there_is_recorded(
    hass: HomeAssistant, rig: Rig, sim: GenericOcpp16Charger
) -> None:
    """The stop came late (queued while offline) and the car stayed plugged in; then a
    new card starts a new transaction live: that one is a session too, with its delta."""
    await _ready(hass, rig, sim)
    await rig.send(sim.status("Preparing"))
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 1)
    await sim.go_offline()
    await _charge(rig, sim, 1)
    await sim.stop_transaction()
    await rig.tick(60)
    sim.at += timedelta(seconds=60)
    assert await rig.send(sim.reconnect(rig.url)) == 2  # a meter value and the stop
    await rig.send(sim.status("Finishing"))  # the car is still there
    (first,) = await _records(rig, 1)
    assert Decimal(first["energy_wh"]) == Decimal(2 * STEP_WH)
    await rig.tick(60)
    sim.at += timedelta(seconds=60)
    second_wh = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.status("Charging"))
    await _charge(rig, sim, 2)
    await rig.send(sim.stop_transaction())
    await rig.send(sim.status("Finishing"))
    await rig.tick(30)
    await rig.send(sim.status("Available"))
    assert len(await _records(rig, 2)) == 2
    second = rig.records[1]
    assert second["meter_start_wh"] == str(second_wh)
    assert Decimal(second["energy_wh"]) == Decimal(2 * STEP_WH)
