"""The fault matrix: each scenario several times, at random points, against the invariant.

Every run is an ordinary session, the session the fault hits, and another ordinary session
(so a fault that merges, splits or invents sessions shows), driven through a real Home
Assistant (in-process, see rig.py for which clocks are real) against the simulated Vestel
EVC04 (0.1 kWh register) and SDM630. The random points (when the car comes, when the fault
strikes, how long it lasts) come from a generator seeded with the matrix's seed, the
scenario and the run, so a failing run replays exactly.

A scenario that still breaks the invariant is marked xfail(strict=True) with the row of
issue 12's table it belongs to and what was recorded, so the suite stays green and the first
fix makes it fail loudly until the mark is removed.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pymodbus.constants import ExcCodes
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from simulators.faults import RegisterFaults
from simulators.vehicle import Vehicle

from .rig import Billing, Rig
from .tally import TALLY

pytestmark = pytest.mark.faults

RUNS = 3
BASE = datetime(2026, 11, 18, 7, 0, tzinfo=UTC)

type Steps = Callable[[Rig], Awaitable[None]]


@pytest.fixture(autouse=True)
def _integration_env(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Load custom integrations, and allow loopback sockets to the simulators."""


@dataclass(frozen=True)
class Scenario:
    """A fault, where it strikes and how the charger is configured."""

    steps: Steps
    billing: Billing = "charger"
    options: dict[str, Any] = field(default_factory=dict)
    start: datetime = BASE
    # Ordinary sessions around the faulted one.
    frame: bool = True


def _minutes(rig: Rig, low: float, high: float) -> float:
    return rig.rng.uniform(low, high) * 60


# -- restarts ------------------------------------------------------------------------------


def _restart_mid_session(crash: bool) -> Steps:
    async def steps(rig: Rig) -> None:
        rig.plug()
        await rig.run(_minutes(rig, 2, 30))
        await rig.restart(crash=crash, down_s=rig.rng.uniform(10, 600))
        await rig.run(_minutes(rig, 2, 30))
        rig.unplug()
        await rig.run(120)

    return steps


def _restart_after_unplug(crash: bool) -> Steps:
    async def steps(rig: Rig) -> None:
        rig.plug()
        await rig.run(_minutes(rig, 5, 30))
        rig.unplug()
        # Just after: before or after the poll that sees the unplug.
        await rig.run(rig.rng.uniform(0, 8), tick=4)
        await rig.restart(crash=crash, down_s=rig.rng.uniform(10, 600))
        await rig.run(120)

    return steps


async def _car_swap_while_down(rig: Rig, *, cards: bool = False) -> None:
    rig.plug(Vehicle(max_current=16, phases=3))
    if cards:
        rig.wallbox.charger.swipe("04A1B2C3")
    await rig.run(_minutes(rig, 5, 30))

    def swap() -> None:
        rig.unplug()
        gap = rig.rng.uniform(30, 300)
        rig.clock.advance(gap)
        rig.freezer.tick(timedelta(seconds=gap))
        rig.plug(Vehicle(max_current=10, phases=3))
        if cards:
            rig.wallbox.charger.swipe("0799D4E5")
        rig.mark_unseen_plug_in()

    await rig.restart(
        crash=rig.rng.random() < 0.5, down_s=rig.rng.uniform(900, 3600), while_down=swap
    )
    await rig.run(_minutes(rig, 5, 30))
    rig.unplug()
    await rig.run(120)


async def _car_swap_cards_only(rig: Rig) -> None:
    # Firmware without per-session counters: only the cards tell the two cars apart, and
    # nothing tells where one ended (an estimated split, flagged swap_time_unknown).
    rig.wallbox.register_faults.session_counters = False
    await _car_swap_while_down(rig, cards=True)


# -- register faults -----------------------------------------------------------------------


def _billing_register(rig: Rig) -> RegisterFaults:
    return rig.meter.register_faults if rig.billing == "meter" else rig.wallbox.register_faults


async def _register_jump(rig: Rig) -> None:
    rig.plug()
    await rig.run(_minutes(rig, 3, 20))
    _billing_register(rig).jump(rig.clock.now(), rig.rng.choice([1_000, 10_000, 1_000_000]))
    rig.mark_register_fault(discontinuity=True)
    await rig.run(_minutes(rig, 3, 20))
    rig.unplug()
    await rig.run(120)


async def _register_reset(rig: Rig) -> None:
    rig.plug()
    await rig.run(_minutes(rig, 3, 20))
    faults = _billing_register(rig)
    true_wh = (
        rig.meter.meter.import_wh() if rig.billing == "meter" else rig.wallbox.charger.energy_wh()
    )
    faults.reset(rig.clock.now(), true_wh)
    rig.mark_register_fault(discontinuity=True)
    await rig.run(_minutes(rig, 3, 20))
    rig.unplug()
    await rig.run(120)


async def _register_garbage(rig: Rig) -> None:
    rig.plug()
    await rig.run(_minutes(rig, 3, 20))
    faults = rig.wallbox.register_faults
    for _ in range(rig.rng.randint(1, 3)):
        faults.raw = rig.rng.randrange(0, 0xFFFFFFFF)
        rig.event()
        await rig.run(rig.rng.uniform(6, 60))
    faults.raw = None
    rig.event()
    await rig.run(_minutes(rig, 3, 20))
    rig.unplug()
    await rig.run(120)


async def _ffff_idle(rig: Rig) -> None:
    # The charger answers 0xFFFF in every register with no car (after a reboot, say).
    rig.wallbox.faults.garbage = True
    rig.event()
    await rig.run(rig.rng.uniform(6, 300))
    rig.wallbox.faults.garbage = False
    rig.event()
    await rig.run(60)


async def _ffff_mid_session(rig: Rig) -> None:
    rig.plug()
    await rig.run(_minutes(rig, 3, 20))
    rig.wallbox.faults.garbage = True
    rig.event()
    await rig.run(rig.rng.uniform(6, 180))
    rig.wallbox.faults.garbage = False
    rig.event()
    await rig.run(_minutes(rig, 3, 20))
    rig.unplug()
    await rig.run(120)


async def _coarse_register(rig: Rig) -> None:
    # The demo's car: draws at once, leaves after 1 kWh; three in a row. The register sits a
    # few Wh below its next 0.1 kWh step when the first car comes (1 kWh sessions keep it
    # there), and the car comes at a random moment between two polls.
    charger = rig.wallbox.charger
    below = rig.rng.uniform(1, 14)
    charger.replace_meter((charger.energy_wh() // 100 + 1) * 100 - below)
    for _ in range(3):
        await rig.run(rig.rng.uniform(6, 59))
        await rig.plug_between_polls(Vehicle(max_current=16, phases=3, energy_wanted=1_000))
        await rig.run(rig.rng.uniform(360, 900))
        rig.unplug()
        await rig.run(rig.rng.uniform(30, 300))


# -- the device goes away ------------------------------------------------------------------


# Offline as the Modbus TCP gateway in front of the device reports it: the path is down
# (exception 0x0A) or the device does not answer (0x0B). A device whose TCP connection goes
# silent needs the client's real timeout, which Home Assistant's frozen clock never lets
# expire here (the poll would wait forever); that case is left to a real-process tier.


async def _go_offline(rig: Rig) -> None:
    rig.event()
    rig.wallbox.faults.exception = rig.rng.choice(
        [ExcCodes.GATEWAY_PATH_UNAVIABLE, ExcCodes.GATEWAY_NO_RESPONSE]
    )


async def _back_online(rig: Rig) -> None:
    rig.event()
    rig.wallbox.faults.exception = None


async def _offline_mid_session(rig: Rig) -> None:
    rig.plug()
    await rig.run(_minutes(rig, 3, 20))
    await _go_offline(rig)
    await rig.run(rig.rng.uniform(20, 900), tick=30)
    await _back_online(rig)
    await rig.run(_minutes(rig, 3, 20))
    rig.unplug()
    await rig.run(120)


async def _offline_across_unplug(rig: Rig) -> None:
    rig.plug()
    await rig.run(_minutes(rig, 3, 20))
    await _go_offline(rig)
    await rig.run(rig.rng.uniform(20, 300), tick=30)
    rig.unplug()
    await rig.run(rig.rng.uniform(20, 300), tick=30)
    if rig.rng.random() < 0.5:
        rig.plug()  # the next car comes before the charger answers again
        rig.mark_unseen_plug_in()
        await rig.run(rig.rng.uniform(20, 300), tick=30)
        await _back_online(rig)
        await rig.run(_minutes(rig, 3, 20))
        rig.unplug()
    await _back_online(rig)
    await rig.run(120)


# -- clocks --------------------------------------------------------------------------------


def _clock_correction(sign: int) -> Steps:
    async def steps(rig: Rig) -> None:
        shift = timedelta(seconds=sign * rig.rng.choice([3600, rig.rng.uniform(120, 7200)]))
        # Sessions before and after lie further apart than the correction, so a record in
        # either time frame can only be paired with this plug cycle.
        await rig.run(abs(shift.total_seconds()) + 600, tick=300)
        rig.plug()
        await rig.run(_minutes(rig, 3, 20))
        rig.set_wall_clock(shift)
        await rig.run(_minutes(rig, 3, 20))
        rig.unplug()
        # The next car comes once the wall clock has passed the earlier session again.
        await rig.run(max(120.0, -shift.total_seconds() + 600), tick=300)

    return steps


def _dst_night(day: datetime) -> Steps:
    async def steps(rig: Rig) -> None:
        # Plug in before the change (01:00 UTC), charge across it.
        now = datetime.now(UTC)
        lead = (day - now).total_seconds() - rig.rng.uniform(60, 3000)
        await rig.run(max(lead, 6), tick=600)
        rig.plug()
        await rig.run(_minutes(rig, 60, 150))
        rig.unplug()
        await rig.run(120)

    return steps


TIME_OF_USE = {
    "tariff": {
        "type": "time_of_use",
        "default_price": "0.40",
        "periods": [{"start": "00:00", "end": "03:00", "price": "0.20"}],
    }
}
SPRING = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
AUTUMN = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)

# -- price feeds ---------------------------------------------------------------------------

PRICES = "sensor.day_ahead_price"
DYNAMIC = {"tariff": {"type": "dynamic", "entity_id": PRICES}}


def _price_list(start: datetime, minutes: int, count: int, rng: random.Random) -> list[Any]:
    step = timedelta(minutes=minutes)
    return [
        {
            "start": (start + i * step).isoformat(),
            "end": (start + (i + 1) * step).isoformat(),
            "value": round(rng.uniform(0.05, 0.6), 4),
        }
        for i in range(count)
    ]


def _publish_prices(rig: Rig, raw_today: Any, state: str = "0.30") -> None:
    rig.hass.states.async_set(
        PRICES, state, {"unit_of_measurement": "EUR/kWh", "raw_today": raw_today}
    )


def _day_start(rig: Rig) -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(hours=1)


async def _prices_overlap(rig: Rig) -> None:
    day = _day_start(rig)
    _publish_prices(rig, _price_list(day, 15, 4 * 30, rig.rng))
    await rig.run(60)
    rig.plug()
    await rig.run(_minutes(rig, 3, 30))
    # The publisher switches to hourly prices for the same hours.
    _publish_prices(rig, _price_list(day, 60, 30, rig.rng))
    await rig.run(_minutes(rig, 3, 30))
    rig.unplug()
    await rig.run(120)


async def _prices_missing(rig: Rig) -> None:
    mode = rig.rng.choice(["absent", "unavailable", "empty", "stale"])
    if mode == "unavailable":
        rig.hass.states.async_set(PRICES, "unavailable", {})
    elif mode == "empty":
        _publish_prices(rig, [], state="unknown")
    elif mode == "stale":
        _publish_prices(rig, _price_list(_day_start(rig) - timedelta(days=2), 60, 24, rig.rng))
    rig.plug()
    await rig.run(_minutes(rig, 5, 40))
    rig.unplug()
    await rig.run(120)


def _malformed(rng: random.Random, day: datetime) -> Any:
    good = _price_list(day, 60, 30, rng)
    choice = rng.randrange(6)
    if choice == 0:
        return "not a list"
    if choice == 1:
        return [{**point, "value": "n/a"} for point in good]
    if choice == 2:
        return [{"value": point["value"]} for point in good]  # no times
    if choice == 3:
        return [{**point, "start": point["end"], "end": point["start"]} for point in good]
    if choice == 4:
        return [{**point, "value": float("nan")} for point in good]
    return [None, 17, {"start": "yesterday", "end": "tomorrow", "value": 1}]


async def _prices_malformed(rig: Rig) -> None:
    day = _day_start(rig)
    _publish_prices(rig, _price_list(day, 60, 30, rig.rng))
    rig.plug()
    await rig.run(_minutes(rig, 3, 20))
    _publish_prices(rig, _malformed(rig.rng, day), state=rig.rng.choice(["0.3", "garbage"]))
    await rig.run(_minutes(rig, 3, 20))
    rig.unplug()
    await rig.run(120)


# -- readings that are no numbers ----------------------------------------------------------


async def _sensor_readings(rig: Rig, values: list[str]) -> None:
    rig.plug()
    await rig.run(_minutes(rig, 3, 20))
    for value in values:
        rig.sensor_override = value
        rig.event()
        await rig.run(rig.rng.uniform(6, 60))
    rig.sensor_override = None
    rig.event()
    await rig.run(_minutes(rig, 3, 20))
    rig.unplug()
    await rig.run(120)


async def _nan_sensor(rig: Rig) -> None:
    nan = rig.rng.choice(["nan", "NaN", "inf"])
    if rig.rng.random() < 0.5:
        await _sensor_readings(rig, [nan] * rig.rng.randint(1, 3))
        return
    # Still NaN when the car leaves; the sensor recovers a while later.
    rig.plug()
    await rig.run(_minutes(rig, 3, 20))
    rig.sensor_override = nan
    rig.event()
    await rig.run(_minutes(rig, 1, 5))
    rig.unplug()
    await rig.run(rig.rng.uniform(30, 300))
    rig.sensor_override = None
    rig.event()
    await rig.run(120)


async def _negative_sensor(rig: Rig) -> None:
    await _sensor_readings(rig, ["-0.002", "-0.0015", "-0.001"])


async def _nan_meter(rig: Rig) -> None:
    rig.plug()
    await rig.run(_minutes(rig, 3, 20))
    rig.meter.faults.nan = True
    rig.event()
    await rig.run(rig.rng.uniform(6, 180))
    rig.meter.faults.nan = False
    rig.event()
    await rig.run(_minutes(rig, 3, 20))
    rig.unplug()
    await rig.run(120)


async def _ordinary(rig: Rig) -> None:
    await rig.session(_minutes(rig, 3, 40) / 60)


SCENARIOS: dict[str, Scenario] = {
    "ordinary": Scenario(_ordinary),
    "ordinary_meter": Scenario(_ordinary, billing="meter"),
    "restart_mid_session": Scenario(_restart_mid_session(crash=False)),
    "crash_mid_session": Scenario(_restart_mid_session(crash=True)),
    "restart_after_unplug": Scenario(_restart_after_unplug(crash=False)),
    "crash_after_unplug": Scenario(_restart_after_unplug(crash=True)),
    "car_swap_while_down": Scenario(_car_swap_while_down),
    "car_swap_cards_only": Scenario(_car_swap_cards_only),
    "register_jump": Scenario(_register_jump),
    "register_reset": Scenario(_register_reset),
    # The same on the SDM630 (1 Wh): what the 0.1 kWh register's step hides shows here.
    "register_jump_meter": Scenario(_register_jump, billing="meter"),
    "register_reset_meter": Scenario(_register_reset, billing="meter"),
    "register_garbage": Scenario(_register_garbage),
    "register_ffff_idle": Scenario(_ffff_idle),
    "register_ffff_mid_session": Scenario(_ffff_mid_session),
    "coarse_register": Scenario(_coarse_register, frame=False),
    "device_offline": Scenario(_offline_mid_session),
    "device_offline_across_unplug": Scenario(_offline_across_unplug),
    "clock_back": Scenario(_clock_correction(-1)),
    "clock_forward": Scenario(_clock_correction(+1)),
    "dst_spring": Scenario(
        _dst_night(SPRING), options=TIME_OF_USE, start=SPRING - timedelta(hours=3)
    ),
    "dst_autumn": Scenario(
        _dst_night(AUTUMN), options=TIME_OF_USE, start=AUTUMN - timedelta(hours=3)
    ),
    "prices_overlap": Scenario(_prices_overlap, options=DYNAMIC),
    "prices_missing": Scenario(_prices_missing, options=DYNAMIC),
    "prices_malformed": Scenario(_prices_malformed, options=DYNAMIC),
    "nan_sensor": Scenario(_nan_sensor, billing="sensor"),
    "negative_sensor": Scenario(_negative_sensor, billing="sensor"),
    "nan_meter": Scenario(_nan_meter, billing="meter"),
}

# Runs that still break the invariant: scenario -> (runs, row of issue 12's table and what
# was recorded). Strict, so a fix turns them into failures until the mark goes.
BROKEN: dict[str, tuple[set[int], str]] = {}


def _params() -> list[Any]:
    params = []
    for name in SCENARIOS:
        runs, reason = BROKEN.get(name, (set(), ""))
        params.extend(
            pytest.param(
                name,
                run,
                id=f"{name}-{run}",
                marks=[pytest.mark.xfail(strict=True, reason=reason)] if run in runs else [],
            )
            for run in range(RUNS)
        )
    return params


@pytest.mark.parametrize(("name", "run"), _params())
async def test_fault(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
    hass_storage: dict[str, Any],
    name: str,
    run: int,
) -> None:
    """Run the scenario once at its random points; the invariant must hold."""
    scenario = SCENARIOS[name]
    rng = random.Random(f"{TALLY.seed}/{name}/{run}")
    rig = Rig(hass, freezer, hass_ws_client, hass_storage, rng, billing=scenario.billing)
    try:
        await rig.start(
            scenario.start + timedelta(seconds=rng.uniform(0, 3600) if scenario.frame else 0),
            scenario.options,
        )
        await rig.run(60)
        if scenario.frame:
            await rig.session(rng.uniform(3, 15))
        await scenario.steps(rig)
        if scenario.frame:
            await rig.session(rng.uniform(3, 15))
        verdict = await rig.verdict(name)
    finally:
        await rig.stop()
    assert verdict.ok, f"seed {TALLY.seed}, {name} run {run}:\n" + "\n".join(verdict.problems)
