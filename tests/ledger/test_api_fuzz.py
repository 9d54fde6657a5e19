"""schemathesis against the OpenAPI document: no server errors, every rejection a 4xx
with a message, responses as documented."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ev_charging_ledger.storage import Ledger
from tests.ledger.integration_records import make_record
from tests.ledger.ledger_process import APP_DIR, REPO, free_port, ledger_env

OPENAPI = APP_DIR / "ev_charging_ledger" / "openapi.json"
API_TOKEN = "fuzz-token"
EXAMPLES_PER_MODE = 25


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


def _fuzz(base_url: str) -> int:
    schema = schemathesis.openapi.from_path(str(OPENAPI))
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    http = requests.Session()
    sent = 0
    failures: list[str] = []

    def check(case: schemathesis.Case) -> None:
        nonlocal sent
        response = case.call(base_url=base_url, session=http, headers=headers)
        sent += 1
        try:
            case.validate_response(
                response,
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
                headers=headers,
            )
            if response.status_code >= 400:
                body: Any = response.json()
                assert 400 <= response.status_code < 500
                assert isinstance(body.get("error"), str)
                assert body["error"]
        except Exception as err:  # collect all, report the first few
            failures.append(
                f"{case.method} {case.formatted_path} -> {response.status_code} "
                f"{response.text[:200]}: {str(err)[:300]}"
            )

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            run = settings(
                max_examples=EXAMPLES_PER_MODE,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(case=operation.as_strategy(generation_mode=mode))(check))
            try:
                run()
            except Unsatisfiable:
                # No invalid input exists for an operation without parameters or body.
                assert mode is schemathesis.GenerationMode.NEGATIVE
    assert not failures, f"{len(failures)} failures, e.g.:\n" + "\n".join(failures[:10])
    return sent


async def test_schemathesis_finds_no_server_error(tmp_path: Path) -> None:
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
    try:
        async with asyncio.timeout(30):
            while b"listening on" not in (line := await ledger.stderr.readline()):
                assert line, "ledger exited before listening"
        # Drain the log so the ledger never blocks on a full pipe while being fuzzed.
        drain = asyncio.create_task(ledger.stderr.read())
        sent = await asyncio.to_thread(_fuzz, f"http://127.0.0.1:{port}")
    finally:
        ledger.terminate()
        async with asyncio.timeout(30):
            await ledger.wait()
    log = (await drain).decode()
    assert "Traceback" not in log, log[-3000:]
    assert sent >= 1000
