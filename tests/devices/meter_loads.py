"""Loads for meter tests: unbalanced phases, so a profile that reads the wrong phase fails."""

from __future__ import annotations

from simulators.behaviour import PhaseValues
from simulators.clock import SimClock


class UnbalancedLoad:
    """Fixed, different currents and voltages per phase; energy integrated on the clock."""

    def __init__(
        self,
        clock: SimClock,
        *,
        amps: tuple[float, float, float] = (16.0, 10.0, 5.0),
        volts: tuple[float, float, float] = (230.0, 231.0, 228.0),
    ) -> None:
        """By default 3 680 W + 2 310 W + 1 140 W = 7 130 W."""
        self.clock = clock
        self.amps = amps
        self.volts = volts
        self._energy = 0.0
        self._updated_at = clock.now()

    def _update(self) -> None:
        now = self.clock.now()
        self._energy += self.phases_now().total_power * (now - self._updated_at) / 3600.0
        self._updated_at = now

    def phases_now(self) -> PhaseValues:
        """Present values without integrating."""
        return PhaseValues(voltage=self.volts, current=self.amps)

    def set_amps(self, amps: tuple[float, float, float]) -> None:
        """Change the load."""
        self._update()
        self.amps = amps

    def phases(self) -> PhaseValues:
        """Present voltages and currents."""
        self._update()
        return self.phases_now()

    def energy_wh(self) -> float:
        """Energy drawn so far, in Wh."""
        self._update()
        return self._energy
