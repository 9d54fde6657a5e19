"""Sessions that cross a month boundary, split at local midnight of the month's first day.

Each month's statement holds the energy charged in that month (issue 15). The energy
at a boundary comes from a meter reading taken at that instant when the session's
record has one (a price-interval boundary of ``cost.intervals`` whose neighbouring
interval was measured, not interpolated); otherwise it is interpolated linearly, in
elapsed time, between the two readings around the boundary, and the part says so.

Rounding, so that the parts add up to the session exactly:

- An interpolated energy at a boundary is rounded to whole Wh (the statements print
  kWh with three decimals); a part's energy is the difference of its two boundary
  values, so the parts telescope to the session's energy.
- Money is rounded on running totals: a part's amount is the rounded running total
  after it minus the rounded running total before it (see :func:`running_cents`).

Home Assistant-free and database-free: the statements module feeds it stored rows.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
_WH = Decimal(1)
_MICROSECOND = timedelta(microseconds=1)

READING = "reading"
INTERPOLATED = "interpolated"


@dataclass(frozen=True, slots=True)
class Reading:
    """Energy charged since the session's start, at one instant."""

    at: datetime  # aware, UTC
    energy_wh: Decimal
    measured: bool


@dataclass(frozen=True, slots=True)
class Part:
    """The piece of a session inside one local calendar month."""

    month: str  # YYYY-MM
    index: int  # 0-based position among the session's parts
    count: int
    start: datetime  # aware, UTC: session start or a month boundary
    end: datetime
    offset_wh: Decimal  # energy charged before this part (into the session)
    energy_wh: Decimal
    # How the energy at this part's boundaries was found; INTERPOLATED when either of
    # its month boundaries had no reading, else READING.
    method: str


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def month_of(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m}"


def month_start(month: str, zone: ZoneInfo) -> datetime:
    """The first instant of the month in ``zone``, in UTC.

    Where midnight does not exist (clocks jump from 00:00 to 01:00) this is the instant
    of the jump; where it occurs twice, its first occurrence. ``fold=0`` gives both.
    """
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=zone).astimezone(UTC)


def _next_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def boundaries(started: datetime, ended: datetime, zone: ZoneInfo) -> list[datetime]:
    """Month starts strictly inside (started, ended): where the session is cut."""
    cuts: list[datetime] = []
    month = _next_month(month_of(started, zone))
    while True:
        cut = month_start(month, zone)
        if cut >= ended:
            return cuts
        if cut > started:
            cuts.append(cut)
        month = _next_month(month)


def spans_months(started_at: str, ended_at: str, time_zone: str) -> bool:
    zone = ZoneInfo(time_zone)
    return bool(boundaries(parse_time(started_at), parse_time(ended_at), zone))


def readings(
    record: dict[str, Any], started: datetime, ended: datetime, energy_wh: Decimal
) -> list[Reading]:
    """Start, end and the measured price-interval boundaries of a session record.

    The intervals are used only when they tile the session exactly (contiguous, from
    its start to its end, energies adding up to the session's, none negative or empty in
    time): anything else is not a reading the ledger can stand behind, and the split
    falls back to the two ends.
    """
    ends = [Reading(started, Decimal(0), True), Reading(ended, energy_wh, True)]
    cost = record.get("cost")
    intervals = cost.get("intervals") if isinstance(cost, dict) else None
    if not isinstance(intervals, list) or len(intervals) < 2:
        return ends
    try:
        spans = [
            (
                parse_time(item["start"]),
                parse_time(item["end"]),
                Decimal(str(item["energy_wh"])),
                bool(item.get("interpolated", False)),
            )
            for item in intervals
        ]
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return ends
    if spans[0][0] != started or spans[-1][1] != ended:
        return ends
    if any(a[1] != b[0] for a, b in itertools.pairwise(spans)):
        return ends
    if sum((span[2] for span in spans), Decimal(0)) != energy_wh:
        return ends
    # A register does not run backwards, and time does not either.
    if any(span[2] < 0 or span[1] <= span[0] for span in spans):
        return ends
    points = [ends[0]]
    total = Decimal(0)
    for index, (_, end, energy, interpolated) in enumerate(spans[:-1]):
        total += energy
        # A boundary is a reading when a neighbouring interval was measured at both ends.
        measured = not interpolated or not spans[index + 1][3]
        points.append(Reading(end, total, measured))
    points.append(ends[1])
    return points


def energy_at(points: Sequence[Reading], moment: datetime) -> tuple[Decimal, bool]:
    """Energy charged up to ``moment`` and whether a reading was taken exactly then."""
    times = [point.at for point in points]
    index = bisect.bisect_left(times, moment)
    if index < len(points) and points[index].at == moment:
        return points[index].energy_wh, points[index].measured
    before, after = points[index - 1], points[index]
    elapsed = Decimal((moment - before.at) // _MICROSECOND)
    span = Decimal((after.at - before.at) // _MICROSECOND)
    with localcontext() as context:
        context.prec = 50
        value = before.energy_wh + (after.energy_wh - before.energy_wh) * elapsed / span
    return value.quantize(_WH, ROUND_HALF_UP), False


def split(
    started: datetime,
    ended: datetime,
    zone: ZoneInfo,
    points: Sequence[Reading],
    energy_wh: Decimal,
) -> list[Part]:
    """The session's parts, one per local month it touches (one part if it touches one).

    ``energy_wh`` is the session's effective energy; when an adjustment corrected it,
    the readings are scaled to it and every boundary counts as interpolated.
    """
    cuts = boundaries(started, ended, zone)
    recorded = points[-1].energy_wh
    scaled = recorded != energy_wh
    offsets: list[tuple[Decimal, bool]] = [(Decimal(0), True)]
    for cut in cuts:
        value, measured = energy_at(points, cut)
        if scaled:
            with localcontext() as context:
                context.prec = 50
                ratio = value / recorded if recorded else Decimal(0)
                value = (energy_wh * ratio).quantize(_WH, ROUND_HALF_UP)
            measured = False
        # Never outside [previous boundary, session energy], whatever the readings say.
        value = min(max(value, offsets[-1][0]), energy_wh)
        offsets.append((value, measured))
    offsets.append((energy_wh, True))
    edges = [started, *cuts, ended]
    count = len(edges) - 1
    parts: list[Part] = []
    for index in range(count):
        start_value, start_measured = offsets[index]
        end_value, end_measured = offsets[index + 1]
        parts.append(
            Part(
                month=month_of(edges[index], zone),
                index=index,
                count=count,
                start=edges[index],
                end=edges[index + 1],
                offset_wh=start_value,
                energy_wh=end_value - start_value,
                method=READING if start_measured and end_measured else INTERPOLATED,
            )
        )
    return parts


def running_cents(exact: Sequence[Decimal | None]) -> list[Decimal | None]:
    """Round each value so the rounded values add up to the rounded exact sum.

    A part's amount is the rounded running total after it minus the rounded running
    total before it: none is off by more than a cent, and the sum is the session's
    amount rounded once. ``None`` (a part that cannot be priced) stays None and breaks
    the run: the priced parts around it are rounded on their own running totals.
    """
    out: list[Decimal | None] = []
    running = Decimal(0)
    shown = Decimal(0)
    for value in exact:
        if value is None:
            out.append(None)
            continue
        running += value
        rounded = running.quantize(CENT, ROUND_HALF_UP)
        out.append(rounded - shown)
        shown = rounded
    return out


def cost_shares(
    record: dict[str, Any], parts: Sequence[Part], cost_total: Decimal
) -> list[Decimal]:
    """The session's tariff cost divided among its parts, exactly (sums to ``cost_total``).

    Each part's share follows the priced energy in it: the record's price intervals
    (energy x price, the interval cut at the boundary in proportion to its energy
    there) when every interval has a price, else the part's share of the energy.
    """
    if len(parts) == 1:
        return [cost_total]
    weights = _interval_cost_weights(record, parts) or [part.energy_wh for part in parts]
    whole = sum(weights, Decimal(0))
    if not whole:
        return [cost_total, *([Decimal(0)] * (len(parts) - 1))]
    shares: list[Decimal] = []
    before = Decimal(0)
    running = Decimal(0)
    with localcontext() as context:
        context.prec = 50
        for weight in weights[:-1]:
            running += weight
            upto = cost_total * running / whole
            shares.append(upto - before)
            before = upto
    shares.append(cost_total - before)
    return shares


def _interval_cost_weights(record: dict[str, Any], parts: Sequence[Part]) -> list[Decimal] | None:
    cost = record.get("cost")
    intervals = cost.get("intervals") if isinstance(cost, dict) else None
    if not isinstance(intervals, list) or not intervals:
        return None
    try:
        spans = [
            (
                parse_time(item["start"]),
                parse_time(item["end"]),
                Decimal(str(item["energy_wh"])),
                Decimal(str(item["price_per_kwh"])),
            )
            for item in intervals
        ]
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None
    if spans[0][0] != parts[0].start or spans[-1][1] != parts[-1].end:
        return None
    weights = [Decimal(0)] * len(parts)
    with localcontext() as context:
        context.prec = 50
        for start, end, energy, price in spans:
            span = Decimal((end - start) // _MICROSECOND)
            for index, part in enumerate(parts):
                low, high = max(start, part.start), min(end, part.end)
                if high <= low:
                    continue
                share = Decimal((high - low) // _MICROSECOND) / span if span else Decimal(1)
                weights[index] += energy * share * price
    return weights
