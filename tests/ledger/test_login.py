"""The login's pure parts: where a login may lead back to, the ledger's public URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from ev_charging_ledger.login import _safe_next
from ev_charging_ledger.settings import SettingsError, parse_public_url
from tests.ledger.ledger_process import run_ledger


@pytest.mark.parametrize(
    ("asked", "followed"),
    [
        ("/sessions?person_id=2", "/sessions?person_id=2"),
        ("/statements/1/2026-03", "/statements/1/2026-03"),
        (None, "/"),
        ("", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("evil.example", "/"),
        ("/login?next=/", "/"),
        ("/auth/callback?code=x", "/"),
        ("/\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_a_login_leads_back_only_into_the_ledger(asked: str | None, followed: str) -> None:
    assert _safe_next(asked) == followed


@pytest.mark.parametrize(
    ("text", "host", "expected"),
    [
        (None, "127.0.0.1", "http://127.0.0.1:8099"),
        (None, "0.0.0.0", "http://127.0.0.1:8099"),
        (None, "::1", "http://[::1]:8099"),
        ("https://ledger.example/", "0.0.0.0", "https://ledger.example"),
        ("http://nas.local:8099", "0.0.0.0", "http://nas.local:8099"),
    ],
)
def test_public_url(text: str | None, host: str, expected: str) -> None:
    assert parse_public_url(text, host, 8099) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ftp://ledger.example",
        "ledger.example:8099",
        "http://u:p@ledger.example",
        "http://x/?a=1",
        "https://nas.example/ledger",
    ],
)
def test_public_url_that_cannot_be_a_client_id(text: str) -> None:
    with pytest.raises(SettingsError, match="--public-url"):
        parse_public_url(text, "127.0.0.1", 8099)


async def test_a_wrong_public_url_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    code, _, err = await run_ledger(
        "--ha-url", "http://127.0.0.1:9", "--token", "t", "--data-dir", str(tmp_path),
        "--public-url", "ftp://ledger.example",
    )  # fmt: skip
    assert code == 2
    assert err.startswith("ev_charging_ledger: error: --public-url must be an http(s) URL")
    assert len(err.strip().splitlines()) == 1
