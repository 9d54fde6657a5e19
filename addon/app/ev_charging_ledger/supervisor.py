"""Supervisor discovery: tell the integration where the ledger runs (aesthetics.md 5.5)."""

from __future__ import annotations

import logging
import socket
from typing import Any

import aiohttp

LOGGER = logging.getLogger(__name__)
SUPERVISOR_URL = "http://supervisor"
SERVICE = "ev_charging_monitor"


async def announce(
    session: aiohttp.ClientSession,
    token: str,
    port: int,
    *,
    supervisor_url: str = SUPERVISOR_URL,
    host: str | None = None,
) -> str | None:
    """Register the ledger for discovery; returns the discovery uuid, None on failure.

    A failed announcement is logged, not fatal: the ledger works without the link.
    """
    config: dict[str, Any] = {"host": host or socket.gethostname(), "port": port}
    try:
        async with session.post(
            f"{supervisor_url}/discovery",
            json={"service": SERVICE, "config": config},
            headers={"Authorization": f"Bearer {token}"},
            timeout=aiohttp.ClientTimeout(total=30),
        ) as response:
            payload = await response.json(content_type=None)
            if response.status != 200 or not isinstance(payload, dict):
                LOGGER.warning("Supervisor refused discovery (HTTP %s)", response.status)
                return None
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        LOGGER.warning("could not announce the ledger to the Supervisor: %s", err)
        return None
    data = payload.get("data") or {}
    uuid = data.get("uuid") if isinstance(data, dict) else None
    LOGGER.info("announced to Home Assistant for discovery (%s:%s)", config["host"], port)
    return str(uuid) if uuid else None
