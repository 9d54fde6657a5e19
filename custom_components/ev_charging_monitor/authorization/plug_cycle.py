"""Whether the vehicle at a charger is still the one that was authorised (Home Assistant-free).

Authorization belongs to one plug cycle. A poll that sees no vehicle ends it; so does a
counter of the charger that only grows during a plug cycle and restarts at the next
plug-in (session energy, charging time), seen lower than before. The counters catch a car
swapped between two polls, or while Home Assistant was down, where the connection state
alone cannot.
"""

from __future__ import annotations

from typing import Any

from ..devices import Reading

# Per-plug-cycle counters: where they are in a reading, and by how much a reading may fall
# (rounding of the register) before it counts as a restart.
COUNTERS: dict[str, float] = {"session_energy": 1.0, "charging_time": 1.0}


def cycle_mark(reading: Reading) -> dict[str, float]:
    """The counters of this plug cycle that the reading shows."""
    mark: dict[str, float] = {}
    for name in COUNTERS:
        value: Any = getattr(reading, name, None)
        if value is None:
            value = reading.extra.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            mark[name] = float(value)
    return mark


def restarted(previous: dict[str, float] | None, current: dict[str, float]) -> bool:
    """Whether a counter fell: the vehicle now connected is a new plug-in."""
    if not previous:
        return False
    return any(
        name in previous and name in current and current[name] < previous[name] - tolerance
        for name, tolerance in COUNTERS.items()
    )
