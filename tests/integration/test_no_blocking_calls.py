"""The guard every integration test runs under: what it reports, and what it leaves alone.

Code "of the integration" is compiled here under a file name inside
custom_components/ev_charging_monitor/, which is how Home Assistant tells an
integration's frames from others; nothing of Home Assistant's detection is replaced.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers.frame import report_usage

from .conftest import Reports

OURS = str(
    Path(__file__).resolve().parents[2] / "custom_components" / "ev_charging_monitor" / "_probe.py"
)


def _run_as_ours(source: str, **names: Any) -> None:
    """Run `source` as if it were a line of the integration."""
    exec(compile(source, OURS, "exec"), {**names})


async def test_blocking_file_access_of_ours_is_reported(
    hass: HomeAssistant, no_blocking_calls: Reports, tmp_path: Path
) -> None:
    """Listing a directory on the event loop: Home Assistant logs it, the guard keeps it."""
    _run_as_ours("os.listdir(path)", os=os, path=str(tmp_path))
    assert len(no_blocking_calls.found) == 1
    report = no_blocking_calls.found[0]
    assert report.startswith("Detected blocking call to listdir")
    assert "by custom integration 'ev_charging_monitor'" in report
    no_blocking_calls.found.clear()  # reported as it should be: let this test pass


async def test_sleep_of_ours_raises_and_is_reported(
    hass: HomeAssistant, no_blocking_calls: Reports
) -> None:
    """Calls Home Assistant treats as errors still raise, as they do for users."""
    with pytest.raises(RuntimeError, match="Caught blocking call to sleep"):
        _run_as_ours("time.sleep(0)", time=time)
    assert [r.split(" with args")[0] for r in no_blocking_calls.found] == [
        "Detected blocking call to sleep"
    ]
    no_blocking_calls.found.clear()


async def test_api_misuse_of_ours_is_reported(
    hass: HomeAssistant, no_blocking_calls: Reports
) -> None:
    """A deprecation Home Assistant reports against the integration is kept too."""
    _run_as_ours("report_usage('uses something deprecated')", report_usage=report_usage)
    assert len(no_blocking_calls.found) == 1
    assert no_blocking_calls.found[0].startswith(
        "Detected that custom integration 'ev_charging_monitor' uses something deprecated"
    )
    no_blocking_calls.found.clear()


async def test_blocking_calls_of_the_tests_are_left_alone(
    hass: HomeAssistant, no_blocking_calls: Reports, tmp_path: Path
) -> None:
    """A test reading a file on the loop is the test's business, not a user's problem."""
    (tmp_path / "x").write_text("x")
    assert (tmp_path / "x").read_text() == "x"
    assert os.listdir(tmp_path) == ["x"]
    assert no_blocking_calls.found == []


def test_nothing_is_reported_outside_the_event_loop(
    no_blocking_calls: Reports, tmp_path: Path
) -> None:
    """Synchronous code on the same thread, with no loop running, blocks nothing."""
    _run_as_ours("os.listdir(path)", os=os, path=str(tmp_path))
    assert no_blocking_calls.found == []
