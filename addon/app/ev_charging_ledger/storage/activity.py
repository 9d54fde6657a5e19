"""Aggregates for the dashboard and filters: what happened when and where.

A person's figures follow the current attribution (after reassignments), as their
statements do.
"""

from __future__ import annotations

from datetime import datetime

from ev_charging_ledger.records import iso_utc

from .current import MOVED_CTE, effective, effective_is
from .db import Database

_WITH = f"WITH {MOVED_CTE} "

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
    """People with a session in the local month (``since`` bounds the index scan)."""
    with db.lock:
        return [
            row[0]
            for row in db.conn.execute(
                f"{_WITH}SELECT DISTINCT {effective('person_id')} AS current FROM sessions "
                "WHERE started_at >= ? AND local_month = ? AND current IS NOT NULL",
                (_since(since), month),
            )
        ]


def month_totals(
    db: Database, since: datetime, *, person_id: int | None = None, scoped: bool = False
) -> dict[str, tuple[int, float, float]]:
    """Per local month since ``since``: session count, energy (Wh) and tariff cost."""
    clause, params = _person_clause(person_id, scoped)
    with db.lock:
        found = db.conn.execute(
            f"{_WITH}SELECT local_month, count(*), total(energy_wh), total(cost_total) "
            "FROM sessions "
            f"WHERE started_at >= ?{clause} GROUP BY local_month",
            (_since(since), *params),
        ).fetchall()
    return {row[0]: (int(row[1]), float(row[2]), float(row[3])) for row in found}


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
    """Sessions of the local month that belong to nobody (after reassignments)."""
    with db.lock:
        row = db.conn.execute(
            f"{_WITH}SELECT count(*) FROM sessions WHERE started_at >= ? AND local_month = ? "
            f"AND {effective('person_id')} IS NULL",
            (_since(since), month),
        ).fetchone()
    return int(row[0])


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
