"""What OCPP chargers report besides their meter, and signed values that come late.

A real Home Assistant runs the central system; simulated chargers (`ocpp` library clients
on a loopback websocket) send the current and power they offer the vehicle and the
vehicle's state of charge, an Alfen signs its end reading after StopTransaction, a double
Alfen has a meter and key per connector. The ledger runs as its own process where the
test says so. Every expected value is written here by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from homeassistant.auth.models import Credentials
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import CLIENT_ID, MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ev_charging_monitor.central_system.diagnostics import (
    async_central_system_diagnostics,
)
from custom_components.ev_charging_monitor.central_system.registry import OCPP_REGISTRY
from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.ledger_link.websocket_api import HISTORY
from ev_charging_ledger.evidence import classify
from ev_charging_ledger.records import session_facts
from simulators.ocpp201_charger import GenericOcpp201Station
from simulators.ocpp_alfen import AlfenEveOcpp
from simulators.ocpp_charger import GenericOcpp16Charger

from .ocpp_rig import PASSWORD, Rig, charge_one_session
from .test_authorization import CARD
from .test_ocpp201 import accept as accept_201
from .test_ocpp_ledger import SESSION_WH, START_WH, LedgerRun, verified

pytestmark = pytest.mark.no_watchdog

CURRENT_OFFERED = "ocpp_current_offered"
POWER_OFFERED = "ocpp_power_offered"
SOC = "ocpp_vehicle_soc"


@pytest.fixture
def ledger(
    hass: HomeAssistant,
    aiohttp_client: Callable[..., Awaitable[Any]],
    hass_admin_user: MockUser,
    hass_admin_credential: Credentials,
    tmp_path: Path,
) -> LedgerRun:
    return LedgerRun(hass, aiohttp_client, hass_admin_user, hass_admin_credential, tmp_path)


def _entity_id(rig: Rig, key: str) -> str | None:
    assert rig.charger is not None
    return er.async_get(rig.hass).async_get_entity_id(
        "sensor", DOMAIN, f"{rig.charger.unique_id}_{key}"
    )


def _state(rig: Rig, key: str) -> str:
    entity_id = _entity_id(rig, key)
    assert entity_id is not None, key
    state = rig.hass.states.get(entity_id)
    assert state is not None
    return state.state


# -- offered current, offered power, state of charge --------------------------------------


async def test_offered_values_and_soc_of_a_1_6_charger_and_garbage_among_them(
    hass: HomeAssistant, rig: Rig
) -> None:
    sim = GenericOcpp16Charger("SIG-16", password=PASSWORD)
    try:
        await rig.accept(sim)
        await rig.send(sim.status("Preparing"))
        # Nothing sent yet: no sensor that could only ever be unknown.
        assert [_entity_id(rig, key) for key in (CURRENT_OFFERED, POWER_OFFERED, SOC)] == [
            None,
            None,
            None,
        ]
        await rig.send(
            sim.signals(current_offered="16.0", power_offered="11.04", power_unit="kW", soc="57")
        )
        # By hand: 11.04 kW is 11040 W.
        assert _state(rig, CURRENT_OFFERED) == "16.0"
        assert _state(rig, POWER_OFFERED) == "11040.0"
        assert _state(rig, SOC) == "57.0"
        state = hass.states.get(_entity_id(rig, SOC) or "")
        assert state is not None
        assert state.attributes["unit_of_measurement"] == "%"
        assert state.attributes["device_class"] == "battery"

        # Garbage, NaN, out of range and huge: each skipped, confirmed, nothing changes.
        for garbage in ("NaN", "abc", "-5", "", "inf", "9" * 400):
            await rig.send(sim.signals(current_offered=garbage, power_offered=garbage, soc=garbage))
        await rig.send(sim.signals(current_offered="1e30", power_offered="-1", soc="100.5"))
        await rig.send(sim.signals(current_offered="5001", power_offered="5e6.1", soc="1e400"))
        assert _state(rig, CURRENT_OFFERED) == "16.0"
        assert _state(rig, POWER_OFFERED) == "11040.0"
        assert _state(rig, SOC) == "57.0"
        # A state of charge in a unit it cannot have is no state of charge.
        await rig.send(sim.signals(soc="58", soc_unit="Wh", power_offered="7", power_unit="Wh"))
        assert _state(rig, SOC) == "57.0"
        assert _state(rig, POWER_OFFERED) == "11040.0"
        await rig.send(sim.signals(soc="58.5"))
        assert _state(rig, SOC) == "58.5"

        # The vehicle leaves: its state of charge is no longer known.
        await rig.send(sim.status("Available"))
        assert _state(rig, SOC) == "unavailable"
        assert _state(rig, CURRENT_OFFERED) == "16.0"

        # Reloaded (as after a restart), the sensors are there at once.
        assert rig.charger is not None
        assert await hass.config_entries.async_reload(rig.charger.entry_id)
        await hass.async_block_till_done()
        rig.drive_monotonic()
        assert _entity_id(rig, SOC) is not None
        assert _state(rig, SOC) in ("unavailable", "unknown")
    finally:
        await sim.disconnect()


async def test_a_charger_that_never_sends_soc_gets_no_soc_sensor(
    hass: HomeAssistant, rig: Rig
) -> None:
    """Offered values per phase (L1..L3): the current is the per-phase limit, the power
    their sum."""
    sim = GenericOcpp16Charger("SIG-NOSOC", password=PASSWORD)
    try:
        await rig.accept(sim)
        await rig.send(sim.status("Preparing"))
        await rig.send(sim.signals(current_offered="10", power_offered="2300.1", per_phase=True))
        assert _state(rig, CURRENT_OFFERED) == "10.0"
        # By hand: 3 x 2300.1 W = 6900.3 W (not a float's neighbour of it).
        assert _state(rig, POWER_OFFERED) == "6900.3"
        assert await rig.send(sim.authorize(CARD)) == "Accepted"
        await rig.send(sim.start_transaction(CARD))
        await rig.tick(60)
        await rig.send(sim.charge(60, 6900))
        assert _entity_id(rig, SOC) is None
        assert not [
            entry
            for entry in er.async_entries_for_config_entry(
                er.async_get(hass), rig.charger.entry_id if rig.charger else ""
            )
            if entry.unique_id.endswith("_ocpp_vehicle_soc")
        ]
    finally:
        await sim.disconnect()


async def test_offered_values_and_soc_of_a_2_0_1_station(hass: HomeAssistant, rig: Rig) -> None:
    station = GenericOcpp201Station("SIG-201", password=PASSWORD, serial="SIG201-1")
    try:
        await accept_201(rig, station)
        await rig.send(station.plug_in())
        # Power.Offered 2208 x 10^1 W.
        await rig.send(
            station.signals(current_offered=32.0, power_offered=2208, power_multiplier=1, soc=64.5)
        )
        assert _state(rig, CURRENT_OFFERED) == "32.0"
        assert _state(rig, POWER_OFFERED) == "22080.0"
        assert _state(rig, SOC) == "64.5"
        # NaN (a JSON number as Python writes it), negative, huge, an absurd multiplier.
        await rig.send(station.signals(soc=float("nan"), current_offered=float("inf")))
        await rig.send(station.signals(soc=-5.0, current_offered=1e12))
        await rig.send(station.signals(soc=1e308, power_offered=1e300, power_multiplier=9))
        await rig.send(station.signals(power_offered=1, power_multiplier=400))
        assert _state(rig, CURRENT_OFFERED) == "32.0"
        assert _state(rig, POWER_OFFERED) == "22080.0"
        assert _state(rig, SOC) == "64.5"
        await rig.send(station.signals(soc=65))
        assert _state(rig, SOC) == "65.0"
    finally:
        await station.disconnect()


# -- signed end readings after StopTransaction ---------------------------------------------


async def _charge_until_stop(rig: Rig, sim: AlfenEveOcpp) -> None:
    """Plug in, charge 6 x 10 min at 11 kW, StopTransaction; the vehicle stays."""
    await rig.send(sim.status("Available"))
    await rig.send(sim.meter_values(0))
    await rig.tick(60)
    await rig.send(sim.status("Preparing"))
    assert await rig.send(sim.authorize(CARD)) == "Accepted"
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.status("Charging"))
    for _ in range(6):
        await rig.tick(600)
        await rig.send(sim.charge(600, 11_000))
    await rig.send(sim.stop_transaction())
    await rig.send(sim.status("Finishing"))


async def test_a_signed_end_reading_sent_after_the_session_joins_its_record(
    hass: HomeAssistant, rig: Rig, ledger: LedgerRun, caplog: pytest.LogCaptureFixture
) -> None:
    """Signed a few seconds after StopTransaction: once while the vehicle is still there,
    once after it left and the session was recorded (no ledger had it yet). Both reach
    the ledger as signed_ocmf, with the recorded energy unchanged."""
    sim = AlfenEveOcpp("ALFEN-LATE", password=PASSWORD, ocmf_via="after_stop")
    try:
        await rig.accept(sim)
        charger = hass.data[OCPP_REGISTRY].chargers["ALFEN-LATE"]
        await rig.until(lambda: charger.public_key is not None, "the key was read")
        # While the vehicle is still plugged in: it goes with the open session.
        await _charge_until_stop(rig, sim)
        await rig.tick(5)
        assert (await rig.send(sim.send_signed_end())).status == "Accepted"
        await rig.tick(25)
        await rig.send(sim.status("Available"))
        # After the vehicle left and the session was recorded without it.
        assert await charge_one_session(rig, sim) == SESSION_WH
        assert [len(record["signed_meter_values"]) for record in rig.records] == [1, 0]
        await rig.tick(5)
        assert (await rig.send(sim.send_signed_end())).status == "Accepted"
    finally:
        await sim.disconnect()
    plugged, unplugged = sim.sent_ocmf
    assert "joined its record" in caplog.text

    first, second = await ledger.sync()
    assert (first.evidence_class, second.evidence_class) == ("signed_ocmf", "signed_ocmf")
    for stored, ocmf, start in (
        (first, plugged, START_WH),
        (second, unplugged, START_WH + 6 * 1833),
    ):
        assert stored.record["signed_meter_values"] == [
            {
                "format": "OCMF",
                "data": ocmf,
                "public_key": sim.public_key_hex,
                "key_source": "charger",
            }
        ]
        # By hand: 6 steps of 1833 Wh from the register at the start; nothing changed.
        assert Decimal(stored.record["meter_start_wh"]) == Decimal(start)
        assert Decimal(stored.record["meter_end_wh"]) == Decimal(start + SESSION_WH)
        assert Decimal(stored.record["energy_wh"]) == Decimal(SESSION_WH)
        assert (Decimal(stored.ocmf["begin_wh"]), Decimal(stored.ocmf["end_wh"])) == (
            Decimal(start),
            Decimal(start + SESSION_WH),
        )
    assert await ledger.verify() == verified(2, 2)


async def test_a_late_end_reading_of_another_meter_is_refused_with_the_reason(
    hass: HomeAssistant, rig: Rig, ledger: LedgerRun, caplog: pytest.LogCaptureFixture
) -> None:
    sim = AlfenEveOcpp(
        "ALFEN-OTHER", password=PASSWORD, ocmf_via="after_stop", ocmf_meter_serial="EM340-OTHER"
    )
    try:
        await rig.accept(sim)
        assert await charge_one_session(rig, sim) == SESSION_WH
        answer = await rig.send(sim.send_signed_end())
    finally:
        await sim.disconnect()
    reason = "signed by meter 'EM340-OTHER', but the session was recorded with meter 'EM340-SIM'"
    assert (answer.status, answer.data) == ("Rejected", reason)
    (record,) = hass.data[HISTORY].after(0, 10)
    assert f"refused, they do not belong to it: {reason}" in caplog.text
    assert rig.central is not None
    diagnostics = await async_central_system_diagnostics(hass, rig.central)
    (kept,) = diagnostics["accepted"]["ALFEN-OTHER"]["late_signed_values"]
    assert (kept["session_id"], kept["reason"]) == (record["id"], reason)
    # Kept aside, not lost; the record and the ledger never saw it.
    assert (
        hass.data[OCPP_REGISTRY].chargers["ALFEN-OTHER"].signed.late[0]["data"]
        == (sim.sent_ocmf[0])
    )
    (stored,) = await ledger.sync()
    assert stored.record["signed_meter_values"] == []
    assert stored.evidence_class == "non_mid_meter"
    assert Decimal(stored.record["energy_wh"]) == Decimal(SESSION_WH)


async def test_a_late_end_reading_of_a_delivered_record_is_kept_and_logged(
    hass: HomeAssistant,
    rig: Rig,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
    hass_admin_credential: Credentials,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The ledger took the record before the reading came: the record does not change
    (the ledger keeps its first copy), the reading is kept and named in the log."""
    sim = AlfenEveOcpp("ALFEN-GONE", password=PASSWORD, ocmf_via="after_stop")
    try:
        await rig.accept(sim)
        assert await charge_one_session(rig, sim) == SESSION_WH
        # The ledger asks (its access token issued now: the clock moved on with the session).
        await hass.auth.async_link_user(hass_admin_user, hass_admin_credential)
        refresh = await hass.auth.async_create_refresh_token(
            hass_admin_user, CLIENT_ID, credential=hass_admin_credential
        )
        client = await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))
        try:
            await client.send_json_auto_id({"type": f"{DOMAIN}/sessions", "after_seq": 0})
            reply = await client.receive_json()
        finally:
            await client.close()
        (delivered,) = reply["result"]["sessions"]
        assert (await rig.send(sim.send_signed_end())).status == "Accepted"
    finally:
        await sim.disconnect()
    (record,) = hass.data[HISTORY].after(0, 10)
    assert record == delivered
    assert record["signed_meter_values"] == []
    assert f"for session {record['id']} after it was recorded; the ledger has received" in (
        caplog.text
    )
    (kept,) = hass.data[OCPP_REGISTRY].chargers["ALFEN-GONE"].signed.late
    assert (kept["session_id"], kept["data"]) == (record["id"], sim.sent_ocmf[0])


# -- public keys per connector -------------------------------------------------------------


async def test_a_double_chargers_keys_are_read_per_connector_and_its_own_stamps(
    hass: HomeAssistant, rig: Rig
) -> None:
    """A double charger publishes MeterPublicKey1 and MeterPublicKey2 (a meter each): both
    are read; its session on connector 1 is stamped with connector 1's key, not 2's. (A
    transaction on connector 2 is stamped with MeterPublicKey2: tests/ocpp/test_signals.py;
    the sessions follow connector 1 only.)"""
    sim = AlfenEveOcpp("ALFEN-DOUBLE", password=PASSWORD, connectors=2)
    try:
        await rig.accept(sim)
        charger = hass.data[OCPP_REGISTRY].chargers["ALFEN-DOUBLE"]
        await rig.until(lambda: 2 in charger.signed.keys.connectors, "both keys were read")
        second = sim.configuration()["MeterPublicKey2"]
        assert charger.signed.keys.connectors == {2: second}
        assert charger.public_key == sim.public_key_hex != second
        assert await charge_one_session(rig, sim) == SESSION_WH
    finally:
        await sim.disconnect()
    (record,) = rig.records
    assert record["signed_meter_values"] == [
        {
            "format": "OCMF",
            "data": sim.sent_ocmf[0],
            "public_key": sim.public_key_hex,
            "key_source": "charger",
        }
    ]
    evidence = classify(session_facts(record))
    assert evidence.evidence_class == "signed_ocmf"
    assert rig.central is not None
    diagnostics = await async_central_system_diagnostics(hass, rig.central)
    assert list(diagnostics["accepted"]["ALFEN-DOUBLE"]["connector_keys"]) == [2]
