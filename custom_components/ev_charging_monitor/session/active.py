"""A session in progress and a finished one: what the tracker checkpoints and records.

Home Assistant-free. An `ActiveSession` survives a restart through `to_dict`/`from_dict`;
its energy is the sum of its segments (stretches of believed register readings).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .plausibility import RegisterTrack


def card_digest(rfid: str) -> str:
    """What a checkpoint keeps of a card: enough to tell cards apart, not the UID."""
    return hashlib.sha256(rfid.encode()).hexdigest()[:16]


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
    duration_s: float = 0.0
    flags: list[str] = field(default_factory=list)
    rfid: str | None = None  # card_digest() of the first card seen
    # A second meter read alongside the billing meter (the charger's own when billing from
    # an external one): its first and last register, for reconciliation.
    reference: tuple[Decimal, Decimal] | None = None
    # The charger's per-session energy counter and its own total register, read together
    # at the last poll: after a restart they tell whether the car is still the same one.
    device_session: tuple[Decimal, Decimal] | None = None
    # The charger's own charging-time counter at the last poll, in seconds: it spans the
    # time Home Assistant did not see (a restart, the charger offline).
    device_charging_s: float | None = None
    # Whether the billing register of the last reading is of the same moment as the
    # charger's counters (the charger's own register, a meter read afresh, or a meter read
    # while no energy flowed): only then do the two tell a plug-in apart after a restart.
    billing_paired: bool = False
    # Wh per count of the billing register (None: unknown or fine-grained).
    resolution_wh: Decimal | None = None
    # Monotonic seconds of the last reading; None after a restore (monotonic clocks
    # restart with the machine, so a checkpoint keeps only wall times and sums).
    mono_at: float | None = field(default=None, compare=False)
    track: RegisterTrack | None = field(default=None, compare=False)

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
        if self.samples[-1] == latest:
            return self.samples
        if len(self.samples) > 1 and self.samples[-1][0] == latest[0]:
            # Two readings in the same instant (state changes of an entity charger): the
            # later one stands for that moment.
            return [*self.samples[:-1], latest]
        return [*self.samples, latest]

    def shift(self, delta: timedelta) -> None:
        """Move every wall time of the session (the wall clock was corrected by `delta`)."""
        self.started_at += delta
        self.last_reading_at += delta
        self.register_at += delta
        self.samples = [(t + delta, e) for t, e in self.samples]

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
            "duration_s": self.duration_s,
            "flags": list(self.flags),
            "rfid": self.rfid,
            "reference": None if self.reference is None else [str(v) for v in self.reference],
            "device_session": (
                None if self.device_session is None else [str(v) for v in self.device_session]
            ),
            "resolution_wh": None if self.resolution_wh is None else str(self.resolution_wh),
            "device_charging_s": self.device_charging_s,
            "billing_paired": self.billing_paired,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActiveSession:
        """Restore a checkpoint (also one written before durations were kept)."""
        started_at = datetime.fromisoformat(data["started_at"])
        last_reading_at = datetime.fromisoformat(data["last_reading_at"])
        device_session = data.get("device_session")
        resolution = data.get("resolution_wh")
        return cls(
            id=data["id"],
            started_at=started_at,
            segments=[Segment(Decimal(a), Decimal(b)) for a, b in data["segments"]],
            samples=[(datetime.fromisoformat(t), Decimal(e)) for t, e in data["samples"]],
            last_reading_at=last_reading_at,
            register_at=datetime.fromisoformat(data["register_at"]),
            max_power_w=data["max_power_w"],
            charging_seconds=data["charging_seconds"],
            duration_s=data.get(
                "duration_s", max((last_reading_at - started_at).total_seconds(), 0.0)
            ),
            flags=list(data["flags"]),
            rfid=data.get("rfid"),
            reference=(
                None
                if data.get("reference") is None
                else (Decimal(data["reference"][0]), Decimal(data["reference"][1]))
            ),
            device_session=(
                None
                if device_session is None
                else (Decimal(device_session[0]), Decimal(device_session[1]))
            ),
            resolution_wh=None if resolution is None else Decimal(resolution),
            device_charging_s=data.get("device_charging_s"),
            billing_paired=bool(data.get("billing_paired", False)),
        )


@dataclass(frozen=True)
class CompletedSession:
    """A finished session, before it becomes a ledger record."""

    session: ActiveSession
    ended_at: datetime
    end_reason: str
