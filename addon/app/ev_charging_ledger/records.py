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
from functools import lru_cache
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


# Sorted keys, no whitespace, ASCII escapes: one byte form per content. ASCII escaping
# keeps every string (OCMF included) exact and is the encoder's fastest path.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
)


def canonical_json(value: Any) -> bytes:
    """The one byte form that hashes are computed over."""
    return _CANONICAL.encode(value).encode("ascii")


def parse_utc(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise RecordError(f"{field} must be an ISO 8601 time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise RecordError(f"{field} is not an ISO 8601 time: {value!r}") from err
    if parsed.tzinfo is None:
        raise RecordError(f"{field} must carry a UTC offset: {value!r}")
    return parsed.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """Fixed-width UTC text, so string order in SQLite equals time order."""
    # isoformat is several times faster than strftime, which matters at ingest rates.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_decimal(value: Any, field: str, *, optional: bool = False) -> Decimal | None:
    if value is None:
        if optional:
            return None
        raise RecordError(f"{field} is required")
    if type(value) is int:
        return Decimal(value)
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


# Not frozen: a frozen dataclass's __init__ is several times slower, and this runs
# once per ingested session.
@dataclass(slots=True)
class SessionFacts:
    """The fields of a record that the ledger indexes and computes with."""

    id: str
    seq: int | None
    started_at: datetime
    ended_at: datetime
    started_text: str
    ended_text: str
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
    if type(value) is dict:
        return value
    if value is None:
        return {}
    raise RecordError(f"{key} must be an object")


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
        zone = _zone(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise RecordError(f"unknown time_zone {tz_name!r}") from err
    local_start = started.astimezone(zone)
    local_month = f"{local_start.year:04d}-{local_start.month:02d}"

    meter_start = parse_decimal(record.get("meter_start_wh"), "meter_start_wh", optional=True)
    meter_end = parse_decimal(record.get("meter_end_wh"), "meter_end_wh", optional=True)
    energy = parse_decimal(record.get("energy_wh"), "energy_wh")
    assert energy is not None
    if energy < 0:
        raise RecordError(f"session {session_id}: energy_wh is negative")

    meter = _obj(record, "meter")
    mid = meter.get("mid")
    if mid is not None and mid is not True and mid is not False:
        raise RecordError("meter.mid must be true, false or null")
    charger = _obj(record, "charger")
    auth = _obj(record, "authorization")
    cost = _obj(record, "cost")
    texts = (
        meter.get("serial"),
        charger.get("serial"),
        auth.get("method"),
        auth.get("tag_hash"),
        auth.get("user_id"),
        auth.get("vehicle"),
        cost.get("currency"),
    )
    for value in texts:
        if value is not None and type(value) is not str:
            raise RecordError(
                "meter.serial, charger.serial, authorization.* and cost.currency must be strings"
            )
    flags = record.get("flags") or []
    if type(flags) is not list or any(type(flag) is not str for flag in flags):
        raise RecordError("flags must be a list of strings")
    smv = record.get("signed_meter_values") or []
    if type(smv) is not list or any(type(item) is not dict for item in smv):
        raise RecordError("signed_meter_values must be a list of objects")
    return SessionFacts(
        id=session_id,
        seq=seq,
        started_at=started,
        ended_at=ended,
        started_text=iso_utc(started),
        ended_text=iso_utc(ended),
        time_zone=tz_name,
        local_month=local_month,
        energy_wh=energy,
        meter_start_wh=meter_start,
        meter_end_wh=meter_end,
        meter_serial=texts[0],
        meter_mid=mid,
        charger_serial=texts[1],
        auth_method=texts[2],
        tag_hash=texts[3],
        user_id=texts[4],
        vehicle=texts[5],
        cost_total=parse_decimal(cost.get("total"), "cost.total", optional=True),
        currency=texts[6],
        flags=tuple(flags),
        signed_meter_values=tuple(smv),
    )
