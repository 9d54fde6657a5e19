"""Run simulators from the command line.

python -m simulators <device> [--host H] [--port N]     one device
python -m simulators demo [--wallbox-port N] [--meter-port N]
                                   a wallbox, a meter in front of it, and a car
python -m simulators list                                the device names
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from .base import Simulator, SimulatorError
from .clock import SimClock
from .devices.eastron_sdm630 import EastronSDM630
from .devices.vestel_evc04 import VestelEVC04
from .registry import simulators
from .vehicle import Vehicle

_LOGGER = logging.getLogger("simulators")


async def _serve(simulators: list[tuple[Simulator, str, int]]) -> None:
    try:
        for simulator, host, port in simulators:
            bound = await simulator.start(host, port)
            print(f"{simulator.name} listening on {host}:{bound}", flush=True)
        await asyncio.Event().wait()
    finally:
        for simulator, _host, _port in simulators:
            await simulator.stop()


async def _demo(
    host: str,
    wallbox_port: int,
    meter_port: int,
    plug_after: float,
    car_wh: int,
    *,
    wait_for_signal: bool,
) -> None:
    """A car plugs in after `plug_after` seconds, charges 11 kW until it has `car_wh` (1 kWh:
    about five and a half minutes), stays a minute and leaves; then the next one comes.

    With `wait_for_signal`, the first car waits for SIGUSR1 (sent once the devices are set
    up), so its whole session is seen as configured.
    """
    clock = SimClock()
    wallbox = VestelEVC04(clock)
    meter = EastronSDM630(clock, load=wallbox.charger)
    ready = asyncio.Event()
    if wait_for_signal:
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, ready.set)
    else:
        ready.set()

    async def scenario() -> None:
        await ready.wait()
        while True:
            await asyncio.sleep(plug_after)
            wallbox.charger.plug(Vehicle(max_current=16, phases=3, energy_wanted=car_wh))
            print("demo: a car plugged in", flush=True)
            # The behaviour model computes "full" from the clock; it raises no event.
            while not wallbox.charger.vehicle or not wallbox.charger.vehicle.full:  # noqa: ASYNC110
                await asyncio.sleep(5)
            await asyncio.sleep(60)
            wallbox.charger.unplug()
            print("demo: the car left", flush=True)

    task = asyncio.create_task(scenario())
    try:
        await _serve([(wallbox, host, wallbox_port), (meter, host, meter_port)])
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run until interrupted."""
    known = simulators()
    names = sorted(known)
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("device", help=f"one of: {', '.join(names)}, demo, list")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1502)
    parser.add_argument("--wallbox-port", type=int, default=1502)
    parser.add_argument("--meter-port", type=int, default=1503)
    parser.add_argument("--plug-after", type=float, default=10.0)
    parser.add_argument("--car-wh", type=int, default=1_000, help="energy each demo car wants")
    parser.add_argument(
        "--wait-for-signal", action="store_true", help="the first demo car waits for SIGUSR1"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    if args.device == "list":
        for name in names:
            print(f"{name}: {known[name].description}")
        return 0
    if args.device == "demo":
        coroutine = _demo(
            args.host,
            args.wallbox_port,
            args.meter_port,
            args.plug_after,
            args.car_wh,
            wait_for_signal=args.wait_for_signal,
        )
    elif args.device in known:
        simulator = known[args.device]()
        coroutine = _serve([(simulator, args.host, args.port)])
    else:
        print(
            f"error: unknown device {args.device!r}; known devices: {', '.join(names)}",
            file=sys.stderr,
        )
        return 2
    try:
        asyncio.run(coroutine)
    except SimulatorError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
