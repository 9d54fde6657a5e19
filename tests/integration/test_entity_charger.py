"""A charger made of another integration's entities, in a real Home Assistant.

The other integration is real entities (input helpers and template entities, see
entity_source.py) driven by a scenario; the sessions, authorization and ledger link are
the integration's own, unmocked.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntry, ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    ElectricCurrentConverter,
    PowerConverter,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ev_charging_monitor.authorization.manager import AUTHORIZATION
from custom_components.ev_charging_monitor.authorization.model import CredentialKind
from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.devices import ChargerState, DeviceConnectionError
from custom_components.ev_charging_monitor.diagnostics import async_get_config_entry_diagnostics
from custom_components.ev_charging_monitor.entity_charger.device import (
    EntityChargerDevice,
    convert,
    energy_wh,
)
from custom_components.ev_charging_monitor.entity_charger.mapping import EntityMapping
from custom_components.ev_charging_monitor.ledger_link.websocket_api import HISTORY
from custom_components.ev_charging_monitor.session.manager import (
    EVENT_SESSION_ENDED,
    EVENT_SESSION_STARTED,
)
from tests.ledger.ledger_process import free_port, start_ledger, stop

from .entity_source import (
    ALLOWED,
    ENERGY,
    MEANINGS,
    POWER,
    START_KWH,
    STATUS,
    SWITCH,
    WORDS,
    Garage,
    async_add_charger,
    async_setup_source,
)
from .entity_source import (
    CARD as CARD_ENTITY,
)
from .test_authorization import _add_card, _set_up_authorization

CARD = "04A2B3C4D5"
OUR_STATUS = "sensor.carport_status"  # our charger's status (the entry is named after the source)


async def _reconfigure(hass: HomeAssistant, entry: ConfigEntry) -> Any:
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )


def _events(hass: HomeAssistant, event_type: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    hass.bus.async_listen(event_type, callback(lambda e: seen.append(dict(e.data))))
    return seen


@pytest.fixture
async def garage(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> Garage:
    await async_setup_source(hass)
    garage = Garage(hass, freezer)
    garage.drive(monkeypatch)
    return garage


async def test_plug_charge_pause_unplug_bills_the_mapped_energy_entity(
    hass: HomeAssistant, garage: Garage
) -> None:
    started = _events(hass, EVENT_SESSION_STARTED)
    ended = _events(hass, EVENT_SESSION_ENDED)
    entry = await async_add_charger(hass, card=False)
    tariff = {"type": "flat", "price": "0.30"}
    hass.config_entries.async_update_entry(entry, options={**entry.options, "tariff": tariff})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(OUR_STATUS).state == "no_vehicle"

    await garage.plug()
    for _ in range(5):
        await garage.run(60)
        assert hass.states.get(OUR_STATUS).state == "charging"
    # The car pauses (the switch is turned off at the source), then charges on.
    await hass.services.async_call("switch", "turn_off", {"entity_id": SWITCH}, blocking=True)
    await garage.run(0)
    assert hass.states.get(OUR_STATUS).state == "connected"
    for _ in range(3):
        await garage.run(60)
    await hass.services.async_call("switch", "turn_on", {"entity_id": SWITCH}, blocking=True)
    for _ in range(2):
        await garage.run(60)
    await garage.unplug()

    assert len(started) == 1
    assert len(ended) == 1
    record = ended[0]
    # 7 minutes at 12 kW = 1.4 kWh, read from the meter entity in kWh, exactly.
    assert garage.delivered_wh == Decimal(1400)
    assert Decimal(record["energy_wh"]) == Decimal(1400)
    assert Decimal(record["meter_start_wh"]) == START_KWH * 1000
    assert Decimal(record["meter_end_wh"]) == START_KWH * 1000 + 1400
    assert record["end_reason"] == "unplugged"
    assert record["id"] == started[0]["session_id"]
    assert record["max_power_w"] in (12000, "12000")
    assert record["flags"] == [], record
    assert record["authorization"]["method"] == "none"
    # Priced like any charger's session: 1.4 kWh at 0.30 (by hand).
    assert Decimal(record["cost"]["total"]) == Decimal("0.42")


async def test_restart_mid_session_continues_it(hass: HomeAssistant, garage: Garage) -> None:
    started = _events(hass, EVENT_SESSION_STARTED)
    ended = _events(hass, EVENT_SESSION_ENDED)
    entry = await async_add_charger(hass, card=False)
    await garage.plug()
    for _ in range(4):
        await garage.run(60)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    # While the integration is down the car charges on (3 minutes); when it comes back,
    # the other integration is still offline (its energy sensor unavailable) at first.
    for _ in range(3):
        await garage.run(60)
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": "input_boolean.garage_online"}, blocking=True
    )
    assert hass.states.get("sensor.garage_energy").state == "unavailable"
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await garage.run(60)
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": "input_boolean.garage_online"}, blocking=True
    )
    await hass.async_block_till_done()
    for _ in range(2):
        await garage.run(60)
    await garage.unplug()

    assert len(started) == 1  # the same session, not a new one
    assert [r["id"] for r in ended] == [started[0]["session_id"]]
    # 4 + 3 (while down) + 1 (while the source was offline) + 2 minutes at 12 kW.
    assert garage.delivered_wh == Decimal(2000)
    assert Decimal(ended[0]["energy_wh"]) == Decimal(2000)
    assert "recovered_after_restart" not in ended[0]["flags"]  # a clean unload


async def test_a_mapped_switch_enforces_default_deny_and_the_card_attributes_the_person(
    hass: HomeAssistant, garage: Garage
) -> None:
    ended = _events(hass, EVENT_SESSION_ENDED)
    await _set_up_authorization(hass)  # default deny
    manager = hass.data[AUTHORIZATION]
    _add_card(manager, CARD, person="Alex")
    await hass.async_block_till_done()
    await async_add_charger(hass)
    assert hass.states.get(ALLOWED).state == "off"  # held at once, no car yet

    # A car without a card: the switch stays off, and turning it on at the source is undone.
    await garage.plug()
    await garage.run(60)
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": ALLOWED}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(ALLOWED).state == "off"
    await garage.run(60)
    assert garage.delivered == []

    # Alex's card: released within the reading that sees it; the session is Alex's.
    await garage.swipe(CARD)
    assert hass.states.get(ALLOWED).state == "on"
    for _ in range(3):
        await garage.run(60)
    await garage.unplug()
    assert hass.states.get(ALLOWED).state == "off"  # locked again
    record = ended[-1]
    assert Decimal(record["energy_wh"]) == garage.delivered_wh == Decimal(600)
    assert record["authorization"]["method"] == "rfid"
    assert record["authorization"]["person"] == "Alex"
    assert record["authorization"]["tag_hash"] == manager.hash(CredentialKind.RFID, CARD)

    # The RFID entity still shows Alex's card: it must not open the next plug-in.
    garage.delivered.clear()
    await garage.plug()
    for _ in range(3):
        await garage.run(60)
    assert hass.states.get(ALLOWED).state == "off"
    assert garage.delivered == []
    await garage.unplug()
    assert ended[-1]["authorization"]["method"] == "none"
    assert Decimal(ended[-1]["energy_wh"]) == 0


async def test_an_unknown_card_never_lets_energy_flow(hass: HomeAssistant, garage: Garage) -> None:
    events: list[Event] = []
    hass.bus.async_listen("ev_charging_monitor_authorization", events.append)
    await _set_up_authorization(hass)
    await async_add_charger(hass)
    await garage.plug()
    await garage.swipe("DEADBEEF01")
    for _ in range(5):
        await garage.run(60)
        assert hass.states.get(ALLOWED).state == "off"
    assert garage.delivered == []
    assert [e.data["result"] for e in events] == ["invalid"]


async def test_without_a_control_the_flow_offers_monitor_only(
    hass: HomeAssistant, garage: Garage
) -> None:
    ended = _events(hass, EVENT_SESSION_ENDED)
    entry: ConfigEntry = await async_add_charger(hass, switch=False)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.device.capabilities.can_enable is False
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["entry"]["data"]["mapping"]["status"] == STATUS
    await garage.plug()
    await garage.run(60)
    await garage.unplug()
    assert Decimal(ended[0]["energy_wh"]) == Decimal(200)


async def test_the_session_reaches_the_ledger(
    hass: HomeAssistant,
    aiohttp_client: Callable[..., Awaitable[object]],
    hass_access_token: str,
    tmp_path: Path,
) -> None:
    """The real ledger process takes the entity charger's session like any other.

    Home Assistant's clock runs on in real time here (a frozen clock that jumps would time
    out the ledger's websocket); each step's energy stays within what the charger's
    power allows in that time.
    """
    await async_setup_source(hass)
    garage = Garage(hass, None)
    await async_add_charger(hass, card=False)
    client = await aiohttp_client(hass.http.app)
    url = f"http://127.0.0.1:{client.server.port}"  # type: ignore[attr-defined]
    await garage.plug()
    for _ in range(3):
        await garage.run(60)
    await garage.unplug()
    history = hass.data[HISTORY]
    [record] = history.after(0, 10)
    assert Decimal(record["energy_wh"]) == garage.delivered_wh == Decimal(600)

    data_dir = tmp_path / "ledger"
    process = await start_ledger(
        "--ha-url", url, "--token", hass_access_token, "--data-dir", str(data_dir),
        "--listen", f"127.0.0.1:{free_port()}", "--api-token", "test",
        log=tmp_path / "ledger.log",
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            while history.acked_seq < record["seq"]:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        assert await stop(process) == 0
    with sqlite3.connect(data_dir / "ledger.sqlite3") as db:
        stored = list(db.execute("SELECT session_id, energy_wh, body FROM sessions"))
    assert [(session_id, Decimal(energy)) for session_id, energy, _ in stored] == [
        (record["id"], Decimal(600))
    ]
    assert b"Carport" in bytes(stored[0][2])  # the stored body names the charger


async def test_a_renamed_source_entity_is_followed_and_told(
    hass: HomeAssistant,
    garage: Garage,
    hass_client: ClientSessionGenerator,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The energy sensor gets a new entity id: the charger reads it on, a repair says so,
    and confirming the repair closes it."""
    assert await async_setup_component(hass, "repairs", {})
    ended = _events(hass, EVENT_SESSION_ENDED)
    entry = await async_add_charger(hass, card=False)
    er.async_get(hass).async_update_entity(ENERGY, new_entity_id="sensor.carport_meter")
    await hass.async_block_till_done()
    assert entry.data["mapping"]["energy"] == "sensor.carport_meter"
    assert entry.state is ConfigEntryState.LOADED
    issue_id = f"source_entity_renamed_{entry.entry_id}_sensor.carport_meter"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "name": "Carport",
        "old": ENERGY,
        "new": "sensor.carport_meter",
    }

    await garage.plug()
    for _ in range(2):
        await garage.run(60)
    await garage.unplug()
    assert Decimal(ended[0]["energy_wh"]) == Decimal(400)

    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert (await response.json())["type"] == "create_entry"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_a_removed_source_entity_raises_a_repair_and_nothing_is_lost(
    hass: HomeAssistant, garage: Garage, issue_registry: ir.IssueRegistry
) -> None:
    """The switch disappears mid-session: a repair names it; the session still ends with
    its energy."""
    ended = _events(hass, EVENT_SESSION_ENDED)
    entry = await async_add_charger(hass, card=False)
    issue_id = f"source_entity_missing_{entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await garage.plug()
    await garage.run(60)
    er.async_get(hass).async_remove(SWITCH)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "source_entity_missing"
    assert issue.translation_placeholders == {"name": "Carport", "entities": SWITCH}
    await garage.run(60)
    await garage.unplug()
    assert Decimal(ended[0]["energy_wh"]) == Decimal(400)
    # The other integration creates it again: the repair goes.
    er.async_get(hass).async_get_or_create(
        "switch", "template", "garage_charging", suggested_object_id="garage_charging"
    )
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("1234567", "Wh", 1234567.0),
        ("1234.567", "kWh", 1234567.0),
        ("1.234567", "MWh", 1234567.0),
        ("nan", "kWh", None),
        ("inf", "kWh", None),
        ("lots", "kWh", None),
        ("12", "W", None),  # not an energy
        ("12", None, None),  # no unit: no guess
        ("unavailable", "kWh", None),
        ("unknown", "kWh", None),
    ],
)
async def test_energy_states_as_home_assistant_shows_them(
    hass: HomeAssistant, value: str, unit: str | None, expected: float | None
) -> None:
    hass.states.async_set("sensor.x", value, {} if unit is None else {"unit_of_measurement": unit})
    assert energy_wh(hass.states.get("sensor.x")) == expected


async def test_garbage_and_unknown_words_never_end_a_session(
    hass: HomeAssistant, garage: Garage, caplog: pytest.LogCaptureFixture
) -> None:
    """The source shows a word nobody mapped, an energy of NaN and goes unavailable
    mid-session: the charger is unavailable meanwhile, the session runs on, and its energy
    is exact."""
    ended = _events(hass, EVENT_SESSION_ENDED)
    entry = await async_add_charger(hass, card=False)
    await garage.plug()
    await garage.run(60)
    # A word the mapping does not know, without a plug sensor: no state, not "unplugged".
    hass.states.async_set(STATUS, "Rebooting", {"options": [*WORDS, "Rebooting"]})
    await hass.async_block_till_done()
    assert not entry.runtime_data.live.last_update_success
    assert hass.states.get(OUR_STATUS).state == "unavailable"
    assert "Rebooting" in caplog.text
    await garage.run(60)  # the source writes its real state again
    assert hass.states.get(OUR_STATUS).state == "charging"
    hass.states.async_set(ENERGY, "nan", {"unit_of_measurement": "kWh"})
    await hass.async_block_till_done()
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": "input_boolean.garage_online"}, blocking=True
    )
    await garage.run(60)
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": "input_boolean.garage_online"}, blocking=True
    )
    await garage.run(60)
    await garage.unplug()
    assert len(ended) == 1
    assert Decimal(ended[0]["energy_wh"]) == garage.delivered_wh == Decimal(800)


async def test_a_per_session_counter_as_the_energy_entity(
    hass: HomeAssistant, garage: Garage
) -> None:
    """Wallbox has no lifetime counter: its session counter (restarting at 0 with each
    plug-in) is the energy entity. The restart is a confirmed register reset: the second
    session counts from the first reading after it, and says so."""
    ended = _events(hass, EVENT_SESSION_ENDED)
    garage.meter = Decimal(0)
    await garage.publish()
    await async_add_charger(hass, card=False)
    await garage.plug()
    for _ in range(3):
        await garage.run(60)
    await garage.unplug()
    assert Decimal(ended[0]["energy_wh"]) == Decimal(600)
    # Plugged in again: the counter still shows 0.6 kWh until the integration shows it
    # restarted at 0 (energy before that reading would belong to no session).
    garage.delivered.clear()
    await garage.plug()
    garage.meter = Decimal(0)
    await garage.run(0)
    for _ in range(4):
        await garage.run(60)
    await garage.unplug()
    assert Decimal(ended[1]["energy_wh"]) == garage.delivered_wh == Decimal(800)
    assert "meter_reset" in ended[1]["flags"]


async def test_set_up_before_the_other_integration_has_states(
    hass: HomeAssistant, garage: Garage
) -> None:
    """At startup the other integration may load after this one: the charger is set up,
    unavailable, and comes alive with the source's first state."""
    ended = _events(hass, EVENT_SESSION_ENDED)
    hass.states.async_set(STATUS, "unavailable", {"friendly_name": "Carport"})
    entry = await async_add_charger(hass, card=False)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(OUR_STATUS).state == "unavailable"
    await garage.plug()
    assert hass.states.get(OUR_STATUS).state == "charging"
    await garage.run(60)
    await garage.unplug()
    assert Decimal(ended[0]["energy_wh"]) == Decimal(200)


async def test_reconfigure_maps_a_control_and_clears_the_missing_entity_repair(
    hass: HomeAssistant, garage: Garage, issue_registry: ir.IssueRegistry
) -> None:
    """Added to monitor only, the switch then removed and added back under another id:
    reconfiguring maps it, and the repair goes."""
    entry = await async_add_charger(hass, switch=False)
    result = await _reconfigure(hass, entry)
    assert result["step_id"] == "entities_map"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"status": STATUS, "energy": ENERGY, "enable": SWITCH}
    )
    assert result["step_id"] == "entities_states"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], MEANINGS)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.device.capabilities.can_enable

    er.async_get(hass).async_remove(SWITCH)
    await hass.async_block_till_done()
    issue_id = f"source_entity_missing_{entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    result = await _reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"status": STATUS, "energy": ENERGY, "enable": ALLOWED}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], MEANINGS)
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize(
    ("value", "unit", "converter", "target", "expected"),
    [
        ("11.04", "kW", PowerConverter, "W", 11040.0),
        ("11040000", "mW", PowerConverter, "W", 11040.0),
        ("16000", "mA", ElectricCurrentConverter, "A", 16.0),
        ("16", None, ElectricCurrentConverter, "A", 16.0),  # a current without unit: A
        ("16", None, PowerConverter, "W", None),  # a power without unit: no guess
        ("-nan", "W", PowerConverter, "W", None),
    ],
)
async def test_power_and_current_states_as_home_assistant_shows_them(
    hass: HomeAssistant,
    value: str,
    unit: str | None,
    converter: type[BaseUnitConverter],
    target: str,
    expected: float | None,
) -> None:
    hass.states.async_set("sensor.x", value, {} if unit is None else {"unit_of_measurement": unit})
    default = "A" if converter is ElectricCurrentConverter else None
    result = convert(hass.states.get("sensor.x"), converter, target, default=default)
    assert result == pytest.approx(expected) if expected is not None else result is None


async def test_the_car_leaves_while_the_integration_is_down(
    hass: HomeAssistant, garage: Garage
) -> None:
    """Unloaded mid-session; the car charges 2 more minutes and leaves before the charger
    is back: the session ends then, recovered, with the energy the register counted."""
    ended = _events(hass, EVENT_SESSION_ENDED)
    entry = await async_add_charger(hass, card=False)
    await garage.plug()
    for _ in range(3):
        await garage.run(60)
    assert await hass.config_entries.async_unload(entry.entry_id)
    for _ in range(2):
        await garage.run(60)
    await garage.unplug()
    await garage.run(60)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert len(ended) == 1
    assert Decimal(ended[0]["energy_wh"]) == garage.delivered_wh == Decimal(1000)
    assert ended[0]["end_reason"] == "recovered"


@pytest.mark.parametrize(
    ("status", "plug", "charging", "expected"),
    [
        # Plug and charging binary sensors alone (evcc): A, B and C.
        (None, "off", "off", ChargerState.A),
        (None, "on", "off", ChargerState.B),
        (None, "on", "on", ChargerState.C),
        (None, "unavailable", "on", None),  # no plug state: no data, never A
        # A word meaning "ask the plug sensor" ("ready" is free for some, connected for others).
        ("ready", "off", None, ChargerState.A),
        ("ready", "on", None, ChargerState.B),
        ("ready", None, None, None),
        # An unmapped word: the plug sensor decides; without one there is no state.
        ("rebooting", "on", None, ChargerState.B),
        ("rebooting", None, None, None),
        ("offline", "on", None, None),  # mapped to "no data"
        ("charging", "on", None, ChargerState.C),
        ("unknown", "on", None, None),
    ],
)
async def test_the_charger_state_from_status_plug_and_charging(
    hass: HomeAssistant,
    status: str | None,
    plug: str | None,
    charging: str | None,
    expected: ChargerState | None,
) -> None:
    mapping = EntityMapping(
        status=None if status is None else "sensor.status",
        states={"ready": "plug", "offline": "none", "charging": "C"},
        plug=None if plug is None else "binary_sensor.plug",
        charging=None if charging is None else "binary_sensor.charging",
        energy="sensor.energy",
    )
    for entity_id, value in (
        ("sensor.status", status),
        ("binary_sensor.plug", plug),
        ("binary_sensor.charging", charging),
    ):
        if value is not None:
            hass.states.async_set(entity_id, value)
    assert EntityChargerDevice(hass, mapping).charger_state() is expected


async def test_a_number_limit_and_a_select_enable_are_commanded_through_their_domains(
    hass: HomeAssistant,
) -> None:
    """input_number / input_select stand in for number / select: same services, own domain."""
    assert await async_setup_component(
        hass,
        "input_number",
        {"input_number": {"limit": {"min": 0, "max": 32, "initial": 16, "mode": "box"}}},
    )
    assert await async_setup_component(
        hass,
        "input_select",
        {"input_select": {"force": {"options": ["0", "1", "2"], "initial": "0"}}},
    )
    device = EntityChargerDevice(
        hass,
        EntityMapping(
            plug="binary_sensor.plug",
            energy="sensor.energy",
            enable="input_select.force",
            enable_on="0",
            enable_off="1",
            limit="input_number.limit",
        ),
    )
    caps = device.capabilities
    assert (caps.can_enable, caps.can_set_current, caps.max_current_a) == (True, True, 32.0)
    await device.set_current_limit(10)
    await device.set_enabled(False)
    assert hass.states.get("input_number.limit").state == "10.0"
    assert hass.states.get("input_select.force").state == "1"
    hass.states.async_set("binary_sensor.plug", "on")
    reading = await device.read()
    assert (reading.current_limit, reading.enabled) == (10.0, False)
    await device.set_enabled(True)
    assert hass.states.get("input_select.force").state == "0"
    # A refused action is a device error (authorization retries), not a crash.
    with pytest.raises(DeviceConnectionError):
        await device.set_current_limit(99)


async def test_the_mapping_form_says_what_is_wrong_and_recovers(
    hass: HomeAssistant, garage: Garage
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "entities"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    flow_id = result["flow_id"]
    # No state at all; an "energy" in W; an action that does not exist.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"energy": POWER, "limit_action": "easee.set_charger_dynamic_limit"}
    )
    assert result["errors"] == {
        "base": "state_required",
        "energy": "energy_unit",
        "limit_action": "unknown_action",
    }
    # A select without its two options.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"status": STATUS, "energy": ENERGY, "enable": STATUS}
    )
    assert result["errors"] == {"enable_on": "select_options_required"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"status": STATUS, "energy": ENERGY, "enable": SWITCH}
    )
    assert result["step_id"] == "entities_states"
    result = await hass.config_entries.flow.async_configure(flow_id, MEANINGS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # The same charger again: refused.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "entities"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"status": STATUS, "energy": ENERGY, "enable": SWITCH}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], MEANINGS)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_a_current_limit_alone_holds_the_charger_at_0_a(
    hass: HomeAssistant, garage: Garage
) -> None:
    """No switch, only a current-limit number: default deny holds it at 0 A, an accepted
    card releases it to its maximum, the unplug holds it again."""
    limit = "input_number.garage_limit"
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION], CARD, person="Alex")
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "entities"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"status": STATUS, "energy": ENERGY, "rfid": CARD_ENTITY, "limit": limit}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], MEANINGS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert float(hass.states.get(limit).state) == 0
    await garage.plug()
    await garage.run(60)
    assert float(hass.states.get(limit).state) == 0
    await garage.swipe(CARD)
    assert float(hass.states.get(limit).state) == 32
    await garage.unplug()
    assert float(hass.states.get(limit).state) == 0


async def test_the_options_offer_no_polling_interval_for_a_charger_that_reports_itself(
    hass: HomeAssistant, garage: Garage
) -> None:
    entry = await async_add_charger(hass, card=False)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    # Its readings follow the source's state changes; an interval would change nothing.
    assert result["menu_options"] == ["energy_source", "tariff"]
