"""Tariffs: intervals that tile the asked range, prices by local wall clock, validation."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_charging_monitor.pricing.tariff import (
    DynamicTariff,
    FlatTariff,
    PriceInterval,
    PricePoint,
    StandingCharge,
)
from custom_components.ev_charging_monitor.pricing.time_of_use import (
    DayKind,
    Season,
    TimeOfUsePeriod,
    TimeOfUseTariff,
)

BERLIN = ZoneInfo("Europe/Berlin")
D = Decimal


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def assert_tiles(intervals: list[PriceInterval], start: datetime, end: datetime) -> None:
    assert intervals[0].start == start
    assert intervals[-1].end == end
    for before, after in itertools.pairwise(intervals):
        assert before.end == after.start
    assert all(i.start < i.end and i.start.tzinfo is UTC for i in intervals)


def night_and_day() -> TimeOfUseTariff:
    return TimeOfUseTariff(
        periods=(
            TimeOfUsePeriod(D("0.25"), time(0), time(6), name="night"),
            TimeOfUsePeriod(D("0.40"), time(6), time(22), name="day"),
            TimeOfUsePeriod(D("0.25"), time(22), time(0), name="late"),
        ),
        time_zone="Europe/Berlin",
        currency="EUR",
    )


def test_flat_tariff_is_one_interval_in_utc() -> None:
    tariff = FlatTariff(D("0.3456"), "EUR", "Home")
    start = datetime(2025, 6, 1, 10, 0, tzinfo=BERLIN)
    end = datetime(2025, 6, 1, 12, 0, tzinfo=BERLIN)
    assert tariff.price_intervals(start, end) == [
        PriceInterval(utc(2025, 6, 1, 8, 0), utc(2025, 6, 1, 10, 0), D("0.3456"))
    ]
    assert tariff.price_intervals(start, start) == []


def test_time_of_use_splits_at_local_period_edges() -> None:
    # 21:00-23:30 CEST on a Wednesday = 19:00-21:30 UTC; 22:00 CEST is 20:00 UTC.
    intervals = night_and_day().price_intervals(utc(2025, 6, 11, 19), utc(2025, 6, 11, 21, 30))
    assert intervals == [
        PriceInterval(utc(2025, 6, 11, 19), utc(2025, 6, 11, 20), D("0.40")),
        PriceInterval(utc(2025, 6, 11, 20), utc(2025, 6, 11, 21, 30), D("0.25")),
    ]


def test_adjacent_periods_with_one_price_merge_over_midnight() -> None:
    # 22:00 to 06:00 next morning (CEST) is one 8-hour stretch at 0.25.
    intervals = night_and_day().price_intervals(utc(2025, 6, 11, 20), utc(2025, 6, 12, 4))
    assert intervals == [PriceInterval(utc(2025, 6, 11, 20), utc(2025, 6, 12, 4), D("0.25"))]


def whole_local_day(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), BERLIN).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), BERLIN).astimezone(UTC)
    return start, end


def test_march_dst_day_has_23_hours_and_no_two_oclock() -> None:
    tariff = TimeOfUseTariff(
        periods=(TimeOfUsePeriod(D("0.99"), time(2), time(3), name="skipped"),),
        default_price=D("0.30"),
        time_zone="Europe/Berlin",
        currency="EUR",
    )
    start, end = whole_local_day(date(2025, 3, 30))
    intervals = tariff.price_intervals(start, end)
    assert_tiles(intervals, start, end)
    assert end - start == timedelta(hours=23)
    # 02:00-03:00 never happens on that day: no interval at 0.99.
    assert intervals == [PriceInterval(start, end, D("0.30"))]


def test_october_dst_day_has_25_hours_and_two_oclock_twice() -> None:
    tariff = TimeOfUseTariff(
        periods=(TimeOfUsePeriod(D("0.10"), time(2), time(3), name="twice"),),
        default_price=D("0.30"),
        time_zone="Europe/Berlin",
        currency="EUR",
    )
    start, end = whole_local_day(date(2025, 10, 26))
    intervals = tariff.price_intervals(start, end)
    assert_tiles(intervals, start, end)
    assert end - start == timedelta(hours=25)
    # 02:00-03:00 CEST is 00:00-01:00 UTC, then 02:00-03:00 CET is 01:00-02:00 UTC.
    assert intervals == [
        PriceInterval(start, utc(2025, 10, 26, 0), D("0.30")),
        PriceInterval(utc(2025, 10, 26, 0), utc(2025, 10, 26, 2), D("0.10")),
        PriceInterval(utc(2025, 10, 26, 2), end, D("0.30")),
    ]


def test_october_wall_clock_edge_inside_the_repeated_hour() -> None:
    # An edge at 02:30 is passed twice: 00:30 UTC (CEST) and 01:30 UTC (CET). Between them
    # the clock goes back at 01:00 UTC from 03:00 to 02:00, so the early price returns.
    tariff = TimeOfUseTariff(
        periods=(
            TimeOfUsePeriod(D("0.20"), time(0), time(2, 30)),
            TimeOfUsePeriod(D("0.40"), time(2, 30), time(0)),
        ),
        time_zone="Europe/Berlin",
        currency="EUR",
    )
    intervals = tariff.price_intervals(utc(2025, 10, 25, 23), utc(2025, 10, 26, 3))
    assert intervals == [
        PriceInterval(utc(2025, 10, 25, 23), utc(2025, 10, 26, 0, 30), D("0.20")),
        PriceInterval(utc(2025, 10, 26, 0, 30), utc(2025, 10, 26, 1), D("0.40")),
        PriceInterval(utc(2025, 10, 26, 1), utc(2025, 10, 26, 1, 30), D("0.20")),
        PriceInterval(utc(2025, 10, 26, 1, 30), utc(2025, 10, 26, 3), D("0.40")),
    ]


def test_weekend_holiday_and_season_choose_the_period() -> None:
    tariff = TimeOfUseTariff(
        periods=(
            TimeOfUsePeriod(D("0.40"), time(0), time(11), days=frozenset({DayKind.WEEKDAY})),
            TimeOfUsePeriod(D("0.40"), time(15), time(0), days=frozenset({DayKind.WEEKDAY})),
            TimeOfUsePeriod(
                D("0.40"), time(11), time(15), days=frozenset({DayKind.WEEKDAY}), season="winter"
            ),
            TimeOfUsePeriod(
                D("0.10"), time(11), time(15), days=frozenset({DayKind.WEEKDAY}), season="summer"
            ),
            TimeOfUsePeriod(
                D("0.20"), time(0), time(0), days=frozenset({DayKind.WEEKEND, DayKind.HOLIDAY})
            ),
        ),
        seasons=(Season("summer", (4, 1), (9, 30)), Season("winter", (10, 1), (3, 31))),
        holidays=frozenset({date(2025, 10, 3)}),
        time_zone="Europe/Berlin",
        currency="EUR",
    )
    noon = time(12)
    assert tariff.price_at(datetime.combine(date(2025, 6, 11), noon, BERLIN)) == D("0.10")
    assert tariff.price_at(datetime.combine(date(2025, 12, 10), noon, BERLIN)) == D("0.40")
    assert tariff.price_at(datetime.combine(date(2025, 6, 14), noon, BERLIN)) == D("0.20")  # Sat
    # 3 October 2025 is a Friday and a holiday.
    assert tariff.price_at(datetime.combine(date(2025, 10, 3), noon, BERLIN)) == D("0.20")
    assert tariff.price_at(datetime.combine(date(2025, 10, 2), noon, BERLIN)) == D("0.40")


def test_time_of_use_without_default_leaves_uncovered_time_unpriced() -> None:
    tariff = TimeOfUseTariff(
        periods=(TimeOfUsePeriod(D("0.25"), time(0), time(6)),),
        time_zone="Europe/Berlin",
        currency="EUR",
    )
    # 05:00-07:00 CEST = 03:00-05:00 UTC.
    assert tariff.price_intervals(utc(2025, 6, 11, 3), utc(2025, 6, 11, 5)) == [
        PriceInterval(utc(2025, 6, 11, 3), utc(2025, 6, 11, 4), D("0.25")),
        PriceInterval(utc(2025, 6, 11, 4), utc(2025, 6, 11, 5), None),
    ]


def quarter_points(start: datetime, prices: list[str | None]) -> list[PricePoint]:
    step = timedelta(minutes=15)
    return [
        PricePoint(start + i * step, start + (i + 1) * step, None if p is None else D(p))
        for i, p in enumerate(prices)
    ]


def test_dynamic_tariff_clips_points_and_reports_gaps_as_none() -> None:
    points = quarter_points(utc(2025, 10, 1, 12), ["0.25", "0.20", None, "0.30"])
    # A gap: nothing from 13:00 to 13:15, then one more quarter.
    points.append(PricePoint(utc(2025, 10, 1, 13, 15), utc(2025, 10, 1, 13, 30), D("0.10")))
    tariff = DynamicTariff(tuple(reversed(points)), "EUR")
    intervals = tariff.price_intervals(utc(2025, 10, 1, 12, 5), utc(2025, 10, 1, 13, 40))
    assert intervals == [
        PriceInterval(utc(2025, 10, 1, 12, 5), utc(2025, 10, 1, 12, 15), D("0.25")),
        PriceInterval(utc(2025, 10, 1, 12, 15), utc(2025, 10, 1, 12, 30), D("0.20")),
        PriceInterval(utc(2025, 10, 1, 12, 30), utc(2025, 10, 1, 12, 45), None),
        PriceInterval(utc(2025, 10, 1, 12, 45), utc(2025, 10, 1, 13, 0), D("0.30")),
        PriceInterval(utc(2025, 10, 1, 13, 0), utc(2025, 10, 1, 13, 15), None),
        PriceInterval(utc(2025, 10, 1, 13, 15), utc(2025, 10, 1, 13, 30), D("0.10")),
        PriceInterval(utc(2025, 10, 1, 13, 30), utc(2025, 10, 1, 13, 40), None),
    ]


def test_dynamic_tariff_counts_a_repeated_point_once_and_takes_more_points() -> None:
    points = quarter_points(utc(2025, 10, 1, 12), ["0.25", "0.20"])
    tariff = DynamicTariff((*points, points[1]), "EUR")
    assert len(tariff.points) == 2
    later = tariff.with_points(quarter_points(utc(2025, 10, 1, 12, 30), ["0.30"]))
    assert [p.price_per_kwh for p in later.points] == [D("0.25"), D("0.20"), D("0.30")]


def test_standing_charge_per_session_and_per_day_pro_rata() -> None:
    start = utc(2025, 6, 1, 0)
    assert StandingCharge(D("0.50"), "session").share(start, start + timedelta(hours=5)) == D(
        "0.50"
    )
    # 6 hours of a 0.48-per-day charge: 0.48 x 6 / 24 = 0.12.
    share = StandingCharge(D("0.48"), "day").share(start, start + timedelta(hours=6))
    assert share == D("0.12")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: TimeOfUseTariff(
                periods=(
                    TimeOfUsePeriod(D("0.2"), time(0), time(8)),
                    TimeOfUsePeriod(D("0.3"), time(7), time(9)),
                ),
                time_zone="Europe/Berlin",
                currency="EUR",
            ),
            "overlap",
        ),
        (lambda: TimeOfUsePeriod(D("0.2"), time(22), time(6)), "negative or zero duration"),
        (lambda: TimeOfUsePeriod(D("0.2"), time(6), time(6)), "negative or zero duration"),
        (
            lambda: TimeOfUseTariff(
                periods=(TimeOfUsePeriod(D("0.2"), time(0), time(8)),),
                time_zone="Europe/Atlantis",
                currency="EUR",
            ),
            "unknown time zone 'Europe/Atlantis'",
        ),
        (
            lambda: TimeOfUseTariff(
                periods=(TimeOfUsePeriod(D("0.2"), time(0), time(8), season="summer"),),
                seasons=(Season("summer", (4, 1), (9, 30)), Season("mid", (9, 1), (10, 31))),
                time_zone="Europe/Berlin",
                currency="EUR",
            ),
            "seasons 'summer' and 'mid' overlap",
        ),
        (
            lambda: TimeOfUseTariff(
                periods=(TimeOfUsePeriod(D("0.2"), time(0), time(8), season="summer"),),
                time_zone="Europe/Berlin",
                currency="EUR",
            ),
            "unknown season 'summer'",
        ),
        (lambda: Season("odd", (2, 30), (3, 1)), "not a date"),
        (lambda: FlatTariff(0.3, "EUR"), "must be a Decimal"),  # type: ignore[arg-type]
        (lambda: FlatTariff(D("0.3"), "euro"), "ISO 4217"),
        (
            lambda: DynamicTariff(
                (PricePoint(utc(2025, 1, 1, 1), utc(2025, 1, 1, 0), D("0.1")),), "EUR"
            ),
            "negative or zero duration",
        ),
        (
            lambda: DynamicTariff(
                (
                    PricePoint(utc(2025, 1, 1, 0), utc(2025, 1, 1, 1), D("0.1")),
                    PricePoint(utc(2025, 1, 1, 0, 30), utc(2025, 1, 1, 1, 30), D("0.2")),
                ),
                "EUR",
            ),
            "price points overlap",
        ),
        (
            lambda: DynamicTariff(
                (PricePoint(datetime(2025, 1, 1, 0), datetime(2025, 1, 1, 1), D("0.1")),),
                "EUR",
            ),
            "naive datetime",
        ),
        (lambda: StandingCharge(D("-1"), "day"), "must not be negative"),
    ],
)
def test_bad_tariffs_are_refused_with_a_clear_message(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_naive_or_reversed_range_is_refused() -> None:
    tariff = FlatTariff(D("0.3"), "EUR")
    with pytest.raises(ValueError, match="naive datetime"):
        tariff.price_intervals(datetime(2025, 1, 1), utc(2025, 1, 2))
    with pytest.raises(ValueError, match="before start"):
        tariff.price_intervals(utc(2025, 1, 2), utc(2025, 1, 1))
