"""The session record contract, checked on every record received from Home Assistant.

``session_record.schema.json`` is the integration's file (custom_components/
ev_charging_monitor/); the add-on image is built from ``addon/`` alone, so it carries a
byte-identical copy that a test keeps equal.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs


@cache
def schema() -> dict[str, Any]:
    text = resources.files("ev_charging_ledger").joinpath("session_record.schema.json")
    data: dict[str, Any] = json.loads(text.read_text("utf-8"))
    return data


@cache
def _validator(definition: str) -> Any:
    return jsonschema_rs.validator_for(
        {"$ref": f"#/$defs/{definition}", "$defs": schema()["$defs"]}
    )


def record_problem(record: Any) -> str | None:
    """Why a received record breaks the contract, in one line; None when it conforms."""
    if isinstance(record, dict) and record.get("schema") != 1:
        return f"unsupported schema {record.get('schema')!r} (expected 1)"
    if isinstance(record, dict) and type(record.get("oversized_bytes")) is int:
        return (
            f"record of {record['oversized_bytes']} bytes is larger than one message of the "
            "link; Home Assistant keeps it"
        )
    return first_problem(record, "record")


def first_problem(value: Any, definition: str) -> str | None:
    try:
        for error in _validator(definition).iter_errors(value):
            path = "/".join(str(part) for part in error.instance_path) or "(record)"
            return f"does not match the session record schema at {path}: {error.message[:200]}"
    except ValueError as err:  # nested beyond the validator's recursion limit
        return f"does not match the session record schema: {err}"
    return None
