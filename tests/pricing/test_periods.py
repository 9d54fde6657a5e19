"""Time-of-use by days of the week: the editor's periods, per-day overlaps, holidays, migration.

Expected prices are read off the schedule by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_charging_monitor.pricing.options import (
    CONF_TARIFF,
    migrate_tariff,
    static_tariff,
)
from custom_components.ev_charging_monitor.pricing.periods import (
    PeriodError,
    describe,
    first_overlap,
    new_periods,
    sorted_periods,
)
from custom_components.ev_charging_monitor.pricing.prices import price_points
from custom_components.ev_charging_monitor.pricing.time_of_use import (
    DayKind,
    TimeOfUsePeriod,
    TimeOfUseTariff,
)

BERLIN = ZoneInfo("Europe/Berlin")
NAMES = {
    "mon": "Mon",
    "tue": "Tue",
    "wed": "Wed",
    "thu": "Thu",
    "fri": "Fri",
    "sat": "Sat",
    "sun": "Sun",
    "holiday": "Hol",
}
WEEK = {"mon", "tue", "wed", "thu", "fri"}
SCHEDULE = {
    "type": "time_of_use",
    "default_price": "0.24",
    "periods": [
        {"days": sorted(WEEK), "start": "07:00", "end": "22:00", "price": "0.38"},
        {"days": ["sat", "sun"], "start": "10:00", "end": "16:00", "price": "0.28"},
    ],
}


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of December 2026 in Berlin: the 7th is a Monday, the 12th a Saturday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("moment", "price"),
    [
        (berlin(7, 6, 59), "0.24"),
        (berlin(7, 7), "0.38"),
        (berlin(11, 21, 59), "0.38"),
        (berlin(11, 22), "0.24"),
        (berlin(12, 9, 59), "0.24"),
        (berlin(12, 10), "0.28"),
        (berlin(13, 15, 59), "0.28"),
        (berlin(13, 16), "0.24"),
        (berlin(13, 12), "0.28"),
    ],
)
def test_mon_fri_sat_sun_else(moment: datetime, price: str) -> None:
    """The schedule the issue says was refused as overlapping prices each day by hand."""
    tariff = static_tariff({CONF_TARIFF: SCHEDULE}, currency="EUR", time_zone="Europe/Berlin")
    assert isinstance(tariff, TimeOfUseTariff)
    assert tariff.price_at(moment.astimezone(UTC)) == Decimal(price)


def test_a_holiday_takes_only_holiday_periods() -> None:
    """Christmas Day 2026 is a Friday: its weekday period gives way to the holiday one."""
    tariff = static_tariff(
        {
            CONF_TARIFF: {
                **SCHEDULE,
                "periods": [
                    *SCHEDULE["periods"],
                    {"days": ["holiday"], "start": "00:00", "end": "00:00", "price": "0.20"},
                ],
            }
        },
        currency="EUR",
        time_zone="Europe/Berlin",
        holidays=frozenset({date(2026, 12, 25)}),
    )
    assert isinstance(tariff, TimeOfUseTariff)
    assert tariff.price_at(berlin(25, 12)) == Decimal("0.20")
    assert tariff.price_at(berlin(24, 12)) == Decimal("0.38")
    assert tariff.price_at(berlin(26, 12)) == Decimal("0.28")


def test_overlap_is_per_day() -> None:
    """Same hours on different days are fine; on a shared day they are refused."""
    monday = TimeOfUsePeriod(Decimal(1), time(7), time(22), frozenset({DayKind.MONDAY}))
    tuesday = TimeOfUsePeriod(Decimal(2), time(7), time(22), frozenset({DayKind.TUESDAY}))
    TimeOfUseTariff((monday, tuesday), time_zone="UTC", currency="EUR")
    weekdays = TimeOfUsePeriod(Decimal(2), time(21), time(23), frozenset({DayKind.WEEKDAY}))
    with pytest.raises(ValueError, match="overlap on mon"):
        TimeOfUseTariff((monday, weekdays), time_zone="UTC", currency="EUR")
    holiday = TimeOfUsePeriod(Decimal(3), time(7), time(22), frozenset({DayKind.HOLIDAY}))
    TimeOfUseTariff((monday, holiday), time_zone="UTC", currency="EUR")


def test_new_period_over_midnight_belongs_to_two_days() -> None:
    """Friday and Sunday 22:00-06:00: the mornings are Saturday and Monday."""
    periods = new_periods(
        {"days": ["sun", "fri", "holiday"], "start": "22:00:00", "end": "06:00", "price": 0.2}
    )
    assert periods == [
        {"days": ["fri", "sun", "holiday"], "start": "22:00", "end": "00:00", "price": "0.2"},
        {"days": ["mon", "sat", "holiday"], "start": "00:00", "end": "06:00", "price": "0.2"},
    ]
    assert [describe(p, NAMES, "EUR/kWh") for p in sorted_periods(periods)] == [
        "Mon, Sat, Hol 00:00-06:00: 0.2 EUR/kWh",
        "Fri, Sun, Hol 22:00-24:00: 0.2 EUR/kWh",
    ]


@pytest.mark.parametrize(
    ("form", "field", "key"),
    [
        ({"start": "07:00", "end": "08:00", "price": 1}, "days", "days_required"),
        ({"days": ["xyz"], "start": "07:00", "end": "08:00", "price": 1}, "days", "days_required"),
        ({"days": ["mon"], "end": "08:00", "price": 1}, "start", "invalid_time"),
        ({"days": ["mon"], "start": "07:00", "end": "8", "price": 1}, "end", "invalid_time"),
        (
            {"days": ["mon"], "start": "07:00:30", "end": "08:00", "price": 1},
            "start",
            "invalid_time",
        ),
        ({"days": ["mon"], "start": "07:00", "end": "08:00"}, "price", "price_required"),
        (
            {"days": ["mon"], "start": "07:00", "end": "08:00", "price": "nan"},
            "price",
            "price_required",
        ),
        ({"days": ["mon"], "start": "07:00", "end": "07:00", "price": 1}, "end", "window_empty"),
    ],
)
def test_new_period_errors(form: dict[str, object], field: str, key: str) -> None:
    """Each refusal names its field."""
    with pytest.raises(PeriodError) as caught:
        new_periods(form)
    assert (caught.value.field, caught.value.key) == (field, key)


def test_first_overlap_names_the_period_in_the_way() -> None:
    """The editor's check, period against period."""
    weekend = new_periods({"days": ["sat", "sun"], "start": "10:00", "end": "16:00", "price": 1})
    friday = new_periods({"days": ["fri", "sat"], "start": "15:00", "end": "17:00", "price": 2})
    assert first_overlap(weekend, SCHEDULE["periods"][:1]) is None
    assert first_overlap(friday, SCHEDULE["periods"]) == SCHEDULE["periods"][0]
    assert describe(SCHEDULE["periods"][0], NAMES, "EUR/kWh") == (
        "Mon-Fri 07:00-22:00: 0.38 EUR/kWh"
    )


def test_migration_keeps_every_price() -> None:
    """1.1 periods (no days, weekday/weekend) become named days; prices stay, hour by hour."""
    legacy = {
        "type": "time_of_use",
        "default_price": "0.30",
        "periods": [
            {"start": "22:00", "end": "00:00", "price": "0.22"},
            {"start": "07:00", "end": "18:00", "price": "0.38", "days": ["weekday"]},
            {"start": "10:00", "end": "16:00", "price": "0.28", "days": ["holiday", "weekend"]},
        ],
    }
    migrated = migrate_tariff(legacy)
    assert migrated is not None
    assert [period["days"] for period in migrated["periods"]] == [
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"],
        ["mon", "tue", "wed", "thu", "fri"],
        ["sat", "sun", "holiday"],
    ]
    assert migrate_tariff(migrated) == migrated
    holidays = frozenset({date(2026, 12, 25)})
    before, after = (
        static_tariff(
            {CONF_TARIFF: tariff}, currency="EUR", time_zone="Europe/Berlin", holidays=holidays
        )
        for tariff in (legacy, migrated)
    )
    assert isinstance(before, TimeOfUseTariff)
    assert isinstance(after, TimeOfUseTariff)
    for day in range(21, 28):
        for hour in range(24):
            moment = berlin(day, hour, 30)
            assert before.price_at(moment) == after.price_at(moment), moment
    for other in ({"type": "flat", "price": "0.3"}, None, {}):
        assert migrate_tariff(other) == other


def test_octopus_rates_are_read() -> None:
    """Octopus Energy's rate list: {start, end, value_inc_vat}, GBP/kWh without a unit."""
    points = price_points(
        {
            "rates": [
                {
                    "start": "2026-12-01T00:00:00+00:00",
                    "end": "2026-12-01T00:30:00+00:00",
                    "value_inc_vat": 0.2455,
                    "is_capped": False,
                },
                {
                    "start": "2026-12-01T00:30:00+00:00",
                    "end": "2026-12-01T01:00:00+00:00",
                    "value_inc_vat": 0.1502,
                    "is_capped": False,
                },
            ]
        }
    )
    assert [(p.start.minute, p.end.minute, p.price_per_kwh) for p in points] == [
        (0, 30, Decimal("0.2455")),
        (30, 0, Decimal("0.1502")),
    ]
    assert price_points({"rates": [{"start": "x"}]}) == []  # not Octopus' shape
