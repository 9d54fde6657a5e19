"""Follow one charger's sessions from plug-in to unplug, from its meter register.

Home Assistant-free: the integration feeds readings in and stores the checkpoints this
module produces. Energy of a session is register at end minus register at start; a
register that drops, rolls over or jumps further than the charger's maximum power allows is
never taken: the session is flagged and continues from the next plausible reading.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..devices import ChargerState

# A reading whose register grew by more than this factor of what maximum power could
# deliver in the elapsed time is implausible (small slack for poll timing jitter).
# The slack also covers registers that count in coarse steps (0.1 kWh on some chargers).
JUMP_FACTOR = Decimal("1.5")
JUMP_SLACK_WH = Decimal(250)
# Consecutive consistent readings below the last plausible one that mean the meter was
# really reset or replaced, so counting continues from the new register.
RESET_CONFIRMATIONS = 3
# At most one stored sample per this many seconds; boundaries between them are
# interpolated (and marked so) when the cost is computed.
SAMPLE_SPACING_S = 60


@dataclass
class Segment:
    """A stretch of plausible register readings: energy = end - start."""

    start_wh: Decimal
    end_wh: Decimal


@dataclass
class ActiveSession:
    """A session in progress, in a form that can be checkpointed and restored."""

    id: str
    started_at: datetime
    segments: list[Segment]
    samples: list[tuple[datetime, Decimal]]  # (time, session energy so far in Wh)
    last_reading_at: datetime
    register_at: datetime  # when the last plausible register was read
    max_power_w: float = 0.0
    charging_seconds: float = 0.0
    flags: list[str] = field(default_factory=list)
    suspect: list[Decimal] = field(default_factory=list)
    rfid: str | None = None
    # A second meter read alongside the billing meter (the charger's own when billing from
    # an external one): its first and last register, for reconciliation.
    reference: tuple[Decimal, Decimal] | None = None

    def note_reference(self, register: Decimal | None) -> None:
        """Take the second meter's register (ignored when missing or going backwards)."""
        if register is None:
            return
        if self.reference is None:
            self.reference = (register, register)
        elif register >= self.reference[1]:
            self.reference = (self.reference[0], register)

    @property
    def meter_start_wh(self) -> Decimal:
        """Register when the session started."""
        return self.segments[0].start_wh

    @property
    def meter_end_wh(self) -> Decimal:
        """Last plausible register."""
        return self.segments[-1].end_wh

    @property
    def energy_wh(self) -> Decimal:
        """Energy delivered so far: the sum of the plausible stretches."""
        return sum((s.end_wh - s.start_wh for s in self.segments), Decimal(0))

    def flag(self, name: str) -> None:
        """Remember that something needs a reader's attention (once)."""
        if name not in self.flags:
            self.flags.append(name)

    def readings(self) -> list[tuple[datetime, Decimal]]:
        """Stored samples plus the latest plausible reading: what the cost is computed from."""
        latest = (self.register_at, self.energy_wh)
        return self.samples if self.samples[-1] == latest else [*self.samples, latest]

    def to_dict(self) -> dict[str, Any]:
        """Checkpoint form (JSON-compatible)."""
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "segments": [[str(s.start_wh), str(s.end_wh)] for s in self.segments],
            "samples": [[t.isoformat(), str(e)] for t, e in self.samples],
            "last_reading_at": self.last_reading_at.isoformat(),
            "register_at": self.register_at.isoformat(),
            "max_power_w": self.max_power_w,
            "charging_seconds": self.charging_seconds,
            "flags": list(self.flags),
            "suspect": [str(v) for v in self.suspect],
            "rfid": self.rfid,
            "reference": None if self.reference is None else [str(v) for v in self.reference],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActiveSession:
        """Restore a checkpoint."""
        return cls(
            id=data["id"],
            started_at=datetime.fromisoformat(data["started_at"]),
            segments=[Segment(Decimal(a), Decimal(b)) for a, b in data["segments"]],
            samples=[(datetime.fromisoformat(t), Decimal(e)) for t, e in data["samples"]],
            last_reading_at=datetime.fromisoformat(data["last_reading_at"]),
            register_at=datetime.fromisoformat(data["register_at"]),
            max_power_w=data["max_power_w"],
            charging_seconds=data["charging_seconds"],
            flags=list(data["flags"]),
            suspect=[Decimal(v) for v in data["suspect"]],
            rfid=data.get("rfid"),
            reference=(
                None
                if data.get("reference") is None
                else (Decimal(data["reference"][0]), Decimal(data["reference"][1]))
            ),
        )


@dataclass(frozen=True)
class CompletedSession:
    """A finished session, before it becomes a ledger record."""

    session: ActiveSession
    ended_at: datetime
    end_reason: str


class SessionTracker:
    """Turns a charger's readings into sessions."""

    def __init__(self, *, max_power_w: float) -> None:
        """`max_power_w` bounds how fast the register may plausibly grow."""
        self.max_power_w = max_power_w
        self.active: ActiveSession | None = None
        self._restored = False

    def restore(self, session: ActiveSession, *, clean: bool) -> None:
        """Resume a checkpointed session after a restart (same id)."""
        if not clean:
            session.flag("recovered_after_restart")
        self.active = session
        self._restored = True

    def update(
        self,
        *,
        now: datetime,
        state: ChargerState | None,
        energy_wh: float | Decimal | None,
        power_w: float | None,
        rfid: str | None = None,
    ) -> tuple[ActiveSession | None, CompletedSession | None]:
        """Take one poll; return (a session that just started, a session that just ended)."""
        if now.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        register = None if energy_wh is None else Decimal(str(energy_wh))
        started: ActiveSession | None = None
        ended: CompletedSession | None = None
        session = self.active
        if session is not None and self._restored:
            self._restored = False
            if state is not None and not state.vehicle_connected:
                # The car left while Home Assistant was down: close at the last reading we
                # saw, with the register as it is now (no energy flows without a car).
                last_seen = session.last_reading_at
                self._take(session, now, register, power_w, charging=False)
                session.flag("recovered_after_restart")
                return None, self.close(last_seen, "recovered")
            # Downtime is not counted as charging time.
            session.last_reading_at = now
        if session is not None and state is ChargerState.A:
            self._take(session, now, register, power_w, charging=False)
            ended = self.close(now, "unplugged")
        elif session is None and state is not None and state.vehicle_connected:
            if register is None:
                return None, None  # no register, no exact session: wait for one
            session = started = self.active = ActiveSession(
                id=str(uuid.uuid4()),
                started_at=now,
                segments=[Segment(register, register)],
                samples=[(now, Decimal(0))],
                last_reading_at=now,
                register_at=now,
            )
        elif session is not None:
            self._take(session, now, register, power_w, charging=bool(state and state.charging))
        if session is not None and rfid and session.rfid is None:
            session.rfid = rfid
        return started, ended

    def _take(
        self,
        session: ActiveSession,
        now: datetime,
        register: Decimal | None,
        power_w: float | None,
        *,
        charging: bool,
    ) -> None:
        elapsed = (now - session.last_reading_at).total_seconds()
        if elapsed < 0:
            # The wall clock jumped back: keep the readings, count no time.
            session.flag("clock_jump")
            elapsed = 0.0
        if charging:
            session.charging_seconds += elapsed
        if power_w is not None:
            session.max_power_w = max(session.max_power_w, power_w)
        session.last_reading_at = now
        if register is None:
            return
        last = session.meter_end_wh
        since = max((now - session.register_at).total_seconds(), 0.0)
        allowed = Decimal(str(self.max_power_w)) * Decimal(str(since)) / 3600 * JUMP_FACTOR
        if register < last:
            session.suspect.append(register)
            session.flag("meter_register_dropped")
            recent = session.suspect[-RESET_CONFIRMATIONS:]
            consistent = len(recent) == RESET_CONFIRMATIONS and recent == sorted(recent)
            if consistent:
                # The meter really was reset or replaced: count on from its new register.
                session.flag("meter_reset")
                session.segments.append(Segment(recent[-1], recent[-1]))
                session.suspect.clear()
            return
        if register - last > allowed + JUMP_SLACK_WH:
            session.flag("meter_register_jump")
            session.suspect.clear()
            return
        session.suspect.clear()
        session.segments[-1].end_wh = register
        session.register_at = now
        if (now - session.samples[-1][0]).total_seconds() >= SAMPLE_SPACING_S:
            session.samples.append((now, session.energy_wh))

    def close(self, now: datetime, reason: str) -> CompletedSession | None:
        """End the active session (unplug, stop, recovery)."""
        session, self.active = self.active, None
        if session is None:
            return None
        readings = session.readings()
        if readings[-1][0] > now:
            # Recovered after a restart: the register was read after the car had left.
            readings[-1] = (
                max(now, readings[-2][0]) if len(readings) > 1 else now,
                readings[-1][1],
            )
        session.samples = readings
        return CompletedSession(session=session, ended_at=now, end_reason=reason)
