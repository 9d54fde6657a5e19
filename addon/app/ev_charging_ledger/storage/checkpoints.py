"""Checkpoints: a third chain that names where the other two start and end.

A hash chain proves the order of its rows but not its own ends: deleting the oldest
rows and writing a matching anchor, or deleting the newest rows, leaves a chain that
links. Every write to the ledger therefore appends, in the same transaction, a
checkpoint holding the head (last entry and hash) and the anchor of both chains and the
ingest position. ``verify`` requires the chains to start at the last checkpoint's
anchors and end at its heads. Gaps in Home Assistant's sequence and restores are
checkpoints too, so they are part of what is hashed and cannot be dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ev_charging_ledger import i18n
from ev_charging_ledger.records import canonical_json, iso_utc

from .chain import entry_hash
from .db import Database, now

KINDS = ("start", "append", "adjustment", "purge", "gap", "restore")
COLUMNS = ("kind", "created_at")
CHAINS = ("sessions", "adjustments")


@dataclass(frozen=True, slots=True)
class Gap:
    """Home Assistant sequence numbers the ledger does not hold and cannot refill."""

    from_seq: int
    to_seq: int
    after: str | None  # ended_at of the last stored session before the gap
    before: str | None  # ended_at of the first session after it
    reason: str  # English text, as gaps recorded before reason keys stored it
    recorded_at: str
    reason_key: str = ""
    reason_params: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "reason": self.reason,
            "reason_key": self.reason_key,
            "reason_params": self.reason_params,
        }
        return {
            "from_seq": self.from_seq,
            "to_seq": self.to_seq,
            "after": self.after,
            "before": self.before,
            # In English for the API and the command line; pages use the key.
            "reason": i18n.gap_reason("en", stored),
            "reason_key": self.reason_key or None,
            "reason_params": self.reason_params,
            "recorded_at": self.recorded_at,
        }

    def describe(self) -> str:
        count = self.to_seq - self.from_seq + 1
        window = f" (between {self.after or 'the start'} and {self.before or 'now'})"
        return (
            f"{count} session(s) with Home Assistant seq {self.from_seq}-{self.to_seq} are "
            f"missing{window}: {self.as_json()['reason']}"
        )

    def covers(self, start: str, end: str) -> bool:
        """Whether the gap's window overlaps [start, end) (ISO UTC texts)."""
        return (self.after is None or self.after < end) and (
            self.before is None or self.before >= start
        )


def columns_from_body(envelope: dict[str, Any]) -> tuple[Any, ...]:
    return (envelope["kind"], envelope["created_at"])


def _head(db: Database, table: str) -> list[Any] | None:
    row = db.conn.execute(
        f"SELECT entry_no, hash FROM {table} ORDER BY entry_no DESC LIMIT 1"
    ).fetchone()
    if row is not None:
        return [int(row[0]), str(row[1])]
    anchor = db.anchor(table)
    return None if anchor is None else list(anchor)


def add(db: Database, kind: str, data: dict[str, Any] | None = None) -> None:
    """Append a checkpoint; call inside the transaction of the write it follows."""
    entry_no, prev_hash = db.tip("checkpoints")
    entry_no += 1
    created = iso_utc(now())
    envelope = {
        "n": entry_no,
        "entry": "checkpoint",
        "kind": kind,
        "created_at": created,
        "heads": {table: _head(db, table) for table in CHAINS},
        "anchors": {
            table: None if (anchor := db.anchor(table)) is None else list(anchor)
            for table in CHAINS
        },
        "last_seq": int(db.meta("ingest.last_seq") or 0),
        "data": data or {},
    }
    body = canonical_json(envelope)
    db.conn.execute(
        "INSERT INTO checkpoints (entry_no, kind, created_at, body, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (entry_no, kind, created, body, prev_hash, entry_hash(prev_hash, body)),
    )


def ensure_started(db: Database) -> None:
    """Give a new database, or one from before checkpoints existed, its first checkpoint.

    Never an existing one whose checkpoints were deleted: that would bless whatever the
    file now holds, so ``verify`` keeps reporting it instead.
    """
    if db.opened_at_version >= 2:
        return
    with db.transaction():
        if db.conn.execute("SELECT 1 FROM checkpoints LIMIT 1").fetchone() is None:
            add(db, "start", {"schema_from": db.opened_at_version})


def record_restore(db: Database, ledger_seq: int, acknowledged_seq: int) -> None:
    """Chain the fact that Home Assistant had acknowledged more than the ledger holds."""
    with db.transaction():
        add(db, "restore", {"ledger_seq": ledger_seq, "ha_acknowledged_seq": acknowledged_seq})


def record_rebase(db: Database, ledger_seq: int, ha_last_seq: int, acknowledged_seq: int) -> None:
    """Home Assistant's sequence is behind the ledger's (Home Assistant was restored from
    an older backup and numbers new sessions again from an older seq): continue from what
    it has seen acknowledged, and chain that it happened. What it sends again that the
    ledger already stored is recognised by id."""
    with db.transaction():
        db.set_meta("ingest.last_seq", str(acknowledged_seq))
        add(
            db,
            "restore",
            {
                "ledger_seq": ledger_seq,
                "ha_acknowledged_seq": acknowledged_seq,
                "ha_last_seq": ha_last_seq,
                "home_assistant_behind": True,
            },
        )


def describe_restore(item: dict[str, Any]) -> str:
    if item.get("home_assistant_behind"):
        return (
            f"Home Assistant restore detected at {item['recorded_at']}: it had numbered "
            f"sessions up to seq {item.get('ha_last_seq')} (acknowledged "
            f"{item.get('ha_acknowledged_seq')}), the ledger was at seq "
            f"{item.get('ledger_seq')}; ingest continues from Home Assistant's position"
        )
    return (
        f"restore detected at {item['recorded_at']}: the ledger was at seq "
        f"{item.get('ledger_seq')}, Home Assistant had {item.get('ha_acknowledged_seq')} "
        "acknowledged"
    )


def latest(db: Database) -> dict[str, Any] | None:
    with db.lock:
        row = db.conn.execute(
            "SELECT body FROM checkpoints ORDER BY entry_no DESC LIMIT 1"
        ).fetchone()
    return None if row is None else dict(json.loads(bytes(row[0])))


def first_kind(db: Database) -> str | None:
    row = db.conn.execute("SELECT kind FROM checkpoints ORDER BY entry_no LIMIT 1").fetchone()
    return None if row is None else str(row[0])


def _gap(envelope: dict[str, Any]) -> Gap:
    data = envelope["data"]
    return Gap(
        int(data["from_seq"]),
        int(data["to_seq"]),
        data.get("after"),
        data.get("before"),
        str(data.get("reason") or ""),
        str(envelope["created_at"]),
        str(data.get("reason_key") or ""),
        dict(params) if isinstance(params := data.get("reason_params"), dict) else {},
    )


def gaps(db: Database) -> list[Gap]:
    """Every recorded gap, oldest first."""
    with db.lock:
        found = db.conn.execute(
            "SELECT body FROM checkpoints WHERE kind = 'gap' ORDER BY entry_no"
        ).fetchall()
    return [_gap(json.loads(bytes(row[0]))) for row in found]


def restores(db: Database) -> list[dict[str, Any]]:
    """Every recorded restore (the ledger was behind what Home Assistant knew it had)."""
    with db.lock:
        found = db.conn.execute(
            "SELECT body FROM checkpoints WHERE kind = 'restore' ORDER BY entry_no"
        ).fetchall()
    result = []
    for row in found:
        envelope = json.loads(bytes(row[0]))
        result.append({**envelope["data"], "recorded_at": envelope["created_at"]})
    return result
