"""Inputs that used to end in HTTP 500 (issue 14) get a clear 4xx, or a sensible answer.

Each case is sent to the real aiohttp app over a real socket, backed by a real SQLite
ledger; the error text is checked, and the ledger still answers a normal request after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ev_charging_ledger.access import TokenAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.storage import Ledger
from tests.ledger.integration_records import make_record

TOKEN = {"Authorization": "Bearer api-secret"}
HUGE = "12345678901234567890"  # 20 digits: more than SQLite's 64-bit INTEGER holds


@pytest.fixture
async def client(ledger: Ledger) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    person = ledger.add_person("Driver", ha_user_id="user-1")
    ledger.add_vehicle("Car", person_id=person.id)
    ledger.append_sessions([make_record(seq, user_id="user-1") for seq in (1, 2, 3)])
    test_client = TestClient(
        TestServer(create_app(ledger, TokenAccess("api-secret", None)), host="127.0.0.1")
    )
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def _call(
    client: TestClient[web.Request, web.Application],
    method: str,
    path: str,
    body: Any = None,
) -> tuple[int, Any]:
    response = await client.request(method, path, json=body, headers=TOKEN)
    if response.content_type == "application/json":
        return response.status, await response.json()
    return response.status, await response.text()


async def _still_serving(client: TestClient[web.Request, web.Application]) -> None:
    status, page = await _call(client, "GET", "/api/sessions")
    assert (status, len(page["items"])) == (200, 3)


@pytest.mark.parametrize(
    "cursor",
    [f"2026-03-01T20:00:00.000000Z~{HUGE}", "garbage", "~1", "2026-03-01~"],
)
async def test_cursor_out_of_range_is_400(
    client: TestClient[web.Request, web.Application], cursor: str
) -> None:
    status, body = await _call(client, "GET", f"/api/sessions?cursor={cursor}")
    assert status == 400
    assert body == {"error": "cursor must be the next_cursor of the previous page, unchanged"}
    status, body = await _call(client, "GET", f"/sessions?cursor={cursor}")
    assert status == 400
    assert body == {"error": "invalid cursor: pass next_cursor of the previous page unchanged"}
    await _still_serving(client)


async def test_empty_cursor_is_the_first_page(
    client: TestClient[web.Request, web.Application],
) -> None:
    status, page = await _call(client, "GET", "/api/sessions?cursor=&limit=2")
    assert (status, len(page["items"])) == (200, 2)
    status, rest = await _call(client, "GET", f"/api/sessions?cursor={page['next_cursor']}")
    assert (status, len(rest["items"])) == (200, 1)


async def test_twenty_digit_person_in_reassignment_is_400(
    client: TestClient[web.Request, web.Application], ledger: Ledger
) -> None:
    session_id = make_record(1)["id"]
    for field in ("person_id", "vehicle_id"):
        status, body = await _call(
            client,
            "POST",
            f"/api/sessions/{session_id}/adjustments",
            {"kind": "reassign", "reason": "wrong car", "data": {field: int(HUGE)}},
        )
        assert status == 400
        assert body == {"error": f"{field} must be an integer between 1 and {2**62}"}
    assert ledger.adjustments([session_id]).get(session_id, []) == []
    await _still_serving(client)


@pytest.mark.parametrize(
    "path",
    [
        f"/api/statements/{HUGE}/2026-03",
        f"/api/statements/{HUGE}/2026-03/export?format=csv",
        f"/api/people/{HUGE}/totals/2026",
        f"/statements/{HUGE}/2026-03",
        f"/sessions?person_id={HUGE}",
        "/sessions?person_id=%C2%B2",  # a superscript two: str.isdigit() says yes, int() no
    ],
)
async def test_twenty_digit_statement_id_is_400(
    client: TestClient[web.Request, web.Application], path: str
) -> None:
    status, body = await _call(client, "GET", path)
    assert status == 400, path
    assert body["error"].startswith("person_id must be an integer between 1 and ")
    await _still_serving(client)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=0001-01-01", 3),
        ("to=9999-12-31", 3),
        ("from=0001-01-01&to=9999-12-31", 3),
        ("from=9999-12-31", 0),
        ("to=0001-01-01", 0),
    ],
)
async def test_calendar_edges_in_the_ui_filter(
    client: TestClient[web.Request, web.Application], query: str, expected: int
) -> None:
    response = await client.get(f"/sessions?{query}", headers=TOKEN)
    assert response.status == 200
    # Each listed session links to its detail page.
    assert (await response.text()).count('href="/sessions/0000') == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=0001-01-01T00:00:00%2B01:00", 3),
        ("to=9999-12-31T23:59:59-01:00", 3),
        ("from=9999-12-31T23:59:59-01:00", 0),
        ("to=0001-01-01T00:00:00%2B01:00", 0),
    ],
)
async def test_calendar_edges_in_the_api(
    client: TestClient[web.Request, web.Application], query: str, expected: int
) -> None:
    status, page = await _call(client, "GET", f"/api/sessions?{query}")
    assert (status, len(page["items"])) == (200, expected)
    response = await client.get(f"/api/exports/sessions.csv?{query}", headers=TOKEN)
    assert response.status == 200
    # Header line plus one line per session.
    assert len((await response.text()).strip().splitlines()) == 1 + expected


@pytest.mark.parametrize("month", ["0000-00", "2026-13", "2026-00", "1999-12", "2201-01"])
async def test_impossible_month_is_400(
    client: TestClient[web.Request, web.Application], month: str
) -> None:
    status, body = await _call(client, "GET", f"/api/statements/1/{month}")
    assert status == 400
    assert body["error"].startswith("month must be")


async def test_conflict_is_409_and_large_body_413(
    client: TestClient[web.Request, web.Application],
) -> None:
    centre = {"code": "CC-1", "name": "Sales"}
    assert (await _call(client, "POST", "/api/cost_centres", centre))[0] == 201
    assert await _call(client, "POST", "/api/cost_centres", centre) == (
        409,
        {"error": "cost centre 'CC-1' exists"},
    )
    status, body = await _call(
        client, "POST", "/api/people", {"name": "Twin", "ha_user_id": "user-1"}
    )
    assert status == 409
    assert body["error"]
    status, body = await _call(client, "POST", "/api/people", {"name": "x" * 100_000})
    assert status == 413
    assert body["error"]
    await _still_serving(client)


async def test_405_names_the_allowed_methods(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.delete("/api/people", headers=TOKEN)
    assert response.status == 405
    assert set(response.headers["Allow"].split(",")) == {"GET", "HEAD", "POST"}
    assert await response.json() == {"error": "Method Not Allowed"}


@pytest.mark.parametrize(
    ("method", "path", "body", "error"),
    [
        ("PUT", "/api/retention", {"legal_hold": None}, "legal_hold must be true or false"),
        ("PUT", "/api/retention", {"years": None}, "years must be an integer"),
        (
            "POST",
            "/api/manual_sessions",
            {
                "started_at": "2026-03-20T10:00:00Z",
                "ended_at": "2026-03-20T11:00:00Z",
                "energy_wh": 5000,
                "currency": "EUR",
                "time_zone": "Europe/Berlin",
                "location": "Motorway",
            },
            "energy_wh must be a string",
        ),
        (
            "GET",
            "/api/reports/2026-03/statements.xlsx?lang=AAA",
            None,
            "lang must be one of en, de",
        ),
        (
            "GET",
            "/api/statements/1/0000-00",
            None,
            "month must be a month YYYY-MM from 2000-01 to 2200-12",
        ),
    ],
)
async def test_schema_violations_are_400_and_change_nothing(
    client: TestClient[web.Request, web.Application],
    ledger: Ledger,
    method: str,
    path: str,
    body: Any,
    error: str,
) -> None:
    before = ledger.counts()
    assert await _call(client, method, path, body) == (400, {"error": error})
    assert ledger.counts() == before
    assert ledger.legal_hold() is None


async def test_schema_valid_inputs_are_accepted(
    client: TestClient[web.Request, web.Application],
) -> None:
    price = {
        "year": 2066.0,  # a JSON number without a fraction is an integer
        "country": "DE",
        "price_per_kwh": "0.30",
        "currency": "EUR",
        "source": "BMF letter",
    }
    status, body = await _call(client, "POST", "/api/flat_prices", price)
    assert (status, body["year"]) == (201, 2066)
    status, page = await _call(client, "GET", "/api/sessions?cursor=")
    assert (status, len(page["items"])) == (200, 3)
    status, body = await _call(
        client, "PUT", "/api/retention", {"legal_hold": True, "reason": "tax audit"}
    )
    assert status == 200
    assert body["legal_hold"]["reason"] == "tax audit"


async def test_statement_workbook_of_a_person_named_in_emoji(
    client: TestClient[web.Request, web.Application],
) -> None:
    """Found by schemathesis: Excel counts a sheet name's length in UTF-16 units."""
    status, person = await _call(client, "POST", "/api/people", {"name": "\U0001f697" * 30})
    assert status == 201
    response = await client.get(
        f"/api/statements/{person['id']}/2026-03/export?format=xlsx", headers=TOKEN
    )
    assert response.status == 200
    assert (await response.read()).startswith(b"PK")  # a zip, as every .xlsx
