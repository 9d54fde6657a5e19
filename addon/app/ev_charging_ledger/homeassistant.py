"""A small client for Home Assistant's websocket API.

Only what the ledger needs: authenticate, send commands, receive subscription events.
One reader task owns the socket and routes each message by its ``id``, so a command's
result can be awaited while events of a subscription keep arriving.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any, Self

import aiohttp
from yarl import URL

COMMAND_TIMEOUT = 30.0


# The integration keeps each message under 1 MB (an oversized record is sent as a
# stand-in); the margin lets an older integration's large record through to be
# quarantined instead of closing the connection on every retry.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


class HomeAssistantError(Exception):
    """Home Assistant answered with an error or the connection broke."""


class AuthenticationError(HomeAssistantError):
    """The access token was refused; retrying will not help."""


class ConnectionLostError(HomeAssistantError):
    """The websocket closed."""


class CommandError(HomeAssistantError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def websocket_url(ha_url: str) -> str:
    """``http://host:8123`` -> ``ws://host:8123/api/websocket``; ws URLs are kept."""
    url = URL(ha_url)
    if url.scheme in ("http", "https"):
        url = url.with_scheme("ws" if url.scheme == "http" else "wss")
        if url.path in ("", "/"):
            url = url.with_path("/api/websocket")
    elif url.scheme not in ("ws", "wss"):
        raise ValueError(f"not an http(s) or ws(s) URL: {ha_url!r}")
    if not url.host:
        raise ValueError(f"URL without a host: {ha_url!r}")
    return str(url)


class Connection:
    """One authenticated websocket connection to Home Assistant."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._subscriptions: dict[int, asyncio.Queue[dict[str, Any] | None]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.ha_version: str | None = None

    @classmethod
    async def open(
        cls,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        *,
        wait: float = 10.0,
        heartbeat: float | None = None,
    ) -> Self:
        """Connect and authenticate; ``heartbeat`` pings keep long-lived connections honest."""
        socket = await session.ws_connect(
            url,
            heartbeat=heartbeat,
            timeout=aiohttp.ClientWSTimeout(ws_close=wait),
            max_msg_size=MAX_MESSAGE_BYTES,
        )
        connection = cls(socket)
        try:
            async with asyncio.timeout(wait):
                await connection._authenticate(token)
        except AuthenticationError:
            # Outside the timeout above: a slow reverse DNS lookup on Home Assistant's
            # side must not turn a refusal into a timeout.
            await connection._await_close()
            await socket.close()
            raise
        except BaseException:
            await socket.close()
            raise
        connection._reader = asyncio.create_task(connection._read_loop())
        return connection

    async def _authenticate(self, token: str) -> None:
        hello = await self._socket.receive_json()
        if hello.get("type") != "auth_required":
            raise HomeAssistantError(f"unexpected greeting {hello.get('type')!r}")
        await self._socket.send_json({"type": "auth", "access_token": token})
        reply = await self._socket.receive_json()
        if reply.get("type") == "auth_invalid":
            raise AuthenticationError(reply.get("message") or "invalid access token")
        if reply.get("type") != "auth_ok":
            raise HomeAssistantError(f"unexpected auth reply {reply.get('type')!r}")
        self.ha_version = reply.get("ha_version")

    async def _await_close(self) -> None:
        """Wait until Home Assistant closes a refused connection.

        It counts the failed login (towards an IP ban) before it closes the socket, so
        a login that starts after this returns is counted after the failure, and its
        success resets the counter.
        """
        closing = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        with contextlib.suppress(TimeoutError, aiohttp.ClientError):
            async with asyncio.timeout(10):
                while (await self._socket.receive()).type not in closing:
                    pass

    async def _read_loop(self) -> None:
        try:
            async for message in self._socket:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                data = message.json()
                for item in data if isinstance(data, list) else [data]:
                    self._dispatch(item)
        finally:
            error = ConnectionLostError("Home Assistant closed the websocket")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(error)
            self._pending.clear()
            for queue in self._subscriptions.values():
                queue.put_nowait(None)

    def _dispatch(self, message: dict[str, Any]) -> None:
        message_id = message.get("id")
        if not isinstance(message_id, int):
            return
        if message.get("type") == "event":
            queue = self._subscriptions.get(message_id)
            if queue is not None:
                queue.put_nowait(message.get("event") or {})
            return
        future = self._pending.pop(message_id, None)
        if future is None or future.done():
            return
        if message.get("success"):
            future.set_result(message.get("result"))
        else:
            error = message.get("error") or {}
            future.set_exception(CommandError(str(error.get("code")), str(error.get("message"))))

    async def command(self, payload: dict[str, Any], *, wait: float = COMMAND_TIMEOUT) -> Any:
        message_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        try:
            await self._socket.send_json({**payload, "id": message_id})
        except (ConnectionError, aiohttp.ClientError) as err:
            self._pending.pop(message_id, None)
            raise ConnectionLostError(str(err)) from err
        async with asyncio.timeout(wait):
            return await future

    async def subscribe(
        self, payload: dict[str, Any]
    ) -> tuple[int, asyncio.Queue[dict[str, Any] | None]]:
        """Start a subscription; events (then None when the socket closes) arrive on the queue."""
        message_id = next(self._ids)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._subscriptions[message_id] = queue
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self._socket.send_json({**payload, "id": message_id})
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                await future
        except BaseException:
            self._subscriptions.pop(message_id, None)
            raise
        return message_id, queue

    async def close(self) -> None:
        await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


async def current_user(session: aiohttp.ClientSession, url: str, token: str) -> dict[str, Any]:
    """Who a token belongs to (``auth/current_user``: id, name, is_admin...)."""
    connection = await Connection.open(session, url, token)
    try:
        result = await connection.command({"type": "auth/current_user"})
    finally:
        await connection.close()
    if not isinstance(result, dict):
        raise HomeAssistantError("auth/current_user returned no user")
    return result


async def list_users(session: aiohttp.ClientSession, url: str, token: str) -> list[dict[str, Any]]:
    """All users with their groups (``config/auth/list``, needs an admin token)."""
    connection = await Connection.open(session, url, token)
    try:
        result = await connection.command({"type": "config/auth/list"})
    finally:
        await connection.close()
    if not isinstance(result, list):
        raise HomeAssistantError("config/auth/list returned no list")
    return [user for user in result if isinstance(user, dict)]


async def check_login(session: aiohttp.ClientSession, url: str, token: str) -> None:
    """Log in and out again; raises if Home Assistant refuses ``token``."""
    connection = await Connection.open(session, url, token)
    await connection.close()
