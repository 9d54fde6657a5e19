"""Verify re-checks every signed meter value (OCMF) stored as evidence, in a real SQLite file.

The values are signed here with real keys; the tampering is done with a separate SQLite
connection on the file, as someone holding the file would do it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import ec

from ev_charging_ledger.access import TokenAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.cli import main as cli_main
from ev_charging_ledger.storage import Ledger, ocmf_recheck
from tests.ledger.integration_records import make_record
from tests.ledger.test_evidence import _payload, _sign
from tests.ledger.test_integrity import TRIGGERS

SIGNED_SEQS = (2, 5, 9)
Client = TestClient[Any, Any]


def _signed(seq: int) -> dict[str, Any]:
    # Every payload signs 1000.00 -> 1007.40 kWh, the register of make_record's default.
    ocmf, key = _sign(_payload(), ec.SECP256R1())
    return make_record(
        seq, signed_meter_values=[{"format": "OCMF", "data": ocmf, "public_key": key}]
    )


def _build(data_dir: Path) -> dict[int, str]:
    """A ledger of 12 sessions, three of them with signed values; their ids by seq."""
    records = [_signed(seq) if seq in SIGNED_SEQS else make_record(seq) for seq in range(1, 13)]
    with Ledger(data_dir / "ledger.sqlite3") as ledger:
        result = ledger.append_sessions(records)
        assert result.stored == 12, result
    with sqlite3.connect(data_dir / "ledger.sqlite3") as db:
        classes = db.execute("SELECT evidence_class, count(*) FROM sessions GROUP BY 1").fetchall()
    # The precondition: the three signed sessions were graded signed evidence on the way in.
    assert dict(classes)["signed_ocmf"] == 3
    return {seq: record["id"] for seq, record in zip(range(1, 13), records, strict=True)}


def _edit_body(path: Path, session_id: str, old: bytes, new: bytes, *, once: bool = True) -> None:
    with sqlite3.connect(path) as db:
        for trigger in TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        (body,) = db.execute(
            "SELECT body FROM sessions WHERE session_id = ?", (session_id,)
        ).fetchone()
        assert body.count(old) == 1 if once else body.count(old) >= 1, body
        db.execute(
            "UPDATE sessions SET body = ? WHERE session_id = ?",
            (body.replace(old, new), session_id),
        )


def test_an_untouched_ledger_verifies_with_the_count_of_signed_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _build(tmp_path)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        report = ledger.verify()
    assert (report.ok, report.ocmf_checked, report.ocmf_failures) == (True, 3, ())

    assert cli_main(["verify", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "ok: 12 sessions and 0 adjustments verified",
        "3 signed meter values (OCMF) re-verified against their public keys",
    ]


def test_an_ocmf_value_edited_behind_the_ledgers_back_names_its_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _build(tmp_path)
    path = tmp_path / "ledger.sqlite3"
    # The end register inside the signed payload, 1007.40 kWh -> 1009.40 kWh.
    _edit_body(path, ids[5], b'\\"RV\\":1007.40', b'\\"RV\\":1009.40')

    with Ledger(path) as ledger:
        report = ledger.verify()
    assert not report.ok
    assert report.ocmf_checked == 3
    assert [(f.session_id, f.reason) for f in report.ocmf_failures] == [(ids[5], "signature")]
    assert "signature does not match the payload" in report.ocmf_failures[0].detail
    # The chain sees an edit too; the OCMF check names the session independently of it.
    assert report.first_problem is not None
    assert report.first_problem.ref == ids[5]

    assert cli_main(["verify", "--data-dir", str(tmp_path), "--lang", "de"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "3 signierte Messwerte (OCMF) mit ihren öffentlichen Schlüsseln erneut geprüft"
    assert out[2].startswith(
        f"OCMF: Ladevorgang {ids[5]} (Eintrag 5): die Signatur passt nicht zu den signierten Daten"
    )
    assert len(out) == 3, out


def test_a_public_key_swapped_for_another_valid_key_is_named(tmp_path: Path) -> None:
    ids = _build(tmp_path)
    path = tmp_path / "ledger.sqlite3"
    # An attacker's own key: well-formed, but not the one that signed the value.
    _, other_key = _sign(_payload(), ec.SECP256R1())
    with sqlite3.connect(path) as db:
        (body,) = db.execute("SELECT body FROM sessions WHERE session_id = ?", (ids[9],)).fetchone()
    stored_key = body.split(b'"public_key":"')[1].split(b'"')[0]
    _edit_body(path, ids[9], stored_key, other_key.encode())
    # A key that cannot be read at all is a different reason.
    _edit_body(path, ids[2], b'"public_key":"', b'"public_key":"zz')

    with Ledger(path) as ledger:
        report = ledger.verify()
    assert [(f.session_id, f.reason) for f in report.ocmf_failures] == [
        (ids[2], "key"),
        (ids[9], "signature"),
    ]


def test_a_session_energy_raised_under_valid_signatures_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _build(tmp_path)
    path = tmp_path / "ledger.sqlite3"
    # 7400 Wh -> 9400 Wh in the session record (and its price interval); the signed
    # values still say 1000.00 -> 1007.40 kWh and their signatures still hold.
    _edit_body(path, ids[9], b'"energy_wh":"7400"', b'"energy_wh":"9400"', once=False)
    # Pages of two rows: the pass reads past page boundaries without losing a session.
    monkeypatch.setattr(ocmf_recheck, "PAGE", 2)

    with Ledger(path) as ledger:
        report = ledger.verify()
    assert report.ocmf_checked == 3
    assert [(f.session_id, f.reason) for f in report.ocmf_failures] == [(ids[9], "readings")]
    assert "signed energy 7400.00 Wh differs from the session's 9400 Wh" in (
        report.ocmf_failures[0].detail
    )


@pytest.fixture
async def admin_client(
    tmp_path: Path,
) -> AsyncIterator[tuple[TestClient[Any, Any], dict[int, str]]]:
    ids = _build(tmp_path)
    _edit_body(tmp_path / "ledger.sqlite3", ids[2], b'\\"RV\\":1007.40', b'\\"RV\\":1017.40')
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        app = create_app(ledger, TokenAccess("t0ken", None))
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        yield client, ids
        await client.close()


@pytest.mark.parametrize(
    ("lang", "summary", "reason"),
    [
        (
            "en",
            "3 signed meter values (OCMF) re-verified against their public keys",
            "the signature does not match the signed data",
        ),
        (
            "de",
            "3 signierte Messwerte (OCMF) mit ihren öffentlichen Schlüsseln erneut geprüft",
            "die Signatur passt nicht zu den signierten Daten",
        ),
    ],
)
async def test_the_api_names_the_session_in_the_readers_language(
    admin_client: tuple[Client, dict[int, str]], lang: str, summary: str, reason: str
) -> None:
    client, ids = admin_client
    response = await client.get(
        "/api/verify", headers={"Authorization": "Bearer t0ken", "Accept-Language": lang}
    )
    assert response.status == 200
    report = await response.json()
    assert report["ok"] is False
    assert (report["ocmf_checked"], report["ocmf_summary"]) == (3, summary)
    [failure] = report["ocmf_failures"]
    assert (failure["session_id"], failure["reason_key"]) == (ids[2], "signature")
    assert ids[2] in failure["reason"]
    assert reason in failure["reason"]
