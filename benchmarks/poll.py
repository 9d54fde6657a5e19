"""Poll benchmark: every shipped Modbus profile against its simulator, on loopback.

The simulators run in a separate process (this script with `--serve`), each serving a
fixed register image: rendered once from a stopped clock, so every answer costs the server
the same and none of the server's work runs in the measuring process. For each shipped
Modbus profile that has a simulator of the same name, this prints:

- requests per poll (from the simulator's request log over N polls, divided by N),
- the minimum number of requests the device allows, computed here independently of the
  library's planner,
- the median latency of one `ModbusDevice.read()` poll,
- the median latency of a bare pymodbus `AsyncModbusTcpClient` issuing the same requests
  (same function codes, units, addresses and counts, taken from the device's read plan and
  checked against the simulator's log) over one connection kept open, as the device keeps
  its own, measured in the same run against the same server, alternating with the device,
- the overhead per poll and the latency ratio: the medians of the paired differences (in
  microseconds) and ratios, each device poll paired with the bare poll next to it,

and ends with one summary line:
`poll: devices=N max_requests_over_minimum=X median_overhead_us=U max_overhead_us=V
max_latency_ratio=Y`.

Targets (issue 3): requests per poll equal the minimum; latency ratio <= 1.3. They are
reported, never asserted: this is a measurement, not a test. Works with pymodbus 3.13 and
3.16 (both take `device_id=`).

Run: scripts/run python benchmarks/poll.py [--polls N]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from pymodbus.client import AsyncModbusTcpClient  # noqa: E402

from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice  # noqa: E402
from custom_components.ev_charging_monitor.devices.modbus.planner import ReadBlock  # noqa: E402
from custom_components.ev_charging_monitor.devices.modbus.profile import (  # noqa: E402
    ModbusProfile,
    RegisterSpec,
    Table,
    shipped_profiles,
)
from simulators.clock import SimClock  # noqa: E402
from simulators.modbus import ModbusSimulator  # noqa: E402
from simulators.registry import simulators  # noqa: E402

HOST = "127.0.0.1"  # loopback only
SCRIPT = str(Path(__file__).resolve())  # started again with --serve for the simulators
WARMUP = 20  # polls of each client before measuring
POLLS = 200  # measured polls of each client
COUNT_POLLS = 20  # device-only polls whose simulator requests are counted
RATIO_TARGET = 1.3
FUNCTION_OF_TABLE = {Table.COIL: 1, Table.DISCRETE: 2, Table.HOLDING: 3, Table.INPUT: 4}

Request = tuple[int, int, int, int]  # (function, unit, address, count), as the simulator logs


# -- the minimum number of requests, independent of the library's planner -------------------


def minimum_requests(
    specs: Iterable[RegisterSpec], *, max_registers: int, max_gap: int, split_values: bool
) -> int:
    """The fewest read requests that cover every value, under the device's rules.

    Values are grouped per (unit id, table). Values with identical registers are one
    interval; partially overlapping values are merged into their union (none of the shipped
    profiles has one). With `split_values` every distinct interval needs its own request.
    Otherwise a request covers a contiguous address range of at most `max_registers`
    registers and bridges gaps of at most `max_gap` unused registers, so greedy applies:
    start a request at the first uncovered interval and extend it while the next interval
    still fits, then start the next one.
    Why greedy is optimal: the intervals are disjoint and sorted, a request carries a
    contiguous run of them, and every sub-run of a feasible run is feasible; so the greedy's
    k-th request always ends at or after the k-th request of any solution (stays ahead),
    hence no solution uses fewer requests.
    """
    groups: dict[tuple[int, str], set[tuple[int, int]]] = {}
    for spec in specs:
        groups.setdefault((spec.unit, str(spec.table)), set()).add(
            (spec.address, spec.address + spec.count)
        )
    total = 0
    for intervals in groups.values():
        if split_values:
            total += len(intervals)
            continue
        merged: list[list[int]] = []
        for start, end in sorted(intervals):
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        block_start: int | None = None
        block_end = 0
        for start, end in merged:
            if (
                block_start is not None
                and start - block_end <= max_gap
                and end - block_start <= max_registers
            ):
                block_end = end
                continue
            total += 1
            block_start, block_end = start, end
    return total


# -- the bare pymodbus client: the floor the device is compared with ------------------------


async def bare_read(client: AsyncModbusTcpClient, block: ReadBlock) -> Any:
    """One block, read with pymodbus alone (no lock, no timeout wrapper, no decoding)."""
    match block.table:
        case Table.HOLDING:
            response = await client.read_holding_registers(
                block.address, count=block.count, device_id=block.unit
            )
        case Table.INPUT:
            response = await client.read_input_registers(
                block.address, count=block.count, device_id=block.unit
            )
        case Table.COIL:
            response = await client.read_coils(
                block.address, count=block.count, device_id=block.unit
            )
        case Table.DISCRETE:
            response = await client.read_discrete_inputs(
                block.address, count=block.count, device_id=block.unit
            )
    if response.isError():
        raise RuntimeError(f"bare client: {block} answered {response}")
    return response.bits if block.table.is_bits else response.registers


async def bare_poll(client: AsyncModbusTcpClient, plan: list[ReadBlock]) -> None:
    """Read every block of the plan once, in order."""
    for block in plan:
        await bare_read(client, block)


# -- the simulators' process ---------------------------------------------------------------


def modbus_simulators() -> dict[str, type[ModbusSimulator]]:
    """The Modbus simulators by name."""
    return {
        name: cls
        for name, cls in simulators().items()
        if isinstance(cls, type) and issubclass(cls, ModbusSimulator)
    }


def freeze(simulator: ModbusSimulator) -> None:
    """Serve one rendered register image from now on, instead of rendering per request."""
    image = simulator._image()
    setattr(simulator, "_image", lambda: image)  # noqa: B010 - replaces the bound method


async def serve(names: list[str]) -> None:
    """Start the named simulators on loopback; answer commands on stdin, one per line.

    Prints `{"ports": {name: port}}` once listening, then for `clear NAME` clears that
    simulator's request log and answers `ok`, for `log NAME` answers the log as JSON, and
    stops on `quit` or the end of stdin.
    """
    available = modbus_simulators()
    running: dict[str, ModbusSimulator] = {}
    try:
        for name in names:
            simulator = available[name](SimClock(manual=True))
            freeze(simulator)
            await simulator.start(HOST, 0)
            running[name] = simulator
        ports = {name: simulator.port for name, simulator in running.items()}
        print(json.dumps({"ports": ports}), flush=True)
        loop = asyncio.get_running_loop()
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
            command, _, name = line.partition(" ")
            if command == "quit":
                break
            if command == "clear":
                running[name].requests.clear()
                print("ok", flush=True)
            elif command == "log":
                print(json.dumps(running[name].requests), flush=True)
    finally:
        for simulator in running.values():
            await simulator.stop()


class Server:
    """The measuring side's handle on the simulators' process."""

    def __init__(self, process: asyncio.subprocess.Process, ports: dict[str, int]) -> None:
        """Wrap a started `--serve` process."""
        self.process = process
        self.ports = ports

    @classmethod
    async def start(cls, names: list[str]) -> Server:
        """Start the simulators' process and wait until every simulator listens."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            SCRIPT,
            "--serve",
            *names,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        server = cls(process, {})
        server.ports = json.loads(await server._line())["ports"]
        return server

    async def _line(self) -> str:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError("the simulators' process ended; see its error above")
        return line.decode()

    async def _ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()
        return await self._line()

    async def clear(self, name: str) -> None:
        """Clear one simulator's request log."""
        await self._ask(f"clear {name}")

    async def requests(self, name: str) -> list[Request]:
        """The requests one simulator logged since the last clear."""
        return [tuple(request) for request in json.loads(await self._ask(f"log {name}"))]

    async def stop(self) -> None:
        """End the process."""
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.write(b"quit\n")
            await self.process.stdin.drain()
            self.process.stdin.close()
            await self.process.wait()


# -- one device ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """The measurements of one device."""

    name: str
    requests_per_poll: float
    minimum: int
    planned: int
    same_blocks: bool
    device_us: float
    bare_us: float
    overhead_us: float
    ratio: float

    @property
    def over_minimum(self) -> float:
        """Requests per poll beyond the minimum the device allows."""
        return self.requests_per_poll - self.minimum


def plan_requests(plan: list[ReadBlock]) -> list[Request]:
    """The requests a plan makes, in the simulator's log format."""
    return [(FUNCTION_OF_TABLE[b.table], b.unit, b.address, b.count) for b in plan]


async def measure(profile: ModbusProfile, server: Server, polls: int) -> Result:
    """Count one device's requests and time it against a bare client, same server."""
    name = profile.id
    port = server.ports[name]
    device = ModbusDevice(profile, HOST, port=port)
    client = AsyncModbusTcpClient(HOST, port=port, timeout=3, retries=0, reconnect_delay=0)
    try:
        await device.read()  # a SunSpec profile finds its models (and so its plan) here
        plan = device.read_plan
        if not await client.connect():
            raise RuntimeError(f"bare client cannot connect to {HOST}:{port}")

        # Requests per poll, from the simulator's log (and the transport's own counter).
        await server.clear(name)
        before = device.transport.requests
        for _ in range(COUNT_POLLS):
            await device.read()
        logged = await server.requests(name)
        counted = device.transport.requests - before
        if counted != len(logged):
            print(f"  note: transport counted {counted} requests, simulator logged {len(logged)}")
        device_poll = logged[: len(logged) // COUNT_POLLS]

        await server.clear(name)
        await bare_poll(client, plan)
        bare_requests = await server.requests(name)
        same_blocks = Counter(bare_requests) == Counter(device_poll) == Counter(plan_requests(plan))

        for _ in range(WARMUP):
            await device.read()
            await bare_poll(client, plan)

        device_ns: list[int] = []
        bare_ns: list[int] = []
        for index in range(polls):
            # Alternate which client goes first, so neither always follows the other.
            for which in (0, 1) if index % 2 == 0 else (1, 0):
                start = time.perf_counter_ns()
                if which == 0:
                    await device.read()
                    device_ns.append(time.perf_counter_ns() - start)
                else:
                    await bare_poll(client, plan)
                    bare_ns.append(time.perf_counter_ns() - start)
    finally:
        client.close()
        await device.close()

    specs = device.profile.values  # placed on the model chain for SunSpec devices
    # Each device poll is paired with the bare poll next to it: a burst of load on this
    # shared machine slows both, so paired differences and ratios stay steady where the
    # two separate medians do not.
    pairs = list(zip(device_ns, bare_ns, strict=True))
    return Result(
        name=name,
        requests_per_poll=len(logged) / COUNT_POLLS,
        minimum=minimum_requests(
            specs,
            max_registers=profile.max_registers,
            max_gap=profile.max_gap,
            split_values=profile.split_values,
        ),
        planned=len(plan),
        same_blocks=same_blocks,
        device_us=statistics.median(device_ns) / 1000,
        bare_us=statistics.median(bare_ns) / 1000,
        overhead_us=statistics.median(d - b for d, b in pairs) / 1000,
        ratio=statistics.median(d / b for d, b in pairs),
    )


# -- the run -------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


async def run(polls: int) -> None:
    """Measure every shipped Modbus profile that has a simulator of the same name."""
    profiles = shipped_profiles()
    available = modbus_simulators()
    names = []
    for name in sorted(profiles):
        if name in available:
            names.append(name)
        else:
            print(f"{name}: no Modbus simulator of that name, skipped")
    server = await Server.start(names)
    try:
        results = [await measure(profiles[name], server, polls) for name in names]
    finally:
        await server.stop()

    print(
        f"{'device':<20} {'req/poll':>8} {'minimum':>7} {'requests':>8} "
        f"{'device_ms':>9} {'bare_ms':>8} {'over_us':>7} {'ratio':>6} {'latency':>8}  "
        "same_blocks"
    )
    for r in results:
        print(
            f"{r.name:<20} {r.requests_per_poll:>8.2f} {r.minimum:>7d} "
            f"{_met(r.over_minimum <= 0):>8} {r.device_us / 1000:>9.3f} "
            f"{r.bare_us / 1000:>8.3f} {r.overhead_us:>7.0f} {r.ratio:>6.2f} "
            f"{_met(r.ratio <= RATIO_TARGET):>8}  {'yes' if r.same_blocks else 'NO'}"
        )
    print(
        f"medians over {polls} polls per client after {WARMUP} warm-up polls, device and "
        f"bare client alternating on one connection each, simulators in another process "
        f"serving a fixed image; requests counted over {COUNT_POLLS} device-only polls; "
        f"over_us and ratio: medians of the paired differences and ratios; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    over = max((r.over_minimum for r in results), default=0.0)
    ratio = max((r.ratio for r in results), default=0.0)
    overheads = [r.overhead_us for r in results] or [0.0]
    print(
        f"targets: requests per poll == minimum: {_met(over <= 0)}; "
        f"latency ratio <= {RATIO_TARGET}: {_met(ratio <= RATIO_TARGET)}"
    )
    over_text = f"{over:g}" if over != int(over) else str(int(over))
    print(
        f"poll: devices={len(results)} max_requests_over_minimum={over_text} "
        f"median_overhead_us={statistics.median(overheads):.0f} "
        f"max_overhead_us={max(overheads):.0f} max_latency_ratio={ratio:.2f}"
    )


def main() -> None:
    """Parse arguments; measure, or (with --serve) be the simulators' process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--polls", type=int, default=POLLS, help="measured polls per client")
    parser.add_argument("--serve", nargs="*", metavar="NAME", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.serve is not None:
        asyncio.run(serve(args.serve))
    else:
        asyncio.run(run(args.polls))


if __name__ == "__main__":
    main()
