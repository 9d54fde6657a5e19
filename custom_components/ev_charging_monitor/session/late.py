"""A session whose readings arrived late, placed at the times the charger measured them.

Home Assistant-free. A charger that was offline (or found Home Assistant down) queues its
transaction messages and sends them on reconnect, each with the time it was measured. The
tracker judges readings by their arrival, so a burst of old registers would look like a
jump in no time: such readings never reach it. When the transaction ends, its own
registers (start, meter values, stop) complete the session instead: the tracker's open
session of that plug cycle if it has one (same id; the late registers fill the gap), else
a new one. Energy is the charger's register at stop minus at start, exact; the samples at
the message times price the hours it really charged. The record is then made by the same
path as every other session.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from .active import ActiveSession, CompletedSession, Segment

# Recorded on every session completed from late messages.
FLAG_LATE: Final = "delivered_late"
# A message time that cannot be right (in the future, before its transaction's start, not a
# time) was replaced by the time the message arrived.
FLAG_CHARGER_CLOCK: Final = "charger_clock_invalid"
# The stop register is below the last one: the energy is counted up to the last one.
FLAG_STOP_BELOW: Final = "meter_register_dropped"
# The transaction's stop never came; it was ended at its last known register and time
# because the charger rebooted and then showed the connector free, or because it began a
# new transaction on the same connector. A session recorded from those registers is also
# `estimated` (the energy after its last meter value is not known).
FLAG_STOP_MISSING_REBOOT: Final = "stop_missing_after_reboot"
FLAG_STOP_MISSING_NEW_TRANSACTION: Final = "stop_missing_new_transaction"
FLAG_ESTIMATED: Final = "estimated"
# End reason of a session ended without the charger's stop.
END_RECOVERED: Final = "recovered"
_NAMESPACE: Final = uuid.UUID("6f1c2f4e-4a38-4d0e-9a55-3f1f5b0c7e21")


def late_session_id(key: str) -> str:
    """The session id of a transaction nobody saw live: the same for every retry of it."""
    return str(uuid.uuid5(_NAMESPACE, key))


@dataclass(frozen=True, kw_only=True)
class TimedTransaction:
    """A finished transaction as the charger measured it (registers in Wh)."""

    session_id: str
    started_at: datetime
    meter_start_wh: Decimal
    # Registers of the meter values, at the times the charger stamped them.
    readings: tuple[tuple[datetime, Decimal], ...]
    ended_at: datetime
    meter_stop_wh: Decimal
    flags: tuple[str, ...] = ()
    # "stopped" by the charger's stop; END_RECOVERED when its stop never came.
    end_reason: str = "stopped"
    # Some of its messages came late (FLAG_LATE); False for a live one whose stop was lost.
    delivered_late: bool = True
    # Whether the car still there starts no session (after a stop); not after a lost stop,
    # which a new transaction of the same plug cycle may follow.
    hold_until_unplug: bool = True


def complete_late(
    active: ActiveSession | None,
    transaction: TimedTransaction,
    *,
    resolution_wh: Decimal | None,
) -> CompletedSession:
    """The session of `transaction`: `active` (the tracker's, same plug cycle) completed by
    its registers, or a new one when the tracker saw nothing of it."""
    ended_at = transaction.ended_at
    if active is None:
        start = transaction.meter_start_wh
        session = ActiveSession(
            id=transaction.session_id,
            started_at=transaction.started_at,
            segments=[Segment(start, start)],
            samples=[(transaction.started_at, Decimal(0))],
            last_reading_at=transaction.started_at,
            register_at=transaction.started_at,
            resolution_wh=resolution_wh,
        )
    else:
        session = active
        _reach_back(session, transaction)
    seen_until = session.register_at
    last = session.segments[-1]
    before_last = session.energy_wh - (last.end_wh - last.start_wh)
    points = [*transaction.readings, (ended_at, transaction.meter_stop_wh)]
    added: list[tuple[datetime, Decimal]] = []
    for at, register in points:
        if register < last.start_wh or not session.started_at <= at <= ended_at:
            continue  # another track than the last stretch's, or outside the transaction
        added.append((at, before_last + register - last.start_wh))
    last.end_wh = max([last.end_wh, *(last.start_wh + energy - before_last for _, energy in added)])
    if transaction.meter_stop_wh >= last.end_wh:
        last.end_wh = transaction.meter_stop_wh
    else:
        session.flag(FLAG_STOP_BELOW)
    samples = _in_order([*session.samples, *added], until=ended_at, total=session.energy_wh)
    _count_charging(session, samples, since=seen_until)
    session.samples = samples
    span = (ended_at - session.started_at).total_seconds()
    session.duration_s = max(session.duration_s, span)
    # The tracker may have counted charging after the end (a lost stop ends the session at
    # its last meter value, before the car was last seen charging): none of it is after.
    session.charging_seconds = min(session.charging_seconds, span)
    session.last_reading_at = session.register_at = ended_at
    if transaction.delivered_late:
        session.flag(FLAG_LATE)
    for flag in transaction.flags:
        session.flag(flag)
    return CompletedSession(session=session, ended_at=ended_at, end_reason=transaction.end_reason)


def _reach_back(session: ActiveSession, transaction: TimedTransaction) -> None:
    """The transaction began before the tracker saw its plug cycle: start there."""
    if transaction.started_at >= session.started_at:
        return
    earlier = session.meter_start_wh - transaction.meter_start_wh
    if earlier < 0:
        return  # the register the charger started at is not on this session's track
    session.segments[0].start_wh = transaction.meter_start_wh
    session.samples = [
        (transaction.started_at, Decimal(0)),
        *((at, energy + earlier) for at, energy in session.samples),
    ]
    session.started_at = transaction.started_at


def _in_order(
    samples: list[tuple[datetime, Decimal]], *, until: datetime, total: Decimal
) -> list[tuple[datetime, Decimal]]:
    """By time, energy never falling, nothing after the end, the end's energy last."""
    ordered: list[tuple[datetime, Decimal]] = []
    for at, energy in sorted(samples, key=lambda sample: sample[0]):
        if at > until or energy > total:
            continue  # read after the car stopped (arrival times), or a register held back
        if ordered and energy < ordered[-1][1]:
            continue
        if ordered and at == ordered[-1][0]:
            ordered[-1] = (at, energy)
        else:
            ordered.append((at, energy))
    if ordered[-1][0] == until:
        ordered[-1] = (until, total)
    else:
        ordered.append((until, total))
    return ordered


def _count_charging(
    session: ActiveSession, samples: list[tuple[datetime, Decimal]], *, since: datetime
) -> None:
    """Charging time and peak power of the stretch the tracker did not see: the intervals
    in which the register grew, at their average power."""
    for (t0, e0), (t1, e1) in itertools.pairwise(samples):
        seconds = (t1 - t0).total_seconds()
        if t1 <= since or seconds <= 0 or e1 <= e0:
            continue
        session.charging_seconds += seconds
        session.max_power_w = max(session.max_power_w, float((e1 - e0) * 3600) / seconds)
