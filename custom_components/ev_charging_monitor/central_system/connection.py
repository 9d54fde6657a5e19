"""The aiohttp websocket as the connection the ocpp library's ChargePoint reads and writes."""

from __future__ import annotations

from aiohttp import WSMsgType, web


class ConnectionClosedError(Exception):
    """The charger closed the websocket (or it broke)."""


class WebSocketConnection:
    """The two calls the ocpp library makes: `recv()` and `send(text)`."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        """Wrap a prepared websocket."""
        self.ws = ws

    async def recv(self) -> str:
        """The next text frame; a binary frame is no OCPP-J message and is skipped."""
        while True:
            message = await self.ws.receive()
            if message.type is WSMsgType.TEXT:
                return str(message.data)
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                raise ConnectionClosedError
            if message.type is WSMsgType.ERROR:
                raise ConnectionClosedError from self.ws.exception()

    async def send(self, text: str) -> None:
        """Send one OCPP-J message."""
        if self.ws.closed:
            raise ConnectionClosedError
        await self.ws.send_str(text)
