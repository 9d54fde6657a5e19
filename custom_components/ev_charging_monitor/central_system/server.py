"""The websocket endpoint chargers connect to: ws://<home assistant>:<port>/<charge point id>.

With a certificate it is wss:// (security profile 2: TLS, with the same passwords).

The OCPP-J subprotocol the charger offers picks the protocol: `ocpp1.6` or `ocpp2.0.1` (in
the charger's order of preference). A charger that offers none is taken as 1.6, as most
1.6 firmware does not send one; one that offers only others is told so and closed.

Security profile 1: a charger whose entry has a password must send it with HTTP Basic auth
(user name = its charge point id), or the upgrade is refused with 401. A charger not yet
accepted may connect without one: it only gets `Pending` until the user accepts it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import ssl
from typing import Final
from urllib.parse import unquote

from aiohttp import hdrs, web
from homeassistant.const import CONF_PASSWORD
from homeassistant.core import HomeAssistant

from ..const import LOGGER
from .charge_point import CentralChargePoint
from .charge_point_201 import CentralChargingStation
from .connection import ConnectionClosedError, WebSocketConnection
from .const import SUBPROTOCOL, SUBPROTOCOL_201, SUBPROTOCOLS
from .registry import OcppRegistry

_REALM: Final = 'Basic realm="OCPP"'


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


class CentralSystemServer:
    """An aiohttp server on its own port, one websocket per charger."""

    def __init__(
        self,
        hass: HomeAssistant,
        registry: OcppRegistry,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Listen on `host`:`port` once started (wss:// with `ssl_context`)."""
        self.hass = hass
        self.ssl_context = ssl_context
        self.registry = registry
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    async def async_start(self) -> None:
        """Bind the port (an OSError says it is taken)."""
        app = web.Application()
        app.router.add_get("/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        LOGGER.info("OCPP central system listening on port %s", self.port)

    async def async_stop(self) -> None:
        """Close every charger's connection and the port."""
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authorized(self, request: web.Request, charge_point_id: str) -> bool:
        entry = self.registry.entry_for(charge_point_id)
        password = None if entry is None else entry.data.get(CONF_PASSWORD)
        if not password:
            return True
        credentials = _basic_credentials(request.headers.get(hdrs.AUTHORIZATION))
        if credentials is None:
            return False
        user, given = credentials
        return hmac.compare_digest(user.encode(), charge_point_id.encode()) & hmac.compare_digest(
            given.encode(), str(password).encode()
        )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        charge_point_id = unquote(request.match_info["path"].rstrip("/").rpartition("/")[2])
        if not charge_point_id:
            raise web.HTTPNotFound
        if not self._authorized(request, charge_point_id):
            LOGGER.warning("OCPP charger %s refused: wrong or missing password", charge_point_id)
            raise web.HTTPUnauthorized(headers={hdrs.WWW_AUTHENTICATE: _REALM})
        offered = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL)
        ws = web.WebSocketResponse(protocols=SUBPROTOCOLS, autoping=True)
        await ws.prepare(request)
        if offered and ws.ws_protocol not in SUBPROTOCOLS:
            # OCPP-J: no common protocol -> complete the handshake and close at once.
            LOGGER.warning(
                "OCPP charger %s refused: it offered the subprotocols %s, this central "
                "system speaks %s",
                charge_point_id,
                offered,
                ", ".join(SUBPROTOCOLS),
            )
            await ws.close()
            return ws
        await self._serve(charge_point_id, ws, ws.ws_protocol or SUBPROTOCOL)
        return ws

    async def _serve(self, charge_point_id: str, ws: web.WebSocketResponse, protocol: str) -> None:
        if (old := self.registry.connections.get(charge_point_id)) is not None:
            # A charger that reconnects replaces its old, probably dead, connection (also
            # when it now speaks another OCPP version, as after a firmware update).
            await old.socket.ws.close()
        kind = CentralChargingStation if protocol == SUBPROTOCOL_201 else CentralChargePoint
        charge_point = kind(self.hass, self.registry, charge_point_id, WebSocketConnection(ws))
        self.registry.connections[charge_point_id] = charge_point
        self._sockets.add(ws)
        if (charger := self.registry.chargers.get(charge_point_id)) is not None:
            charger.set_connected(True)
        LOGGER.debug("OCPP charger %s connected (%s)", charge_point_id, protocol)
        try:
            await charge_point.start()
        except ConnectionClosedError:
            pass
        except asyncio.CancelledError:
            raise
        finally:
            self._sockets.discard(ws)
            if self.registry.connections.get(charge_point_id) is charge_point:
                del self.registry.connections[charge_point_id]
                if (charger := self.registry.chargers.get(charge_point_id)) is not None:
                    charger.set_connected(False)
            LOGGER.debug("OCPP charger %s disconnected", charge_point_id)
