"""Signed values that arrive after their session was recorded (Home Assistant-free).

Some chargers (Alfen firmwares among them) send the signed end reading a few seconds
after StopTransaction, in a DataTransfer. By then the vehicle may be gone and the session
recorded. Such a value may only join a record that nobody has received yet, and only
when it provably belongs to it: the meter serial it is signed with (OCMF MS) is the
record's meter, and its begin and end registers are the record's. It never changes a
recorded number: a value that disagrees is refused, with the reason, and kept aside.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

from .signed import FORMAT_OCMF, SignedValue

# OCMF reading types (TX) that close a transaction: end, limit, remote, abort, power loss.
_END_KINDS: Final = frozenset({"E", "L", "R", "A", "P"})
_UNIT_WH: Final = {"Wh": 0, "kWh": 3}


class LateOutcome(StrEnum):
    """What became of a signed value that arrived after its session."""

    RUNNING = "running"  # its session is still open: it is taken with it
    ATTACHED = "attached"  # joined the record before the ledger received it
    KEPT = "kept"  # the record was delivered already: kept aside, logged
    REFUSED = "refused"  # does not belong to the recorded session: kept aside, logged


@dataclass(frozen=True, kw_only=True)
class LateResult:
    """The outcome and, unless it joined a session, why."""

    outcome: LateOutcome
    reason: str | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class _Reading:
    kind: str
    wh: Decimal


def _payload(data: str) -> dict[str, Any] | None:
    parts = data.split("|")
    if len(parts) < 3 or parts[0] != "OCMF":
        return None
    try:
        # Decimal: a register of 1234.567 kWh is 1234567 Wh exactly.
        payload = json.loads(parts[1], parse_float=Decimal)
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def _readings(payload: Mapping[str, Any]) -> list[_Reading] | None:
    """The register readings (RD) in Wh; None when one cannot be read as such."""
    found: list[_Reading] = []
    items = payload.get("RD")
    if not isinstance(items, list):
        return None
    for item in items:
        if not isinstance(item, Mapping):
            return None
        exponent = _UNIT_WH.get(str(item.get("RU")))
        value = item.get("RV")
        if exponent is None or isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            return None
        try:
            wh = Decimal(value).scaleb(exponent)
        except InvalidOperation:
            return None
        if not wh.is_finite():
            return None
        found.append(_Reading(str(item.get("TX", "")), wh))
    return found


def _register(record: Mapping[str, Any], name: str) -> Decimal | None:
    value = record.get(name)
    try:
        return Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        return None


def mismatch(values: Iterable[SignedValue], record: Mapping[str, Any]) -> str | None:
    """Why signed values that came late do not belong to the recorded session; None when
    each is OCMF by the record's meter with begin and end registers equal to the record's.
    """
    meter = record.get("meter")
    serial = meter.get("serial") if isinstance(meter, Mapping) else None
    start, end = _register(record, "meter_start_wh"), _register(record, "meter_end_wh")
    if start is None or end is None:
        return "the recorded session has no meter registers to compare the signed value with"
    for value in values:
        if value.format != FORMAT_OCMF:
            return f"a value in format {value.format!r} cannot be matched to the session"
        payload = _payload(value.data)
        if payload is None:
            return "the OCMF value cannot be read"
        signed_serial = payload.get("MS")
        if not isinstance(signed_serial, str) or signed_serial.strip() != serial:
            return (
                f"signed by meter {signed_serial!r}, but the session was recorded with meter "
                f"{serial!r}"
            )
        readings = _readings(payload)
        if not readings:
            return "the OCMF value has no register readings in Wh or kWh"
        for reading in readings:
            expected = start if reading.kind == "B" else end if reading.kind in _END_KINDS else None
            if expected is not None and reading.wh != expected:
                label = "begin" if reading.kind == "B" else "end"
                return f"its {label} register {reading.wh} Wh is not the session's {expected} Wh"
            if expected is None and not start <= reading.wh <= end:
                return f"its register {reading.wh} Wh lies outside the session's"
        if not any(reading.kind == "B" or reading.kind in _END_KINDS for reading in readings):
            return "the OCMF value has neither a begin nor an end reading"
    return None
