"""What every simulated OCPP charger shares, whatever its protocol version: the websocket to
the central system (with its password and certificate) and how OCPP writes times."""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

import aiohttp

_LOGGER = logging.getLogger(__name__)


class ClientConnection:
    """An aiohttp client websocket as the connection the ocpp library reads and writes."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def recv(self) -> str:
        message = await self.ws.receive()
        if message.type is aiohttp.WSMsgType.TEXT:
            return str(message.data)
        raise ConnectionError(f"websocket {message.type.name.lower()}")

    async def send(self, text: str) -> None:
        await self.ws.send_str(text)


async def close_link(
    ws: aiohttp.ClientWebSocketResponse | None,
    reader: asyncio.Task[None] | None,
    session: aiohttp.ClientSession | None,
) -> None:
    """Close a charger's websocket and wait for its reader; the client session is closed
    even when this is cancelled (no "Unclosed client session" at a test's teardown)."""
    try:
        if ws is not None:
            await ws.close()
        if reader is not None:
            await asyncio.gather(reader, return_exceptions=True)
    finally:
        if session is not None:
            await session.close()


def stamp(at: datetime) -> str:
    """A charger's time as OCPP writes it (UTC, whole seconds, Z)."""
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


async def open_websocket(
    url: str,
    charge_point_id: str,
    *,
    password: str | None,
    ssl_context: ssl.SSLContext | None,
    protocols: tuple[str, ...],
) -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
    """Connect to `url`/<id> (aiohttp.WSServerHandshakeError when refused)."""
    session = aiohttp.ClientSession()
    headers = {}
    if password is not None:
        headers["Authorization"] = aiohttp.encode_basic_auth(charge_point_id, password)
    try:
        ws = await session.ws_connect(
            f"{url.rstrip('/')}/{charge_point_id}",
            protocols=protocols,
            headers=headers,
            ssl=ssl_context if ssl_context is not None else True,
        )
    except BaseException:
        # Cancelled mid-handshake too (a test's disconnect during a reboot): no unclosed session.
        await session.close()
        raise
    return session, ws


async def unanswered_logged(coroutine: Coroutine[Any, Any, Any], charge_point_id: str) -> None:
    """Run what a charger sends after answering a request, as a real one does: a message
    that got no answer (the connection closed, or a test moved the clock past the answer's
    timeout) is logged, and the charger goes on."""
    try:
        await coroutine
    except (TimeoutError, ConnectionError, aiohttp.ClientError) as error:
        _LOGGER.warning("%s: a message sent after an answer got none: %r", charge_point_id, error)


async def wait_real_time(event: asyncio.Event, seconds: float) -> None:
    """Until `event` is set, at most `seconds` of real time (TimeoutError after).

    Timed by a thread, not by the event loop's clock: tests freeze that clock, and a wait
    bounded by it would hang for ever instead of failing.
    """
    loop = asyncio.get_running_loop()
    waiter = asyncio.ensure_future(event.wait())
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        loop.call_soon_threadsafe(waiter.cancel)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        await waiter
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if expired.is_set() and (task is None or task.cancelling() == 0):
            raise TimeoutError(f"not set within {seconds} s of real time") from None
        raise  # the waiting task itself was cancelled
    finally:
        timer.cancel()
        waiter.cancel()
