"""KEBA KeContact P30 legacy UDP protocol: a responder for discovery.

Written from devices.md section 10b (evcc `charger/keba*`, IPSymcon KebaConnect): the box
listens on UDP 7090; `report 1` is answered with a JSON object carrying `"ID": "1"`,
`Product`, `Serial`, `Firmware`, `COM-module` and `Sec`. A real box sends every reply to port
7090 of the asking host, whatever port the request came from: `reply_port` models that (None
answers the sender's port, which lets several tests run side by side).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from simulators.base import Simulator, SimulatorError
from simulators.clock import SimClock

_LOGGER = logging.getLogger(__name__)

KEBA_UDP_PORT = 7090


class KebaUdp(Simulator):
    """Answers `report 1` like a KEBA P30 c-series; other commands get no answer here."""

    name = "keba_udp"
    description = "KEBA KeContact P30 UDP identity responder (report 1 on port 7090)"

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        serial: str = "22012345",
        product: str = "KC-P30-EC240422-E00",
        firmware: str = "P30 v 3.10.42 (211112-110418)",
        reply_port: int | None = None,
    ) -> None:
        """A box with this serial, product code and firmware."""
        super().__init__(clock)
        self.serial = serial
        self.product = product
        self.firmware = firmware
        self.reply_port = reply_port
        self.silent = False  # drop every datagram (a box that is off, or not a KEBA)
        self.garbage = False  # answer with bytes that are not JSON
        self.received: list[tuple[bytes, tuple[str, int]]] = []
        self._transport: asyncio.DatagramTransport | None = None

    def report(self, number: int) -> dict[str, Any] | None:
        """The JSON object of `report <number>`, or None when not simulated."""
        if number == 1:
            return {
                "ID": "1",
                "Product": self.product,
                "Serial": self.serial,
                "Firmware": self.firmware,
                "COM-module": 0,
                "Sec": int(self.clock.now()),
            }
        return None

    def _reply(self, data: bytes) -> bytes | None:
        if self.silent:
            return None
        words = data.decode("ascii", errors="replace").strip().split()
        if len(words) == 2 and words[0] == "report" and words[1].isdigit():
            report = self.report(int(words[1]))
            if report is None:
                return None
            if self.garbage:
                return b"\x00\xff{ID: 1"
            return json.dumps(report).encode()
        return None

    def datagram_received(self, data: bytes, address: tuple[str, int]) -> None:
        """Answer one request."""
        self.received.append((data, address))
        reply = self._reply(data)
        if reply is not None and self._transport is not None:
            port = self.reply_port if self.reply_port is not None else address[1]
            self._transport.sendto(reply, (address[0], port))

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on UDP host:port (0 picks a free port); return the port."""
        loop = asyncio.get_running_loop()
        try:
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=(host, port)
            )
        except OSError as err:
            raise SimulatorError(
                f"cannot listen on UDP {host}:{port} ({err.strerror}): choose another with --port"
            ) from err
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        return self.port

    async def stop(self) -> None:
        """Close the socket."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, simulator: KebaUdp) -> None:
        self.simulator = simulator

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.simulator.datagram_received(data, (str(addr[0]), int(addr[1])))
