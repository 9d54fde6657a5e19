"""The hash chain over sessions and adjustments.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical
body, and the body names its own position, so editing, removing (except at the tip, see
DOCS.md) or reordering rows breaks the chain at the first affected entry.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .ocmf_recheck import OcmfFailure
from .schema import GENESIS_HASH


def entry_hash(prev_hash: str, body: bytes) -> str:
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ChainProblem:
    table: str
    entry_no: int
    ref: str
    message: str

    def describe(self) -> str:
        return f"{self.table} entry {self.entry_no} ({self.ref}): {self.message}"


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    sessions_checked: int
    adjustments_checked: int
    first_problem: ChainProblem | None
    checkpoints_checked: int = 0
    # Recorded gaps and restores: the chain is intact, but these are reported every time.
    gaps: tuple[str, ...] = ()
    restores: tuple[str, ...] = ()
    head: str | None = None
    # Signed meter values (OCMF) re-verified against their stored public keys, and the
    # sessions whose values no longer prove them (ocmf_recheck).
    ocmf_checked: int = 0
    ocmf_failures: tuple[OcmfFailure, ...] = ()
    ocmf_failures_total: int = 0

    def as_json(self) -> dict[str, Any]:
        problem = self.first_problem
        return {
            "ok": self.ok,
            "sessions_checked": self.sessions_checked,
            "adjustments_checked": self.adjustments_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "first_problem": None
            if problem is None
            else {
                "table": problem.table,
                "entry_no": problem.entry_no,
                "ref": problem.ref,
                "message": problem.message,
            },
            "gaps": list(self.gaps),
            "restores": list(self.restores),
            "head": self.head,
            "ocmf_checked": self.ocmf_checked,
            "ocmf_failures": [failure.as_json() for failure in self.ocmf_failures],
            "ocmf_failures_total": self.ocmf_failures_total,
        }


# Given a decoded body, the column values the row must hold (without entry_no/hash).
ColumnsFromBody = Callable[[dict[str, Any]], tuple[Any, ...]]


def walk(
    connection: sqlite3.Connection,
    table: str,
    columns: tuple[str, ...],
    ref_column: str,
    expected_columns: ColumnsFromBody,
    anchor: tuple[int, str] | None,
) -> Iterator[ChainProblem | tuple[int, str]]:
    """Yield (entry_no, hash) per good entry and a ChainProblem for the first bad one.

    Any content is reported, never raised: a column rewritten with another type, a
    body that is not JSON, a table that cannot be read.
    """
    previous_no, previous_hash = anchor if anchor is not None else (0, GENESIS_HASH)
    query = (
        f"SELECT entry_no, {ref_column}, body, prev_hash, hash, {', '.join(columns)} "
        f"FROM {table} ORDER BY entry_no"
    )
    entry_no: Any = previous_no
    ref_text = "-"
    try:
        for row in connection.execute(query):
            entry_no, ref, stored_hash = row[0], row[1], row[4]
            ref_text = str(ref)[:200]
            message = _check_row(row, columns, expected_columns, previous_no, previous_hash)
            if message is not None:
                yield ChainProblem(table, int(entry_no), ref_text, message)
                return
            previous_no, previous_hash = int(entry_no), str(stored_hash)
            yield previous_no, previous_hash
    except (sqlite3.Error, ValueError, TypeError, OverflowError, RecursionError) as err:
        yield ChainProblem(table, int(entry_no), ref_text, f"cannot be read: {err}")


def _check_row(
    row: tuple[Any, ...],
    columns: tuple[str, ...],
    expected_columns: ColumnsFromBody,
    previous_no: int,
    previous_hash: str,
) -> str | None:
    entry_no, _, body, prev_hash, stored_hash = row[:5]
    if type(entry_no) is not int:
        return f"entry number is stored as {type(entry_no).__name__}"
    if entry_no != previous_no + 1:
        if entry_no <= previous_no:
            return f"entry {entry_no} is before the chain's start {previous_no + 1}"
        return f"entries {previous_no + 1}..{entry_no - 1} are missing"
    if type(body) is not bytes:
        return f"body is stored as {type(body).__name__}, not as the original bytes"
    if type(prev_hash) is not str or type(stored_hash) is not str:
        return "hash columns are not text"
    if prev_hash != previous_hash:
        return "does not link to the previous entry (prev_hash differs)"
    if entry_hash(prev_hash, body) != stored_hash:
        return "content does not match its hash (the entry was edited)"
    try:
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            return "body is not an object"
        if decoded.get("n") != entry_no:
            return "body names a different position (entries were moved)"
        expected = expected_columns(decoded)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        return f"body cannot be read: {err!r}"[:300]
    actual = tuple(row[5:])
    # Compared with their types: 7400 stored where '7400' belongs is an edit too.
    if any(
        type(have) is not type(want) or have != want
        for have, want in zip(actual, expected, strict=True)
    ):
        changed = [
            name
            for name, have, want in zip(columns, actual, expected, strict=True)
            if type(have) is not type(want) or have != want
        ]
        return "column(s) edited outside the chain: " + ", ".join(changed)
    return None
