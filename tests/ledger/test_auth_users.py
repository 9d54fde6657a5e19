"""What a user may do in the ledger follows Home Assistant's users promptly.

Real Home Assistant users and tokens (pytest-homeassistant-custom-component); the ledger
watches ``user_updated``/``user_removed`` over a websocket like the service does. Without
that watch, identities expire after ``UNWATCHED_TTL`` seconds (a controllable clock
stands in for waiting). An unreachable Home Assistant is a closed port on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from homeassistant.auth.const import GROUP_ID_ADMIN, GROUP_ID_USER
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import CLIENT_ID

from ev_charging_ledger.access import (
    UNWATCHED_TTL,
    IngressAccess,
    TokenAccess,
    UserChanges,
    watch_user_changes,
)
from ev_charging_ledger.api import create_app
from ev_charging_ledger.homeassistant import (
    Connection,
    current_user,
    list_users,
    websocket_url,
)
from ev_charging_ledger.storage import Ledger
from tests.ledger.conftest import HomeAssistantEndpoint
from tests.ledger.ledger_process import free_port
from tests.ledger.test_auth_ban import forged_token

Client = TestClient[web.Request, web.Application]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _serve(ledger: Ledger, policy: Any) -> Client:
    client = TestClient(TestServer(create_app(ledger, policy, ui=False), host="127.0.0.1"))
    await client.start_server()
    return client


async def _admin_user_with_token(hass: HomeAssistant, name: str) -> tuple[Any, str]:
    user = await hass.auth.async_create_user(name, group_ids=[GROUP_ID_ADMIN])
    refresh = await hass.auth.async_create_refresh_token(user, CLIENT_ID)
    return user, hass.auth.async_create_access_token(refresh)


@contextlib.asynccontextmanager
async def _watching(
    home_assistant: HomeAssistantEndpoint, session: aiohttp.ClientSession, changes: UserChanges
) -> AsyncIterator[None]:
    url = websocket_url(home_assistant.url)
    task = asyncio.create_task(
        watch_user_changes(lambda: Connection.open(session, url, home_assistant.token), changes)
    )
    try:
        async with asyncio.timeout(10):
            while True:  # polled: the watch reports no event of its own
                if changes.watched:
                    break
                await asyncio.sleep(0.01)
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _status_becomes(
    client: Client, path: str, headers: dict[str, str], expected: int, within: float
) -> float:
    """Poll until ``path`` answers ``expected``; returns how long that took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(within):
        while True:
            if (await client.get(path, headers=headers)).status == expected:
                break
            await asyncio.sleep(0.02)
    return loop.time() - started


def _policy(
    home_assistant: HomeAssistantEndpoint,
    session: aiohttp.ClientSession,
    changes: UserChanges,
    **kwargs: Any,
) -> TokenAccess:
    url = websocket_url(home_assistant.url)
    return TokenAccess(
        "api-secret", lambda token: current_user(session, url, token), changes=changes, **kwargs
    )


@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_removed_user_and_demoted_admin_lose_access_at_once(
    hass: HomeAssistant,
    home_assistant: HomeAssistantEndpoint,
    http_session: aiohttp.ClientSession,
    ledger: Ledger,
) -> None:
    changes = UserChanges()
    client = await _serve(ledger, _policy(home_assistant, http_session, changes))
    boss, boss_token = await _admin_user_with_token(hass, "Boss")
    leaver, leaver_token = await _admin_user_with_token(hass, "Leaver")
    as_boss = {"Authorization": f"Bearer {boss_token}"}
    as_leaver = {"Authorization": f"Bearer {leaver_token}"}
    try:
        async with _watching(home_assistant, http_session, changes):
            assert (await client.get("/api/verify", headers=as_boss)).status == 200
            assert (await client.get("/api/verify", headers=as_leaver)).status == 200

            await hass.auth.async_update_user(boss, group_ids=[GROUP_ID_USER])
            took = await _status_becomes(client, "/api/verify", as_boss, 403, within=5)
            assert took < 2, took
            response = await client.get("/api/me", headers=as_boss)
            assert (await response.json())["is_admin"] is False

            await hass.auth.async_remove_user(leaver)
            took = await _status_becomes(client, "/api/me", as_leaver, 401, within=5)
            assert took < 2, took
            body = await (await client.get("/api/me", headers=as_leaver)).json()
            assert body == {"error": "invalid token"}
    finally:
        await client.close()


async def test_without_user_events_rights_expire_within_seconds(
    hass: HomeAssistant,
    home_assistant: HomeAssistantEndpoint,
    http_session: aiohttp.ClientSession,
    ledger: Ledger,
) -> None:
    clock = Clock()
    changes = UserChanges()  # never watched
    client = await _serve(ledger, _policy(home_assistant, http_session, changes, clock=clock))
    boss, boss_token = await _admin_user_with_token(hass, "Boss")
    as_boss = {"Authorization": f"Bearer {boss_token}"}
    try:
        assert (await client.get("/api/verify", headers=as_boss)).status == 200
        await hass.auth.async_update_user(boss, group_ids=[GROUP_ID_USER])
        clock.now += UNWATCHED_TTL - 1
        # Still the cached right, and no later than the short TTL allows.
        assert (await client.get("/api/verify", headers=as_boss)).status == 200
        clock.now += 2
        assert (await client.get("/api/verify", headers=as_boss)).status == 403
        assert UNWATCHED_TTL <= 10
    finally:
        await client.close()


async def test_ingress_admin_rights_follow_user_events(
    hass: HomeAssistant,
    home_assistant: HomeAssistantEndpoint,
    http_session: aiohttp.ClientSession,
    ledger: Ledger,
) -> None:
    changes = UserChanges()
    url = websocket_url(home_assistant.url)
    policy = IngressAccess(
        lambda: list_users(http_session, url, home_assistant.token),
        allowed_peers=frozenset({"127.0.0.1"}),
        changes=changes,
    )
    client = await _serve(ledger, policy)
    boss, _ = await _admin_user_with_token(hass, "Boss")
    headers = {"X-Remote-User-Id": boss.id, "X-Remote-User-Name": "boss"}
    try:
        async with _watching(home_assistant, http_session, changes):
            assert (await client.get("/api/verify", headers=headers)).status == 200
            await hass.auth.async_update_user(boss, group_ids=[GROUP_ID_USER])
            took = await _status_becomes(client, "/api/verify", headers, 403, within=5)
            assert took < 2, took
    finally:
        await client.close()


async def test_home_assistant_unreachable_is_503_with_a_reason(
    http_session: aiohttp.ClientSession, ledger: Ledger
) -> None:
    url = websocket_url(f"http://127.0.0.1:{free_port()}")  # nothing listens there

    async def users() -> list[dict[str, Any]]:
        return await list_users(http_session, url, "token")

    ingress = await _serve(ledger, IngressAccess(users, allowed_peers=frozenset({"127.0.0.1"})))
    standalone = await _serve(
        ledger, TokenAccess("api-secret", lambda token: current_user(http_session, url, token))
    )
    try:
        for client, headers in (
            (ingress, {"X-Remote-User-Id": "someone"}),
            (standalone, {"Authorization": f"Bearer {forged_token()}"}),
        ):
            response = await client.get("/api/sessions", headers=headers)
            assert response.status == 503
            assert response.headers["Retry-After"] == "10"
            body = await response.json()
            assert body["error"].startswith(
                "Home Assistant is unreachable, so the user cannot be checked: "
            )
        # The ledger's own token does not need Home Assistant.
        response = await standalone.get(
            "/api/sessions", headers={"Authorization": "Bearer api-secret"}
        )
        assert response.status == 200
    finally:
        await ingress.close()
        await standalone.close()


async def test_expired_or_malformed_tokens_never_reach_home_assistant(
    http_session: aiohttp.ClientSession, ledger: Ledger
) -> None:
    asked: list[str] = []

    async def resolve(token: str) -> dict[str, Any]:
        asked.append(token)
        raise AssertionError("must not be asked")

    client = await _serve(ledger, TokenAccess("api-secret", resolve))
    try:
        for token in (
            forged_token(expires_in=-3600),
            "a.b.c",
            "x" * 5000,
            "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.c2ln",  # alg none
        ):
            response = await client.get(
                "/api/sessions", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status == 401
            assert await response.json() == {"error": "invalid token"}
        assert asked == []
    finally:
        await client.close()
