"""The cost of a session: energy in each price interval x its price, in Decimal.

Home Assistant-free. The energy in a price interval comes from meter register readings: at
an interval boundary that falls between two readings the register is interpolated linearly
and the interval is marked `interpolated`.

Rounding, so that nothing is lost:
- Interpolated register values are rounded to 0.001 Wh (finer if the readings are), and
  each interval's energy is the difference of its two boundary values, so the interval
  energies telescope to exactly last reading - first reading.
- Interval costs are kept exact; the total is rounded once, to cents, ROUND_HALF_UP. Each
  interval's shown cost is the rounded running total after it minus the rounded running
  total before it, so the shown lines add up to the total exactly and none is off by more
  than a cent.
- An interval with energy but no price makes the result carry `price_missing`; the total
  then covers only the priced intervals and `unpriced_energy_wh` says how much is left out.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any

from .tariff import PriceInterval, Tariff

CENT = Decimal("0.01")
WH_PER_KWH = Decimal(1000)
# Coarsest resolution interpolated registers are rounded to; finer if the readings are.
ENERGY_QUANTUM = Decimal("0.001")
# Enough digits that intermediate products of Wh x price never round.
_CONTEXT = Context(prec=60)

PRICE_MISSING = "price_missing"

Sample = tuple[datetime, Decimal]


@dataclass(frozen=True, slots=True)
class IntervalCost:
    """Energy and cost within one price interval of a session."""

    start: datetime
    end: datetime
    energy_wh: Decimal
    price_per_kwh: Decimal | None
    cost: Decimal | None  # the shown line amount, in cents; None without a price
    interpolated: bool  # a boundary fell between two readings


@dataclass(frozen=True, slots=True)
class SessionCost:
    """The cost of a session with its per-interval breakdown."""

    currency: str
    tariff: str
    total: Decimal  # cents, including the standing charge
    intervals: tuple[IntervalCost, ...]
    flags: tuple[str, ...]
    unpriced_energy_wh: Decimal
    standing_charge: Decimal | None = None  # cents, included in total

    def to_record(self) -> dict[str, Any]:
        """The `cost` object of the session record (DESIGN.md section 6)."""
        record: dict[str, Any] = {
            "currency": self.currency,
            "total": _text(self.total),
            "tariff": self.tariff,
            "intervals": [
                {
                    "start": _iso_utc(line.start),
                    "end": _iso_utc(line.end),
                    "energy_wh": _text(line.energy_wh),
                    "price_per_kwh": _optional_text(line.price_per_kwh),
                    "cost": _optional_text(line.cost),
                    "interpolated": line.interpolated,
                }
                for line in self.intervals
            ],
        }
        if self.standing_charge is not None:
            record["standing_charge"] = _text(self.standing_charge)
        if self.flags:
            record["flags"] = list(self.flags)
        if PRICE_MISSING in self.flags:
            record["unpriced_energy_wh"] = _text(self.unpriced_energy_wh)
        return record


def session_cost(samples: Sequence[Sample], tariff: Tariff) -> SessionCost:
    """Cost a session from its register readings (time, Wh), first at start, last at end.

    Raises ValueError for fewer than two readings, naive times, times that do not strictly
    increase, a register that decreases, or a tariff whose intervals do not cover the session.
    """
    times, registers = _checked_samples(samples)
    start, end = times[0], times[-1]
    intervals = tariff.price_intervals(start, end)
    _check_coverage(intervals, start, end)
    quantum = _energy_quantum(registers)

    lines: list[IntervalCost] = []
    unpriced = Decimal(0)
    exact_running = Decimal(0)
    shown_running = Decimal("0.00")
    with localcontext(_CONTEXT):
        edges = [intervals[0].start, *(interval.end for interval in intervals)]
        edge_wh = [_register_at(times, registers, moment, quantum) for moment in edges]
        for i, interval in enumerate(intervals):
            energy = edge_wh[i + 1] - edge_wh[i]
            price = interval.price_per_kwh
            interpolated = not (_is_reading(times, edges[i]) and _is_reading(times, edges[i + 1]))
            if price is None:
                unpriced += energy
                lines.append(
                    IntervalCost(interval.start, interval.end, energy, None, None, interpolated)
                )
                continue
            exact_running += energy * price / WH_PER_KWH
            shown = _unsigned_zero(_cents(exact_running) - shown_running)
            shown_running += shown
            lines.append(
                IntervalCost(interval.start, interval.end, energy, price, shown, interpolated)
            )
        standing = None
        if tariff.standing_charge is not None:
            standing = _cents(tariff.standing_charge.share(start, end))

    total = _unsigned_zero(shown_running + (standing or Decimal(0)))
    flags = (PRICE_MISSING,) if unpriced else ()
    return SessionCost(
        currency=tariff.currency,
        tariff=tariff.name,
        total=total,
        intervals=tuple(lines),
        flags=flags,
        unpriced_energy_wh=unpriced,
        standing_charge=standing,
    )


def _checked_samples(samples: Sequence[Sample]) -> tuple[list[datetime], list[Decimal]]:
    if len(samples) < 2:
        raise ValueError(
            f"a session needs at least two register readings (start and end), got {len(samples)}"
        )
    times: list[datetime] = []
    registers: list[Decimal] = []
    for index, (moment, energy_wh) in enumerate(samples):
        if not isinstance(moment, datetime):
            raise ValueError(f"reading {index}: time must be a datetime, got {moment!r}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(
                f"reading {index}: time {moment.isoformat()} has no time zone (naive datetime)"
            )
        if not isinstance(energy_wh, Decimal) or not energy_wh.is_finite():
            raise ValueError(
                f"reading {index}: energy_wh must be a finite Decimal, got {energy_wh!r}"
            )
        moment = moment.astimezone(UTC)
        if times and moment <= times[-1]:
            raise ValueError(
                f"reading {index}: time {moment.isoformat()} is not after the previous reading "
                f"at {times[-1].isoformat()}; readings must strictly increase in time"
            )
        if registers and energy_wh < registers[-1]:
            raise ValueError(
                f"reading {index}: register {energy_wh} Wh is below the previous reading "
                f"{registers[-1]} Wh; a register never decreases within a session"
            )
        times.append(moment)
        registers.append(energy_wh)
    return times, registers


def _check_coverage(intervals: list[PriceInterval], start: datetime, end: datetime) -> None:
    """A tariff's intervals must tile [start, end) exactly, or energy would be lost."""
    cursor = start
    for interval in intervals:
        if interval.start != cursor or interval.end <= interval.start:
            raise ValueError(
                f"tariff intervals are not contiguous at {cursor.isoformat()} "
                f"(next interval {interval.start.isoformat()} to {interval.end.isoformat()})"
            )
        cursor = interval.end
    if cursor != end:
        raise ValueError(
            f"tariff intervals end at {cursor.isoformat()}, the session at {end.isoformat()}"
        )


def _energy_quantum(registers: list[Decimal]) -> Decimal:
    # Rounding interpolated values no coarser than the readings keeps them between the
    # readings around them, so no interval gets a negative energy from rounding.
    finest = min(register.as_tuple().exponent for register in registers)
    assert isinstance(finest, int)  # finite Decimals have integer exponents
    return min(ENERGY_QUANTUM, Decimal((0, (1,), finest)))


def _register_at(
    times: list[datetime], registers: list[Decimal], moment: datetime, quantum: Decimal
) -> Decimal:
    """The register at a moment: the reading itself, or linear between the two around it."""
    after = bisect.bisect_left(times, moment)
    if times[after] == moment:
        return registers[after]
    before = after - 1
    elapsed = _microseconds(moment - times[before])
    span = _microseconds(times[after] - times[before])
    delta = registers[after] - registers[before]
    value = registers[before] + delta * elapsed / span
    return value.quantize(quantum, rounding=ROUND_HALF_EVEN)


def _is_reading(times: list[datetime], moment: datetime) -> bool:
    index = bisect.bisect_left(times, moment)
    return index < len(times) and times[index] == moment


def _cents(amount: Decimal) -> Decimal:
    return _unsigned_zero(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def _unsigned_zero(amount: Decimal) -> Decimal:
    # Decimal keeps the sign of zero; a statement should never show "-0.00".
    return amount.copy_abs() if amount.is_zero() else amount


def _microseconds(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _text(value: Decimal) -> str:
    # Plain notation: "0.50", never "5E-1".
    return format(value, "f")


def _optional_text(value: Decimal | None) -> str | None:
    return None if value is None else _text(value)
