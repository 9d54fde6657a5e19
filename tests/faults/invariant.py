"""The fault matrix's invariant: what reached the ledger against what physically happened.

Independent of the integration's code: physical sessions come from the simulators' truth
log, records are the JSON the integration hands the ledger over its websocket API, and the
two are paired here by time overlap alone.

For each physical session (one plug cycle):
- exactly one record overlaps it in time (none: lost; two or more: duplicate);
- that record overlaps no other physical session (else: merged);
- its energy equals the energy delivered into the car within the billing register's
  resolution, and, when no register fault happened during the cycle, equals the register's
  change across the cycle (so consecutive sessions add up to the register's change);
  across a register jump or reset the register itself cannot tell the energy of the one
  poll interval between the last reading on the old track and the first on the new one,
  so there (and only there) the record may fall short by at most maximum power times one
  poll interval per discontinuity, never exceed what was delivered (`unprovable_wh`);
- where no poll saw the boundary between two plug cycles (car A left and car B came while
  Home Assistant was down or the charger did not answer: `unseen_start`), the register's
  value at that boundary was never read, so neither record can equal its own cycle's change
  of a coarse register: there the two records (each still within the resolution of what its
  car got) must add up to the register's change across both cycles, exactly as consecutive
  sessions must;
- a record flagged `swap_time_unknown` (the device offered nothing to place an unseen swap:
  no per-session counter, only another card) carries an estimated split: its own energy is
  not judged, its chain must still add up to the register's change and to what the cars
  got within a step; it is counted `estimated`, never `exact`;
- it has a cost or a flag saying why not (`price_missing` or another `price_*` flag);
- its times are consistent (`ended_at >= started_at`, charging time no longer than the plug
  cycle): a record the ledger would quarantine never reaches a statement.
A record that overlaps no physical session is a phantom.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

# A record's charging time may exceed the plug cycle by the polls that bracket it.
CHARGING_TIME_SLACK_S = 30.0
# The integration's flag on a split it could only estimate.
ESTIMATED_SPLIT = "swap_time_unknown"


@dataclass(frozen=True)
class PhysicalSession:
    """One plug cycle as the simulators saw it."""

    plugged_wall: datetime  # Home Assistant's wall clock at plug-in
    unplugged_wall: datetime  # ... and at unplug
    delivered_wh: float  # energy that went into the car
    register_change_wh: float | None  # billing register's change across the cycle
    duration_s: float  # real seconds from plug-in to unplug
    resolution_wh: float  # the billing register's step
    # Energy no register reading can prove: maximum power x one poll interval for each
    # register jump or reset in the cycle (0 without one).
    unprovable_wh: float = 0.0
    # No poll saw the boundary to the previous plug cycle (the previous car left and this
    # one came while nobody watched).
    unseen_start: bool = False

    @property
    def span(self) -> tuple[datetime, datetime]:
        """The cycle on the wall clock, in the time frame before and after any correction
        of the clock during it (a record may state its times in either)."""
        lasted = timedelta(seconds=self.duration_s)
        return (
            min(self.plugged_wall, self.unplugged_wall - lasted),
            max(self.unplugged_wall, self.plugged_wall + lasted),
        )


@dataclass
class Verdict:
    """Counts over one or more runs, and what went wrong, in words."""

    sessions: int = 0
    exact: int = 0
    estimated: int = 0  # an unseen swap split where the device told nothing (flagged)
    lost: int = 0
    merged: int = 0
    phantom: int = 0
    duplicate: int = 0
    inexact: int = 0
    unpriced: int = 0
    invalid: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every invariant held."""
        return not (
            self.lost
            or self.merged
            or self.phantom
            or self.duplicate
            or self.inexact
            or self.unpriced
            or self.invalid
        )

    def add(self, other: Verdict) -> None:
        """Fold another verdict into this one."""
        for name in (
            "sessions",
            "exact",
            "estimated",
            "lost",
            "merged",
            "phantom",
            "duplicate",
            "inexact",
            "unpriced",
            "invalid",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)


def _time(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _number(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _span(record: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """A record on the wall clock; one that ends before it starts is paired by its start."""
    start, end = _time(record.get("started_at")), _time(record.get("ended_at"))
    if start is None or end is None:
        return None
    return (start, max(start, end))


def _overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _label(record: dict[str, Any]) -> str:
    return (
        f"record seq={record.get('seq')} {record.get('started_at')}..{record.get('ended_at')} "
        f"energy_wh={record.get('energy_wh')} flags={record.get('flags')}"
    )


def check(
    physical: list[PhysicalSession],
    records: list[dict[str, Any]],
    *,
    register_tolerance_wh: float = 0.0,
) -> Verdict:
    """Compare the physical sessions of one run with the records that reached the ledger.

    `register_tolerance_wh` allows for a float register's own rounding when the record is
    compared with the register's change (0 for an integer register).
    """
    verdict = Verdict(sessions=len(physical))
    spans = [_span(record) for record in records]
    matches: list[list[int]] = [[] for _ in physical]
    matched_records: set[int] = set()
    for index, record in enumerate(records):
        span = spans[index]
        if span is None:
            verdict.invalid += 1
            verdict.problems.append(f"unreadable times: {_label(record)}")
            continue
        hits = [i for i, cycle in enumerate(physical) if _overlaps(span, cycle.span)]
        if not hits:
            verdict.phantom += 1
            verdict.problems.append(f"phantom: {_label(record)}")
        if len(hits) > 1:
            verdict.merged += len(hits)
            verdict.problems.append(f"merged {len(hits)} plug cycles: {_label(record)}")
        for i in hits:
            matches[i].append(index)
        matched_records.update([index] if hits else [])

    # Cycles joined by boundaries no poll saw: the register change is checked across them.
    joined = {
        i
        for i, cycle in enumerate(physical)
        if cycle.unseen_start or (i + 1 < len(physical) and physical[i + 1].unseen_start)
    }
    # cycle -> (energy of its one record, whether the split is an estimate), where good
    judged: dict[int, tuple[Decimal, bool]] = {}
    for i, cycle in enumerate(physical):
        found = matches[i]
        where = f"plug cycle {cycle.plugged_wall.isoformat()}..{cycle.unplugged_wall.isoformat()}"
        if not found:
            verdict.lost += 1
            verdict.problems.append(f"lost: {where}, {cycle.delivered_wh:.1f} Wh delivered")
            continue
        if len(found) > 1:
            verdict.duplicate += 1
            verdict.problems.append(
                f"{len(found)} records for {where}: "
                + "; ".join(_label(records[index]) for index in found)
            )
            continue
        record = records[found[0]]
        if any(found[0] in matches[j] for j in range(len(physical)) if j != i):
            continue  # merged, counted above
        estimate = ESTIMATED_SPLIT in (record.get("flags") or []) and i in joined
        if _judge(
            cycle,
            record,
            where,
            verdict,
            register_tolerance_wh,
            own_change=i not in joined,
            estimate=estimate,
        ):
            if estimate:
                verdict.estimated += 1
            else:
                verdict.exact += 1
            energy = _number(record.get("energy_wh"))
            assert energy is not None  # judged good
            judged[i] = (energy, estimate)
    _judge_chains(physical, judged, verdict, register_tolerance_wh)
    return verdict


def _judge_chains(
    physical: list[PhysicalSession],
    judged: dict[int, tuple[Decimal, bool]],
    verdict: Verdict,
    register_tolerance_wh: float,
) -> None:
    """Records of cycles joined by unseen boundaries must add up to the register's change
    across the whole chain (when every one of them was otherwise good), and, where a split
    is an estimate, to what the cars got within a register step."""
    chains: list[list[int]] = []
    for i, cycle in enumerate(physical):
        if cycle.unseen_start and chains and chains[-1][-1] == i - 1:
            chains[-1].append(i)
        elif i + 1 < len(physical) and physical[i + 1].unseen_start:
            chains.append([i])
    for chain in chains:
        if not all(i in judged for i in chain):
            continue
        energy = sum((judged[i][0] for i in chain), Decimal(0))
        estimates = sum(1 for i in chain if judged[i][1])
        delivered = Decimal(str(sum(physical[i].delivered_wh for i in chain)))
        step = Decimal(str(physical[chain[0]].resolution_wh))
        changes = [physical[i].register_change_wh for i in chain]
        wrong = []
        if None not in changes:
            change = Decimal(str(sum(c for c in changes if c is not None)))
            if abs(energy - change) > Decimal(str(register_tolerance_wh)):
                wrong.append(f"the register moved {change} Wh across them")
        if estimates and not delivered - step < energy < delivered + step:
            wrong.append(f"the cars got {delivered:.1f} Wh")
        if wrong:
            verdict.exact -= len(chain) - estimates
            verdict.estimated -= estimates
            verdict.inexact += len(chain)
            first, last = physical[chain[0]], physical[chain[-1]]
            verdict.problems.append(
                f"inexact: plug cycles {first.plugged_wall.isoformat()}.."
                f"{last.unplugged_wall.isoformat()} (no poll saw the swaps between them): "
                f"{', '.join(wrong)}, the records add up to {energy} Wh"
            )


def _judge(
    cycle: PhysicalSession,
    record: dict[str, Any],
    where: str,
    verdict: Verdict,
    register_tolerance_wh: float,
    *,
    own_change: bool = True,
    estimate: bool = False,
) -> bool:
    """Energy, price and times of the one record of a plug cycle; True when all hold.

    Without `own_change` the register's change is checked across a chain of cycles instead;
    an `estimate`'s energy only there.
    """
    good = True
    energy = _number(record.get("energy_wh"))
    delivered = Decimal(str(cycle.delivered_wh))
    resolution = Decimal(str(cycle.resolution_wh))
    change = cycle.register_change_wh if own_change else None
    unprovable = Decimal(str(cycle.unprovable_wh))
    if estimate and energy is not None:
        pass  # an estimated split is judged across its chain (_judge_chains)
    elif (
        energy is None or not delivered - unprovable - resolution < energy < delivered + resolution
    ):
        good = False
        verdict.inexact += 1
        verdict.problems.append(
            f"inexact: {where}: {delivered:.1f} Wh delivered (register step "
            f"{resolution} Wh, {unprovable:.1f} Wh unprovable), {_label(record)}"
        )
    elif change is not None and abs(energy - Decimal(str(change))) > Decimal(
        str(register_tolerance_wh)
    ):
        good = False
        verdict.inexact += 1
        verdict.problems.append(
            f"inexact: {where}: the register moved {change:.1f} Wh across the cycle, "
            f"{_label(record)}"
        )
    flags = record.get("flags") or []
    cost = record.get("cost")
    priced = isinstance(cost, dict) and _number(cost.get("total")) is not None
    if not priced and not any(str(flag).startswith("price_") for flag in flags):
        good = False
        verdict.unpriced += 1
        verdict.problems.append(f"no cost and no price flag: {_label(record)}")
    start, end = _time(record.get("started_at")), _time(record.get("ended_at"))
    seconds = _number(record.get("charging_seconds"))
    bad_time = start is None or end is None or end < start
    limit = cycle.duration_s + CHARGING_TIME_SLACK_S
    if seconds is None or seconds < 0 or seconds > Decimal(str(limit)):
        bad_time = True
    if bad_time:
        good = False
        verdict.invalid += 1
        verdict.problems.append(
            f"inconsistent times: {where} lasted {timedelta(seconds=cycle.duration_s)}, "
            f"charging_seconds={record.get('charging_seconds')}, {_label(record)}"
        )
    return good
