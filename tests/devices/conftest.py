"""Fixtures for the device library tests: real simulators on loopback, a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from custom_components.ev_charging_monitor.devices.modbus.profile import shipped_profiles
from simulators.clock import SimClock
from simulators.modbus import ModbusSimulator


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """The simulators listen on 127.0.0.1; pytest-homeassistant blocks sockets otherwise."""


@pytest.fixture
def clock() -> SimClock:
    """A clock that only moves when the test says so."""
    return SimClock(manual=True)


type StartSimulator = Callable[[ModbusSimulator], Coroutine[Any, Any, ModbusSimulator]]


@pytest.fixture
async def start_simulator() -> AsyncIterator[StartSimulator]:
    """Start simulators on ephemeral ports; stop them after the test."""
    started: list[ModbusSimulator] = []

    async def start(simulator: ModbusSimulator) -> ModbusSimulator:
        await simulator.start("127.0.0.1", 0)
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        await simulator.stop()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., ModbusDevice]]:
    """Build drivers for a shipped profile against a simulator; close them afterwards."""
    devices: list[ModbusDevice] = []

    def make(profile_id: str, simulator: ModbusSimulator, **kwargs: Any) -> ModbusDevice:
        assert simulator.port is not None
        device = ModbusDevice(
            shipped_profiles()[profile_id], "127.0.0.1", port=simulator.port, **kwargs
        )
        devices.append(device)
        return device

    yield make
    for device in devices:
        await device.close()
