"""Verify re-checks the signed meter values (OCMF) of every session stored as signed evidence.

The hash chain shows that rows were changed outside the ledger, but someone with the file
can recompute a whole chain. Only the meter holds the key its values were signed with,
so a session whose evidence class is ``signed_ocmf`` must still carry values whose
signatures verify against the stored public key and whose readings prove the session's
energy, exactly as when it was stored (``evidence.classify``).

This pass reads the rows independently of the chain walk, which stops at the first bad
entry: an edited OCMF value is named with its session even when it also broke the chain.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from ev_charging_ledger import evidence, ocmf
from ev_charging_ledger.records import EVIDENCE_SIGNED_OCMF, session_facts

from .db import Database

# Why a stored OCMF value no longer proves its session; each has a text key
# ``ocmf_failure_<reason>`` (en/de).
SIGNATURE = "signature"  # the signature does not match the payload
KEY = "key"  # the stored public key cannot be read
UNREADABLE = "unreadable"  # the stored value is not an OCMF record
READINGS = "readings"  # signatures hold, but the readings do not prove the session
MISSING = "missing"  # stored as signed evidence, but no OCMF value is left
RECORD = "record"  # the stored session record cannot be read
REASONS = (SIGNATURE, KEY, UNREADABLE, READINGS, MISSING, RECORD)
# Every failure is reported up to this many; the count beyond it is still given.
MAX_LISTED = 1000
_MARKER = json.dumps(EVIDENCE_SIGNED_OCMF).encode()
PAGE = 500
# The body of every session graded signed_ocmf names the class; sessions without it are
# skipped in SQLite instead of being decoded here (most sessions have no OCMF).
_PAGE_QUERY = (
    "SELECT entry_no, session_id, evidence_class, body FROM sessions WHERE entry_no > ? "
    "AND (evidence_class = ? OR instr(CAST(body AS BLOB), ?) > 0) ORDER BY entry_no LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class OcmfFailure:
    session_id: str
    entry_no: int
    reason: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "entry_no": self.entry_no,
            "reason_key": self.reason,
            "detail": self.detail,
        }


@dataclass(slots=True)
class OcmfRecheck:
    sessions_checked: int = 0
    values_checked: int = 0
    failures: list[OcmfFailure] = field(default_factory=list)
    failures_total: int = 0

    def fail(self, failure: OcmfFailure) -> None:
        self.failures_total += 1
        if len(self.failures) < MAX_LISTED:
            self.failures.append(failure)


def recheck(db: Database) -> OcmfRecheck:
    """Re-verify the OCMF values of every session stored as signed evidence.

    Rows are read in pages under the lock and checked outside it: a signature check
    takes a fraction of a millisecond, and ingest must not wait for a million of them.
    """
    result = OcmfRecheck()
    after = 0
    while True:
        with db.lock:
            try:
                page = db.conn.execute(_PAGE_QUERY, (after, EVIDENCE_SIGNED_OCMF, _MARKER, PAGE))
                rows = page.fetchall()
            except sqlite3.Error as err:
                result.fail(OcmfFailure("-", after, RECORD, f"sessions cannot be read: {err}"))
                return result
        for entry_no, session_id, column_class, body in rows:
            try:
                _check_row(result, entry_no, str(session_id)[:200], column_class, body)
            except Exception as err:  # verify reports any content, it never raises
                result.fail(OcmfFailure(str(session_id)[:200], entry_no, RECORD, repr(err)[:300]))
        if len(rows) < PAGE:
            return result
        after = rows[-1][0]


def _check_row(
    result: OcmfRecheck, entry_no: int, session_id: str, column_class: Any, body: Any
) -> None:
    def fail(reason: str, detail: str) -> None:
        result.fail(OcmfFailure(session_id, entry_no, reason, detail[:300]))

    if not isinstance(body, bytes | str):
        fail(RECORD, f"body is stored as {type(body).__name__}")
        return
    envelope = json.loads(body)
    stored = envelope.get("evidence") if isinstance(envelope, dict) else None
    body_class = stored.get("class") if isinstance(stored, dict) else None
    if EVIDENCE_SIGNED_OCMF not in (column_class, body_class):
        return  # the marker appeared in other text; this session claims no signed proof
    result.sessions_checked += 1
    facts = session_facts(envelope["record"], require_seq=False)
    items = [item for item in facts.signed_meter_values if item.get("format", "OCMF") == "OCMF"]
    if not items:
        fail(MISSING, "the session is graded signed_ocmf but carries no OCMF value")
        return
    # The same grading as when the session was stored: signatures, then the readings
    # against the session's energy and meter, begin/end, status, pagination.
    graded = evidence.classify(facts)
    result.values_checked += len(items)
    if graded.evidence_class == EVIDENCE_SIGNED_OCMF:
        return
    # Why not: a value that fails on its own, else the readings.
    value_failed = False
    for index, item in enumerate(items):
        problem = _value_problem(item)
        if problem is not None:
            value_failed = True
            fail(problem[0], f"value {index}: {problem[1]}")
    if not value_failed:
        problems = (graded.ocmf or {}).get("problems") or ["the values no longer verify"]
        fail(READINGS, "; ".join(str(problem) for problem in problems))


def _value_problem(item: dict[str, Any]) -> tuple[str, str] | None:
    data = item.get("data")
    if not isinstance(data, str):
        return UNREADABLE, "no OCMF data"
    try:
        record = ocmf.parse(data)
    except ocmf.OcmfError as err:
        return UNREADABLE, str(err)
    key_text = item.get("public_key") or record.embedded_public_key
    try:
        if not isinstance(key_text, str) or not key_text:
            raise ocmf.OcmfError("no public key is stored with the value")
        ocmf.load_public_key(key_text)
    except ocmf.OcmfError as err:
        return KEY, str(err)
    try:
        ocmf.verify_signature(record, key_text)
    except ocmf.OcmfError as err:
        return SIGNATURE, str(err)
    return None
