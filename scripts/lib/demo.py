"""The demo behind scripts/demo: simulators, a real Home Assistant, the ledger.

Runs inside the provisioned toolchain. Starts every process itself and stops every one of
them on Ctrl-C (or SIGTERM), so nothing is left behind. Its state (Home Assistant's
configuration and the ledger's database) stays in the state directory between runs;
`--fresh` starts from scratch.
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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
from homeassistant.components.http import config as http_config
from homeassistant.util import dt as dt_util

REPO = Path(__file__).resolve().parents[2]
# The demo's year of history is built with the integration's and the simulators' code.
sys.path[:0] = [str(REPO), str(REPO / "addon" / "app")]
from scripts.lib import demo_history, ha_onboarding  # noqa: E402

USER, PASSWORD = "demo", "demo-charging"
# The wallbox bills from the MID meter in front of it, at a time-of-use tariff: the options
# flow's menu steps, as a person walks them (every day and holidays). The year of history
# is priced at the same tariff (demo_history.DEMO_TARIFF).
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]
TARIFF_STEPS: list[dict[str, Any]] = [
    {"next_step_id": "tariff"},
    {"tariff_type": "time_of_use"},
    {"next_step_id": "tou_add"},
    {"days": EVERY_DAY, "start": "06:00:00", "end": "22:00:00", "price": 0.35},
    {"next_step_id": "tou_add"},
    {"days": EVERY_DAY, "start": "22:00:00", "end": "06:00:00", "price": 0.22},
    {"next_step_id": "tou_save"},
]
# Home Assistant exits with this code when someone restarts it from Settings.
RESTART_EXIT_CODE = 100
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
default_config:
logger:
  default: warning
  logs:
    custom_components.ev_charging_monitor: info
"""


class DemoError(Exception):
    """Something the person running the demo can fix; the message says what."""


@dataclass
class Demo:
    """Where the demo keeps its state, and what it has set up there."""

    root: Path
    port: int
    setup: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def setup_file(self) -> Path:
        return self.root / "setup.json"

    def load(self) -> bool:
        """Whether an earlier run finished setting up Home Assistant here."""
        if self.setup_file.is_file():
            self.setup = json.loads(self.setup_file.read_text())
        return bool(self.setup.get("complete"))

    def save(self) -> None:
        self.setup_file.write_text(json.dumps(self.setup, indent=2) + "\n")


def _shown(path: Path) -> str:
    """A path as the person running the demo finds it (the toolchain may run in a chroot)."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _write_config(demo: Demo) -> None:
    """Home Assistant's configuration, with HTTP settings where Home Assistant keeps them.

    HTTP is configured in the UI (Settings > System > Network) since 2026.10; an `http:`
    block in YAML raises a deprecation repair, so the demo writes the stored settings.
    """
    (demo.config / "custom_components").mkdir(parents=True, exist_ok=True)
    (demo.config / "configuration.yaml").write_text(CONFIGURATION)
    link = demo.config / "custom_components" / "ev_charging_monitor"
    if not link.is_symlink():
        link.symlink_to(REPO / "custom_components" / "ev_charging_monitor")
    stable = {
        **http_config.HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": demo.port}),
        http_config.HTTP_CONFIG_CREATED_AT: dt_util.utcnow().isoformat(),
        http_config.HTTP_CONFIG_ERROR: None,
        http_config.HTTP_CONFIG_ERROR_MESSAGE: None,
    }
    storage = demo.config / ".storage"
    storage.mkdir(exist_ok=True)
    (storage / http_config.STORAGE_KEY).write_text(
        json.dumps(
            {
                "version": http_config.STORAGE_VERSION,
                "minor_version": http_config.STORAGE_MINOR_VERSION,
                "key": http_config.STORAGE_KEY,
                "data": {
                    http_config.KEY_STABLE: stable,
                    http_config.KEY_PENDING: None,
                    http_config.KEY_YAML_MIGRATION_DONE: True,
                },
            },
            indent=2,
        )
    )


async def _wait_http(demo: Demo, session: aiohttp.ClientSession, url: str, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with session.get(url, allow_redirects=False) as response:
                if response.status < 500:
                    return
        await asyncio.sleep(0.5)
    raise DemoError(
        f"{url} did not answer within {seconds:.0f} s; see {_shown(demo.root)}/home-assistant.log"
    )


async def _onboard(session: aiohttp.ClientSession, base: str) -> str:
    """Create the demo user, finish onboarding, return a long-lived access token."""
    try:
        access = await ha_onboarding.async_onboard(
            session, base, name="Demo", username=USER, password=PASSWORD
        )
    except ha_onboarding.OnboardingError as err:
        raise DemoError(str(err)) from err
    return await ha_onboarding.async_long_lived_token(
        session, base, access, client_name="EV Charging demo", lifespan_days=365
    )


async def _flow(
    session: aiohttp.ClientSession, url: str, token: str, steps: list[dict[str, Any]]
) -> dict[str, Any]:
    """Walk a config or options flow through its steps, as the UI would."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.post(url, json=steps[0], headers=headers) as response:
        flow: dict[str, Any] = await response.json()
    for step in steps[1:]:
        async with session.post(f"{url}/{flow['flow_id']}", json=step, headers=headers) as reply:
            flow = await reply.json()
    return flow


async def _add_device(
    session: aiohttp.ClientSession, base: str, token: str, port: int
) -> dict[str, Any]:
    """Run the integration's config flow for a simulator, as a user would in the UI."""
    flow = await _flow(
        session,
        f"{base}/api/config/config_entries/flow",
        token,
        [
            {"handler": "ev_charging_monitor"},
            {"next_step_id": "manual"},
            {"host": "127.0.0.1", "port": port, "driver": "auto"},
        ],
    )
    if flow.get("type") != "create_entry":
        raise DemoError(f"adding the simulator on port {port} failed: {json.dumps(flow)}")
    return dict(flow["result"])


async def _bill_from_meter(
    session: aiohttp.ClientSession, base: str, token: str, wallbox: str, meter: str
) -> None:
    """The wallbox's options: sessions billed from the meter, at the demo's tariff."""
    for steps in (
        [{"next_step_id": "polling"}, {"scan_interval": 5}],
        [
            {"next_step_id": "energy_source"},
            {"energy_source": "meter_entry"},
            {"energy_meter_entry": meter},
        ],
        TARIFF_STEPS,
    ):
        flow = await _flow(
            session,
            f"{base}/api/config/config_entries/options/flow",
            token,
            [{"handler": wallbox}, *steps],
        )
        if flow.get("type") != "create_entry":
            raise DemoError(f"setting the wallbox's options failed: {json.dumps(flow)}")


async def _websocket(
    session: aiohttp.ClientSession, base: str, token: str, *messages: dict[str, Any]
) -> list[Any]:
    """Send commands over Home Assistant's websocket API; return their results."""
    results = []
    async with session.ws_connect(f"{base}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        await ws.receive_json()
        for number, message in enumerate(messages, start=1):
            await ws.send_json({"id": number, **message})
            reply = await ws.receive_json()
            if not reply.get("success"):
                raise DemoError(f"{message['type']} failed: {reply}")
            results.append(reply.get("result"))
    return results


async def _add_dashboard(
    session: aiohttp.ClientSession, base: str, token: str, wallbox: str, meter: str
) -> None:
    """A dashboard "EV charging" with the wallbox's and the meter's entities."""
    (registry,) = await _websocket(session, base, token, {"type": "config/entity_registry/list"})

    def entities(entry_id: str) -> list[str]:
        return sorted(
            e["entity_id"]
            for e in registry
            if e["config_entry_id"] == entry_id and not e.get("disabled_by")
        )

    charger, metered = entities(wallbox), entities(meter)
    power = [e for e in charger + metered if e.endswith("_power")]
    view = {
        "title": "Charging",
        "path": "charging",
        "cards": [
            {"type": "entities", "title": "Wallbox", "entities": charger},
            {"type": "history-graph", "title": "Power", "hours_to_show": 2, "entities": power},
            {"type": "entities", "title": "Meter", "entities": metered},
        ],
    }
    await _websocket(
        session,
        base,
        token,
        {
            "type": "lovelace/dashboards/create",
            "url_path": "ev-charging",
            "title": "EV charging",
            "icon": "mdi:ev-station",
            "show_in_sidebar": True,
            "require_admin": False,
            "mode": "storage",
        },
        {"type": "lovelace/config/save", "url_path": "ev-charging", "config": {"views": [view]}},
    )


async def _ensure_users(demo: Demo, session: aiohttp.ClientSession) -> dict[str, str]:
    """The owner's user id, and a second account without admin rights (once)."""
    if "users" in demo.setup:
        return dict(demo.setup["users"])
    token = str(demo.setup["token"])
    (me, users) = await _websocket(
        session, demo.base, token, {"type": "auth/current_user"}, {"type": "config/auth/list"}
    )
    second = demo_history.ALEX
    existing = next((u for u in users if u["name"] == second.name), None)
    if existing is None:
        (created,) = await _websocket(
            session,
            demo.base,
            token,
            {"type": "config/auth/create", "name": second.name, "group_ids": ["system-users"]},
        )
        existing = created["user"]
        await _websocket(
            session,
            demo.base,
            token,
            {
                "type": "config/auth_provider/homeassistant/create",
                "user_id": existing["id"],
                "username": second.username,
                "password": demo_history.ALEX_PASSWORD,
            },
        )
    demo.setup["users"] = {USER: me["id"], str(second.username): existing["id"]}
    demo.save()
    return dict(demo.setup["users"])


async def _link_ledger(demo: Demo, session: aiohttp.ClientSession) -> None:
    """Confirm the ledger Home Assistant discovered (it announces itself once connected),
    as someone would under Settings > Devices & services; it then is in the sidebar."""
    headers = {"Authorization": f"Bearer {demo.setup['token']}"}
    url = f"{demo.base}/api/config/config_entries/flow"
    for _ in range(240):
        (flows,) = await _websocket(
            session, demo.base, str(demo.setup["token"]), {"type": "config_entries/flow/progress"}
        )
        found = [
            f
            for f in flows
            if f.get("handler") == "ev_charging_monitor" and f.get("step_id") == "ledger_confirm"
        ]
        if found:
            async with session.post(f"{url}/{found[0]['flow_id']}", json={}, headers=headers):
                pass
            print(">> the ledger is linked: it is in Home Assistant's sidebar", flush=True)
            demo.setup["ledger_linked"] = True
            demo.save()
            return
        await asyncio.sleep(0.5)
    print("warning: Home Assistant did not discover the ledger; see ledger.log", flush=True)


async def _set_up(demo: Demo, session: aiohttp.ClientSession, args: argparse.Namespace) -> None:
    """Onboarding, both devices through the config flow, billing, a dashboard."""
    token = await _onboard(session, demo.base)
    demo.setup["token"] = token
    demo.save()
    print(">> adding the wallbox and the meter through the config flow", flush=True)
    wallbox = await _add_device(session, demo.base, token, args.wallbox_port)
    meter = await _add_device(session, demo.base, token, args.meter_port)
    print(f"   added {wallbox['title']} and {meter['title']}", flush=True)
    await _bill_from_meter(session, demo.base, token, wallbox["entry_id"], meter["entry_id"])
    await _add_dashboard(session, demo.base, token, wallbox["entry_id"], meter["entry_id"])
    demo.setup.update(wallbox=wallbox["entry_id"], meter=meter["entry_id"], complete=True)
    demo.save()


async def _spawn(demo: Demo, name: str, *args: str, log: str) -> asyncio.subprocess.Process:
    handle = (demo.root / log).open("a")
    process = await asyncio.create_subprocess_exec(
        *args, stdout=handle, stderr=asyncio.subprocess.STDOUT, cwd=REPO
    )
    print(f"   started {name} (pid {process.pid}, log {_shown(demo.root / log)})", flush=True)
    return process


async def _start_home_assistant(demo: Demo) -> asyncio.subprocess.Process:
    # Without --skip-pip Home Assistant checks every requirement as on a user's machine;
    # the toolchain installed them all, so nothing is fetched.
    return await _spawn(
        demo,
        "Home Assistant",
        sys.executable,
        "-m",
        "homeassistant",
        "-c",
        str(demo.config),
        log="home-assistant.log",
    )


def prepare(args: argparse.Namespace) -> Demo:
    """Check the ports and lay out the state directory (kept from an earlier run)."""
    for port, what in (
        (args.port, "Home Assistant"),
        (args.wallbox_port, "the wallbox simulator"),
        (args.meter_port, "the meter simulator"),
        (args.ledger_port, "the ledger"),
    ):
        if not _port_free(port):
            raise DemoError(f"port {port} for {what} is in use: stop what uses it and retry")
    demo = Demo(Path(args.state_dir).resolve(), args.port)
    if args.fresh and demo.root.exists():
        shutil.rmtree(demo.root)
    if not demo.load() and demo.root.exists():
        # An earlier run stopped before its setup was complete: start over.
        shutil.rmtree(demo.root)
    demo.root.mkdir(parents=True, exist_ok=True)
    _write_config(demo)
    return demo


async def run(demo: Demo, args: argparse.Namespace) -> None:
    """Start everything, set it up, and wait until interrupted."""
    processes: dict[str, asyncio.subprocess.Process] = {}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        print(">> starting the simulated wallbox and meter", flush=True)
        processes["simulators"] = await _spawn(
            demo,
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
            str(args.plug_after),
            "--car-wh",
            str(args.car_wh),
            "--wait-for-signal",
            log="simulators.log",
        )
        if not demo.setup.get("history"):
            # Written before Home Assistant starts: it reads its session history at setup.
            added = demo_history.seed_home_assistant(demo.config / ".storage", date.today())
            demo.setup["history"] = added
            demo.save()
            print(f">> a year of charging history: {added} sessions for the ledger", flush=True)
        print(">> starting Home Assistant", flush=True)
        processes["Home Assistant"] = await _start_home_assistant(demo)
        async with aiohttp.ClientSession() as session:
            await _wait_http(demo, session, f"{demo.base}/api/onboarding", 300)
            if demo.setup.get("complete"):
                print(">> Home Assistant is set up from an earlier run", flush=True)
            else:
                await _set_up(demo, session, args)
            users = await _ensure_users(demo, session)
        # The first car plugs in only now, so its session is billed as configured.
        processes["simulators"].send_signal(signal.SIGUSR1)
        token = str(demo.setup["token"])
        (demo.root / "token").write_text(token + "\n")
        ledger_app = REPO / "addon" / "app" / "ev_charging_ledger"
        if ledger_app.is_dir():
            if not demo.setup.get("ledger_people"):
                demo_history.set_up_ledger(
                    demo.root / "ledger",
                    {None: users[USER], demo_history.ALEX.username: users["alex"]},
                    date.today().year - 1,
                )
                demo.setup["ledger_people"] = True
                demo.save()
            print(">> starting the EV Charging Ledger", flush=True)
            processes["ledger"] = await _spawn(
                demo,
                "ledger",
                sys.executable,
                "-m",
                "ev_charging_ledger",
                "--ha-url",
                demo.base,
                "--token",
                token,
                "--data-dir",
                str(demo.root / "ledger"),
                "--listen",
                f"127.0.0.1:{args.ledger_port}",
                "--api-token",
                token,
                "--public-url",
                f"http://127.0.0.1:{args.ledger_port}",
                log="ledger.log",
            )
            if not demo.setup.get("ledger_linked"):
                async with aiohttp.ClientSession() as session:
                    await _link_ledger(demo, session)
        print(
            f"""
EV Charging Monitor demo is running.
  Home Assistant: {demo.base}   user: {USER}   password: {PASSWORD}
      dashboard "EV charging": {demo.base}/ev-charging/charging
  REST API token: {_shown(demo.root)}/token   e.g.
      curl -H "Authorization: Bearer $(cat {_shown(demo.root)}/token)" \\
           {demo.base}/api/states/sensor.vestel_evc04_power
  Ledger:         http://127.0.0.1:{args.ledger_port}/   log in with the demo account
                  (also "EV Charging Ledger" in Home Assistant's sidebar; a year of
                  history for {demo_history.SAM.name} and {demo_history.ALEX.name}; Alex's own
                  account, no admin: alex / {demo_history.ALEX_PASSWORD}; scripts: the same
                  API token file)
A simulated car plugs in {args.plug_after:.0f} s from now, charges {args.car_wh} Wh at
11 kW and leaves a minute after it is full: the finished session then appears in the
ledger. The next car follows. Data stays in {_shown(demo.root)} (--fresh starts from scratch).
Press Ctrl-C to stop everything.""",
            flush=True,
        )
        while not stop.is_set():
            for name, process in list(processes.items()):
                if process.returncode is None:
                    continue
                if name == "Home Assistant" and process.returncode == RESTART_EXIT_CODE:
                    print(">> Home Assistant restarts", flush=True)
                    processes[name] = await _start_home_assistant(demo)
                    continue
                raise DemoError(
                    f"{name} (pid {process.pid}) exited with {process.returncode}; "
                    f"see the logs in {_shown(demo.root)}/"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1)
    finally:
        print("\n>> stopping", flush=True)
        for process in processes.values():
            if process.returncode is None:
                process.terminate()
        for process in processes.values():
            try:
                await asyncio.wait_for(process.wait(), 30)
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
    parser.add_argument("--state-dir", default=str(REPO / ".demo"))
    parser.add_argument("--fresh", action="store_true", help="start from scratch")
    parser.add_argument("--plug-after", type=float, default=20.0)
    parser.add_argument("--car-wh", type=int, default=1000, help="energy each car wants")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), str(REPO / "addon" / "app"), os.environ["PYTHONPATH"]]
    ).rstrip(os.pathsep)
    try:
        asyncio.run(run(prepare(args), args))
    except DemoError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
