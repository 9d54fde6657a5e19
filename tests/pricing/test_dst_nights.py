"""Time of use on DST nights, as the user documentation states the rule.

"Each moment is priced by the period the local wall clock shows at that moment": on the
October night the repeated hour's energy is priced once per real hour at that hour's rate;
on the March night the skipped hour has no energy. Expected totals are worked by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from custom_components.ev_charging_monitor.pricing.cost import session_cost
from custom_components.ev_charging_monitor.pricing.time_of_use import (
    TimeOfUsePeriod,
    TimeOfUseTariff,
)

REPEATED_HOUR_CHEAP = TimeOfUseTariff(
    periods=(TimeOfUsePeriod(Decimal("0.10"), time(2), time(3)),),
    time_zone="Europe/Berlin",
    currency="EUR",
    default_price=Decimal("0.30"),
)


def hourly(start: datetime, hours: int, wh_per_hour: int) -> list[tuple[datetime, Decimal]]:
    return [(start + timedelta(hours=i), Decimal(i * wh_per_hour)) for i in range(hours + 1)]


def test_october_night_the_documented_example() -> None:
    # 01:00 CEST (23:00 UTC) to 04:00 CET (03:00 UTC): four real hours, 1 kWh each.
    # 01-02 CEST 0.30 | 02-03 CEST 0.10 | 02-03 CET 0.10 | 03-04 CET 0.30  -> 0.80
    cost = session_cost(
        hourly(datetime(2026, 10, 24, 23, tzinfo=UTC), 4, 1000), REPEATED_HOUR_CHEAP
    )
    assert cost.total == Decimal("0.80")
    assert [(line.energy_wh, line.price_per_kwh) for line in cost.intervals] == [
        (Decimal(1000), Decimal("0.30")),
        (Decimal(2000), Decimal("0.10")),  # both real hours of 02:00-03:00, merged
        (Decimal(1000), Decimal("0.30")),
    ]
    assert all(not line.interpolated for line in cost.intervals)


def test_october_night_readings_off_the_hour() -> None:
    # Readings every 20 minutes at 3 kW (1000 Wh per reading step), 22:40 to 02:20 UTC.
    # Cheap from 00:00 to 02:00 UTC: 6 steps = 6000 Wh at 0.10 = 0.60.
    # Dear: 22:40-00:00 (4 steps) and 02:00-02:20 (1 step) = 5000 Wh at 0.30 = 1.50.
    start = datetime(2026, 10, 24, 22, 40, tzinfo=UTC)
    samples = [(start + timedelta(minutes=20 * i), Decimal(1000 * i)) for i in range(12)]
    cost = session_cost(samples, REPEATED_HOUR_CHEAP)
    assert cost.total == Decimal("2.10")
    assert sum(line.energy_wh for line in cost.intervals) == Decimal(11000)


def test_march_night_the_skipped_hour_has_no_energy() -> None:
    # 01:00 CET (00:00 UTC) to 04:00 CEST (02:00 UTC): two real hours, 1 kWh each; 02:00-03:00
    # local never happens, so nothing is cheap: 2 kWh at 0.30 = 0.60.
    cost = session_cost(hourly(datetime(2026, 3, 29, 0, tzinfo=UTC), 2, 1000), REPEATED_HOUR_CHEAP)
    assert cost.total == Decimal("0.60")
    assert {line.price_per_kwh for line in cost.intervals} == {Decimal("0.30")}


def test_total_rounds_half_up_once_and_lines_stay_exact() -> None:
    # 125 Wh at 0.10 and 125 Wh at 0.10 in two real hours of the repeated hour: 0.025 exact
    # (not 0.01 + 0.01 from rounding each hour); 1 Wh at 0.30 more gives 0.0253 -> 0.03.
    start = datetime(2026, 10, 25, 0, tzinfo=UTC)
    samples = [
        (start, Decimal(0)),
        (start + timedelta(hours=1), Decimal(125)),
        (start + timedelta(hours=2), Decimal(250)),
        (start + timedelta(hours=3), Decimal(251)),
    ]
    cost = session_cost(samples, REPEATED_HOUR_CHEAP)
    assert cost.total == Decimal("0.03")
    half = session_cost(samples[:3], REPEATED_HOUR_CHEAP)
    assert half.total == Decimal("0.03")  # 0.025 rounds half up
