"""A Modbus TCP server (pymodbus) that answers from a device simulator's register image."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import struct
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.server import ModbusTcpServer

from .base import Simulator, SimulatorError
from .clock import SimClock

_LOGGER = logging.getLogger(__name__)

HOLDING, INPUT, COIL, DISCRETE = "holding", "input", "coil", "discrete"
_TABLE_OF_FUNCTION = {1: COIL, 5: COIL, 15: COIL, 2: DISCRETE, 4: INPUT, 3: HOLDING, 6: HOLDING}
_TABLE_OF_FUNCTION[16] = HOLDING


class RegisterImage:
    """The registers a device exposes, per (unit id, table), with the devices' encodings.

    Encodings are written here from the manufacturers' documents, separately from the
    integration's codecs, so the two check each other.
    """

    def __init__(self) -> None:
        """Start empty: every address is unmapped until something is put there."""
        self.tables: dict[tuple[int, str], dict[int, int]] = {}

    def _table(self, unit: int, table: str) -> dict[int, int]:
        return self.tables.setdefault((unit, table), {})

    def put_registers(self, unit: int, table: str, address: int, words: Sequence[int]) -> None:
        """Store raw 16-bit words."""
        target = self._table(unit, table)
        for offset, word in enumerate(words):
            target[address + offset] = word & 0xFFFF

    def _put_bytes(self, unit: int, table: str, address: int, data: bytes, low_first: bool) -> None:
        words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        if low_first:
            words.reverse()
        self.put_registers(unit, table, address, words)

    def put_u16(self, unit: int, table: str, address: int, value: int) -> None:
        """Unsigned 16-bit."""
        self._put_bytes(unit, table, address, struct.pack(">H", value), False)

    def put_i16(self, unit: int, table: str, address: int, value: int) -> None:
        """Signed 16-bit."""
        self._put_bytes(unit, table, address, struct.pack(">h", value), False)

    def put_u32(
        self, unit: int, table: str, address: int, value: int, *, low_first: bool = False
    ) -> None:
        """Unsigned 32-bit, high word first unless `low_first`."""
        self._put_bytes(unit, table, address, struct.pack(">I", value), low_first)

    def put_i32(
        self, unit: int, table: str, address: int, value: int, *, low_first: bool = False
    ) -> None:
        """Signed 32-bit."""
        self._put_bytes(unit, table, address, struct.pack(">i", value), low_first)

    def put_u64(
        self, unit: int, table: str, address: int, value: int, *, low_first: bool = False
    ) -> None:
        """Unsigned 64-bit."""
        self._put_bytes(unit, table, address, struct.pack(">Q", value), low_first)

    def put_f32(self, unit: int, table: str, address: int, value: float) -> None:
        """IEEE 754 single, high word first."""
        self._put_bytes(unit, table, address, struct.pack(">f", value), False)

    def put_f64(self, unit: int, table: str, address: int, value: float) -> None:
        """IEEE 754 double, high word first."""
        self._put_bytes(unit, table, address, struct.pack(">d", value), False)

    def put_ascii(
        self, unit: int, table: str, address: int, text: str, count: int, *, swapped: bool = False
    ) -> None:
        """Two characters per register, NUL padded; `swapped` puts the low byte first."""
        data = text.encode("ascii")[: count * 2].ljust(count * 2, b"\x00")
        words = []
        for i in range(0, len(data), 2):
            pair = data[i : i + 2]
            words.append(int.from_bytes(pair[::-1] if swapped else pair, "big"))
        self.put_registers(unit, table, address, words)

    def put_utf16(self, unit: int, table: str, address: int, text: str, count: int) -> None:
        """One UTF-16 code unit per register, NUL padded."""
        words = [ord(char) for char in text[:count]]
        self.put_registers(unit, table, address, words + [0] * (count - len(words)))

    def put_bit(self, unit: int, table: str, address: int, value: bool) -> None:
        """A coil or discrete input."""
        self._table(unit, table)[address] = int(value)

    def get(self, unit: int, table: str, address: int, count: int) -> list[int] | None:
        """Registers at these addresses, or None when any of them is unmapped."""
        source = self.tables.get((unit, table))
        if source is None:
            return None
        try:
            return [source[address + offset] for offset in range(count)]
        except KeyError:
            return None


@dataclass
class Faults:
    """Misbehaviour a test can switch on: the ways real devices fail."""

    exception: int | None = None  # answer every request with this exception code
    exception_at: dict[tuple[str, int], int] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (longer than the client's timeout)
    drop_connection: bool = False  # close the TCP connection instead of answering
    garbage: bool = False  # every register reads 0xFFFF
    nan: bool = False  # float registers read NaN (the device renders them)
    truncate: bool = False  # cut the reply frame short


class ModbusSimulator(Simulator):
    """A device behind a Modbus TCP server: a behaviour model plus its register map."""

    units: ClassVar[tuple[int, ...]]

    def __init__(self, clock: SimClock | None = None) -> None:
        """Create the device with its own clock (a manual one in tests)."""
        super().__init__(clock)
        self.faults = Faults()
        self.requests: list[tuple[int, int, int, int]] = []  # (function, unit, address, count)
        self.writes: list[tuple[int, str, int, list[int]]] = []
        self._server: ModbusTcpServer | None = None
        self._stopping = asyncio.Event()
        self._echo: list[int] | None = None

    @abstractmethod
    def render(self, image: RegisterImage) -> None:
        """Put the device's present values into the image (called before every read)."""

    @abstractmethod
    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """Apply a write; return a Modbus exception code to refuse it."""

    def writable(self, unit: int, table: str, address: int, count: int) -> bool:
        """Whether a write may reach `write()`: by default, the registers must be readable.

        Devices with write-only registers (which answer a read with an exception) override
        this to accept writes there too.
        """
        return self._image().get(unit, table, address, count) is not None

    # -- request handling ------------------------------------------------------------------

    def _image(self) -> RegisterImage:
        image = RegisterImage()
        self.render(image)
        if self.faults.garbage:
            for table in image.tables.values():
                for address in table:
                    table[address] = 0xFFFF
        return image

    async def _before(self, function: int, unit: int, address: int, count: int) -> int | None:
        self.requests.append((function, unit, address, count))
        faults = self.faults
        if faults.delay:
            # Cut short by stop(), so no request handler outlives the server.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), faults.delay)
        if faults.drop_connection and self._server is not None:
            for connection in list(self._server.active_connections.values()):
                connection.close()
            return ExcCodes.DEVICE_FAILURE
        if unit not in self.units:
            return ExcCodes.GATEWAY_NO_RESPONSE
        if faults.exception is not None:
            return faults.exception
        table = _TABLE_OF_FUNCTION.get(function)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        for offset in range(count):
            code = faults.exception_at.get((table, address + offset))
            if code is not None:
                return code
        return None

    async def get_values(self, unit: int, function: int, address: int, count: int) -> Any:
        """Answer a read (or the read-back pymodbus does after a write)."""
        if function in (5, 6) and self._echo is not None:
            # A single write's reply echoes the request (Modbus spec), even for write-only
            # registers and devices that restrict reads: it is no read of the device.
            echo, self._echo = self._echo, None
            return [bool(v) for v in echo] if function == 5 else echo
        if (code := await self._before(function, unit, address, count)) is not None:
            return ExcCodes(code)
        table = _TABLE_OF_FUNCTION[function]
        values = self._image().get(unit, table, address, count)
        if values is None:
            return ExcCodes.ILLEGAL_ADDRESS
        if table in (COIL, DISCRETE):
            return [bool(v) for v in values]
        return values

    async def set_values(self, unit: int, function: int, address: int, values: Any) -> Any:
        """Apply a write request."""
        count = len(values) if isinstance(values, list) else 1
        if (code := await self._before(function, unit, address, count)) is not None:
            return ExcCodes(code)
        table = _TABLE_OF_FUNCTION[function]
        words = [int(v) for v in (values if isinstance(values, list) else [values])]
        if not self.writable(unit, table, address, len(words)):
            return ExcCodes.ILLEGAL_ADDRESS
        code = self.write(unit, table, address, words)
        if code is not None:
            return ExcCodes(code)
        self.writes.append((unit, table, address, words))
        self._echo = words
        return None

    # -- server --------------------------------------------------------------------------

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if sending and self.faults.truncate and len(data) > 9:
            return data[:9]
        return data

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0 picks a free port); return the port."""
        server = ModbusTcpServer(
            _Context(self), address=(host, port), trace_packet=self._trace_packet
        )
        try:
            await server.serve_forever(background=True)
        except RuntimeError as err:
            raise SimulatorError(
                f"cannot listen on {host}:{port} (port in use?): choose another with --port"
            ) from err
        self._server = server
        sockets = getattr(server.transport, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        return int(self.port)

    async def stop(self) -> None:
        """Close the server and every connection, and end pending request handlers."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is None:
            return
        await server.shutdown()  # type: ignore[no-untyped-call]
        # pymodbus leaves the request handlers of closed connections pending; end them too.
        handlers = [task for task in asyncio.all_tasks() if _handler_server(task) is server]
        for task in handlers:
            task.cancel()
        if handlers:
            await asyncio.wait(handlers, timeout=1)


def _handler_server(task: asyncio.Task[Any]) -> object:
    """The server a pymodbus request-handler task belongs to (None for other tasks)."""
    coro = task.get_coro()
    if not getattr(coro, "__qualname__", "").startswith("ServerRequestHandler."):
        return None
    frame = getattr(coro, "cr_frame", None)
    handler = frame.f_locals.get("self") if frame is not None else None
    return getattr(handler, "server", None)


class _Context(ModbusServerContext):
    """Routes pymodbus' datastore calls to the simulator (its old-style context hook)."""

    def __init__(self, simulator: ModbusSimulator) -> None:
        # The base constructor builds a static datastore we do not use.
        self.simulator = simulator
        self.old_simulator = True
        self.simdevices = []

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> Any:
        return await self.simulator.get_values(device_id, func_code, address, count)

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: Any
    ) -> Any:
        return await self.simulator.set_values(device_id, func_code, address, values)

    def device_ids(self) -> list[int]:
        return list(self.simulator.units)


def nan_or(value: float, nan: bool) -> float:
    """A float register's value, or NaN when the device has none."""
    return math.nan if nan else value
