"""Time-of-use tariffs: prices by the local wall clock, by day of the week, holiday and season.

Home Assistant-free. A period is a [start, end) window of the local day on some days of the
week (or on holidays), optionally in a season; a moment no period covers gets the tariff's
default price, or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .tariff import (
    DAY,
    SECONDS_PER_DAY,
    PriceInterval,
    StandingCharge,
    _require_aware,
    _require_currency,
    _require_decimal,
    _utc_range,
)


class DayKind(StrEnum):
    """Which days a time-of-use period applies to: a day of the week, a group, or holidays.

    A holiday (a date in the tariff's holiday set) is only a holiday: periods for its day of
    the week do not apply on it, so "Mon-Fri 07:00-22:00" leaves a Monday holiday to the
    holiday periods (or the default price).
    """

    MONDAY = "mon"
    TUESDAY = "tue"
    WEDNESDAY = "wed"
    THURSDAY = "thu"
    FRIDAY = "fri"
    SATURDAY = "sat"
    SUNDAY = "sun"
    WEEKDAY = "weekday"  # every day not in the tariff's weekend days
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


# DayKind of each date.weekday() number, Monday first.
WEEK = (
    DayKind.MONDAY,
    DayKind.TUESDAY,
    DayKind.WEDNESDAY,
    DayKind.THURSDAY,
    DayKind.FRIDAY,
    DayKind.SATURDAY,
    DayKind.SUNDAY,
)
HOLIDAY_SLOT = 7  # the slot of holidays next to the weekday numbers 0-6


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
                shared_days = self.slots(one.days) & self.slots(other.days)
                shared_season = (
                    one.season is None or other.season is None or (one.season == other.season)
                )
                shared_time = (
                    one.start_second < other.end_second and other.start_second < one.end_second
                )
                if shared_days and shared_season and shared_time:
                    names = [WEEK[s].value if s < HOLIDAY_SLOT else "holiday" for s in shared_days]
                    raise ValueError(
                        f"periods {one.label} and {other.label} overlap on {', '.join(names)}"
                    )

    def price_at(self, moment: datetime) -> Decimal | None:
        """The price in force at an aware moment."""
        _require_aware("moment", moment)
        local = moment.astimezone(self._zone)
        day = local.date()
        second = _second_of_day(local.time())
        slot = HOLIDAY_SLOT if day in self.holidays else day.weekday()
        season = next((s.name for s in self.seasons if s.contains(day)), None)
        for period in self.periods:
            if (
                slot in self.slots(period.days)
                and (period.season is None or period.season == season)
                and period.start_second <= second < period.end_second
            ):
                return period.price
        return self.default_price

    def slots(self, days: frozenset[DayKind]) -> frozenset[int]:
        """The weekday numbers (0 Monday to 6 Sunday) and HOLIDAY_SLOT that `days` covers."""
        slots = {WEEK.index(day) for day in days if day in WEEK}
        if DayKind.WEEKDAY in days:
            slots |= set(range(7)) - self.weekend_days
        if DayKind.WEEKEND in days:
            slots |= self.weekend_days
        if DayKind.HOLIDAY in days:
            slots.add(HOLIDAY_SLOT)
        return frozenset(slots)

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


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name)") from err


def _second_of_day(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _time_of_second(second: int) -> time:
    return time(second // 3600, second // 60 % 60, second % 60)
