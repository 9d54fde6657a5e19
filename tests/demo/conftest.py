"""The demo's tests talk to real servers on 127.0.0.1."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Allow loopback sockets in every test of the demo."""
