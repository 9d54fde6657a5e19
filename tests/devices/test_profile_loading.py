"""Profiles: read once, size-limited, checked against the schema and for overlaps, and the
format reference's worked examples read against simulators."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.ev_charging_monitor.devices import ChargerState
from custom_components.ev_charging_monitor.devices.errors import ProfileReadError
from custom_components.ev_charging_monitor.devices.modbus import profile as profile_module
from custom_components.ev_charging_monitor.devices.modbus.codecs import (
    DataType,
    WordOrder,
    decode_number,
)
from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from custom_components.ev_charging_monitor.devices.modbus.profile import (
    MAX_PROFILE_BYTES,
    InvalidProfileError,
    ProfileTooLargeError,
    check_profile_size,
    load_profile_text,
    shipped_profiles,
    shipped_profiles_loaded,
)
from custom_components.ev_charging_monitor.devices.modbus.profile_checks import SCHEMA_PATH
from custom_components.ev_charging_monitor.devices.modbus.profile_schema import (
    PROFILE_SCHEMA,
    SPEC_KEYS,
)
from custom_components.ev_charging_monitor.devices.modbus.trial import trial_read
from simulators.behaviour import ConstantLoad
from simulators.clock import SimClock
from simulators.examples.carlo_gavazzi_em24 import CarloGavazziEM24
from simulators.examples.heidelberg_energy_control import HeidelbergEnergyControl
from simulators.examples.register_table import RegisterTable
from simulators.vehicle import Vehicle

from .conftest import StartSimulator


def test_shipped_profiles_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first call no file is opened again, and every caller sees the same data."""
    first = shipped_profiles()
    assert shipped_profiles_loaded()
    expected = {path.stem for path in profile_module.PROFILES_DIR.glob("*.yaml")}
    assert set(first) == expected

    def no_reading(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("a profile file was read again")

    monkeypatch.setattr(Path, "read_text", no_reading)
    assert shipped_profiles() is first
    with pytest.raises(TypeError):
        first["x"] = first["vestel_evc04"]  # type: ignore[index]


def test_size_limit_counts_bytes() -> None:
    """256 KB is the limit in UTF-8 bytes: exactly the limit passes, one byte more fails."""
    check_profile_size("a" * MAX_PROFILE_BYTES)
    with pytest.raises(ProfileTooLargeError) as err:
        check_profile_size("a" * (MAX_PROFILE_BYTES + 1))
    assert err.value.size == MAX_PROFILE_BYTES + 1
    assert "at most 256 KB" in str(err.value)
    # "ä" is two bytes: half as many characters reach the limit.
    check_profile_size("ä" * (MAX_PROFILE_BYTES // 2))
    with pytest.raises(ProfileTooLargeError):
        check_profile_size("ä" * (MAX_PROFILE_BYTES // 2) + "a")


def test_too_large_profile_is_refused_before_parsing() -> None:
    """A too large text is never handed to the YAML parser (it would not even be YAML)."""
    garbage = "{" * (MAX_PROFILE_BYTES + 1)
    with pytest.raises(ProfileTooLargeError):
        load_profile_text(garbage)
    # The same text without the limit reaches the parser, and fails with a clear error.
    with pytest.raises(InvalidProfileError, match=r"nested too deeply|not valid YAML"):
        load_profile_text(garbage, limit=False)


def test_deep_nesting_within_the_limit_is_a_clear_error() -> None:
    """Nesting that exhausts the parser's stack is an invalid profile, not a crash."""
    with pytest.raises(InvalidProfileError, match="nested too deeply"):
        load_profile_text("[" * 200_000)


# -- the format reference's worked examples ----------------------------------------------------

DOCS = Path(__file__).parents[2] / "docs"
_YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _examples(doc: str) -> dict[str, str]:
    """The worked examples of a docs page (its ```yaml blocks), by the profile's kind."""
    blocks = _YAML_BLOCK.findall((DOCS / doc).read_text(encoding="utf-8"))
    assert len(blocks) == 2, f"{doc} should hold exactly the two worked examples"
    return {yaml.safe_load(block)["kind"]: block for block in blocks}


def test_docs_examples_are_the_same_in_both_languages() -> None:
    """The German page shows the same profiles (only comments are translated)."""
    english, german = _examples("user_profiles.md"), _examples("user_profiles.de.md")
    assert set(english) == {"charger", "meter"}
    for kind, text in english.items():
        assert yaml.safe_load(text) == yaml.safe_load(german[kind])


def test_docs_examples_load_without_warnings() -> None:
    """Both examples are valid, and every value name in them is one the integration uses."""
    for text in _examples("user_profiles.md").values():
        profile = load_profile_text(text)
        assert profile.unknown_values() == []


async def test_docs_wallbox_example_reads_the_simulated_box(
    clock: SimClock, start_simulator: StartSimulator
) -> None:
    """The Heidelberg example against a simulator written from the register table.

    Expected figures by hand: 16 A on three phases at 230 V is 3 x 3680 = 11 040 W; a minute
    of it adds 184 Wh to the 4 321 000 Wh the box starts with.
    """
    profile = load_profile_text(_examples("user_profiles.md")["charger"])
    box = await start_simulator(HeidelbergEnergyControl(clock))
    device = ModbusDevice(profile, "127.0.0.1", port=box.port)
    try:
        identity = await device.identify()
        assert identity.firmware == "1.0.8"
        assert identity.model == "Energy Control"
        idle = await device.read()
        assert idle.state is ChargerState.A
        assert idle.energy == 4_321_000
        assert idle.current_limit == 16.0
        assert idle.extra == {"charging_state": 3, "failsafe_timeout": 15.0, "failsafe_current": 0}

        box.charger.plug(Vehicle(max_current=16, phases=3))
        for _ in range(12):  # a minute of polls every 5 s keeps the box's watchdog fed
            clock.advance(5)
            charging = await device.read()
        assert charging.state is ChargerState.C
        assert (charging.current_l1, charging.current_l2, charging.current_l3) == (16, 16, 16)
        assert (charging.voltage_l1, charging.voltage_l2, charging.voltage_l3) == (230, 230, 230)
        assert charging.power == 11_040
        assert charging.energy == 4_321_000 + 184  # 11 040 W for 60 s

        await device.set_current_limit(10)
        assert box.writes[-1] == (1, "holding", 261, [100])
        assert box.requests[-1][0] == 16  # FC16, as the profile says
        assert (await device.read()).current_limit == 10.0
        await device.set_enabled(False)
        assert box.writes[-1] == (1, "holding", 261, [0])
        await device.set_failsafe(current_a=0, timeout_s=20)
        assert box.writes[-2:] == [(1, "holding", 262, [0]), (1, "holding", 257, [20_000])]
    finally:
        await device.close()


async def test_docs_meter_example_reads_the_simulated_meter(
    clock: SimClock, start_simulator: StartSimulator
) -> None:
    """The EM24 example (low word first) against a simulator written from the protocol.

    By hand: 16 A per phase at 230 V is 3680 W per phase, 11 040 W in all; 1234.5 kWh is
    1 234 500 Wh, and half an hour adds 5520 Wh (the register counts 0.1 kWh: 5500).
    """
    profile = load_profile_text(_examples("user_profiles.md")["meter"])
    load = ConstantLoad(clock, amps=16, phases=3)
    meter = await start_simulator(CarloGavazziEM24(clock, load=load, import_kwh=1234.5))
    device = ModbusDevice(profile, "127.0.0.1", port=meter.port)
    try:
        reading = await device.read()
        assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, 230, 230)
        assert (reading.current_l1, reading.current_l2, reading.current_l3) == (16, 16, 16)
        assert (reading.power_l1, reading.power_l2, reading.power_l3) == (3680, 3680, 3680)
        assert reading.power == 11_040
        assert reading.energy == 1_234_500
        # One request reads 0x00..0x35 across the unused VA/var registers (max_gap 16).
        assert meter.requests[-1] == (4, 1, 0x00, 0x36)
        clock.advance(1800)
        assert (await device.read()).energy == 1_234_500 + 5_500
    finally:
        await device.close()


def test_word_order_of_64_bit_values_as_documented() -> None:
    """The reference's figures: `little` reverses all four registers of a 64-bit value."""
    assert decode_number([0x0001, 0x0002], DataType.U32, WordOrder.BIG) == 65538
    assert decode_number([0x0002, 0x0001], DataType.U32, WordOrder.LITTLE) == 65538
    words = [0x0004, 0x0003, 0x0002, 0x0001]
    assert decode_number(words, DataType.U64, WordOrder.LITTLE) == 0x0001_0002_0003_0004
    assert decode_number(words[::-1], DataType.U64, WordOrder.BIG) == 0x0001_0002_0003_0004


# -- the JSON Schema ---------------------------------------------------------------------------


def test_shipped_profiles_follow_the_json_schema() -> None:
    """Every shipped profile file is valid against the schema editors use."""
    validator = jsonschema_rs.Draft7Validator(json.loads(SCHEMA_PATH.read_text()))
    for path in sorted(profile_module.PROFILES_DIR.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        document = json.loads(json.dumps(document, default=str))  # keys as JSON has them
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], path.name


def test_schema_is_a_valid_draft_7_schema() -> None:
    """Editors load it as a draft-07 schema: it must itself follow the meta-schema."""
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema_rs.meta.validate(schema)


def test_schema_knows_every_key_the_loader_accepts() -> None:
    """The schema and the loader's own rules name the same register keys (no drift)."""
    schema = json.loads(SCHEMA_PATH.read_text())
    register_keys = set(schema["definitions"]["register"]["properties"])
    loader_keys = {str(key) for key in SPEC_KEYS}
    assert register_keys == loader_keys
    watchdog = schema["properties"]["controls"]["properties"]["watchdog"]["properties"]
    assert set(watchdog) == {"action", "interval", "address", "unit", "value", "when"}
    loader = {str(key): value for key, value in PROFILE_SCHEMA.schema.items()}
    assert set(schema["properties"]) == set(loader)
    for section in ("connection", "capabilities", "controls"):
        assert set(schema["properties"][section]["properties"]) == {
            str(key) for key in loader[section]
        }, section


def _profile(values: str, extra: str = "") -> str:
    """A small meter profile with these `values` lines (indented by two spaces)."""
    return (
        "id: test_meter\nname: Test\nkind: meter\nmanufacturer: Test\nsource: hand\n"
        f"values:\n{values}{extra}"
    )


@pytest.mark.parametrize(
    ("text", "reason", "placeholders"),
    [
        (
            "id: x\nname: n\nkind: meter\nmanufacturer: m\nvalues: {p: {address: 1, type: u16}}\n",
            "missing",
            {"field": "source"},
        ),
        (
            _profile("  power: {address: 1, type: u16, scael: 10}\n"),
            "unknown_key",
            {"field": "values.power.scael"},
        ),
        (
            _profile("  power: {address: 1, type: u17}\n"),
            "not_allowed",
            {"field": "values.power.type"},
        ),
        (
            _profile("  power: {address: 70000, type: u16}\n"),
            "wrong_type",
            {"field": "values.power.address"},
        ),
        (_profile("  Power: {address: 1, type: u16}\n"), "bad_name", {"field": "values"}),
        (
            "id: x\nname: n\nkind: meter\nmanufacturer: m\nsource: s\nvalues: {}\n",
            "missing",
            {"field": "values"},
        ),
        ("values: [unclosed\n", "not_yaml", {"field": "profile", "line": "2"}),
    ],
)
def test_schema_errors_name_the_field(text: str, reason: str, placeholders: dict[str, str]) -> None:
    """Each kind of schema problem has its reason code and names the field."""
    with pytest.raises(InvalidProfileError) as err:
        load_profile_text(text)
    assert err.value.reason == reason
    assert placeholders.items() <= err.value.placeholders.items()


# -- duplicate and overlapping registers -------------------------------------------------------


def test_duplicate_register_names_both_values() -> None:
    """The issue's case: L2's line copied from L1 without changing the address."""
    text = _profile(
        "  current_l1: {address: 6, type: u16, table: input}\n"
        "  current_l2: {address: 6, type: u16, table: input}\n"
    )
    with pytest.raises(InvalidProfileError) as err:
        load_profile_text(text)
    assert err.value.reason == "duplicate_register"
    assert err.value.placeholders == {
        "field": "values.current_l2",
        "other": "values.current_l1",
        "register": "input 6, unit 1",
    }


def test_overlapping_registers_name_both_values() -> None:
    """A 32-bit value at 10 covers 10 and 11: a value at 11 overlaps it."""
    text = _profile("  energy: {address: 10, type: u32}\n  power: {address: 11, type: u16}\n")
    with pytest.raises(InvalidProfileError) as err:
        load_profile_text(text)
    assert err.value.reason == "overlapping_registers"
    assert err.value.placeholders["field"] == "values.power"
    assert err.value.placeholders["other"] == "values.energy"
    assert err.value.placeholders["register"] == "holding 11, unit 1"


def test_same_register_on_purpose_and_bit_fields_are_accepted() -> None:
    """`same_register_as` and two bit fields of one register are no overlap."""
    profile = load_profile_text(
        _profile(
            "  power_l1: {address: 12, type: f32}\n"
            "  power: {address: 12, type: f32, same_register_as: power_l1}\n"
            "  low: {address: 20, type: u16, mask: 255}\n"
            "  high: {address: 20, type: u16, shift: 8, mask: 255}\n"
        )
    )
    assert [spec.name for spec in profile.values] == ["power_l1", "power", "low", "high"]
    with pytest.raises(InvalidProfileError) as err:
        load_profile_text(
            _profile(
                "  power_l1: {address: 12, type: f32}\n"
                "  power: {address: 14, type: f32, same_register_as: power_l1}\n"
            )
        )
    assert err.value.reason == "not_same_register"


def test_two_controls_on_one_register() -> None:
    """The failsafe current written where the current limit is would be a silent bug."""
    text = _profile(
        "  power: {address: 1, type: u16}\n",
        "controls:\n"
        "  current_limit: {address: 261, type: u16}\n"
        "  failsafe_current: {address: 261, type: u16}\n",
    )
    with pytest.raises(InvalidProfileError) as err:
        load_profile_text(text)
    assert err.value.reason == "duplicate_register"
    assert err.value.placeholders["other"] == "controls.current_limit"
    assert err.value.placeholders["register"] == "holding 261, unit 1"


# -- unknown value names -----------------------------------------------------------------------


def test_unknown_value_names_are_listed() -> None:
    """Names nothing uses are listed; names the state or a scale factor reads are used."""
    text = (
        "id: t\nname: T\nkind: charger\nmanufacturer: T\nsource: hand\n"
        "values:\n"
        "  curent_l1: {address: 1, type: u16}\n"
        "  cp: {address: 2, type: u16}\n"
        "  temperature: {address: 3, type: i16}\n"
        "  power: {address: 4, type: u16}\n"
        "state: {from: cp, map: {1: A}}\n"
    )
    assert load_profile_text(text).unknown_values() == ["curent_l1", "temperature"]


# -- the version type --------------------------------------------------------------------------


async def test_packed_firmware_shows_as_a_version(start_simulator: StartSimulator) -> None:
    """The issue's register: 4611 (0x1203) reads as 1.2.3, not 4611."""
    table = await start_simulator(RegisterTable({("holding", 4): 4611, ("holding", 5): 0}))
    profile = load_profile_text(
        _profile(
            "  power: {address: 5, type: u16}\n",
            "identity:\n  firmware: {address: 4, type: version, version_bits: [4, 4, 8]}\n",
        )
    )
    device = ModbusDevice(profile, "127.0.0.1", port=table.port)
    try:
        assert (await device.identify()).firmware == "1.2.3"
    finally:
        await device.close()


def test_version_parts_must_fill_the_register() -> None:
    """[4, 4] are 8 bits of a 16-bit register: an error naming the field and the figures."""
    with pytest.raises(InvalidProfileError) as err:
        load_profile_text(_profile("  fw: {address: 4, type: version, version_bits: [4, 4]}\n"))
    assert err.value.reason == "version_bits"
    assert err.value.placeholders == {
        "field": "values.fw.version_bits",
        "bits": "16",
        "total": "8",
    }


# -- conditional watchdog writes ---------------------------------------------------------------

_LIFEBIT = (
    "id: t\nname: T\nkind: charger\nmanufacturer: T\nsource: hand\n"
    "values:\n"
    "  state_raw: {address: 1, type: u16}\n"
    "  lifebit: {address: 6000, type: u16}\n"
    "state: {from: state_raw, map: {0: A}}\n"
    "controls:\n"
    "  watchdog: {action: write, address: 6000, value: 1, interval: 5, "
    "when: {lifebit: {ne: 2}}}\n"
)


async def test_watchdog_leaves_a_disabled_lifebit_alone(start_simulator: StartSimulator) -> None:
    """While the life bit reads 2 (watchdog off) nothing is written; at 0 the 1 is written."""
    table = await start_simulator(RegisterTable({("holding", 1): 0, ("holding", 6000): 2}))
    device = ModbusDevice(load_profile_text(_LIFEBIT), "127.0.0.1", port=table.port)
    try:
        await device.keep_alive()
        assert table.writes == []
        table.registers[("holding", 6000)] = 0  # the device's watchdog is on again
        await device.keep_alive()
        assert table.writes == [(1, "holding", 6000, [1])]
    finally:
        await device.close()


def test_watchdog_condition_on_a_missing_value() -> None:
    """A condition on a value the profile does not have names the field and the name."""
    with pytest.raises(InvalidProfileError) as err:
        load_profile_text(_LIFEBIT.replace("when: {lifebit:", "when: {lifbit:"))
    assert err.value.reason == "no_value"
    assert err.value.placeholders == {"field": "controls.watchdog.when", "name": "lifbit"}


# -- a failing test read names the register ----------------------------------------------------


async def test_trial_read_names_the_refused_register(start_simulator: StartSimulator) -> None:
    """The device lacks register 7: the error names current_l2 and where it was read."""
    table = await start_simulator(
        RegisterTable({("input", 6): 100, ("input", 8): 100, ("input", 14): 0})
    )
    profile = load_profile_text(
        _profile(
            "  current_l1: {address: 6, type: u16, table: input}\n"
            "  current_l2: {address: 7, type: u16, table: input}\n"
            "  current_l3: {address: 8, type: u16, table: input}\n"
            "  power: {address: 14, type: u16, table: input}\n"
        )
    )
    device = ModbusDevice(profile, "127.0.0.1", port=table.port)
    try:
        with pytest.raises(ProfileReadError) as err:
            await trial_read(device)
    finally:
        await device.close()
    assert err.value.field == "values.current_l2"
    assert err.value.register == "input 7, unit 1"
    assert err.value.code == 2  # illegal data address


async def test_trial_read_names_a_request_across_a_gap(start_simulator: StartSimulator) -> None:
    """Each value reads alone, but max_gap bridges a register the device lacks."""
    table = await start_simulator(RegisterTable({("holding", 0): 1, ("holding", 2): 2}))
    values = "  power: {address: 0, type: u16}\n  energy: {address: 2, type: u16}\n"
    bridging = load_profile_text(
        _profile(values).replace("values:\n", "connection: {max_gap: 1}\nvalues:\n")
    )
    device = ModbusDevice(bridging, "127.0.0.1", port=table.port)
    separate = ModbusDevice(load_profile_text(_profile(values)), "127.0.0.1", port=table.port)
    try:
        with pytest.raises(ProfileReadError) as err:
            await trial_read(device)
        _identity, reading = await trial_read(separate)
    finally:
        await device.close()
        await separate.close()
    assert err.value.field == "values.power, values.energy"
    assert err.value.register == "holding 0-2, unit 1"
    assert (reading.power, reading.energy) == (1, 2)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("source: 2024-01-01", "source"),  # YAML reads a date
        ("source: !!binary aGVsbG8=", "source"),  # and binary data
        ("source: s\nvalues: {p: {address: 1, type: u16, scale: .nan}}", "values.p.scale"),
        ("source: s\nvalues: {p: {address: 1, type: u16, scale: .inf}}", "values.p.scale"),
        (
            "source: s\nvalues: {p: {address: 99999999999999999999999, type: u16}}",
            "values.p.address",
        ),
        ("source: s\nvalues: null", "values"),
    ],
)
def test_garbage_in_a_profile_is_a_clear_error(line: str, field: str) -> None:
    """Types JSON lacks, NaN, infinity, huge numbers: an error naming the field, no crash."""
    text = "id: x\nname: n\nkind: meter\nmanufacturer: m\n" + line + "\n"
    if "values" not in line:
        text += "values: {p: {address: 1, type: u16}}\n"
    with pytest.raises(InvalidProfileError) as err:
        load_profile_text(text)
    assert err.value.placeholders["field"] == field


_KEYS = st.sampled_from(
    [
        "address",
        "type",
        "table",
        "unit",
        "count",
        "word_order",
        "scale",
        "mask",
        "shift",
        "enum",
        "version_bits",
        "same_register_as",
        "from",
        "map",
        "rules",
        "when",
        "state",
        "action",
        "interval",
        "value",
        "current_limit",
        "watchdog",
        "enable",
        "p",
        "q",
    ]
)
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["u16", "u32", "version", "holding", "coil", "little", "p", "A", "write"])
)
_NODES = st.recursive(
    _LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(
    values=st.dictionaries(st.sampled_from(["p", "q", "power", "energy"]), _NODES, max_size=3),
    state=_NODES,
    controls=_NODES,
    identity=_NODES,
)
def test_any_document_is_a_profile_or_a_clear_error(
    values: dict[str, object], state: object, controls: object, identity: object
) -> None:
    """Whatever the sections hold, loading ends in a profile or an InvalidProfileError."""
    document = {
        "id": "fuzz",
        "name": "Fuzz",
        "kind": "charger",
        "manufacturer": "m",
        "source": "s",
        "values": values,
        "state": state,
        "controls": controls,
        "identity": identity,
    }
    for strict in (True, False):
        error: InvalidProfileError | None = None
        try:
            profile_module.parse_profile(document, strict=strict)
        except InvalidProfileError as err:
            error = err
        if error is not None:
            assert error.reason
            assert isinstance(error.placeholders.get("field"), str)
