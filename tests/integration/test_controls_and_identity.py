"""Controls bounded by the device, the user's limit kept across a restart, event payloads
of one type per field, translated setup errors, and unique ids from the device's identity.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

import custom_components.ev_charging_monitor.device_flow.identify as device_identify
import custom_components.ev_charging_monitor.device_flow.keba as keba_steps
from custom_components.ev_charging_monitor.const import CONF_DRIVER, DOMAIN
from custom_components.ev_charging_monitor.devices.neighbours import mac_from_arp_table
from custom_components.ev_charging_monitor.session.manager import (
    EVENT_SESSION_ENDED,
    EVENT_SESSION_STARTED,
)
from simulators.clock import SimClock
from simulators.devices.bender_cc613 import BenderCC613
from simulators.devices.goe_v2 import GoeV2
from simulators.devices.keba_p30 import KebaP30
from simulators.devices.keba_udp import KebaUdp
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

from .clocks import poll
from .conftest import AddDevice

SCHEMA_FILE = (
    Path(__file__).resolve().parents[2]
    / "custom_components"
    / "ev_charging_monitor"
    / "session_record.schema.json"
)
NUMBER = "number.vestel_evc04_current_limit"
SWITCH = "switch.vestel_evc04_charging_enabled"


def _setpoints(wallbox: VestelEVC04) -> list[int]:
    """Every value written to the EVC04's setpoint register (HR 5004), in order."""
    return [words[0] for _unit, _table, address, words in wallbox.writes if address == 5004]


async def _settle(hass: HomeAssistant) -> None:
    """Let the refresh a command requested run (refreshes are debounced for 10 s)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done(wait_background_tasks=True)


async def _set_number(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        "number", "set_value", {"entity_id": entity_id, "value": value}, blocking=True
    )
    await _settle(hass)


async def _switch(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    service = "turn_on" if on else "turn_off"
    await hass.services.async_call("switch", service, {"entity_id": entity_id}, blocking=True)
    await _settle(hass)


# -- number bounds --------------------------------------------------------------------------


async def test_current_limit_bounded_by_the_device(
    hass: HomeAssistant, wallbox: VestelEVC04, add_device: AddDevice
) -> None:
    """The slider spans 6 A (IEC 61851) to the charger's 32 A; 0 A is refused."""
    await add_device(wallbox)
    state = hass.states.get(NUMBER)
    assert state is not None
    assert (state.attributes["min"], state.attributes["max"]) == (6, 32)
    with pytest.raises(Exception, match="6"):
        await _set_number(hass, NUMBER, 0)
    assert 0 not in _setpoints(wallbox)


async def test_goe_11kw_is_bounded_at_16a(
    hass: HomeAssistant, clock: SimClock, add_device: AddDevice
) -> None:
    """A go-e of the 11 kW variant (var 11) offers 6..16 A, as the box allows."""
    goe = GoeV2(clock, variant=11)
    await goe.start()
    try:
        await add_device(goe, driver="goe_v2")
        state = hass.states.get("number.go_e_go_echarger_current_limit")
        assert state is not None
        assert (state.attributes["min"], state.attributes["max"]) == (6, 16)
    finally:
        await goe.stop()


# -- the user's limit across a restart ------------------------------------------------------


async def test_limit_survives_a_restart_and_is_resumed(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    hass_storage: dict[str, Any],
) -> None:
    """Set 10 A, pause (0 A), restart Home Assistant's entry: resuming writes 10 A, not 32."""
    entry = await add_device(wallbox)
    await _set_number(hass, NUMBER, 10)
    await _switch(hass, SWITCH, on=False)
    assert _setpoints(wallbox)[-2:] == [10, 0]
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}.current_limit"]["data"]
    assert stored == {"amps": 10}

    # A restart: the driver (and whatever it held in memory) is built anew from storage.
    device_before = id(entry.runtime_data.device)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert id(entry.runtime_data.device) != device_before
    # Paused at 0 A, the slider shows the limit charging resumes with.
    state = hass.states.get(NUMBER)
    assert state is not None
    assert state.state == "10.0"
    await _switch(hass, SWITCH, on=True)
    assert _setpoints(wallbox)[-1] == 10
    assert wallbox.charger.current_limit == 10


async def test_restart_without_a_stored_limit_resumes_at_the_maximum(
    hass: HomeAssistant, wallbox: VestelEVC04, add_device: AddDevice, hass_storage: dict[str, Any]
) -> None:
    """No limit was ever set (or the stored one is garbage): resuming writes the maximum."""
    entry = await add_device(wallbox)
    await _switch(hass, SWITCH, on=False)
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass_storage[f"{DOMAIN}.{entry.entry_id}.current_limit"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.current_limit",
        "data": {"amps": "NaN"},
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _switch(hass, SWITCH, on=True)
    assert _setpoints(wallbox)[-1] == 32


# -- event payloads -------------------------------------------------------------------------


def _events(hass: HomeAssistant, event_type: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def listener(event: Event) -> None:
        seen.append(dict(event.data))

    hass.bus.async_listen(event_type, listener)
    return seen


@pytest.mark.no_watchdog
async def test_event_payloads_match_the_schema(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """session_started and session_ended carry meter_start_wh as the same decimal string."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    started = _events(hass, EVENT_SESSION_STARTED)
    ended = _events(hass, EVENT_SESSION_ENDED)
    await add_device(wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await poll(hass, clock, 0, freezer)
    await poll(hass, clock, 1800, freezer)
    wallbox.charger.unplug()
    await poll(hass, clock, 6, freezer)
    assert len(started) == len(ended) == 1
    resolver = {"$ref": "#/$defs/session_started", "$defs": schema["$defs"]}
    jsonschema_rs.validate(resolver, started[0])
    jsonschema_rs.validate(schema, ended[0])
    assert isinstance(started[0]["meter_start_wh"], str)
    assert started[0]["meter_start_wh"] == ended[0]["meter_start_wh"] == "1234500"
    # The schema refuses the number the event used to carry.
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(resolver, {**started[0], "meter_start_wh": 1234500.0})


@pytest.mark.no_watchdog
async def test_session_duration_in_whole_minutes(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """The duration is whole minutes: polls within a minute leave the state as it was."""
    await add_device(wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await poll(hass, clock, 0, freezer)
    entity_id = "sensor.vestel_evc04_session_duration"
    values = []
    for _ in range(25):  # 25 polls of 6 s: 2.5 minutes
        await poll(hass, clock, 6, freezer)
        state = hass.states.get(entity_id)
        assert state is not None
        values.append(state.state)
    assert all(value.isdigit() for value in values), values
    assert values[0] == "0"
    assert values[-1] == "2"
    assert len(set(values)) == 3  # 0, 1, 2: one change a minute
    assert hass.states.get(entity_id).attributes["unit_of_measurement"] == "min"  # type: ignore[union-attr]


# -- setup errors ---------------------------------------------------------------------------


async def test_setup_error_is_translated(hass: HomeAssistant) -> None:
    """A device that does not answer at setup: retry, with a translated reason."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="VES-OFFLINE",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 1, CONF_DRIVER: "vestel_evc04"},
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "communication_error"
    assert entry.reason is not None
    assert entry.reason.startswith("Communication with the device failed:")
    await hass.config_entries.async_unload(entry.entry_id)


# -- unique ids -----------------------------------------------------------------------------


@pytest.fixture
async def bender(clock: SimClock) -> AsyncIterator[BenderCC613]:
    """A Bender CC613: its Modbus map has no serial number."""
    simulator = BenderCC613(clock)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def _add_bender(hass: HomeAssistant, bender: BenderCC613) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "manual"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: bender.port, CONF_DRIVER: "bender_cc613"},
    )
    await hass.async_block_till_done()
    return dict(result)


async def test_no_serial_no_mac_no_unique_id_and_a_repair(
    hass: HomeAssistant,
    bender: BenderCC613,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """No serial, and loopback has no MAC: no address as unique id, a translated repair."""
    result = await _add_bender(hass, bender)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id is None
    issue = issue_registry.async_get_issue(DOMAIN, f"device_without_identity_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "device_without_identity"
    assert issue.translation_placeholders == {"name": entry.title, "host": "127.0.0.1"}
    power = entity_registry.async_get("sensor.bender_cc613_power")
    assert power is not None
    assert power.unique_id == f"{entry.entry_id}_power"
    # The same device at the same address is still found to be configured.
    again = await _add_bender(hass, bender)
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
    # Removing the entry removes its repair.
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert (
        issue_registry.async_get_issue(DOMAIN, f"device_without_identity_{entry.entry_id}") is None
    )


async def test_mac_from_the_neighbour_table_is_the_unique_id(
    hass: HomeAssistant,
    bender: BenderCC613,
    monkeypatch: pytest.MonkeyPatch,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A device without serial but with a MAC in the neighbour table is known by its MAC.

    Loopback has no neighbour entries and adding one needs root: the table lookup is
    replaced by one answering from a table text (parsed by the real parser).
    """
    table = (
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "127.0.0.1        0x1         0x2         00:1A:2B:3C:4D:5E     *        eth0\n"
    )
    monkeypatch.setattr(
        device_identify, "neighbour_mac", lambda host: mac_from_arp_table(table, host)
    )
    result = await _add_bender(hass, bender)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == "00:1a:2b:3c:4d:5e"
    assert not issue_registry.async_get_issue(DOMAIN, f"device_without_identity_{entry.entry_id}")
    await hass.config_entries.async_unload(entry.entry_id)


def test_arp_table_parser() -> None:
    """Complete entries give their MAC; incomplete ones and other addresses give None."""
    table = (
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "192.168.1.20     0x1         0x2         AA:BB:CC:00:11:22     *        eth0\n"
        "192.168.1.21     0x1         0x0         00:00:00:00:00:00     *        eth0\n"
        "garbage\n"
    )
    assert mac_from_arp_table(table, "192.168.1.20") == "aa:bb:cc:00:11:22"
    assert mac_from_arp_table(table, "192.168.1.21") is None
    assert mac_from_arp_table(table, "192.168.1.22") is None
    assert mac_from_arp_table("", "192.168.1.20") is None


async def test_existing_address_id_is_kept(
    hass: HomeAssistant, bender: BenderCC613, clock: SimClock, issue_registry: ir.IssueRegistry
) -> None:
    """An entry made with the old address-based id keeps it, with no repair, and can move."""
    legacy = f"bender_cc613_127.0.0.1_{bender.port}"
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=legacy,
        title="Bender CC613",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: bender.port, CONF_DRIVER: "bender_cc613"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.unique_id == legacy
    assert not issue_registry.async_get_issue(DOMAIN, f"device_without_identity_{entry.entry_id}")
    # The device moves to another port (a second simulator stands in for it there).
    moved = BenderCC613(clock)
    await moved.start()
    try:
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: moved.port}
        )
        await hass.async_block_till_done()
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.unique_id == legacy
        assert entry.data[CONF_PORT] == moved.port
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await moved.stop()


# -- KEBA over UDP --------------------------------------------------------------------------


@pytest.fixture
async def keba(clock: SimClock) -> AsyncIterator[tuple[KebaUdp, KebaP30]]:
    """A KEBA P30: its UDP interface and its Modbus TCP server, both on loopback."""
    udp, modbus = KebaUdp(clock), KebaP30(clock)
    await udp.start()
    await modbus.start()
    yield udp, modbus
    await modbus.stop()
    await udp.stop()


async def _keba_flow(hass: HomeAssistant, port: int) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "keba" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "keba"}
    )
    assert result["step_id"] == "keba"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )
    await hass.async_block_till_done()
    return dict(result)


@pytest.fixture
def keba_probe(monkeypatch: pytest.MonkeyPatch, keba: tuple[KebaUdp, KebaP30]) -> None:
    """Aim the real UDP probe at the simulator's port (a real box answers on 7090 only,
    which the simulator and the probe cannot both bind on one host)."""
    udp, _modbus = keba
    monkeypatch.setattr(
        keba_steps,
        "KEBA_PROBE",
        {"port": udp.port, "local_port": 0, "local_host": "127.0.0.1", "timeout": 1.0},
    )


@pytest.mark.usefixtures("keba_probe")
async def test_keba_found_over_udp_then_set_up_over_modbus(
    hass: HomeAssistant, keba: tuple[KebaUdp, KebaP30]
) -> None:
    """The UDP report identifies the KEBA; the entry uses its Modbus driver and serial."""
    udp, modbus = keba
    assert modbus.port is not None
    result = await _keba_flow(hass, modbus.port)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    assert entry.data[CONF_DRIVER] == "keba_p30"
    assert entry.unique_id == "22334455"  # the serial in the Modbus map (HR 1014)
    assert any(data == b"report 1" for data, _address in udp.received)
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("keba_probe")
async def test_keba_silent_or_modbus_off(
    hass: HomeAssistant, keba: tuple[KebaUdp, KebaP30], clock: SimClock
) -> None:
    """No UDP answer: keba_not_found. UDP answers but Modbus is off: keba_modbus_off."""
    udp, modbus = keba
    assert modbus.port is not None
    udp.silent = True
    result = await _keba_flow(hass, modbus.port)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "keba_not_found"}
    udp.silent = False
    await modbus.stop()
    result = await _keba_flow(hass, modbus.port)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "keba_modbus_off"}
    assert result["description_placeholders"] == {
        "model": "KC-P30-EC240422-E00",
        "serial": "22012345",
    }
    await modbus.start()


async def test_keba_reply_port_taken(
    hass: HomeAssistant, keba: tuple[KebaUdp, KebaP30], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program holds the port the KEBA answers to: a translated error, no crash."""
    udp, modbus = keba
    assert modbus.port is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        monkeypatch.setattr(
            keba_steps,
            "KEBA_PROBE",
            {"port": udp.port, "local_port": taken.getsockname()[1], "local_host": "127.0.0.1"},
        )
        result = await _keba_flow(hass, modbus.port)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "keba_port_busy"}
