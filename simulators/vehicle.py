"""A simulated electric vehicle on the cable."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Vehicle:
    """What the car asks of the charger.

    `max_current` is the on-board charger's limit per phase; `phases` how many it uses.
    The car stops drawing when `energy_wanted` Wh have been delivered (None: never full).
    `handshake_s`: seconds after plug-in before the car draws current (real cars take a few
    seconds to negotiate; 0 draws at once).
    """

    max_current: float = 16.0
    phases: int = 3
    energy_wanted: float | None = None
    delivered: float = 0.0
    handshake_s: float = 0.0

    @property
    def full(self) -> bool:
        """Whether the car has all the energy it wanted.

        Within a microwatt-hour: energy is integrated in floats, and a car left a rounding
        error short would draw full power for another whole step.
        """
        return self.energy_wanted is not None and self.delivered >= self.energy_wanted - 1e-6
