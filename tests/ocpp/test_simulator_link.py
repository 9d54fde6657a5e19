"""The simulated chargers' websocket link is cancel-safe: a test that disconnects a charger
while it is reconnecting must not leave an open client session (Home Assistant's test harness
fails the test at teardown on "Unclosed client session")."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any
from unittest.mock import patch

import pytest
from aiohttp import web

from simulators.ocpp_charger import GenericOcpp16Charger
from simulators.ocpp_link import open_websocket, wait_real_time


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


async def _silent_central_system(
    sent: list[str],
) -> tuple[web.AppRunner, str, asyncio.Event]:
    """A central system that asks for a BootNotification and never answers anything."""
    booted = asyncio.Event()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("ocpp1.6",))
        await ws.prepare(request)
        await ws.send_str(
            json.dumps([2, "t1", "TriggerMessage", {"requestedMessage": "BootNotification"}])
        )
        async for message in ws:
            sent.append(str(message.data))
            if '"BootNotification"' in str(message.data):
                booted.set()
        return ws

    app = web.Application()
    app.router.add_get("/{id}", handler)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"ws://127.0.0.1:{port}", booted


def _of_the_simulators(task: asyncio.Task[Any]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "/simulators/" in code.co_filename


@pytest.mark.usefixtures("socket_enabled")
async def test_disconnect_ends_what_the_charger_sends_after_an_answer() -> None:
    """The boot a TriggerMessage asked for waits for an answer that never comes: the
    disconnect ends it (it was a task of the ocpp library nobody awaited, which Home
    Assistant's harness reported as lingering after the test)."""
    sent: list[str] = []
    runner, url, booted = await _silent_central_system(sent)
    sim = GenericOcpp16Charger("CP-LINGER")
    try:
        await sim.connect(url)
        await asyncio.wait_for(booted.wait(), 10)
        ours = [task for task in asyncio.all_tasks() if _of_the_simulators(task)]
        assert len(ours) >= 2, "the reader and the triggered boot waiting for its answer"
        await sim.disconnect()
        assert [task for task in ours if not task.done()] == []
    finally:
        await sim.disconnect()
        await runner.cleanup()


@pytest.mark.usefixtures("socket_enabled")
async def test_a_cancelled_disconnect_still_closes_the_client_session() -> None:
    """Cancelled while it waits for what the charger was sending: the session is closed."""
    sent: list[str] = []
    runner, url, booted = await _silent_central_system(sent)
    sim = GenericOcpp16Charger("CP-CANCEL-DISCONNECT")
    release = asyncio.Event()

    async def slow_to_end() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await release.wait()  # ends only when the test says so
            raise

    try:
        await sim.connect(url)
        await asyncio.wait_for(booted.wait(), 10)
        session = sim._session
        assert session is not None
        sim.in_background(slow_to_end())
        await asyncio.sleep(0)
        disconnecting = asyncio.create_task(sim.disconnect())
        await asyncio.sleep(0)
        disconnecting.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await disconnecting
        assert session.closed
    finally:
        release.set()
        await sim.disconnect()
        await runner.cleanup()


async def test_a_real_time_wait_fails_instead_of_hanging_on_a_frozen_clock() -> None:
    """wait_accepted's bound is real seconds (a thread's timer): the tests freeze the event
    loop's clock, where asyncio.wait_for(..., 10) never expired and a lost boot hung the run.
    Here the loop's clock is stopped by hand for the whole wait."""
    loop = asyncio.get_running_loop()
    frozen = loop.time()
    never = asyncio.Event()
    with patch.object(loop, "time", lambda: frozen), pytest.raises(TimeoutError):
        await wait_real_time(never, 0.2)
    done = asyncio.Event()
    done.set()
    await wait_real_time(done, 0.2)
    waiting = asyncio.create_task(wait_real_time(never, 5))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
