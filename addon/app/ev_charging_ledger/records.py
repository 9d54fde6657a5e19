"""Session records as the integration sends them (DESIGN.md section 6, schema 1).

Validation is deliberately strict about the fields that money and evidence depend on
(ids, times, meter registers, cost) and lenient about descriptive ones, so a newer
integration that adds fields does not stop the ledger from storing sessions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SCHEMA_VERSION = 1
EVIDENCE_SIGNED_OCMF = "signed_ocmf"
EVIDENCE_MID_METER = "mid_meter"
EVIDENCE_NON_MID_METER = "non_mid_meter"
EVIDENCE_ESTIMATE = "estimate"
EVIDENCE_CLASSES = (
    EVIDENCE_SIGNED_OCMF,
    EVIDENCE_MID_METER,
    EVIDENCE_NON_MID_METER,
    EVIDENCE_ESTIMATE,
)


class RecordError(ValueError):
    """A session record that the ledger refuses to store."""


def canonical_json(value: Any) -> bytes:
    """The one byte form that hashes are computed over.

    Sorted keys and no whitespace make it independent of how the sender ordered or
    spaced the JSON; non-ASCII stays UTF-8 so OCMF strings keep their exact text.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def parse_utc(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise RecordError(f"{field} must be an ISO 8601 time string")
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        raise RecordError(f"{field} is not an ISO 8601 time: {value!r}") from err
    if parsed.tzinfo is None:
        raise RecordError(f"{field} must carry a UTC offset: {value!r}")
    return parsed.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """Fixed-width UTC text, so string order in SQLite equals time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_decimal(value: Any, field: str, *, optional: bool = False) -> Decimal | None:
    if value is None:
        if optional:
            return None
        raise RecordError(f"{field} is required")
    if isinstance(value, bool) or not isinstance(value, (int, str, float, Decimal)):
        raise RecordError(f"{field} must be a number or a decimal string")
    try:
        # str() first: a float sent by a non-conforming client becomes its shortest repr,
        # not its binary expansion.
        number = Decimal(str(value))
    except InvalidOperation as err:
        raise RecordError(f"{field} is not a number: {value!r}") from err
    if not number.is_finite():
        raise RecordError(f"{field} must be finite")
    return number


def decimal_text(value: Decimal) -> str:
    """Plain decimal text without exponent (Decimal('1E+3') -> '1000')."""
    return format(value, "f")


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """The fields of a record that the ledger indexes and computes with."""

    id: str
    seq: int | None
    started_at: datetime
    ended_at: datetime
    time_zone: str
    local_month: str
    energy_wh: Decimal
    meter_start_wh: Decimal | None
    meter_end_wh: Decimal | None
    meter_serial: str | None
    meter_mid: bool | None
    charger_serial: str | None
    auth_method: str | None
    tag_hash: str | None
    user_id: str | None
    vehicle: str | None
    cost_total: Decimal | None
    currency: str | None
    flags: tuple[str, ...]
    signed_meter_values: tuple[dict[str, Any], ...]


def _obj(record: dict[str, Any], key: str) -> dict[str, Any]:
    value = record.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{key} must be an object")
    return value


def _opt_str(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{field} must be a string")
    return value


def session_facts(record: Any, *, require_seq: bool = True) -> SessionFacts:
    """Validate a contract record and extract the facts the ledger works with."""
    if not isinstance(record, dict):
        raise RecordError("a session record must be a JSON object")
    if record.get("schema") != SCHEMA_VERSION:
        raise RecordError(f"unsupported schema {record.get('schema')!r} (expected 1)")
    session_id = record.get("id")
    if not isinstance(session_id, str) or not 1 <= len(session_id) <= 200:
        raise RecordError("id must be a non-empty string")
    seq = record.get("seq")
    if seq is None and not require_seq:
        pass
    elif isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise RecordError(f"session {session_id}: seq must be a positive integer")
    started = parse_utc(record.get("started_at"), "started_at")
    ended = parse_utc(record.get("ended_at"), "ended_at")
    if ended < started:
        raise RecordError(f"session {session_id}: ended_at is before started_at")
    tz_name = record.get("time_zone") or "UTC"
    if not isinstance(tz_name, str):
        raise RecordError("time_zone must be a string")
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise RecordError(f"unknown time_zone {tz_name!r}") from err
    local_month = started.astimezone(zone).strftime("%Y-%m")

    meter_start = parse_decimal(record.get("meter_start_wh"), "meter_start_wh", optional=True)
    meter_end = parse_decimal(record.get("meter_end_wh"), "meter_end_wh", optional=True)
    energy = parse_decimal(record.get("energy_wh"), "energy_wh")
    assert energy is not None
    if energy < 0:
        raise RecordError(f"session {session_id}: energy_wh is negative")

    meter = _obj(record, "meter")
    mid = meter.get("mid")
    if mid is not None and not isinstance(mid, bool):
        raise RecordError("meter.mid must be true, false or null")
    charger = _obj(record, "charger")
    auth = _obj(record, "authorization")
    cost = _obj(record, "cost")
    flags = record.get("flags") or []
    if not isinstance(flags, list) or not all(isinstance(flag, str) for flag in flags):
        raise RecordError("flags must be a list of strings")
    smv = record.get("signed_meter_values") or []
    if not isinstance(smv, list) or not all(isinstance(item, dict) for item in smv):
        raise RecordError("signed_meter_values must be a list of objects")
    return SessionFacts(
        id=session_id,
        seq=seq,
        started_at=started,
        ended_at=ended,
        time_zone=tz_name,
        local_month=local_month,
        energy_wh=energy,
        meter_start_wh=meter_start,
        meter_end_wh=meter_end,
        meter_serial=_opt_str(meter.get("serial"), "meter.serial"),
        meter_mid=mid,
        charger_serial=_opt_str(charger.get("serial"), "charger.serial"),
        auth_method=_opt_str(auth.get("method"), "authorization.method"),
        tag_hash=_opt_str(auth.get("tag_hash"), "authorization.tag_hash"),
        user_id=_opt_str(auth.get("user_id"), "authorization.user_id"),
        vehicle=_opt_str(auth.get("vehicle"), "authorization.vehicle"),
        cost_total=parse_decimal(cost.get("total"), "cost.total", optional=True),
        currency=_opt_str(cost.get("currency"), "cost.currency"),
        flags=tuple(flags),
        signed_meter_values=tuple(smv),
    )
