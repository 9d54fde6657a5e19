"""Supervisor discovery against a local HTTP server standing in for the Supervisor API
(the real one exists only inside a Home Assistant OS/Supervised install)."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from ev_charging_ledger.supervisor import announce


async def test_announce_posts_the_discovery_message() -> None:
    received: list[tuple[str, dict[str, Any]]] = []

    async def discovery(request: web.Request) -> web.Response:
        received.append((request.headers["Authorization"], await request.json()))
        return web.json_response({"result": "ok", "data": {"uuid": "abc123"}})

    app = web.Application()
    app.router.add_post("/discovery", discovery)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        uuid = await announce(
            session, "sup-token", 8099, supervisor_url=str(server.make_url("")).rstrip("/"),
            host="local-ev-charging-ledger",
        )  # fmt: skip
    assert uuid == "abc123"
    assert received == [
        (
            "Bearer sup-token",
            {
                "service": "ev_charging_monitor",
                "config": {"host": "local-ev-charging-ledger", "port": 8099},
            },
        )
    ]


async def test_refused_discovery_is_not_fatal() -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"result": "error", "message": "no"}, status=400)

    app = web.Application()
    app.router.add_post("/discovery", refuse)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        assert (
            await announce(session, "t", 8099, supervisor_url=str(server.make_url("")).rstrip("/"))
            is None
        )
