"""The invariant checker on hand-made records (no Home Assistant, no simulators)."""

from __future__ import annotations

from dataclasses import replace
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


def _swap_pair() -> list[PhysicalSession]:
    """Car A took 1 234 Wh (register 10 000 -> 11 200 on a 0.1 kWh register); car B came
    while nobody watched and took 766 Wh (11 200 -> 12 000)."""
    a = PhysicalSession(
        plugged_wall=T0,
        unplugged_wall=T0 + timedelta(minutes=20),
        delivered_wh=1_234.0,
        register_change_wh=1_200.0,
        duration_s=1_200.0,
        resolution_wh=100.0,
    )
    b = PhysicalSession(
        plugged_wall=T0 + timedelta(minutes=25),
        unplugged_wall=T0 + timedelta(minutes=45),
        delivered_wh=766.0,
        register_change_wh=800.0,
        duration_s=1_200.0,
        resolution_wh=100.0,
        unseen_start=True,
    )
    return [a, b]


def _at(record: dict[str, Any], minutes: float) -> dict[str, Any]:
    shift = timedelta(minutes=minutes)
    return {
        **record,
        "started_at": (datetime.fromisoformat(record["started_at"]) + shift).isoformat(),
        "ended_at": (datetime.fromisoformat(record["ended_at"]) + shift).isoformat(),
    }


def test_an_unseen_swap_is_checked_against_the_register_across_both_cycles() -> None:
    """Split at 11 233 (from B's session counter): neither record equals its own cycle's
    register change (1 200, 800), both are within a step of what the car got, and together
    they are the register's 2 000 Wh: exact. Split anywhere else, the sum shows it."""
    cycles = _swap_pair()
    good = [_record(1_233.0), _at(_record(767.0), 25)]
    assert check(cycles, good).exact == 2
    # Within a step of each car, but 1 Wh more than the register moved across both.
    verdict = check(cycles, [_record(1_233.0), _at(_record(768.0), 25)])
    assert (verdict.exact, verdict.inexact) == (0, 2)
    # Without the mark, each record must equal its own cycle's change.
    seen = [cycles[0], replace(cycles[1], unseen_start=False)]
    assert check(seen, good).inexact == 2


def test_an_estimated_split_counts_apart_and_only_across_both_cycles() -> None:
    """A split flagged `swap_time_unknown` at A's last reading (A 1 100 Wh, B 900 Wh for
    1 234 / 766 delivered): not exact, estimated, as long as the two add up to the
    register's 2 000 Wh and to the 2 000 Wh the cars got; otherwise inexact."""
    cycles = _swap_pair()
    flagged = ["price_missing", "plug_cycle_unseen", "swap_time_unknown"]
    a = {**_record(1_100.0), "flags": flagged}
    b = {**_at(_record(900.0), 25), "flags": flagged}
    verdict = check(cycles, [a, b])
    assert (verdict.exact, verdict.estimated, verdict.inexact) == (0, 2, 0)
    assert verdict.ok
    verdict = check(cycles, [a, {**b, "energy_wh": 1_000.0}])
    assert (verdict.exact, verdict.estimated, verdict.inexact) == (0, 0, 2)
    # The flag counts only where no poll saw the boundary.
    seen = [cycles[0], replace(cycles[1], unseen_start=False)]
    assert check(seen, [a, b]).inexact == 2
