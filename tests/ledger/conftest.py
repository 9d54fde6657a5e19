"""Fixtures for the ledger tests: real SQLite files, real servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ev_charging_ledger.storage import Ledger


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """The ledger tests talk to real servers on 127.0.0.1."""


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened
