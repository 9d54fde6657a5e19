"""A Modbus TCP transport that serialises requests and speaks only in library errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.pdu import ExceptionResponse

from ..errors import (
    DeviceCommunicationError,
    DeviceConnectionError,
    DeviceExceptionResponse,
    DeviceTimeoutError,
)
from .profile_model import Table

_LOGGER = logging.getLogger(__name__)

_READ_METHODS = {
    Table.HOLDING: "read_holding_registers",  # FC3
    Table.INPUT: "read_input_registers",  # FC4
    Table.COIL: "read_coils",  # FC1
    Table.DISCRETE: "read_discrete_inputs",  # FC2
}


class _TcpClient(AsyncModbusTcpClient):
    """pymodbus's TCP client, connecting without the library's settling pause.

    pymodbus 3.13 (the version Home Assistant pins) sleeps 0.1 s after every connect, which
    later releases dropped; the transport has its own connect timeout and retry policy, so
    the pause only delays detection and reconnects.
    """

    async def connect(self) -> bool:
        """Open the TCP connection; False when it cannot be opened."""
        self.ctx.reset_delay()
        return await self.ctx.connect()


class ModbusTransport:
    """One TCP connection to a device, shared by all its unit ids.

    Requests are serialised with a lock: devices answer one transaction at a time and a poll
    must not interleave with a write. A dropped connection is reopened by the next request.
    """

    def __init__(self, host: str, port: int, *, timeout: float = 3.0) -> None:
        """Prepare a transport; nothing is opened until the first request."""
        self.host = host
        self.port = port
        self.timeout = timeout
        self._client: AsyncModbusTcpClient | None = None
        self._lock = asyncio.Lock()
        self.requests = 0
        # Closed for good (the entry unloaded): a request still under way, a keep-alive say,
        # must not open a new connection to a device nobody uses any more.
        self._closed = False

    @property
    def connected(self) -> bool:
        """Whether the TCP connection is open."""
        return self._client is not None and self._client.connected

    async def _ensure_connected(self) -> AsyncModbusTcpClient:
        if self._client is not None and self._client.connected:
            return self._client
        await self._drop()
        # pymodbus retries and reconnects on its own; we do both ourselves so that a
        # failure surfaces at once as one library error instead of a silent stall.
        client = _TcpClient(
            self.host, port=self.port, timeout=self.timeout, retries=0, reconnect_delay=0
        )
        try:
            async with asyncio.timeout(self.timeout):
                ok = await client.connect()
        except (TimeoutError, OSError) as err:
            client.close()
            raise DeviceConnectionError(
                f"cannot connect to {self.host}:{self.port}: {err or 'timed out'}"
            ) from err
        if not ok:
            client.close()
            raise DeviceConnectionError(f"cannot connect to {self.host}:{self.port}")
        self._client = client
        return client

    async def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def close(self) -> None:
        """Close the connection for good."""
        self._closed = True
        async with self._lock:
            await self._drop()

    async def _call(
        self,
        describe: Callable[[], str],
        request: Callable[[AsyncModbusTcpClient], Awaitable[Any]],
    ) -> Any:
        """Run one request under the lock and a timeout; `describe` names it in errors.

        `describe` is called only when something fails: a poll makes many requests, and
        formatting a description each time was a measurable part of its overhead.
        """
        async with self._lock:
            if self._closed:
                raise DeviceConnectionError(f"{describe()}: the connection was closed")
            client = await self._ensure_connected()
            self.requests += 1
            try:
                async with asyncio.timeout(self.timeout * 1.5):
                    response = await request(client)
            except TimeoutError as err:
                await self._drop()
                raise DeviceTimeoutError(f"{describe()} timed out") from err
            except ModbusIOException as err:
                # pymodbus reports an unanswered request as an IO error.
                await self._drop()
                raise DeviceTimeoutError(f"{describe()}: no answer from the device") from err
            except ConnectionException as err:
                await self._drop()
                raise DeviceConnectionError(f"{describe()}: connection lost") from err
            except (ModbusException, OSError) as err:
                await self._drop()
                raise DeviceCommunicationError(f"{describe()}: {err}") from err
            if isinstance(response, ExceptionResponse) or response.isError():
                code = getattr(response, "exception_code", 0)
                raise DeviceExceptionResponse(int(code), describe())
            return response

    async def read(self, table: Table, unit: int, address: int, count: int) -> list[int]:
        """Read registers (or bits, as 0/1) from one table."""
        method = _READ_METHODS[table]

        def describe() -> str:
            return f"read {table} {address}+{count} unit {unit}"

        response = await self._call(
            describe,
            lambda client: getattr(client, method)(address, count=count, device_id=unit),
        )
        if table.is_bits:
            bits = list(response.bits)
            if len(bits) < count:
                raise DeviceCommunicationError(f"{describe()}: short answer of {len(bits)} bits")
            return [int(bool(bit)) for bit in bits[:count]]
        registers = list(response.registers)
        if len(registers) != count:
            raise DeviceCommunicationError(
                f"{describe()}: answer has {len(registers)} registers, expected {count}"
            )
        return registers

    async def write_registers(
        self, unit: int, address: int, values: list[int], *, multiple: bool
    ) -> None:
        """Write registers: FC6 for one unless the device wants FC16, else FC16."""

        def describe() -> str:
            return f"write {address}={values} unit {unit}"

        async def request(client: AsyncModbusTcpClient) -> Any:
            if len(values) == 1 and not multiple:
                return await client.write_register(address, values[0], device_id=unit)
            return await client.write_registers(address, values, device_id=unit)

        await self._call(describe, request)

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        """Switch a coil (FC5)."""

        async def request(client: AsyncModbusTcpClient) -> Any:
            return await client.write_coil(address, value, device_id=unit)

        await self._call(lambda: f"write coil {address}={value} unit {unit}", request)
