"""Access rules of the JSON API, with users and tokens of a real Home Assistant.

A non-admin user sees only their own person's sessions and statements, both in
standalone mode (Home Assistant token) and behind ingress (X-Remote-User-* headers).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pytest_homeassistant_custom_component.common import MockUser

from ev_charging_ledger.access import AccessPolicy, IngressAccess, TokenAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.homeassistant import current_user, list_users, websocket_url
from ev_charging_ledger.storage import Ledger
from tests.ledger.conftest import HomeAssistantEndpoint
from tests.ledger.integration_records import make_record

MONTH = "2026-03"


@dataclass
class World:
    ledger: Ledger
    own_person: int
    other_person: int
    own_sessions: list[str]
    other_sessions: list[str]


@pytest.fixture
def world(ledger: Ledger, hass_read_only_user: MockUser) -> World:
    own = ledger.add_person("Reader", ha_user_id=hass_read_only_user.id)
    other = ledger.add_person("Other", ha_user_id="someone-else")
    own_records = [make_record(seq, user_id=hass_read_only_user.id) for seq in (1, 2, 3)]
    other_records = [make_record(seq, user_id="someone-else") for seq in (4, 5)]
    ledger.append_sessions(own_records + other_records)
    return World(
        ledger,
        own.id,
        other.id,
        [record["id"] for record in own_records],
        [record["id"] for record in other_records],
    )


Client = Callable[[AccessPolicy], Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def client_for(world: World) -> AsyncIterator[Client]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def make(policy: AccessPolicy) -> TestClient[web.Request, web.Application]:
        client = TestClient(TestServer(create_app(world.ledger, policy), host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _token_policy(
    home_assistant: HomeAssistantEndpoint, session: aiohttp.ClientSession
) -> TokenAccess:
    url = websocket_url(home_assistant.url)
    return TokenAccess("api-secret", lambda token: current_user(session, url, token))


async def _get(
    client: TestClient[web.Request, web.Application], path: str, headers: dict[str, str]
) -> tuple[int, Any]:
    response = await client.get(path, headers=headers)
    return response.status, await response.json()


async def test_non_admin_token_sees_only_own_sessions(
    world: World,
    client_for: Client,
    home_assistant: HomeAssistantEndpoint,
    http_session: aiohttp.ClientSession,
    hass_read_only_access_token: str,
) -> None:
    client = await client_for(_token_policy(home_assistant, http_session))
    reader = {"Authorization": f"Bearer {hass_read_only_access_token}"}

    status, page = await _get(client, "/api/sessions", reader)
    assert status == 200
    assert sorted(item["session_id"] for item in page["items"]) == sorted(world.own_sessions)

    status, body = await _get(client, f"/api/sessions/{world.other_sessions[0]}", reader)
    assert (status, body) == (403, {"error": "you may only see your own sessions and statements"})
    status, _ = await _get(client, f"/api/sessions?person_id={world.other_person}", reader)
    assert status == 403
    status, _ = await _get(client, f"/api/statements/{world.other_person}/{MONTH}", reader)
    assert status == 403
    status, _ = await _get(client, f"/api/people/{world.other_person}/totals/2026", reader)
    assert status == 403
    for fmt in ("pdf", "xlsx", "csv", "machine_csv"):
        response = await client.get(
            f"/api/statements/{world.other_person}/{MONTH}/export?format={fmt}", headers=reader
        )
        assert response.status == 403, fmt
        own_export = await client.get(
            f"/api/statements/{world.own_person}/{MONTH}/export?format={fmt}", headers=reader
        )
        assert own_export.status == 200, fmt
    for path in (
        f"/api/exports/sessions.csv?person_id={world.other_person}",
        f"/api/reports/{MONTH}/payroll.csv",
        f"/api/reports/{MONTH}/statements.xlsx",
        f"/statements/{world.other_person}/{MONTH}",
    ):
        response = await client.get(path, headers=reader)
        assert response.status == 403, path

    status, own = await _get(client, f"/api/sessions/{world.own_sessions[0]}", reader)
    assert (status, own["session_id"]) == (200, world.own_sessions[0])
    status, statement = await _get(client, f"/api/statements/{world.own_person}/{MONTH}", reader)
    assert (status, statement["session_count"]) == (200, 3)

    response = await client.post("/api/people", json={"name": "Mallory"}, headers=reader)
    assert response.status == 403


async def test_admin_token_and_api_token_see_everything(
    world: World,
    client_for: Client,
    home_assistant: HomeAssistantEndpoint,
    http_session: aiohttp.ClientSession,
) -> None:
    client = await client_for(_token_policy(home_assistant, http_session))
    for token in (home_assistant.token, "api-secret"):
        headers = {"Authorization": f"Bearer {token}"}
        status, body = await _get(client, f"/api/sessions/{world.other_sessions[0]}", headers)
        assert (status, body["session_id"]) == (200, world.other_sessions[0])
        status, page = await _get(client, "/api/sessions", headers)
        assert len(page["items"]) == 5


# Home Assistant closes the websocket of the refused token a moment after the answer.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_missing_or_wrong_token_is_401(
    world: World,
    client_for: Client,
    home_assistant: HomeAssistantEndpoint,
    http_session: aiohttp.ClientSession,
) -> None:
    client = await client_for(_token_policy(home_assistant, http_session))
    assert await _get(client, "/api/sessions", {}) == (
        401,
        {"error": "a bearer token is required"},
    )
    assert await _get(client, "/api/sessions", {"Authorization": "Bearer wrong"}) == (
        401,
        {"error": "invalid token"},
    )
    # The health check stays open for the Supervisor's watchdog.
    assert await _get(client, "/health", {}) == (200, {"status": "ok"})


async def test_ingress_user_sees_only_own_statement(
    world: World,
    client_for: Client,
    home_assistant: HomeAssistantEndpoint,
    http_session: aiohttp.ClientSession,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
) -> None:
    url = websocket_url(home_assistant.url)
    policy = IngressAccess(
        lambda: list_users(http_session, url, home_assistant.token),
        allowed_peers=frozenset({"127.0.0.1"}),
    )
    client = await client_for(policy)
    reader = {"X-Remote-User-Id": hass_read_only_user.id, "X-Remote-User-Name": "reader"}
    admin = {"X-Remote-User-Id": hass_admin_user.id, "X-Remote-User-Name": "admin"}

    status, _ = await _get(client, f"/api/statements/{world.other_person}/{MONTH}", reader)
    assert status == 403
    status, body = await _get(client, f"/api/statements/{world.own_person}/{MONTH}", reader)
    assert (status, body["person"]["id"]) == (200, world.own_person)
    status, body = await _get(client, f"/api/statements/{world.other_person}/{MONTH}", admin)
    assert (status, body["session_count"]) == (200, 2)
    status, me = await _get(client, "/api/me", reader)
    assert (me["is_admin"], me["person"]["id"]) == (False, world.own_person)
    assert await _get(client, "/api/sessions", {}) == (
        401,
        {"error": "no Home Assistant user in the request"},
    )


async def test_ingress_refuses_any_peer_but_the_proxy(
    world: World, client_for: Client, hass_admin_user: MockUser
) -> None:
    async def no_users() -> list[dict[str, Any]]:
        raise AssertionError("must not be asked")

    client = await client_for(IngressAccess(no_users))
    status, body = await _get(client, "/api/sessions", {"X-Remote-User-Id": hass_admin_user.id})
    assert (status, body) == (403, {"error": "only Home Assistant ingress may connect"})


def test_openapi_document_lists_every_route(tmp_path: Path) -> None:
    import json

    from ev_charging_ledger.api import routes

    document = json.loads(
        (Path(__file__).parents[2] / "addon/app/ev_charging_ledger/openapi.json").read_text()
    )
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    served = {(route.method, route.path) for route in routes if isinstance(route, web.RouteDef)}
    assert served == documented
