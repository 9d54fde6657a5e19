"""A real Home Assistant process (`python -m homeassistant -c CONFIG`) for the fault matrix.

Started, killed with SIGKILL or stopped with SIGTERM, and started again on the same
configuration directory, as a user's machine would. Onboarding and the config flow go
through the REST calls the frontend makes (as scripts/demo does).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from scripts.lib.ha_onboarding import async_long_lived_token, async_onboard

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "ev_charging_monitor"
CONFIGURATION = """\
homeassistant:
  name: Fault matrix
  time_zone: Europe/Berlin
  country: DE
  currency: EUR
  unit_system: metric
  latitude: 52.52
  longitude: 13.40
  elevation: 34
http:
  server_host: 127.0.0.1
  server_port: {port}
onboarding:
config:
api:
logger:
  default: warning
  logs:
    custom_components.ev_charging_monitor: info
"""
# Home Assistant starts in seconds on an idle machine; CI's two busy cores may need more.
START_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 120.0


USER, PASSWORD = "faults", "fault-matrix"


async def _wait_http(session: aiohttp.ClientSession, url: str, seconds: float) -> None:
    """Until `url` answers below HTTP 500 (Home Assistant is up)."""
    async with asyncio.timeout(seconds):
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url, allow_redirects=False) as response:
                    if response.status < 500:
                        return
            await asyncio.sleep(0.5)


async def _onboard(session: aiohttp.ClientSession, base: str) -> str:
    """Create the owner, finish onboarding and return a long-lived access token."""
    access = await async_onboard(
        session, base, name="Fault matrix", username=USER, password=PASSWORD
    )
    return await async_long_lived_token(
        session, base, access, client_name="fault matrix", lifespan_days=1, promote_http=True
    )


class HomeAssistantProcess:
    """One configuration directory and the Home Assistant process serving it."""

    def __init__(self, root: Path, port: int) -> None:
        """Prepare `root` (config dir with the repository's integration linked in)."""
        self.root = root
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.config = root / "config"
        (self.config / "custom_components").mkdir(parents=True)
        (self.config / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
        (self.config / "custom_components" / DOMAIN).symlink_to(REPO / "custom_components" / DOMAIN)
        self.process: asyncio.subprocess.Process | None = None
        self.token = ""
        self.starts = 0

    async def start(self, session: aiohttp.ClientSession) -> None:
        """Start the process and wait until it answers HTTP."""
        self.starts += 1
        with (self.root / f"home-assistant-{self.starts}.log").open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "homeassistant",
                "-c",
                str(self.config),
                "--skip-pip",
                stdout=log,
                stderr=log,
                cwd=REPO,
            )
        await _wait_http(session, f"{self.base}/api/onboarding", START_TIMEOUT_S)

    async def kill(self) -> None:
        """kill -9: no shutdown hook runs, nothing more is written."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self) -> None:
        """A graceful stop (SIGTERM), as `ha core stop` or systemd do."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await self.process.wait()
            except TimeoutError:
                await self.kill()

    async def close(self) -> None:
        """Stop whatever still runs."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                await self.terminate()

    # -- REST and websocket --------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        """Authorization with the long-lived token."""
        return {"Authorization": f"Bearer {self.token}"}

    async def onboard(self, session: aiohttp.ClientSession) -> None:
        """Create the owner and a long-lived token."""
        self.token = await _onboard(session, self.base)

    async def add_device(self, session: aiohttp.ClientSession, port: int) -> str:
        """The config flow for a simulator, as the UI walks it; returns the entry id."""
        url = f"{self.base}/api/config/config_entries/flow"
        async with session.post(url, json={"handler": DOMAIN}, headers=self.headers) as r:
            flow = await r.json()
        for step in (
            {"next_step_id": "manual"},
            {"host": "127.0.0.1", "port": port, "driver": "auto"},
        ):
            async with session.post(
                f"{url}/{flow['flow_id']}", json=step, headers=self.headers
            ) as response:
                flow = await response.json()
        assert flow.get("type") == "create_entry", flow
        return str(flow["result"]["entry_id"])

    async def set_options(
        self, session: aiohttp.ClientSession, entry_id: str, steps: list[dict[str, Any]]
    ) -> None:
        """One walk through the options flow's menu and steps, as the UI submits it."""
        url = f"{self.base}/api/config/config_entries/options/flow"
        async with session.post(url, json={"handler": entry_id}, headers=self.headers) as r:
            result = await r.json()
        for values in steps:
            async with session.post(
                f"{url}/{result['flow_id']}", json=values, headers=self.headers
            ) as response:
                result = await response.json()
        assert result.get("type") == "create_entry", result

    async def entry_loaded(self, session: aiohttp.ClientSession, entry_id: str) -> bool:
        """Whether the config entry is loaded (False while Home Assistant starts)."""
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with session.get(
                f"{self.base}/api/config/config_entries/entry", headers=self.headers
            ) as response:
                if response.status != 200:
                    return False
                entries = await response.json()
                return any(e["entry_id"] == entry_id and e["state"] == "loaded" for e in entries)
        return False

    async def state(self, session: aiohttp.ClientSession, entity_id: str) -> str | None:
        """An entity's state, or None when Home Assistant does not answer."""
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with session.get(
                f"{self.base}/api/states/{entity_id}", headers=self.headers
            ) as response:
                if response.status == 200:
                    return str((await response.json())["state"])
        return None

    async def sessions(self, session: aiohttp.ClientSession) -> list[dict[str, Any]]:
        """Every session record, over the websocket command the ledger uses."""
        records: list[dict[str, Any]] = []
        async with session.ws_connect(f"{self.base}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.token})
            assert (await ws.receive_json())["type"] == "auth_ok"
            after, message_id = 0, 0
            while True:
                message_id += 1
                await ws.send_json(
                    {
                        "id": message_id,
                        "type": f"{DOMAIN}/sessions",
                        "after_seq": after,
                        "limit": 1000,
                    }
                )
                response = await ws.receive_json()
                assert response["success"], response
                page = response["result"]["sessions"]
                if not page:
                    return records
                records.extend(page)
                after = page[-1]["seq"]
