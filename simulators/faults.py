"""Fault injection and physical truth for the fault matrix (issue 12).

`TruthLog` watches a charger's behaviour model and keeps every physical plug cycle: when the
car was plugged in and unplugged, the energy that went into it, and what the meter register
really showed at both ends. It is the ground truth a test compares the recorded sessions
with, so it never reads anything from the integration.

`RegisterFaults` sits between a device's true energy register and the value the simulator
serves: a permanent jump, a reset to 0, a garbage value, NaN or a negative number, and
coarse steps. The device simulators apply it when they render their registers; the physical
truth (energy delivered into the car) is not touched by any of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .behaviour import ChargerModel
from .vehicle import Vehicle


@dataclass
class RegisterFaults:
    """How a device's energy register departs from the energy it really counted.

    `offset_wh` is added to the true register (a jump adds to it, a reset makes the register
    count on from 0); `override_wh` replaces the value while it is set (garbage, NaN, a
    negative number); `raw` replaces the encoded register words' value while it is set (an
    integer register answering 0xFFFFFFFF, say); `resolution_wh` floors the served value to
    whole steps (a coarse register). Without `session_counters` the device answers "not
    available" for its per-session energy and charging-time counters (firmware without
    them), so nothing but a card tells one plug cycle from the next.
    """

    offset_wh: float = 0.0
    override_wh: float | None = None
    raw: int | None = None
    resolution_wh: float | None = None
    session_counters: bool = True
    events: list[tuple[float, str, float]] = field(default_factory=list)

    def jump(self, at: float, wh: float) -> None:
        """From now on the register shows `wh` more than it counted."""
        self.offset_wh += wh
        self.events.append((at, "jump", wh))

    def reset(self, at: float, true_wh: float) -> None:
        """The register restarts at 0 (a meter reset or replacement) and counts on from there."""
        self.offset_wh = -true_wh
        self.events.append((at, "reset", true_wh))

    def shown_wh(self, true_wh: float) -> float:
        """The value the device serves for a true register of `true_wh`."""
        if self.override_wh is not None:
            return self.override_wh
        value = true_wh + self.offset_wh
        if self.resolution_wh is not None and math.isfinite(value):
            value = math.floor(round(value, 6) / self.resolution_wh) * self.resolution_wh
        return value


@dataclass
class PlugCycle:
    """One physical session: plug-in to unplug of one car."""

    index: int
    vehicle: Vehicle
    plugged_at: float  # simulator seconds
    plugged_wall: datetime | None
    register_at_plug_wh: float  # the charger's true lifetime register
    shown_at_plug_wh: float | None  # what the device served then (None: not tracked)
    vehicle_had_wh: float  # what the car had been given before (a car may come back)
    unplugged_at: float | None = None
    unplugged_wall: datetime | None = None
    register_at_unplug_wh: float | None = None
    shown_at_unplug_wh: float | None = None
    delivered_wh: float | None = None  # energy that went into the car
    charging_seconds: float | None = None  # seconds with current flowing

    @property
    def complete(self) -> bool:
        """Whether the car has left."""
        return self.unplugged_at is not None


class TruthLog:
    """Every plug cycle of one charger, as it physically happened."""

    def __init__(
        self,
        charger: ChargerModel,
        *,
        wall_clock: Callable[[], datetime] | None = None,
        shown_register: Callable[[], float | None] | None = None,
    ) -> None:
        """Watch `charger`; `wall_clock` stamps each event with the wall time of the host
        under test and `shown_register` reads what the billing register served then."""
        self.charger = charger
        self.wall_clock = wall_clock
        self.shown_register = shown_register
        self.cycles: list[PlugCycle] = []
        charger.listeners.append(self._on_event)

    def _on_event(self, event: str) -> None:
        charger = self.charger
        now = charger.clock.now()
        wall = None if self.wall_clock is None else self.wall_clock()
        shown = None if self.shown_register is None else self.shown_register()
        if event == "plug":
            assert charger.vehicle is not None
            self.cycles.append(
                PlugCycle(
                    index=len(self.cycles),
                    vehicle=charger.vehicle,
                    plugged_at=now,
                    plugged_wall=wall,
                    register_at_plug_wh=charger.energy_wh(),
                    shown_at_plug_wh=shown,
                    vehicle_had_wh=charger.vehicle.delivered,
                )
            )
            return
        cycle = self.cycles[-1]
        cycle.unplugged_at = now
        cycle.unplugged_wall = wall
        cycle.register_at_unplug_wh = charger.energy_wh()
        cycle.shown_at_unplug_wh = shown
        cycle.delivered_wh = cycle.vehicle.delivered - cycle.vehicle_had_wh
        cycle.charging_seconds = charger.charging_seconds()

    @property
    def complete(self) -> list[PlugCycle]:
        """The plug cycles whose car has left."""
        return [cycle for cycle in self.cycles if cycle.complete]
