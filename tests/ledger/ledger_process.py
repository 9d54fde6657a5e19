"""Run the ledger as a real subprocess, as scripts/demo and Home Assistant users do."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP_DIR = REPO / "addon" / "app"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ledger_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("EVCL_")}
    env["PYTHONPATH"] = str(APP_DIR)
    return env


async def start_ledger(*args: str, log: Path) -> asyncio.subprocess.Process:
    """Start ``python -m ev_charging_ledger``; its stderr goes to ``log`` (a file, so a
    chatty process can never block on a full pipe)."""
    with log.open("ab") as log_file:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ev_charging_ledger",
            *args,
            env=ledger_env(),
            cwd=REPO,
            stdout=log_file,
            stderr=log_file,
        )


async def run_ledger(*args: str, limit: float = 60) -> tuple[int, str, str]:
    """Run a short command (verify, snapshot, a failing start) to its end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ev_charging_ledger",
        *args,
        env=ledger_env(),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(limit):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def stop(process: asyncio.subprocess.Process, *, limit: float = 30) -> int:
    """SIGTERM and wait for the exit code."""
    if process.returncode is None:
        process.terminate()
    async with asyncio.timeout(limit):
        return await process.wait()
