"""Declarative Modbus device profiles: the data that describes one device family.

A profile is a YAML document (see profiles/*.yaml for the shipped ones). It is validated
here; every error names the field and the problem, so a user-supplied profile can be fixed
from the message alone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import voluptuous as vol
import yaml

from ..errors import InvalidProfileError
from ..models import Capabilities, ChargerState, DeviceKind
from ..value_names import unknown_value_names
from .codecs import NUMERIC_WIDTH, STRING_TYPES, DataType, WordOrder, register_count
from .profile_checks import (
    check_control_registers,
    check_overlaps,
    check_same_register_as,
    validate_document,
)

PROFILES_DIR = Path(__file__).parent / "profiles"
# A user-supplied profile larger than this is refused before it is parsed: the largest
# shipped profile is a few kilobytes, and parsing grows with the size (25 000 values took
# seconds), so a limit keeps a pasted document from stalling its caller.
MAX_PROFILE_BYTES = 256 * 1024
# libyaml's safe loader reads the same documents as PyYAML's pure-Python one, ~30 times
# faster (a 250 KB profile: 8 s in pure Python on a busy machine).
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ProfileTooLargeError(InvalidProfileError):
    """A user-supplied profile exceeds MAX_PROFILE_BYTES."""

    def __init__(self, size: int) -> None:
        """Say how large the profile is and what is allowed."""
        super().__init__(
            f"the profile has {size // 1024} KB; at most {MAX_PROFILE_BYTES // 1024} KB "
            "are accepted",
            reason="too_large",
        )
        self.size = size


class Table(StrEnum):
    """The four Modbus data tables."""

    HOLDING = "holding"  # FC3 read, FC6/FC16 write
    INPUT = "input"  # FC4
    COIL = "coil"  # FC1 read, FC5 write
    DISCRETE = "discrete"  # FC2

    @property
    def is_bits(self) -> bool:
        """Whether the table holds single bits rather than 16-bit registers."""
        return self in (Table.COIL, Table.DISCRETE)


@dataclass(frozen=True, kw_only=True)
class RegisterSpec:
    """Where one value lives and how to turn its registers into a number or string."""

    name: str
    table: Table
    address: int
    unit: int
    type: DataType
    count: int
    word_order: WordOrder = WordOrder.BIG
    scale: float = 1.0
    scale_factor: str | None = None  # name of a SunSpec scale-factor value (10 ** sf)
    mask: int | None = None
    shift: int = 0
    sentinels: frozenset[int] = frozenset()
    enum: Mapping[int | str, str] | None = None
    block: str | None = None  # SunSpec: `address` is an offset from this block's model start
    # A register some firmware lacks (e.g. the Vestel's failsafe current): a read it refuses
    # gives None instead of failing the poll, where its block holds optional values only.
    optional: bool = False
    # The value's step after scaling (0.1 for a register of 0.1 V); the value is rounded to
    # it. None: an integer register's step is its scale, a float's its shortest decimal.
    resolution: float | None = None
    version_bits: tuple[int, ...] = ()  # type version: widths of the parts, high bits first
    same_register_as: str | None = None  # another value on these registers, on purpose

    @property
    def end(self) -> int:
        """First address after this value."""
        return self.address + self.count


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One comparison in a composite state rule."""

    value: str
    op: str
    operand: Any

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the condition is true for these decoded values."""
        actual = values.get(self.value)
        if actual is None:
            return False
        match self.op:
            case "eq":
                return bool(actual == self.operand)
            case "ne":
                return bool(actual != self.operand)
            case "lt":
                return bool(actual < self.operand)
            case "ge":
                return bool(actual >= self.operand)
            case "in":
                return bool(actual in self.operand)
        return False


@dataclass(frozen=True, kw_only=True)
class StateRule:
    """If every condition holds, the charger is in this state."""

    conditions: tuple[Condition, ...]
    state: ChargerState


class EnableMode(StrEnum):
    """How a charger is told to stop and resume charging."""

    ZERO_CURRENT = "zero_current"  # writing 0 A to the setpoint pauses
    REGISTER = "register"  # a separate register takes on/off values
    COIL = "coil"  # a coil is switched


@dataclass(frozen=True, kw_only=True)
class CurrentControl:
    """The setpoint register for the charging current limit."""

    address: int
    unit: int
    type: DataType
    word_order: WordOrder
    amps_per_unit: float
    multiple: bool  # write with FC16 even for one register


@dataclass(frozen=True, kw_only=True)
class FailsafeControl:
    """What a charger does when its energy manager falls silent, and where it is set.

    `current` is the failsafe current register (same layout as the setpoint: `amps_per_unit`
    is A per raw unit), `timeout` the failsafe timeout register (`amps_per_unit` there is
    seconds per raw unit). Either may be missing on a device that documents only one.
    """

    current: CurrentControl | None = None
    timeout: CurrentControl | None = None


@dataclass(frozen=True, kw_only=True)
class EnableControl:
    """How charging is enabled and disabled."""

    mode: EnableMode
    address: int | None = None
    unit: int | None = None
    on: int = 1
    off: int = 0


class WatchdogAction(StrEnum):
    """What keeps a charger under remote control."""

    WRITE = "write"  # write a fixed value to an alive register
    REWRITE_SETPOINT = "rewrite_setpoint"  # write the current setpoint again
    READ = "read"  # any read keeps the link alive


@dataclass(frozen=True, kw_only=True)
class Watchdog:
    """The heartbeat a charger needs, or it falls back to its safe current."""

    action: WatchdogAction
    interval: float
    address: int | None = None
    unit: int | None = None
    value: int = 1
    # A write watchdog writes only while these hold, on values read just before; e.g. a
    # life bit that reads 2 while the device's watchdog is switched off is left alone.
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Probe:
    """One identification read, and what the answer must look like."""

    spec: RegisterSpec
    equals: Any = None
    one_of: tuple[Any, ...] | None = None
    pattern: re.Pattern[str] | None = None

    def matches(self, value: Any) -> bool:
        """Whether a decoded value identifies the device."""
        if value is None:
            return False
        if self.equals is not None and value != self.equals:
            return False
        if self.one_of is not None and value not in self.one_of:
            return False
        return not (self.pattern is not None and not self.pattern.fullmatch(str(value)))


@dataclass(frozen=True, kw_only=True)
class SunSpecLayout:
    """Where a SunSpec device's models are found: the chain behind the "SunS" marker.

    Each block names the model ids it accepts (e.g. meter: 201..204); a value with
    `block: meter` has its address counted from the start (the ID register) of the first
    such model in the chain, which the device locates on first use.
    """

    bases: tuple[int, ...]
    blocks: Mapping[str, tuple[int, ...]]


@dataclass(frozen=True, kw_only=True)
class ModbusProfile:
    """Everything needed to talk to one device family over Modbus TCP."""

    id: str
    name: str
    kind: DeviceKind
    manufacturer: str
    source: str
    port: int
    unit: int
    max_registers: int
    max_gap: int
    split_values: bool
    values: tuple[RegisterSpec, ...]
    identity: Mapping[str, RegisterSpec | str]
    state_from: str | None = None
    state_map: Mapping[int | str, ChargerState] = field(default_factory=dict)
    state_rules: tuple[StateRule, ...] = ()
    current: CurrentControl | None = None
    enable: EnableControl | None = None
    watchdog: Watchdog | None = None
    failsafe: FailsafeControl = field(default_factory=FailsafeControl)
    detect: tuple[Probe, ...] = ()
    sunspec: SunSpecLayout | None = None
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(kind=DeviceKind.METER))

    def value(self, name: str) -> RegisterSpec | None:
        """Return the spec of a named value."""
        return next((spec for spec in self.values if spec.name == name), None)

    def unknown_values(self) -> list[str]:
        """Value names nothing uses: read into `Reading.extra` (diagnostics) only."""
        referenced = {spec.scale_factor for spec in self.values if spec.scale_factor}
        if self.state_from is not None:
            referenced.add(self.state_from)
        for rule in self.state_rules:
            referenced.update(condition.value for condition in rule.conditions)
        if self.watchdog is not None:
            referenced.update(condition.value for condition in self.watchdog.conditions)
        return unknown_value_names((spec.name for spec in self.values), referenced)


def _resolution_wh(spec: RegisterSpec | None) -> float | None:
    """The step of an energy register in Wh: declared, or an integer register's scale.

    None for undeclared floats and SunSpec scales.
    """
    integers = (DataType.U16, DataType.I16, DataType.U32, DataType.I32, DataType.U64, DataType.I64)
    if spec is not None and spec.resolution is not None:
        return spec.resolution
    if spec is None or spec.type not in integers or spec.scale_factor is not None:
        return None
    return spec.scale


def _address(value: Any) -> int:
    """Accept 0-based ints, hex strings ("0x4000") and decimal strings."""
    if isinstance(value, bool):
        raise vol.Invalid("expected a register address")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value, 0)
        except ValueError as err:
            raise vol.Invalid(f"{value!r} is not a register address") from err
    else:
        raise vol.Invalid("expected a register address")
    if not 0 <= number <= 0xFFFF:
        raise vol.Invalid(f"address {number} is outside 0..65535")
    return number


_UNIT = vol.All(int, vol.Range(min=0, max=255))
_SPEC_KEYS: dict[Any, Any] = {
    vol.Required("address"): _address,
    vol.Optional("table"): vol.In([t.value for t in Table]),
    vol.Optional("unit"): _UNIT,
    vol.Required("type"): vol.In([t.value for t in DataType]),
    vol.Optional("count"): vol.All(int, vol.Range(min=1, max=125)),
    vol.Optional("word_order"): vol.In([w.value for w in WordOrder]),
    vol.Optional("scale"): vol.Coerce(float),
    vol.Optional("scale_factor"): str,
    vol.Optional("mask"): vol.All(int, vol.Range(min=1)),
    vol.Optional("shift"): vol.All(int, vol.Range(min=0, max=63)),
    vol.Optional("sentinels"): [vol.All(int, vol.Range(min=0))],
    vol.Optional("enum"): {vol.Any(int, str): str},
    vol.Optional("block"): str,
    vol.Optional("optional"): bool,
    vol.Optional("resolution"): vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False)),
    vol.Optional("version_bits"): [vol.All(int, vol.Range(min=1, max=32))],
    vol.Optional("same_register_as"): str,
}
_SPEC = vol.Schema(_SPEC_KEYS)
_PROBE = vol.Schema(
    {
        **_SPEC_KEYS,
        vol.Optional("equals"): vol.Any(int, float, str),
        vol.Optional("one_of"): [vol.Any(int, float, str)],
        vol.Optional("matches"): str,
    }
)
_CONDITION = vol.Schema(
    {
        vol.Optional("eq"): vol.Any(int, float, str),
        vol.Optional("ne"): vol.Any(int, float, str),
        vol.Optional("lt"): vol.Any(int, float),
        vol.Optional("ge"): vol.Any(int, float),
        vol.Optional("in"): [vol.Any(int, float, str)],
    }
)
_STATES = [s.value for s in ChargerState]
# A register a control writes: the setpoint, the failsafe current or the failsafe timeout.
_CONTROL_REGISTER = vol.Schema(
    {
        vol.Required("address"): _address,
        vol.Optional("unit"): _UNIT,
        vol.Required("type"): vol.In([t.value for t in NUMERIC_WIDTH]),
        vol.Optional("word_order"): vol.In([w.value for w in WordOrder]),
        vol.Optional("amps_per_unit", default=1.0): vol.Coerce(float),
        vol.Optional("multiple", default=False): bool,
    }
)
_SCHEMA = vol.Schema(
    {
        vol.Required("id"): vol.Match(r"^[a-z0-9_]+$", msg="use lower-case letters, digits, _"),
        vol.Required("name"): str,
        vol.Required("kind"): vol.In([k.value for k in DeviceKind]),
        vol.Required("manufacturer"): str,
        vol.Required("source"): str,
        vol.Optional("connection", default={}): {
            vol.Optional("port", default=502): vol.All(int, vol.Range(min=1, max=65535)),
            vol.Optional("unit", default=1): _UNIT,
            vol.Optional("table", default="holding"): vol.In([t.value for t in Table]),
            vol.Optional("word_order", default="big"): vol.In([w.value for w in WordOrder]),
            vol.Optional("max_registers", default=125): vol.All(int, vol.Range(min=1, max=125)),
            vol.Optional("max_gap", default=0): vol.All(int, vol.Range(min=0, max=124)),
            vol.Optional("split_values", default=False): bool,
        },
        vol.Optional("capabilities", default={}): {
            vol.Optional("phases", default=3): vol.In([1, 3]),
            vol.Optional("min_current"): vol.Coerce(float),
            vol.Optional("max_current"): vol.Coerce(float),
        },
        vol.Required("values"): {
            vol.Match(r"^[a-z][a-z0-9_]*$", msg="use lower-case letters, digits, _"): _SPEC
        },
        vol.Optional("identity", default={}): {
            vol.In(["model", "serial", "firmware", "manufacturer"]): vol.Any(str, _SPEC)
        },
        vol.Optional("state"): vol.Any(
            {vol.Required("from"): str, vol.Required("map"): {vol.Any(int, str): vol.In(_STATES)}},
            {
                vol.Required("rules"): [
                    {
                        vol.Optional("when", default={}): {str: _CONDITION},
                        vol.Required("state"): vol.In(_STATES),
                    }
                ]
            },
        ),
        vol.Optional("controls", default={}): {
            vol.Optional("current_limit"): _CONTROL_REGISTER,
            # Written while a charger is held, so an outage of the manager never opens it.
            vol.Optional("failsafe_current"): _CONTROL_REGISTER,
            vol.Optional("failsafe_timeout"): _CONTROL_REGISTER,
            vol.Optional("enable"): vol.Any(
                "zero_current",
                {
                    vol.Required("mode"): vol.In(["register", "coil"]),
                    vol.Required("address"): _address,
                    vol.Optional("unit"): _UNIT,
                    # Not "on"/"off": YAML 1.1 reads those keys as booleans.
                    vol.Optional("value_on", default=1): int,
                    vol.Optional("value_off", default=0): int,
                },
            ),
            vol.Optional("watchdog"): {
                vol.Required("action"): vol.In([a.value for a in WatchdogAction]),
                vol.Required("interval"): vol.All(vol.Coerce(float), vol.Range(min=0.1)),
                vol.Optional("address"): _address,
                vol.Optional("unit"): _UNIT,
                vol.Optional("value", default=1): int,
                vol.Optional("when", default={}): {str: _CONDITION},
            },
        },
        vol.Optional("detect", default=[]): [_PROBE],
        vol.Optional("sunspec"): {
            vol.Optional("bases", default=[40000, 0, 50000]): [_address],
            vol.Required("blocks"): {
                vol.Match(r"^[a-z][a-z0-9_]*$", msg="use lower-case letters, digits, _"): vol.All(
                    [vol.All(int, vol.Range(min=1, max=0xFFFE))], vol.Length(min=1)
                )
            },
        },
    }
)


def _path(error: vol.Invalid) -> str:
    return ".".join(str(part) for part in error.path) or "profile"


def _spec(label: str, raw: dict[str, Any], defaults: dict[str, Any]) -> RegisterSpec:
    """Build a register spec; `label` is its place in the document, for error messages."""
    name = label.rsplit(".", 1)[-1]
    data_type = DataType(raw["type"])
    table = Table(raw.get("table", defaults["table"]))
    if data_type is DataType.BOOL and not table.is_bits:
        raise InvalidProfileError(
            f"{label}.table: type bool needs table coil or discrete",
            reason="bool_table",
            placeholders={"field": f"{label}.table"},
        )
    if table.is_bits and data_type is not DataType.BOOL:
        raise InvalidProfileError(
            f"{label}.type: a {table} holds bits, use type bool",
            reason="bits_type",
            placeholders={"field": f"{label}.type"},
        )
    if data_type in STRING_TYPES and "count" not in raw:
        raise InvalidProfileError(
            f"{label}.count: a {data_type} value needs a register count",
            reason="missing",
            placeholders={"field": f"{label}.count"},
        )
    bits = tuple(raw.get("version_bits", ()))
    count = register_count(data_type, raw.get("count"))
    if data_type is DataType.VERSION and sum(bits) != 16 * count:
        raise InvalidProfileError(
            f"{label}.version_bits: the parts must add up to {16 * count} bits "
            f"({count} register(s)), not {sum(bits)}",
            reason="version_bits",
            placeholders={
                "field": f"{label}.version_bits",
                "bits": str(16 * count),
                "total": str(sum(bits)),
            },
        )
    if bits and data_type is not DataType.VERSION:
        raise InvalidProfileError(
            f"{label}.version_bits: only a value of type version has parts",
            reason="version_bits_type",
            placeholders={"field": f"{label}.version_bits"},
        )
    return RegisterSpec(
        name=name,
        table=table,
        address=raw["address"],
        unit=raw.get("unit", defaults["unit"]),
        type=data_type,
        count=count,
        word_order=WordOrder(raw.get("word_order", defaults["word_order"])),
        scale=raw.get("scale", 1.0),
        scale_factor=raw.get("scale_factor"),
        mask=raw.get("mask"),
        shift=raw.get("shift", 0),
        sentinels=frozenset(raw.get("sentinels", ())),
        enum=raw.get("enum"),
        block=raw.get("block"),
        optional=raw.get("optional", False),
        resolution=raw.get("resolution"),
        version_bits=bits,
        same_register_as=raw.get("same_register_as"),
    )


def parse_profile(document: Any, *, strict: bool = True) -> ModbusProfile:
    """Validate a profile document and build the profile; raise InvalidProfileError.

    `strict` adds the checks a profile saved before them may fail (the JSON Schema, two
    values on one register): a new profile gets them, a stored one keeps working.
    """
    if strict:
        validate_document(document)
    try:
        data = _SCHEMA(document)
    except vol.MultipleInvalid as err:
        first = err.errors[0]
        raise InvalidProfileError(
            f"{_path(first)}: {first.msg}", placeholders={"field": _path(first)}
        ) from err
    except vol.Invalid as err:
        raise InvalidProfileError(
            f"{_path(err)}: {err.msg}", placeholders={"field": _path(err)}
        ) from err

    conn = data["connection"]
    defaults = {"table": conn["table"], "unit": conn["unit"], "word_order": conn["word_order"]}
    values = tuple(_spec(f"values.{name}", raw, defaults) for name, raw in data["values"].items())
    names = {spec.name for spec in values}
    sunspec = None
    if (raw_sunspec := data.get("sunspec")) is not None:
        sunspec = SunSpecLayout(
            bases=tuple(raw_sunspec["bases"]),
            blocks={name: tuple(ids) for name, ids in raw_sunspec["blocks"].items()},
        )
    for spec in values:
        if spec.scale_factor is not None and spec.scale_factor not in names:
            _no_value(f"values.{spec.name}.scale_factor", spec.scale_factor)

    identity: dict[str, RegisterSpec | str] = {
        key: raw if isinstance(raw, str) else _spec(f"identity.{key}", raw, defaults)
        for key, raw in data["identity"].items()
    }

    state_from = None
    state_map: dict[int | str, ChargerState] = {}
    rules: list[StateRule] = []
    if (state := data.get("state")) is not None:
        if "from" in state:
            state_from = state["from"]
            if state_from not in names:
                _no_value("state.from", state_from)
            state_map = {raw: ChargerState(s) for raw, s in state["map"].items()}
        else:
            for index, rule in enumerate(state["rules"]):
                conditions = _conditions(f"state.rules.{index}.when", rule["when"], names)
                rules.append(StateRule(conditions=conditions, state=ChargerState(rule["state"])))
    kind = DeviceKind(data["kind"])
    if kind is DeviceKind.CHARGER and state_from is None and not rules:
        raise InvalidProfileError(
            "state: a charger profile must say how to read its state",
            reason="state_missing",
            placeholders={"field": "state"},
        )

    controls = data["controls"]

    def control(key: str) -> CurrentControl | None:
        if (raw := controls.get(key)) is None:
            return None
        return CurrentControl(
            address=raw["address"],
            unit=raw.get("unit", conn["unit"]),
            type=DataType(raw["type"]),
            word_order=WordOrder(raw.get("word_order", conn["word_order"])),
            amps_per_unit=raw["amps_per_unit"],
            multiple=raw["multiple"],
        )

    current = control("current_limit")
    failsafe = FailsafeControl(
        current=control("failsafe_current"), timeout=control("failsafe_timeout")
    )
    enable = None
    if (raw_enable := controls.get("enable")) is not None:
        if raw_enable == "zero_current":
            if current is None:
                _needs_current_limit("controls.enable")
            enable = EnableControl(mode=EnableMode.ZERO_CURRENT)
        else:
            enable = EnableControl(
                mode=EnableMode(raw_enable["mode"]),
                address=raw_enable["address"],
                unit=raw_enable.get("unit", conn["unit"]),
                on=raw_enable["value_on"],
                off=raw_enable["value_off"],
            )
    watchdog = None
    if (raw_watchdog := controls.get("watchdog")) is not None:
        action = WatchdogAction(raw_watchdog["action"])
        if action is WatchdogAction.WRITE and "address" not in raw_watchdog:
            raise InvalidProfileError(
                "controls.watchdog.address: a write watchdog needs one",
                reason="missing",
                placeholders={"field": "controls.watchdog.address"},
            )
        if action is WatchdogAction.REWRITE_SETPOINT and current is None:
            _needs_current_limit("controls.watchdog")
        if raw_watchdog["when"] and action is not WatchdogAction.WRITE:
            raise InvalidProfileError(
                "controls.watchdog.when: only a write watchdog has conditions",
                reason="watchdog_when",
                placeholders={"field": "controls.watchdog.when"},
            )
        watchdog = Watchdog(
            action=action,
            interval=raw_watchdog["interval"],
            address=raw_watchdog.get("address"),
            unit=raw_watchdog.get("unit", conn["unit"]),
            value=raw_watchdog["value"],
            conditions=_conditions("controls.watchdog.when", raw_watchdog["when"], names),
        )

    probes = []
    for index, raw_probe in enumerate(data["detect"]):
        spec = _spec(f"detect.{index}", raw_probe, defaults)
        pattern = None
        if "matches" in raw_probe:
            try:
                pattern = re.compile(raw_probe["matches"])
            except re.error as err:
                raise InvalidProfileError(
                    f"detect.{index}.matches: {err}",
                    reason="bad_pattern",
                    placeholders={"field": f"detect.{index}.matches"},
                ) from err
        probes.append(
            Probe(
                spec=spec,
                equals=raw_probe.get("equals"),
                one_of=tuple(raw_probe["one_of"]) if "one_of" in raw_probe else None,
                pattern=pattern,
            )
        )

    caps = data["capabilities"]
    capabilities = Capabilities(
        kind=kind,
        phases=caps["phases"],
        min_current_a=caps.get("min_current"),
        max_current_a=caps.get("max_current"),
        can_set_current=current is not None,
        can_enable=enable is not None,
        has_session_energy="session_energy" in names,
        has_rfid="rfid" in names,
        has_export_energy="energy_export" in names,
        can_set_failsafe_current=failsafe.current is not None,
        can_set_failsafe_timeout=failsafe.timeout is not None,
        energy_resolution_wh=_resolution_wh(next((v for v in values if v.name == "energy"), None)),
    )
    _check_blocks(sunspec, values, identity, probes)
    check_same_register_as(values)
    if strict:
        check_overlaps(values)
        check_control_registers(
            {
                key: (c.unit, c.address, NUMERIC_WIDTH[c.type])
                for key, c in (
                    ("current_limit", current),
                    ("failsafe_current", failsafe.current),
                    ("failsafe_timeout", failsafe.timeout),
                )
                if c is not None
            }
            | _other_writes(enable, watchdog)
        )
    return ModbusProfile(
        id=data["id"],
        name=data["name"],
        kind=kind,
        manufacturer=data["manufacturer"],
        source=data["source"],
        port=conn["port"],
        unit=conn["unit"],
        max_registers=conn["max_registers"],
        max_gap=conn["max_gap"],
        split_values=conn["split_values"],
        values=values,
        identity=identity,
        state_from=state_from,
        state_map=state_map,
        state_rules=tuple(rules),
        current=current,
        enable=enable,
        watchdog=watchdog,
        failsafe=failsafe,
        detect=tuple(probes),
        sunspec=sunspec,
        capabilities=capabilities,
    )


def _check_blocks(
    sunspec: SunSpecLayout | None,
    values: tuple[RegisterSpec, ...],
    identity: Mapping[str, RegisterSpec | str],
    probes: list[Probe],
) -> None:
    """In a SunSpec profile every register names a block; elsewhere none does."""
    labelled = [(f"values.{spec.name}", spec) for spec in values]
    labelled += [(f"identity.{key}", s) for key, s in identity.items() if not isinstance(s, str)]
    labelled += [(f"detect.{index}", probe.spec) for index, probe in enumerate(probes)]
    for label, spec in labelled:
        field = f"{label}.block"
        if sunspec is None:
            if spec.block is not None:
                raise InvalidProfileError(
                    f"{field}: only a profile with sunspec has blocks",
                    reason="block_unexpected",
                    placeholders={"field": field},
                )
        elif spec.block is None:
            raise InvalidProfileError(
                f"{field}: a sunspec profile needs the model block",
                reason="missing",
                placeholders={"field": field},
            )
        elif spec.block not in sunspec.blocks:
            raise InvalidProfileError(
                f"{field}: no block named {spec.block!r} in sunspec",
                reason="no_block",
                placeholders={"field": field, "name": spec.block},
            )


def _no_value(field: str, name: str) -> None:
    raise InvalidProfileError(
        f"{field}: no value named {name!r}",
        reason="no_value",
        placeholders={"field": field, "name": name},
    )


def _needs_current_limit(field: str) -> None:
    raise InvalidProfileError(
        f"{field}: needs controls.current_limit",
        reason="needs_current_limit",
        placeholders={"field": field},
    )


def _conditions(
    label: str, raw: Mapping[str, Mapping[str, Any]], names: set[str]
) -> tuple[Condition, ...]:
    """Conditions on decoded values (state rules, watchdog); each names a value."""
    conditions: list[Condition] = []
    for value_name, ops in raw.items():
        if value_name not in names:
            _no_value(label, value_name)
        conditions.extend(
            Condition(value=value_name, op=op, operand=operand) for op, operand in ops.items()
        )
    return tuple(conditions)


def _other_writes(
    enable: EnableControl | None, watchdog: Watchdog | None
) -> dict[str, tuple[int, int, int] | None]:
    """The enable and watchdog registers, for the check that no two controls share one."""
    writes: dict[str, tuple[int, int, int] | None] = {}
    if enable is not None and enable.mode is EnableMode.REGISTER:
        assert enable.address is not None
        assert enable.unit is not None
        writes["enable"] = (enable.unit, enable.address, 1)
    if watchdog is not None and watchdog.action is WatchdogAction.WRITE:
        assert watchdog.address is not None
        assert watchdog.unit is not None
        writes["watchdog"] = (watchdog.unit, watchdog.address, 1)
    return writes


def load_profile_file(path: Path) -> ModbusProfile:
    """Load and validate a profile file (YAML or JSON). Blocking: reads the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidProfileError(f"cannot read profile {path}: {err.strerror}") from err
    return load_profile_text(text, origin=str(path))


def check_profile_size(text: str) -> None:
    """Raise ProfileTooLargeError when a profile exceeds MAX_PROFILE_BYTES (cheap)."""
    if (size := len(text.encode("utf-8"))) > MAX_PROFILE_BYTES:
        raise ProfileTooLargeError(size)


def load_profile_text(
    text: str, origin: str = "profile", *, limit: bool = True, strict: bool = True
) -> ModbusProfile:
    """Load and validate a profile from YAML (JSON is YAML too).

    With `limit`, a text above MAX_PROFILE_BYTES is refused before parsing; `strict` see
    parse_profile. CPU-bound for a large document: callers in an event loop run it in an
    executor.
    """
    if limit:
        check_profile_size(text)
    try:
        document = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = "" if mark is None else str(mark.line + 1)
        raise InvalidProfileError(
            f"{origin} is not valid YAML: {err}",
            reason="not_yaml",
            placeholders={"field": "profile", "line": line},
        ) from err
    except RecursionError as err:
        raise InvalidProfileError(
            f"{origin} is nested too deeply",
            reason="too_deep",
            placeholders={"field": "profile"},
        ) from err
    if not isinstance(document, dict):
        raise InvalidProfileError(
            f"{origin}: a profile must be a mapping of fields",
            reason="not_mapping",
            placeholders={"field": "profile"},
        )
    return parse_profile(document, strict=strict)


_shipped: Mapping[str, ModbusProfile] | None = None
_shipped_lock = threading.Lock()


def _read_shipped() -> Mapping[str, ModbusProfile]:
    profiles = {}
    for path in sorted(PROFILES_DIR.glob("*.yaml")):
        profile = load_profile_file(path)
        profiles[profile.id] = profile
    return MappingProxyType(profiles)


def shipped_profiles() -> Mapping[str, ModbusProfile]:
    """Every profile shipped with the library, by id.

    The files are read and parsed once per process and cached: the first call blocks on
    file I/O, so an event-loop application makes it in an executor (see
    `shipped_profiles_loaded`); every later call returns the cache without I/O.
    """
    global _shipped
    if _shipped is None:
        with _shipped_lock:
            if _shipped is None:
                _shipped = _read_shipped()
    return _shipped


def shipped_profiles_loaded() -> bool:
    """Whether shipped_profiles() returns without reading files."""
    return _shipped is not None
