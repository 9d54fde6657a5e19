"""A real Home Assistant (pytest-homeassistant-custom-component) against simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any
from unittest.mock import PropertyMock, patch

import pytest
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

# Import the repository's package before Home Assistant's loader looks for custom
# components in its test config dir, so ours is the one that is loaded.
import custom_components.ev_charging_monitor  # noqa: F401
from custom_components.ev_charging_monitor.const import CONF_DRIVER, DOMAIN
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.modbus import ModbusSimulator


@pytest.fixture(autouse=True)
def _integration_env(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Load custom integrations, and allow loopback sockets to the simulators."""


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
