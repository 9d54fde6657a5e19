"""Hostile price feeds against a real Home Assistant and a simulated Vestel charger.

The price sensor is a plain state set with `hass.states.async_set`, shaped as Nord Pool,
Tibber and ENTSO-e sensors publish their lists. Whatever the feed does, the charger stays
available at every poll and the session is recorded; a session that cannot be priced is
flagged `price_missing` and a repair says so. Expected costs are worked out here from the
registers the simulator showed and the prices written in the test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.pricing.price_entity import SessionPricing
from custom_components.ev_charging_monitor.session.manager import EVENT_SESSION_ENDED
from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

from .clocks import poll
from .conftest import AddDevice, vestel_register

pytestmark = pytest.mark.no_watchdog

PRICE_SENSOR = "sensor.prices"
START = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)

Row = tuple[datetime, datetime, Any]


def nordpool(rows: list[Row]) -> dict[str, Any]:
    """Nord Pool custom component: raw_today with start, end and value."""
    return {
        "unit_of_measurement": "EUR/kWh",
        "raw_today": [{"start": _iso(a), "end": _iso(b), "value": v} for a, b, v in rows],
    }


def tibber(rows: list[Row]) -> dict[str, Any]:
    """Tibber style: today with startsAt and total (start times only)."""
    return {
        "unit_of_measurement": "EUR/kWh",
        "today": [{"startsAt": _iso(a), "total": v} for a, _b, v in rows],
    }


def entsoe(rows: list[Row]) -> dict[str, Any]:
    """ENTSO-e style: prices_today with time and price (start times only)."""
    return {
        "unit_of_measurement": "EUR/kWh",
        "prices_today": [{"time": _iso(a), "price": v} for a, _b, v in rows],
    }


SHAPES = [nordpool, tibber, entsoe]
Shape = Callable[[list[Row]], dict[str, Any]]


def _iso(moment: Any) -> Any:
    return moment.isoformat() if isinstance(moment, datetime) else moment


def _quarters(start: datetime, prices: list[str]) -> list[Row]:
    return [
        (start + i * QUARTER, start + (i + 1) * QUARTER, float(p)) for i, p in enumerate(prices)
    ]


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _issue(hass: HomeAssistant, entry: ConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"price_missing_{entry.entry_id}")


class Charge:
    """A charger with a dynamic tariff; polls every 60 s and checks it stays available."""

    def __init__(
        self,
        hass: HomeAssistant,
        wallbox: VestelEVC04,
        clock: SimClock,
        freezer: FrozenDateTimeFactory,
    ) -> None:
        self.hass = hass
        self.wallbox = wallbox
        self.clock = clock
        self.freezer = freezer
        self.now = START
        self.ended: list[dict[str, Any]] = []
        self.registers: dict[datetime, Decimal] = {}
        self.entry: ConfigEntry

    async def setup(self, add_device: AddDevice, tariff: dict[str, Any] | None = None) -> None:
        await self.hass.config.async_set_time_zone("Europe/Berlin")
        self.freezer.move_to(START - timedelta(seconds=30))
        self.entry = await add_device(self.wallbox)
        self.hass.config_entries.async_update_entry(
            self.entry,
            options={
                **self.entry.options,
                "tariff": tariff or {"type": "dynamic", "entity_id": PRICE_SENSOR},
            },
        )
        assert await self.hass.config_entries.async_reload(self.entry.entry_id)
        await self.hass.async_block_till_done()
        self.hass.bus.async_listen(
            EVENT_SESSION_ENDED, lambda event: self.ended.append(dict(event.data))
        )
        self.freezer.move_to(START)

    async def step(self, seconds: float) -> None:
        await poll(self.hass, self.clock, seconds, self.freezer)
        self.now += timedelta(seconds=max(seconds, 6))
        self.registers[self.now] = vestel_register(self.wallbox)
        self.check_available()

    def check_available(self) -> None:
        assert self.entry.runtime_data.live.last_update_success
        state = self.hass.states.get("sensor.vestel_evc04_status")
        assert state is not None
        assert state.state != "unavailable"

    async def plug(self) -> None:
        self.wallbox.charger.plug(Vehicle(max_current=16, phases=3))
        await self.step(0)

    async def until(self, moment: datetime, late: timedelta = timedelta(0)) -> None:
        """Poll every 60 s up to `moment`, stopping at each quarter hour (+ late) on the way."""
        while self.now < moment:
            quarter = START + late + QUARTER * ((self.now - START - late) // QUARTER + 1)
            mark = min(quarter, moment)
            await self.step(min(60.0, (mark - self.now).total_seconds()))
        assert self.now == moment

    async def unplug(self) -> dict[str, Any]:
        self.wallbox.charger.unplug()
        await self.step(0)
        assert len(self.ended) == 1
        return self.ended[0]

    @property
    def first(self) -> Decimal:
        return self.registers[min(self.registers)]


@pytest.mark.parametrize("shape", SHAPES)
async def test_hourly_list_after_quarter_hours_is_priced_by_the_newest(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    shape: Shape,
) -> None:
    """A 15-minute list, then an hourly list for the same hour: the hourly price wins."""
    hass.states.async_set(
        PRICE_SENSOR, "0.30", shape(_quarters(START, ["0.30", "0.10", "0.20", "0.40"]))
    )
    charge = Charge(hass, wallbox, clock, freezer)
    await charge.setup(add_device)
    await charge.plug()
    await charge.until(START + timedelta(minutes=20))
    hass.states.async_set(
        PRICE_SENSOR,
        "0.25",
        shape([(START, START + HOUR, 0.25), (START + HOUR, START + 2 * HOUR, 0.5)]),
    )
    await charge.until(START + HOUR + QUARTER)
    record = await charge.unplug()

    in_hour = charge.registers[START + HOUR] - charge.first
    after = charge.registers[START + HOUR + QUARTER] - charge.registers[START + HOUR]
    expected = _cents(in_hour / 1000 * Decimal("0.25") + after / 1000 * Decimal("0.5"))
    assert Decimal(record["cost"]["total"]) == expected
    assert "price_missing" not in record["flags"]
    assert _issue(hass, charge.entry) is None


@pytest.mark.parametrize("shape", SHAPES)
async def test_prices_missing_for_part_of_the_session(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    shape: Shape,
) -> None:
    """Prices end after half an hour: the rest is unpriced, flagged and repaired, not 0."""
    hass.states.async_set(PRICE_SENSOR, "0.30", shape(_quarters(START, ["0.30", "0.20"])))
    charge = Charge(hass, wallbox, clock, freezer)
    await charge.setup(add_device)
    await charge.plug()
    await charge.until(START + HOUR)
    record = await charge.unplug()

    half = START + 2 * QUARTER
    q1 = charge.registers[START + QUARTER] - charge.first
    q2 = charge.registers[half] - charge.registers[START + QUARTER]
    unpriced = charge.registers[START + HOUR] - charge.registers[half]
    assert unpriced > 0
    assert "price_missing" in record["flags"]
    assert Decimal(record["cost"]["total"]) == _cents(
        q1 / 1000 * Decimal("0.30") + q2 / 1000 * Decimal("0.20")
    )
    assert Decimal(record["cost"]["unpriced_energy_wh"]) == unpriced
    assert Decimal(record["energy_wh"]) == charge.registers[charge.now] - charge.first
    issue = _issue(hass, charge.entry)
    assert issue is not None
    assert issue.translation_key == "price_missing"

    # Prices flow again: the repair goes away by itself.
    later = charge.now + timedelta(seconds=6)
    hass.states.async_set(PRICE_SENSOR, "0.30", shape(_quarters(later, ["0.30", "0.30"])))
    await charge.step(60)
    assert _issue(hass, charge.entry) is None


def _garbage_times(shape: Shape) -> dict[str, Any]:
    return shape([("yesterday at noon", "later", 0.3), ("2026-11-18T13:00", "14:00", 0.3)])


def _nan_prices(shape: Shape) -> dict[str, Any]:
    return shape(_quarters(START, ["nan"] * 8))


def _text_prices(shape: Shape) -> dict[str, Any]:
    return shape([(a, b, "cheap") for a, b, _ in _quarters(START, ["0"] * 8)])


def _no_unit(_shape: Shape) -> dict[str, Any]:
    return {"friendly_name": "A price without a unit"}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("feed", [_garbage_times, _nan_prices, _text_prices, _no_unit])
async def test_unusable_feed_records_the_session_unpriced_with_a_repair(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    shape: Shape,
    feed: Callable[[Shape], dict[str, Any]],
) -> None:
    """Garbage times, NaN or text prices, a price without unit: unpriced, flagged, repaired."""
    hass.states.async_set(PRICE_SENSOR, "0.30", feed(shape))
    charge = Charge(hass, wallbox, clock, freezer)
    await charge.setup(add_device)
    await charge.plug()
    await charge.until(START + 2 * QUARTER)
    record = await charge.unplug()

    assert Decimal(record["energy_wh"]) == charge.registers[charge.now] - charge.first > 0
    assert record["cost"] is None  # nothing could be priced: no cost, never 0
    assert "price_missing" in record["flags"]
    issue = _issue(hass, charge.entry)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["reason"]


@pytest.mark.parametrize("shape", SHAPES)
async def test_one_garbled_row_costs_only_itself(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    shape: Shape,
) -> None:
    """A row with an unreadable time is left out and reported; the rest still prices."""
    rows = [*_quarters(START, ["0.30", "0.20"]), ("half past twelve", "later", 0.9)]
    hass.states.async_set(PRICE_SENSOR, "0.30", shape(rows))
    charge = Charge(hass, wallbox, clock, freezer)
    await charge.setup(add_device)
    await charge.plug()
    await charge.until(START + 2 * QUARTER)
    record = await charge.unplug()

    q1 = charge.registers[START + QUARTER] - charge.first
    q2 = charge.registers[START + 2 * QUARTER] - charge.registers[START + QUARTER]
    expected = _cents(q1 / 1000 * Decimal("0.30") + q2 / 1000 * Decimal("0.20"))
    assert Decimal(record["cost"]["total"]) == expected
    assert "price_missing" not in record["flags"]
    issue = _issue(hass, charge.entry)
    assert issue is not None  # the feed published something unusable
    assert issue.translation_placeholders is not None
    assert "half past twelve" in issue.translation_placeholders["reason"]


async def test_feed_going_unavailable_keeps_the_prices_it_published(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """The sensor goes unavailable mid-session: the prices it published still count."""
    hass.states.async_set(PRICE_SENSOR, "0.30", nordpool(_quarters(START, ["0.30"] * 4)))
    charge = Charge(hass, wallbox, clock, freezer)
    await charge.setup(add_device)
    await charge.plug()
    await charge.until(START + QUARTER)
    hass.states.async_set(PRICE_SENSOR, "unavailable", {})
    await charge.until(START + HOUR)
    record = await charge.unplug()
    energy = charge.registers[START + HOUR] - charge.first
    assert Decimal(record["cost"]["total"]) == _cents(energy / 1000 * Decimal("0.30"))
    assert "price_missing" not in record["flags"]


async def test_prices_survive_a_restart_mid_session(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    hass_storage: dict[str, Any],
) -> None:
    """Restarted mid-session with the sensor not (yet) back: stored prices price it."""
    hass.states.async_set(PRICE_SENSOR, "0.30", entsoe(_quarters(START, ["0.30", "0.10"] * 2)))
    charge = Charge(hass, wallbox, clock, freezer)
    await charge.setup(add_device)
    await charge.plug()
    await charge.until(START + 2 * QUARTER)
    assert f"{DOMAIN}.prices.{PRICE_SENSOR}" in hass_storage  # written after the delay

    assert await hass.config_entries.async_unload(charge.entry.entry_id)
    hass.states.async_remove(PRICE_SENSOR)  # the price integration has not started yet
    assert await hass.config_entries.async_setup(charge.entry.entry_id)
    await hass.async_block_till_done()
    await charge.until(START + HOUR)
    record = await charge.unplug()

    r = charge.registers
    first = charge.first
    q = [START + i * QUARTER for i in range(5)]
    energies = [r[q[1]] - first, r[q[2]] - r[q[1]], r[q[3]] - r[q[2]], r[q[4]] - r[q[3]]]
    prices = [Decimal("0.30"), Decimal("0.10"), Decimal("0.30"), Decimal("0.10")]
    expected = _cents(sum((e / 1000 * p for e, p in zip(energies, prices, strict=True))))
    assert Decimal(record["cost"]["total"]) == expected
    assert "price_missing" not in record["flags"]


async def test_a_poll_is_requested_at_every_price_boundary(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The pricing glue asks for a poll exactly when each published price starts or ends."""
    freezer.move_to(START - timedelta(minutes=1))
    hass.states.async_set(PRICE_SENSOR, "0.30", nordpool(_quarters(START, ["0.30", "0.10"])))
    pricing = SessionPricing(
        hass,
        {"tariff": {"type": "dynamic", "entity_id": PRICE_SENSOR}},
        currency="EUR",
        time_zone="Europe/Berlin",
    )
    polls: list[datetime] = []

    async def refresh() -> None:
        polls.append(dt_util.utcnow())

    stop = pricing.async_start(refresh)
    for moment in (START, START + QUARTER, START + 2 * QUARTER):
        before = len(polls)
        freezer.move_to(moment - timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert len(polls) == before  # not early
        freezer.move_to(moment)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert polls[before:] == [moment]  # right at the boundary, once
    # A newly published price adds its boundaries.
    hass.states.async_set(PRICE_SENSOR, "0.30", nordpool(_quarters(START + 3 * QUARTER, ["0.20"])))
    freezer.move_to(START + 3 * QUARTER)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert polls == [START, START + QUARTER, START + 2 * QUARTER, START + 3 * QUARTER]
    stop()


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=1)])
async def test_each_price_line_is_measured_at_its_boundaries(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    late: timedelta,
) -> None:
    """Polls every 60 s off the quarter-hour grid, plus the boundary poll (on time or 1 s
    late): every line's energy is a register difference, none is interpolated."""
    prices = ["0.3012", "0.2875", "0.3333", "0.1250"]
    hass.states.async_set(PRICE_SENSOR, prices[0], nordpool(_quarters(START, prices)))
    charge = Charge(hass, wallbox, clock, freezer)
    await charge.setup(add_device)
    await charge.plug()
    end = START + HOUR + timedelta(seconds=30)
    await charge.until(end, late)
    record = await charge.unplug()

    r = charge.registers
    marks = [
        min(r),
        *(START + i * QUARTER + late for i in range(1, 5)),
        max(r),
    ]  # the last: the unplug poll
    energies = [r[b] - r[a] for a, b in pairwise(marks)]
    lines = record["cost"]["intervals"]
    assert [Decimal(line["energy_wh"]) for line in lines] == energies
    assert [line["start"] for line in lines[1:4]] == [
        f"2026-11-18T12:{m}:00Z" for m in ("15", "30", "45")
    ]
    assert not any(line["interpolated"] for line in lines)
    priced = sum((e / 1000 * Decimal(p) for e, p in zip(energies[:4], prices, strict=True)))
    assert Decimal(record["cost"]["total"]) == _cents(priced)
    assert "price_missing" in record["flags"]  # 13:00-13:00:30 has no published price


@pytest.mark.parametrize(
    "tariff",
    [
        {"type": "flat", "price": "a lot"},
        {"type": "flat", "price": "NaN"},
        {"type": "time_of_use", "periods": [{"start": "01:00", "end": "03:00", "price": "x"}]},
        {"type": "dynamic"},
    ],
)
async def test_a_broken_tariff_in_the_options_records_unpriced_with_a_repair(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    tariff: dict[str, Any],
) -> None:
    """Options written by an older version or by hand: the charger works, sessions are
    recorded unpriced and flagged, and a repair names the problem."""
    charge = Charge(hass, wallbox, clock, freezer)
    await charge.setup(add_device, tariff)
    await charge.plug()
    await charge.until(START + QUARTER)
    record = await charge.unplug()
    assert Decimal(record["energy_wh"]) == charge.registers[charge.now] - charge.first > 0
    assert record["cost"] is None
    assert "price_missing" in record["flags"]
    issue = _issue(hass, charge.entry)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert "tariff" in issue.translation_placeholders["reason"]


async def test_stored_prices_keep_what_a_running_session_needs(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Prices older than a day are dropped when stored, unless a session still needs them."""
    now = START + timedelta(days=3)
    freezer.move_to(now)
    hours = [(START + i * HOUR, START + (i + 1) * HOUR, 0.3) for i in range(72)]
    hass.states.async_set(PRICE_SENSOR, "0.30", nordpool(hours))
    session_start = START + timedelta(hours=30)  # a session that began 42 hours ago
    pricing = SessionPricing(
        hass,
        {"tariff": {"type": "dynamic", "entity_id": PRICE_SENSOR}},
        currency="EUR",
        time_zone="UTC",
    )
    stop = pricing.async_start()
    assert pricing.collector is not None
    pricing.collector.hold(pricing, session_start)
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    stored = hass_storage[f"{DOMAIN}.prices.{PRICE_SENSOR}"]["data"]["points"]
    assert len(stored) == 72 - 30  # hours 30..71: from the session's start on
    assert stored[0][0] == session_start.isoformat()

    # Once the session is over and its claim has lapsed, only the last day is kept.
    freezer.tick(timedelta(hours=2))
    hass.states.async_set(PRICE_SENSOR, "0.31", nordpool(hours))
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    stored = hass_storage[f"{DOMAIN}.prices.{PRICE_SENSOR}"]["data"]["points"]
    # Now is START + 3 days 2 h 22 s; a day earlier is START + 50 h 22 s, so hours 0-49
    # (ending by START + 50 h) go and hours 50-71 stay.
    cutoff = now + timedelta(hours=2, seconds=22) - timedelta(days=1)
    assert all(datetime.fromisoformat(end) > cutoff for _start, end, _price in stored)
    assert len(stored) == 72 - 50
    stop()
