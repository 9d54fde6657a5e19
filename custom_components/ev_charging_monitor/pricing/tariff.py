"""Tariffs: what a kWh costs at each moment, as explicit [start, end) price intervals.

Home Assistant-free. Every tariff answers `price_intervals(start, end)` with contiguous
intervals covering exactly [start, end), in UTC. A price of None means "unknown" (a gap in
dynamic prices, or a time no time-of-use period covers and no default price applies); it is
never replaced by 0, so the cost computation can flag it.

Three tariffs: a flat price, a time-of-use schedule on the local wall clock of a time zone,
and dynamic prices from a list of price points (15/30/60-minute market intervals or any
other length). Any of them may carry a standing-charge share, priced as a separate line.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Literal, Protocol

SECONDS_PER_DAY = 86_400
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PriceInterval:
    """One stretch of time at one price (per kWh, in the tariff's currency)."""

    start: datetime
    end: datetime
    price_per_kwh: Decimal | None


@dataclass(frozen=True, slots=True)
class PricePoint:
    """A price as a source publishes it: valid from start (inclusive) to end (exclusive)."""

    start: datetime
    end: datetime
    price_per_kwh: Decimal | None


@dataclass(frozen=True, slots=True)
class StandingCharge:
    """A fixed charge shared onto each session, as its own line next to the energy cost.

    `per="session"`: the amount is charged once per session.
    `per="day"`: the amount is a daily charge shared pro rata by the session's elapsed real
    time (amount x seconds / 86 400), so a session of 6 hours carries a quarter of the day's
    charge; a day of 23 or 25 hours (DST) does not change the rate per hour.
    """

    amount: Decimal
    per: Literal["session", "day"]

    def __post_init__(self) -> None:
        _require_decimal("standing charge amount", self.amount)
        if self.amount < 0:
            raise ValueError(f"standing charge amount must not be negative, got {self.amount}")
        if self.per not in ("session", "day"):
            raise ValueError(f"standing charge per must be 'session' or 'day', got {self.per!r}")

    def share(self, start: datetime, end: datetime) -> Decimal:
        """The unrounded share of this charge for a session from start to end."""
        if self.per == "session":
            return self.amount
        seconds = Decimal(_microseconds(end - start)) / Decimal(1_000_000)
        return self.amount * seconds / SECONDS_PER_DAY


class Tariff(Protocol):
    """What the cost computation needs from a tariff."""

    @property
    def name(self) -> str:
        """Shown on the session record and statements."""
        ...

    @property
    def currency(self) -> str:
        """ISO 4217 code of every price and charge of the tariff."""
        ...

    @property
    def standing_charge(self) -> StandingCharge | None:
        """An optional fixed charge shared onto each session."""
        ...

    def price_intervals(self, start: datetime, end: datetime) -> list[PriceInterval]:
        """Contiguous intervals covering exactly [start, end), in UTC."""
        ...


@dataclass(frozen=True, slots=True)
class FlatTariff:
    """One price for every kWh."""

    price: Decimal
    currency: str
    name: str = "Flat"
    standing_charge: StandingCharge | None = None

    def __post_init__(self) -> None:
        _require_decimal("flat price", self.price)
        _require_currency(self.currency)

    def price_intervals(self, start: datetime, end: datetime) -> list[PriceInterval]:
        """A single interval at the flat price."""
        start, end = _utc_range(start, end)
        if start == end:
            return []
        return [PriceInterval(start, end, self.price)]


@dataclass(frozen=True)
class DynamicTariff:
    """Prices from a list of price points; time no point covers has no price (None).

    Points may be of any length (15, 30, 60 minutes, or mixed). A point given twice with
    the same price (e.g. today's and tomorrow's lists both holding midnight) counts once;
    points that overlap with different prices are an error.
    """

    points: tuple[PricePoint, ...]
    currency: str
    name: str = "Dynamic"
    standing_charge: StandingCharge | None = None

    def __post_init__(self) -> None:
        _require_currency(self.currency)
        object.__setattr__(self, "points", _checked_points(self.points))

    def with_points(self, more: Iterable[PricePoint]) -> DynamicTariff:
        """A tariff with further points (e.g. tomorrow's prices once published)."""
        return DynamicTariff((*self.points, *more), self.currency, self.name, self.standing_charge)

    def price_intervals(self, start: datetime, end: datetime) -> list[PriceInterval]:
        """The points clipped to [start, end), gaps filled with intervals without a price."""
        start, end = _utc_range(start, end)
        if start == end:
            return []
        ends = [point.end for point in self.points]
        intervals: list[PriceInterval] = []
        cursor = start
        for point in self.points[bisect.bisect_right(ends, start) :]:
            if point.start >= end:
                break
            if point.start > cursor:
                intervals.append(PriceInterval(cursor, point.start, None))
                cursor = point.start
            stop = min(point.end, end)
            intervals.append(PriceInterval(cursor, stop, point.price_per_kwh))
            cursor = stop
        if cursor < end:
            intervals.append(PriceInterval(cursor, end, None))
        return intervals


def _checked_points(points: Iterable[PricePoint]) -> tuple[PricePoint, ...]:
    unique: dict[tuple[datetime, datetime], PricePoint] = {}
    for point in points:
        _require_aware("price point start", point.start)
        _require_aware("price point end", point.end)
        if point.end <= point.start:
            raise ValueError(
                f"price point from {point.start.isoformat()} to {point.end.isoformat()} has a "
                "negative or zero duration"
            )
        if point.price_per_kwh is not None:
            _require_decimal("price point price", point.price_per_kwh)
        utc = PricePoint(
            point.start.astimezone(UTC), point.end.astimezone(UTC), point.price_per_kwh
        )
        known = unique.setdefault((utc.start, utc.end), utc)
        if known.price_per_kwh != utc.price_per_kwh:
            raise ValueError(
                f"two prices ({known.price_per_kwh} and {utc.price_per_kwh}) for "
                f"{utc.start.isoformat()} to {utc.end.isoformat()}"
            )
    ordered = sorted(unique.values(), key=lambda p: p.start)
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError(
                f"price points overlap: {before.start.isoformat()}-{before.end.isoformat()} "
                f"and {after.start.isoformat()}-{after.end.isoformat()}"
            )
    return tuple(ordered)


def _utc_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    _require_aware("start", start)
    _require_aware("end", end)
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    return start.astimezone(UTC), end.astimezone(UTC)


def _require_aware(label: str, moment: datetime) -> None:
    if not isinstance(moment, datetime):
        raise ValueError(f"{label} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{label} {moment.isoformat()} has no time zone (naive datetime)")


def _require_decimal(label: str, value: object) -> None:
    # Floats carry binary rounding errors into money; callers convert with Decimal(str(x)).
    if not isinstance(value, Decimal):
        raise ValueError(f"{label} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{label} must be a finite number, got {value}")


def _require_currency(currency: str) -> None:
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise ValueError(f"currency must be an ISO 4217 code like 'EUR', got {currency!r}")


def _microseconds(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)
