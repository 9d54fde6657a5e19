"""Plug-cycle counters and the failsafe check, without Home Assistant running."""

from __future__ import annotations

import pytest

from custom_components.ev_charging_monitor.authorization.failsafe import (
    ISSUE_CANNOT_HOLD,
    ISSUE_FAILSAFE,
    problem,
)
from custom_components.ev_charging_monitor.authorization.plug_cycle import cycle_mark, restarted
from custom_components.ev_charging_monitor.devices import (
    Capabilities,
    ChargerState,
    DeviceKind,
    Reading,
)


def _reading(**extra: float) -> Reading:
    session = extra.pop("session_energy", None)
    return Reading(state=ChargerState.B, session_energy=session, extra=dict(extra))


@pytest.mark.parametrize(
    ("before", "after", "new"),
    [
        ({"session_energy": 1500.0, "charging_time": 600.0}, (0.0, 0.0), True),  # swapped
        ({"session_energy": 1500.0, "charging_time": 600.0}, (1500.0, 600.0), False),
        ({"session_energy": 1500.0, "charging_time": 600.0}, (1499.5, 600.0), False),  # rounding
        ({"session_energy": 1500.0}, (1500.0, 0.0), False),  # time was not known before
        ({"charging_time": 600.0}, (0.0, 12.0), True),
        (None, (0.0, 0.0), False),  # nothing known: no guess
    ],
)
def test_a_falling_counter_is_a_new_plug_in(
    before: dict[str, float] | None, after: tuple[float, float], new: bool
) -> None:
    """Counters only grow within a plug cycle."""
    mark = cycle_mark(_reading(session_energy=after[0], charging_time=after[1]))
    assert mark == {"session_energy": after[0], "charging_time": after[1]}
    assert restarted(before, mark) is new


def _caps(**flags: bool) -> Capabilities:
    return Capabilities(kind=DeviceKind.CHARGER, **flags)


def test_failsafe_problem() -> None:
    """Which held chargers an outage of Home Assistant could open."""
    settable = _caps(can_set_current=True, can_set_failsafe_current=True)
    fixed = _caps(can_set_current=True)
    assert problem(_caps(), True, None) == (ISSUE_CANNOT_HOLD, {})
    assert problem(_caps(), False, None) == (ISSUE_CANNOT_HOLD, {})
    assert problem(settable, True, _reading(failsafe_current=6)) is None  # we write 0
    refused = problem(settable, True, _reading(failsafe_current=6), written=False)
    assert refused == (ISSUE_FAILSAFE, {"current": "6"})  # older firmware: no HR 2000
    assert problem(fixed, False, _reading()) is None  # no heartbeat: the held setpoint stays
    assert problem(fixed, True, _reading(safe_current=0)) is None  # set to 0 by the installer
    assert problem(fixed, True, _reading(safe_current=6)) == (ISSUE_FAILSAFE, {"current": "6"})
    assert problem(fixed, True, _reading()) == (ISSUE_FAILSAFE, {"current": "?"})
