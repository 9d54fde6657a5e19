"""Fixtures for the ledger tests: real SQLite files, real servers on 127.0.0.1, and the
real integration (its session history and websocket API) in a real Home Assistant."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

# Import the repository's package before Home Assistant's loader looks for custom
# components in its test config dir, so ours is the one that is loaded.
import custom_components.ev_charging_monitor  # noqa: F401
from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.ledger_link.history import SessionHistory
from custom_components.ev_charging_monitor.ledger_link.websocket_api import HISTORY
from ev_charging_ledger.storage import Ledger

WAIT = 60.0
HISTORY_STORE_KEY = f"{DOMAIN}.sessions"


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """The ledger tests talk to real servers on 127.0.0.1."""


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


@dataclass
class HomeAssistantEndpoint:
    """Home Assistant with the integration set up, as the ledger connects to it."""

    url: str
    token: str
    hass: HomeAssistant
    history: SessionHistory
    storage: dict[str, Any]
    # Every after_seq the ledger asked `ev_charging_monitor/sessions` for.
    asked_after: list[int] = field(default_factory=list)

    async def complete(self, record: dict[str, Any]) -> dict[str, Any]:
        """A session ends: the integration records it (assigning its seq) and announces it."""
        return await self.history.async_add(record)

    async def preload(self, records: list[dict[str, Any]], *, acked: int | None = None) -> None:
        """Sessions that completed while no ledger was connected, as Home Assistant's store
        holds them after a restart (faster than completing thousands one by one)."""
        self.storage[HISTORY_STORE_KEY] = {
            "version": 1,
            "minor_version": 1,
            "key": HISTORY_STORE_KEY,
            "data": {
                "last_seq": records[-1]["seq"],
                "acked_seq": self.history.acked_seq if acked is None else acked,
                "sessions": records,
            },
        }
        await self.history.async_load()

    async def acknowledged(self, seq: int, wait: float = WAIT) -> None:
        """Wait until the ledger (another process) has acknowledged `seq`."""
        async with asyncio.timeout(wait):
            # The acknowledgement arrives over the ledger's websocket; the store has no event.
            while self.history.acked_seq < seq:  # noqa: ASYNC110
                await asyncio.sleep(0.05)


@pytest.fixture
async def home_assistant(
    hass: HomeAssistant,
    aiohttp_client: Callable[..., Awaitable[object]],
    hass_access_token: str,
    hass_storage: dict[str, Any],
    enable_custom_integrations: None,
) -> HomeAssistantEndpoint:
    # auth (auth/current_user) and config (config/auth/list) are loaded in every real
    # Home Assistant; the ledger uses them to learn who a user is.
    for component in ("websocket_api", "auth", "config"):
        assert await async_setup_component(hass, component, {})
    assert await async_setup_component(hass, DOMAIN, {})
    client = await aiohttp_client(hass.http.app)
    port = client.server.port  # type: ignore[attr-defined]
    history = hass.data[HISTORY]
    endpoint = HomeAssistantEndpoint(
        f"http://127.0.0.1:{port}", hass_access_token, hass, history, hass_storage
    )
    page_after = history.page_after

    def observed(after_seq: int, limit: int) -> list[dict[str, Any]]:
        endpoint.asked_after.append(after_seq)
        return page_after(after_seq, limit)

    history.page_after = observed  # type: ignore[method-assign]
    return endpoint
