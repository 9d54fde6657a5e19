"""The user-profile step: the format reference's examples set up, each invalid case explained.

Real simulators on loopback (the example devices of docs/user_profiles.md and a hand-written
register table); every error is checked as the user reads it, formatted from the English and
the German translation with the flow's placeholders.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations

from custom_components.ev_charging_monitor.authorization.plug_cycle import COUNTERS
from custom_components.ev_charging_monitor.const import CONF_DRIVER, CONF_PROFILE_YAML, DOMAIN
from custom_components.ev_charging_monitor.devices.models import READING_FIELDS
from custom_components.ev_charging_monitor.devices.value_names import (
    ENTITY_VALUES,
    FAILSAFE_CURRENT_NAMES,
    FAILSAFE_TIMEOUT_NAMES,
    USED_VALUES,
)
from custom_components.ev_charging_monitor.profiles import PROFILE_DOCS_URL
from simulators.behaviour import ConstantLoad
from simulators.clock import SimClock
from simulators.examples.carlo_gavazzi_em24 import CarloGavazziEM24
from simulators.examples.heidelberg_energy_control import HeidelbergEnergyControl
from simulators.examples.register_table import RegisterTable
from simulators.modbus import ModbusSimulator

DOCS = Path(__file__).parents[2] / "docs"


def _doc_example(kind: str) -> str:
    """A worked example of the English reference, as a user copies it."""
    text = (DOCS / "user_profiles.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    return next(block for block in blocks if yaml.safe_load(block)["kind"] == kind)


async def _profile_step(hass: HomeAssistant, port: int) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "manual"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port, CONF_DRIVER: "custom"}
    )
    assert result["step_id"] == "custom_profile"
    return dict(result)


async def _submit(hass: HomeAssistant, flow_id: str, text: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_PROFILE_YAML: text})
    await hass.async_block_till_done()
    return dict(result)


async def _messages(hass: HomeAssistant, result: dict[str, Any]) -> dict[str, str]:
    """The error the user sees, in English and German, formatted with its placeholders."""
    (key,) = result["errors"].values()
    shown = {}
    for language in ("en", "de"):
        translations = await async_get_translations(hass, language, "config", [DOMAIN])
        text = translations[f"component.{DOMAIN}.config.error.{key}"]
        shown[language] = text.format(**result["description_placeholders"])
    return shown


@pytest.fixture
async def served() -> AsyncIterator[list[ModbusSimulator]]:
    """Simulators started by a test, stopped after it (with every entry unloaded)."""
    started: list[ModbusSimulator] = []
    yield started
    for simulator in started:
        await simulator.stop()


async def _serve(served: list[ModbusSimulator], simulator: ModbusSimulator) -> int:
    port = await simulator.start("127.0.0.1", 0)
    served.append(simulator)
    return port


async def _unload_all(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def _states(hass: HomeAssistant, entry_id: str) -> dict[str, str]:
    """Entity states by unique id (the entry's unique id and the description key)."""
    registry = er.async_get(hass)
    states = {}
    for entity in er.async_entries_for_config_entry(registry, entry_id):
        state = hass.states.get(entity.entity_id)
        if state is not None:
            states[entity.unique_id] = state.state
    return states


# -- the worked examples -----------------------------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_wallbox_example_sets_up_from_the_docs(
    hass: HomeAssistant, clock: SimClock, served: list[ModbusSimulator]
) -> None:
    """The Heidelberg example pasted as it stands: no warning, entities with the box's values.

    By hand: 4 321 000 Wh on the box is 4321 kWh; the idle box offers its 16 A maximum; the
    layout-version register 0x0108 shows as firmware 1.0.8.
    """
    box = HeidelbergEnergyControl(clock)
    result = await _profile_step(hass, await _serve(served, box))
    result = await _submit(hass, result["flow_id"], _doc_example("charger"))
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert entry.title == "Amperfied (Heidelberg) Energy Control"
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert device.sw_version == "1.0.8"
    states = _states(hass, entry.entry_id)
    prefix = entry.unique_id or entry.entry_id  # no serial: entities keyed by the entry
    assert states[f"{prefix}_energy"] == "4321.0"
    assert states[f"{prefix}_status"] == "no_vehicle"
    assert states[f"{prefix}_current_limit"] == "16.0"
    assert states[f"{prefix}_voltage_l1"] == "230"
    await _unload_all(hass)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_meter_example_sets_up_from_the_docs(
    hass: HomeAssistant, clock: SimClock, served: list[ModbusSimulator]
) -> None:
    """The EM24 example: 16 A on three phases at 230 V is 11 040 W; 1234.5 kWh imported."""
    meter = CarloGavazziEM24(clock, load=ConstantLoad(clock, amps=16, phases=3), import_kwh=1234.5)
    result = await _profile_step(hass, await _serve(served, meter))
    result = await _submit(hass, result["flow_id"], _doc_example("meter"))
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    states = _states(hass, entry.entry_id)
    prefix = entry.unique_id or entry.entry_id  # no serial: entities keyed by the entry
    assert float(states[f"{prefix}_power"]) == 11_040
    assert float(states[f"{prefix}_energy"]) == 1234.5
    assert float(states[f"{prefix}_current_l2"]) == 16
    assert float(states[f"{prefix}_power_l3"]) == 3680
    await _unload_all(hass)


# -- each invalid case, as the user reads it ---------------------------------------------------

_HEAD = "id: my_device\nname: Mine\nkind: meter\nmanufacturer: Me\nsource: manual p. 12\n"
_TABLE = {("input", 6): 100, ("input", 8): 100, ("input", 14): 2300, ("holding", 4): 4611}


@pytest.mark.parametrize(
    ("values", "key", "named"),
    [
        (  # the case: a copied line, its address not changed
            "values:\n"
            "  current_l1: {address: 6, type: u16, table: input, scale: 0.1}\n"
            "  current_l2: {address: 6, type: u16, table: input, scale: 0.1}\n",
            "profile_duplicate_register",
            ("values.current_l2", "values.current_l1", "input 6, unit 1"),
        ),
        (
            "values:\n"
            "  energy: {address: 13, type: u32, table: input}\n"
            "  power: {address: 14, type: u16, table: input}\n",
            "profile_overlapping_registers",
            ("values.power", "values.energy", "input 14, unit 1"),
        ),
        (
            "values:\n  power: {address: 14, type: u16, table: input}\n"
            "identity:\n  firmware: {address: 4, type: version, version_bits: [4, 4]}\n",
            "profile_version_bits",
            ("identity.firmware.version_bits", "16", "8"),
        ),
        (
            "values:\n  power: {address: 14, type: u16, table: input, scael: 0.1}\n",
            "profile_unknown_key",
            ("values.power.scael",),
        ),
        (
            "values:\n  power: {address: 14, type: u17}\n",
            "profile_not_allowed",
            ("values.power.type", "u16"),
        ),
        (
            "values:\n  power: {address: 14, type: u16}\n"
            "controls:\n  watchdog: {action: write, address: 9, interval: 5, "
            "when: {lifebit: {ne: 2}}}\n",
            "profile_no_value",
            ("controls.watchdog.when", "lifebit"),
        ),
        (
            "values:\n  power: {address: 14, type: u16\n",
            "profile_not_yaml",
            ("8)",),  # where the parser noticed: the end of the text (5 + 2 lines)
        ),
        (  # the device lacks input register 7: named, not "failed to connect"
            "values:\n"
            "  current_l1: {address: 6, type: u16, table: input, scale: 0.1}\n"
            "  current_l2: {address: 7, type: u16, table: input, scale: 0.1}\n"
            "  current_l3: {address: 8, type: u16, table: input, scale: 0.1}\n",
            "profile_read_refused",
            ("values.current_l2", "input 7, unit 1", "2"),
        ),
    ],
)
async def test_invalid_profile_explained_in_both_languages(
    hass: HomeAssistant,
    served: list[ModbusSimulator],
    values: str,
    key: str,
    named: tuple[str, ...],
) -> None:
    """The error names the field (and register) in English and German; then a fix is added."""
    table = RegisterTable(_TABLE)
    result = await _profile_step(hass, await _serve(served, table))
    result = await _submit(hass, result["flow_id"], _HEAD + values)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PROFILE_YAML: key}
    shown = await _messages(hass, result)
    for language, text in shown.items():
        assert "{" not in text, text
        for part in named:
            assert part in text, (language, text)
    assert shown["en"] != shown["de"]
    # The user corrects the profile in the same form: the device is added.
    fixed = _HEAD + "values:\n  current_l1: {address: 6, type: u16, table: input, scale: 0.1}\n"
    result = await _submit(hass, result["flow_id"], fixed)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await _unload_all(hass)


async def test_unknown_value_names_are_warned_not_dropped(
    hass: HomeAssistant, served: list[ModbusSimulator]
) -> None:
    """A misspelt name is listed before anything is added; the user fixes it or adds anyway."""
    table = RegisterTable(_TABLE)
    port = await _serve(served, table)
    text = (
        _HEAD + "values:\n"
        "  curent_l1: {address: 6, type: u16, table: input, scale: 0.1}\n"
        "  power: {address: 14, type: u16, table: input}\n"
        "identity:\n  firmware: {address: 4, type: version, version_bits: [4, 4, 8]}\n"
    )
    result = await _profile_step(hass, port)
    result = await _submit(hass, result["flow_id"], text)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "custom_profile_unused"
    assert result["menu_options"] == ["custom_profile", "custom_profile_add"]
    assert result["description_placeholders"] == {"names": "curent_l1"}
    for language, expected in (("en", "no entity shows them: curent_l1"), ("de", "curent_l1")):
        translations = await async_get_translations(hass, language, "config", [DOMAIN])
        description = translations[
            f"component.{DOMAIN}.config.step.custom_profile_unused.description"
        ]
        assert expected in description.format(**result["description_placeholders"])

    # Back to the form, which still holds the text; fixed, it is added without a warning.
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "custom_profile"}
        )
    )
    assert result["step_id"] == "custom_profile"
    schema_keys = {str(key): key for key in result["data_schema"].schema}
    assert schema_keys[CONF_PROFILE_YAML].description == {"suggested_value": text}
    result = await _submit(hass, result["flow_id"], text.replace("curent_l1", "current_l1"))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert device.sw_version == "1.2.3"  # the packed 4611, not "4611"
    await _unload_all(hass)


async def test_unknown_names_added_anyway_reach_diagnostics(
    hass: HomeAssistant, served: list[ModbusSimulator]
) -> None:
    """Added anyway, the value is read with every poll (it is in the reading's extra)."""
    port = await _serve(served, RegisterTable(_TABLE))
    text = _HEAD + "values:\n  temperature: {address: 14, type: u16, table: input}\n"
    result = await _profile_step(hass, port)
    result = await _submit(hass, result["flow_id"], text)
    assert result["step_id"] == "custom_profile_unused"
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "custom_profile_add"}
        )
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.runtime_data.live.data.extra == {"temperature": 2300}
    await _unload_all(hass)


def test_documented_value_names_are_the_ones_the_integration_reads() -> None:
    """The names the reference lists (and the warning spares) are the ones code reads.

    A consumer reading a new name from a reading's extra without adding it to the list
    would make profile authors get a warning for a value that is in fact used.
    """
    known = set(ENTITY_VALUES) | set(USED_VALUES)
    assert set(READING_FIELDS) - {"state"} <= known
    consumers = {*FAILSAFE_CURRENT_NAMES, *FAILSAFE_TIMEOUT_NAMES, *COUNTERS}
    assert consumers <= known
    reference = (DOCS / "user_profiles.md").read_text(encoding="utf-8")
    german = (DOCS / "user_profiles.de.md").read_text(encoding="utf-8")
    for name, unit in {**ENTITY_VALUES, **USED_VALUES}.items():
        row = next(line for line in reference.splitlines() if f"`{name}`" in line and "|" in line)
        assert f"| {unit} |" in row or not unit, (name, row)
        assert f"`{name}`" in german, name


async def test_silent_register_and_closed_port(
    hass: HomeAssistant, served: list[ModbusSimulator]
) -> None:
    """A device that stops answering: the value is named; nothing listening: cannot_connect.

    Both end in recovery: the device answers again and the same form adds it.
    """
    table = RegisterTable(_TABLE)
    port = await _serve(served, table)
    text = _HEAD + "values:\n  power: {address: 14, type: u16, table: input}\n"
    result = await _profile_step(hass, port)
    table.faults.delay = 10  # longer than the client's 3 s timeout
    result = await _submit(hass, result["flow_id"], text)
    assert result["errors"] == {CONF_PROFILE_YAML: "profile_read_timeout"}
    shown = await _messages(hass, result)
    assert "values.power" in shown["de"]
    assert "input 14, unit 1" in shown["de"]
    table.faults.delay = 0
    result = await _submit(hass, result["flow_id"], text)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await _unload_all(hass)

    await table.stop()
    result = await _profile_step(hass, port)
    result = await _submit(hass, result["flow_id"], text)
    assert result["errors"] == {"base": "cannot_connect"}


async def test_no_register_to_blame_still_says_what_failed(
    hass: HomeAssistant, served: list[ModbusSimulator]
) -> None:
    """A SunSpec profile at a device without the SunSpec marker: the reason, not "connect"."""
    shipped = (
        (Path(__file__).parents[2] / "custom_components" / "ev_charging_monitor" / "devices")
        / "modbus"
        / "profiles"
        / "sunspec_meter_int.yaml"
    )
    text = shipped.read_text().replace("id: sunspec_meter_int", "id: my_sunspec")
    result = await _profile_step(hass, await _serve(served, RegisterTable(_TABLE)))
    result = await _submit(hass, result["flow_id"], text)
    assert result["errors"] == {CONF_PROFILE_YAML: "profile_read_failed"}
    assert "SunS" in result["description_placeholders"]["detail"]


def test_the_form_links_the_reference_in_the_repository() -> None:
    """The link the form shows points at the reference this repository holds."""
    assert PROFILE_DOCS_URL.endswith("/blob/main/docs/user_profiles.md")
    manifest = json.loads(
        (Path(__file__).parents[2] / "custom_components" / DOMAIN / "manifest.json").read_text()
    )
    assert PROFILE_DOCS_URL.startswith(manifest["documentation"] + "/")
    assert (DOCS / "user_profiles.md").is_file()
