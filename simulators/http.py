"""An HTTP server (aiohttp) that answers like a device's JSON API, with switchable faults."""

from __future__ import annotations

import asyncio
import json
import logging
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .base import Simulator, SimulatorError
from .clock import SimClock

_LOGGER = logging.getLogger(__name__)


class HttpError(Exception):
    """Raised by `answer()` to reply with an HTTP error status and a JSON body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


@dataclass
class HttpFaults:
    """Misbehaviour a test can switch on: the ways real HTTP devices fail."""

    delay: float = 0.0  # seconds before answering (longer than the client's timeout)
    status: int | None = None  # answer every request with this HTTP status (e.g. 500)
    garbage: bool = False  # the body is not JSON at all
    truncate: bool = False  # the JSON is cut in half (a complete, short HTTP body)
    cut_body: bool = False  # announce the full length, send half, close the connection
    drop_connection: bool = False  # close the connection without answering
    omit: set[str] = field(default_factory=set)  # keys left out of every JSON object


def _without(data: Any, keys: set[str]) -> Any:
    if isinstance(data, dict):
        return {k: _without(v, keys) for k, v in data.items() if k not in keys}
    if isinstance(data, list):
        return [_without(v, keys) for v in data]
    return data


class HttpSimulator(Simulator):
    """A device behind an HTTP JSON API: a behaviour model plus its endpoints."""

    def __init__(self, clock: SimClock | None = None) -> None:
        """Create the device with its own clock (a manual one in tests)."""
        super().__init__(clock)
        self.faults = HttpFaults()
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, query)
        self._runner: web.AppRunner | None = None

    @abstractmethod
    def answer(self, path: str, query: Mapping[str, str]) -> Any:
        """The JSON-able reply to GET `path?query`; raise HttpError to refuse."""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.requests.append((request.path, query))
        faults = self.faults
        if faults.delay:
            await asyncio.sleep(faults.delay)
        if faults.drop_connection:
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # nothing more is sent on a closed connection
        status = 200
        if faults.status is not None:
            status, data = faults.status, {"code": faults.status, "message": "simulated error"}
        else:
            try:
                data = self.answer(request.path, query)
            except HttpError as err:
                status, data = err.status, err.body
        body = json.dumps(_without(data, faults.omit)).encode()
        if faults.garbage:
            body = b"<html><body>\x00\xff not json</body></html>"
        if faults.truncate:
            body = body[: len(body) // 2]
        if faults.cut_body:
            response = web.StreamResponse(status=status)
            response.content_type = "application/json"
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
            if request.transport is not None:
                request.transport.close()
            return response
        return web.Response(status=status, body=body, content_type="application/json")

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0 picks a free port); return the port."""
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as err:
            await runner.cleanup()
            raise SimulatorError(
                f"cannot listen on {host}:{port} ({err.strerror}): choose another with --port"
            ) from err
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        return self.port

    async def stop(self) -> None:
        """Stop serving and close every connection."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
