"""The simulated OCPP 2.0.1 station's websocket: connect, send, the tasks that answer
after a request, disconnect (mixed into GenericOcpp201Station)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import aiohttp
from ocpp.v201 import ChargePoint

from .ocpp_link import ClientConnection, close_link, open_websocket, unanswered_logged

SUBPROTOCOL = "ocpp2.0.1"


class StationConnection:
    """The connection part of the station."""

    if TYPE_CHECKING:  # the station's own
        charge_point_id: str
        password: str | None
        ssl_context: ssl.SSLContext | None

        def make_client(self, connection: ClientConnection) -> ChargePoint: ...

    def init_connection(self) -> None:
        """Not connected yet."""
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._client: ChargePoint | None = None
        self._task: asyncio.Task[None] | None = None
        self._accepted = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()
        self._url: str | None = None

    # -- connection ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the websocket is open."""
        return self._ws is not None and not self._ws.closed

    async def connect(self, url: str, protocols: tuple[str, ...] = (SUBPROTOCOL,)) -> None:
        """Open the websocket to `url`/<id> (aiohttp.WSServerHandshakeError when refused)."""
        self._session, self._ws = await open_websocket(
            url,
            self.charge_point_id,
            password=self.password,
            ssl_context=self.ssl_context,
            protocols=protocols,
        )
        self._url = url
        self._client = self.make_client(ClientConnection(self._ws))
        self._task = asyncio.create_task(self._run(self._client))

    @property
    def protocol(self) -> str | None:
        """The subprotocol the central system agreed to."""
        return None if self._ws is None else self._ws.protocol

    @property
    def busy(self) -> bool:
        """Whether something a request asked for is still being sent (its answer awaited)."""
        return any(not task.done() for task in self._background)

    def in_background(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Send what a request asked for after its answer; cancelled by `disconnect`."""
        task = asyncio.create_task(unanswered_logged(coroutine, self.charge_point_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run(self, client: ChargePoint) -> None:
        with contextlib.suppress(ConnectionError):
            await client.start()  # type: ignore[no-untyped-call]

    async def disconnect(self) -> None:
        """Close the websocket (the station keeps its register and transaction)."""
        others = [task for task in self._background if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        try:
            await asyncio.gather(*others, return_exceptions=True)
        finally:
            await self._close()

    async def _close(self) -> None:
        # Even when the disconnect itself is cancelled: no unclosed client session.
        ws, reader, session = self._ws, self._task, self._session
        self._ws = self._session = self._client = self._task = None
        self._accepted.clear()
        await close_link(ws, reader, session)

    async def send(self, payload: Any) -> Any:
        """Send any request; returns the confirmation."""
        assert self._client is not None, "connect first"
        return await self._client.call(payload)  # type: ignore[no-untyped-call]
