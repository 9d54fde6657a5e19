"""Tampering with the ledger file is reported by verify, never raised, whatever it is.

Each test edits the SQLite file through a separate connection, as someone with the file
would, dropping the append-only triggers first because they can do that too.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ev_charging_ledger.cli import main as cli_main
from ev_charging_ledger.storage import Ledger
from tests.ledger.integration_records import make_record

TRIGGERS = (
    "sessions_append_only_update",
    "adjustments_append_only_update",
    "checkpoints_append_only_update",
    "checkpoints_append_only_delete",
)


def _ledger_with(path: Path, count: int = 120) -> None:
    with Ledger(path) as ledger:
        # Several batches, as ingest writes them: one checkpoint each.
        for first in range(1, count + 1, 40):
            ledger.append_sessions([make_record(seq) for seq in range(first, first + 40)])
        ledger.add_adjustment(make_record(5)["id"], "note", reason="checked", author="admin")
        assert ledger.verify().ok


def _tamper(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as db:
        for trigger in TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for statement in statements:
            db.execute(statement)


def _verify(path: Path) -> tuple[bool, str]:
    with Ledger(path) as ledger:
        report = ledger.verify()
    json.dumps(report.as_json())  # always serialisable for /api/verify
    problem = report.first_problem
    return report.ok, "" if problem is None else problem.describe()


def test_untouched_ledger_verifies(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    assert _verify(path) == (True, "")


def test_deleting_the_oldest_rows_with_a_matching_anchor_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    with sqlite3.connect(path) as db:
        entry_no, digest = db.execute(
            "SELECT entry_no, hash FROM sessions WHERE entry_no = 100"
        ).fetchone()
    anchor = json.dumps({"entry_no": entry_no, "hash": digest})
    _tamper(
        path,
        "DELETE FROM sessions WHERE entry_no <= 100",
        f"INSERT INTO meta (key, value) VALUES ('anchor.sessions', '{anchor}')",
    )
    ok, problem = _verify(path)
    assert not ok
    assert "anchor in meta" in problem


def test_deleting_the_oldest_rows_without_an_anchor_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    _tamper(path, "DELETE FROM sessions WHERE entry_no <= 100")
    ok, problem = _verify(path)
    assert not ok
    assert "entries 1..100 are missing" in problem


def test_deleting_the_newest_rows_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    _tamper(path, "DELETE FROM sessions WHERE entry_no > 110")
    ok, problem = _verify(path)
    assert not ok
    assert "entries 111..120 are missing (the newest were removed)" in problem


def test_deleting_the_newest_adjustment_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    _tamper(path, "DELETE FROM adjustments")
    ok, problem = _verify(path)
    assert not ok
    assert problem.startswith("adjustments")


def test_rows_appended_outside_the_ledger_are_detected(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    # A row linked correctly onto the chain, but written without the ledger's checkpoint.
    with Ledger(path) as ledger:
        ledger._db.execute("DROP TRIGGER checkpoints_append_only_delete")
        ledger.append_sessions([make_record(121)])
        ledger._db.execute(
            "DELETE FROM checkpoints WHERE entry_no = (SELECT max(entry_no) FROM checkpoints)"
        )
    ok, problem = _verify(path)
    assert not ok
    assert "written outside the ledger" in problem


def test_editing_the_anchor_after_a_purge_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        old = [make_record(seq, started=datetime(2014, 5, seq, 10, tzinfo=UTC)) for seq in (1, 2)]
        ledger.append_sessions([*old, make_record(3, started=datetime(2025, 5, 1, tzinfo=UTC))])
        assert ledger.purge_expired(date(2026, 1, 1)) == 2
        assert ledger.verify().ok
    _tamper(
        path,
        'UPDATE meta SET value = \'{"entry_no": 1, "hash": "' + "0" * 64 + "\"}' "
        "WHERE key = 'anchor.sessions'",
    )
    ok, problem = _verify(path)
    assert not ok
    assert "anchor in meta" in problem


def test_rewinding_the_ingest_position_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    _tamper(path, "UPDATE meta SET value = '40' WHERE key = 'ingest.last_seq'")
    ok, problem = _verify(path)
    assert not ok
    assert "ingest position 40 is not the chained 120" in problem


def test_emptied_checkpoints_are_detected_and_not_blessed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    _tamper(path, "DELETE FROM checkpoints")
    assert _verify(path) == (False, "checkpoints entry 1 (-): no checkpoint: the chain was emptied")
    # Opening it again (and writing) does not start a fresh, "valid" checkpoint chain.
    with Ledger(path) as ledger:
        ledger.append_sessions([make_record(121)])
    ok, problem = _verify(path)
    assert not ok
    assert "does not begin with its start" in problem


TYPE_CHANGES: dict[str, str] = {
    "body as text": "UPDATE sessions SET body = CAST(body AS TEXT) WHERE entry_no = 7",
    # SQLite's column affinity turns 7400 into '7400' in a TEXT column; a BLOB stays.
    "energy as blob": "UPDATE sessions SET energy_wh = CAST('7400' AS BLOB) WHERE entry_no = 7",
    "seq as blob": "UPDATE sessions SET ha_seq = CAST('7' AS BLOB) WHERE entry_no = 7",
    "seq as real": "UPDATE sessions SET ha_seq = 7.5 WHERE entry_no = 7",
    "hash as blob": "UPDATE sessions SET hash = CAST(hash AS BLOB) WHERE entry_no = 7",
    "body not json": ("UPDATE sessions SET body = X'00FF', hash = 'x' WHERE entry_no = 7"),
    "huge number": "UPDATE sessions SET entry_no = 9223372036854775807 WHERE entry_no = 120",
    "dropped column": "ALTER TABLE sessions DROP COLUMN evidence_class",
    "dropped table": "DROP TABLE adjustments",
    "checkpoint body as text": (
        "UPDATE checkpoints SET body = CAST(body AS TEXT) WHERE entry_no = 2"
    ),
}


@pytest.mark.parametrize("change", sorted(TYPE_CHANGES))
def test_any_content_is_reported_never_raised(tmp_path: Path, change: str) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    _tamper(path, TYPE_CHANGES[change])
    ok, problem = _verify(path)
    assert not ok
    assert problem


def test_body_rewritten_as_text_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    _tamper(path, TYPE_CHANGES["body as text"])
    assert _verify(path) == (
        False,
        f"sessions entry 7 ({make_record(7)['id']}): body is stored as str, not as the "
        "original bytes",
    )


def test_cli_verify_reports_a_broken_file_with_exit_code_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path)
    _tamper(path, TYPE_CHANGES["energy as blob"])
    assert cli_main(["verify", "--data-dir", str(tmp_path)]) == 1
    assert "BROKEN: sessions entry 7" in capsys.readouterr().out


def test_schema_1_file_gets_its_start_checkpoint_on_upgrade(tmp_path: Path) -> None:
    """A ledger written before checkpoints existed is adopted once, as it is."""
    path = tmp_path / "ledger.sqlite3"
    _ledger_with(path, count=40)
    _tamper(
        path,
        "DROP TABLE checkpoints",
        "DROP INDEX sessions_ha_seq",
        "PRAGMA user_version = 1",
    )
    ok, _ = _verify(path)
    assert ok
    with Ledger(path) as ledger:
        assert ledger._db.execute("SELECT kind FROM checkpoints").fetchall() == [("start",)]
