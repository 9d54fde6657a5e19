"""The demo behind scripts/demo: simulators, a real Home Assistant, the ledger.

Runs inside the provisioned toolchain. Starts every process itself and stops every one of
them on Ctrl-C (or SIGTERM), so nothing is left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / ".demo"
USER, PASSWORD = "demo", "demo-charging"
CONFIGURATION = """\
homeassistant:
  name: EV Charging Demo
  time_zone: Europe/Berlin
  country: DE
  currency: EUR
  unit_system: metric
  latitude: 52.52
  longitude: 13.40
  elevation: 34
http:
  server_host: 127.0.0.1
  server_port: {port}
frontend:
config:
api:
energy:
history:
logbook:
logger:
  default: warning
  logs:
    custom_components.ev_charging_monitor: info
"""


class DemoError(Exception):
    """Something the person running the demo can fix; the message says what."""


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def _wait_http(session: aiohttp.ClientSession, url: str, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with session.get(url, allow_redirects=False) as response:
                if response.status < 500:
                    return
        await asyncio.sleep(0.5)
    raise DemoError(f"{url} did not answer within {seconds:.0f} s; see {DEMO}/home-assistant.log")


async def _onboard(session: aiohttp.ClientSession, base: str) -> str:
    """Create the demo user, finish onboarding, return a long-lived access token."""
    client_id = f"{base}/"
    async with session.post(
        f"{base}/api/onboarding/users",
        json={
            "client_id": client_id,
            "name": "Demo",
            "username": USER,
            "password": PASSWORD,
            "language": "en",
        },
    ) as response:
        if response.status != 200:
            raise DemoError(f"onboarding failed: HTTP {response.status} {await response.text()}")
        auth_code = (await response.json())["auth_code"]
    async with session.post(
        f"{base}/auth/token",
        data={"grant_type": "authorization_code", "code": auth_code, "client_id": client_id},
    ) as response:
        access = (await response.json())["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    for step, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": client_id, "redirect_uri": f"{base}/?auth_callback=1"}),
    ):
        async with session.post(
            f"{base}/api/onboarding/{step}", json=body, headers=headers
        ) as response:
            await response.read()
    async with session.ws_connect(f"{base}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": access})
        await ws.receive_json()
        await ws.send_json(
            {
                "id": 1,
                "type": "auth/long_lived_access_token",
                "client_name": "EV Charging demo",
                "lifespan": 365,
            }
        )
        token = (await ws.receive_json())["result"]
        # Home Assistant keeps an HTTP config from YAML on trial and reverts it (with a
        # restart) after five minutes unless someone confirms that it works.
        await ws.send_json({"id": 2, "type": "http/config/promote"})
        promoted = await ws.receive_json()
        if not promoted.get("success"):
            raise DemoError(f"could not confirm the HTTP configuration: {promoted}")
    return str(token)


async def _add_device(
    session: aiohttp.ClientSession, base: str, token: str, port: int
) -> dict[str, Any]:
    """Run the integration's config flow for a simulator, as a user would in the UI."""
    headers = {"Authorization": f"Bearer {token}"}
    flow_url = f"{base}/api/config/config_entries/flow"
    async with session.post(
        flow_url, json={"handler": "ev_charging_monitor"}, headers=headers
    ) as response:
        flow = await response.json()
    for step in (
        {"next_step_id": "manual"},
        {"host": "127.0.0.1", "port": port, "driver": "auto"},
    ):
        async with session.post(
            f"{flow_url}/{flow['flow_id']}", json=step, headers=headers
        ) as response:
            flow = await response.json()
    if flow.get("type") != "create_entry":
        raise DemoError(f"adding the simulator on port {port} failed: {json.dumps(flow)}")
    return dict(flow)


async def _spawn(name: str, *args: str, log: Path) -> asyncio.subprocess.Process:
    handle = log.open("w")
    process = await asyncio.create_subprocess_exec(
        *args, stdout=handle, stderr=asyncio.subprocess.STDOUT, cwd=REPO
    )
    print(f"   started {name} (pid {process.pid}, log {log.relative_to(REPO)})", flush=True)
    return process


async def run(args: argparse.Namespace) -> None:
    """Start everything, set it up, and wait until interrupted."""
    for port, what in (
        (args.port, "Home Assistant"),
        (args.wallbox_port, "the wallbox simulator"),
        (args.meter_port, "the meter simulator"),
        (args.ledger_port, "the ledger"),
    ):
        if not _port_free(port):
            raise DemoError(f"port {port} for {what} is in use: stop what uses it and retry")

    if DEMO.exists():
        shutil.rmtree(DEMO)
    config = DEMO / "config"
    (config / "custom_components").mkdir(parents=True)
    (config / "configuration.yaml").write_text(CONFIGURATION.format(port=args.port))
    (config / "custom_components" / "ev_charging_monitor").symlink_to(
        REPO / "custom_components" / "ev_charging_monitor"
    )

    processes: list[asyncio.subprocess.Process] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    base = f"http://127.0.0.1:{args.port}"
    try:
        print(">> starting the simulated wallbox and meter", flush=True)
        processes.append(
            await _spawn(
                "simulators",
                sys.executable,
                "-m",
                "simulators",
                "demo",
                "--wallbox-port",
                str(args.wallbox_port),
                "--meter-port",
                str(args.meter_port),
                "--plug-after",
                "20",
                log=DEMO / "simulators.log",
            )
        )
        print(">> starting Home Assistant", flush=True)
        processes.append(
            await _spawn(
                "Home Assistant",
                sys.executable,
                "-m",
                "homeassistant",
                "-c",
                str(config),
                # Everything is installed by the toolchain; nothing is fetched at run time.
                "--skip-pip",
                log=DEMO / "home-assistant.log",
            )
        )
        async with aiohttp.ClientSession() as session:
            await _wait_http(session, f"{base}/api/onboarding", 180)
            token = await _onboard(session, base)
            (DEMO / "token").write_text(token + "\n")
            print(">> adding the wallbox and the meter through the config flow", flush=True)
            for port in (args.wallbox_port, args.meter_port):
                entry = await _add_device(session, base, token, port)
                print(f"   added {entry['title']}", flush=True)
        ledger_app = REPO / "addon" / "app" / "ev_charging_ledger"
        if ledger_app.is_dir():
            print(">> starting the EV Charging Ledger", flush=True)
            processes.append(
                await _spawn(
                    "ledger",
                    sys.executable,
                    "-m",
                    "ev_charging_ledger",
                    "--ha-url",
                    base,
                    "--token",
                    token,
                    "--data-dir",
                    str(DEMO / "ledger"),
                    "--listen",
                    f"127.0.0.1:{args.ledger_port}",
                    "--api-token",
                    token,
                    log=DEMO / "ledger.log",
                )
            )
        print(
            f"""
EV Charging Monitor demo is running.
  Home Assistant: {base}   user: {USER}   password: {PASSWORD}
  REST API token: {DEMO.relative_to(REPO)}/token   e.g.
      curl -H "Authorization: Bearer $(cat .demo/token)" {base}/api/states/sensor.vestel_evc04_power
  Ledger:         http://127.0.0.1:{args.ledger_port}/
A simulated car plugs in about 20 s after start, charges 1 kWh at 11 kW and leaves a
minute later: the finished session then appears in the ledger. The next car follows.
Press Ctrl-C to stop everything.""",
            flush=True,
        )
        while not stop.is_set():
            for process in processes:
                if process.returncode is not None:
                    raise DemoError(
                        f"a demo process (pid {process.pid}) exited with {process.returncode}; "
                        f"see the logs in {DEMO.relative_to(REPO)}/"
                    )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1)
    finally:
        print("\n>> stopping", flush=True)
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


def main() -> int:
    """Parse arguments and run the demo."""
    parser = argparse.ArgumentParser(prog="scripts/demo")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--wallbox-port", type=int, default=1502)
    parser.add_argument("--meter-port", type=int, default=1503)
    parser.add_argument("--ledger-port", type=int, default=8099)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), str(REPO / "addon" / "app"), os.environ["PYTHONPATH"]]
    ).rstrip(os.pathsep)
    try:
        asyncio.run(run(args))
    except DemoError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
