"""Verification of the three hash chains (sessions, adjustments, checkpoints) and of the
signed meter values (OCMF) stored as evidence.

The checkpoint chain is walked first; its last entry names where the other two must
start (their anchors, moved only by a purge) and end (their heads), and the ingest
position. So deleting the oldest rows and writing a matching anchor into ``meta``,
deleting the newest rows, or rewinding the ingest position are all reported, and no
content of any row can make verification raise.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

from ev_charging_ledger.records import iso_utc

from . import adjustments, checkpoints, ocmf_recheck, sessions
from .chain import ChainProblem, ChainReport, walk
from .db import Database, now


def _pair(value: Any) -> tuple[int, str] | None:
    if value is None:
        return None
    number, digest = value
    return int(number), str(digest)


def verify(db: Database) -> ChainReport:
    """Walk all chains and re-verify the signed meter values.

    The report names the first bad entry, every recorded gap and every session whose
    signed values no longer prove it.
    """
    with db.lock:
        try:
            report = _verify(db)
        except (sqlite3.Error, ValueError, TypeError, KeyError, RecursionError) as err:
            problem = ChainProblem("ledger", 0, "-", f"cannot be verified: {err!r}"[:300])
            report = ChainReport(False, 0, 0, problem)
    # Takes the lock per page of rows: the signature checks must not hold up ingest.
    signed = ocmf_recheck.recheck(db)
    report = dataclasses.replace(
        report,
        ok=report.ok and signed.failures_total == 0,
        ocmf_checked=signed.values_checked,
        ocmf_failures=tuple(signed.failures),
        ocmf_failures_total=signed.failures_total,
    )
    if report.ok:
        with db.lock:
            db.set_meta("verify.last_ok", iso_utc(now()))
    return report


def _verify(db: Database) -> ChainReport:
    counts = {"sessions": 0, "adjustments": 0, "checkpoints": 0}
    first: ChainProblem | None = None
    last_checkpoint: tuple[int, str] | None = None
    for outcome in walk(
        db.conn, "checkpoints", checkpoints.COLUMNS, "kind", checkpoints.columns_from_body, None
    ):
        if isinstance(outcome, ChainProblem):
            first = outcome
            break
        counts["checkpoints"] += 1
        last_checkpoint = outcome
    latest = checkpoints.latest(db) if first is None else None
    if first is None and latest is None:
        first = ChainProblem("checkpoints", 1, "-", "no checkpoint: the chain was emptied")
    if first is None and checkpoints.first_kind(db) != "start":
        first = ChainProblem("checkpoints", 1, "-", "the chain does not begin with its start")
    gaps = tuple(gap.describe() for gap in checkpoints.gaps(db)) if first is None else ()
    restores = tuple(
        checkpoints.describe_restore(item)
        for item in (checkpoints.restores(db) if first is None else [])
    )
    for table, columns, expected in (
        ("sessions", sessions.COLUMNS, sessions.columns_from_body),
        ("adjustments", adjustments.COLUMNS, adjustments.columns_from_body),
    ):
        if first is not None or latest is None:
            break
        anchor = _pair(latest["anchors"][table])
        head = _pair(latest["heads"][table])
        stored_anchor = db.anchor(table)
        if stored_anchor != anchor:
            first = ChainProblem(
                table, 0, "-", f"anchor in meta {stored_anchor} is not the chained {anchor}"
            )
            break
        reached = anchor
        for outcome in walk(db.conn, table, columns, "session_id", expected, anchor):
            if isinstance(outcome, ChainProblem):
                first = outcome
                break
            counts[table] += 1
            reached = outcome
        if first is None and reached != head:
            first = _head_problem(table, reached, head)
    if first is None and latest is not None:
        stored_seq = int(db.meta("ingest.last_seq") or 0)
        if stored_seq != latest["last_seq"]:
            first = ChainProblem(
                "meta",
                0,
                "ingest.last_seq",
                f"ingest position {stored_seq} is not the chained {latest['last_seq']}",
            )
    return ChainReport(
        first is None,
        counts["sessions"],
        counts["adjustments"],
        first,
        counts["checkpoints"],
        gaps,
        restores,
        None if last_checkpoint is None else last_checkpoint[1],
    )


def _head_problem(
    table: str, reached: tuple[int, str] | None, head: tuple[int, str] | None
) -> ChainProblem:
    reached_no = 0 if reached is None else reached[0]
    head_no = 0 if head is None else head[0]
    if reached_no < head_no:
        message = f"entries {reached_no + 1}..{head_no} are missing (the newest were removed)"
    elif reached_no > head_no:
        message = f"entries after {head_no} were written outside the ledger"
    else:
        message = "the last entry is not the one the last checkpoint names"
    return ChainProblem(table, reached_no, "-", message)
