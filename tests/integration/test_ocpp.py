"""OCPP 1.6J chargers against the central system in a real Home Assistant.

The chargers are `ocpp` library clients (simulators/ocpp_charger.py) on real loopback
websockets; nothing is mocked. Time for the session tracker is moved with the freezer
between meter values, so energy and durations are plausible.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    ConfigEntryState,
)
from homeassistant.const import CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ev_charging_monitor.authorization.manager import (
    AUTHORIZATION,
    AuthorizationManager,
)
from custom_components.ev_charging_monitor.authorization.model import CredentialStatus
from custom_components.ev_charging_monitor.central_system.registry import OCPP_REGISTRY
from custom_components.ev_charging_monitor.central_system.setup import EVENT_CHARGER_FAULT
from custom_components.ev_charging_monitor.const import DOMAIN
from ev_charging_ledger.evidence import classify
from ev_charging_ledger.records import session_facts
from simulators.ocpp_alfen import AlfenEveOcpp
from simulators.ocpp_charger import GenericOcpp16Charger

from .ocpp_rig import PASSWORD, Rig, charge_one_session, self_signed
from .test_authorization import CARD, _add_card, _set_up_authorization


@pytest.fixture
async def generic() -> AsyncIterator[GenericOcpp16Charger]:
    sim = GenericOcpp16Charger("CP-0001", password=PASSWORD, serial="GEN-42")
    yield sim
    await sim.disconnect()


async def test_boot_is_pending_until_the_discovery_is_accepted(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """Unknown id -> Pending and a discovery with vendor, model and serial -> Accepted."""
    await generic.connect(rig.url)
    assert await generic.boot() == "Pending"
    assert generic.heartbeat_interval == 60
    await hass.async_block_till_done()
    (flow,) = rig.discoveries()
    assert flow["context"]["title_placeholders"] == {"name": "Generic OCPP 1.6J wallbox"}
    # A second boot while the user has not decided yet: still pending, still one flow.
    assert await generic.boot() == "Pending"
    await hass.async_block_till_done()
    assert len(rig.discoveries()) == 1
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"password": PASSWORD})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Generic OCPP 1.6J wallbox"
    assert result["data"]["serial"] == "GEN-42"
    await hass.async_block_till_done()
    await generic.wait_accepted()
    assert generic.registration == "Accepted"
    assert generic.heartbeat_interval == 300
    # Once accepted, it is asked for what the sessions need, every minute.
    # ChangeConfiguration goes out after the acceptance's own messages.
    await rig.until(lambda: len(generic.changed) == 2, "the meter configuration")
    # The generic model's wish list (quirks.json default: evcc's); this charger takes it all.
    measurands = (
        "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,"
        "Current.Offered,Power.Offered,SoC"
    )
    assert generic.changed == {
        "MeterValuesSampledData": measurands,
        "MeterValueSampleInterval": "60",
    }


async def test_wrong_password_is_refused(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """Security profile 1: once accepted with a password, only that password connects."""
    await rig.accept(generic)
    await generic.disconnect()
    generic.password = "guessed-password-123"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await generic.connect(rig.url)
    assert refused.value.status == 401
    generic.password = None
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await generic.connect(rig.url)
    assert refused.value.status == 401
    generic.password = PASSWORD
    await generic.connect(rig.url)
    assert await generic.boot() == "Accepted"


async def test_unknown_card_is_refused_at_authorize(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """Default deny: a card nobody added is Invalid, and announced as unknown."""
    await _set_up_authorization(hass)
    await rig.accept(generic)
    await rig.send(generic.status("Preparing"))
    assert await rig.send(generic.authorize("04A1B2C3D4")) == "Invalid"
    (event,) = rig.events
    assert event["result"] == "invalid"
    assert event["unknown_card_id"] is not None
    # A blocked card is Blocked, one past its validity Expired.
    manager = hass.data[AUTHORIZATION]
    _add_card(manager, "04FFFFFFFF", person="Sam", status=CredentialStatus.BLOCKED)
    assert await rig.send(generic.authorize("04FFFFFFFF")) == "Blocked"
    _add_card(manager, "04EEEEEEEE", person="Kim", valid_until=dt_util.utcnow())
    assert await rig.send(generic.authorize("04EEEEEEEE")) == "Expired"
    assert [event["result"] for event in rig.events] == ["invalid", "blocked", "expired"]


async def test_known_card_charges_and_the_session_has_the_meter_delta(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """One session, attributed to the card's person, with the simulated meter's delta."""
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION])
    await rig.accept(generic)
    delta = await charge_one_session(rig, generic)
    # By hand: 600 s at 11 kW is 1833.3 Wh, which the simulated meter rounds to 1833.
    assert delta == 6 * 1833
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(delta)
    assert record["authorization"]["person"] == "Alex"
    assert [event["result"] for event in rig.events] == ["accepted"]


async def test_alfen_reports_in_kwh_with_its_idle_transaction_id(
    hass: HomeAssistant, rig: Rig
) -> None:
    """kWh registers are scaled; MeterValues with transaction id 2^63-1 are confirmed."""
    sim = AlfenEveOcpp("ALFEN-1", password=PASSWORD)
    try:
        await _set_up_authorization(hass)
        _add_card(hass.data[AUTHORIZATION])
        await rig.accept(sim)
        delta = await charge_one_session(rig, sim)
    finally:
        await sim.disconnect()
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(delta) == Decimal(6 * 1833)
    # The meter the boot message named, not the charger, is the session's meter.
    assert record["meter"]["serial"] == "EM340-SIM"
    assert record["charger"]["serial"] == "ACE0123456"
    # The signed record of the stop, verbatim, with the key read from the charger.
    (signed,) = record["signed_meter_values"]
    assert signed == {
        "format": "OCMF",
        "data": sim.sent_ocmf[-1],
        "public_key": sim.public_key_hex,
        "key_source": "charger",
    }
    # The ledger's own classification of the record Home Assistant sent.
    evidence = classify(session_facts(record))
    assert evidence.evidence_class == "signed_ocmf"
    assert evidence.ocmf is not None
    assert evidence.ocmf["problems"] == []
    signed_wh = (Decimal(evidence.ocmf["begin_wh"]), Decimal(evidence.ocmf["end_wh"]))
    assert signed_wh == (Decimal(1_234_000), Decimal(1_234_000 + 6 * 1833))


async def test_a_tampered_ocmf_value_fails_verification(hass: HomeAssistant, rig: Rig) -> None:
    """A changed reading in the signed data is stored as sent, and the ledger rejects it."""
    sim = AlfenEveOcpp("ALFEN-2", password=PASSWORD)
    genuine = sim.ocmf
    sim.ocmf = lambda: genuine().replace('"RV":', '"RV":1', 1)  # type: ignore[method-assign]
    try:
        # Authorization not set up: every card is accepted and only recorded.
        await rig.accept(sim)
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


async def test_restart_mid_transaction_continues_it(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """Home Assistant goes away while the car charges: one session with the whole delta."""
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION])
    await rig.accept(generic)
    assert rig.charger is not None
    assert rig.central is not None
    await rig.send(generic.status("Available"))
    await rig.send(generic.meter_values(0))
    await rig.tick(60)
    await rig.send(generic.status("Preparing"))
    before = generic.register_wh
    assert await rig.send(generic.start_transaction(CARD)) == "Accepted"
    await rig.send(generic.status("Charging"))
    for _ in range(2):
        await rig.tick(600)
        await rig.send(generic.charge(600, 11_000))
    transaction = generic.transaction_id
    # The restart: everything unloaded, the process' memory gone, then set up again.
    assert await hass.config_entries.async_unload(rig.charger.entry_id)
    assert await hass.config_entries.async_unload(rig.central.entry_id)
    await generic.disconnect()
    del hass.data[OCPP_REGISTRY]
    hass.data[AUTHORIZATION] = await AuthorizationManager.async_load(hass)
    await rig.tick(120)
    assert await hass.config_entries.async_setup(rig.central.entry_id)
    assert await hass.config_entries.async_setup(rig.charger.entry_id)
    await hass.async_block_till_done()
    rig.drive_monotonic()
    # The charger reconnects without rebooting and goes on with its transaction.
    await generic.connect(rig.url)
    for _ in range(2):
        await rig.tick(600)
        await rig.send(generic.charge(600, 11_000))
    assert generic.transaction_id == transaction
    await rig.send(generic.stop_transaction())
    await rig.send(generic.status("Finishing"))
    await rig.tick(30)
    await rig.send(generic.status("Available"))
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(generic.register_wh - before)
    assert generic.register_wh - before == 4 * 1833


async def test_a_pending_charger_is_answered_but_charges_nothing(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """Before it is accepted, transaction messages are confirmed (or it retries for ever)."""
    await generic.connect(rig.url)
    assert await generic.boot() == "Pending"
    assert await rig.send(generic.authorize(CARD)) == "Invalid"
    assert await rig.send(generic.start_transaction(CARD)) == "Invalid"
    assert generic.transaction_id is not None
    await rig.send(generic.meter_values(3000))
    await rig.send(generic.stop_transaction())
    assert rig.records == []
    assert rig.events == []  # no charger entry, so nobody was asked
    assert len(rig.discoveries()) == 1


async def test_a_repeated_start_and_garbage_values_make_one_exact_session(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """A StartTransaction sent again (its confirmation was lost) and NaN or text as values."""
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION])
    await rig.accept(generic)
    await rig.send(generic.status("Available"))
    await rig.send(generic.meter_values(0))
    await rig.send(generic.status("Preparing"))
    before = generic.register_wh
    start = call.StartTransaction(
        connector_id=1, id_tag=CARD, meter_start=before, timestamp="2026-03-01T20:00:00Z"
    )
    first = await rig.send(generic.send(start))
    again = await rig.send(generic.send(start))
    assert first.transaction_id == again.transaction_id
    generic.transaction_id = first.transaction_id
    await rig.send(generic.status("Charging"))
    for garbage in ("NaN", "not a number", "inf"):
        confirmation = await rig.send(
            generic.send(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=generic.transaction_id,
                    meter_value=[
                        {"timestamp": "2026-03-01T20:01:00Z", "sampledValue": [{"value": garbage}]}
                    ],
                )
            )
        )
        assert confirmation is not None  # a confirmation, not a CallError
    for _ in range(3):
        await rig.tick(600)
        await rig.send(generic.charge(600, 7_400))
    await rig.send(generic.stop_transaction())
    await rig.send(generic.status("Available"))
    # By hand: 600 s at 7.4 kW is 1233.3 Wh, which the simulated meter rounds to 1233.
    assert generic.register_wh - before == 3 * 1233
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(3 * 1233)


async def test_a_charger_without_ocpp16_is_closed(hass: HomeAssistant, rig: Rig) -> None:
    """OCPP-J: no common subprotocol -> the handshake completes and the socket closes."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{rig.url}/CP-2", protocols=("ocpp2.1",)) as ws,
    ):
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert rig.discoveries() == []


async def test_diagnostics_show_no_password(
    hass: HomeAssistant,
    rig: Rig,
    generic: GenericOcpp16Charger,
    hass_client: ClientSessionGenerator,
) -> None:
    """The charger's and the central system's diagnostics: state yes, password never."""
    await rig.accept(generic)
    await rig.send(generic.status("Available"))
    assert rig.charger is not None
    assert rig.central is not None
    charger = await get_diagnostics_for_config_entry(hass, hass_client, rig.charger)
    central = await get_diagnostics_for_config_entry(hass, hass_client, rig.central)
    assert PASSWORD not in str(charger)
    assert PASSWORD not in str(central)
    assert central["connected"] == ["CP-0001"]
    assert central["accepted"]["CP-0001"]["status"] == "Available"


async def test_a_taken_port_is_a_clear_retry_not_a_crash(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Another program holds the port: the entry says so and retries; freed, it listens."""
    rig = Rig(hass, freezer)
    with socket.socket() as holder:
        # All addresses, as the central system binds them.
        holder.bind(("0.0.0.0", rig.port))
        holder.listen()
        await rig.set_up_central_system()
        assert rig.central is not None
        assert rig.central.state is ConfigEntryState.SETUP_RETRY
        assert str(rig.port) in str(rig.central.reason)
    assert await hass.config_entries.async_reload(rig.central.entry_id)
    assert rig.central.state is ConfigEntryState.LOADED
    sim = GenericOcpp16Charger("CP-9")
    try:
        await sim.connect(rig.url)
        assert await sim.boot() == "Pending"
    finally:
        await sim.disconnect()
    await hass.config_entries.async_unload(rig.central.entry_id)


async def test_a_single_session_card_in_use_is_concurrent_at_a_second_charger(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """The same card at another charger while its session runs: ConcurrentTx."""
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION], single_session=True)
    second = GenericOcpp16Charger("CP-0002", password=PASSWORD, serial="GEN-43")
    try:
        await rig.accept(generic)
        await rig.accept(second)
        await rig.send(generic.status("Preparing"))
        assert await rig.send(generic.authorize(CARD)) == "Accepted"
        await rig.send(second.status("Preparing"))
        assert await rig.send(second.authorize(CARD)) == "ConcurrentTx"
    finally:
        await second.disconnect()
    assert [event["result"] for event in rig.events] == ["accepted", "concurrent"]


async def test_an_unknown_card_added_by_the_administrator_is_accepted_next_time(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """Refused, then added to a person: the very next swipe charges."""
    await _set_up_authorization(hass)
    await rig.accept(generic)
    await rig.send(generic.status("Preparing"))
    assert await rig.send(generic.authorize(CARD)) == "Invalid"
    _add_card(hass.data[AUTHORIZATION])
    assert await rig.send(generic.authorize(CARD)) == "Accepted"
    assert await rig.send(generic.start_transaction(CARD)) == "Accepted"
    assert [event["result"] for event in rig.events] == ["invalid", "accepted"]


async def test_security_profile_2_over_tls(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """wss:// with a certificate: the same discovery and passwords, over TLS only."""
    certificate, key, trusted = await hass.async_add_executor_job(self_signed, tmp_path)
    rig = Rig(hass, freezer)
    # Half a TLS setup is refused with a reason.
    flow = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    flow = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"next_step_id": "central_system"}
    )
    flow = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PORT: rig.port, "certificate": certificate}
    )
    assert flow["errors"] == {"base": "ocpp_certificate_and_key"}
    flow = await hass.config_entries.flow.async_configure(
        flow["flow_id"],
        {CONF_PORT: rig.port, "certificate": certificate, "private_key": str(tmp_path / "no")},
    )
    assert flow["errors"] == {"base": "ocpp_certificate_invalid"}
    hass.config_entries.flow.async_abort(flow["flow_id"])
    await rig.set_up_central_system(certificate=certificate, private_key=key)
    assert rig.central is not None
    rig.url = f"wss://127.0.0.1:{rig.port}"
    sim = GenericOcpp16Charger("CP-TLS", password=PASSWORD, ssl_context=trusted)
    try:
        await rig.accept(sim)
        assert sim.registration == "Accepted"
        await sim.disconnect()
        sim.password = "guessed-password-123"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await sim.connect(rig.url)
        assert refused.value.status == 401
    finally:
        await sim.disconnect()
    await hass.config_entries.async_unload(rig.central.entry_id)


async def test_a_fault_is_an_event_once_and_the_status_faulted(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """StatusNotification with an error code: one event per new error, status F."""
    faults: list[dict[str, Any]] = []
    hass.bus.async_listen(EVENT_CHARGER_FAULT, callback(lambda e: faults.append(e.data)))
    await rig.accept(generic)
    await rig.send(generic.status("Faulted", "GroundFailure", vendor_error_code="E42"))
    await rig.send(generic.status("Faulted", "GroundFailure", vendor_error_code="E42"))
    assert rig.state("status") == "fault"
    await rig.send(generic.status("Available"))
    assert rig.state("status") == "no_vehicle"
    assert rig.charger is not None
    assert faults == [
        {
            "entry_id": rig.charger.entry_id,
            "connector_id": 1,
            "error_code": "GroundFailure",
            "status": "Faulted",
            "info": None,
            "vendor_id": None,
            "vendor_error_code": "E42",
        }
    ]
