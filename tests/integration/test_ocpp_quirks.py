"""Charger model quirks and error codes, with simulated OCPP chargers in a real Home Assistant.

The chargers are `ocpp` library clients (simulators/ocpp_charger.py, simulators/ocpp_abb.py)
on real loopback websockets; nothing is mocked. The ABB Terra AC simulator reboots when a
list with measurands it cannot sample is read back, as its firmware 1.8.21 does: with the
generic meter setup it boot-loops, with its quirks it charges and the session is exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import aiohttp
import jsonschema
import pytest
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import async_get_translations
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from custom_components.ev_charging_monitor.authorization.manager import AUTHORIZATION
from custom_components.ev_charging_monitor.central_system.diagnostics import (
    async_central_system_diagnostics,
)
from custom_components.ev_charging_monitor.central_system.registry import OCPP_REGISTRY
from custom_components.ev_charging_monitor.central_system.setup import EVENT_CHARGER_FAULT
from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.ledger_link.contract import schema
from simulators.ocpp_abb import AbbTerraAcOcpp
from simulators.ocpp_alfen import AlfenEveOcpp
from simulators.ocpp_charger import GenericOcpp16Charger

from .ocpp_rig import PASSWORD, Rig, charge_one_session
from .test_authorization import CARD, _add_card, _set_up_authorization

# The OCPP 1.6 ChargePointErrorCode values as sensor states, written out by hand.
ERROR_CODE_STATES = [
    "connector_lock_failure",
    "ev_communication_error",
    "ground_failure",
    "high_temperature",
    "internal_error",
    "local_list_conflict",
    "no_error",
    "other_error",
    "over_current_failure",
    "over_voltage",
    "power_meter_failure",
    "power_switch_failure",
    "reader_failure",
    "reset_failure",
    "under_voltage",
    "weak_signal",
]
ABB_MEASURANDS = (
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,Current.Offered"
)


async def _configured(rig: Rig, sim: GenericOcpp16Charger, keys: int = 2) -> None:
    """Until the central system has set `keys` configuration keys (after the acceptance)."""
    await rig.until(lambda: len(sim.changed) >= keys, f"{keys} configuration keys set")
    # What it sends after the keys (the read-back, the public key) gets its turns too.
    for _ in range(20):
        await rig.settle()


class RebadgedAbb(AbbTerraAcOcpp):
    """The same firmware under a name the quirks do not know: the generic meter setup."""

    vendor: ClassVar[str] = "Rebadged"
    model: ClassVar[str] = "AC wallbox 22"


async def test_abb_terra_ac_with_the_generic_setup_boot_loops(
    hass: HomeAssistant, rig: Rig
) -> None:
    """Generic: the whole wish list is taken, reading it back reboots, and again each boot."""
    sim = RebadgedAbb("TACW-REBADGED", password=PASSWORD)
    try:
        await rig.accept(sim)
        await rig.until(lambda: sim.reboots >= 3, "three reboots")
        sim.comes_back = False  # let it rest
    finally:
        await sim.disconnect()
    assert sim.reboots >= 3
    # It took measurands it cannot sample (Power.Offered, SoC): the cause of the loop.
    assert "SoC" in sim.changed["MeterValuesSampledData"]
    assert sim.unsupported_configured()


async def test_abb_terra_ac_with_its_quirks_charges_an_exact_session(
    hass: HomeAssistant, rig: Rig
) -> None:
    """Its quirks: only what it samples, never read back; no reboot, the meter's delta."""
    sim = AbbTerraAcOcpp("TACW1100000G0001", password=PASSWORD)
    try:
        await _set_up_authorization(hass)
        _add_card(hass.data[AUTHORIZATION])
        await rig.accept(sim)
        await _configured(rig, sim)
        assert sim.changed == {
            "MeterValuesSampledData": ABB_MEASURANDS,
            "MeterValueSampleInterval": "60",
        }
        delta = await charge_one_session(rig, sim)
        # It sent per-phase currents and voltages (line to neutral), read as phases 1-3.
        assert rig.charger is not None
        reading = rig.charger.runtime_data.live.data
        assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, 230, 230)
        # By hand: 11 kW over 3 x 230 V is 15.94 A per phase (2 decimals as it sends them).
        assert reading.current_l1 == reading.current_l3 == 15.94
        assert rig.central is not None
        central = await async_central_system_diagnostics(hass, rig.central)
        accepted = central["accepted"][sim.charge_point_id]
        assert accepted["quirks"] == "abb_terra_ac"
        assert accepted["measurands"] == ABB_MEASURANDS.split(",")
    finally:
        await sim.disconnect()
    assert sim.reboots == 0
    # By hand: 600 s at 11 kW is 1833.3 Wh, which the simulated meter rounds to 1833.
    assert delta == 6 * 1833
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(6 * 1833)
    assert record["charger"]["serial"] == "TACW1100000G0001"


async def test_abb_terra_ac_reboot_mid_session_is_reported_as_a_stop(
    hass: HomeAssistant, rig: Rig
) -> None:
    """A reboot in a transaction: the stop it sends once back (reason Reboot) ends it."""
    sim = AbbTerraAcOcpp("TACW-REBOOT", password=PASSWORD)
    try:
        await _set_up_authorization(hass)
        _add_card(hass.data[AUTHORIZATION])
        await rig.accept(sim)
        await _configured(rig, sim)
        await rig.send(sim.status("Preparing"))
        assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
        before = sim.register_wh
        await rig.send(sim.status("Charging"))
        for _ in range(3):
            await rig.tick(600)
            await rig.send(sim.charge(600, 11_000))
        registry = hass.data[OCPP_REGISTRY]
        assert sim.charge_point_id in registry.book.open
        await sim.crash()  # a power cut, say: no stop now
        await rig.until(
            lambda: sim.lost_stop is None and sim.charge_point_id not in registry.book.open,
            "the stop sent once back",
        )
        assert sim.reboots == 1
        assert sim.charge_point_id not in registry.book.open
        await rig.send(sim.status("Finishing"))
        await rig.tick(30)
        await rig.send(sim.status("Available"))
    finally:
        sim.comes_back = False
        await sim.disconnect()
    # By hand: three times 600 s at 11 kW, 1833 Wh each as the meter rounds.
    assert sim.register_wh - before == 3 * 1833
    (record,) = rig.records
    assert Decimal(record["energy_wh"]) == Decimal(3 * 1833)


class AlfenWithCurrentMax(AlfenEveOcpp):
    """Alfen firmware that adds its offered current under the context CurrentMax."""

    # What the central system answered to each request (None: a CallError).
    results: ClassVar[list[tuple[str, Any]]]

    def __post_init__(self) -> None:
        super().__post_init__()
        self.results = []

    async def send(self, payload: Any) -> Any:
        # The library would refuse to send what OCPP 1.6 does not allow; the firmware does.
        assert self._client is not None
        result = await self._client.call(  # type: ignore[no-untyped-call]
            payload, skip_schema_validation=True
        )
        self.results.append((type(payload).__name__, result))
        return result

    def _sampled(self, power_w: float, context: str) -> list[dict[str, str]]:
        offered = {
            "value": "16.0",
            "context": "CurrentMax",
            "measurand": "Current.Offered",
            "unit": "A",
        }
        return [*super()._sampled(power_w, context), offered]


class UnknownWithCurrentMax(AlfenWithCurrentMax):
    """The same messages from a charger the quirks do not know."""

    vendor: ClassVar[str] = "Unknown"
    model: ClassVar[str] = "Wallbox"


@pytest.mark.parametrize(
    ("sim_class", "confirmed"), [(AlfenWithCurrentMax, True), (UnknownWithCurrentMax, False)]
)
async def test_a_nonstandard_context_is_confirmed_where_the_model_sends_it(
    hass: HomeAssistant, rig: Rig, sim_class: type[AlfenEveOcpp], confirmed: bool
) -> None:
    """Alfen's context CurrentMax (lbbrhzn/ocpp#361): confirmed and read, not a CallError."""
    sim = sim_class("ALFEN-CM", password=PASSWORD)
    try:
        await rig.accept(sim)
        sim.register_wh = 1_500_000  # in kWh on the wire: 1500.000
        await rig.send(sim.meter_values(0))
        assert (rig.state("energy") == "1500.0") is confirmed
    finally:
        await sim.disconnect()
    assert isinstance(sim, AlfenWithCurrentMax)
    (result,) = [result for action, result in sim.results if action == "MeterValues"]
    # A CallError (FormatViolation) comes back as None from the library's call().
    assert (result is not None) is confirmed


async def test_error_code_sensor_and_one_fault_event(hass: HomeAssistant, rig: Rig) -> None:
    """Faulted with GroundFailure: the sensor and one event; NoError clears, no repeat."""
    faults: list[dict[str, Any]] = []
    hass.bus.async_listen(EVENT_CHARGER_FAULT, callback(lambda e: faults.append(e.data)))
    sim = GenericOcpp16Charger("CP-FAULT", password=PASSWORD)
    try:
        await rig.accept(sim)
        error = rig.entity_id("sensor", "ocpp_error_code")
        vendor = rig.entity_id("sensor", "ocpp_vendor_error_code")
        state = hass.states.get(error)
        assert state is not None
        assert state.attributes["options"] == ERROR_CODE_STATES
        await rig.send(sim.status("Available"))
        assert hass.states.get(error).state == "no_error"  # type: ignore[union-attr]
        await rig.send(sim.status("Faulted", "GroundFailure", vendor_error_code="RCD-30mA"))
        assert hass.states.get(error).state == "ground_failure"  # type: ignore[union-attr]
        assert rig.state("status") == "fault"
        vendor_state = hass.states.get(vendor)
        assert vendor_state is not None
        assert vendor_state.state == "RCD-30mA"
        assert vendor_state.attributes["info"] is None
        assert vendor_state.attributes["vendor_id"] is None
        # The same fault again is no new event.
        await rig.send(sim.status("Faulted", "GroundFailure", vendor_error_code="RCD-30mA"))
        assert len(faults) == 1
        await rig.send(sim.status("Available"))
        assert hass.states.get(error).state == "no_error"  # type: ignore[union-attr]
        assert hass.states.get(vendor).state == "unknown"  # type: ignore[union-attr]
        assert rig.state("status") == "no_vehicle"
        assert len(faults) == 1
        # A new fault after it was cleared is an event again.
        await rig.send(sim.status("Faulted", "OverVoltage"))
        assert hass.states.get(error).state == "over_voltage"  # type: ignore[union-attr]
    finally:
        await sim.disconnect()
    assert rig.charger is not None
    assert faults == [
        {
            "entry_id": rig.charger.entry_id,
            "connector_id": 1,
            "error_code": "GroundFailure",
            "status": "Faulted",
            "info": None,
            "vendor_id": None,
            "vendor_error_code": "RCD-30mA",
        },
        {
            "entry_id": rig.charger.entry_id,
            "connector_id": 1,
            "error_code": "OverVoltage",
            "status": "Faulted",
            "info": None,
            "vendor_id": None,
            "vendor_error_code": None,
        },
    ]
    # The event's documented schema ($defs/charger_fault in session_record.schema.json).
    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/$defs/charger_fault", "$defs": schema()["$defs"]}
    )
    for fault in faults:
        validator.validate(fault)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**faults[0], "error_code": "NoError"})


async def test_a_fault_of_the_whole_charger_is_shown_and_told(
    hass: HomeAssistant, rig: Rig
) -> None:
    """Connector 0 (the whole charger): its error shows and fires, its status is no plug's."""
    faults: list[dict[str, Any]] = []
    hass.bus.async_listen(EVENT_CHARGER_FAULT, callback(lambda e: faults.append(e.data)))
    sim = GenericOcpp16Charger("CP-STATION", password=PASSWORD)

    async def station(status: str, error_code: str) -> None:
        await rig.send(
            sim.send(
                call.StatusNotification(
                    connector_id=0,
                    error_code=ChargePointErrorCode(error_code),
                    status=ChargePointStatus(status),
                    info="Mains phase L2 missing",
                )
            )
        )

    try:
        await rig.accept(sim)
        error = rig.entity_id("sensor", "ocpp_error_code")
        await rig.send(sim.status("Preparing"))
        await station("Faulted", "UnderVoltage")
        assert hass.states.get(error).state == "under_voltage"  # type: ignore[union-attr]
        assert rig.state("status") == "connected"  # the plug's state, from connector 1
        vendor = hass.states.get(rig.entity_id("sensor", "ocpp_vendor_error_code"))
        assert vendor is not None
        assert vendor.attributes["info"] == "Mains phase L2 missing"
        # The connector's own error goes first while both have one.
        await rig.send(sim.status("Faulted", "GroundFailure"))
        assert hass.states.get(error).state == "ground_failure"  # type: ignore[union-attr]
        await rig.send(sim.status("Preparing"))
        assert hass.states.get(error).state == "under_voltage"  # type: ignore[union-attr]
        await station("Available", "NoError")
        assert hass.states.get(error).state == "no_error"  # type: ignore[union-attr]
    finally:
        await sim.disconnect()
    assert [(fault["connector_id"], fault["error_code"]) for fault in faults] == [
        (0, "UnderVoltage"),
        (1, "GroundFailure"),
    ]


async def test_abb_null_info_is_no_text(hass: HomeAssistant, rig: Rig) -> None:
    """ABB sends info "null" with every status: its quirk makes that no information."""
    sim = AbbTerraAcOcpp("TACW-NULL", password=PASSWORD)
    try:
        await rig.accept(sim)
        await rig.send(sim.status("Faulted", "GroundFailure", vendor_error_code="0x0004"))
        vendor = hass.states.get(rig.entity_id("sensor", "ocpp_vendor_error_code"))
        assert vendor is not None
        assert vendor.state == "0x0004"
        assert vendor.attributes["info"] is None
    finally:
        await sim.disconnect()


@pytest.mark.parametrize("language", ["en", "de"])
async def test_every_error_code_has_a_translated_state(hass: HomeAssistant, language: str) -> None:
    """Each option of the error code sensor is named in English and German."""
    translations = await async_get_translations(hass, language, "entity", [DOMAIN])
    prefix = f"component.{DOMAIN}.entity.sensor.ocpp_error_code.state."
    names = {
        key.removeprefix(prefix): value
        for key, value in translations.items()
        if key.startswith(prefix)
    }
    assert sorted(names) == ERROR_CODE_STATES
    assert all(names.values())
    assert translations[f"component.{DOMAIN}.entity.sensor.ocpp_error_code.name"]


async def test_the_documented_url_path_and_user_name(hass: HomeAssistant, rig: Rig) -> None:
    """docs/ocpp.md: the id is the path's last part; the user name must be the id."""
    sim = GenericOcpp16Charger("garage-left", password=PASSWORD)
    try:
        await sim.connect(f"{rig.url}/ocpp")  # ws://<ha>:<port>/ocpp/garage-left
        assert await sim.boot() == "Pending"
        await hass.async_block_till_done()
        (flow,) = rig.discoveries()
        assert flow["context"]["unique_id"] == "ocpp_garage-left"
        await hass.config_entries.flow.async_configure(flow["flow_id"], {"password": PASSWORD})
        await hass.async_block_till_done()
        await sim.wait_accepted()
    finally:
        await sim.disconnect()
    # The right password under another user name is refused (HTTP 401).
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                f"{rig.url}/garage-left",
                protocols=("ocpp1.6",),
                headers={"Authorization": aiohttp.encode_basic_auth("admin", PASSWORD)},
            )
        assert refused.value.status == 401
        async with session.ws_connect(
            f"{rig.url}/garage-left",
            protocols=("ocpp1.6",),
            headers={"Authorization": aiohttp.encode_basic_auth("garage-left", PASSWORD)},
        ) as ws:
            assert ws.protocol == "ocpp1.6"
