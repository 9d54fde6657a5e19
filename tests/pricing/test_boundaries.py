"""Where the next price line starts: every expected moment is worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from custom_components.ev_charging_monitor.pricing.boundaries import next_boundary
from custom_components.ev_charging_monitor.pricing.tariff import (
    DynamicTariff,
    FlatTariff,
    PricePoint,
)
from custom_components.ev_charging_monitor.pricing.time_of_use import (
    TimeOfUsePeriod,
    TimeOfUseTariff,
)

NIGHT = TimeOfUseTariff(
    periods=(TimeOfUsePeriod(Decimal("0.20"), time(0), time(3)),),
    time_zone="Europe/Berlin",
    currency="EUR",
    default_price=Decimal("0.40"),
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_flat_and_no_tariff_have_no_boundary() -> None:
    assert next_boundary(FlatTariff(Decimal("0.3"), "EUR"), utc("2026-06-10T00:00")) is None
    assert next_boundary(None, utc("2026-06-10T00:00")) is None


def test_time_of_use_in_summer() -> None:
    # 00:00 and 03:00 CEST are 22:00 and 01:00 UTC.
    assert next_boundary(NIGHT, utc("2026-06-10T12:00")) == utc("2026-06-10T22:00")
    assert next_boundary(NIGHT, utc("2026-06-10T22:00")) == utc("2026-06-11T01:00")
    assert next_boundary(NIGHT, utc("2026-06-10T21:59:59")) == utc("2026-06-10T22:00")


def test_time_of_use_on_the_march_clock_change() -> None:
    # 29 March 2026: 00:00 CET = 23:00 UTC the day before; 02:00 CET jumps to 03:00 CEST
    # (01:00 UTC), so the cheap window ends at 01:00 UTC after two real hours.
    assert next_boundary(NIGHT, utc("2026-03-28T12:00")) == utc("2026-03-28T23:00")
    assert next_boundary(NIGHT, utc("2026-03-28T23:00")) == utc("2026-03-29T01:00")


def test_time_of_use_on_the_october_clock_change() -> None:
    # 25 October 2026: 00:00 CEST = 22:00 UTC; 03:00 CEST becomes 02:00 CET (01:00 UTC) and
    # 03:00 CET is 02:00 UTC: four real hours on the cheap wall-clock window, no boundary
    # at the clock change itself (the price does not change there).
    assert next_boundary(NIGHT, utc("2026-10-24T22:00")) == utc("2026-10-25T02:00")


def test_a_price_that_changes_only_at_the_repeated_hour() -> None:
    repeated = TimeOfUseTariff(
        periods=(TimeOfUsePeriod(Decimal("0.10"), time(2), time(3)),),
        time_zone="Europe/Berlin",
        currency="EUR",
        default_price=Decimal("0.30"),
    )
    # 02:00 CEST = 00:00 UTC; 02:00-03:00 CET is 01:00-02:00 UTC; both hours are cheap.
    start = utc("2026-10-24T23:00")
    first = next_boundary(repeated, start)
    assert first == utc("2026-10-25T00:00")
    assert next_boundary(repeated, first) == utc("2026-10-25T02:00")


def test_dynamic_points_and_their_gaps() -> None:
    t0 = utc("2026-11-18T12:00")
    q = timedelta(minutes=15)
    tariff = DynamicTariff(
        (
            PricePoint(t0, t0 + q, Decimal("0.1")),
            PricePoint(t0 + q, t0 + 2 * q, Decimal("0.1")),  # same price: still a line
            PricePoint(t0 + 3 * q, t0 + 4 * q, Decimal("0.2")),
        ),
        "EUR",
    )
    moments = [t0 - q]
    while (following := next_boundary(tariff, moments[-1])) is not None:
        moments.append(following)
    assert moments[1:] == [t0, t0 + q, t0 + 2 * q, t0 + 3 * q, t0 + 4 * q]
