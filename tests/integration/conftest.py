"""A real Home Assistant (pytest-homeassistant-custom-component) against simulators."""

from __future__ import annotations

import asyncio
import logging
import re
import sysconfig
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

import _pytest
import pytest
import pytest_homeassistant_custom_component as phcc
import syrupy
from homeassistant import block_async_io
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import frame
from homeassistant.util import loop as loop_util

# Import the repository's package before Home Assistant's loader looks for custom
# components in its test config dir, so ours is the one that is loaded.
import custom_components.ev_charging_monitor  # noqa: F401
from custom_components.ev_charging_monitor.const import CONF_DRIVER, DOMAIN
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.modbus import ModbusSimulator

# The OCPP modules' central system, one fixture for all of them.
from .ocpp_rig import rig  # noqa: F401


@pytest.fixture(autouse=True)
def _integration_env(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Load custom integrations, and allow loopback sockets to the simulators."""


# What Home Assistant logs when code blocks its event loop or misuses its API.
_PROBLEMS = ("Detected blocking call", "Detected that custom integration")
_STDLIB = sysconfig.get_paths()["stdlib"]
_REPOSITORY = Path(__file__).resolve().parents[2]
# Code that only runs in the tests: the test modules, the simulators, the test libraries.
_TEST_SIDE = (
    str(_REPOSITORY / "tests"),
    str(_REPOSITORY / "simulators"),
    *(str(Path(module.__file__).parent) for module in (_pytest, syrupy, phcc) if module.__file__),
)
_FRAME = re.compile(r'File "([^"]+)", line \d+')


def _from_tests(report: str) -> bool:
    """Whether a blocking call outside any integration was made by the tests themselves.

    Home Assistant reports such a call with the stack that made it; the innermost frame
    outside the standard library says whose code it was (a test copying blueprints, syrupy
    reading a snapshot), or Home Assistant's or a library's (then it counts). The frames of
    the detection's own wrappers (homeassistant/util/loop.py) are skipped.
    """
    for filename in reversed(_FRAME.findall(report)):
        if not filename.startswith(_STDLIB) and filename != loop_util.__file__:
            return filename.startswith(_TEST_SIDE)
    return False


class Reports(logging.Handler):
    """Keeps every record that reports a blocking call or an API misuse (not the tests')."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(_PROBLEMS):
            return
        by_integration = " inside the event loop by " in message.split("\n", 1)[0]
        if message.startswith(_PROBLEMS[0]) and not by_integration and _from_tests(message):
            return
        self.found.append(message.split("\n", 1)[0])


def _in_loop(check: Callable[[dict[str, Any]], bool] | None) -> Callable[[dict[str, Any]], bool]:
    """A call is allowed outside a running event loop (sync fixtures run on the same thread)."""

    def allowed(mapped_args: dict[str, Any]) -> bool:
        if asyncio._get_running_loop() is None:
            return True
        return check is not None and check(mapped_args)

    return allowed


@pytest.fixture(autouse=True)
def no_blocking_calls() -> Iterator[Reports]:
    """Fail the test if Home Assistant reports a blocking call or a misuse of its API.

    pytest-homeassistant-custom-component never switches Home Assistant's blocking-call
    detection on (only bootstrap does), and Home Assistant skips its file-system checks
    (open, scandir, read_text, import_module, ...) when it runs under a test runner. So this
    fixture installs every check of block_async_io, the skipped ones included, for the
    thread that runs the event loop, with Home Assistant's own strictness for integrations
    (some calls raise, the others log), and reads the log at teardown. The report caches
    are cleared first, so a call already reported in an earlier test is reported again.
    """
    loop_util._PREVIOUSLY_REPORTED.clear()
    frame._REPORTED_INTEGRATIONS.clear()
    collect = Reports()
    root = logging.getLogger()
    root.addHandler(collect)
    # The loggers that report must pass their warnings on, whatever level a test sets.
    loggers = [logging.getLogger(name) for name in (loop_util.__name__, frame.__name__)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    loop_thread = threading.get_ident()
    for call in block_async_io._BLOCKING_CALLS:
        setattr(
            call.object,
            call.function,
            loop_util.protect_loop(
                call.original_func,
                loop_thread_id=loop_thread,
                strict=call.strict,
                strict_core=False,
                check_allowed=_in_loop(call.check_allowed),
            ),
        )
    try:
        yield collect
    finally:
        for call in block_async_io._BLOCKING_CALLS:
            setattr(call.object, call.function, call.original_func)
        root.removeHandler(collect)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    assert not collect.found, "Home Assistant reported:\n" + "\n".join(collect.found)


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Create entities that are disabled by default enabled, to test them too."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def clock() -> SimClock:
    """The simulators' clock; only the test moves it."""
    return SimClock(manual=True)


@pytest.fixture
async def wallbox(clock: SimClock, request: pytest.FixtureRequest) -> AsyncIterator[VestelEVC04]:
    """A simulated Vestel EVC04 on an ephemeral loopback port.

    Tests marked `no_watchdog` (about metering, not control) switch its failsafe off, so
    jumps of the simulated clock do not trip it.
    """
    simulator = VestelEVC04(clock)
    if request.node.get_closest_marker("no_watchdog") is not None:
        simulator.charger.watchdog_timeout = None
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def meter(clock: SimClock, wallbox: VestelEVC04) -> AsyncIterator[EastronSDM630]:
    """A simulated SDM630 measuring the wallbox."""
    simulator = EastronSDM630(clock, load=wallbox.charger)
    await simulator.start()
    yield simulator
    await simulator.stop()


type AddDevice = Callable[..., Awaitable[ConfigEntry]]


@pytest.fixture
async def add_device(hass: HomeAssistant) -> AsyncIterator[AddDevice]:
    """Set up a simulator through the config flow, as a user would; unload afterwards."""
    entries: list[ConfigEntry] = []

    async def add(simulator: ModbusSimulator, driver: str = "auto", **extra: Any) -> ConfigEntry:
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "manual"}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port, CONF_DRIVER: driver, **extra},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()
        entry = result["result"]
        assert entry.state is ConfigEntryState.LOADED
        entries.append(entry)
        return entry

    yield add
    for entry in entries:
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def vestel_register(wallbox: VestelEVC04) -> Decimal:
    """What the Vestel's total energy register shows: whole 0.1 kWh steps."""
    return Decimal(int(wallbox.charger.energy_wh() // 100) * 100)
