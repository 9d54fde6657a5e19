"""What every HTTP driver shares: one JSON GET with a deadline, and typed errors.

The integration passes Home Assistant's shared `aiohttp.ClientSession`; a driver creates (and
later closes) a session of its own only when none is given. No aiohttp exception leaves this
module: timeouts, refused connections, HTTP errors and bodies that are not JSON all become the
library's own errors, with messages a user can act on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import aiohttp
from yarl import URL

from custom_components.ev_charging_monitor.devices.errors import (
    DeviceCommunicationError,
    DeviceConnectionError,
    DeviceError,
    DeviceTimeoutError,
    UnsupportedDeviceError,
)
from custom_components.ev_charging_monitor.devices.models import Capabilities, Identity, Reading

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 80


class HttpStatusError(DeviceCommunicationError):
    """The device answered with an HTTP error status."""

    def __init__(self, status: int, url: str, hint: str = "") -> None:
        """Name the status, the URL and, where known, what to do about it."""
        message = f"{url} answered HTTP {status}"
        super().__init__(f"{message}: {hint}" if hint else message)
        self.status = status
        self.url = url


def _hint(status: int) -> str:
    if status in (401, 403):
        return "the device asks for a password; password-protected devices are not supported yet"
    if status == 404:
        return "this device does not offer that API (wrong device type or API disabled?)"
    if status >= 500:
        return "the device reported an internal error; it may recover on the next poll"
    return ""


class HttpClient:
    """GETs JSON from one device, within a deadline, raising only the library's errors."""

    def __init__(
        self,
        host: str,
        *,
        port: int | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 3.0,
    ) -> None:
        """Talk to http://host:port; use `session` when given, else one of our own."""
        self.host = host
        self.port = port or DEFAULT_PORT
        self.timeout = timeout
        self._session = session
        self._own_session: aiohttp.ClientSession | None = None

    def url(self, path: str) -> URL:
        """The URL of `path` on the device (IPv6 literals are bracketed by yarl)."""
        return URL.build(scheme="http", host=self.host, port=self.port, path=path)

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is not None:
            return self._session
        if self._own_session is None or self._own_session.closed:
            self._own_session = aiohttp.ClientSession()
        return self._own_session

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET `path` and return the decoded JSON body."""
        url = self.url(path)
        if params:
            url = url.with_query(params)
        shown = str(url)
        session = self._client_session()
        try:
            async with asyncio.timeout(self.timeout):
                async with session.get(url, allow_redirects=False) as response:
                    body = await response.read()
                    status = response.status
        except TimeoutError as err:
            raise DeviceTimeoutError(
                f"{self.host}:{self.port} did not answer {path} within {self.timeout:g} s"
            ) from err
        except aiohttp.ClientConnectorError as err:
            raise DeviceConnectionError(
                f"cannot connect to {self.host}:{self.port}: {err.os_error.strerror or err}"
                " (is the device on, and the address and port right?)"
            ) from err
        except aiohttp.ClientPayloadError as err:
            raise DeviceConnectionError(
                f"{self.host}:{self.port} broke off its answer to {path}: {err}"
            ) from err
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as err:
            raise DeviceConnectionError(
                f"{self.host}:{self.port} dropped the connection during {path}"
            ) from err
        except aiohttp.ClientError as err:
            raise DeviceConnectionError(f"request {shown} failed: {err}") from err
        if status >= 400:
            raise HttpStatusError(status, shown, _hint(status))
        try:
            return json.loads(body)
        except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
            raise DeviceCommunicationError(
                f"{shown} answered with something that is not JSON ({len(body)} bytes)"
            ) from err

    async def get_object(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """GET `path` and return its JSON object; any other JSON value is an error."""
        data = await self.get_json(path, params)
        if not isinstance(data, dict):
            raise DeviceCommunicationError(
                f"{self.url(path)} answered JSON {type(data).__name__}, expected an object"
            )
        return data

    async def close(self) -> None:
        """Close the session this client opened itself (never one it was given)."""
        session, self._own_session = self._own_session, None
        if session is not None and not session.closed:
            await session.close()


async def probe_object(
    host: str,
    session: aiohttp.ClientSession,
    path: str,
    params: Mapping[str, str] | None = None,
    *,
    port: int | None = None,
    timeout: float = 3.0,
) -> dict[str, Any] | None:
    """GET a JSON object for detection; None for any failure (never raises)."""
    client = HttpClient(host, port=port, session=session, timeout=timeout)
    try:
        return await client.get_object(path, params)
    except DeviceError as err:
        _LOGGER.debug("probe %s on %s:%s: %s", path, host, client.port, err)
        return None


# -- decoding helpers: a missing or malformed value is None, never 0 ------------------------


def number(value: Any) -> float | None:
    """A finite JSON number as float; None for null, strings, booleans, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    """A whole JSON number as int; None otherwise."""
    result = number(value)
    if result is None or not result.is_integer():
        return None
    return int(result)


def text(value: Any) -> str | None:
    """A non-empty JSON string; None otherwise."""
    return value if isinstance(value, str) and value else None


def item(values: Any, index: int) -> Any:
    """values[index] when `values` is a JSON array long enough; None otherwise."""
    if isinstance(values, list) and 0 <= index < len(values):
        return values[index]
    return None


def member(values: Any, key: str) -> Any:
    """values[key] when `values` is a JSON object; None otherwise."""
    return values.get(key) if isinstance(values, dict) else None


class HttpDevice:
    """A device behind an HTTP API: the parts of the `Device` protocol drivers share.

    Subclasses set `id` and `name`, and implement `detect`, `identify` and `read`.
    """

    id: ClassVar[str]
    name: ClassVar[str]

    def __init__(
        self,
        host: str,
        *,
        port: int | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 3.0,
    ) -> None:
        """Bind the driver to a host; `session` is the caller's (not closed by us)."""
        self.host = host
        self.client = HttpClient(host, port=port, session=session, timeout=timeout)
        self.port = self.client.port

    @classmethod
    async def detect(
        cls,
        host: str,
        session: aiohttp.ClientSession,
        *,
        port: int | None = None,
        timeout: float = 3.0,
    ) -> Identity | None:
        """The identity when `host` is this kind of device; None otherwise (never raises)."""
        raise NotImplementedError

    @property
    def capabilities(self) -> Capabilities:
        """What the device can report and do."""
        raise NotImplementedError

    async def identify(self) -> Identity:
        """Manufacturer, model, serial and firmware."""
        raise NotImplementedError

    async def read(self) -> Reading:
        """One poll."""
        raise NotImplementedError

    async def set_current_limit(self, amps: float) -> None:
        """Meters cannot limit current."""
        raise UnsupportedDeviceError(f"{self.name} has no current setpoint")

    async def set_enabled(self, enabled: bool) -> None:
        """Meters cannot stop charging."""
        raise UnsupportedDeviceError(f"{self.name} cannot be enabled remotely")

    async def set_failsafe(
        self, *, current_a: float | None = None, timeout_s: float | None = None
    ) -> None:
        """No HTTP device here documents a failsafe that can be written."""
        raise UnsupportedDeviceError(f"{self.name} has no writable failsafe")

    @property
    def watchdog_interval(self) -> float | None:
        """None: no HTTP device here has a watchdog that needs feeding."""
        return None

    async def keep_alive(self) -> None:
        """None of the HTTP devices has a watchdog that needs feeding."""

    async def close(self) -> None:
        """Close the session the driver opened itself."""
        await self.client.close()
