"""The simulated chargers' websocket link is cancel-safe: a test that disconnects a charger
while it is reconnecting must not leave an open client session (Home Assistant's test harness
fails the test at teardown on "Unclosed client session")."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from simulators.ocpp_link import open_websocket


@pytest.mark.usefixtures("socket_enabled")
async def test_a_connect_cancelled_mid_handshake_closes_its_session() -> None:
    """Cancelled while the server has not answered the upgrade: the session is closed."""
    reached = asyncio.Event()
    release = asyncio.Event()

    async def never_upgrades(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reached.set()
        await release.wait()
        writer.close()

    server = await asyncio.start_server(never_upgrades, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(str(context["message"])))
    try:
        connecting = asyncio.create_task(
            open_websocket(
                f"ws://127.0.0.1:{port}",
                "CP-CANCEL",
                password=None,
                ssl_context=None,
                protocols=("ocpp1.6",),
            )
        )
        await asyncio.wait_for(reached.wait(), 10)
        connecting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await connecting
        del connecting
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
        release.set()
        server.close()
        await server.wait_closed()
    unclosed: list[Any] = [message for message in reported if "Unclosed" in message]
    assert unclosed == []
