"""Session cost in a real Home Assistant, driven by the simulator clock.

Each expected cost is computed here from the registers the simulator showed at the price
boundaries (polls fall exactly on them), times the prices written in the test: no code of
the tariff module is used for the expectation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant

from custom_components.ev_charging_monitor.session.manager import EVENT_SESSION_ENDED
from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

from .clocks import poll
from .conftest import AddDevice, vestel_register

pytestmark = pytest.mark.no_watchdog

TIME_OF_USE = {
    "type": "time_of_use",
    "default_price": "0.40",
    "periods": [{"start": "00:00", "end": "03:00", "price": "0.20"}],
}


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def _priced_session(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    *,
    start: datetime,
    boundaries: list[datetime],
    end: datetime,
    tariff: dict[str, Any],
) -> tuple[dict[str, Any], list[Decimal]]:
    """Charge from start to end with a poll every 60 s; registers at start, bounds, end."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(start - timedelta(seconds=30))
    entry: ConfigEntry = await add_device(wallbox)
    hass.config_entries.async_update_entry(entry, options={**entry.options, "tariff": tariff})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    ended: list[dict[str, Any]] = []
    hass.bus.async_listen(EVENT_SESSION_ENDED, lambda event: ended.append(dict(event.data)))

    freezer.move_to(start)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await poll(hass, clock, 0, freezer)  # first poll: 6 s after start
    registers = [vestel_register(wallbox)]
    moment = start + timedelta(seconds=6)
    marks = [*boundaries, end]
    while marks:
        step = min(60.0, (marks[0] - moment).total_seconds())
        await poll(hass, clock, step, freezer)
        moment += timedelta(seconds=max(step, 6))
        if moment >= marks[0]:
            assert moment == marks.pop(0)
            registers.append(vestel_register(wallbox))
    wallbox.charger.unplug()
    await poll(hass, clock, 0, freezer)
    assert len(ended) == 1
    return ended[0], registers


def _check(record: dict[str, Any], registers: list[Decimal], prices: list[str]) -> None:
    energies = [b - a for a, b in pairwise(registers)]
    expected = _cents(sum((e / 1000 * Decimal(p) for e, p in zip(energies, prices, strict=True))))
    assert Decimal(record["energy_wh"]) == registers[-1] - registers[0]
    assert Decimal(record["cost"]["total"]) == expected
    assert record["cost"]["currency"] == "EUR"
    assert "price_missing" not in record["flags"]


@pytest.mark.parametrize(
    ("start", "boundary", "end", "prices"),
    [
        # Summer, a plain time-of-use boundary: 02:00-03:00 local at 0.20, then 0.40.
        ("2026-06-10T00:00:00Z", "2026-06-10T01:00:00Z", "2026-06-10T02:00:00Z", ["0.20", "0.40"]),
        # Clocks go forward (29 March): 01:00 CET to 04:00 CEST is 2 real hours; only the
        # first (01:00-02:00 CET, then 03:00 CEST) is cheap.
        ("2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", ["0.20", "0.40"]),
        # Clocks go back (25 October): 01:00 CEST to 04:00 CET is 4 real hours; the wall clock
        # stays below 03:00 for three of them (02:00-03:00 happens twice).
        ("2026-10-24T23:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z", ["0.20", "0.40"]),
    ],
)
async def test_time_of_use_cost_across_boundaries_and_dst(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    start: str,
    boundary: str,
    end: str,
    prices: list[str],
) -> None:
    """Cost = energy before the boundary x cheap price + energy after x dear price."""
    record, registers = await _priced_session(
        hass,
        wallbox,
        clock,
        freezer,
        add_device,
        start=datetime.fromisoformat(start),
        boundaries=[datetime.fromisoformat(boundary)],
        end=datetime.fromisoformat(end),
        tariff=TIME_OF_USE,
    )
    _check(record, registers, prices)
    charging = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    assert abs(record["charging_seconds"] - charging) <= 12  # the first and last poll


async def test_repeated_hour_is_priced_once_per_real_hour(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """The documented rule on the October night: 02:00-03:00 at 0.10, otherwise 0.30.

    01:00 CEST (23:00 UTC) to 04:00 CET (03:00 UTC): 01:00-02:00 CEST at 0.30, both real
    hours of 02:00-03:00 (00:00-02:00 UTC) at 0.10, 03:00-04:00 CET at 0.30.
    """
    record, registers = await _priced_session(
        hass,
        wallbox,
        clock,
        freezer,
        add_device,
        start=datetime(2026, 10, 24, 23, tzinfo=UTC),
        boundaries=[datetime(2026, 10, 25, 0, tzinfo=UTC), datetime(2026, 10, 25, 2, tzinfo=UTC)],
        end=datetime(2026, 10, 25, 3, tzinfo=UTC),
        tariff={
            "type": "time_of_use",
            "default_price": "0.30",
            "periods": [{"start": "02:00", "end": "03:00", "price": "0.10"}],
        },
    )
    _check(record, registers, ["0.30", "0.10", "0.30"])
    lines = record["cost"]["intervals"]
    assert [line["price_per_kwh"] for line in lines] == ["0.30", "0.10", "0.30"]
    assert [Decimal(line["energy_wh"]) for line in lines] == [b - a for a, b in pairwise(registers)]


async def test_dynamic_15_minute_prices(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """A Nord Pool style sensor with 15-minute prices prices each quarter hour."""
    start = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    prices = ["0.3012", "0.2875", "0.3333", "0.1250"]
    quarters = [start + timedelta(minutes=15 * i) for i in range(5)]
    hass.states.async_set(
        "sensor.nordpool",
        prices[0],
        {
            "unit_of_measurement": "EUR/kWh",
            "raw_today": [
                {"start": a.isoformat(), "end": b.isoformat(), "value": float(p)}
                for a, b, p in zip(quarters, quarters[1:], prices, strict=False)
            ],
        },
    )
    record, registers = await _priced_session(
        hass,
        wallbox,
        clock,
        freezer,
        add_device,
        start=start,
        boundaries=quarters[1:4],
        end=quarters[4],
        tariff={"type": "dynamic", "entity_id": "sensor.nordpool"},
    )
    _check(record, registers, prices)
    intervals = record["cost"]["intervals"]
    assert [Decimal(i["price_per_kwh"]) for i in intervals[:4]] == [Decimal(p) for p in prices]
    # The unplug poll lies after the last published price: no energy flowed there.
    assert all(Decimal(i["energy_wh"]) == 0 for i in intervals[4:])


async def test_no_tariff_is_flagged_not_free(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """Without a price the session says so; the cost is never a silent 0."""
    ended: list[dict[str, Any]] = []

    def listener(event: Event) -> None:
        ended.append(dict(event.data))

    hass.bus.async_listen(EVENT_SESSION_ENDED, listener)
    await add_device(wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    for _ in range(5):
        await poll(hass, clock, 60, freezer)
    wallbox.charger.unplug()
    await poll(hass, clock, 0, freezer)
    assert ended[0]["cost"] is None
    assert "price_missing" in ended[0]["flags"]
