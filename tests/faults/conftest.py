"""The fault matrix (issue 12): a real Home Assistant against the simulators, under faults.

Prints one figure line at the end of the test session (through the terminal reporter, so
it shows without `-s`), e.g.
`faults: scenarios=21 runs=63 sessions=150 exact=150 lost=0 merged=0 phantom=0 ...`.
The random points come from a seeded generator: FAULTS_SEED=<n> replays another seed.
"""

from __future__ import annotations

import asyncio
import os

import pytest

# Import the repository's package before Home Assistant's loader looks for custom
# components in its test config dir, so ours is the one that is loaded.
import custom_components.ev_charging_monitor  # noqa: F401

from .tally import TALLY

DEFAULT_SEED = 1212
TALLY.seed = int(os.environ.get("FAULTS_SEED", DEFAULT_SEED))


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's marker: `pytest -m faults` runs the matrix alone."""
    config.addinivalue_line(
        "markers", "faults: the fault matrix (issue 12), simulators against a real Home Assistant"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figure line when any run of the matrix was checked."""
    if TALLY.runs:
        terminalreporter.write_sep("-", "fault matrix")
        terminalreporter.write_line(TALLY.line())
        for scenario, runs in sorted(TALLY.failing.items()):
            terminalreporter.write_line(f"faults: {scenario}: {runs} run(s) broke the invariant")


@pytest.fixture(autouse=True)
async def enable_event_loop_debug() -> None:
    """Run the event loop as Home Assistant runs it in production, without debug mode.

    The matrix makes thousands of polls; asyncio's debug mode records a traceback for every
    callback and makes the suite several times slower (and warns about "slow" callbacks
    whenever the frozen clock is moved).
    """
    asyncio.get_running_loop().set_debug(False)
