"""Retention period, legal hold and the purge of expired sessions."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from ev_charging_ledger.records import iso_utc

from . import checkpoints
from .db import Database, LedgerError, now

DEFAULT_RETENTION_YEARS = 10


def retention_years(db: Database) -> int:
    with db.lock:
        return int(db.meta("retention.years") or DEFAULT_RETENTION_YEARS)


def set_retention_years(db: Database, years: int) -> None:
    if years < 1:
        raise LedgerError("retention must be at least one year")
    with db.transaction():
        db.set_meta("retention.years", str(years))


def legal_hold(db: Database) -> dict[str, Any] | None:
    with db.lock:
        value = db.meta("legal_hold")
    return None if value is None else dict(json.loads(value))


def set_legal_hold(db: Database, *, active: bool, author: str, reason: str) -> None:
    if not reason.strip() or not author.strip():
        raise LedgerError("a legal hold change needs an author and a reason")
    with db.transaction():
        if active:
            hold = {"author": author, "reason": reason, "since": iso_utc(now())}
            db.set_meta("legal_hold", json.dumps(hold))
        else:
            db.delete_meta("legal_hold")


def purge_expired(db: Database, today: date) -> int:
    """Delete sessions whose retention has ended; refused under a legal hold.

    The period runs from the end of the calendar year the session ended in. Only a
    prefix of the chain is removed and the last removed hash becomes the anchor the
    remaining chain is verified from.
    """
    cutoff_year = today.year - retention_years(db)
    cutoff = f"{cutoff_year:04d}-01-01T00:00:00.000000Z"
    with db.transaction() as conn:
        if db.meta("legal_hold") is not None:
            raise LedgerError("a legal hold is active: nothing may be deleted")
        first_kept = conn.execute(
            "SELECT min(entry_no) FROM sessions WHERE ended_at >= ?", (cutoff,)
        ).fetchone()[0]
        limit_row = conn.execute(
            "SELECT entry_no, hash FROM sessions WHERE entry_no < ? ORDER BY entry_no DESC LIMIT 1",
            (first_kept if first_kept is not None else 1 << 62,),
        ).fetchone()
        if limit_row is None:
            return 0
        deleted = conn.execute("DELETE FROM sessions WHERE entry_no <= ?", (limit_row[0],)).rowcount
        db.set_meta("anchor.sessions", json.dumps({"entry_no": limit_row[0], "hash": limit_row[1]}))
        checkpoints.add(db, "purge", {"deleted": deleted, "cutoff": cutoff})
    return int(deleted)
