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

    def as_json(self) -> dict[str, Any]:
        problem = self.first_problem
        return {
            "ok": self.ok,
            "sessions_checked": self.sessions_checked,
            "adjustments_checked": self.adjustments_checked,
            "first_problem": None
            if problem is None
            else {
                "table": problem.table,
                "entry_no": problem.entry_no,
                "ref": problem.ref,
                "message": problem.message,
            },
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
) -> Iterator[ChainProblem | None]:
    """Yield None per good entry and a ChainProblem for the first bad one, then stop."""
    previous_no, previous_hash = anchor if anchor is not None else (0, GENESIS_HASH)
    query = (
        f"SELECT entry_no, {ref_column}, body, prev_hash, hash, {', '.join(columns)} "
        f"FROM {table} ORDER BY entry_no"
    )
    for row in connection.execute(query):
        entry_no, ref, body, prev_hash, stored_hash = row[:5]
        ref_text = str(ref)

        def problem(
            message: str, entry_no: int = entry_no, ref_text: str = ref_text
        ) -> ChainProblem:
            return ChainProblem(table, entry_no, ref_text, message)

        if entry_no != previous_no + 1:
            yield problem(f"entries {previous_no + 1}..{entry_no - 1} are missing")
            return
        if prev_hash != previous_hash:
            yield problem("does not link to the previous entry (prev_hash differs)")
            return
        if entry_hash(prev_hash, bytes(body)) != stored_hash:
            yield problem("content does not match its hash (the entry was edited)")
            return
        try:
            decoded = json.loads(bytes(body))
            if decoded.get("n") != entry_no:
                yield problem("body names a different position (entries were moved)")
                return
            expected = expected_columns(decoded)
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            yield problem(f"body cannot be read: {err}")
            return
        actual = tuple(row[5:])
        if actual != expected:
            changed = [
                name
                for name, have, want in zip(columns, actual, expected, strict=True)
                if have != want
            ]
            yield problem("column(s) edited outside the chain: " + ", ".join(changed))
            return
        previous_no, previous_hash = entry_no, stored_hash
        yield None
