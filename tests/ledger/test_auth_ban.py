"""Bad bearer tokens sent to the ledger never get it banned by Home Assistant.

A real Home Assistant (pytest-homeassistant-custom-component) serves its http
component with ``ip_ban_enabled: true`` and ``login_attempts_threshold: 5`` on a real
socket; the ledger (standalone mode, real SQLite) resolves tokens and ingests sessions
from it over its websocket API, both from 127.0.0.1. The only thing wrapped is Home
Assistant's failed-login counter, to record how high it ever gets (it still counts and
bans as usual).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from homeassistant.components.http import ban
from homeassistant.components.websocket_api import auth as websocket_auth
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.ledger_link.history import SessionHistory
from custom_components.ev_charging_monitor.ledger_link.websocket_api import HISTORY
from ev_charging_ledger.access import TokenAccess, UserChanges
from ev_charging_ledger.api import create_app
from ev_charging_ledger.homeassistant import (
    AuthenticationError,
    Connection,
    check_login,
    current_user,
    websocket_url,
)
from ev_charging_ledger.ingest import Ingestor
from ev_charging_ledger.storage import Ledger
from tests.ledger.integration_records import make_record

THRESHOLD = 5
LOCALHOST = ip_address("127.0.0.1")


@dataclass
class BanningHomeAssistant:
    hass: HomeAssistant
    url: str
    admin_token: str
    source: SessionHistory
    config_dir: Path
    highest_count: list[int]
    refusals: list[int]

    @property
    def banned(self) -> bool:
        manager = self.hass.http.app[ban.KEY_BAN_MANAGER]
        return LOCALHOST in manager.ip_bans_lookup or (self.config_dir / "ip_bans.yaml").exists()

    @property
    def failures(self) -> int:
        return int(self.hass.http.app[ban.KEY_FAILED_LOGIN_ATTEMPTS][LOCALHOST])


@pytest.fixture
async def banning_home_assistant(
    hass: HomeAssistant,
    aiohttp_client: Callable[..., Awaitable[Any]],
    hass_access_token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    enable_custom_integrations: None,
) -> BanningHomeAssistant:
    # Bans are written to <config>/ip_bans.yaml: keep them out of the shared test config.
    hass.config.config_dir = str(tmp_path)
    http_config = {"ip_ban_enabled": True, "login_attempts_threshold": THRESHOLD}
    assert await async_setup_component(hass, "http", {"http": http_config})
    for component in ("websocket_api", "auth", "config"):
        assert await async_setup_component(hass, component, {})
    highest, refusals = [0], [0]
    original = websocket_auth.process_wrong_login

    async def counted(request: web.Request) -> None:
        await original(request)
        attempts = request.app[ban.KEY_FAILED_LOGIN_ATTEMPTS]
        highest[0] = max(highest[0], attempts[ip_address(request.remote or "")])
        refusals[0] += 1

    monkeypatch.setattr(websocket_auth, "process_wrong_login", counted)
    # The real integration: its session history and websocket API.
    assert await async_setup_component(hass, DOMAIN, {})
    source = hass.data[HISTORY]
    client = await aiohttp_client(hass.http.app)
    url = websocket_url(f"http://127.0.0.1:{client.server.port}")
    return BanningHomeAssistant(hass, url, hass_access_token, source, tmp_path, highest, refusals)


def forged_token(expires_in: float = 1800) -> str:
    """A well-formed HS256 JWT that Home Assistant must refuse (unknown key)."""

    def segment(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    header = segment({"alg": "HS256", "typ": "JWT"})
    payload = segment({"iss": secrets.token_hex(16), "iat": now, "exp": now + expires_in})
    return f"{header}.{payload}.{secrets.token_urlsafe(32)}"


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _serve(
    app: web.Application,
) -> TestClient[web.Request, web.Application]:
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


# In the tests below, Home Assistant closes the websocket of a refused token a moment
# after its answer, which leaves its heartbeat timer behind.


def _token_access(
    home: BanningHomeAssistant, session: aiohttp.ClientSession, changes: UserChanges
) -> TokenAccess:
    return TokenAccess(
        "api-secret",
        lambda token: current_user(session, home.url, token),
        after_refusal=lambda: check_login(session, home.url, home.admin_token),
        changes=changes,
    )


@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_the_setup_bans_after_five_refused_logins(
    banning_home_assistant: BanningHomeAssistant, http_session: aiohttp.ClientSession
) -> None:
    """The control: without the ledger's guard, five bad tokens ban 127.0.0.1."""
    home = banning_home_assistant
    for _ in range(THRESHOLD):
        with pytest.raises(AuthenticationError):
            await Connection.open(http_session, home.url, forged_token())
    assert home.banned
    assert "127.0.0.1" in (home.config_dir / "ip_bans.yaml").read_text()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await Connection.open(http_session, home.url, home.admin_token)
    assert refused.value.status == 403


@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_a_thousand_bad_tokens_in_a_minute_never_ban_the_ledger(
    banning_home_assistant: BanningHomeAssistant,
    http_session: aiohttp.ClientSession,
    ledger: Ledger,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
) -> None:
    home = banning_home_assistant
    ledger.add_person("Reader", ha_user_id=hass_read_only_user.id)
    await home.source.async_add(make_record(1, user_id=hass_read_only_user.id))
    ingestor = Ingestor(ledger, http_session, home.url, home.admin_token, min_backoff=0.1)
    ingest = asyncio.create_task(ingestor.run_forever())
    client = await _serve(create_app(ledger, _token_access(home, http_session, UserChanges())))
    reader = {"Authorization": f"Bearer {hass_read_only_access_token}"}
    try:
        async with asyncio.timeout(30):
            await ingestor.caught_up.wait()
        response = await client.get("/api/sessions", headers=reader)
        assert response.status == 200
        assert len((await response.json())["items"]) == 1

        # Half garbage, half tokens only Home Assistant can tell from real ones.
        tokens = [
            forged_token() if number % 2 else f"garbage-{number}-{secrets.token_hex(8)}"
            for number in range(1000)
        ]
        answers: list[tuple[str, int, Any, str | None]] = []

        async def send(token: str) -> None:
            response = await client.get(
                "/api/sessions", headers={"Authorization": f"Bearer {token}"}
            )
            answers.append(
                (token, response.status, await response.json(), response.headers.get("Retry-After"))
            )

        started = time.monotonic()
        for first in range(0, len(tokens), 50):
            await asyncio.gather(*(send(token) for token in tokens[first : first + 50]))
            # The known user is served throughout.
            assert (await client.get("/api/sessions", headers=reader)).status == 200
        assert time.monotonic() - started < 60

        statuses = [status for _, status, _, _ in answers]
        assert set(statuses) == {401, 429}
        assert statuses.count(401) >= 500  # every garbage token, and the forged ones checked
        print(  # the figure line for the test log
            f"1000 bad tokens in {time.monotonic() - started:.1f} s: "
            f"{statuses.count(401)} x 401, {statuses.count(429)} x 429; Home Assistant refused "
            f"{home.refusals[0]}, its failure count peaked at {home.highest_count[0]}"
        )
        for _, status, body, retry_after in answers:
            if status == 401:
                assert body == {"error": "invalid token"}
            else:
                assert body["error"].startswith("too many unknown tokens; try again in ")
                assert retry_after is not None
                assert int(retry_after) >= 1

        # Home Assistant saw a few refusals, each reset before the next: far from a ban.
        assert 1 <= home.highest_count[0] < THRESHOLD
        assert home.highest_count[0] == 1
        assert home.failures == 0
        assert not home.banned

        # A refused token is remembered: asking again costs Home Assistant nothing.
        refused = next(
            token for token, status, _, _ in answers if status == 401 and "garbage" not in token
        )
        failures_before = home.highest_count[0]
        assert (
            await client.get("/api/sessions", headers={"Authorization": f"Bearer {refused}"})
        ).status == 401
        assert home.highest_count[0] == failures_before

        # Ingest keeps working: the next session arrives.
        await home.source.async_add(make_record(2, user_id=hass_read_only_user.id))
        async with asyncio.timeout(30):
            while True:  # polled: the ingestor signals nothing per session
                if ledger.last_seq() >= 2:
                    break
                await asyncio.sleep(0.05)
        response = await client.get("/api/sessions", headers=reader)
        assert len((await response.json())["items"]) == 2
        assert not home.banned
        await check_login(http_session, home.url, home.admin_token)
    finally:
        ingest.cancel()
        await asyncio.gather(ingest, return_exceptions=True)
        await client.close()
