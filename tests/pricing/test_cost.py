"""Session cost: every expected amount is worked out by hand below and, where a price
function is simple to write, also by the minute-by-minute method in `reference.py`."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_charging_monitor.pricing.cost import session_cost
from custom_components.ev_charging_monitor.pricing.tariff import (
    DynamicTariff,
    FlatTariff,
    PricePoint,
    StandingCharge,
)
from custom_components.ev_charging_monitor.pricing.time_of_use import (
    TimeOfUsePeriod,
    TimeOfUseTariff,
)

from .reference import minute_by_minute

BERLIN = ZoneInfo("Europe/Berlin")
D = Decimal


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_flat_tariff() -> None:
    samples = [
        (utc(2025, 6, 1, 10), D("1000000.000")),
        (utc(2025, 6, 1, 11), D("1011000.500")),
        (utc(2025, 6, 1, 12, 7), D("1023457.000")),
    ]
    result = session_cost(samples, FlatTariff(D("0.3456"), "EUR", "Home"))
    # 23 457 Wh = 23.457 kWh x 0.3456 EUR = 8.1067392 -> 8.11
    assert result.total == D("8.11")
    assert result.currency == "EUR"
    assert result.tariff == "Home"
    assert result.flags == ()
    [line] = result.intervals
    assert line.energy_wh == D("23457.000")
    assert line.cost == D("8.11")
    assert line.interpolated is False
    assert minute_by_minute(samples, lambda _: D("0.3456"))[0] == D("8.11")


def weekday_evening() -> TimeOfUseTariff:
    return TimeOfUseTariff(
        periods=(
            TimeOfUsePeriod(D("0.25"), time(0), time(6)),
            TimeOfUsePeriod(D("0.40"), time(6), time(22)),
            TimeOfUsePeriod(D("0.25"), time(22), time(0)),
        ),
        time_zone="Europe/Berlin",
        currency="EUR",
        name="Evening",
    )


def test_session_crossing_a_time_of_use_boundary_between_polls() -> None:
    # 21:00-23:30 CEST (19:00-21:30 UTC); the 22:00 edge (20:00 UTC) falls between the
    # polls at 19:40 (11 000 Wh) and 20:10 (14 600 Wh): 11 000 + 3 600 x 20/30 = 13 400 Wh.
    samples = [
        (utc(2025, 6, 11, 19, 0), D("5000.000")),
        (utc(2025, 6, 11, 19, 20), D("8000.000")),
        (utc(2025, 6, 11, 19, 40), D("11000.000")),
        (utc(2025, 6, 11, 20, 10), D("14600.000")),
        (utc(2025, 6, 11, 20, 30), D("17000.000")),
        (utc(2025, 6, 11, 21, 30), D("20000.000")),
    ]
    result = session_cost(samples, weekday_evening())
    # Peak 13 400 - 5 000 = 8 400 Wh x 0.40 = 3.36; off-peak 20 000 - 13 400 = 6 600 Wh
    # x 0.25 = 1.65; total 5.01.
    assert [(i.energy_wh, i.price_per_kwh, i.cost) for i in result.intervals] == [
        (D("8400.000"), D("0.40"), D("3.36")),
        (D("6600.000"), D("0.25"), D("1.65")),
    ]
    assert all(i.interpolated for i in result.intervals)
    assert result.total == D("5.01")

    def by_hand(moment: datetime) -> Decimal:
        return D("0.40") if 6 <= moment.astimezone(BERLIN).hour < 22 else D("0.25")

    assert minute_by_minute(samples, by_hand)[0] == D("5.01")


def test_session_over_the_march_clock_change_in_berlin() -> None:
    # 30 March 2025: at 01:00 UTC the clock jumps from 02:00 CET to 03:00 CEST.
    tariff = TimeOfUseTariff(
        periods=(
            TimeOfUsePeriod(D("0.20"), time(0), time(2)),
            TimeOfUsePeriod(D("0.99"), time(2), time(3)),  # never happens that night
            TimeOfUsePeriod(D("0.30"), time(3), time(6)),
        ),
        default_price=D("0.40"),
        time_zone="Europe/Berlin",
        currency="EUR",
    )
    start = datetime(2025, 3, 30, 0, 30, tzinfo=BERLIN)  # 23:30 UTC the day before
    end = datetime(2025, 3, 30, 4, 30, tzinfo=BERLIN)  # 02:30 UTC
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=3)  # not 4
    # Polls at 23:30, 00:45, 01:20, 02:30 UTC; the change at 01:00 UTC falls between 7 500
    # and 11 000 Wh: 7 500 + 3 500 x 15/35 = 9 000 Wh.
    samples = [
        (start, D("0")),
        (utc(2025, 3, 30, 0, 45), D("7500")),
        (utc(2025, 3, 30, 1, 20), D("11000")),
        (end, D("18000")),
    ]
    result = session_cost(samples, tariff)
    # 00:30-02:00 CET: 9 000 Wh x 0.20 = 1.80; 03:00-04:30 CEST: 9 000 Wh x 0.30 = 2.70.
    assert [(i.start, i.end, i.energy_wh, i.cost) for i in result.intervals] == [
        (utc(2025, 3, 29, 23, 30), utc(2025, 3, 30, 1), D("9000.000"), D("1.80")),
        (utc(2025, 3, 30, 1), utc(2025, 3, 30, 2, 30), D("9000.000"), D("2.70")),
    ]
    assert result.total == D("4.50")

    def by_hand(moment: datetime) -> Decimal:
        hour = moment.astimezone(BERLIN).hour
        return D("0.20") if hour < 2 else D("0.99") if hour < 3 else D("0.30")

    assert minute_by_minute(samples, by_hand)[0] == D("4.50")


def test_session_over_the_october_clock_change_in_berlin() -> None:
    # 26 October 2025: at 01:00 UTC the clock goes back from 03:00 CEST to 02:00 CET, so
    # 02:00-03:00 happens twice; both times it is the cheap hour.
    tariff = TimeOfUseTariff(
        periods=(TimeOfUsePeriod(D("0.10"), time(2), time(3)),),
        default_price=D("0.30"),
        time_zone="Europe/Berlin",
        currency="EUR",
    )
    start = datetime(2025, 10, 26, 1, 30, tzinfo=BERLIN)  # CEST, 23:30 UTC the day before
    end = datetime(2025, 10, 26, 3, 30, tzinfo=BERLIN)  # CET, 02:30 UTC
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=3)  # not 2
    # 4 kW throughout, polled every 20 minutes: the register is 4 000 Wh/h x hours since start.
    samples = [
        (start.astimezone(UTC) + timedelta(minutes=20 * n), D(4000 * 20 * n) / 60)
        for n in range(10)
    ]
    samples = [(t, e.quantize(D("0.001"))) for t, e in samples]
    samples[-1] = (end.astimezone(UTC), D("12000.000"))
    result = session_cost(samples, tariff)
    # 01:30-02:00 CEST: 2 000 Wh x 0.30 = 0.60; 02:00-03:00 CEST and again 02:00-03:00 CET:
    # 8 000 Wh x 0.10 = 0.80; 03:00-03:30 CET: 2 000 Wh x 0.30 = 0.60; total 2.00.
    assert [(i.start, i.end, i.energy_wh, i.cost) for i in result.intervals] == [
        (utc(2025, 10, 25, 23, 30), utc(2025, 10, 26, 0), D("2000.000"), D("0.60")),
        (utc(2025, 10, 26, 0), utc(2025, 10, 26, 2), D("8000.000"), D("0.80")),
        (utc(2025, 10, 26, 2), utc(2025, 10, 26, 2, 30), D("2000.000"), D("0.60")),
    ]
    assert result.total == D("2.00")

    def by_hand(moment: datetime) -> Decimal:
        return D("0.10") if moment.astimezone(BERLIN).hour == 2 else D("0.30")

    assert minute_by_minute(samples, by_hand)[0] == D("2.00")


QUARTER_PRICES = {  # from 12:00 UTC on 1 October 2025, EUR/kWh; one is negative
    utc(2025, 10, 1, 12, 0): D("0.2512"),
    utc(2025, 10, 1, 12, 15): D("0.1876"),
    utc(2025, 10, 1, 12, 30): D("-0.0150"),
    utc(2025, 10, 1, 12, 45): D("0.3021"),
    utc(2025, 10, 1, 13, 0): D("0.2800"),
}


def quarter_hour_tariff() -> DynamicTariff:
    quarter = timedelta(minutes=15)
    points = tuple(PricePoint(s, s + quarter, p) for s, p in QUARTER_PRICES.items())
    return DynamicTariff(points, "EUR", "Day-ahead 15 min")


def test_fifteen_minute_dynamic_prices() -> None:
    samples = [
        (utc(2025, 10, 1, 12, 5), D("0")),
        (utc(2025, 10, 1, 12, 15), D("1000")),
        (utc(2025, 10, 1, 12, 25), D("2500")),
        (utc(2025, 10, 1, 12, 35), D("3000")),
        (utc(2025, 10, 1, 12, 45), D("3000")),
        (utc(2025, 10, 1, 12, 55), D("4200")),
        (utc(2025, 10, 1, 13, 5), D("5000")),
    ]
    result = session_cost(samples, quarter_hour_tariff())
    # Boundaries: 12:15 and 12:45 are polls; 12:30 = (2 500 + 3 000)/2 = 2 750 Wh;
    # 13:00 = 4 200 + 800/2 = 4 600 Wh.
    #   12:05-12:15  1 000 Wh x  0.2512 =  0.2512
    #   12:15-12:30  1 750 Wh x  0.1876 =  0.3283
    #   12:30-12:45    250 Wh x -0.0150 = -0.00375
    #   12:45-13:00  1 600 Wh x  0.3021 =  0.48336
    #   13:00-13:05    400 Wh x  0.2800 =  0.112
    # Sum 1.17111 -> 1.17. Lines are the rounded running totals' steps: 0.25, 0.58-0.25,
    # 0.58-0.58, 1.06-0.58, 1.17-1.06.
    assert [(i.energy_wh, i.cost, i.interpolated) for i in result.intervals] == [
        (D("1000.000"), D("0.25"), False),
        (D("1750.000"), D("0.33"), True),
        (D("250.000"), D("0.00"), True),
        (D("1600.000"), D("0.48"), True),
        (D("400.000"), D("0.11"), True),
    ]
    assert result.total == D("1.17")
    assert sum(i.cost or 0 for i in result.intervals) == result.total

    def by_hand(moment: datetime) -> Decimal:
        return QUARTER_PRICES[moment.replace(minute=moment.minute // 15 * 15)]

    assert minute_by_minute(samples, by_hand)[0] == D("1.17")


def test_missing_price_is_flagged_never_zero() -> None:
    hour = timedelta(hours=1)
    tariff = DynamicTariff(
        (
            PricePoint(utc(2025, 10, 1, 12), utc(2025, 10, 1, 12) + hour, D("0.30")),
            # nothing published for 13:00-14:00
            PricePoint(utc(2025, 10, 1, 14), utc(2025, 10, 1, 14) + hour, D("0.20")),
        ),
        "EUR",
    )
    samples = [(utc(2025, 10, 1, 12, 30) + n * hour / 2, D(3000 * n)) for n in range(5)]
    result = session_cost(samples, tariff)
    # 6 kW from 12:30 to 14:30: 3 000 Wh x 0.30 = 0.90 and 3 000 Wh x 0.20 = 0.60 priced;
    # 6 000 Wh in 13:00-14:00 have no price and are left out of the total.
    assert result.flags == ("price_missing",)
    assert result.unpriced_energy_wh == D("6000")
    assert result.total == D("1.50")
    assert [(i.price_per_kwh, i.cost) for i in result.intervals] == [
        (D("0.30"), D("0.90")),
        (None, None),
        (D("0.20"), D("0.60")),
    ]
    record = result.to_record()
    assert record["flags"] == ["price_missing"]
    assert record["unpriced_energy_wh"] == "6000"
    assert record["intervals"][1]["price_per_kwh"] is None

    def by_hand(moment: datetime) -> Decimal | None:
        return None if moment.hour == 13 else D("0.30") if moment.hour == 12 else D("0.20")

    assert minute_by_minute(samples, by_hand) == (D("1.50"), Fraction(6000))


def test_unpriced_interval_without_energy_is_not_flagged() -> None:
    tariff = TimeOfUseTariff(
        periods=(TimeOfUsePeriod(D("0.25"), time(0), time(6)),),
        time_zone="Europe/Berlin",
        currency="EUR",
    )
    # 05:00-07:00 CEST; the car stopped charging at 06:00, before the unpriced hour.
    samples = [
        (utc(2025, 6, 11, 3), D("100")),
        (utc(2025, 6, 11, 4), D("7100")),
        (utc(2025, 6, 11, 5), D("7100")),
    ]
    result = session_cost(samples, tariff)
    assert result.flags == ()
    assert result.total == D("1.75")  # 7 000 Wh x 0.25


def test_standing_charge_is_its_own_line_in_the_total() -> None:
    tariff = FlatTariff(D("0.30"), "EUR", standing_charge=StandingCharge(D("0.48"), "day"))
    samples = [(utc(2025, 6, 1, 0), D("0")), (utc(2025, 6, 1, 6), D("10000"))]
    result = session_cost(samples, tariff)
    # Energy 10 kWh x 0.30 = 3.00; 6 of 24 hours of 0.48 a day = 0.12; total 3.12.
    assert result.standing_charge == D("0.12")
    assert result.total == D("3.12")
    assert result.to_record()["standing_charge"] == "0.12"


def test_record_shape() -> None:
    samples = [
        (datetime(2025, 6, 11, 21, 0, tzinfo=BERLIN), D("5000.5")),
        (datetime(2025, 6, 11, 23, 0, tzinfo=BERLIN), D("6000.5")),
    ]
    record = session_cost(samples, weekday_evening()).to_record()
    assert record == {
        "currency": "EUR",
        "total": "0.33",  # 500 Wh x 0.40 + 500 Wh x 0.25 = 0.20 + 0.125 = 0.325 -> 0.33
        "tariff": "Evening",
        "intervals": [
            {
                "start": "2025-06-11T19:00:00Z",
                "end": "2025-06-11T20:00:00Z",
                "energy_wh": "500.000",
                "price_per_kwh": "0.40",
                "cost": "0.20",
                "interpolated": True,
            },
            {
                "start": "2025-06-11T20:00:00Z",
                "end": "2025-06-11T21:00:00Z",
                "energy_wh": "500.000",
                "price_per_kwh": "0.25",
                "cost": "0.13",
                "interpolated": True,
            },
        ],
    }


def test_rounding_goes_to_the_total_once_and_lines_add_up() -> None:
    # Three hours of 3.333 Wh each at 1.5 EUR/kWh: each line is 0.0049995 EUR. Rounding each
    # line would give 0.00 three times and lose a cent; the total is rounded once and the
    # lines are the steps of the rounded running total, so they add up to it.
    points = tuple(
        PricePoint(utc(2025, 1, 1, h), utc(2025, 1, 1, h + 1), D("1.5")) for h in range(3)
    )
    samples = [(utc(2025, 1, 1, h), D(h) * D("3.333")) for h in range(4)]
    result = session_cost(samples, DynamicTariff(points, "EUR"))
    # Running totals 0.0049995 -> 0.00, 0.009999 -> 0.01, 0.0149985 -> 0.01: lines 0.00,
    # 0.01, 0.00; total 9.999 Wh x 1.5 EUR/kWh = 0.0149985 -> 0.01.
    assert [i.cost for i in result.intervals] == [D("0.00"), D("0.01"), D("0.00")]
    assert result.total == D("0.01")


def test_interpolated_energy_is_rounded_without_losing_any() -> None:
    # One third of 10 Wh cannot be written exactly; the boundary register is rounded to
    # 0.001 Wh and the two intervals still add up to the 10 Wh measured.
    tariff = DynamicTariff(
        (
            PricePoint(utc(2025, 1, 1, 0), utc(2025, 1, 1, 0, 20), D("0.1")),
            PricePoint(utc(2025, 1, 1, 0, 20), utc(2025, 1, 1, 1), D("0.2")),
        ),
        "EUR",
    )
    samples = [(utc(2025, 1, 1, 0), D("0")), (utc(2025, 1, 1, 1), D("10"))]
    result = session_cost(samples, tariff)
    assert [i.energy_wh for i in result.intervals] == [D("3.333"), D("6.667")]
    assert sum(i.energy_wh for i in result.intervals) == D("10")


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        ([(utc(2025, 1, 1), D("0"))], "at least two register readings"),
        (
            [(utc(2025, 1, 1, 1), D("0")), (utc(2025, 1, 1, 1), D("5"))],
            "not after the previous reading",
        ),
        (
            [(utc(2025, 1, 1, 2), D("0")), (utc(2025, 1, 1, 1), D("5"))],
            "not after the previous reading",
        ),
        (
            [(datetime(2025, 1, 1, 1), D("0")), (datetime(2025, 1, 1, 2), D("5"))],
            "naive datetime",
        ),
        ([(utc(2025, 1, 1, 1), D("5")), (utc(2025, 1, 1, 2), D("4"))], "never decreases"),
        ([(utc(2025, 1, 1, 1), 0.0), (utc(2025, 1, 1, 2), 5.0)], "finite Decimal"),
    ],
)
def test_bad_readings_are_refused_with_a_clear_message(
    samples: list[tuple[datetime, Decimal]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        session_cost(samples, FlatTariff(D("0.3"), "EUR"))


def test_tariff_that_does_not_cover_the_session_is_refused() -> None:
    class Broken(FlatTariff):
        def price_intervals(self, start: datetime, end: datetime) -> list:  # type: ignore[type-arg]
            return super().price_intervals(start, end - timedelta(minutes=1))

    samples = [(utc(2025, 1, 1, 1), D("0")), (utc(2025, 1, 1, 2), D("5"))]
    with pytest.raises(ValueError, match="tariff intervals end at"):
        session_cost(samples, Broken(D("0.3"), "EUR"))


def test_session_without_any_price_totals_zero_with_the_flag() -> None:
    tariff = DynamicTariff((), "EUR")
    samples = [(utc(2025, 1, 1, 1), D("0")), (utc(2025, 1, 1, 2), D("5000"))]
    result = session_cost(samples, tariff)
    # Nothing can be priced: the total is 0.00 and says so, it is not a silent 0.
    assert result.to_record()["total"] == "0.00"
    assert result.flags == ("price_missing",)
    assert result.unpriced_energy_wh == D("5000")
