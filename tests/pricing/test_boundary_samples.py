"""The tracker stores the register at each price boundary pricing names.

The poll pricing requests at a boundary answers a little later (the device's reply time):
within the tolerance, that reading stands for the boundary; later than that it is kept at
its own time and the cost interpolates (and says so).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from custom_components.ev_charging_monitor.devices import ChargerState
from custom_components.ev_charging_monitor.session.tracker import SessionTracker

T0 = datetime(2026, 11, 18, 12, tzinfo=UTC)
BOUNDARY = T0 + timedelta(minutes=15)


def next_boundary(after: datetime) -> datetime | None:
    return BOUNDARY if after < BOUNDARY else None


def feed(tracker: SessionTracker, polls: list[tuple[float, float]]) -> None:
    for seconds, register in polls:
        tracker.update(
            now=T0 + timedelta(seconds=seconds),
            mono=seconds,
            state=ChargerState.C,
            energy_wh=register,
            power_w=11_040,
        )


def test_a_reading_just_after_the_boundary_is_the_register_at_the_boundary() -> None:
    tracker = SessionTracker(max_power_w=22_080, boundary_fn=next_boundary)
    # 11.04 kW is 3.0667 Wh per second; polls at 0 s, 14:30 and 1.5 s after the boundary.
    feed(tracker, [(0, 0.0), (870, 2668.0), (901.5, 2764.6)])
    assert tracker.active is not None
    assert tracker.active.samples[-1] == (BOUNDARY, Decimal("2764.6"))


def test_a_reading_long_after_the_boundary_keeps_its_own_time() -> None:
    tracker = SessionTracker(max_power_w=22_080, boundary_fn=next_boundary)
    feed(tracker, [(0, 0.0), (870, 2668.0), (905, 2775.3)])
    assert tracker.active is not None
    assert tracker.active.samples[-1] == (T0 + timedelta(seconds=905), Decimal("2775.3"))
