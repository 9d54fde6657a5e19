"""Verification of both hash chains."""

from __future__ import annotations

from ev_charging_ledger.records import iso_utc

from . import adjustments, sessions
from .chain import ChainProblem, ChainReport, walk
from .db import Database, now


def verify(db: Database) -> ChainReport:
    """Walk both chains; the report names the first bad entry."""
    with db.lock:
        counts = {"sessions": 0, "adjustments": 0}
        first: ChainProblem | None = None
        for table, columns, expected in (
            ("sessions", sessions.COLUMNS, sessions.columns_from_body),
            ("adjustments", adjustments.COLUMNS, adjustments.columns_from_body),
        ):
            for outcome in walk(db.conn, table, columns, "session_id", expected, db.anchor(table)):
                if outcome is None:
                    counts[table] += 1
                else:
                    first = first or outcome
                    break
        if first is None:
            db.set_meta("verify.last_ok", iso_utc(now()))
    return ChainReport(first is None, counts["sessions"], counts["adjustments"], first)
