"""Poll benchmark: every shipped Modbus profile against its simulator, on loopback.

For each shipped Modbus profile that has a simulator of the same name, this prints:

- requests per poll (from the simulator's request log over N polls, divided by N),
- the minimum number of requests the device allows, computed here independently of the
  library's planner,
- the median latency of one `ModbusDevice.read()` poll,
- the median latency of a bare pymodbus `AsyncModbusTcpClient` reading the same blocks
  (same function codes, units, addresses and counts, taken from the device's read plan),
  measured in the same run against the same simulator, alternating with the device,
- their ratio,

and ends with one summary line:
`poll: devices=N max_requests_over_minimum=X max_latency_ratio=Y`.

Targets (issue 3): requests per poll equal the minimum; latency ratio <= 1.3. They are
reported, never asserted: this is a measurement, not a test.

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
import logging  # noqa: E402
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
from simulators.modbus import ModbusSimulator  # noqa: E402
from simulators.registry import simulators  # noqa: E402

HOST = "127.0.0.1"  # loopback only
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

    @property
    def over_minimum(self) -> float:
        """Requests per poll beyond the minimum the device allows."""
        return self.requests_per_poll - self.minimum

    @property
    def ratio(self) -> float:
        """Median device poll latency over median bare-client latency."""
        return self.device_us / self.bare_us


def plan_requests(plan: list[ReadBlock]) -> list[Request]:
    """The requests a plan makes, in the simulator's log format."""
    return [(FUNCTION_OF_TABLE[b.table], b.unit, b.address, b.count) for b in plan]


async def measure(profile: ModbusProfile, simulator: ModbusSimulator, polls: int) -> Result:
    """Start the simulator, count one device's requests and time it against a bare client."""
    port = await simulator.start(HOST, 0)
    device = ModbusDevice(profile, HOST, port=port)
    client = AsyncModbusTcpClient(HOST, port=port, timeout=3, retries=0, reconnect_delay=0)
    try:
        await device.read()  # a SunSpec profile finds its models (and so its plan) here
        plan = device.read_plan
        if not await client.connect():
            raise RuntimeError(f"bare client cannot connect to {HOST}:{port}")

        # Requests per poll, from the simulator's log (and the transport's own counter).
        simulator.requests.clear()
        before = device.transport.requests
        for _ in range(COUNT_POLLS):
            await device.read()
        logged = list(simulator.requests)
        counted = device.transport.requests - before
        if counted != len(logged):
            print(f"  note: transport counted {counted} requests, simulator logged {len(logged)}")
        device_poll = logged[: len(logged) // COUNT_POLLS]

        simulator.requests.clear()
        await bare_poll(client, plan)
        same_blocks = (
            Counter(simulator.requests) == Counter(device_poll) == Counter(plan_requests(plan))
        )

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
        await simulator.stop()

    specs = device.profile.values  # placed on the model chain for SunSpec devices
    return Result(
        name=profile.id,
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
    )


# -- the run -------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


async def run(polls: int) -> None:
    """Measure every shipped Modbus profile that has a simulator of the same name."""
    profiles = shipped_profiles()
    available = simulators()
    results: list[Result] = []
    for name, profile in sorted(profiles.items()):
        cls = available.get(name)
        if cls is None or not issubclass(cls, ModbusSimulator):
            print(f"{name}: no Modbus simulator of that name, skipped")
            continue
        results.append(await measure(profile, cls(), polls))

    print(
        f"{'device':<20} {'req/poll':>8} {'minimum':>7} {'requests':>8} "
        f"{'device_ms':>9} {'bare_ms':>8} {'ratio':>6} {'latency':>8}  same_blocks"
    )
    for r in results:
        print(
            f"{r.name:<20} {r.requests_per_poll:>8.2f} {r.minimum:>7d} "
            f"{_met(r.over_minimum <= 0):>8} {r.device_us / 1000:>9.3f} "
            f"{r.bare_us / 1000:>8.3f} {r.ratio:>6.2f} {_met(r.ratio <= RATIO_TARGET):>8}  "
            f"{'yes' if r.same_blocks else 'NO'}"
        )
    print(
        f"medians over {polls} polls per client after {WARMUP} warm-up polls, device and "
        f"bare client alternating; requests counted over {COUNT_POLLS} device-only polls"
    )
    over = max((r.over_minimum for r in results), default=0.0)
    ratio = max((r.ratio for r in results), default=0.0)
    print(
        f"targets: requests per poll == minimum: {_met(over <= 0)}; "
        f"latency ratio <= {RATIO_TARGET}: {_met(ratio <= RATIO_TARGET)}"
    )
    over_text = f"{over:g}" if over != int(over) else str(int(over))
    print(
        f"poll: devices={len(results)} max_requests_over_minimum={over_text} "
        f"max_latency_ratio={ratio:.2f}"
    )


def main() -> None:
    """Parse arguments and run the benchmark in one event loop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--polls", type=int, default=POLLS, help="measured polls per client")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(run(args.polls))


if __name__ == "__main__":
    main()
