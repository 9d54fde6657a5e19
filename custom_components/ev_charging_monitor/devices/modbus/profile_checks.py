"""Checks of a profile document beyond its fields: the JSON Schema, and register overlaps.

Every failure is an InvalidProfileError with a reason code and placeholders that name the
field (and, for overlaps, the other value and the register), so the message can be shown
in the user's language.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from ..errors import InvalidProfileError

if TYPE_CHECKING:
    from .profile_model import RegisterSpec

SCHEMA_PATH = Path(__file__).parent / "profile.schema.json"

_validator: Any = None
_validator_lock = threading.Lock()


def _schema_validator() -> Any:
    """The compiled schema, read once per process (blocking: callers are off the loop)."""
    global _validator
    if _validator is None:
        with _validator_lock:
            if _validator is None:
                schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
                _validator = jsonschema_rs.Draft7Validator(schema)
    return _validator


def _jsonable(node: Any) -> Any:
    """The document as JSON sees it.

    YAML allows numbers as keys (`map: {1: A}`) and has types JSON lacks (dates, binary);
    those become text here, and the loader's own rules then name the field if it needs
    another type.
    """
    if isinstance(node, dict):
        return {str(key): _jsonable(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_jsonable(item) for item in node]
    if node is None or isinstance(node, (str, int, float)):
        return node
    return str(node)


def _field(path: Iterable[Any]) -> str:
    return ".".join(str(part) for part in path) or "profile"


def validate_document(document: Mapping[str, Any]) -> None:
    """Check the document against profile.schema.json; raise for the first problem."""
    try:
        errors = list(_schema_validator().iter_errors(_jsonable(document)))
    except ValueError as err:  # a number beyond what the validator represents, and such
        raise InvalidProfileError(f"profile: {err}", placeholders={"field": "profile"}) from err
    if not errors:
        return
    # The deepest error names the field most exactly (an anyOf reports its branches too).
    error = max(errors, key=lambda e: len(list(e.instance_path)))
    raise _schema_error(error)


def _schema_error(error: Any) -> InvalidProfileError:
    path = list(error.instance_path)
    field = _field(path)
    kind = error.kind
    name = kind.name
    if name == "minProperties":  # `values: {}`: as good as missing
        return InvalidProfileError(
            f"{field}: empty", reason="missing", placeholders={"field": field}
        )
    if name == "required":
        missing = _field([*path, _missing_key(error.message)])
        return InvalidProfileError(
            f"{missing}: required", reason="missing", placeholders={"field": missing}
        )
    if name == "additionalProperties":
        unexpected = list(getattr(kind, "unexpected", ()) or ())
        key = _field([*path, unexpected[0]]) if unexpected else field
        return InvalidProfileError(
            f"{key}: not a field of a profile here",
            reason="unknown_key",
            placeholders={"field": key},
        )
    if name == "enum":
        allowed = ", ".join(str(option) for option in kind.options)
        return InvalidProfileError(
            f"{field}: use one of {allowed}",
            reason="not_allowed",
            placeholders={"field": field, "allowed": allowed},
        )
    if name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems"):
        return InvalidProfileError(
            f"{field}: {error.message}",
            reason="out_of_range",
            placeholders={"field": field, "limit": str(kind.limit)},
        )
    if name in ("pattern", "propertyNames"):
        return InvalidProfileError(
            f"{field}: use lower-case letters, digits and _",
            reason="bad_name",
            placeholders={"field": field},
        )
    return InvalidProfileError(
        f"{field}: {error.message}", reason="wrong_type", placeholders={"field": field}
    )


def _missing_key(message: str) -> str:
    """The property a `required` error names ('"id" is a required property')."""
    return message.split('"')[1] if message.count('"') >= 2 else "?"


def place(table: str, start: int, end: int, unit: int, block: str | None = None) -> str:
    """Registers start..end-1 in the profile's own words: "input 6-7, unit 1".

    Only profile keywords and numbers, so it reads the same in every language's message.
    """
    span = str(start) if end - start == 1 else f"{start}-{end - 1}"
    of_block = f" (block {block})" if block else ""
    return f"{table} {span}{of_block}, unit {unit}"


def describe_register(spec: RegisterSpec) -> str:
    """Where a value is read, for messages: "input 6, unit 1"."""
    return place(str(spec.table), spec.address, spec.end, spec.unit, spec.block)


def check_overlaps(values: Iterable[RegisterSpec]) -> None:
    """Two values on one register are an error, naming both, unless meant.

    Meant are: values saying `same_register_as` another on the same registers, and bit
    fields (mask/shift). Linear in the number of values after a sort: a profile may have
    thousands.
    """
    clusters: dict[tuple[int, str, str, int, int], list[RegisterSpec]] = {}
    for spec in values:
        key = (spec.unit, str(spec.table), spec.block or "", spec.address, spec.count)
        clusters.setdefault(key, []).append(spec)
    for members in clusters.values():
        roots = [spec for spec in members if not _justified(spec, members)]
        if len(roots) > 1:
            raise _overlap("duplicate_register", roots[1], roots[0])
    reach: tuple[tuple[int, str, str], int, RegisterSpec] | None = None
    for key, members in sorted(clusters.items(), key=lambda item: item[0]):
        place, address, end = key[:3], key[3], key[3] + key[4]
        if reach is not None and reach[0] == place and address < reach[1]:
            other = reach[2]
            if not (all(_bits(spec) for spec in members) and _bits(other)):
                raise _overlap("overlapping_registers", members[0], other)
        if reach is None or reach[0] != place or end > reach[1]:
            reach = (place, end, members[0])


def _bits(spec: RegisterSpec) -> bool:
    return spec.mask is not None or spec.shift != 0


def _justified(spec: RegisterSpec, members: list[RegisterSpec]) -> bool:
    """A bit field, or an alias of another value on exactly these registers."""
    if _bits(spec):
        return True
    return spec.same_register_as is not None and any(
        other.name == spec.same_register_as for other in members
    )


def _overlap(reason: str, spec: RegisterSpec, other: RegisterSpec) -> InvalidProfileError:
    start, end = max(spec.address, other.address), min(spec.end, other.end)
    register = place(str(spec.table), start, end, spec.unit, spec.block)
    return InvalidProfileError(
        f"values.{spec.name}: reads {register}, which values.{other.name} reads too",
        reason=reason,
        placeholders={
            "field": f"values.{spec.name}",
            "other": f"values.{other.name}",
            "register": register,
        },
    )


def check_same_register_as(values: Iterable[RegisterSpec]) -> None:
    """`same_register_as` names a value on exactly the same registers."""
    by_name = {spec.name: spec for spec in values}
    for spec in by_name.values():
        if (name := spec.same_register_as) is None:
            continue
        other = by_name.get(name)
        field = f"values.{spec.name}.same_register_as"
        if other is None:
            raise InvalidProfileError(
                f"{field}: no value named {name!r}",
                reason="no_value",
                placeholders={"field": field, "name": name},
            )
        if (spec.unit, spec.table, spec.block, spec.address, spec.count) != (
            other.unit,
            other.table,
            other.block,
            other.address,
            other.count,
        ):
            raise InvalidProfileError(
                f"{field}: values.{name} reads {describe_register(other)}, "
                f"this value {describe_register(spec)}",
                reason="not_same_register",
                placeholders={
                    "field": field,
                    "other": f"values.{name}",
                    "register": describe_register(spec),
                },
            )


def check_control_registers(controls: Mapping[str, tuple[int, int, int] | None]) -> None:
    """No two controls write the same register (`controls` key -> (unit, address, count))."""
    seen: list[tuple[str, tuple[int, int, int]]] = []
    for key, where in controls.items():
        if where is None:
            continue
        unit, address, count = where
        for other_key, (other_unit, other_address, other_count) in seen:
            if (
                unit == other_unit
                and address < other_address + other_count
                and (other_address < address + count)
            ):
                register = place("holding", address, address + count, unit)
                raise InvalidProfileError(
                    f"controls.{key}: writes {register}, which controls.{other_key} writes too",
                    reason="duplicate_register",
                    placeholders={
                        "field": f"controls.{key}",
                        "other": f"controls.{other_key}",
                        "register": register,
                    },
                )
        seen.append((key, where))
