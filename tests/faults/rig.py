"""One run of the fault matrix: a real Home Assistant, the simulated Vestel and SDM630.

Clocks (which ones are real): Home Assistant runs in-process
(pytest-homeassistant-custom-component) with its wall clock frozen by `freezer`; the
simulators run on a manual `SimClock`. `run()` moves both by the same step and lets the
integration poll, so a 40-minute session takes a few hundred milliseconds. `set_wall_clock()`
moves only Home Assistant's wall clock (a clock correction): the simulators' clock, the
physical time, runs on. Home Assistant's event loop time follows the frozen clock here, so
the integration's monotonic clock is pointed at the simulators' clock (physical time, which a
wall-clock correction does not move; under freezegun `time.monotonic` would jump with the
wall clock). The restarts of a real process are in test_process.py.

The session records are read the way the ledger reads them: over Home Assistant's
websocket API (`ev_charging_monitor/sessions`).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, Literal
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ev_charging_monitor.const import CONF_DRIVER, DOMAIN
from custom_components.ev_charging_monitor.session import manager
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.faults import PlugCycle, TruthLog
from simulators.modbus import ModbusSimulator
from simulators.vehicle import Vehicle

from .invariant import PhysicalSession, Verdict, check
from .tally import TALLY

Billing = Literal["charger", "meter", "sensor"]
SENSOR = "sensor.mid_meter"
# Steps of the billing registers: the Vestel counts 0.1 kWh; the SDM630's float32 kWh
# register and the sensor (kWh with three decimals) resolve about 1 Wh.
RESOLUTION_WH: dict[Billing, float] = {"charger": 100.0, "meter": 1.0, "sensor": 1.0}
REGISTER_TOLERANCE_WH: dict[Billing, float] = {"charger": 0.0, "meter": 1.0, "sensor": 1.0}
# The car negotiates this long after plug-in before it draws current (0: at once).
HANDSHAKE_S = 20.0
POLL_S = 5.0  # the integration's default scan interval
# The simulated charger's maximum: 3 phases x 32 A x 230 V.
MAX_POWER_W = 22_080.0
MIN_POLL_STEP_S = 6.0  # a step this long surely makes the next poll due
MONOTONIC_ORIGIN = 1_000_000.0
EVENT_WINDOW_S = 30.0


@dataclass
class Rig:
    """Simulators, Home Assistant and the truth log of one run."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    ws_client: WebSocketGenerator
    storage: dict[str, Any]
    rng: random.Random
    billing: Billing = "charger"
    clock: SimClock = field(default_factory=lambda: SimClock(manual=True))
    wallbox: VestelEVC04 = field(init=False)
    meter: EastronSDM630 = field(init=False)
    truth: TruthLog = field(init=False)
    issued_at: datetime = field(init=False)
    entry: ConfigEntry | None = None
    meter_entry: ConfigEntry | None = None
    # Published instead of the meter's register on the sensor (NaN, negative, ...).
    sensor_override: str | None = None
    faulted_cycles: set[int] = field(default_factory=set)
    discontinuities: dict[int, int] = field(default_factory=dict)
    unseen_starts: set[int] = field(default_factory=set)
    event_at: float = -1e9
    # Points the session tracking's monotonic clock at physical time (see start()).
    monotonic_patch: Any = None

    def __post_init__(self) -> None:
        """Create the simulators (not yet listening)."""
        # The test's access token was issued now; the websocket client must log in at a
        # time where it is valid, whatever the scenario did to the clock.
        self.issued_at = dt_util.utcnow()
        self.wallbox = VestelEVC04(self.clock)
        # Metering, not control: the failsafe would stop the car whenever a step of the
        # manual clock is longer than its timeout.
        self.wallbox.charger.watchdog_timeout = None
        self.meter = EastronSDM630(self.clock, load=self.wallbox.charger)
        self.truth = TruthLog(
            self.wallbox.charger, wall_clock=dt_util.utcnow, shown_register=self.register_wh
        )

    # -- set-up --------------------------------------------------------------------------

    async def start(self, at: datetime, options: dict[str, Any] | None = None) -> None:
        """Serve the simulators, set the wall clock and add the devices as a user would."""
        await self.hass.config.async_set_time_zone("Europe/Berlin")
        # Before any set-up: the first poll of each set-up (after a restart too) already
        # feeds the tracker, and a monotonic clock that changed between two polls would
        # look like a clock correction. Mocked because freezegun moves `time.monotonic`
        # with every wall-clock correction, which a real monotonic clock never does.
        clock = self.clock
        self.monotonic_patch = patch.object(
            manager, "time", SimpleNamespace(monotonic=lambda: MONOTONIC_ORIGIN + clock.now())
        )
        self.monotonic_patch.start()
        self.freezer.move_to(at)
        await self.wallbox.start()
        await self.meter.start()
        self.entry = await self._add(self.wallbox)
        extra: dict[str, Any] = {}
        if self.billing == "meter":
            self.meter_entry = await self._add(self.meter)
            extra = {
                "energy_source": "meter_entry",
                "energy_meter_entry": self.meter_entry.entry_id,
            }
        elif self.billing == "sensor":
            self.publish_sensor()
            extra = {"energy_source": "sensor", "energy_sensor": SENSOR}
        if extra or options:
            self.hass.config_entries.async_update_entry(
                self.entry, options={**self.entry.options, **extra, **(options or {})}
            )
            assert await self.hass.config_entries.async_reload(self.entry.entry_id)
            await self.hass.async_block_till_done()

    async def _add(self, simulator: ModbusSimulator) -> ConfigEntry:
        flow = self.hass.config_entries.flow
        result = await flow.async_init(DOMAIN, context={"source": "user"})
        result = await flow.async_configure(result["flow_id"], {"next_step_id": "manual"})
        result = await flow.async_configure(
            result["flow_id"],
            {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port, CONF_DRIVER: "auto"},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await self.hass.async_block_till_done()
        entry: ConfigEntry = result["result"]
        assert entry.state is ConfigEntryState.LOADED
        return entry

    async def stop(self) -> None:
        """Unload what is loaded and stop the simulators."""
        if self.monotonic_patch is not None:
            self.monotonic_patch.stop()
            self.monotonic_patch = None
        for entry in (self.entry, self.meter_entry):
            if entry is not None and entry.state is ConfigEntryState.LOADED:
                await self.hass.config_entries.async_unload(entry.entry_id)
        await self.hass.async_block_till_done()
        await self.wallbox.stop()
        await self.meter.stop()

    # -- the billing register --------------------------------------------------------------

    def register_wh(self) -> float:
        """What the billing register serves now, in Wh."""
        if self.billing == "charger":
            return self.wallbox.energy_register_wh()
        return self.meter.import_register_wh()

    def publish_sensor(self) -> None:
        """Another integration's energy sensor showing the meter (kWh, three decimals)."""
        if self.billing != "sensor":
            return
        value = self.sensor_override
        if value is None:
            value = f"{round(self.meter.import_register_wh()) / 1000:.3f}"
        self.hass.states.async_set(
            SENSOR,
            value,
            {"device_class": "energy", "unit_of_measurement": "kWh", "state_class": "total"},
        )

    # -- time ------------------------------------------------------------------------------

    async def poll(self, seconds: float) -> None:
        """Let `seconds` pass on every clock, then let what is due run (a poll, at 5 s)."""
        self.clock.advance(seconds)
        self.freezer.tick(timedelta(seconds=seconds))
        self.publish_sensor()
        async_fire_time_changed(self.hass)
        await self.hass.async_block_till_done(wait_background_tasks=True)

    async def run(self, seconds: float, tick: float = 60.0) -> None:
        """Let `seconds` pass with a poll at least every `tick` seconds.

        Around a plug-in, an unplug or a fault the integration polls at its real cadence
        (5 s), so it sees them as it would; in between, one poll a tick keeps runs fast.
        """
        while seconds > 1e-9:
            recent = self.clock.now() - self.event_at < EVENT_WINDOW_S
            step = min(POLL_S if recent else tick, seconds)
            await self.poll(step)
            seconds -= step

    def set_wall_clock(self, shift: timedelta) -> None:
        """Correct Home Assistant's wall clock by `shift`; physical time does not move."""
        self.freezer.tick(shift)
        self.event()

    # -- the car ---------------------------------------------------------------------------

    def plug(self, vehicle: Vehicle | None = None, *, handshake_s: float = HANDSHAKE_S) -> None:
        """A car is connected (by default 11 kW, three phases, never full)."""
        car = vehicle or Vehicle(max_current=16, phases=3)
        car.handshake_s = handshake_s
        self.wallbox.charger.plug(car)
        self.event_at = self.clock.now()

    async def plug_between_polls(self, vehicle: Vehicle) -> None:
        """A car that draws at once plugs in at a random moment between two polls."""
        await self.poll(MIN_POLL_STEP_S)
        early = self.rng.uniform(0, MIN_POLL_STEP_S - 1)
        self.clock.advance(early)  # too soon for the next poll: nothing runs
        self.freezer.tick(timedelta(seconds=early))
        self.plug(vehicle, handshake_s=0)
        await self.poll(MIN_POLL_STEP_S - early)

    def unplug(self) -> None:
        """The car leaves."""
        self.wallbox.charger.unplug()
        self.event_at = self.clock.now()

    def mark_register_fault(self, *, discontinuity: bool = False) -> None:
        """The present plug cycle saw a register fault: its register change is no reference.

        A `discontinuity` (the register jumped or was reset and counts on from there) hides
        the energy of the poll interval across it from the register.
        """
        cycle = len(self.truth.cycles) - 1
        self.faulted_cycles.add(cycle)
        if discontinuity:
            self.discontinuities[cycle] = self.discontinuities.get(cycle, 0) + 1
        self.event()

    def mark_unseen_plug_in(self) -> None:
        """No poll saw the previous car leave and this one come (nobody was watching)."""
        self.unseen_starts.add(len(self.truth.cycles) - 1)

    def event(self) -> None:
        """Something happened (a fault struck or cleared): poll at the real cadence a while."""
        self.event_at = self.clock.now()

    async def session(self, minutes: float, *, then_idle: float = 120.0) -> None:
        """An ordinary session: plug in at a random second, charge, unplug, wait."""
        await self.run(self.rng.uniform(1, 59))
        self.plug()
        await self.run(minutes * 60)
        self.unplug()
        await self.run(then_idle)

    # -- restarts --------------------------------------------------------------------------

    async def restart(
        self,
        *,
        crash: bool,
        down_s: float,
        while_down: Callable[[], Awaitable[None] | None] | None = None,
    ) -> None:
        """Unload and set up the charger again after `down_s` seconds.

        `crash`: the stored files are put back as they were at the moment of the stop, so
        nothing a clean shutdown writes survives (what kill -9 leaves). `while_down` runs
        halfway through the outage.
        """
        assert self.entry is not None
        on_disk = copy.deepcopy(self.storage) if crash else None
        assert await self.hass.config_entries.async_unload(self.entry.entry_id)
        if on_disk is not None:
            self.storage.clear()
            self.storage.update(on_disk)
        half = down_s / 2
        self.clock.advance(half)
        self.freezer.tick(timedelta(seconds=half))
        if while_down is not None:
            result = while_down()
            if result is not None:
                await result
        self.clock.advance(down_s - half)
        self.freezer.tick(timedelta(seconds=down_s - half))
        self.publish_sensor()
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done(wait_background_tasks=True)

    # -- the verdict -----------------------------------------------------------------------

    async def records(self) -> list[dict[str, Any]]:
        """Every session record, as the ledger fetches them (after the run: no more polls)."""
        self.freezer.move_to(self.issued_at + timedelta(seconds=1))
        client = await self.ws_client(self.hass)
        records: list[dict[str, Any]] = []
        after = 0
        while True:
            await client.send_json_auto_id(
                {"type": f"{DOMAIN}/sessions", "after_seq": after, "limit": 1000}
            )
            response = await client.receive_json()
            assert response["success"], response
            page = response["result"]["sessions"]
            records.extend(page)
            if not page:
                return records
            after = page[-1]["seq"]

    def physical(self) -> list[PhysicalSession]:
        """The completed plug cycles as the invariant sees them."""
        return [self._physical(cycle) for cycle in self.truth.complete]

    def _physical(self, cycle: PlugCycle) -> PhysicalSession:
        assert cycle.unplugged_at is not None
        assert cycle.plugged_wall is not None
        assert cycle.unplugged_wall is not None
        assert cycle.delivered_wh is not None
        change = None
        if (
            cycle.index not in self.faulted_cycles
            and cycle.shown_at_plug_wh is not None
            and cycle.shown_at_unplug_wh is not None
        ):
            change = cycle.shown_at_unplug_wh - cycle.shown_at_plug_wh
        return PhysicalSession(
            plugged_wall=cycle.plugged_wall,
            unplugged_wall=cycle.unplugged_wall,
            delivered_wh=cycle.delivered_wh,
            register_change_wh=change,
            duration_s=cycle.unplugged_at - cycle.plugged_at,
            resolution_wh=RESOLUTION_WH[self.billing],
            unprovable_wh=self.discontinuities.get(cycle.index, 0) * MAX_POWER_W * POLL_S / 3600,
            unseen_start=cycle.index in self.unseen_starts,
        )

    async def verdict(self, scenario: str) -> Verdict:
        """Check this run and add it to the matrix's figures."""
        assert all(cycle.complete for cycle in self.truth.cycles), "a car is still plugged in"
        records = await self.records()
        verdict = check(
            self.physical(), records, register_tolerance_wh=REGISTER_TOLERANCE_WH[self.billing]
        )
        TALLY.add(scenario, verdict)
        return verdict
