"""OCPP 2.0.1 charging stations against the central system in a real Home Assistant.

The stations are `ocpp` library v201 clients (simulators/ocpp201_charger.py) on real
loopback websockets; nothing is mocked. The same rig as the 1.6 tests: time for the session
tracker moves with the freezer between transaction events. Expected energies come from
the simulated meter's own register and by hand, never from the integration.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import CoreState, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from ocpp.v201 import call
from ocpp.v201.datatypes import (
    MeterValueType,
    SampledValueType,
    TransactionType,
    UnitOfMeasureType,
)
from ocpp.v201.enums import MeasurandEnumType, TransactionEventEnumType, TriggerReasonEnumType

from custom_components.ev_charging_monitor.authorization.manager import (
    AUTHORIZATION,
    AuthorizationManager,
)
from custom_components.ev_charging_monitor.authorization.model import CredentialStatus
from custom_components.ev_charging_monitor.central_system.charge_point_201 import (
    CentralChargingStation,
)
from custom_components.ev_charging_monitor.central_system.registry import OCPP_REGISTRY
from custom_components.ev_charging_monitor.central_system.setup import EVENT_CHARGER_FAULT
from ev_charging_ledger.evidence import classify
from ev_charging_ledger.records import session_facts
from simulators.ocpp201_charger import GenericOcpp201Station

from .ocpp_rig import PASSWORD, Rig, self_signed
from .test_authorization import CARD, _add_card, _set_up_authorization


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# The model's wish list of quirks.json (the default entry), all of which it can sample.
MEASURANDS = (
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,"
    "Current.Offered,Power.Offered,SoC"
)


@pytest.fixture
async def station() -> AsyncIterator[GenericOcpp201Station]:
    sim = GenericOcpp201Station("CS-201", password=PASSWORD, serial="GEN201-7")
    yield sim
    await sim.disconnect()


async def accept(rig: Rig, sim: GenericOcpp201Station, password: str | None = PASSWORD) -> None:
    """The station connects and boots, the user accepts the discovery."""
    await sim.connect(rig.url)
    assert sim.protocol == "ocpp2.0.1"
    assert await sim.boot() == "Pending"
    await rig.hass.async_block_till_done()
    (flow,) = rig.discoveries()
    result = await rig.hass.config_entries.flow.async_configure(
        flow["flow_id"], {} if password is None else {"password": password}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await rig.hass.async_block_till_done()
    rig.charger = result["result"]
    rig.drive_monotonic()
    await sim.wait_accepted()  # the central system triggered a new BootNotification
    # Then it sets the meter variables and asks for the register.
    await rig.until(
        lambda: "MeterValues" in sim.triggered and not sim.busy, "the register asked for"
    )
    await rig.until(lambda: _known(rig.state("energy")), "the register shown")


def _known(state: str) -> bool:
    return state not in ("unknown", "unavailable")


def reading(rig: Rig) -> Any:
    """The live coordinator's last reading."""
    assert rig.charger is not None
    return rig.charger.runtime_data.live.data


async def test_boot_is_pending_until_the_discovery_is_accepted(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """2.0.1 boot: chargingStation's vendor, model, serial and firmware in the discovery."""
    await station.connect(rig.url)
    assert station.protocol == "ocpp2.0.1"
    assert await station.boot() == "Pending"
    assert station.heartbeat_interval == 60
    await hass.async_block_till_done()
    (flow,) = rig.discoveries()
    assert flow["context"]["title_placeholders"] == {"name": "Generic OCPP 2.0.1 station"}
    assert await station.boot() == "Pending"
    await hass.async_block_till_done()
    assert len(rig.discoveries()) == 1
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"password": PASSWORD})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    rig.charger = result["result"]
    assert result["title"] == "Generic OCPP 2.0.1 station"
    assert result["data"]["serial"] == "GEN201-7"
    assert result["data"]["firmware"] == "2.0.1-sim.4"
    await hass.async_block_till_done()
    await station.wait_accepted()
    assert station.registration == "Accepted"
    assert station.heartbeat_interval == 300
    assert await station.heartbeat()
    # Once accepted, the device model is set for what the sessions need, every minute,
    # and the register is asked for, so that it is known before the first plug-in.
    await rig.until(
        lambda: "MeterValues" in station.triggered and not station.busy,
        "the register asked for",
    )
    assert station.variables == {
        "SampledDataCtrlr.TxUpdatedMeasurands": MEASURANDS,
        "SampledDataCtrlr.TxUpdatedInterval": "60",
        # The registers at both ends of a transaction: what a session is measured by.
        "SampledDataCtrlr.TxStartedMeasurands": "Energy.Active.Import.Register",
        "SampledDataCtrlr.TxEndedMeasurands": "Energy.Active.Import.Register",
    }
    # The triggered MeterValues still has to reach the entity.
    await rig.until(lambda: _known(rig.state("energy")), "the register shown")
    assert station.triggered == ["BootNotification", "MeterValues"]
    assert Decimal(rig.state("energy")) == Decimal(station.register_wh) / 1000


async def test_the_subprotocol_picks_the_protocol(
    hass: HomeAssistant, rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """The charger's preferred protocol wins; one the central system lacks is refused."""
    both = GenericOcpp201Station("CS-BOTH")
    only_21 = GenericOcpp201Station("CS-21")
    try:
        await both.connect(rig.url, protocols=("ocpp2.0.1", "ocpp1.6"))
        assert both.protocol == "ocpp2.0.1"
        assert await both.boot() == "Pending"
        registry = hass.data[OCPP_REGISTRY]
        assert isinstance(registry.connections["CS-BOTH"], CentralChargingStation)
        await only_21.connect(rig.url, protocols=("ocpp2.1",))
        assert only_21._ws is not None
        message = await only_21._ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert "CS-21" not in registry.connections
        assert "CS-21 refused: it offered the subprotocols ocpp2.1" in caplog.text
    finally:
        await both.disconnect()
        await only_21.disconnect()
    assert len(rig.discoveries()) == 1


async def test_wrong_password_is_refused(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Security profile 1 holds for a 2.0.1 station as for 1.6."""
    await accept(rig, station)
    await station.disconnect()
    station.password = "guessed-password-123"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await station.connect(rig.url)
    assert refused.value.status == 401
    station.password = None
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await station.connect(rig.url)
    assert refused.value.status == 401
    station.password = PASSWORD
    await station.connect(rig.url)
    assert await station.boot() == "Accepted"


async def test_unknown_card_is_refused_at_authorize_and_at_the_start(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Default deny in 2.0.1 statuses: Unknown, Blocked, Expired; a refused start ends."""
    await _set_up_authorization(hass)
    await accept(rig, station)
    await rig.send(station.status("Available"))
    await rig.send(station.plug_in())
    assert await rig.send(station.authorize("04A1B2C3D4")) == "Unknown"
    (event,) = rig.events
    assert event["result"] == "invalid"
    assert event["unknown_card_id"] is not None
    manager = hass.data[AUTHORIZATION]
    _add_card(manager, "04FFFFFFFF", person="Sam", status=CredentialStatus.BLOCKED)
    assert await rig.send(station.authorize("04FFFFFFFF")) == "Blocked"
    _add_card(manager, "04EEEEEEEE", person="Kim", valid_until=dt_util.utcnow())
    assert await rig.send(station.authorize("04EEEEEEEE")) == "Expired"
    # A station that starts on its own (local pre-authorization) asks with the Started
    # event; the answer Unknown makes it end the transaction (DeAuthorized).
    assert await rig.send(station.start_transaction("04A1B2C3D4")) == "Unknown"
    assert station.transaction_id is None
    ended = station.events[-1]
    assert (ended.event_type, ended.transaction_info.stopped_reason) == ("Ended", "DeAuthorized")
    await rig.tick(60)
    await rig.send(station.unplug())
    assert [e["result"] for e in rig.events] == ["invalid", "blocked", "expired", "invalid"]
    assert hass.data[OCPP_REGISTRY].book.open == {}
    # The plug cycle is recorded, with nothing charged and nobody's name on it.
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == 0
    assert record["authorization"]["person"] is None


async def charge_one_session(
    rig: Rig, sim: GenericOcpp201Station, *, seconds: int = 600, power_w: int = 11_000
) -> int:
    """Plug in, card, 6 periodic updates, stop, unplug; the simulated meter's delta."""
    await rig.send(sim.status("Available"))
    await rig.tick(60)
    await rig.send(sim.plug_in())
    assert await rig.send(sim.authorize(CARD)) == "Accepted"
    before = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.start_charging(power_w))
    for _ in range(6):
        await rig.tick(seconds)
        await rig.send(sim.charge(seconds, power_w))
        assert rig.state("power") == f"{power_w:.1f}"
        assert rig.state("status") == "charging"
    # A heartbeat reading between two updates: the entities keep the last register.
    await rig.tick(45)
    assert Decimal(rig.state("energy")) == Decimal(sim.register_wh) / 1000
    await rig.send(sim.stop_transaction())
    await rig.tick(30)
    await rig.send(sim.unplug())
    return sim.register_wh - before


@pytest.mark.parametrize(
    ("multiplier", "seconds", "power_w", "by_hand_wh"),
    [
        # 6 x 600 s at 11 kW is exactly 11 kWh.
        (0, 600, 11_000, 11_000),
        # 6 x 700 s at 7.4 kW is 8633.33 Wh: the meter shows 2353633 after 2345000.
        (3, 700, 7_400, 8_633),
    ],
    ids=["Wh", "kWh-multiplier"],
)
async def test_known_card_charges_and_the_session_has_the_meter_delta(
    hass: HomeAssistant,
    rig: Rig,
    station: GenericOcpp201Station,
    multiplier: int,
    seconds: int,
    power_w: int,
    by_hand_wh: int,
) -> None:
    """One session, attributed to the card's person, with the simulated meter's delta."""
    station.energy_multiplier = multiplier
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION])
    await accept(rig, station)
    delta = await charge_one_session(rig, station, seconds=seconds, power_w=power_w)
    assert delta == by_hand_wh
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(delta)
    assert record["authorization"]["person"] == "Alex"
    assert record["charger"]["serial"] == "GEN201-7"
    assert [event["result"] for event in rig.events] == ["accepted"]
    assert [event.seq_no for event in station.events] == list(range(9))
    assert hass.data[OCPP_REGISTRY].book.open == {}


async def test_a_transaction_begun_by_the_cable_gets_its_card_later(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """TxStartPoint EVConnected: Started without a card, Updated names it; one session."""
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION])
    await accept(rig, station)
    await rig.send(station.status("Available"))
    await rig.tick(60)
    before = station.register_wh
    await rig.send(station.plug_in(start=True))
    started = station.events[-1]
    assert (started.trigger_reason, started.id_token) == ("CablePluggedIn", None)
    assert await rig.send(station.present_card(CARD)) == "Accepted"
    assert station.answers == ["Accepted", "Accepted"]  # Authorize, then the Updated event
    assert hass.data[OCPP_REGISTRY].book.open["CS-201"].id_tag == CARD
    await rig.send(station.start_charging(11_000))
    for _ in range(3):
        await rig.tick(600)
        await rig.send(station.charge(600, 11_000))
    await rig.send(station.stop_transaction())
    await rig.tick(30)
    await rig.send(station.unplug())
    # By hand: 3 x 600 s at 11 kW = 5500 Wh.
    assert station.register_wh - before == 5_500
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(5_500)
    assert record["authorization"]["person"] == "Alex"
    assert [event["result"] for event in rig.events] == ["accepted"]


async def test_a_pending_station_is_answered_but_charges_nothing(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Before it is accepted, every event is confirmed (or it retries for ever)."""
    await station.connect(rig.url)
    assert await station.boot() == "Pending"
    assert await rig.send(station.authorize(CARD)) == "Invalid"
    await rig.send(station.plug_in())
    assert await rig.send(station.start_transaction(CARD)) == "Invalid"
    assert station.transaction_id is None  # refused: it ended the transaction itself
    assert [event.event_type for event in station.events] == ["Started", "Ended"]
    await rig.send(station.problem("E-17"))
    await rig.send(
        station.send(call.SecurityEventNotification(type="StartupOfTheDevice", timestamp="x"))
    )
    assert rig.records == []
    assert rig.events == []  # no charger entry, so nobody was asked
    assert len(rig.discoveries()) == 1
    assert hass.data[OCPP_REGISTRY].book.open == {}


async def test_a_refused_meter_variable_is_logged_and_charging_goes_on(
    hass: HomeAssistant, rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """A station without SampledDataCtrlr answers UnknownComponent: logged, not fatal."""

    class Minimal(GenericOcpp201Station):
        components = frozenset()

    sim = Minimal("CS-MIN", password=PASSWORD)
    try:
        await accept(rig, sim)
        assert sim.variables == {}
        assert "CS-MIN answered UnknownComponent to SampledDataCtrlr.TxUpdatedInterval" in (
            caplog.text
        )
        delta = await charge_one_session(rig, sim)
    finally:
        await sim.disconnect()
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(delta) == Decimal(11_000)


async def test_per_phase_values_reach_the_reading(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Current.Import per phase (unit A) becomes current_l1..l3."""
    await accept(rig, station)
    await rig.send(station.plug_in())
    await rig.send(station.start_transaction(CARD))
    await rig.send(station.start_charging(11_040))
    await rig.tick(60)
    await rig.send(station.charge(60, 11_040))
    data = reading(rig)
    # By hand: 11040 W / 230 V / 3 phases = 16 A each.
    assert (data.current_l1, data.current_l2, data.current_l3) == (16.0, 16.0, 16.0)
    assert data.power == 11_040.0


async def test_repeated_transaction_events_change_nothing(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Each event sent twice (its confirmation lost), an old one late: one exact session."""
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION])
    await accept(rig, station)
    await rig.send(station.status("Available"))
    await rig.tick(60)
    await rig.send(station.plug_in())
    before = station.register_wh
    assert await rig.send(station.start_transaction(CARD)) == "Accepted"
    started = station.events[-1]
    again = await rig.send(station.repeat(started))
    assert again.id_token_info["status"] == "Accepted"
    await rig.send(station.start_charging(11_000))
    for _ in range(3):
        await rig.tick(600)
        await rig.send(station.charge(600, 11_000))
        await rig.send(station.repeat(station.events[-1]))
    # The first periodic update arrives again after newer ones: the register stays.
    await rig.send(station.repeat(station.events[2]))
    await rig.tick(30)
    assert Decimal(rig.state("energy")) == Decimal(station.register_wh) / 1000
    await rig.send(station.stop_transaction())
    await rig.send(station.repeat(station.events[-1]))
    await rig.send(station.repeat(started))  # even the start, after the end
    await rig.tick(30)
    await rig.send(station.unplug())
    # By hand: 3 x 600 s at 11 kW = 5500 Wh.
    assert station.register_wh - before == 5_500
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(5_500)
    assert hass.data[OCPP_REGISTRY].book.open == {}


async def _start_charging(rig: Rig, sim: GenericOcpp201Station, power_w: int) -> int:
    """Plug in, card, charge 2 x 10 min; the register before."""
    await _set_up_authorization(rig.hass)
    _add_card(rig.hass.data[AUTHORIZATION])
    await accept(rig, sim)
    await rig.send(sim.status("Available"))
    await rig.tick(60)
    await rig.send(sim.plug_in())
    before = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.start_charging(power_w))
    for _ in range(2):
        await rig.tick(600)
        await rig.send(sim.charge(600, power_w))
    return before


async def _finish(rig: Rig, sim: GenericOcpp201Station, power_w: int) -> None:
    for _ in range(2):
        await rig.tick(600)
        await rig.send(sim.charge(600, power_w))
    await rig.send(sim.stop_transaction())
    await rig.tick(30)
    await rig.send(sim.unplug())


async def test_garbage_values_and_a_stranger_transaction_leave_the_session_exact(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """NaN, infinity after scaling, a unit that does not fit; the end of an unknown
    transaction while one runs: each confirmed, none changes the session."""
    before = await _start_charging(rig, station, 11_000)
    garbage = [
        SampledValueType(value=float("nan")),
        SampledValueType(value=float("inf"), measurand=MeasurandEnumType.power_active_import),
        SampledValueType(value=1e308, unit_of_measure=UnitOfMeasureType(unit="kWh", multiplier=9)),
        SampledValueType(value=5, unit_of_measure=UnitOfMeasureType(unit="varh")),
    ]
    for sampled in garbage:
        confirmation = await rig.send(
            station.updated(
                [MeterValueType(timestamp="2026-03-01T20:21:00Z", sampled_value=[sampled])]
            )
        )
        assert confirmation is not None  # a confirmation, not a CallError
    stranger = call.TransactionEvent(
        event_type=TransactionEventEnumType.ended,
        timestamp="2026-03-01T20:21:00Z",
        trigger_reason=TriggerReasonEnumType.ev_departed,
        seq_no=0,
        transaction_info=TransactionType(transaction_id="never-started"),
    )
    assert await rig.send(station.send(stranger)) is not None
    assert hass.data[OCPP_REGISTRY].book.open["CS-201"].station_transaction_id == (
        station.transaction_id
    )
    await rig.tick(30)
    assert Decimal(rig.state("energy")) == Decimal(station.register_wh) / 1000
    assert rig.state("power") == "11000.0"
    await _finish(rig, station, 11_000)
    # By hand: 4 x 600 s at 11 kW = 7333.33 Wh; the 1 Wh meter shows 7333 more.
    assert station.register_wh - before == 7_333
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(7_333)


async def test_reconnection_mid_transaction_continues_it(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """The connection drops while charging and comes back: the same transaction goes on."""
    station.energy_multiplier = 3
    before = await _start_charging(rig, station, 7_400)
    transaction = station.transaction_id
    await station.disconnect()
    await rig.tick(90)
    assert hass.data[OCPP_REGISTRY].book.open["CS-201"].station_transaction_id == transaction
    # Back without a reboot: it goes on as before.
    await station.connect(rig.url)
    await _finish(rig, station, 7_400)
    assert station.transaction_id is None
    assert {event.transaction_info.transaction_id for event in station.events} == {transaction}
    # By hand: 4 x 600 s at 7.4 kW = 4933.33 Wh; the 1 Wh meter shows 4933 more.
    assert station.register_wh - before == 4_933
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(4_933)


async def test_events_queued_while_offline_arrive_late_and_count(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Charging goes on offline; the queued events arrive marked offline, in order, and
    count at their own times: the whole meter delta, no register jump."""
    station.energy_multiplier = 3
    station.at = dt_util.utcnow()  # both clocks together, so the station's times are valid
    before = await _start_charging(rig, station, 7_400)
    await station.disconnect()
    await rig.settle()
    for _ in range(2):
        await rig.tick(600)
        await station.charge(600, 7_400)
    assert station.queued == 2
    assert all(event.offline for event in station.events[-2:])
    await station.connect(rig.url)
    await rig.send(station.deliver_queued())
    await _finish(rig, station, 7_400)
    # By hand: 6 x 600 s at 7.4 kW = 7400 Wh.
    assert station.register_wh - before == 7_400
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(7_400)
    assert "meter_register_jump" not in record["flags"]
    assert "delivered_late" in record["flags"]


async def _offline_session(rig: Rig, station: GenericOcpp201Station) -> tuple[datetime, int]:
    """Accepted and idle, then offline: card, 3 x 10 min at 11 kW and the end all queued.

    Returns when the transaction started (the station's time) and the register before.
    """
    start = dt_util.utcnow().replace(microsecond=0)
    station.at = start  # both clocks together, so the station's times are valid
    await _set_up_authorization(rig.hass)
    _add_card(rig.hass.data[AUTHORIZATION])
    await accept(rig, station)
    await rig.send(station.status("Available"))
    await station.disconnect()
    await rig.tick(300)
    station.at = start = start + timedelta(seconds=300)
    before = station.register_wh
    assert await station.start_transaction(CARD) == "Accepted"  # queued, not answered
    await station.start_charging(11_000)
    for _ in range(3):
        await rig.tick(600)
        await station.charge(600, 11_000)
    await station.stop_transaction()
    await rig.tick(900)
    assert station.queued == 6  # Started, Updated (charging), 3 periodic, Ended
    assert all(event.offline for event in station.events)
    assert rig.records == []
    return start, before


async def test_a_session_entirely_offline_is_one_session_at_the_station_times(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Started, Updated and Ended all queued: on reconnect exactly one session, with the
    simulated meter's delta, at the times the station stamped."""
    start, before = await _offline_session(rig, station)
    await station.connect(rig.url)
    await rig.send(station.deliver_queued())
    await rig.send(station.unplug())
    await rig.tick(60)
    # By hand: 3 x 600 s at 11 kW = 5500 Wh.
    assert station.register_wh - before == 5_500
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(station.register_wh - before)
    assert record["meter_start_wh"] == str(before)
    # By hand: started when it went offline plus 5 minutes, ended 30 minutes later.
    assert record["started_at"] == _z(start)
    assert record["ended_at"] == _z(start + timedelta(minutes=30))
    assert record["charging_seconds"] == 1800
    assert record["authorization"]["person"] == "Alex"
    assert "delivered_late" in record["flags"]
    assert "meter_register_jump" not in record["flags"]
    assert hass.data[OCPP_REGISTRY].book.open == {}


async def test_a_queued_event_sent_twice_makes_no_duplicate(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Queued events whose confirmations were lost come again (same seqNo), the Ended too,
    before and after the record: one session, the delta counted once."""
    _, before = await _offline_session(rig, station)
    await station.connect(rig.url)
    queued = list(station.events)
    for event in queued[:-1]:  # each one arrives twice while the transaction is open
        await rig.send(station.repeat(event))
        await rig.send(station.repeat(event))
    await rig.send(station.repeat(queued[2]))  # an Updated again after newer ones
    assert rig.records == []
    await rig.send(station.deliver_queued())  # the whole queue once more, the Ended last
    await rig.send(station.repeat(queued[-1]))  # the Ended, after it was recorded
    await rig.send(station.unplug())
    await rig.tick(60)
    (record,) = rig.records
    # By hand: 3 x 600 s at 11 kW = 5500 Wh, once.
    assert station.register_wh - before == 5_500
    assert Decimal(record["energy_wh"]) == Decimal(5_500)
    assert hass.data[OCPP_REGISTRY].book.open == {}


async def test_home_assistant_restarted_mid_transaction_continues_it(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """The station's transaction id is kept across a restart: one session, whole delta."""
    before = await _start_charging(rig, station, 11_000)
    assert rig.charger is not None
    assert rig.central is not None
    transaction = station.transaction_id
    assert await hass.config_entries.async_unload(rig.charger.entry_id)
    assert await hass.config_entries.async_unload(rig.central.entry_id)
    await station.disconnect()
    del hass.data[OCPP_REGISTRY]
    hass.data[AUTHORIZATION] = await AuthorizationManager.async_load(hass)
    await rig.tick(120)
    assert await hass.config_entries.async_setup(rig.central.entry_id)
    assert await hass.config_entries.async_setup(rig.charger.entry_id)
    await hass.async_block_till_done()
    rig.drive_monotonic()
    book = hass.data[OCPP_REGISTRY].book
    assert book.open["CS-201"].station_transaction_id == transaction
    await station.connect(rig.url)
    # The seqNos taken before the restart still count: a repeat of one changes nothing.
    await rig.send(station.repeat(station.events[2]))
    await _finish(rig, station, 11_000)
    # By hand: 4 x 600 s at 11 kW = 7333.33 Wh; the 1 Wh meter shows 7333 more.
    assert station.register_wh - before == 7_333
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(7_333)
    assert record["authorization"]["person"] == "Alex"


async def test_security_profile_2_over_tls(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """wss:// with a certificate: a 2.0.1 station is discovered and accepted over TLS."""
    certificate, key, trusted = await hass.async_add_executor_job(self_signed, tmp_path)
    rig = Rig(hass, freezer)
    await rig.set_up_central_system(certificate=certificate, private_key=key)
    assert rig.central is not None
    rig.url = f"wss://127.0.0.1:{rig.port}"
    sim = GenericOcpp201Station("CS-TLS", password=PASSWORD, ssl_context=trusted)
    try:
        await accept(rig, sim)
        assert sim.registration == "Accepted"
        await sim.disconnect()
        sim.password = "guessed-password-123"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await sim.connect(rig.url)
        assert refused.value.status == 401
    finally:
        await sim.disconnect()
    await hass.config_entries.async_unload(rig.central.entry_id)


async def test_signed_meter_values_reach_the_ledger_as_signed_ocmf(
    hass: HomeAssistant, rig: Rig
) -> None:
    """signedMeterValue (base64 OCMF, the OCA key text): the meter's record arrives as
    signed_ocmf, and the ledger verifies it against the simulated meter's registers."""
    sim = GenericOcpp201Station(
        "CS-SIGNED", password=PASSWORD, signing_key=ec.generate_private_key(ec.SECP256R1())
    )
    try:
        await accept(rig, sim)
        delta = await charge_one_session(rig, sim)
    finally:
        await sim.disconnect()
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(delta) == Decimal(11_000)
    (sent,) = sim.sent_ocmf  # begin and end in one record, with the Ended event
    (signed,) = record["signed_meter_values"]
    # The base64 the station sent, unwrapped by hand: the OCMF text, and the key as DER hex.
    assert base64.b64decode(sim.public_key_text).decode().startswith("oca:base16:asn1:")
    key_hex = base64.b64decode(sim.public_key_text).decode().removeprefix("oca:base16:asn1:")
    assert (signed["format"], signed["data"], signed["public_key"]) == ("OCMF", sent, key_hex)
    evidence = classify(session_facts(record))
    assert evidence.evidence_class == "signed_ocmf"
    assert evidence.ocmf is not None
    assert evidence.ocmf["problems"] == []
    signed_wh = (Decimal(evidence.ocmf["begin_wh"]), Decimal(evidence.ocmf["end_wh"]))
    assert signed_wh == (Decimal(2_345_000), Decimal(2_345_000 + 11_000))


async def test_a_tampered_signed_value_is_rejected_with_a_reason(
    hass: HomeAssistant, rig: Rig
) -> None:
    """A changed reading inside the signed record: kept as sent, the ledger says why not."""
    sim = GenericOcpp201Station(
        "CS-TAMPER", password=PASSWORD, signing_key=ec.generate_private_key(ec.SECP256R1())
    )
    genuine = sim.ocmf
    sim.ocmf = lambda context: genuine(context).replace('"RV":', '"RV":1', 1)  # type: ignore[method-assign]
    try:
        await accept(rig, sim)
        await charge_one_session(rig, sim)
    finally:
        await sim.disconnect()
    (record,) = rig.records
    (signed,) = record["signed_meter_values"]
    assert signed["data"] == sim.sent_ocmf[-1]
    evidence = classify(session_facts(record))
    assert evidence.evidence_class != "signed_ocmf"
    assert evidence.ocmf is not None
    assert any("signature" in problem for problem in evidence.ocmf["problems"])


async def test_faults_from_status_and_notify_event(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """A Problem event is a fault with its techCode; Faulted alone a generic one."""
    faults: list[dict[str, Any]] = []
    hass.bus.async_listen(EVENT_CHARGER_FAULT, callback(lambda e: faults.append(e.data)))
    await accept(rig, station)
    await rig.send(station.status("Available"))
    await rig.send(station.problem("RCD-TRIP"))
    assert rig.state("ocpp_error_code") == "other_error"
    assert rig.state("ocpp_vendor_error_code") == "RCD-TRIP"
    # The connector faulted for that problem: the same fault, not a new one.
    await rig.send(station.status("Faulted"))
    await rig.send(station.status("Faulted"))
    assert rig.state("status") == "fault"
    await rig.send(station.problem("RCD-TRIP", active=False))
    await rig.send(station.status("Available"))
    assert rig.state("status") == "no_vehicle"
    assert rig.state("ocpp_error_code") == "no_error"
    await rig.send(station.status("Faulted"))
    assert [(f["error_code"], f["status"], f["info"], f["vendor_error_code"]) for f in faults] == [
        ("OtherError", "Available", "EVSE", "RCD-TRIP"),
        ("OtherError", "Faulted", None, None),
    ]


async def test_a_queue_sent_while_home_assistant_starts_waits_for_its_station(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """At startup the central system may listen before the station's entry is set up; the
    queue it sends right then is answered once the entry is there, and counts."""
    _, before = await _offline_session(rig, station)
    assert rig.charger is not None
    assert rig.central is not None
    assert await hass.config_entries.async_unload(rig.charger.entry_id)
    assert await hass.config_entries.async_unload(rig.central.entry_id)
    del hass.data[OCPP_REGISTRY]
    hass.set_state(CoreState.starting)
    assert await hass.config_entries.async_setup(rig.central.entry_id)
    await station.connect(rig.url)
    replay = asyncio.create_task(station.deliver_queued())
    for _ in range(20):  # time enough for the whole queue, were it answered at once
        await rig.settle()
    assert not replay.done()
    assert rig.records == []
    assert await hass.config_entries.async_setup(rig.charger.entry_id)
    rig.drive_monotonic()
    await replay
    hass.set_state(CoreState.running)
    await rig.send(station.unplug())
    await rig.tick(60)
    (record,) = rig.records
    # By hand: 3 x 600 s at 11 kW = 5500 Wh.
    assert station.register_wh - before == 5_500
    assert Decimal(record["energy_wh"]) == Decimal(5_500)
    assert "delivered_late" in record["flags"]
