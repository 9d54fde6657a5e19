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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


class DayKind(StrEnum):
    """Which kind of day a time-of-use period applies to."""

    WEEKDAY = "weekday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # a date in the caller's holiday set, whatever its weekday


@dataclass(frozen=True, slots=True)
class Season:
    """A recurring part of the year, from `first` to `last` (month, day), both inclusive.

    A season may run over New Year, e.g. first=(11, 1), last=(2, 28).
    """

    name: str
    first: tuple[int, int]
    last: tuple[int, int]

    def __post_init__(self) -> None:
        for label, (month, day) in (("first", self.first), ("last", self.last)):
            try:
                # 2000 is a leap year, so 29 February is a valid season edge.
                date(2000, month, day)
            except ValueError as err:
                raise ValueError(
                    f"season {self.name!r}: {label} day {month}-{day} is not a date"
                ) from err

    def days_of_year(self) -> frozenset[tuple[int, int]]:
        """Every (month, day) of the season (in a leap year, so 29 February counts)."""
        day = date(2000, *self.first)
        last = date(2000, *self.last)
        days = set()
        while True:
            days.add((day.month, day.day))
            if day == last:
                return frozenset(days)
            day = day + DAY if (day.month, day.day) != (12, 31) else date(2000, 1, 1)

    def contains(self, day: date) -> bool:
        """Whether the date falls in this season."""
        key = (day.month, day.day)
        if self.first <= self.last:
            return self.first <= key <= self.last
        return key >= self.first or key <= self.last


@dataclass(frozen=True, slots=True)
class TimeOfUsePeriod:
    """A price for a local time-of-day window on some kinds of days, optionally in a season.

    The window is [start, end) on the local wall clock; end=00:00 means midnight at the end
    of the day. A window over midnight is two periods (22:00-00:00 and 00:00-06:00), so it
    is always clear which day, and so which day kind and season, a moment belongs to.
    """

    price: Decimal
    start: time
    end: time
    days: frozenset[DayKind] = frozenset(DayKind)
    season: str | None = None  # None: all year
    name: str = ""

    def __post_init__(self) -> None:
        label = self.label
        _require_decimal(f"period {label} price", self.price)
        for edge in (self.start, self.end):
            if edge.tzinfo is not None:
                raise ValueError(
                    f"period {label}: window times are local wall-clock times, "
                    "give them without a time zone"
                )
        if self.start_second >= self.end_second:
            raise ValueError(
                f"period {label}: window {self.start:%H:%M}-{self.end:%H:%M} has a negative or "
                "zero duration; split a window over midnight into two periods"
            )
        if not self.days:
            raise ValueError(f"period {label}: applies to no kind of day")

    @property
    def label(self) -> str:
        """How error messages name the period."""
        return repr(self.name) if self.name else f"{self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def start_second(self) -> int:
        """Start of the window in seconds after local midnight."""
        return _second_of_day(self.start)

    @property
    def end_second(self) -> int:
        """End of the window in seconds after local midnight (86 400 for midnight)."""
        second = _second_of_day(self.end)
        return SECONDS_PER_DAY if second == 0 else second


@dataclass(frozen=True)
class TimeOfUseTariff:
    """Prices by local wall-clock time in a time zone, by day kind and season.

    The price at a moment is decided by the local wall clock and the local date at that
    moment: on the day clocks go forward, the skipped hour simply never happens; on the day
    they go back, the repeated hour is priced (twice) by its wall-clock period. A moment no
    period covers gets `default_price`, or no price (None) if there is none.
    """

    periods: tuple[TimeOfUsePeriod, ...]
    time_zone: str
    currency: str
    name: str = "Time of use"
    default_price: Decimal | None = None
    seasons: tuple[Season, ...] = ()
    holidays: frozenset[date] = frozenset()
    weekend_days: frozenset[int] = frozenset({5, 6})  # date.weekday(): Saturday, Sunday
    standing_charge: StandingCharge | None = None
    _zone: tzinfo = field(init=False, repr=False, compare=False)
    _breakpoints: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _require_currency(self.currency)
        object.__setattr__(self, "_zone", _zone(self.time_zone))
        if self.default_price is not None:
            _require_decimal("default price", self.default_price)
        if not self.periods and self.default_price is None:
            raise ValueError("a time-of-use tariff needs at least one period or a default price")
        if not self.weekend_days <= set(range(7)):
            raise ValueError("weekend days are date.weekday() numbers, 0 (Monday) to 6 (Sunday)")
        self._check_seasons()
        self._check_overlaps()
        edges = {0} | {p.start_second for p in self.periods} | {p.end_second for p in self.periods}
        object.__setattr__(self, "_breakpoints", tuple(sorted(edges - {SECONDS_PER_DAY})))

    def _check_seasons(self) -> None:
        names = [season.name for season in self.seasons]
        if len(set(names)) != len(names):
            raise ValueError(f"season names must be unique, got {names}")
        for i, one in enumerate(self.seasons):
            for other in self.seasons[i + 1 :]:
                if one.days_of_year() & other.days_of_year():
                    raise ValueError(f"seasons {one.name!r} and {other.name!r} overlap")
        for period in self.periods:
            if period.season is not None and period.season not in names:
                raise ValueError(
                    f"period {period.label}: unknown season {period.season!r} (known: {names})"
                )

    def _check_overlaps(self) -> None:
        # Seasons are disjoint (checked above), so two periods share days only when they
        # name the same season or one of them applies all year.
        for i, one in enumerate(self.periods):
            for other in self.periods[i + 1 :]:
                shared_days = one.days & other.days
                shared_season = (
                    one.season is None or other.season is None or (one.season == other.season)
                )
                shared_time = (
                    one.start_second < other.end_second and other.start_second < one.end_second
                )
                if shared_days and shared_season and shared_time:
                    raise ValueError(
                        f"periods {one.label} and {other.label} overlap on "
                        f"{', '.join(sorted(shared_days))} days"
                    )

    def price_at(self, moment: datetime) -> Decimal | None:
        """The price in force at an aware moment."""
        _require_aware("moment", moment)
        local = moment.astimezone(self._zone)
        day = local.date()
        second = _second_of_day(local.time())
        kind = self._day_kind(day)
        season = next((s.name for s in self.seasons if s.contains(day)), None)
        for period in self.periods:
            if (
                kind in period.days
                and (period.season is None or period.season == season)
                and period.start_second <= second < period.end_second
            ):
                return period.price
        return self.default_price

    def _day_kind(self, day: date) -> DayKind:
        if day in self.holidays:
            return DayKind.HOLIDAY
        return DayKind.WEEKEND if day.weekday() in self.weekend_days else DayKind.WEEKDAY

    def price_intervals(self, start: datetime, end: datetime) -> list[PriceInterval]:
        """Intervals split where the price changes, merged where it does not."""
        start, end = _utc_range(start, end)
        if start == end:
            return []
        cuts = self._cuts(start, end)
        intervals: list[PriceInterval] = []
        for a, b in pairwise(cuts):
            # Between two cuts the wall clock runs on without crossing a period edge, a
            # local midnight or a clock change, so the price at `a` holds until `b`.
            price = self.price_at(a)
            if intervals and intervals[-1].price_per_kwh == price:
                intervals[-1] = PriceInterval(intervals[-1].start, b, price)
            else:
                intervals.append(PriceInterval(a, b, price))
        return intervals

    def _cuts(self, start: datetime, end: datetime) -> list[datetime]:
        """Every instant in (start, end) where the price might change, plus start and end."""
        cuts = {start, end}
        first_day = start.astimezone(self._zone).date() - DAY
        last_day = end.astimezone(self._zone).date() + DAY
        day = first_day
        while day <= last_day:
            for second in self._breakpoints:
                wall = datetime.combine(day, _time_of_second(second))
                # A wall time that happens twice (clocks going back) is a candidate both
                # times; one that never happens maps, for both folds, to instants next to
                # the clock change, where the extra cut only splits an equal price.
                for fold in (0, 1):
                    cuts.add(wall.replace(tzinfo=self._zone, fold=fold).astimezone(UTC))
            day += DAY
        cuts.update(_offset_changes(self._zone, start, end))
        return sorted(cut for cut in cuts if start <= cut <= end)


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


def _offset_changes(zone: tzinfo, start: datetime, end: datetime) -> list[datetime]:
    """The instants in [start, end] where the zone's UTC offset changes (DST, zone rules).

    Offsets are compared hourly and each change is narrowed down by bisection to the
    microsecond, which finds changes at any minute (some zones change on the half hour).
    """
    changes = []
    step = timedelta(hours=1)
    before = start
    while before < end:
        after = min(before + step, end)
        if before.astimezone(zone).utcoffset() != after.astimezone(zone).utcoffset():
            low, high = before, after  # the offset at low is the old one, at high the new
            while high - low > timedelta(microseconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            changes.append(high)
        before = after
    return changes


def _utc_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    _require_aware("start", start)
    _require_aware("end", end)
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    return start.astimezone(UTC), end.astimezone(UTC)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name)") from err


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


def _second_of_day(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _time_of_second(second: int) -> time:
    return time(second // 3600, second // 60 % 60, second % 60)


def _microseconds(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)
