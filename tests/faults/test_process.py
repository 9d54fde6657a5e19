"""kill -9 and graceful restarts of a real Home Assistant process, against the invariant.

Everything here runs on real clocks: a `python -m homeassistant` subprocess polls the
simulated Vestel and SDM630 (served by this test on loopback ports, their clock the real
monotonic one) every 5 s; sessions are billed from the SDM630 at a flat price. Each
sub-scenario has its own time window; the records that started in it are checked against
the plug cycles in it. The car starts drawing current only once Home Assistant shows it
connected (a real car negotiates for 10-30 s; waiting for the condition keeps the run
deterministic on a busy machine).
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.faults import PlugCycle, TruthLog
from simulators.vehicle import Vehicle

from .ha_process import HomeAssistantProcess
from .invariant import PhysicalSession, check
from .tally import TALLY

pytestmark = pytest.mark.faults

CONNECTED = "binary_sensor.vestel_evc04_vehicle_connected"
WAIT_S = 180.0
METER_RESOLUTION_WH = 1.0  # float32 kWh register
METER_TOLERANCE_WH = 1.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until(what: str, condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait for a condition (polled twice a second), generously for a busy CI machine."""
    async with asyncio.timeout(WAIT_S):
        # Another process's state over HTTP: there is no event to wait on, only polling.
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.5)
    del what


class Bench:
    """The simulators, the Home Assistant process, and what physically happened."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        """Simulators on a real clock; the truth log stamps real UTC."""
        self.rng = rng
        self.clock = SimClock()
        self.wallbox = VestelEVC04(self.clock)
        self.wallbox.charger.watchdog_timeout = None  # metering, not control
        self.meter = EastronSDM630(self.clock, load=self.wallbox.charger)
        self.truth = TruthLog(
            self.wallbox.charger,
            wall_clock=lambda: datetime.now(UTC),
            shown_register=self.meter.import_register_wh,
        )
        self.ha = HomeAssistantProcess(root, _free_port())
        self.http: aiohttp.ClientSession | None = None
        self.charger_entry = ""
        self.unseen_starts: set[int] = set()  # plug cycles that came while nobody watched

    @property
    def session(self) -> aiohttp.ClientSession:
        """The HTTP client."""
        assert self.http is not None
        return self.http

    async def start(self) -> None:
        """Serve the simulators, start and onboard Home Assistant, add both devices."""
        self.http = aiohttp.ClientSession()
        await self.wallbox.start()
        await self.meter.start()
        await self.ha.start(self.session)
        await self.ha.onboard(self.session)
        assert self.wallbox.port is not None
        assert self.meter.port is not None
        self.charger_entry = await self.ha.add_device(self.session, self.wallbox.port)
        meter_entry = await self.ha.add_device(self.session, self.meter.port)
        for steps in (
            [{"next_step_id": "polling"}, {"scan_interval": 5}],
            [
                {"next_step_id": "energy_source"},
                {"energy_source": "meter_entry"},
                {"energy_meter_entry": meter_entry},
            ],
            [{"next_step_id": "tariff"}, {"tariff_type": "flat"}, {"flat_price": 0.3}],
        ):
            await self.ha.set_options(self.session, self.charger_entry, steps)
        await self.ready()

    async def close(self) -> None:
        """Stop everything this bench started."""
        await self.ha.close()
        if self.http is not None:
            await self.http.close()
        await self.wallbox.stop()
        await self.meter.stop()

    async def ready(self) -> None:
        """Home Assistant has the charger loaded again."""
        await _until(
            "charger loaded", lambda: self.ha.entry_loaded(self.session, self.charger_entry)
        )

    async def sees_car(self, connected: bool) -> None:
        """Home Assistant shows the car (dis)connected: it polled since the car moved."""
        want = "on" if connected else "off"

        async def seen() -> bool:
            return await self.ha.state(self.session, CONNECTED) == want

        await _until(f"{CONNECTED} {want}", seen)

    async def plug(self, *, wait_for_home_assistant: bool = True) -> Vehicle:
        """A car plugs in; it draws once Home Assistant has seen it (or after 15 s)."""
        car = Vehicle(max_current=16, phases=3, handshake_s=15.0)
        self.wallbox.charger.plug(car)
        if wait_for_home_assistant:
            await self.sees_car(True)
            self.wallbox.charger.update()
            plugged_at = self.truth.cycles[-1].plugged_at
            car.handshake_s = self.clock.now() - plugged_at
        return car

    async def leave(self) -> None:
        """The car leaves once it is full and the meter was polled since (the meter entry is
        polled on its own timer, so its last value can be one scan interval old)."""
        charger = self.wallbox.charger
        if charger.vehicle is not None:
            charger.update()
            charger.vehicle.energy_wanted = charger.vehicle.delivered
            await self.meter_polled_twice()
        charger.unplug()

    async def meter_polled_twice(self) -> None:
        """Until Home Assistant has read the meter twice from now: the first of those reads
        is then surely processed (a poll starts after the one before it ended), however long
        a busy machine makes a poll take."""

        def reads() -> int:  # the import register's reads
            return sum(
                1
                for function, _unit, address, count in self.meter.requests
                if function == 4 and address <= 0x48 < address + count
            )

        seen = reads()

        async def polled() -> bool:
            return reads() >= seen + 2

        await _until("two meter polls", polled)

    async def just_polled(self) -> None:
        """Return right after Home Assistant read the charger: its next poll is seconds away."""

        def reads() -> int:  # input-register reads: polls, not keep-alive writes
            return sum(1 for request in self.wallbox.requests if request[0] == 4)

        seen = reads()

        async def polled() -> bool:
            return reads() > seen

        await _until("a poll", polled)
        await asyncio.sleep(0.5)  # the rest of that poll's batch

    async def charge(self, low: float, high: float) -> None:
        """Let the car charge for a random while (real seconds)."""
        await asyncio.sleep(self.rng.uniform(low, high))

    def physical(self, cycles: list[PlugCycle]) -> list[PhysicalSession]:
        """The invariant's view of these plug cycles."""
        result = []
        for cycle in cycles:
            assert cycle.unplugged_at is not None
            assert cycle.delivered_wh is not None
            assert cycle.plugged_wall is not None
            assert cycle.unplugged_wall is not None
            assert cycle.shown_at_plug_wh is not None
            assert cycle.shown_at_unplug_wh is not None
            result.append(
                PhysicalSession(
                    plugged_wall=cycle.plugged_wall,
                    unplugged_wall=cycle.unplugged_wall,
                    delivered_wh=cycle.delivered_wh,
                    register_change_wh=cycle.shown_at_unplug_wh - cycle.shown_at_plug_wh,
                    duration_s=cycle.unplugged_at - cycle.plugged_at,
                    resolution_wh=METER_RESOLUTION_WH,
                    unseen_start=cycle.index in self.unseen_starts,
                )
            )
        return result


async def _mid_session(bench: Bench, stop: Callable[[], Awaitable[None]]) -> None:
    await bench.plug()
    await bench.charge(4, 15)
    await stop()
    await bench.charge(2, 10)  # the car charges on while Home Assistant is down
    await bench.ha.start(bench.session)
    await bench.ready()
    await bench.charge(4, 12)
    await bench.leave()
    await bench.sees_car(False)


async def _after_unplug(bench: Bench, stop: Callable[[], Awaitable[None]]) -> None:
    await bench.plug()
    await bench.charge(4, 15)
    charger = bench.wallbox.charger
    charger.update()
    assert charger.vehicle is not None
    charger.vehicle.energy_wanted = charger.vehicle.delivered  # full: it stops drawing
    await bench.meter_polled_twice()
    # The car leaves right after a poll and Home Assistant stops before the next one sees
    # it (in-process runs cover the stop after that poll).
    await bench.just_polled()
    charger.unplug()
    await stop()
    await bench.ha.start(bench.session)
    await bench.ready()
    await bench.sees_car(False)


async def _swap_while_down(bench: Bench, stop: Callable[[], Awaitable[None]]) -> None:
    await bench.plug()
    await bench.charge(4, 15)
    await stop()
    await bench.charge(1, 5)
    bench.wallbox.charger.unplug()  # nobody watches: the meter has no say
    await bench.charge(1, 5)
    await bench.plug(wait_for_home_assistant=False)  # nobody watches: it negotiates 15 s
    bench.unseen_starts.add(len(bench.truth.cycles) - 1)
    await bench.charge(1, 5)
    await bench.ha.start(bench.session)
    await bench.ready()
    await bench.charge(18, 25)
    await bench.leave()
    await bench.sees_car(False)


type Step = Callable[[Bench, Callable[[], Awaitable[None]]], Awaitable[None]]
STEPS: list[tuple[str, Step, bool]] = [
    ("process_kill_mid_session", _mid_session, True),
    ("process_kill_after_unplug", _after_unplug, True),
    ("process_restart_mid_session", _mid_session, False),
    ("process_restart_after_unplug", _after_unplug, False),
    ("process_kill_car_swap_while_down", _swap_while_down, True),
]
# Sub-scenarios that still break the invariant: name -> (row of issue 12, what was recorded).
# Checked strictly below: one that passes fails the test until it is taken out.
BROKEN: dict[str, str] = {}


def _started_in(record: dict[str, Any], window: tuple[datetime, datetime]) -> bool:
    try:
        started = datetime.fromisoformat(str(record["started_at"]))
    except (KeyError, ValueError):
        return window[0] == datetime.min.replace(tzinfo=UTC)
    return window[0] <= started < window[1]


async def test_restarts_of_a_real_process(tmp_path: Path, socket_enabled: None) -> None:
    """kill -9 and SIGTERM mid-session, just after unplug, and with a car swapped meanwhile."""
    rng = random.Random(f"{TALLY.seed}/process")
    bench = Bench(tmp_path, rng)
    windows: list[tuple[str, tuple[datetime, datetime], list[PlugCycle]]] = []
    try:
        await bench.start()
        for name, step, kill in STEPS:
            begin = datetime.now(UTC)
            first = len(bench.truth.cycles)
            await step(bench, bench.ha.kill if kill else bench.ha.terminate)
            await asyncio.sleep(2)
            windows.append((name, (begin, datetime.now(UTC)), bench.truth.cycles[first:]))
        records = await bench.ha.sessions(bench.session)
    finally:
        await bench.close()

    # Records before the first window or after the last one would be phantoms.
    earliest = datetime.min.replace(tzinfo=UTC)
    latest = datetime.max.replace(tzinfo=UTC)
    spans = [w for _, w, _ in windows]
    spans[0] = (earliest, spans[0][1])
    spans[-1] = (spans[-1][0], latest)
    failures = []
    for (name, _, cycles), span in zip(windows, spans, strict=True):
        mine = [r for r in records if _started_in(r, span)]
        verdict = check(bench.physical(cycles), mine, register_tolerance_wh=METER_TOLERANCE_WH)
        TALLY.add(name, verdict)
        if not verdict.ok and name not in BROKEN:
            failures.append(f"{name}:\n  " + "\n  ".join(verdict.problems))
        if verdict.ok and name in BROKEN:
            failures.append(f"{name} passes now: remove it from BROKEN ({BROKEN[name]})")
    assert not failures, f"seed {TALLY.seed}:\n" + "\n".join(failures)
    if BROKEN:
        pytest.xfail("; ".join(f"{name}: {reason}" for name, reason in BROKEN.items()))
