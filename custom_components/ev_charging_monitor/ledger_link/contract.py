"""The session record contract (session_record.schema.json), checked where records leave.

The same file ships with the ledger, which checks what it receives; a record the
integration emits that breaks the contract is a bug of ours, logged loudly, and still
kept and delivered (the ledger quarantines it with the reason), so nothing is lost.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SCHEMA_PATH = Path(__file__).parent.parent / "session_record.schema.json"


@cache
def schema() -> dict[str, Any]:
    """The contract, read once."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


@cache
def _validator(definition: str) -> Any:
    return jsonschema_rs.validator_for(
        {"$ref": f"#/$defs/{definition}", "$defs": schema()["$defs"]}
    )


def problems(value: Any, definition: str = "record", limit: int = 5) -> list[str]:
    """Where `value` breaks the contract's `definition` (empty when it conforms)."""
    try:
        errors = _validator(definition).iter_errors(value)
        found = []
        for error in errors:
            path = "/".join(str(part) for part in error.instance_path) or "(record)"
            found.append(f"{path}: {error.message[:200]}")
            if len(found) >= limit:
                break
    except ValueError as err:  # nested beyond the validator's recursion limit
        return [str(err)]
    return found
