"""The invariant checker on hand-made records (no Home Assistant, no simulators)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .invariant import PhysicalSession, check

T0 = datetime(2026, 11, 18, 7, 0, tzinfo=UTC)
# 22 080 W x 5 s = 30.67 Wh: one poll interval at maximum power.
ONE_POLL_WH = 22_080 * 5 / 3600


def _cycle(*, unprovable_wh: float = 0.0) -> PhysicalSession:
    return PhysicalSession(
        plugged_wall=T0,
        unplugged_wall=T0 + timedelta(minutes=20),
        delivered_wh=3_000.0,
        register_change_wh=None,  # a register fault happened
        duration_s=1_200.0,
        resolution_wh=1.0,
        unprovable_wh=unprovable_wh,
    )


def _record(energy_wh: float) -> dict[str, Any]:
    return {
        "seq": 1,
        "started_at": (T0 + timedelta(seconds=5)).isoformat(),
        "ended_at": (T0 + timedelta(minutes=20, seconds=5)).isoformat(),
        "energy_wh": energy_wh,
        "charging_seconds": 1_190,
        "flags": ["price_missing"],
    }


def test_without_a_discontinuity_a_register_step_is_all_it_may_miss() -> None:
    """3 000 Wh delivered on a 1 Wh register: 2 999.5 is exact, 2 990 is not."""
    assert check([_cycle()], [_record(2_999.5)]).exact == 1
    assert check([_cycle()], [_record(2_990.0)]).inexact == 1


def test_a_discontinuity_may_hide_one_poll_interval_never_more() -> None:
    """Across a jump or reset: short by up to 30.67 Wh (+ one step) is exact; more is not."""
    cycle = _cycle(unprovable_wh=ONE_POLL_WH)
    assert check([cycle], [_record(3_000.0 - 30.0)]).exact == 1
    assert check([cycle], [_record(3_000.0 - 32.0)]).inexact == 1
    # Never more than was delivered: the allowance is one-sided.
    assert check([cycle], [_record(3_000.0 + 1.0)]).inexact == 1
