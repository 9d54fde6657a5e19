"""Properties that hold for any session: no energy lost or invented, lines add up."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.ev_charging_monitor.pricing.cost import session_cost
from custom_components.ev_charging_monitor.pricing.tariff import (
    DynamicTariff,
    FlatTariff,
    PricePoint,
)
from custom_components.ev_charging_monitor.pricing.time_of_use import (
    TimeOfUsePeriod,
    TimeOfUseTariff,
)

BERLIN = ZoneInfo("Europe/Berlin")
BASE = datetime(2025, 10, 25, 20, tzinfo=UTC)  # the night before the October clock change
QUARTER = timedelta(minutes=15)

registers = st.decimals(min_value=0, max_value=10**9, places=3)
increments = st.decimals(min_value=0, max_value=20_000, places=3)
prices = st.decimals(min_value=-1, max_value=2, places=4)


@st.composite
def sessions(draw: st.DrawFn) -> list[tuple[datetime, Decimal]]:
    """Readings seconds to an hour apart, some on whole minutes, registers never falling."""
    moment = BASE + timedelta(seconds=draw(st.integers(0, 6 * 3600)))
    register = draw(registers)
    samples = [(moment, register)]
    for _ in range(draw(st.integers(1, 25))):
        moment += timedelta(
            seconds=draw(st.integers(1, 3600)), microseconds=draw(st.integers(0, 999_999))
        )
        register += draw(increments)
        samples.append((moment, register))
    return samples


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@given(sessions(), prices)
def test_flat_cost_is_energy_times_price(
    samples: list[tuple[datetime, Decimal]], price: Decimal
) -> None:
    result = session_cost(samples, FlatTariff(price, "EUR"))
    energy = samples[-1][1] - samples[0][1]
    assert sum(i.energy_wh for i in result.intervals) == energy
    assert result.total == cents(energy * price / 1000)


@st.composite
def quarter_hour_prices(draw: st.DrawFn) -> DynamicTariff:
    count = 4 * 60  # 60 hours of quarters from BASE cover every drawn session
    values = draw(st.lists(st.one_of(st.none(), prices), min_size=count, max_size=count))
    points = tuple(
        PricePoint(BASE + n * QUARTER, BASE + (n + 1) * QUARTER, value)
        for n, value in enumerate(values)
    )
    return DynamicTariff(points, "EUR")


@settings(max_examples=60)
@given(sessions(), quarter_hour_prices())
def test_dynamic_energies_and_lines_add_up(
    samples: list[tuple[datetime, Decimal]], tariff: DynamicTariff
) -> None:
    result = session_cost(samples, tariff)
    energy = samples[-1][1] - samples[0][1]
    assert sum(i.energy_wh for i in result.intervals) == energy
    assert all(i.energy_wh >= 0 for i in result.intervals)
    priced = [i for i in result.intervals if i.price_per_kwh is not None]
    assert sum(i.cost or 0 for i in priced) == result.total
    exact = sum((i.energy_wh * i.price_per_kwh / 1000 for i in priced), Decimal(0))  # type: ignore[operator]
    assert result.total == cents(exact)
    assert not (result.total.is_zero() and result.total.is_signed())  # never "-0.00"
    for line in priced:
        assert line.cost is not None
        assert not (line.cost.is_zero() and line.cost.is_signed())
        assert abs(line.cost - line.energy_wh * line.price_per_kwh / 1000) <= Decimal("0.01")  # type: ignore[operator]
    unpriced = sum((i.energy_wh for i in result.intervals if i.price_per_kwh is None), Decimal(0))
    assert result.unpriced_energy_wh == unpriced
    assert ("price_missing" in result.flags) == (unpriced > 0)


def night_price(moment: datetime) -> Decimal:
    """Written apart from the tariff: 0.20 from 01:00 to 03:00 local, else 0.35."""
    return Decimal("0.20") if 1 <= moment.astimezone(BERLIN).hour < 3 else Decimal("0.35")


@given(
    st.integers(0, 48 * 3600),
    st.integers(1, 30 * 3600),
    st.sampled_from([datetime(2025, 3, 29, 12, tzinfo=UTC), BASE]),
)
def test_time_of_use_intervals_tile_and_follow_the_wall_clock(
    offset: int, length: int, base: datetime
) -> None:
    tariff = TimeOfUseTariff(
        periods=(TimeOfUsePeriod(Decimal("0.20"), time(1), time(3)),),
        default_price=Decimal("0.35"),
        time_zone="Europe/Berlin",
        currency="EUR",
    )
    start = base + timedelta(seconds=offset)
    end = start + timedelta(seconds=length)
    intervals = tariff.price_intervals(start, end)
    assert intervals[0].start == start
    assert intervals[-1].end == end
    for before, after in itertools.pairwise(intervals):
        assert before.end == after.start
        assert before.price_per_kwh != after.price_per_kwh
    for interval in intervals:
        # The price holds for the whole interval: check its first and last second.
        assert night_price(interval.start) == interval.price_per_kwh
        assert night_price(interval.end - timedelta(seconds=1)) == interval.price_per_kwh
