"""Extra schemathesis check for tests/ledger/test_api_fuzz.py (loaded via SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.check
def error_is_json_with_a_message(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every rejection the ledger answers is ``{"error": "<message for the user>"}``."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError as err:
        raise AssertionError(f"HTTP {response.status_code} without a JSON body") from err
    message = body.get("error") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        raise AssertionError(f"HTTP {response.status_code} without an error message: {body!r}")
    return None
