"""The ledger's storage: idempotent appends, the hash chain, adjustments, retention."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ev_charging_ledger.storage import Ledger, LedgerError, SessionFilter
from tests.ledger.integration_records import make_record


def test_append_is_idempotent_on_id_and_tracks_seq(ledger: Ledger) -> None:
    first = ledger.append_sessions([make_record(1), make_record(2)])
    again = ledger.append_sessions([make_record(2), make_record(3)])

    assert (first.stored, first.duplicates) == (2, 0)
    assert (again.stored, again.duplicates) == (1, 1)
    assert ledger.last_seq() == 3
    assert ledger.counts()["sessions"] == 3


def test_invalid_records_are_rejected_with_a_reason(ledger: Ledger) -> None:
    bad_time = make_record(2)
    bad_time["ended_at"] = "2020-01-01T00:00:00Z"
    result = ledger.append_sessions([make_record(1), bad_time, {"schema": 2, "id": "x"}])

    assert result.stored == 1
    assert [reason for _, reason in result.rejected] == [
        f"session {bad_time['id']}: ended_at is before started_at",
        "unsupported schema 2 (expected 1)",
    ]


def test_sessions_are_append_only(ledger: Ledger) -> None:
    ledger.append_sessions([make_record(1)])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ledger._db.execute("UPDATE sessions SET energy_wh = '1'")


def _edit(path: Path, sql: str) -> None:
    # A separate connection, as an attacker with the file would use; the triggers are
    # dropped first because a real attacker can do that too.
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER sessions_append_only_update")
        db.execute(sql)


def test_verify_names_a_session_edited_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        ledger.append_sessions([make_record(seq) for seq in range(1, 6)])
        assert ledger.verify().ok
    target = make_record(3)["id"]
    _edit(path, f"UPDATE sessions SET energy_wh = '99999' WHERE session_id = '{target}'")
    with Ledger(path) as ledger:
        report = ledger.verify()
    assert not report.ok
    assert report.first_problem is not None
    assert report.first_problem.ref == target
    assert report.first_problem.entry_no == 3
    assert "energy_wh" in report.first_problem.message


def test_verify_names_a_session_whose_body_was_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        ledger.append_sessions([make_record(seq) for seq in range(1, 6)])
    target = make_record(4)["id"]
    _edit(
        path,
        'UPDATE sessions SET body = CAST(replace(CAST(body AS TEXT), \'"energy_wh":"7400"\', '
        f"'\"energy_wh\":\"7300\"') AS BLOB) WHERE session_id = '{target}'",
    )
    with Ledger(path) as ledger:
        report = ledger.verify()
    assert report.first_problem is not None
    assert (report.first_problem.entry_no, report.first_problem.ref) == (4, target)
    assert "hash" in report.first_problem.message


def test_verify_notices_a_deleted_session(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        ledger.append_sessions([make_record(seq) for seq in range(1, 6)])
    _edit(path, "DELETE FROM sessions WHERE entry_no = 2")
    with Ledger(path) as ledger:
        report = ledger.verify()
    assert report.first_problem is not None
    assert report.first_problem.entry_no == 3
    assert "missing" in report.first_problem.message


def test_adjustments_exclude_and_correct_without_editing(ledger: Ledger) -> None:
    person = ledger.add_person("Alex", ha_user_id="user-a")
    ledger.add_rate(
        person_id=person.id,
        vehicle_id=None,
        valid_from=date(2026, 1, 1),
        valid_to=None,
        direction="reimburse",
        basis="flat_price",
        price_per_kwh=None,
        currency="EUR",
    )
    records = [make_record(seq, user_id="user-a", energy_wh=10_000) for seq in (1, 2, 3)]
    ledger.append_sessions(records)

    ledger.add_adjustment(records[0]["id"], "exclude", reason="private trip", author="admin")
    ledger.add_adjustment(
        records[1]["id"],
        "correct_energy",
        reason="meter swap",
        author="admin",
        data={"energy_wh": "5000"},
    )
    statement = ledger.statement(person.id, "2026-03")

    # 5 kWh + 10 kWh at the official 2026 flat price of 0.34 EUR/kWh.
    assert statement.session_count == 2
    assert statement.energy_wh == Decimal(15_000)
    assert statement.amount == Decimal("5.10")
    excluded = [row for row in statement.rows if row.excluded]
    assert [(row.session_id, row.exclusion_reason) for row in excluded] == [
        (records[0]["id"], "private trip")
    ]
    assert ledger.verify().ok


def test_adjustment_needs_reason_and_existing_session(ledger: Ledger) -> None:
    ledger.append_sessions([make_record(1)])
    with pytest.raises(LedgerError, match="reason"):
        ledger.add_adjustment(make_record(1)["id"], "exclude", reason=" ", author="a")
    with pytest.raises(LedgerError, match="no session"):
        ledger.add_adjustment("nope", "exclude", reason="r", author="a")


def test_keyset_pagination_walks_every_session_once(ledger: Ledger) -> None:
    ledger.append_sessions([make_record(seq) for seq in range(1, 24)])
    seen: list[str] = []
    cursor = None
    while True:
        page = ledger.sessions(SessionFilter(), limit=5, cursor=cursor)
        seen.extend(item.session_id for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = [make_record(seq)["id"] for seq in range(23, 0, -1)]
    assert seen == expected


def test_legal_hold_blocks_purge(ledger: Ledger) -> None:
    old = make_record(1, started=datetime(2014, 5, 1, 10, tzinfo=UTC))
    new = make_record(2, started=datetime(2025, 5, 1, 10, tzinfo=UTC))
    ledger.append_sessions([old, new])
    ledger.set_legal_hold(active=True, author="admin", reason="tax audit 2014")
    with pytest.raises(LedgerError, match="legal hold"):
        ledger.purge_expired(date(2026, 1, 1))
    ledger.set_legal_hold(active=False, author="admin", reason="audit closed")

    # 2026 minus 10 years: sessions that ended before 2016 have expired.
    assert ledger.purge_expired(date(2026, 1, 1)) == 1
    assert ledger.session(old["id"]) is None
    assert ledger.session(new["id"]) is not None
    assert ledger.verify().ok


def test_status_shows_the_chain_tips(ledger: Ledger) -> None:
    ledger.append_sessions([make_record(seq) for seq in (1, 2, 3)])
    tips = ledger.status()["chain_tips"]
    stored = ledger._db.execute("SELECT hash FROM sessions WHERE entry_no = 3").fetchone()[0]
    assert tips["sessions"] == {"entry_no": 3, "hash": stored}
    assert tips["adjustments"] == {"entry_no": 0, "hash": "0" * 64}
