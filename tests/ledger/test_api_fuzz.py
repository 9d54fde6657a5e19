"""Schemathesis against openapi.json and the real ledger process: every check it has.

Server side: no server errors, status codes, content types, headers and bodies as
documented, ``Allow`` on 405. Request side: every request the document forbids is
rejected (4xx) and every request it allows is accepted (2xx, or 404/409/422 when the
values cannot be used; see schemathesis.toml), missing auth refused. Stateful: the
document's links (person -> statement, manual session -> adjustment, list -> detail).
And every rejection carries ``{"error": message}`` (fuzz_hooks.py).

The command line runner is used as CI would run it; its summary is parsed for the
number of cases. More cases: ``EVCL_FUZZ_EXAMPLES``; another seed: ``EVCL_FUZZ_SEED``.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from ev_charging_ledger.storage import Ledger
from tests.ledger.integration_records import make_record
from tests.ledger.ledger_process import APP_DIR, REPO, free_port, ledger_env

OPENAPI = APP_DIR / "ev_charging_ledger" / "openapi.json"
CONFIG = Path(__file__).with_name("schemathesis.toml")
API_TOKEN = "fuzz-token"
# 6,205 cases in 3.5 minutes on a busy 2-core machine (seed 20261201).
EXAMPLES_PER_OPERATION = int(os.environ.get("EVCL_FUZZ_EXAMPLES", "200"))
SEED = os.environ.get("EVCL_FUZZ_SEED", "20261201")
MINIMUM_CASES = 5000


def _seed(data_dir: Path) -> None:
    data_dir.mkdir()
    with Ledger(data_dir / "ledger.sqlite3") as ledger:
        person = ledger.add_person("Driver", ha_user_id="user-1")
        ledger.add_vehicle("Car", plate="B-EV 1", person_id=person.id)
        ledger.add_rate(
            person_id=person.id, vehicle_id=None, valid_from=date(2026, 1, 1), valid_to=None,
            direction="reimburse", basis="fixed_price", price_per_kwh=Decimal("0.30"),
            currency="EUR",
        )  # fmt: skip
        ledger.append_sessions([make_record(seq, user_id="user-1") for seq in range(1, 30)])


def _tracebacks(log: str) -> list[str]:
    """Tracebacks in the ledger's log, except aiohttp refusing a header with a NUL byte
    before the request reaches the ledger (schemathesis probes for it)."""
    blocks = re.split(r"\n(?=\d{4}-\d{2}-\d{2} )", log)  # one block per log record
    return [
        block
        for block in blocks
        if "Traceback" in block and "Invalid header value char" not in block
    ]


async def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _seed(data_dir)
    port = free_port()
    ledger = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ev_charging_ledger",
        "--ha-url", f"http://127.0.0.1:{free_port()}", "--token", "unused",
        "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}", "--api-token", API_TOKEN,
        env=ledger_env(), cwd=REPO, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert ledger.stderr is not None
    env = ledger_env() | {
        "PYTHONPATH": f"{APP_DIR}{os.pathsep}{REPO}",
        "SCHEMATHESIS_HOOKS": "tests.ledger.fuzz_hooks",
    }
    try:
        async with asyncio.timeout(30):
            while b"listening on" not in (line := await ledger.stderr.readline()):
                assert line, "ledger exited before listening"
        # Drain the log so the ledger never blocks on a full pipe while being fuzzed.
        drain = asyncio.create_task(ledger.stderr.read())
        runner = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "--no-color",
            "run", str(OPENAPI), "--url", f"http://127.0.0.1:{port}",
            "--header", f"Authorization: Bearer {API_TOKEN}",
            "--checks", "all", "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", SEED,
            "--workers", "1", "--max-failures", "50",
            # Its working directory takes its cache (.schemathesis/), so not the repository.
            env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        async with asyncio.timeout(600):
            output = (await runner.communicate())[0].decode(errors="replace")
    finally:
        ledger.terminate()
        async with asyncio.timeout(30):
            await ledger.wait()
    log = (await drain).decode(errors="replace")
    tracebacks = _tracebacks(log)
    assert runner.returncode == 0, output[-20000:] + "\n".join(tracebacks[:3])
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    assert cases is not None, output[-5000:]
    assert int(cases[1]) == int(cases[2]) >= MINIMUM_CASES, cases[0]
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}", output), output[-5000:]
    assert "error_is_json_with_a_message" not in output
    print(f"schemathesis: {cases[0]}")  # the figure line for the test log
    assert not tracebacks, tracebacks[:3]
