"""The pricing of a session's month parts (see :mod:`.split`).

Each part is priced with the rate and official flat price of its own first day, and
amounts are rounded on running totals so the parts add up to the session's amount.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from ev_charging_ledger.rates import FlatPrice, Pricing, Rate, applicable_rate, price_session

from . import rates as rate_store
from . import split
from .db import Database
from .models import EffectiveState


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def combined(parts: list[Pricing]) -> Pricing:
    """The whole session's pricing from its month parts: their amounts added up."""
    first = parts[0]

    def same(values: list[Any]) -> Any:
        return values[0] if len(set(values)) == 1 else None

    amounts = [pricing.amount for pricing in parts]
    problems = [pricing.problem for pricing in parts if pricing.problem]
    mixed = len({(p.direction, p.currency) for p in parts}) > 1
    return Pricing(
        basis=same([pricing.basis for pricing in parts]),
        direction=first.direction if not mixed else None,
        price_per_kwh=same([pricing.price_per_kwh for pricing in parts]),
        amount=None
        if mixed or any(amount is None for amount in amounts)
        else sum((amount for amount in amounts if amount is not None), Decimal(0)),
        currency=first.currency if not mixed else None,
        source=same([pricing.source for pricing in parts]),
        problem=problems[0] if problems else ("parts priced differently" if mixed else None),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class SessionFacts:
    session_id: str
    started_at: str
    ended_at: str
    time_zone: str
    energy_wh: Decimal  # as recorded
    cost_total: Decimal | None
    currency: str | None


def priced_parts(
    db: Database,
    rates: list[Rate],
    country: str,
    facts: SessionFacts,
    state: EffectiveState,
    flats: dict[int, FlatPrice | None] | None = None,
) -> list[tuple[split.Part, Pricing]]:
    """The session's month parts with their pricing (one part if it stays in a month).

    Each part is priced with the rate and official flat price of its own first day (a
    session over New Year takes the new year's price basis for its new-year part);
    amounts are rounded on running totals so the parts add up to the session's amount.
    """
    zone = _zone(facts.time_zone)
    started = split.parse_time(facts.started_at)
    ended = split.parse_time(facts.ended_at)
    flats = {} if flats is None else flats

    def flat_for(year: int) -> FlatPrice | None:
        if year not in flats:
            flats[year] = rate_store.flat_price(db, year, country)
        return flats[year]

    if not split.boundaries(started, ended, zone):
        day = started.astimezone(zone).date()
        rate = applicable_rate(rates, state.person_id, state.vehicle_id, day)
        pricing = price_session(
            rate, state.energy_wh, facts.cost_total, facts.currency, flat_for(day.year)
        )
        part = split.Part(
            month=split.month_of(started, zone),
            index=0,
            count=1,
            start=started,
            end=ended,
            offset_wh=Decimal(0),
            energy_wh=state.energy_wh,
            method=split.READING,
        )
        return [(part, pricing)]
    row = db.conn.execute(
        "SELECT body FROM sessions WHERE session_id = ?", (facts.session_id,)
    ).fetchone()
    record = json.loads(row[0])["record"] if row is not None else {}
    points = split.readings(record, started, ended, facts.energy_wh)
    parts = split.split(started, ended, zone, points, state.energy_wh)
    shares = (
        split.cost_shares(record, parts, facts.cost_total)
        if facts.cost_total is not None
        else [None] * len(parts)
    )
    priced: list[tuple[split.Part, Pricing, Decimal | None]] = []
    for part, share in zip(parts, shares, strict=True):
        day = part.start.astimezone(zone).date()
        rate = applicable_rate(rates, state.person_id, state.vehicle_id, day)
        flat = flat_for(day.year)
        pricing = price_session(rate, part.energy_wh, share, facts.currency, flat)
        priced.append((part, pricing, _exact_amount(rate, part.energy_wh, share, flat)))
    # Running totals only over parts that can be added up (same direction and currency).
    kinds = {(pricing.direction, pricing.currency) for _, pricing, _ in priced}
    if len(kinds) > 1 or any(exact is None for _, _, exact in priced):
        return [(part, pricing) for part, pricing, _ in priced]
    amounts = split.running_cents([exact for _, _, exact in priced])
    return [
        (part, dataclasses.replace(pricing, amount=amount))
        for (part, pricing, _), amount in zip(priced, amounts, strict=True)
    ]


def _exact_amount(
    rate: Rate | None, energy_wh: Decimal, cost_share: Decimal | None, flat: FlatPrice | None
) -> Decimal | None:
    """The unrounded amount :func:`price_session` rounds, or None where it has none."""
    if rate is None:
        return None
    if rate.basis == "tariff_cost":
        return cost_share
    if rate.basis == "fixed_price":
        return None if rate.price_per_kwh is None else energy_wh / 1000 * rate.price_per_kwh
    return None if flat is None else energy_wh / 1000 * flat.price_per_kwh
