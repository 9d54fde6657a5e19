"""Aggregates for the dashboard and filters: what happened when and where.

A person's figures follow the current attribution (after reassignments), as their
statements do. Per-month figures split a session that crosses a month boundary exactly
as the statements do (:mod:`.split`): each month gets the session's part in it, and the
session counts once in every month it reaches (a statement lists its part there).
Adjustments count as in the statements too: an excluded session (or a driver's manual
session no administrator has approved) is left out, a corrected energy replaces the
recorded one; the tariff cost stays the recorded one, which a statement priced at the
tariff cost pays.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from ev_charging_ledger.records import iso_utc

from . import adjustments as adjustment_store
from . import split
from .current import AWAITING_APPROVAL, MOVED_CTE, effective, effective_is
from .db import Database
from .models import EffectiveState

# How far before ``since`` a session may start and still reach into a month after it.
# Sessions end at unplug; none charges for weeks.
REACH = timedelta(days=40)
# Every local month starts within 14 hours of the UTC one (offsets run from -12 to +14),
# so a session whose UTC end is earlier than this before the next UTC month cannot cross.
_CROSSES = "ended_at > strftime('%Y-%m-%dT%H:%M:%S', local_month || '-01', '+1 month', '-14 hours')"

_WITH = f"WITH {MOVED_CTE} "
# Sessions whose figures an adjustment may change, and manual sessions a statement leaves
# out until approved: summed in Python as the statements count them, not in SQL.
_ADJUSTED = (
    "(sessions.session_id IN (SELECT session_id FROM adjustments "
    "WHERE kind IN ('exclude', 'include', 'correct_energy'))"
    f" OR {AWAITING_APPROVAL})"
)

_CHARGERS = (
    # A skip scan over the charger index: one probe per distinct serial.
    "WITH RECURSIVE c(serial) AS ("
    " SELECT min(charger_serial) FROM sessions"
    " UNION ALL"
    " SELECT (SELECT min(charger_serial) FROM sessions WHERE charger_serial > c.serial)"
    " FROM c WHERE c.serial IS NOT NULL)"
    " SELECT serial FROM c WHERE serial IS NOT NULL"
)


def _since(moment: datetime) -> str:
    return iso_utc(moment)


def _person_clause(person_id: int | None, scoped: bool) -> tuple[str, tuple[int | None, ...]]:
    if not scoped:
        return "", ()
    if person_id is None:
        return " AND 0", ()  # a user without a person has no sessions
    return f" AND {effective_is('person_id')}", (person_id, person_id)


def chargers(db: Database) -> list[str]:
    """Serials of every charger that has a session."""
    with db.lock:
        return [row[0] for row in db.conn.execute(_CHARGERS)]


def people_with_sessions(db: Database, month: str, since: datetime) -> list[int]:
    """People with a session or a session's part in the local month (``since`` bounds
    the index scan; a session started up to :data:`REACH` before it is looked at too)."""
    with db.lock:
        return [
            row[0]
            for row in db.conn.execute(
                f"{_WITH}SELECT DISTINCT {effective('person_id')} AS current FROM sessions "
                f"WHERE started_at >= ? AND (local_month = ? OR (local_month < ? AND {_CROSSES}))"
                " AND current IS NOT NULL",
                (_since(since - REACH), month, month),
            )
        ]


def month_totals(
    db: Database, since: datetime, *, person_id: int | None = None, scoped: bool = False
) -> dict[str, tuple[int, float, float]]:
    """Per local month since ``since``: sessions, energy (Wh) and tariff cost.

    A session that crosses a month boundary contributes its part to each month (the
    energy and tariff cost of the statements' split) and counts in each.
    """
    clause, params = _person_clause(person_id, scoped)
    start = _since(since)
    with db.lock:
        found = db.conn.execute(
            f"{_WITH}SELECT local_month, count(*), total(energy_wh), total(cost_total) "
            "FROM sessions "
            f"WHERE started_at >= ? AND NOT {_ADJUSTED}{clause} GROUP BY local_month",
            (start, *params),
        ).fetchall()
        crossing = db.conn.execute(
            f"{_WITH}SELECT started_at, ended_at, time_zone, local_month, energy_wh, "
            f"cost_total, body FROM sessions WHERE started_at >= ? AND {_CROSSES} "
            f"AND NOT {_ADJUSTED}{clause}",
            (_since(since - REACH), *params),
        ).fetchall()
        adjusted = _adjusted(db, _since(since - REACH), clause, params)
    counts: dict[str, int] = defaultdict(int)
    energy: dict[str, float] = defaultdict(float)
    cost: dict[str, float] = defaultdict(float)
    for month, count, energy_wh, cost_total in found:
        counts[month] += int(count)
        energy[month] += float(energy_wh)
        cost[month] += float(cost_total)
    for started_at, ended_at, time_zone, local_month, energy_text, cost_text, body in crossing:
        recorded = Decimal(energy_text)
        parts = _parts(started_at, ended_at, time_zone, recorded, recorded, cost_text, body)
        if len(parts) < 2:
            continue
        if started_at >= start:  # in the totals above, all in its start month
            counts[local_month] -= 1
            energy[local_month] -= float(energy_text)
            cost[local_month] -= 0.0 if cost_text is None else float(cost_text)
        for month, part_wh, part_cost in parts:
            counts[month] += 1
            energy[month] += float(part_wh)
            cost[month] += float(part_cost)
    for started_at, parts in adjusted:
        if len(parts) < 2 and started_at < start:
            continue  # before the period, like the sessions summed in SQL
        for month, part_wh, part_cost in parts:
            counts[month] += 1
            energy[month] += float(part_wh)
            cost[month] += float(part_cost)
    return {month: (counts[month], energy[month], cost[month]) for month in counts if counts[month]}


def _adjusted(
    db: Database, since: str, clause: str, params: tuple[int | None, ...]
) -> list[tuple[str, list[tuple[str, Decimal, Decimal]]]]:
    """(started_at, month parts) of the adjusted sessions since ``since`` that count."""
    rows = db.conn.execute(
        f"{_WITH}SELECT session_id, started_at, ended_at, time_zone, local_month, energy_wh, "
        f"cost_total, body, source FROM sessions WHERE started_at >= ? AND {_ADJUSTED}{clause}",
        (since, *params),
    ).fetchall()
    found = adjustment_store.adjustments(db, [row[0] for row in rows])
    result = []
    for (
        session_id,
        started_at,
        ended_at,
        time_zone,
        month,
        energy_text,
        cost_text,
        body,
        source,
    ) in rows:
        recorded = Decimal(energy_text)
        approval = None
        if source == "manual":
            manual = json.loads(body)["record"].get("manual")
            approval = manual.get("approval") if isinstance(manual, dict) else None
        # The attribution is the SQL's (reassignments there); only what counts is asked here.
        state = EffectiveState.initial(None, None, recorded, approval)
        for adjustment in found.get(session_id, []):
            state.apply(adjustment)
        if state.excluded:
            continue
        parts = _parts(started_at, ended_at, time_zone, recorded, state.energy_wh, cost_text, body)
        if not parts:
            cost = Decimal(0) if cost_text is None else Decimal(cost_text)
            parts = [(month, state.energy_wh, cost)]
        result.append((started_at, parts))
    return result


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _parts(
    started_at: str,
    ended_at: str,
    time_zone: str,
    recorded_wh: Decimal,
    energy_wh: Decimal,
    cost_total: str | None,
    body: bytes,
) -> list[tuple[str, Decimal, Decimal]]:
    """(month, energy Wh, tariff cost) of each month part, split as the statements do:
    the readings of the recorded energy place the cut, ``energy_wh`` (the corrected one
    where an adjustment corrected it) is divided."""
    zone = _zone(time_zone)
    started, ended = split.parse_time(started_at), split.parse_time(ended_at)
    if not split.boundaries(started, ended, zone):
        return []
    record = json.loads(body)["record"]
    points = split.readings(record, started, ended, recorded_wh)
    parts = split.split(started, ended, zone, points, energy_wh)
    if cost_total is None:
        costs: list[Decimal | None] = [Decimal(0)] * len(parts)
    else:
        # Cents on running totals, as a statement priced at the tariff cost shows them.
        costs = split.running_cents(split.cost_shares(record, parts, Decimal(cost_total)))
    return [
        (part.month, part.energy_wh, cost or Decimal(0))
        for part, cost in zip(parts, costs, strict=True)
    ]


def start_times(
    db: Database, since: datetime, *, person_id: int | None = None, scoped: bool = False
) -> list[tuple[str, str]]:
    """(started_at, time_zone) of the sessions since ``since``."""
    clause, params = _person_clause(person_id, scoped)
    with db.lock:
        return [
            (str(row[0]), str(row[1]))
            for row in db.conn.execute(
                f"{_WITH}SELECT started_at, time_zone FROM sessions WHERE started_at >= ?{clause}",
                (_since(since), *params),
            )
        ]


def charger_usage(
    db: Database, since: datetime, *, person_id: int | None = None, scoped: bool = False
) -> list[tuple[str | None, int, float, float, int]]:
    """Per charger since ``since``: sessions, seconds plugged, energy (Wh), faults."""
    clause, params = _person_clause(person_id, scoped)
    with db.lock:
        found = db.conn.execute(
            f"{_WITH}SELECT charger_serial, count(*), "
            "total((julianday(ended_at) - julianday(started_at)) * 86400), total(energy_wh), "
            "total(json_extract(CAST(body AS TEXT), '$.record.end_reason') = 'fault') "
            f"FROM sessions WHERE started_at >= ?{clause} "
            "GROUP BY charger_serial ORDER BY charger_serial",
            (_since(since), *params),
        ).fetchall()
    return [(row[0], int(row[1]), float(row[2]), float(row[3]), int(row[4])) for row in found]


def unattributed(db: Database, since: datetime, month: str) -> int:
    """Sessions of the local month (or with a part in it) that belong to nobody (after
    reassignments)."""
    nobody = f"{effective('person_id')} IS NULL"
    with db.lock:
        row = db.conn.execute(
            f"{_WITH}SELECT count(*) FROM sessions WHERE started_at >= ? AND local_month = ? "
            f"AND {nobody}",
            (_since(since), month),
        ).fetchone()
        earlier = db.conn.execute(
            f"{_WITH}SELECT started_at, ended_at, time_zone FROM sessions "
            f"WHERE started_at >= ? AND local_month < ? AND {_CROSSES} AND {nobody}",
            (_since(since - REACH), month),
        ).fetchall()
    reaching = sum(
        1
        for started_at, ended_at, time_zone in earlier
        if month in _months(started_at, ended_at, time_zone)
    )
    return int(row[0]) + reaching


def _months(started_at: str, ended_at: str, time_zone: str) -> set[str]:
    zone = _zone(time_zone)
    started, ended = split.parse_time(started_at), split.parse_time(ended_at)
    return {split.month_of(cut, zone) for cut in split.boundaries(started, ended, zone)}


def currencies(db: Database, since: datetime) -> list[str]:
    """The currencies of the tariff costs since ``since``, sorted."""
    with db.lock:
        return [
            str(row[0])
            for row in db.conn.execute(
                "SELECT DISTINCT currency FROM sessions WHERE started_at >= ? "
                "AND currency IS NOT NULL ORDER BY currency",
                (_since(since),),
            )
        ]
