"""The integrity page and /api/verify show recorded gaps and restores (ingress mode, with
Home Assistant's user list given directly: the page is what is under test)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ev_charging_ledger.access import IngressAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.reports import document as statement_document
from ev_charging_ledger.reports.wording import Wording
from ev_charging_ledger.storage import Ledger, checkpoints
from tests.ledger.integration_records import make_record

ADMIN = {"X-Remote-User-Id": "admin-1", "X-Remote-User-Name": "Admin"}


async def _users() -> list[dict[str, Any]]:
    return [{"id": "admin-1", "name": "Admin", "is_owner": True, "group_ids": []}]


@pytest.fixture
async def client(ledger: Ledger) -> AsyncIterator[TestClient[Any, Any]]:
    policy = IngressAccess(_users, allowed_peers=frozenset({"127.0.0.1"}))
    test_client = TestClient(TestServer(create_app(ledger, policy), host="127.0.0.1"))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def test_gap_and_restore_are_shown(client: TestClient[Any, Any], ledger: Ledger) -> None:
    ledger.append_sessions([make_record(1), make_record(2)])
    ledger.record_restore(2, 9)
    ledger.append_sessions([make_record(8), make_record(9)])

    page = await client.get("/integrity", headers=ADMIN)
    assert page.status == 200
    html = await page.text()
    assert "Missing sessions (recorded gaps)" in html
    # Session 2 ended 21:30 UTC, session 8 ended 03:30 UTC the next day: Berlin time (CET).
    assert "Home Assistant seq 3-7, between 1 Mar 2026, 22:30 and 2 Mar 2026, 04:30" in html
    assert "the ledger was at seq 2, Home Assistant had acknowledged 9" in html

    response = await client.get("/api/verify", headers=ADMIN)
    assert response.status == 200
    report = await response.json()
    assert report["ok"] is True
    assert report["gaps"] == [
        "5 session(s) with Home Assistant seq 3-7 are missing (between "
        "2026-03-01T21:30:00.000000Z and 2026-03-02T03:30:00.000000Z): Home Assistant no "
        "longer has these sessions"
    ]
    assert len(report["restores"]) == 1


async def test_verify_of_a_broken_file_answers_200_with_the_problem(
    client: TestClient[Any, Any], ledger: Ledger
) -> None:
    ledger.append_sessions([make_record(1), make_record(2)])
    ledger._db.execute("DROP TRIGGER sessions_append_only_update")
    ledger._db.execute("UPDATE sessions SET body = CAST(body AS TEXT) WHERE entry_no = 2")
    response = await client.get("/api/verify", headers=ADMIN)
    assert response.status == 200
    report = await response.json()
    assert report["ok"] is False
    assert report["first_problem"]["message"] == (
        "body is stored as str, not as the original bytes"
    )


def _gap_bodies(ledger: Ledger) -> list[dict[str, Any]]:
    rows = ledger._db.execute("SELECT body FROM checkpoints WHERE kind = 'gap' ORDER BY entry_no")
    return [json.loads(bytes(row[0]))["data"] for row in rows]


async def test_gap_reason_is_stored_as_a_key_and_shown_in_the_readers_language(
    client: TestClient[Any, Any], ledger: Ledger
) -> None:
    person = ledger.add_person("Gabi", ha_user_id="gabi")
    ledger.append_sessions([make_record(1, user_id="gabi"), make_record(4, user_id="gabi")])
    # A gap recorded by an older version: English text, no key (the chain stays intact).
    with ledger.db.transaction():
        checkpoints.add(
            ledger.db,
            "gap",
            {"from_seq": 90, "to_seq": 91, "after": None, "before": None,
             "reason": "Home Assistant no longer has these sessions"},
        )  # fmt: skip
    new, old = _gap_bodies(ledger)
    assert new["reason_key"] == "ha_lost"
    assert new["reason_params"] == {}
    assert "reason" not in new  # no English text in the database any more
    assert old["reason"] == "Home Assistant no longer has these sessions"

    german = await (await client.get("/integrity?lang=de", headers=ADMIN)).text()
    gaps = german.split('id="gaps"')[1].split("</ul>")[0]
    assert "Home-Assistant-Seq 2-3, zwischen" in gaps
    assert "Home Assistant hat diese Ladevorgänge nicht mehr" in gaps
    # The old row still says why, in the words it was stored with.
    assert "Home-Assistant-Seq 90-91, zwischen - und -: Home Assistant no longer has" in gaps
    english = await (await client.get("/integrity?lang=en", headers=ADMIN)).text()
    assert english.count("Home Assistant no longer has these sessions") == 2

    # The statement of the month names the gaps in the reader's language too.
    page = await client.get(f"/statements/{person.id}/2026-03?lang=de", headers=ADMIN)
    assert page.status == 200
    statement = await page.text()
    assert "2 von Home Assistant erfasste Ladevorgänge fehlen" in statement
    assert "Home Assistant hat diese Ladevorgänge nicht mehr" in statement
    say = Wording(statement_document.build(ledger, person.id, "2026-03"), "de")
    gap_notices = [notice for notice in say.notices() if "fehlen im Ladebuch" in notice]
    assert [notice.rsplit(": ", 1)[1] for notice in gap_notices] == [
        "Home Assistant hat diese Ladevorgänge nicht mehr",
        "Home Assistant no longer has these sessions",
    ]
    # The API and the command line keep English.
    report = await (await client.get("/api/verify", headers=ADMIN)).json()
    assert report["ok"] is True
    assert all(line.endswith(": Home Assistant no longer has these sessions") for line in
               report["gaps"])  # fmt: skip
