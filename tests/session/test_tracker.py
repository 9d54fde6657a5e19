"""The session tracker and the energy gate on scripted readings (no Home Assistant)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custom_components.ev_charging_monitor.devices import ChargerState
from custom_components.ev_charging_monitor.session.gate import EnergyGate
from custom_components.ev_charging_monitor.session.tracker import ActiveSession, SessionTracker

T0 = datetime(2026, 5, 4, 18, 0, tzinfo=UTC)
C, B, A = ChargerState.C, ChargerState.B, ChargerState.A


def _run(
    tracker: SessionTracker, steps: list[tuple[float, ChargerState, float | None]]
) -> list[object]:
    ended = []
    for seconds, state, register in steps:
        _started, done = tracker.update(
            now=T0 + timedelta(seconds=seconds), state=state, energy_wh=register, power_w=11_040
        )
        if done is not None:
            ended.append(done)
    return ended


def test_coarse_register_steps_are_plausible() -> None:
    """A 0.1 kWh register at 5 s polls jumps 100 Wh at a time: not a jump to flag."""
    tracker = SessionTracker(max_power_w=22_080)
    steps = [(0.0, B, 1_000_000.0)]
    # 11 040 W: 15.33 Wh per 5 s; the register shows whole 100 Wh steps.
    steps += [(5.0 * i, C, 1_000_000 + (11_040 * 5 * i / 3600) // 100 * 100) for i in range(1, 200)]
    steps.append((1000.0, A, 1_003_000.0))
    (done,) = _run(tracker, steps)
    assert done.session.flags == []
    assert done.session.energy_wh == Decimal(3000)


def test_drop_then_reset_continues_from_new_register() -> None:
    """One low reading is ignored; three consistent ones mean a replaced meter."""
    tracker = SessionTracker(max_power_w=22_080)
    (done,) = _run(
        tracker,
        [
            (0, B, 5_000.0),
            (60, C, 5_184.0),
            (120, C, 0.0),  # glitch
            (180, C, 5_552.0),
            (240, C, 10.0),  # the meter was replaced ...
            (300, C, 194.0),
            (360, C, 378.0),  # ... third consistent reading: counting goes on from here
            (420, C, 562.0),
            (430, A, 562.0),
        ],
    )
    session = done.session
    assert {"meter_register_dropped", "meter_reset"} <= set(session.flags)
    # 5 000 -> 5 552 before, 378 -> 562 after; the readings in between are not counted.
    assert session.energy_wh == Decimal(552 + 184)


def test_jump_is_not_taken() -> None:
    """Growth beyond what maximum power allows is flagged and skipped."""
    tracker = SessionTracker(max_power_w=22_080)
    (done,) = _run(
        tracker,
        [(0, B, 0.0), (60, C, 184.0), (120, C, 1_000_184.0), (180, C, 552.0), (190, A, 552.0)],
    )
    assert "meter_register_jump" in done.session.flags
    assert done.session.energy_wh == Decimal(552)


def test_clock_jump_backwards_counts_no_time() -> None:
    """A wall clock set back does not make charging time negative."""
    tracker = SessionTracker(max_power_w=22_080)
    (done,) = _run(tracker, [(0, B, 0.0), (600, C, 1_840.0), (300, C, 1_900.0), (900, A, 2_000.0)])
    assert "clock_jump" in done.session.flags
    assert done.session.charging_seconds >= 0
    assert done.session.energy_wh == Decimal(2000)


def test_checkpoint_round_trip_and_naive_time() -> None:
    """A checkpoint restores the same session; naive times are refused."""
    tracker = SessionTracker(max_power_w=22_080)
    _run(tracker, [(0, B, 100.0), (90, C, 376.0)])
    active = tracker.active
    assert active is not None
    assert ActiveSession.from_dict(active.to_dict()) == active
    with pytest.raises(ValueError, match="timezone-aware"):
        tracker.update(now=datetime(2026, 1, 1), state=C, energy_wh=1.0, power_w=0)


def test_gate_holds_back_drop_and_jump() -> None:
    """The Energy dashboard never sees a drop or an impossible jump."""
    gate = EnergyGate(max_power_w=22_080)
    seen = [
        gate.filter(value, T0 + timedelta(seconds=60 * i))
        for i, value in enumerate([1_000.0, 1_184.0, 0.0, 1_368.0, 901_368.0, 1_552.0])
    ]
    assert seen == [1_000.0, 1_184.0, None, 1_368.0, None, 1_552.0]
