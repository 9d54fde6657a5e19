"""Fixtures for the ledger tests: real SQLite files, real servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from ev_charging_ledger.storage import Ledger
from tests.ledger.ha_contract import SessionSource, register


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """The ledger tests talk to real servers on 127.0.0.1."""


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


@dataclass
class HomeAssistantEndpoint:
    url: str
    token: str
    source: SessionSource


@pytest.fixture
async def home_assistant(
    hass: HomeAssistant,
    aiohttp_client: Callable[..., Awaitable[object]],
    hass_access_token: str,
) -> HomeAssistantEndpoint:
    # auth (auth/current_user) and config (config/auth/list) are loaded in every real
    # Home Assistant; the ledger uses them to learn who a user is.
    for component in ("websocket_api", "auth", "config"):
        assert await async_setup_component(hass, component, {})
    source = SessionSource()
    register(hass, source)
    client = await aiohttp_client(hass.http.app)
    port = client.server.port  # type: ignore[attr-defined]
    return HomeAssistantEndpoint(f"http://127.0.0.1:{port}", hass_access_token, source)
