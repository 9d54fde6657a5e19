"""Which readings can be believed: one set of rules for sessions, entities and repairs.

A value that is missing, not a number, negative, a "not available" sentinel that slipped
through a driver, or beyond what the device can physically do is not a reading at all: it
becomes None before anything counts it. A register that is a number but off its track
(it drops, or grows faster than maximum power allows) is held back; only when several
consecutive readings agree on the new track is it believed, and then from the first of
them, so a meter reset loses nothing and a jump is never counted as energy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from ..devices import Reading

# Raw register values that devices use for "not available". A driver maps the ones its
# profile declares to None; these catch the rest after any scale was applied.
SENTINELS: frozenset[int] = frozenset(
    {
        0x7FFF,
        0x8000,
        0xFFFF,
        0x7FFFFFFF,
        0x80000000,
        0xFFFFFFFF,
        0x7FFFFFFFFFFFFFFF,
        0x8000000000000000,
        0xFFFFFFFFFFFFFFFF,
    }
)
# Register scales seen in device profiles (Wh per count), tried when the resolution is
# not known.
SCALES: tuple[Decimal, ...] = tuple(Decimal(10) ** exponent for exponent in range(-3, 4))
# No meter a charger or a household has counts this far (100 GWh).
MAX_REGISTER_WH = Decimal(10) ** 11
# Power may exceed the nominal maximum a little (voltage above 230 V, measurement).
POWER_FACTOR = 1.5
# Household phase voltages; a sentinel (6 553.5 V, 65 535 V) is far above.
MAX_VOLTAGE_V = 1_000.0
NOMINAL_VOLTAGE_V = 230.0
# Growth beyond maximum power x elapsed x this factor is a jump.
JUMP_FACTOR = Decimal("1.5")
# A float register may wobble by this much without going backwards.
WOBBLE_WH = Decimal(1)
# Seconds of maximum power a register may run ahead of the poll's clock: a poll's
# timestamp is not the moment the device latched the register, and the device's and Home
# Assistant's clocks are not one clock.
TIMING_SLACK_S = 30
# Consecutive readings on a new track that make it the register's track (reset or jump).
CONFIRMATIONS = 3
# Below this power no energy is flowing, so a register standing still is counting.
IDLE_POWER_W = 50.0


def _decimal(value: float | Decimal | None) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if not math.isfinite(value):
        return None
    return Decimal(str(value))


def is_sentinel(value: Decimal, resolution_wh: Decimal | None = None) -> bool:
    """Whether `value` is a raw "not available" code times a register scale."""
    scales = SCALES if resolution_wh is None else (resolution_wh,)
    for scale in scales:
        if scale <= 0:
            continue
        raw = abs(value) / scale
        if raw == raw.to_integral_value() and int(raw) in SENTINELS:
            return True
    return False


def energy_register(
    value: float | Decimal | None, *, resolution_wh: Decimal | None = None
) -> Decimal | None:
    """An energy register in Wh, or None when the value cannot be a register."""
    number = _decimal(value)
    if number is None or number < 0 or number >= MAX_REGISTER_WH:
        return None
    if number > 0 and is_sentinel(number, resolution_wh):
        return None
    return number


def power_w(value: float | None, *, max_power_w: float) -> float | None:
    """A power in W, or None when it is no number, a sentinel or beyond the device."""
    number = _decimal(value)
    if number is None or value is None:
        return None
    if abs(value) > max_power_w * POWER_FACTOR:
        return None
    if number != 0 and is_sentinel(number):
        return None
    return value


def bounded(value: float | None, *, limit: float) -> float | None:
    """A current or voltage: None when it is no number or its size is beyond `limit`."""
    if value is None or not math.isfinite(value) or abs(value) > limit:
        return None
    return value


def slack_wh(resolution_wh: Decimal | None) -> Decimal:
    """How far a register may read off the energy that flowed: one step, plus wobble."""
    return (resolution_wh or Decimal(0)) + WOBBLE_WH


def max_growth_wh(
    max_power_w: float, seconds: float, resolution_wh: Decimal | None = None
) -> Decimal:
    """The most a register can plausibly grow in `seconds` (monotonic)."""
    seconds = max(seconds, 0.0) * float(JUMP_FACTOR) + TIMING_SLACK_S
    return Decimal(str(max_power_w)) * Decimal(str(seconds)) / 3600 + slack_wh(resolution_wh)


class Verdict(StrEnum):
    """What a register reading means for the track it is compared with."""

    FIRST = "first"  # nothing to compare with: the track starts here
    ACCEPTED = "accepted"  # on the track
    DROPPED = "dropped"  # below the track: held back
    JUMPED = "jumped"  # above what could have flowed: held back
    RESET = "reset"  # confirmed: the register restarted lower (new track from `base`)
    JUMP = "jump"  # confirmed: the register moved up at once (new track from `base`)


@dataclass(frozen=True)
class Judgement:
    """The verdict on one reading; for RESET and JUMP the first reading of the new track."""

    verdict: Verdict
    base: Decimal | None = None

    @property
    def believed(self) -> bool:
        """Whether the reading is now the register's value."""
        return self.verdict in (Verdict.FIRST, Verdict.ACCEPTED, Verdict.RESET, Verdict.JUMP)


@dataclass
class RegisterTrack:
    """Follows one register and judges each reading against it.

    Times are monotonic seconds. `pending` holds off-track readings; a reading that
    continues them counts towards a new track even where it would also fit the old one,
    since the old one can only be reached from them by a jump.
    """

    max_power_w: float
    resolution_wh: Decimal | None = None
    last: Decimal | None = None
    last_at: float | None = None
    pending: list[tuple[float, Decimal]] = field(default_factory=list)

    def _fits(self, value: Decimal, base: Decimal, base_at: float, at: float) -> bool:
        growth = max_growth_wh(self.max_power_w, at - base_at, self.resolution_wh)
        return base - WOBBLE_WH <= value <= base + growth

    def _counts_on(self, value: Decimal, power_w: float | None) -> bool:
        """Whether `value` continues the pending track the way a counting register would.

        A garbage value read again and again is the same number each time; a register that
        really restarted or moved counts up from there while energy flows, and stands
        still only when none does (power known and about zero).
        """
        previous = self.pending[-1][1]
        if value > previous:
            return True
        return power_w is not None and abs(power_w) < IDLE_POWER_W and value >= previous

    def judge(self, value: Decimal, at: float, power_w: float | None = None) -> Judgement:
        """Judge `value` read at monotonic time `at` (with the power then, if known)."""
        if self.last is None or self.last_at is None:
            self.last, self.last_at = value, at
            return Judgement(Verdict.FIRST)
        if self.pending and self._fits(value, self.pending[-1][1], self.pending[-1][0], at):
            if not self._counts_on(value, power_w):
                # Not yet evidence of a counting register: held back, the pending track
                # kept, and a return to the old track below still resumes it.
                if self._fits(value, self.last, self.last_at, at):
                    self.pending.clear()
                    return self._accept(value, at)
                return Judgement(Verdict.DROPPED if value < self.last else Verdict.JUMPED)
            self.pending.append((at, value))
            if len(self.pending) >= CONFIRMATIONS:
                base = self.pending[0][1]
                verdict = Verdict.RESET if base < self.last else Verdict.JUMP
                self.pending.clear()
                self.last, self.last_at = value, at
                return Judgement(verdict, base)
            return Judgement(Verdict.DROPPED if value < self.last else Verdict.JUMPED)
        if self._fits(value, self.last, self.last_at, at):
            self.pending.clear()
            return self._accept(value, at)
        self.pending = [(at, value)]
        return Judgement(Verdict.DROPPED if value < self.last else Verdict.JUMPED)

    def _accept(self, value: Decimal, at: float) -> Judgement:
        if self.last is None or value >= self.last:
            self.last = value
        # A wobble below keeps the higher value; the time moves either way.
        self.last_at = at
        return Judgement(Verdict.ACCEPTED)


class RegisterGate:
    """Shows a register only where it is believed (for a total_increasing entity).

    Held-back readings are shown as None (unknown), never as a spike.
    """

    def __init__(self, *, max_power_w: float, resolution_wh: Decimal | None = None) -> None:
        """`max_power_w` bounds how fast the register may grow."""
        self.track = RegisterTrack(max_power_w=max_power_w, resolution_wh=resolution_wh)
        self.rejected = 0

    def filter(self, value: float | None, at: float, power_w: float | None = None) -> float | None:
        """The reading if it is believed, else None."""
        register = energy_register(value, resolution_wh=self.track.resolution_wh)
        if register is None or value is None:
            return None
        if self.track.judge(register, at, power_w).believed:
            return value
        self.rejected += 1
        return None


@dataclass
class BackwardsWatch:
    """Whether a register is below the highest value it ever showed (for a repair)."""

    resolution_wh: Decimal | None = None
    highest: Decimal | None = None
    below: tuple[Decimal, Decimal] | None = None  # (highest, now) while below

    def observe(self, value: float | None) -> None:
        """Take a reading; one that is no register changes nothing."""
        register = energy_register(value, resolution_wh=self.resolution_wh)
        if register is None:
            return
        if self.highest is None or register >= self.highest:
            self.highest = register
            self.below = None
        elif register < self.highest - slack_wh(self.resolution_wh):
            self.below = (self.highest, register)


class ReadingPlausibility:
    """Cleans every poll of one device before anything else sees it."""

    def __init__(
        self,
        *,
        max_power_w: float,
        resolution_wh: Decimal | None = None,
        max_current_a: float | None = None,
    ) -> None:
        """Bounds from the device's capabilities."""
        self.max_power_w = max_power_w
        self.resolution_wh = resolution_wh
        self.max_current_a = max_current_a
        self.energy_gate = RegisterGate(max_power_w=max_power_w, resolution_wh=resolution_wh)
        self.export_gate = RegisterGate(max_power_w=max_power_w, resolution_wh=resolution_wh)

    def clean(self, reading: Reading) -> Reading:
        """Sentinels, NaN, infinities and impossible values become None."""
        limit = self.max_power_w

        def power(value: float | None) -> float | None:
            return power_w(value, max_power_w=limit)

        def energy(value: float | None, resolution: Decimal | None) -> float | None:
            return None if energy_register(value, resolution_wh=resolution) is None else value

        # A charger's phase current stays near its maximum; without one (a meter), no phase
        # carries more than maximum power would on its own.
        amps = (
            self.max_current_a * POWER_FACTOR
            if self.max_current_a is not None
            else limit * POWER_FACTOR / NOMINAL_VOLTAGE_V
        )

        return replace(
            reading,
            current_l1=bounded(reading.current_l1, limit=amps),
            current_l2=bounded(reading.current_l2, limit=amps),
            current_l3=bounded(reading.current_l3, limit=amps),
            voltage_l1=bounded(reading.voltage_l1, limit=MAX_VOLTAGE_V),
            voltage_l2=bounded(reading.voltage_l2, limit=MAX_VOLTAGE_V),
            voltage_l3=bounded(reading.voltage_l3, limit=MAX_VOLTAGE_V),
            power=power(reading.power),
            power_l1=power(reading.power_l1),
            power_l2=power(reading.power_l2),
            power_l3=power(reading.power_l3),
            energy=energy(reading.energy, self.resolution_wh),
            energy_export=energy(reading.energy_export, self.resolution_wh),
            session_energy=energy(reading.session_energy, None),
        )

    def gate(self, reading: Reading, at: float) -> Reading:
        """The cleaned reading with its registers held back where they are off track."""
        # Each register counts only the power flowing its way.
        power = reading.power
        importing = None if power is None else max(power, 0.0)
        exporting = None if power is None else max(-power, 0.0)
        return replace(
            reading,
            energy=self.energy_gate.filter(reading.energy, at, importing),
            energy_export=self.export_gate.filter(reading.energy_export, at, exporting),
        )
