"""Build a ModbusProfile from a profile document, checking what a schema cannot.

Every error names the field and the problem (InvalidProfileError with a reason code and
placeholders), so a user-supplied profile can be fixed from the message alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from ..errors import InvalidProfileError
from ..models import Capabilities, ChargerState, DeviceKind
from .codecs import NUMERIC_WIDTH, STRING_TYPES, DataType, WordOrder, register_count
from .profile_checks import (
    check_control_registers,
    check_overlaps,
    check_same_register_as,
    validate_document,
)
from .profile_model import (
    Condition,
    CurrentControl,
    EnableControl,
    EnableMode,
    FailsafeControl,
    ModbusProfile,
    Probe,
    RegisterSpec,
    StateRule,
    SunSpecLayout,
    Table,
    Watchdog,
    WatchdogAction,
)
from .profile_schema import PROFILE_SCHEMA, error_path


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
        data = PROFILE_SCHEMA(document)
    except vol.MultipleInvalid as err:
        first = err.errors[0]
        raise InvalidProfileError(
            f"{error_path(first)}: {first.msg}", placeholders={"field": error_path(first)}
        ) from err
    except vol.Invalid as err:
        raise InvalidProfileError(
            f"{error_path(err)}: {err.msg}", placeholders={"field": error_path(err)}
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
