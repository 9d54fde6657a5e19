"""Who sees and is paid for a session follows its current attribution (issue 14, item 5).

Users are real Home Assistant users (pytest-homeassistant-custom-component) behind the
ingress policy, whose admin rights come from Home Assistant's user list over its
websocket; the ledger is real SQLite. Expected amounts are worked out by hand from the
fixed price of 0.30 EUR/kWh: a 7,400 Wh session pays 7.4 x 0.30 = 2.22 EUR, the
999,999 Wh entry 999.999 x 0.30 = 299.9997, rounded per session to 300.00 EUR.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pytest_homeassistant_custom_component.common import MockUser

from ev_charging_ledger.access import IngressAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.homeassistant import list_users, websocket_url
from ev_charging_ledger.storage import Ledger
from tests.ledger.conftest import HomeAssistantEndpoint
from tests.ledger.integration_records import make_record

MONTH = "2026-03"
AWAITING = "entered by the driver, awaiting an administrator's approval"
Client = TestClient[web.Request, web.Application]


@dataclass
class Office:
    client: Client
    reader: dict[str, str]
    admin: dict[str, str]
    reader_person: int
    other_person: int
    reader_car: int
    other_car: int
    reader_sessions: list[str]
    other_sessions: list[str]


@pytest.fixture
async def office(
    ledger: Ledger,
    home_assistant: HomeAssistantEndpoint,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
) -> AsyncIterator[Office]:
    reader = ledger.add_person("Reader", personnel_number="P-17", ha_user_id=hass_read_only_user.id)
    other = ledger.add_person("Other", ha_user_id="someone-else")
    reader_car = ledger.add_vehicle("Reader's car", person_id=reader.id)
    other_car = ledger.add_vehicle("Other's car", person_id=other.id)
    for person in (reader, other):
        ledger.add_rate(
            person_id=person.id, vehicle_id=None, valid_from=date(2026, 1, 1), valid_to=None,
            direction="reimburse", basis="fixed_price", price_per_kwh=Decimal("0.30"),
            currency="EUR",
        )  # fmt: skip
    mine = [make_record(seq, user_id=hass_read_only_user.id) for seq in (1, 2, 3)]
    theirs = [make_record(seq, user_id="someone-else") for seq in (4, 5)]
    ledger.append_sessions(mine + theirs)
    async with aiohttp.ClientSession() as session:
        url = websocket_url(home_assistant.url)
        policy = IngressAccess(
            lambda: list_users(session, url, home_assistant.token),
            allowed_peers=frozenset({"127.0.0.1"}),
        )
        client = TestClient(TestServer(create_app(ledger, policy), host="127.0.0.1"))
        await client.start_server()
        yield Office(
            client,
            {"X-Remote-User-Id": hass_read_only_user.id, "X-Remote-User-Name": "reader"},
            {"X-Remote-User-Id": hass_admin_user.id, "X-Remote-User-Name": "admin"},
            reader.id,
            other.id,
            reader_car.id,
            other_car.id,
            [record["id"] for record in mine],
            [record["id"] for record in theirs],
        )
        await client.close()


async def _json(office: Office, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    response = await office.client.get(path, headers=headers)
    return response.status, await response.json()


async def _csv_ids(office: Office, query: str, headers: dict[str, str]) -> dict[str, str]:
    """session_id -> person_id of a sessions CSV export."""
    response = await office.client.get(f"/api/exports/sessions.csv?{query}", headers=headers)
    assert response.status == 200
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    return {row["session_id"]: row["person_id"] for row in rows}


async def _reassign(office: Office, session_id: str, person_id: int, vehicle_id: int) -> None:
    response = await office.client.post(
        f"/api/sessions/{session_id}/adjustments",
        json={
            "kind": "reassign",
            "reason": "charged with the other car",
            "data": {"person_id": person_id, "vehicle_id": vehicle_id},
        },
        headers=office.admin,
    )
    assert response.status == 201, await response.text()


async def test_reassigned_session_leaves_the_first_persons_list_export_and_ui(
    office: Office,
) -> None:
    moved = office.reader_sessions[0]
    await _reassign(office, moved, office.other_person, office.other_car)

    # The reader: API list, detail, CSV export, UI list, statement.
    status, page = await _json(office, "/api/sessions", office.reader)
    assert status == 200
    assert sorted(item["session_id"] for item in page["items"]) == sorted(
        office.reader_sessions[1:]
    )
    status, _ = await _json(office, f"/api/sessions/{moved}", office.reader)
    assert status == 403
    assert set(await _csv_ids(office, "flavour=machine", office.reader)) == set(
        office.reader_sessions[1:]
    )
    html = await (await office.client.get("/sessions", headers=office.reader)).text()
    assert moved not in html
    assert all(session_id in html for session_id in office.reader_sessions[1:])
    status, statement = await _json(
        office, f"/api/statements/{office.reader_person}/{MONTH}", office.reader
    )
    assert (statement["session_count"], statement["amount"]) == (2, "4.44")

    # The other person now has it, with their id shown, in the list and the export.
    status, page = await _json(
        office, f"/api/sessions?person_id={office.other_person}", office.admin
    )
    listed = {item["session_id"]: item["person_id"] for item in page["items"]}
    assert listed == dict.fromkeys([moved, *office.other_sessions], office.other_person)
    status, page = await _json(office, f"/api/sessions?vehicle_id={office.other_car}", office.admin)
    assert [item["session_id"] for item in page["items"]] == [moved]
    exported = await _csv_ids(
        office, f"flavour=machine&person_id={office.other_person}", office.admin
    )
    assert exported == {
        session_id: str(office.other_person) for session_id in [moved, *office.other_sessions]
    }
    status, statement = await _json(
        office, f"/api/statements/{office.other_person}/{MONTH}", office.admin
    )
    assert (statement["session_count"], statement["amount"]) == (3, "6.66")

    # Moved back: it returns to the reader everywhere.
    await _reassign(office, moved, office.reader_person, office.reader_car)
    status, page = await _json(office, "/api/sessions", office.reader)
    assert len(page["items"]) == 3
    assert moved in await _csv_ids(office, "flavour=machine", office.reader)


async def test_non_admin_manual_session_only_on_own_vehicle_and_after_approval(
    office: Office,
) -> None:
    entry = {
        "started_at": "2026-03-20T10:00:00Z",
        "ended_at": "2026-03-20T11:00:00Z",
        "energy_wh": "999999",
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
        "location": "Motorway services",
    }
    for extra, message in (
        ({"vehicle_id": office.other_car}, "you may only enter sessions on your own vehicle"),
        ({"person_id": office.other_person}, "you may only enter sessions for yourself"),
    ):
        response = await office.client.post(
            "/api/manual_sessions", json=entry | extra, headers=office.reader
        )
        assert (response.status, await response.json()) == (403, {"error": message})

    response = await office.client.post(
        "/api/manual_sessions",
        json=entry | {"vehicle_id": office.reader_car},
        headers=office.reader,
    )
    assert response.status == 201
    created = await response.json()
    assert created["approval"] == "pending"
    session_id = created["session_id"]

    # Listed for the reader, but not in the statement's total nor in payroll.
    status, page = await _json(office, "/api/sessions", office.reader)
    assert session_id in [item["session_id"] for item in page["items"]]
    path = f"/api/statements/{office.reader_person}/{MONTH}"
    status, statement = await _json(office, path, office.reader)
    assert (status, statement["session_count"], statement["amount"]) == (200, 3, "6.66")
    row = next(row for row in statement["rows"] if row["session_id"] == session_id)
    assert (row["excluded"], row["exclusion_reason"]) == (True, AWAITING)
    payroll = await office.client.get(
        f"/api/reports/{MONTH}/payroll.csv?lang=en", headers=office.admin
    )
    reader_line = next(line for line in (await payroll.text()).splitlines() if "P-17" in line)
    assert "6.66" in reader_line.replace(",", ".")
    assert "306.66" not in reader_line.replace(",", ".")

    # Administrators find what waits for them.
    status, page = await _json(office, "/api/sessions?awaiting_approval=true", office.admin)
    assert [item["session_id"] for item in page["items"]] == [session_id]
    html = await (
        await office.client.get("/sessions?awaiting_approval=true", headers=office.admin)
    ).text()
    assert session_id in html
    assert not any(other in html for other in office.reader_sessions + office.other_sessions)

    # The reader cannot approve it; an administrator can.
    approve = {"kind": "include", "reason": "receipt checked"}
    response = await office.client.post(
        f"/api/sessions/{session_id}/adjustments", json=approve, headers=office.reader
    )
    assert response.status == 403
    response = await office.client.post(
        f"/api/sessions/{session_id}/adjustments", json=approve, headers=office.admin
    )
    assert response.status == 201
    _, statement = await _json(office, path, office.reader)
    assert (statement["session_count"], statement["amount"]) == (4, "306.66")
    payroll = await office.client.get(
        f"/api/reports/{MONTH}/payroll.csv?lang=en", headers=office.admin
    )
    reader_line = next(line for line in (await payroll.text()).splitlines() if "P-17" in line)
    assert "306.66" in reader_line.replace(",", ".")
    status, page = await _json(office, "/api/sessions?awaiting_approval=true", office.admin)
    assert page["items"] == []


async def test_admin_manual_session_needs_no_approval(office: Office) -> None:
    response = await office.client.post(
        "/api/manual_sessions",
        json={
            "started_at": "2026-03-21T10:00:00Z",
            "ended_at": "2026-03-21T11:00:00Z",
            "energy_wh": "10000",
            "currency": "EUR",
            "time_zone": "Europe/Berlin",
            "location": "Office",
            "person_id": office.other_person,
            "vehicle_id": office.other_car,
        },
        headers=office.admin,
    )
    assert response.status == 201
    assert (await response.json())["approval"] == "not needed"
    _, statement = await _json(
        office, f"/api/statements/{office.other_person}/{MONTH}", office.admin
    )
    # 2 x 2.22 + 10 kWh x 0.30
    assert (statement["session_count"], statement["amount"]) == (3, "7.44")
