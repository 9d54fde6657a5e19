"""Adjustments: corrections, exclusions and reassignments chained next to the sessions.

A session row is never edited; its effective state is the row with its adjustments
applied in chain order (:class:`~.models.EffectiveState`).
"""

from __future__ import annotations

import json
from typing import Any

from ev_charging_ledger.records import (
    RecordError,
    canonical_json,
    decimal_text,
    iso_utc,
    parse_decimal,
)

from . import checkpoints, directory
from .chain import entry_hash
from .db import Database, LedgerError, NotFoundError, chunks, now, placeholders
from .models import Adjustment

ADJUSTMENT_KINDS = ("exclude", "include", "correct_energy", "reassign", "note")
COLUMNS = ("session_id", "kind", "created_at", "author", "reason")


def columns_from_body(envelope: dict[str, Any]) -> tuple[Any, ...]:
    """The derived column values of an adjustment row, from its chained body."""
    return tuple(envelope[name] for name in COLUMNS)


def _validated_data(db: Database, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind == "correct_energy":
        try:
            energy = parse_decimal(data.get("energy_wh"), "energy_wh")
        except RecordError as err:
            raise LedgerError(str(err)) from err
        if energy is None or energy < 0:
            raise LedgerError("energy_wh must be a non-negative number")
        return {"energy_wh": decimal_text(energy)}
    if kind == "reassign":
        person_id, vehicle_id = data.get("person_id"), data.get("vehicle_id")
        for name, value in (("person_id", person_id), ("vehicle_id", vehicle_id)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise LedgerError(f"{name} must be an integer or null")
        directory.check_people(db, person_id, vehicle_id)
        return {"person_id": person_id, "vehicle_id": vehicle_id}
    return {}


def add_adjustment(
    db: Database,
    session_id: str,
    kind: str,
    *,
    reason: str,
    author: str,
    data: dict[str, Any] | None,
) -> Adjustment:
    """Correct, exclude, re-include or reassign a session without editing it."""
    if kind not in ADJUSTMENT_KINDS:
        raise LedgerError(f"kind must be one of {', '.join(ADJUSTMENT_KINDS)}")
    if not reason.strip():
        raise LedgerError("an adjustment needs a reason")
    if not author.strip():
        raise LedgerError("an adjustment needs an author")
    payload = _validated_data(db, kind, data or {})
    with db.transaction() as conn:
        if (
            conn.execute("SELECT 1 FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
            is None
        ):
            raise NotFoundError(f"no session {session_id}")
        entry_no, prev_hash = db.tip("adjustments")
        entry_no += 1
        created = iso_utc(now())
        envelope = {
            "n": entry_no,
            "entry": "adjustment",
            "session_id": session_id,
            "kind": kind,
            "created_at": created,
            "author": author,
            "reason": reason,
            "data": payload,
        }
        body = canonical_json(envelope)
        digest = entry_hash(prev_hash, body)
        conn.execute(
            f"INSERT INTO adjustments (entry_no, {', '.join(COLUMNS)}, body, "
            "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry_no, session_id, kind, created, author, reason, body, prev_hash, digest),
        )
        checkpoints.add(db, "adjustment", {"entry_no": entry_no})
    return Adjustment(entry_no, session_id, kind, created, author, reason, payload)


def adjustments(db: Database, session_ids: list[str]) -> dict[str, list[Adjustment]]:
    """The adjustments of these sessions, in chain order, by session id."""
    result: dict[str, list[Adjustment]] = {}
    with db.lock:
        for chunk in chunks(session_ids):
            query = (
                "SELECT entry_no, session_id, kind, created_at, author, reason, body "
                f"FROM adjustments WHERE session_id IN ({placeholders(len(chunk))}) "
                "ORDER BY entry_no"
            )
            for row in db.conn.execute(query, list(chunk)):
                result.setdefault(row[1], []).append(
                    Adjustment(
                        entry_no=row[0],
                        session_id=row[1],
                        kind=row[2],
                        created_at=row[3],
                        author=row[4],
                        reason=row[5],
                        data=json.loads(row[6])["data"],
                    )
                )
    return result


def reassignments(db: Database) -> dict[str, tuple[int | None, int | None]]:
    """The latest (person, vehicle) of every reassigned session."""
    latest: dict[str, tuple[int | None, int | None]] = {}
    with db.lock:
        for session_id, body in db.conn.execute(
            "SELECT session_id, body FROM adjustments WHERE kind = 'reassign' ORDER BY entry_no"
        ):
            data = json.loads(body)["data"]
            latest[session_id] = (data.get("person_id"), data.get("vehicle_id"))
    return latest
