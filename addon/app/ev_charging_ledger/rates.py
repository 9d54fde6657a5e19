"""Reimbursement and billing rates, and the amount of one session.

A rate applies to a person and/or a vehicle for a validity period and names its price
basis. German rules allow one price basis per person per calendar year
(reimbursement.md section 1.1), so a change inside a year is reported as a warning
rather than silently mixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DIRECTIONS = ("reimburse", "bill")
BASES = ("tariff_cost", "fixed_price", "flat_price")
CENT = Decimal("0.01")
_PRICE_PLACES = Decimal("0.0001")
_WH_PER_KWH = Decimal(1000)


@dataclass(frozen=True, slots=True)
class Rate:
    id: int
    person_id: int | None
    vehicle_id: int | None
    valid_from: date
    valid_to: date | None
    direction: str
    basis: str
    price_per_kwh: Decimal | None
    currency: str
    note: str | None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def specificity(self) -> int:
        return (2 if self.vehicle_id is not None else 0) + (1 if self.person_id is not None else 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person_id": self.person_id,
            "vehicle_id": self.vehicle_id,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": None if self.valid_to is None else self.valid_to.isoformat(),
            "direction": self.direction,
            "basis": self.basis,
            "price_per_kwh": None if self.price_per_kwh is None else str(self.price_per_kwh),
            "currency": self.currency,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class FlatPrice:
    year: int
    country: str
    price_per_kwh: Decimal
    currency: str
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "country": self.country,
            "price_per_kwh": str(self.price_per_kwh),
            "currency": self.currency,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Pricing:
    """What one session is worth under its rate; amount None means it cannot be priced."""

    basis: str | None
    direction: str | None
    price_per_kwh: Decimal | None
    amount: Decimal | None
    currency: str | None
    source: str | None
    problem: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "direction": self.direction,
            "price_per_kwh": None if self.price_per_kwh is None else str(self.price_per_kwh),
            "amount": None if self.amount is None else str(self.amount),
            "currency": self.currency,
            "source": self.source,
            "problem": self.problem,
        }


def applicable_rate(
    rates: list[Rate], person_id: int | None, vehicle_id: int | None, day: date
) -> Rate | None:
    """The most specific rate valid on ``day``: person+vehicle, vehicle, person, default."""
    candidates = [
        rate
        for rate in rates
        if rate.covers(day)
        and rate.person_id in (None, person_id)
        and rate.vehicle_id in (None, vehicle_id)
        and not (rate.person_id is not None and person_id is None)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda rate: (rate.specificity(), rate.valid_from, rate.id))


def price_session(
    rate: Rate | None,
    energy_wh: Decimal,
    cost_total: Decimal | None,
    cost_currency: str | None,
    flat_price: FlatPrice | None,
) -> Pricing:
    if rate is None:
        return Pricing(None, None, None, None, None, None, "no rate applies")
    energy_kwh = energy_wh / _WH_PER_KWH
    if rate.basis == "tariff_cost":
        if cost_total is None:
            return Pricing(
                rate.basis, rate.direction, None, None, cost_currency, "tariff", "price missing"
            )
        price = (cost_total / energy_kwh).quantize(_PRICE_PLACES) if energy_kwh else None
        return Pricing(
            rate.basis,
            rate.direction,
            price,
            cost_total.quantize(CENT, ROUND_HALF_UP),
            cost_currency or rate.currency,
            "session tariff",
            None,
        )
    if rate.basis == "fixed_price":
        if rate.price_per_kwh is None:
            return Pricing(
                rate.basis, rate.direction, None, None, rate.currency, None, "rate has no price"
            )
        return Pricing(
            rate.basis,
            rate.direction,
            rate.price_per_kwh,
            (energy_kwh * rate.price_per_kwh).quantize(CENT, ROUND_HALF_UP),
            rate.currency,
            rate.note or "fixed employer price",
            None,
        )
    if flat_price is None:
        return Pricing(
            rate.basis, rate.direction, None, None, rate.currency, None, "no official flat price"
        )
    return Pricing(
        rate.basis,
        rate.direction,
        flat_price.price_per_kwh,
        (energy_kwh * flat_price.price_per_kwh).quantize(CENT, ROUND_HALF_UP),
        flat_price.currency,
        flat_price.source,
        None,
    )


def year_bases(rates: list[Rate], person_id: int, year: int) -> list[str]:
    """The price bases of the person's rates valid at some time in ``year``."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    return sorted(
        {
            rate.basis
            for rate in rates
            if rate.person_id in (None, person_id)
            and rate.valid_from <= last
            and (rate.valid_to is None or rate.valid_to >= first)
        }
    )


def basis_warnings(rates: list[Rate], person_id: int, year: int) -> list[str]:
    """Warn when a person's rates mix price bases within one calendar year."""
    bases = year_bases(rates, person_id, year)
    if len(bases) > 1:
        return [
            f"person {person_id} has more than one price basis in {year} ({', '.join(bases)}); "
            "the rules allow one price basis per calendar year"
        ]
    return []
