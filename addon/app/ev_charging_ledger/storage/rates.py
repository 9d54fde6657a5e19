"""Stored rates (reimbursement or billing prices per person/vehicle) and official flat prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ev_charging_ledger.rates import BASES, DIRECTIONS, FlatPrice, Rate, basis_warnings
from ev_charging_ledger.records import decimal_text, iso_utc

from . import directory
from .db import Database, LedgerError, now, text

_RATE_SELECT = (
    "SELECT id, person_id, vehicle_id, valid_from, valid_to, direction, basis, "
    "price_per_kwh, currency, note FROM rates"
)


def add_rate(
    db: Database,
    *,
    person_id: int | None,
    vehicle_id: int | None,
    valid_from: date,
    valid_to: date | None,
    direction: str,
    basis: str,
    price_per_kwh: Decimal | None,
    currency: str,
    note: str | None,
) -> tuple[Rate, list[str]]:
    """Add a rate; returns it with warnings (e.g. a price basis change mid-year)."""
    if direction not in DIRECTIONS:
        raise LedgerError(f"direction must be one of {', '.join(DIRECTIONS)}")
    if basis not in BASES:
        raise LedgerError(f"basis must be one of {', '.join(BASES)}")
    if basis == "fixed_price" and (price_per_kwh is None or price_per_kwh < 0):
        raise LedgerError("a fixed_price rate needs a non-negative price_per_kwh")
    if valid_to is not None and valid_to < valid_from:
        raise LedgerError("valid_to is before valid_from")
    directory.check_people(db, person_id, vehicle_id)
    with db.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO rates (person_id, vehicle_id, valid_from, valid_to, direction, "
            "basis, price_per_kwh, currency, note, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                person_id,
                vehicle_id,
                valid_from.isoformat(),
                None if valid_to is None else valid_to.isoformat(),
                direction,
                basis,
                text(price_per_kwh),
                currency,
                note,
                iso_utc(now()),
            ),
        )
        rate = Rate(
            int(cursor.lastrowid or 0),
            person_id,
            vehicle_id,
            valid_from,
            valid_to,
            direction,
            basis,
            price_per_kwh,
            currency,
            note,
        )
    warnings: list[str] = []
    all_rates = rates(db)
    people = [person_id] if person_id is not None else [p.id for p in directory.people(db)]
    last_year = (valid_to or date(max(valid_from.year, now().year), 12, 31)).year
    for pid in people:
        for year in range(valid_from.year, last_year + 1):
            warnings.extend(basis_warnings(all_rates, pid, year))
    return rate, warnings


def _rate(row: tuple[Any, ...]) -> Rate:
    return Rate(
        row[0],
        row[1],
        row[2],
        date.fromisoformat(row[3]),
        None if row[4] is None else date.fromisoformat(row[4]),
        row[5],
        row[6],
        None if row[7] is None else Decimal(row[7]),
        row[8],
        row[9],
    )


def rates(db: Database, person_id: int | None = None) -> list[Rate]:
    """Rates of one person (and the general ones), or all rates."""
    query = _RATE_SELECT
    params: tuple[Any, ...] = ()
    if person_id is not None:
        query += " WHERE person_id IS NULL OR person_id = ?"
        params = (person_id,)
    with db.lock:
        rows = db.conn.execute(query + " ORDER BY id", params).fetchall()
    return [_rate(row) for row in rows]


def add_flat_price(
    db: Database, year: int, country: str, price_per_kwh: Decimal, currency: str, source: str
) -> FlatPrice:
    if price_per_kwh < 0:
        raise LedgerError("price_per_kwh must not be negative")
    if not source.strip():
        raise LedgerError("an official flat price needs its source")
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO flat_prices (year, country, price_per_kwh, currency, source) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(year, country) DO UPDATE SET "
            "price_per_kwh = excluded.price_per_kwh, currency = excluded.currency, "
            "source = excluded.source",
            (year, country, decimal_text(price_per_kwh), currency, source),
        )
    return FlatPrice(year, country, price_per_kwh, currency, source)


def flat_prices(db: Database) -> list[FlatPrice]:
    with db.lock:
        rows = db.conn.execute(
            "SELECT year, country, price_per_kwh, currency, source FROM flat_prices "
            "ORDER BY year, country"
        ).fetchall()
    return [FlatPrice(r[0], r[1], Decimal(r[2]), r[3], r[4]) for r in rows]


def flat_price(db: Database, year: int, country: str) -> FlatPrice | None:
    with db.lock:
        row = db.conn.execute(
            "SELECT year, country, price_per_kwh, currency, source FROM flat_prices "
            "WHERE year = ? AND country = ?",
            (year, country),
        ).fetchone()
    return None if row is None else FlatPrice(row[0], row[1], Decimal(row[2]), row[3], row[4])
