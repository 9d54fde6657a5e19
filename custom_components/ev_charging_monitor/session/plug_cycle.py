"""Plug cycles nobody watched: was the car swapped, where does each session end, and when.

Home Assistant-free. While Home Assistant is down or the charger does not answer, car A
may leave and car B arrive. The charger's own counters tell it afterwards: a per-session
energy counter (or charging-time counter) that restarts at each plug-in, a changed card.
They also tell where to split: B's counter holds exactly what B took, so B started at the
billing register minus its counter, and A took everything between its last reading and
there. When the times were not seen, they are bounded by what the counters prove (a car
that took E Wh at most P W was there at least E/P hours), so each record stays inside its
own plug cycle. A device without such a counter cannot place the split: the records are
split where the outage began and flagged `swap_time_unknown`, an estimate, never exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from .active import ActiveSession, card_digest
from .plausibility import IDLE_POWER_W, max_growth_wh, slack_wh

FLAG_UNSEEN = "plug_cycle_unseen"  # an unplug and a new plug-in happened between two polls
# The device offers nothing to place the swap: the energy and times of the two sessions
# are split where the outage began (the old car's unseen energy counts to the new one).
FLAG_SWAP_TIME_UNKNOWN = "swap_time_unknown"
# A counter may run ahead of the wall clock's span by poll timing.
COUNTER_SLACK_S = 5.0
# A per-session energy counter in whole Wh shows what it has counted so far: the car took
# between its value and one Wh more (the Vestel's u32 register, go-e's and ABB's Wh).
COUNTER_STEP_WH = Decimal(1)


def new_plug_cycle(
    session: ActiveSession,
    *,
    rfid: str | None,
    device_session: Decimal | None,
    device_energy: Decimal | None,
    seconds: float,
    max_power_w: float,
    device_resolution_wh: Decimal | None,
    register: Decimal | None = None,
    resolution_wh: Decimal | None = None,
) -> bool:
    """Whether the connected car is from a plug-in after the last one seen.

    `device_session` and `device_energy` are the charger's per-session counter and its own
    total register now; `seconds` is how long the session went unseen. `register` is the
    billing register now when it is another meter's (often finer than the charger's own:
    a 0.1 kWh total hides a car that took a few Wh unseen).
    """
    if rfid and session.rfid and card_digest(rfid) != session.rfid:
        return True
    if device_session is None or session.device_session is None:
        return False
    last_session, last_energy = session.device_session
    if device_session + slack_wh(None) < last_session:
        return True  # the per-session counter restarted: a plug-in
    totals = []
    if device_energy is not None:
        totals.append((device_energy, last_energy, device_resolution_wh))
    if register is not None and session.billing_paired:
        # The billing register read with the last counters (the checkpoint's), and now.
        totals.append((register, session.meter_end_wh, resolution_wh))
    return any(
        _counter_restarted(
            device_session - last_session,
            grown=now - then,
            tolerance=slack_wh(resolution) + slack_wh(None),
            most=max_growth_wh(max_power_w, seconds, resolution),
        )
        for now, then, resolution in totals
    )


def _counter_restarted(
    counted: Decimal, *, grown: Decimal, tolerance: Decimal, most: Decimal
) -> bool:
    """Whether a total register that grew by `grown` while the per-session counter grew by
    `counted` proves a new plug-in in between."""
    if not -tolerance <= grown <= most:
        # The total register itself was reset or jumped: the counters prove nothing.
        return False
    if counted + tolerance < 0:
        return True
    # In one plug cycle both counters grow alike (a meter and the charger's counter agree
    # within their classes, 2 %); a total that grew more than the session counter means the
    # counter restarted (and counted again) in between.
    return grown - counted > tolerance + grown / 50


def _hours(energy_wh: Decimal, power_w: float) -> float:
    return float(energy_wh) / power_w if power_w > 0 else 0.0


def _drawing_power_w(session: ActiveSession, max_power_w: float) -> float:
    """The power that turns the session's unseen energy into the least time it took.

    The highest power the car was seen drawing; the charger's maximum when it was never
    seen drawing (then the time is a lower bound only).
    """
    return session.max_power_w if session.max_power_w >= IDLE_POWER_W else max_power_w


def seen_until(
    session: ActiveSession,
    *,
    now: datetime,
    register: Decimal | None,
    counter_s: float | None,
    max_power_w: float,
    resolution_wh: Decimal | None = None,
) -> datetime:
    """How long a car that left unseen was at least still there (not after `now`).

    From its last reading on: the charging time its counter added, or the time the
    energy the register added took at the power it was drawing, whichever is longer.
    A coarse register may show up to a step more added than flowed since its last value.
    """
    last_seen = session.last_reading_at
    if now <= last_seen:
        return last_seen
    span = (now - last_seen).total_seconds()
    seconds = 0.0
    previous = session.device_charging_s
    if counter_s is not None and previous is not None and 0 <= counter_s - previous <= span:
        seconds = counter_s - previous  # beyond the span: not this car's counter
    if register is not None and register > session.meter_end_wh:
        taken = max(register - session.meter_end_wh - (resolution_wh or 0), Decimal(0))
        seconds = max(seconds, _hours(taken, _drawing_power_w(session, max_power_w)) * 3600)
    return last_seen + timedelta(seconds=min(seconds, span))


def _counted_wh(device_session: Decimal) -> Decimal:
    """The energy a per-session counter showing `device_session` stands for.

    A counter in whole Wh hides up to a step: the middle of it, so that neither car pays
    the other's fraction (taken as exact, the old car was billed up to 1 Wh of the new
    one's, on top of the billing register's own rounding). A counter still at 0 counted
    nothing yet (the car negotiating), and a finer one is taken as it reads.
    """
    if device_session > 0 and device_session == device_session.to_integral_value():
        return device_session + COUNTER_STEP_WH / 2
    return device_session


@dataclass(frozen=True)
class SwapPoint:
    """Where an unseen swap splits the old session from the new one."""

    register: Decimal  # the old session ends and the new one starts here (billing register)
    old_ended_at: datetime
    old_charging_s: float  # charging seconds of the old car after its last reading
    new_started_at: datetime
    exact: bool  # False: nothing told where the swap was (FLAG_SWAP_TIME_UNKNOWN)


def locate_swap(
    session: ActiveSession,
    *,
    now: datetime,
    register: Decimal,
    device_session: Decimal | None,
    counter_s: float | None,
    max_power_w: float,
    resolution_wh: Decimal | None,
    lag_wh: Decimal = Decimal(0),
) -> SwapPoint:
    """Split `session` (the old car's) from the plug cycle found connected now.

    `register` is the billing register now, `device_session` the charger's per-session
    energy counter (it restarted at the new plug-in), `counter_s` its charging-time counter
    of the present plug-in, if any. `lag_wh`: what the new car took between the counter's
    read and the register's (a meter read afresh after the charger), also the new car's.
    """
    last_seen = session.last_reading_at
    last = session.meter_end_wh
    unseen_s = max((now - last_seen).total_seconds(), 0.0)
    start = None
    if device_session is not None and register >= last:
        start = min(max(register - _counted_wh(device_session) - lag_wh, last), register)
        if start - last > max_growth_wh(max_power_w, unseen_s, resolution_wh):
            start = None  # the register moved more than any car could take: no split
    if start is None:
        return SwapPoint(
            register=last,
            old_ended_at=last_seen,
            old_charging_s=0.0,
            new_started_at=max(now, last_seen),
            exact=False,
        )
    # The new car was connected at least as long as its counters say: its energy at the
    # charger's maximum power, its own charging time.
    assert device_session is not None  # a split was found
    ago = _hours(device_session, max_power_w) * 3600
    if counter_s is not None and counter_s <= unseen_s + COUNTER_SLACK_S:
        ago = max(ago, counter_s)
    new_started_at = max(now - timedelta(seconds=ago), last_seen)
    # The old car took the rest, at most at the power it was drawing (of which a coarse
    # register's last value may hide up to a step).
    taken = max(start - last - (resolution_wh or 0), Decimal(0))
    old_s = _hours(taken, _drawing_power_w(session, max_power_w)) * 3600
    old_ended_at = min(last_seen + timedelta(seconds=old_s), new_started_at)
    return SwapPoint(
        register=start,
        old_ended_at=old_ended_at,
        old_charging_s=min(old_s, (old_ended_at - last_seen).total_seconds()),
        new_started_at=new_started_at,
        exact=True,
    )
