"""Chained session rows: appending records (idempotent on id) and reading them back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from ev_charging_ledger import contract, evidence
from ev_charging_ledger.records import (
    RecordError,
    SessionFacts,
    canonical_json,
    decimal_text,
    iso_utc,
    session_facts,
)

from . import checkpoints, current, directory
from .chain import entry_hash
from .db import Database, LedgerError, chunks, now, placeholders, text
from .models import AppendResult, SessionFilter, SessionPage, SessionSummary

COLUMNS = (
    "session_id",
    "source",
    "ha_seq",
    "started_at",
    "ended_at",
    "local_month",
    "time_zone",
    "person_id",
    "vehicle_id",
    "charger_serial",
    "meter_start_wh",
    "meter_end_wh",
    "energy_wh",
    "cost_total",
    "currency",
    "evidence_class",
)
_INSERT = (
    f"INSERT INTO sessions (entry_no, {', '.join(COLUMNS)}, body, prev_hash, hash) "
    f"VALUES ({placeholders(len(COLUMNS) + 4)})"
)
# A quarantined body larger than this is kept truncated with its size and hash; Home
# Assistant still holds the original.
QUARANTINE_LIMIT = 1024 * 1024
SUMMARY_SELECT = (
    "SELECT entry_no, session_id, source, started_at, ended_at, time_zone, person_id, "
    "vehicle_id, charger_serial, energy_wh, cost_total, currency, evidence_class "
    "FROM sessions"
)


def columns_from_body(envelope: dict[str, Any]) -> tuple[Any, ...]:
    """The derived column values of a session row, computed from its chained body."""
    facts = session_facts(envelope["record"], require_seq=envelope["source"] == "ha")
    return _columns_from_facts(facts, envelope)


def _columns_from_facts(facts: SessionFacts, envelope: dict[str, Any]) -> tuple[Any, ...]:
    return (
        facts.id,
        envelope["source"],
        facts.seq if envelope["source"] == "ha" else None,
        facts.started_text,
        facts.ended_text,
        facts.local_month,
        facts.time_zone,
        envelope["person_id"],
        envelope["vehicle_id"],
        facts.charger_serial,
        text(facts.meter_start_wh),
        text(facts.meter_end_wh),
        decimal_text(facts.energy_wh),
        text(facts.cost_total),
        facts.currency,
        envelope["evidence"]["class"],
    )


def last_seq(db: Database) -> int:
    """The highest Home Assistant ``seq`` the ledger has durably processed."""
    with db.lock:
        return int(db.meta("ingest.last_seq") or 0)


def append(
    db: Database, records: Iterable[Any], *, source: str, received_at: datetime | None
) -> AppendResult:
    """Store records not stored yet, in one durable transaction.

    Records whose id is already stored are skipped (idempotent delivery); invalid
    records are rejected with a reason and do not stop the others.
    """
    received = iso_utc(received_at or now())
    batch = list(records)
    ha = source == "ha"
    with db.transaction() as conn:
        seq_high = int(db.meta("ingest.last_seq") or 0)
        ids = [record.get("id") for record in batch if isinstance(record, dict)]
        existing = _existing_ids(db, [i for i in ids if isinstance(i, str)])
        attribution = directory.Attribution(conn)
        entry_no, prev_hash = db.tip("sessions")
        rows: list[tuple[Any, ...]] = []
        rejected: list[tuple[str, str]] = []
        quarantined: list[tuple[str, str, bytes]] = []
        gaps: list[dict[str, Any]] = []
        previous_end: str | None = None
        previous_known = False
        duplicates = 0
        for record in batch:
            seq = record.get("seq") if isinstance(record, dict) else None
            if ha and type(seq) is int and seq > seq_high + 1:
                # Home Assistant sends everything it still has after the seq asked for,
                # so a jump means it no longer has the sessions in between.
                if not previous_known:
                    previous_end, previous_known = _last_ha_end(db), True
                gaps.append(_gap(seq_high + 1, seq - 1, previous_end, record))
            if ha and type(seq) is int:
                seq_high = max(seq_high, seq)
            try:
                if ha and (problem := contract.record_problem(record)) is not None:
                    raise RecordError(problem)
                facts = session_facts(record, require_seq=ha)
                if facts.id in existing:
                    duplicates += 1
                    continue
                if source in ("manual", "import"):
                    manual = record.get("manual") or {}
                    person_id, vehicle_id = manual.get("person_id"), manual.get("vehicle_id")
                else:
                    person_id, vehicle_id = attribution.resolve(facts)
                envelope = {
                    "n": entry_no + 1,
                    "entry": "session",
                    "source": source,
                    "received_at": received,
                    "record": record,
                    "person_id": person_id,
                    "vehicle_id": vehicle_id,
                    "evidence": evidence.classify(facts).as_json(),
                }
                body = canonical_json(envelope)
            except (RecordError, ValueError, TypeError, RecursionError) as err:
                reason = _reason(err)
                ref = record.get("id") if isinstance(record, dict) else None
                rejected.append((str(ref)[:200], reason))
                quarantined.append((received, reason, _raw_json(record)))
                continue
            existing.add(facts.id)
            entry_no += 1
            digest = entry_hash(prev_hash, body)
            rows.append((entry_no, *_columns_from_facts(facts, envelope), body, prev_hash, digest))
            prev_hash = digest
            if ha:
                previous_end, previous_known = facts.ended_text, True
        conn.executemany(_INSERT, rows)
        if ha and quarantined:
            conn.executemany(
                "INSERT INTO quarantine (received_at, reason, body) VALUES (?, ?, ?)",
                quarantined,
            )
        if ha:
            db.set_meta("ingest.last_seq", str(seq_high))
        for gap in gaps:
            checkpoints.add(db, "gap", gap)
        checkpoints.add(db, "append", {"source": source, "stored": len(rows)})
    return AppendResult(len(rows), duplicates, rejected, seq_high)


def _existing_ids(db: Database, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(ids):
        query = f"SELECT session_id FROM sessions WHERE session_id IN ({placeholders(len(chunk))})"
        found.update(row[0] for row in db.conn.execute(query, list(chunk)))
    return found


def _reason(err: BaseException) -> str:
    if isinstance(err, RecursionError):
        return "record is nested too deeply"
    return (str(err) or type(err).__name__)[:500]


def _raw_json(value: Any) -> bytes:
    """The record as received, for the quarantine; bounded, so garbage cannot fill it."""
    try:
        raw = json.dumps(value, default=str).encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        raw = b'"<not serialisable: nested too deeply or not JSON>"'
    if len(raw) > QUARANTINE_LIMIT:
        digest = hashlib.sha256(raw).hexdigest()
        raw = raw[:QUARANTINE_LIMIT] + f"... <{len(raw)} bytes, sha256 {digest}>".encode()
    return raw


def _last_ha_end(db: Database) -> str | None:
    row = db.conn.execute(
        "SELECT ended_at FROM sessions WHERE source = 'ha' ORDER BY ha_seq DESC LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def _gap(from_seq: int, to_seq: int, after: str | None, record: Any) -> dict[str, Any]:
    before: str | None = None
    try:
        before = session_facts(record).ended_text
    except (RecordError, ValueError, TypeError, RecursionError):
        before = None
    return {
        "from_seq": from_seq,
        "to_seq": to_seq,
        "after": after,
        "before": before,
        # A key and its values, rendered in the reader's language (i18n.gap_reason).
        "reason_key": "ha_lost",
        "reason_params": {},
    }


# ----------------------------------------------------------------------------- reading


def summary(row: tuple[Any, ...]) -> SessionSummary:
    return SessionSummary(
        entry_no=row[0],
        session_id=row[1],
        source=row[2],
        started_at=row[3],
        ended_at=row[4],
        time_zone=row[5],
        person_id=row[6],
        vehicle_id=row[7],
        charger_serial=row[8],
        energy_wh=Decimal(row[9]),
        cost_total=None if row[10] is None else Decimal(row[10]),
        currency=row[11],
        evidence_class=row[12],
    )


def _filter_clauses(where: SessionFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if where.person_id is not None:
        clauses.append(current.effective_is("person_id"))
        params.extend((where.person_id, where.person_id))
    if where.vehicle_id is not None:
        clauses.append(current.effective_is("vehicle_id"))
        params.extend((where.vehicle_id, where.vehicle_id))
    if where.awaiting_approval:
        clauses.append(current.AWAITING_APPROVAL)
    if where.charger_serial is not None:
        clauses.append("charger_serial = ?")
        params.append(where.charger_serial)
    if where.started_from is not None:
        clauses.append("started_at >= ?")
        params.append(iso_utc(where.started_from))
    if where.started_before is not None:
        clauses.append("started_at < ?")
        params.append(iso_utc(where.started_before))
    return clauses, params


def page(db: Database, where: SessionFilter, *, limit: int, cursor: str | None) -> SessionPage:
    """Sessions newest first. ``cursor`` is the previous page's ``next_cursor``.

    Person and vehicle, as shown and as filtered, are the current ones (after
    reassignments), as in statements.
    """
    if not 1 <= limit <= 1000:
        raise LedgerError("limit must be between 1 and 1000")
    clauses, params = _filter_clauses(where)
    if cursor is not None:
        started, _, entry_text = cursor.rpartition("~")
        if not started or not entry_text.isdigit():
            raise LedgerError("invalid cursor")
        clauses.append("(started_at, entry_no) < (?, ?)")
        params.extend((started, int(entry_text)))
    query = current.SUMMARY_SELECT
    if clauses:
        query += " WHERE " + " AND ".join(clauses)
    query += " ORDER BY started_at DESC, entry_no DESC LIMIT ?"
    params.append(limit + 1)
    with db.lock:
        rows = db.conn.execute(query, params).fetchall()
    items = [summary(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = f"{last.started_at}~{last.entry_no}"
    return SessionPage(items, next_cursor)


def rows(
    db: Database, where: SessionFilter, columns: tuple[str, ...], *, page_size: int
) -> Iterator[tuple[Any, ...]]:
    """Raw column values of the matching sessions, newest first.

    Pages are fetched with the same keyset as :func:`page`, holding the lock only per
    page, so an export of a million rows neither blocks ingestion nor holds more than
    one page in memory. ``columns`` are names of the sessions table.
    """
    allowed = set(COLUMNS) | {"entry_no"}
    if not columns or not set(columns) <= allowed:
        raise LedgerError("unknown session column")
    clauses, params = _filter_clauses(where)
    shown = [
        current.effective(name) if name in ("person_id", "vehicle_id") else name for name in columns
    ]
    select = (
        f"WITH {current.MOVED_CTE} SELECT {', '.join(shown)}, started_at, entry_no FROM sessions"
    )
    after: tuple[str, int] | None = None
    while True:
        page_clauses = list(clauses)
        page_params = list(params)
        if after is not None:
            page_clauses.append("(started_at, entry_no) < (?, ?)")
            page_params.extend(after)
        query = select
        if page_clauses:
            query += " WHERE " + " AND ".join(page_clauses)
        query += " ORDER BY started_at DESC, entry_no DESC LIMIT ?"
        page_params.append(page_size)
        with db.lock:
            found = db.conn.execute(query, page_params).fetchall()
        width = len(columns)
        for row in found:
            yield row[:width]
        if len(found) < page_size:
            return
        after = (found[-1][-2], found[-1][-1])


def counts(db: Database) -> dict[str, int]:
    names = {"sessions": "sessions", "adjustments": "adjustments", "quarantined": "quarantine"}
    with db.lock:
        return {
            name: int(db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for name, table in names.items()
        }
