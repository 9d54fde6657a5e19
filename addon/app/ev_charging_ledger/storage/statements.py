"""Effective sessions and monthly statements: stored rows, adjustments and rates combined."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from ev_charging_ledger.rates import (
    FlatPrice,
    Pricing,
    basis_warnings,
    year_bases,
)
from ev_charging_ledger.records import iso_utc

from . import adjustments as adjustment_store
from . import checkpoints, directory, split
from . import rates as rate_store
from . import sessions as session_store
from .db import Database, LedgerError, NotFoundError, chunks, placeholders
from .models import (
    EffectiveState,
    MonthTotal,
    RowPart,
    SessionDetail,
    SessionSummary,
    Statement,
    StatementRow,
)
from .parts import SessionFacts, combined, priced_parts

_STATEMENT_COLUMNS = (
    "session_id, started_at, ended_at, time_zone, person_id, vehicle_id, "
    "charger_serial, meter_start_wh, meter_end_wh, energy_wh, cost_total, currency, "
    "evidence_class, "
    # Whether a manual session still waits for an administrator (EffectiveState.initial).
    "CASE WHEN source = 'manual' "
    "THEN json_extract(CAST(body AS TEXT), '$.record.manual.approval') END"
)


def month_bounds(month: str) -> tuple[int, int]:
    try:
        parsed = datetime.strptime(month, "%Y-%m")
    except ValueError as err:
        raise LedgerError(f"month must be YYYY-MM, not {month!r}") from err
    return parsed.year, parsed.month


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(started_at: str, time_zone: str) -> date:
    moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    return moment.astimezone(_zone(time_zone)).date()


def _pricing_for(db: Database, summary: SessionSummary, state: EffectiveState) -> Pricing:
    rates = rate_store.rates(db, state.person_id)
    person = None if state.person_id is None else directory.person(db, state.person_id)
    country = person.country if person else "DE"
    parts = priced_parts(
        db,
        rates,
        country,
        SessionFacts(
            summary.session_id,
            summary.started_at,
            summary.ended_at,
            summary.time_zone,
            summary.energy_wh,
            summary.cost_total,
            summary.currency,
        ),
        state,
    )
    if len(parts) == 1:
        return parts[0][1]
    return combined([pricing for _, pricing in parts])


def session_detail(db: Database, session_id: str) -> SessionDetail | None:
    """One session with its record, evidence, adjustments, effective state and pricing."""
    select = session_store.SUMMARY_SELECT.replace(" FROM sessions", ", body, hash FROM sessions")
    with db.lock:
        row = db.conn.execute(f"{select} WHERE session_id = ?", (session_id,)).fetchone()
        if row is None:
            return None
        summary = session_store.summary(row[:13])
        envelope = json.loads(row[13])
        adjustments = adjustment_store.adjustments(db, [session_id]).get(session_id, [])
        manual = envelope["record"].get("manual") if envelope["source"] == "manual" else None
        state = EffectiveState.initial(
            summary.person_id,
            summary.vehicle_id,
            summary.energy_wh,
            manual.get("approval") if isinstance(manual, dict) else None,
        )
        for adjustment in adjustments:
            state.apply(adjustment)
        pricing = _pricing_for(db, summary, state)
    return SessionDetail(
        summary,
        envelope["record"],
        envelope["evidence"],
        envelope["received_at"],
        adjustments,
        state,
        pricing,
        row[14],
    )


# A session is looked for in this many earlier months when it may reach into the month
# asked for (the integration closes sessions at unplug; none lasts that long).
LOOKBACK_MONTHS = 12


def _shift(month: str, months: int) -> str:
    year, number = month_bounds(month)
    index = year * 12 + number - 1 + months
    return f"{index // 12}-{index % 12 + 1:02d}"


def _month_rows(db: Database, person_id: int, month: str) -> list[tuple[Any, ...]]:
    """Rows stored for the person in the month plus the ones reassigned to them, plus
    sessions of earlier months that end after the month began (split at its start)."""
    year, number = month_bounds(month)
    # Widened by a day so no time zone's month start is missed; split decides exactly.
    reaching = iso_utc(datetime(year, number, 1, tzinfo=UTC) - timedelta(days=1))
    earliest = _shift(month, -LOOKBACK_MONTHS)
    window = "local_month BETWEEN ? AND ? AND (local_month = ? OR ended_at > ?)"
    window_args = (earliest, month, month, reaching)
    moved_in = [
        sid for sid, (pid, _) in adjustment_store.reassignments(db).items() if pid == person_id
    ]
    found = db.conn.execute(
        f"SELECT {_STATEMENT_COLUMNS} FROM sessions WHERE person_id = ? AND {window}",
        (person_id, *window_args),
    ).fetchall()
    for chunk in chunks(moved_in):
        found += db.conn.execute(
            f"SELECT {_STATEMENT_COLUMNS} FROM sessions WHERE {window} AND session_id "
            f"IN ({placeholders(len(chunk))})",
            (*window_args, *chunk),
        ).fetchall()
    return list({row[0]: row for row in found}.values())


def statement(db: Database, person_id: int, month: str) -> Statement:
    """The monthly statement of one person (effective attribution, adjustments applied)."""
    year, _ = month_bounds(month)
    with db.lock:
        person = directory.person(db, person_id)
        if person is None:
            raise NotFoundError(f"no person {person_id}")
        unique_rows = _month_rows(db, person_id, month)
        adjustments = adjustment_store.adjustments(db, [row[0] for row in unique_rows])
        rates = rate_store.rates(db, person_id)
        flats: dict[int, FlatPrice | None] = {}
        result_rows: list[StatementRow] = []
        for row in sorted(unique_rows, key=lambda r: (r[1], r[0])):
            state = EffectiveState.initial(row[4], row[5], Decimal(row[9]), row[13])
            for adjustment in adjustments.get(row[0], []):
                state.apply(adjustment)
            if state.person_id != person_id:
                continue
            recorded = Decimal(row[9])
            facts = SessionFacts(
                row[0],
                row[1],
                row[2],
                row[3],
                recorded,
                None if row[10] is None else Decimal(row[10]),
                row[11],
            )
            parts = priced_parts(db, rates, person.country, facts, state, flats)
            for part, pricing in parts:
                if part.month != month:
                    continue
                result_rows.append(
                    _row(row, state, part, pricing, whole=len(parts) > 1, recorded=recorded)
                )
    counted = [line for line in result_rows if not line.excluded]
    amount = Decimal(0)
    for line in counted:
        if line.pricing.amount is not None:
            signed = line.pricing.amount
            amount += signed if line.pricing.direction != "bill" else -signed
    currencies = {line.pricing.currency for line in counted if line.pricing.currency}
    bases = sorted({line.pricing.basis for line in counted if line.pricing.basis})
    warnings = basis_warnings(rates, person_id, year)
    if len(currencies) > 1:
        warnings.append("sessions are priced in more than one currency")
    gaps = gaps_in_month(db, month)
    warnings.extend(gap.describe() for gap in gaps)
    # The same findings as text keys with values, for statements in the reader's language.
    notices: list[tuple[str, dict[str, Any]]] = []
    mixed = year_bases(rates, person_id, year)
    if len(mixed) > 1:
        notices.append(("notice_bases", {"year": year, "bases": mixed}))
    if len(currencies) > 1:
        notices.append(("notice_currencies", {}))
    notices.extend(("notice_gap", gap.as_json()) for gap in gaps)
    return Statement(
        person=person,
        month=month,
        rows=result_rows,
        session_count=len(counted),
        energy_wh=sum((line.energy_wh for line in counted), Decimal(0)),
        amount=amount,
        currency=next(iter(currencies)) if len(currencies) == 1 else None,
        bases=bases,
        unpriced=sum(1 for line in counted if line.pricing.amount is None),
        warnings=warnings,
        gaps=[gap.as_json() for gap in gaps],
        notices=notices,
    )


def _row(
    row: tuple[Any, ...],
    state: EffectiveState,
    part: split.Part,
    pricing: Pricing,
    *,
    whole: bool,
    recorded: Decimal,
) -> StatementRow:
    meter_start = None if row[7] is None else Decimal(row[7])
    meter_end = None if row[8] is None else Decimal(row[8])
    started_at, ended_at, info = row[1], row[2], None
    if whole:
        started_at, ended_at = iso_utc(part.start), iso_utc(part.end)
        # Register values at a cut only where the energy is the meter's own.
        exact = state.energy_wh == recorded and meter_start is not None
        first, last = part.index == 0, part.index == part.count - 1
        part_start = meter_start + part.offset_wh if exact and meter_start is not None else None
        part_end = (
            meter_start + part.offset_wh + part.energy_wh
            if exact and meter_start is not None
            else None
        )
        meter_start = meter_start if first else part_start
        meter_end = meter_end if last else part_end
        info = RowPart(part.index, part.count, part.method, row[1], row[2], state.energy_wh)
    return StatementRow(
        session_id=row[0],
        started_at=started_at,
        ended_at=ended_at,
        time_zone=row[3],
        vehicle_id=state.vehicle_id,
        charger_serial=row[6],
        meter_start_wh=meter_start,
        meter_end_wh=meter_end,
        energy_wh=part.energy_wh,
        evidence_class=row[12],
        pricing=pricing,
        excluded=state.excluded,
        exclusion_reason=state.exclusion_reason,
        part=info,
    )


def gaps_in_month(db: Database, month: str) -> list[checkpoints.Gap]:
    """Recorded gaps whose window overlaps the month (widened by a day for time zones)."""
    year, number = month_bounds(month)
    start = datetime(year, number, 1, tzinfo=UTC) - timedelta(days=1)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC) + timedelta(days=1)
    return [gap for gap in checkpoints.gaps(db) if gap.covers(iso_utc(start), iso_utc(end))]


def monthly_totals(db: Database, person_id: int, year: int) -> list[MonthTotal]:
    """Totals per month of one year (months without sessions are left out)."""
    with db.lock:
        months = _months_reached(
            db.conn.execute(
                "SELECT local_month, started_at, ended_at, time_zone FROM sessions "
                "WHERE person_id = ? AND local_month BETWEEN ? AND ?",
                (person_id, _shift(f"{year}-01", -LOOKBACK_MONTHS), f"{year}-12"),
            ).fetchall()
        )
        totals = []
        for month in sorted(months | _reassigned_months(db, person_id, year)):
            if not f"{year}-01" <= month <= f"{year}-12":
                continue
            result = statement(db, person_id, month)
            if result.rows:
                totals.append(
                    MonthTotal(month, result.session_count, result.energy_wh, result.amount)
                )
    return totals


def _months_reached(rows: list[tuple[Any, ...]]) -> set[str]:
    """The local months of the rows' sessions, each month a session reaches included."""
    months: set[str] = set()
    for local_month, started_at, ended_at, time_zone in rows:
        months.add(local_month)
        if local_month != split.month_of(split.parse_time(ended_at), _zone(time_zone)):
            zone = _zone(time_zone)
            cuts = split.boundaries(split.parse_time(started_at), split.parse_time(ended_at), zone)
            months.update(split.month_of(cut, zone) for cut in cuts)
    return months


def _reassigned_months(db: Database, person_id: int, year: int) -> set[str]:
    ids = [sid for sid, (pid, _) in adjustment_store.reassignments(db).items() if pid == person_id]
    rows: list[tuple[Any, ...]] = []
    for chunk in chunks(ids):
        rows += db.conn.execute(
            "SELECT local_month, started_at, ended_at, time_zone FROM sessions "
            f"WHERE local_month BETWEEN ? AND ? AND session_id IN ({placeholders(len(chunk))})",
            (_shift(f"{year}-01", -LOOKBACK_MONTHS), f"{year}-12", *chunk),
        ).fetchall()
    return _months_reached(rows)
