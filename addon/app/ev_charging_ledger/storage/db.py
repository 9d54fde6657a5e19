"""The SQLite connection of the ledger: one connection behind a lock, transactions, meta.

Every storage module works on a :class:`Database`; they share one connection because
SQLite serialises writers anyway and one connection keeps every read consistent with
the last commit.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from ev_charging_ledger.records import decimal_text

from . import schema

# SQLite limits bound parameters; 500 per query stays well below it.
CHUNK = 500


class LedgerError(ValueError):
    """A request the ledger refuses (unknown session, bad adjustment, legal hold...)."""


class NotFoundError(LedgerError):
    """The thing asked for does not exist."""


def now() -> datetime:
    return datetime.now(UTC)


def text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def chunks[T](items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


class Database:
    """The connection, its lock and the ``meta`` key/value table."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30
        )
        # WAL lets readers run during a write; synchronous=FULL makes each commit
        # durable before we acknowledge it to Home Assistant.
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        # The schema version the file had when opened (0: a new file).
        self.opened_at_version = schema.migrate(self.conn)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                # SQLite has already rolled back after some errors (SQLITE_FULL among
                # them); a second ROLLBACK would replace the real error with its own.
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delete_meta(self, key: str) -> None:
        self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))

    def tip(self, table: str) -> tuple[int, str]:
        row = self.conn.execute(
            f"SELECT entry_no, hash FROM {table} ORDER BY entry_no DESC LIMIT 1"
        ).fetchone()
        if row is not None:
            return int(row[0]), str(row[1])
        anchor = self.anchor(table)
        return anchor if anchor is not None else (0, schema.GENESIS_HASH)

    def anchor(self, table: str) -> tuple[int, str] | None:
        value = self.meta(f"anchor.{table}")
        if value is None:
            return None
        data = json.loads(value)
        return int(data["entry_no"]), str(data["hash"])
