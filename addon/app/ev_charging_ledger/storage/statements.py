"""Effective sessions and monthly statements: stored rows, adjustments and rates combined."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from ev_charging_ledger.rates import Pricing, applicable_rate, basis_warnings, price_session
from ev_charging_ledger.records import iso_utc

from . import adjustments as adjustment_store
from . import checkpoints, directory
from . import rates as rate_store
from . import sessions as session_store
from .db import Database, LedgerError, NotFoundError, chunks, placeholders
from .models import (
    EffectiveState,
    MonthTotal,
    SessionDetail,
    SessionSummary,
    Statement,
    StatementRow,
)

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
    day = local_day(summary.started_at, summary.time_zone)
    rate = applicable_rate(rates, state.person_id, state.vehicle_id, day)
    flat = rate_store.flat_price(db, day.year, person.country if person else "DE")
    return price_session(rate, state.energy_wh, summary.cost_total, summary.currency, flat)


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


def _month_rows(db: Database, person_id: int, month: str) -> list[tuple[Any, ...]]:
    """Rows stored for the person in the month plus the ones reassigned to them."""
    moved_in = [
        sid for sid, (pid, _) in adjustment_store.reassignments(db).items() if pid == person_id
    ]
    found = db.conn.execute(
        f"SELECT {_STATEMENT_COLUMNS} FROM sessions WHERE person_id = ? AND local_month = ?",
        (person_id, month),
    ).fetchall()
    for chunk in chunks(moved_in):
        found += db.conn.execute(
            f"SELECT {_STATEMENT_COLUMNS} FROM sessions WHERE local_month = ? AND session_id "
            f"IN ({placeholders(len(chunk))})",
            (month, *chunk),
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
        flat = rate_store.flat_price(db, year, person.country)
        result_rows: list[StatementRow] = []
        for row in sorted(unique_rows, key=lambda r: (r[1], r[0])):
            state = EffectiveState.initial(row[4], row[5], Decimal(row[9]), row[13])
            for adjustment in adjustments.get(row[0], []):
                state.apply(adjustment)
            if state.person_id != person_id:
                continue
            day = local_day(row[1], row[3])
            rate = applicable_rate(rates, person_id, state.vehicle_id, day)
            pricing = price_session(
                rate,
                state.energy_wh,
                None if row[10] is None else Decimal(row[10]),
                row[11],
                flat,
            )
            result_rows.append(
                StatementRow(
                    session_id=row[0],
                    started_at=row[1],
                    ended_at=row[2],
                    time_zone=row[3],
                    vehicle_id=state.vehicle_id,
                    charger_serial=row[6],
                    meter_start_wh=None if row[7] is None else Decimal(row[7]),
                    meter_end_wh=None if row[8] is None else Decimal(row[8]),
                    energy_wh=state.energy_wh,
                    evidence_class=row[12],
                    pricing=pricing,
                    excluded=state.excluded,
                    exclusion_reason=state.exclusion_reason,
                )
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
        months = {
            row[0]
            for row in db.conn.execute(
                "SELECT DISTINCT local_month FROM sessions WHERE person_id = ? "
                "AND local_month BETWEEN ? AND ?",
                (person_id, f"{year}-01", f"{year}-12"),
            )
        }
        totals = []
        for month in sorted(months | _reassigned_months(db, person_id, year)):
            result = statement(db, person_id, month)
            if result.rows:
                totals.append(
                    MonthTotal(month, result.session_count, result.energy_wh, result.amount)
                )
    return totals


def _reassigned_months(db: Database, person_id: int, year: int) -> set[str]:
    ids = [sid for sid, (pid, _) in adjustment_store.reassignments(db).items() if pid == person_id]
    months: set[str] = set()
    for chunk in chunks(ids):
        months.update(
            row[0]
            for row in db.conn.execute(
                "SELECT local_month FROM sessions WHERE local_month BETWEEN ? AND ? AND "
                f"session_id IN ({placeholders(len(chunk))})",
                (f"{year}-01", f"{year}-12", *chunk),
            )
        )
    return months
