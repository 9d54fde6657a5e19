"""The integrity page and /api/verify show recorded gaps and restores (ingress mode, with
Home Assistant's user list given directly: the page is what is under test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ev_charging_ledger.access import IngressAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.storage import Ledger
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
