"""Follow one charger's sessions from plug-in to unplug, from its meter register.

Home Assistant-free: the integration feeds readings in and stores the checkpoints this
module produces. Energy of a session is register at end minus register at start, summed
over the stretches (segments) where the register was believed (plausibility.py): a
register that drops, rolls over or jumps starts a new segment once confirmed, and the
step itself is never counted.

Time: durations and charging seconds are summed from the caller's monotonic clock; the
wall clock only places the session in the calendar. When the wall clock moves differently
from the monotonic one (an NTP correction, a clock set by hand), the newer wall clock is
taken as right: the session's earlier times are shifted by the correction and the session
is flagged `clock_corrected`, so `ended_at >= started_at` and the samples stay in order.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from ..devices import ChargerState
from .active import ActiveSession, CompletedSession, Segment, card_digest
from .plausibility import RegisterTrack, Verdict, energy_register, max_growth_wh
from .plug_cycle import FLAG_SWAP_TIME_UNKNOWN, FLAG_UNSEEN, locate_swap, new_plug_cycle, seen_until

__all__ = [
    "FLAG_RECOVERED",
    "FLAG_SWAP_TIME_UNKNOWN",
    "FLAG_UNSEEN",
    "ActiveSession",
    "CompletedSession",
    "Segment",
    "SessionTracker",
    "card_digest",
]

# At most one stored sample per this many seconds; boundaries between them are
# interpolated (and marked so) when the cost is computed.
SAMPLE_SPACING_S = 60
# The wall clock may drift this far from the monotonic one between two polls before it
# counts as corrected (poll timing and NTP slewing stay well below).
CLOCK_TOLERANCE_S = 5.0
# A reading taken while no energy flowed is the start of the next session only if it is
# this recent: otherwise another car may have charged in between unseen.
IDLE_MAX_AGE_S = 300.0
# Without a reading for this long (the charger offline), a car swap may have gone unseen:
# the plug-cycle evidence is checked as after a restart.
UNSEEN_GAP_S = 60.0
# How long a restored session whose car has left waits for a register to end on.
RESTORED_REGISTER_WAIT_S = 600.0

FLAG_RECOVERED = "recovered_after_restart"
FLAG_CLOCK = "clock_corrected"
FLAG_DROPPED = "meter_register_dropped"
FLAG_RESET = "meter_reset"
FLAG_JUMP = "meter_register_jump"
FLAG_INVALID = "meter_value_invalid"  # NaN, negative, a sentinel: taken as no reading

# Given the time of the previous sample, the next price-interval boundary after it (or
# None): the tracker then stores a sample at the first reading at or after it.
type BoundaryFn = Callable[[datetime], datetime | None]
# A reading this soon after a price boundary is taken as the register at the boundary (the
# poll requested there, plus the time the device takes to answer).
BOUNDARY_TOLERANCE = timedelta(seconds=2)


@dataclass
class _Idle:
    """The last believed register read while no energy flowed and no session ran."""

    at: datetime
    mono: float
    register: Decimal


def _energy_wh(power_w: float | None, seconds: float) -> Decimal:
    """Energy at `power_w` over `seconds` (0 without a believable power)."""
    if power_w is None or not math.isfinite(power_w) or power_w <= 0 or seconds <= 0:
        return Decimal(0)
    return Decimal(str(round(power_w * seconds / 3600, 3)))


class SessionTracker:
    """Turns a charger's readings into sessions, one per plug cycle."""

    def __init__(
        self,
        *,
        max_power_w: float,
        resolution_wh: Decimal | None = None,
        device_resolution_wh: Decimal | None = None,
        boundary_fn: BoundaryFn | None = None,
    ) -> None:
        """`max_power_w` bounds how fast the register may plausibly grow.

        `resolution_wh` is the billing register's step (0.1 kWh registers: 100); it goes
        into each session; `device_resolution_wh` is the step of the charger's own register
        when the billing one is another meter. `boundary_fn` (pricing) names the next
        price-interval boundary.
        """
        self.max_power_w = max_power_w
        self.resolution_wh = resolution_wh
        self.device_resolution_wh = device_resolution_wh
        self.boundary_fn = boundary_fn
        self.active: ActiveSession | None = None
        self._restored = False
        self._idle: _Idle | None = None
        self._counter: float | None = None  # the charger's charging-time counter now
        # Since when a restored session's car is known gone with no register to end on.
        self._gone_since: datetime | None = None
        # Since when an unseen swap waits for a billing register to split at.
        self._waiting_since: datetime | None = None
        # When a poll saw the car gone while the register could not be believed.
        self._gone_at: datetime | None = None
        # The plug cycle's session was completed from elsewhere (late.py): no new session
        # until the car is seen gone.
        self._held = False

    def hold_until_unplug(self) -> None:
        """The plug cycle's session is recorded: the car still there starts none."""
        self._held = True

    def release_hold(self) -> None:
        """A new transaction began with the car still there: it is a session again."""
        self._held = False

    def restore(self, session: ActiveSession, *, clean: bool) -> None:
        """Resume a checkpointed session after a restart (same id)."""
        if not clean:
            session.flag(FLAG_RECOVERED)
        session.mono_at = None
        session.track = None
        self.active = session
        self._restored = True

    def update(
        self,
        *,
        now: datetime,
        mono: float,
        state: ChargerState | None,
        energy_wh: float | Decimal | None,
        power_w: float | None,
        rfid: str | None = None,
        device_session_wh: float | Decimal | None = None,
        device_energy_wh: float | Decimal | None = None,
        device_charging_s: float | None = None,
        billing_paired: bool = True,
        billing_lag_s: float = 0.0,
    ) -> tuple[ActiveSession | None, CompletedSession | None]:
        """Take one poll; return (a session that just started, a session that just ended).

        `now` is the wall clock, `mono` a monotonic clock in seconds. `energy_wh` is the
        billing register; `device_session_wh` and `device_energy_wh` are the charger's own
        per-session counter and total register (for telling plug cycles apart after a
        restart); `device_charging_s` its charging-time counter of the present plug-in.
        `billing_paired`: the billing register was read at the same moment as those
        counters (False: another meter's last poll, which may be seconds older);
        `billing_lag_s`: how much later it was read (a meter read afresh after the charger).
        Both results are set when a restart hid an unplug and a new plug-in.
        """
        if now.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        register = energy_register(energy_wh, resolution_wh=self.resolution_wh)
        self._counter = (
            device_charging_s
            if device_charging_s is not None
            and math.isfinite(device_charging_s)
            and device_charging_s >= 0
            else None
        )
        device_session = energy_register(device_session_wh)
        device_energy = register if device_energy_wh is None else energy_register(device_energy_wh)
        started: ActiveSession | None = None
        ended: CompletedSession | None = None
        session = self.active
        if session is not None and register is None and energy_wh is not None:
            session.flag(FLAG_INVALID)
        restored, self._restored = self._restored, False
        unseen = restored or (
            session is not None
            and session.mono_at is not None
            and mono - session.mono_at > UNSEEN_GAP_S
        )
        if (
            session is not None
            and self._gone_since is not None
            and state is not None
            and state.vehicle_connected
        ):
            # The car was seen gone (while Home Assistant was down, or by a poll without a
            # believable register), and another plug-in came before any register: that one
            # ends here, with the register read before energy flows again, else at its
            # last one (flagged).
            gone_at = self._gone_at
            self._gone_since, self._restored = None, False
            end = None if state.charging else register
            if end is None:
                session.flag(FLAG_INVALID)
            until = gone_at or self._seen_until(session, now, end)
            self._take(session, now, mono, end, power_w, state)
            if gone_at is None:
                session.flag(FLAG_RECOVERED)
            ended = self.close(until, "recovered" if gone_at is None else "unplugged")
            session = None
            restored = False
        if session is not None and restored and state is not None and not state.vehicle_connected:
            # The car left while Home Assistant was down: close at the last reading seen,
            # with the register as it is now (no energy flows without a car). The
            # checkpoint may be older than the last energy, so wait for a register (a
            # meter's entity may not be back yet) rather than close on the checkpoint's.
            if register is None:
                waiting = self._gone_since or now
                if (now - waiting).total_seconds() < RESTORED_REGISTER_WAIT_S:
                    self._gone_since, self._restored = waiting, True
                    return None, None
                session.flag(FLAG_INVALID)
            self._gone_since = None
            until = self._seen_until(session, now, register)
            self._take(session, now, mono, register, power_w, state)
            session.flag(FLAG_RECOVERED)
            ended = self.close(until, "recovered")
            self._note_idle(now, mono, register, state)
            return None, ended
        if (
            session is not None
            and unseen
            and state is not None
            and state.vehicle_connected
            and new_plug_cycle(
                session,
                rfid=rfid,
                device_session=device_session,
                device_energy=device_energy,
                seconds=self._unseen_s(session, now, mono),
                max_power_w=self.max_power_w,
                device_resolution_wh=self.device_resolution_wh,
                register=register if billing_paired and device_energy is not register else None,
                resolution_wh=self.resolution_wh,
            )
        ):
            if register is None and self._wait_for_register(now, restored=restored):
                return None, None
            self._waiting_since = None
            return self._swap(
                session,
                now,
                mono,
                register,
                power_w,
                state,
                rfid,
                device_session,
                device_energy,
                paired=billing_paired,
                lag_s=billing_lag_s,
            )
        if (
            session is not None
            and restored
            and register is None
            and state is not None
            and state.vehicle_connected
            and self._wait_for_register(now, restored=True)
        ):
            # Whether the car is still the same one may need the billing register (a
            # meter's entity may not be back yet): nothing is decided without it.
            return None, None
        self._waiting_since = None
        if session is not None and state is ChargerState.A:
            if register is None and self._wait_after_unplug(now):
                # No energy flows without a car: the first believable register read from
                # now on is the one it left at (an energy sensor may show NaN a while).
                return None, None
            # After a gap (the charger offline) the car left some time in it.
            until = self._gone_at or (self._seen_until(session, now, register) if unseen else now)
            self._take(session, now, mono, register, power_w, state)
            ended = self.close(until, "unplugged")
            session = None
        elif session is None and state is not None and state.vehicle_connected:
            if self._held:
                return None, ended
            if register is None:
                return None, ended  # no believable register, no exact session: wait for one
            session = started = self._begin(now, mono, register, state)
            self._take(session, now, mono, register, power_w, state)
        elif session is not None:
            self._take(session, now, mono, register, power_w, state)
        if session is None:
            self._note_idle(now, mono, register, state)
            if state is not None and not state.vehicle_connected:
                self._held = False
        else:
            self._after(session, rfid, device_session, device_energy, paired=billing_paired)
        return started, ended

    def needs_fresh_register(self, mono: float) -> bool:
        """Whether the next reading decides an unseen stretch (after a restart or a gap),
        where a billing register read at another moment than the charger would misplace
        the split between two cars."""
        session = self.active
        if session is None:
            return False
        return self._restored or session.mono_at is None or mono - session.mono_at > UNSEEN_GAP_S

    # -- plug cycles ------------------------------------------------------------------------

    def _wait_after_unplug(self, now: datetime) -> bool:
        """Whether to wait for a register to end a session whose car a poll saw leave."""
        gone_at = self._gone_at or now
        if (now - gone_at).total_seconds() >= RESTORED_REGISTER_WAIT_S:
            return False
        self._gone_at = self._gone_since = gone_at
        return True

    def _wait_for_register(self, now: datetime, *, restored: bool) -> bool:
        """Whether to wait for a register before splitting an unseen swap (a meter's entity
        may not be back yet); at most RESTORED_REGISTER_WAIT_S."""
        waiting = self._waiting_since or now
        if (now - waiting).total_seconds() >= RESTORED_REGISTER_WAIT_S:
            return False
        # Keep the session as it was, so the next poll sees the swap again.
        self._waiting_since, self._restored = waiting, restored
        return True

    def _seen_until(self, session: ActiveSession, now: datetime, end: Decimal | None) -> datetime:
        """When a car that left unseen was last known there: from its counters, not only
        its last checkpoint (which may be a minute older than the last poll that saw it)."""
        return seen_until(
            session,
            now=now,
            register=end,
            counter_s=self._counter,
            max_power_w=self.max_power_w,
            resolution_wh=session.resolution_wh,
        )

    def _swap(
        self,
        session: ActiveSession,
        now: datetime,
        mono: float,
        register: Decimal | None,
        power_w: float | None,
        state: ChargerState,
        rfid: str | None,
        device_session: Decimal | None,
        device_energy: Decimal | None,
        *,
        paired: bool,
        lag_s: float = 0.0,
    ) -> tuple[ActiveSession | None, CompletedSession | None]:
        """Another plug-in happened unseen (Home Assistant down, or the charger offline).

        Where the charger's per-session counter tells it, the old session takes the energy
        up to the new car's plug-in and the new one counts from there (plug_cycle.py);
        otherwise the two are split where the outage began, flagged as an estimate.
        """
        restored = session.mono_at is None
        if restored:
            session.flag(FLAG_RECOVERED)
        session.flag(FLAG_UNSEEN)
        if register is None:
            # Nothing to bill the rest of either car from.
            session.flag(FLAG_SWAP_TIME_UNKNOWN)
            return None, self.close(session.last_reading_at, "recovered")
        last_seen = session.last_reading_at
        point = locate_swap(
            session,
            now=now,
            register=register,
            device_session=device_session,
            counter_s=self._counter,
            max_power_w=self.max_power_w,
            resolution_wh=self.resolution_wh,
            # What the new car took between the counters' read and the register's.
            lag_wh=_energy_wh(power_w, lag_s),
        )
        if point.register > session.meter_end_wh:
            session.segments[-1].end_wh = point.register
            session.charging_seconds += point.old_charging_s
        session.duration_s += max((point.old_ended_at - session.last_reading_at).total_seconds(), 0)
        session.last_reading_at = session.register_at = point.old_ended_at
        if not point.exact:
            session.flag(FLAG_SWAP_TIME_UNKNOWN)
        ended = self.close(point.old_ended_at, "recovered")
        unseen_s = max((now - point.new_started_at).total_seconds(), 0.0)
        started = self._start(point.new_started_at, mono, point.register)
        started.flag(FLAG_UNSEEN)
        if not point.exact:
            started.flag(FLAG_SWAP_TIME_UNKNOWN)
        if self._counter is not None and self._counter <= unseen_s + CLOCK_TOLERANCE_S:
            # The counter restarted at the unseen plug-in: it is this session's own.
            started.charging_seconds = self._counter
        if restored:
            started.flag(FLAG_RECOVERED)
        # Only the wall clock spans the time unseen (see _advance_clock). The register
        # may have grown since the split's reading was taken (the old car's last, for an
        # estimate), not only since the new session's start.
        started.mono_at = None
        grown_since = point.new_started_at if point.exact else last_seen
        started.track = RegisterTrack(
            max_power_w=self.max_power_w,
            resolution_wh=self.resolution_wh,
            last=point.register,
            last_at=mono - max((now - grown_since).total_seconds(), 0.0),
        )
        self._take(started, now, mono, register, power_w, state)
        self._after(started, rfid, device_session, device_energy, paired=paired)
        return started, ended

    @staticmethod
    def _unseen_s(session: ActiveSession, now: datetime, mono: float) -> float:
        if session.mono_at is None:  # restored: only the wall clock spans the downtime
            return max((now - session.last_reading_at).total_seconds(), 0.0)
        return max(mono - session.mono_at, 0.0)

    def _after(
        self,
        session: ActiveSession,
        rfid: str | None,
        device_session: Decimal | None,
        device_energy: Decimal | None,
        *,
        paired: bool,
    ) -> None:
        if rfid and session.rfid is None:
            session.rfid = card_digest(rfid)
        if device_session is not None and device_energy is not None:
            session.device_session = (device_session, device_energy)
        session.billing_paired = paired and session.register_at == session.last_reading_at

    # -- starting ---------------------------------------------------------------------------

    def _note_idle(
        self, now: datetime, mono: float, register: Decimal | None, state: ChargerState | None
    ) -> None:
        """Remember a register read with no session and no energy flowing."""
        if state is not None and state.charging:
            self._idle = None
        elif register is not None:
            self._idle = _Idle(now, mono, register)

    def _begin(
        self, now: datetime, mono: float, register: Decimal, state: ChargerState
    ) -> ActiveSession:
        """A plug-in: the session starts at the last register read before energy flowed.

        Energy may flow before the first poll sees the car; when the register has already
        moved (with a 0.1 kWh register: a step was crossed), that energy belongs to this
        session, and the last reading without a car is its start. Each session then starts
        where the previous one ended, so consecutive sessions add up to the register's
        change across them. When the register has not moved, the start is the same value
        and the session starts now.
        """
        idle, self._idle = self._idle, None
        if (
            idle is not None
            and register > idle.register
            and 0 <= mono - idle.mono <= IDLE_MAX_AGE_S
            and idle.register
            <= register
            <= idle.register + max_growth_wh(self.max_power_w, mono - idle.mono, self.resolution_wh)
        ):
            return self._start(idle.at, idle.mono, idle.register)
        return self._start(now, mono, register)

    def _start(self, at: datetime, mono: float, register: Decimal) -> ActiveSession:
        session = self.active = ActiveSession(
            id=str(uuid.uuid4()),
            started_at=at,
            segments=[Segment(register, register)],
            samples=[(at, Decimal(0))],
            last_reading_at=at,
            register_at=at,
            resolution_wh=self.resolution_wh,
            mono_at=mono,
        )
        session.track = RegisterTrack(
            max_power_w=self.max_power_w,
            resolution_wh=self.resolution_wh,
            last=register,
            last_at=mono,
        )
        return session

    # -- each reading -----------------------------------------------------------------------

    def _advance_clock(self, session: ActiveSession, now: datetime, mono: float) -> float:
        """Seconds since the session's last reading, by the monotonic clock."""
        wall = (now - session.last_reading_at).total_seconds()
        if session.mono_at is None:
            # First reading after a restart: only the wall clock spans the downtime.
            if wall < 0:
                session.shift(timedelta(seconds=wall))
                session.flag(FLAG_CLOCK)
                wall = 0.0
            session.mono_at = mono - wall
            if session.track is None:
                session.track = RegisterTrack(
                    max_power_w=self.max_power_w,
                    resolution_wh=session.resolution_wh,
                    last=session.meter_end_wh,
                    last_at=session.mono_at,
                )
            session.duration_s += wall
            session.last_reading_at = now
            session.mono_at = mono
            return 0.0  # downtime is not known to be charging time
        elapsed = max(mono - session.mono_at, 0.0)
        if abs(wall - elapsed) > CLOCK_TOLERANCE_S:
            session.shift(timedelta(seconds=wall - elapsed))
            session.flag(FLAG_CLOCK)
        session.duration_s += elapsed
        session.last_reading_at = now
        session.mono_at = mono
        return elapsed

    def _take(
        self,
        session: ActiveSession,
        now: datetime,
        mono: float,
        register: Decimal | None,
        power_w: float | None,
        state: ChargerState | None,
    ) -> None:
        span = self._unseen_s(session, now, mono)
        elapsed = self._advance_clock(session, now, mono)
        counter, last = self._counter, session.device_charging_s
        if counter is not None and last is not None and 0 <= counter - last <= span + 1:
            # The charger's own counter knows also what Home Assistant did not see.
            session.charging_seconds += counter - last
        elif state is not None and state.charging:
            session.charging_seconds += elapsed
        session.device_charging_s = counter
        if power_w is not None and power_w > 0:
            session.max_power_w = max(session.max_power_w, power_w)
        if register is None:
            return
        track = session.track
        assert track is not None  # set by _start or _advance_clock
        judgement = track.judge(register, mono, power_w)
        match judgement.verdict:
            case Verdict.DROPPED:
                session.flag(FLAG_DROPPED)
                return
            case Verdict.JUMPED:
                session.flag(FLAG_JUMP)
                return
            case Verdict.RESET | Verdict.JUMP:
                # The register really moved to a new track: count on from its first
                # reading there; the step itself belongs to no session.
                session.flag(FLAG_RESET if judgement.verdict is Verdict.RESET else FLAG_JUMP)
                assert judgement.base is not None
                session.segments.append(Segment(judgement.base, register))
            case _:
                # A float register's wobble below keeps the higher value.
                session.segments[-1].end_wh = max(register, session.segments[-1].end_wh)
        session.register_at = now
        self._sample(session, now)

    def _sample(self, session: ActiveSession, now: datetime) -> None:
        previous = session.samples[-1][0]
        boundary = None if self.boundary_fn is None else self.boundary_fn(previous)
        due = (now - previous).total_seconds() >= SAMPLE_SPACING_S
        if boundary is not None and previous < boundary <= now:
            # The poll pricing asked for at the boundary stands for the register there, so
            # the price lines on both sides are measured, not interpolated.
            at = boundary if now - boundary <= BOUNDARY_TOLERANCE else now
            session.samples.append((at, session.energy_wh))
        elif due:
            session.samples.append((now, session.energy_wh))

    def close(self, now: datetime, reason: str) -> CompletedSession | None:
        """End the active session (unplug, stop, recovery)."""
        session, self.active = self.active, None
        self._restored = False
        self._waiting_since = self._gone_at = self._gone_since = None
        if session is None:
            return None
        ended_at = max(now, session.started_at)
        readings = session.readings()
        if readings[-1][0] > ended_at:
            # Recovered after a restart: the register was read after the car had left.
            readings[-1] = (
                max(ended_at, readings[-2][0]) if len(readings) > 1 else ended_at,
                readings[-1][1],
            )
        session.samples = readings
        return CompletedSession(session=session, ended_at=ended_at, end_reason=reason)
