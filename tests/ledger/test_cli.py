"""The command line: one-line errors a user can act on, no tracebacks."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.ledger.conftest import HomeAssistantEndpoint
from tests.ledger.ledger_process import REPO, free_port, ledger_env, run_ledger


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# Home Assistant closes the refused websocket a moment after the ledger has exited.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_bad_token_is_one_line_and_exit_2(
    home_assistant: HomeAssistantEndpoint, tmp_path: Path
) -> None:
    code, _, err = await run_ledger(
        "--ha-url", home_assistant.url, "--token", "not-a-token", "--data-dir", str(tmp_path),
        "--listen", f"127.0.0.1:{free_port()}", "--log-level", "error",
    )  # fmt: skip
    assert code == 2, err
    assert _one_line(err).startswith(
        "ev_charging_ledger: error: Home Assistant refused the access token"
    )


async def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = await run_ledger(
            "--ha-url", "http://127.0.0.1:9", "--token", "t", "--data-dir", str(tmp_path),
            "--listen", f"127.0.0.1:{port}", "--log-level", "error",
        )  # fmt: skip
    assert code == 2
    assert _one_line(err).startswith(
        f"ev_charging_ledger: error: cannot listen on 127.0.0.1:{port}"
    )


async def test_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, _, err = await run_ledger(
        "--ha-url", "http://127.0.0.1:9", "--token", "t", "--data-dir", str(blocker / "data"),
    )  # fmt: skip
    assert code == 2
    assert _one_line(err).startswith("ev_charging_ledger: error: cannot create data directory")


async def test_missing_settings_name_what_is_missing(tmp_path: Path) -> None:
    code, _, err = await run_ledger("--token", "t")
    assert code == 2
    assert _one_line(err) == (
        "ev_charging_ledger: error: missing --ha-url/EVCL_HA_URL, --data-dir/EVCL_DATA_DIR"
    )


async def test_unreachable_home_assistant_keeps_serving_and_retries(tmp_path: Path) -> None:
    port = free_port()
    ledger = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ev_charging_ledger",
        "--ha-url", f"http://127.0.0.1:{free_port()}", "--token", "t",
        "--data-dir", str(tmp_path / "data"), "--listen", f"127.0.0.1:{port}",
        "--api-token", "secret",
        env=ledger_env(), cwd=REPO, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert ledger.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            # The API starts before ingestion, so it is up once the first retry is logged.
            while "retrying in" not in (line := (await ledger.stderr.readline()).decode()):
                assert line, "ledger exited: " + "".join(lines)
                lines.append(line)
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"http://127.0.0.1:{port}/api/status", headers={"Authorization": "Bearer secret"}
            ) as response,
        ):
            status = await response.json()
        assert status["ingest"]["connected"] is False
        assert "cannot connect" in status["ingest"]["last_error"]
    finally:
        ledger.terminate()
        async with asyncio.timeout(30):
            rest = (await ledger.stderr.read()).decode()
            assert await ledger.wait() == 0
    assert "Traceback" not in "".join(lines) + rest


async def test_snapshot_is_a_consistent_copy(tmp_path: Path) -> None:
    from ev_charging_ledger.storage import Ledger
    from tests.ledger.integration_records import make_record

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with Ledger(data_dir / "ledger.sqlite3") as ledger:
        ledger.append_sessions([make_record(seq) for seq in range(1, 4)])
    code, out, _ = await run_ledger("snapshot", "--data-dir", str(data_dir))
    assert code == 0
    assert "ledger.snapshot.sqlite3" in out
    with Ledger(data_dir / "ledger.snapshot.sqlite3") as copy:
        assert copy.counts()["sessions"] == 3
        assert copy.verify().ok
