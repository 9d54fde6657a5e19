"""Auto-detection and the subnet scan against real simulators on loopback."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.ev_charging_monitor.devices import (
    DeviceConnectionError,
    UnsupportedDeviceError,
)
from custom_components.ev_charging_monitor.devices.discovery import detect_modbus, scan_subnet
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.modbus import HOLDING, ModbusSimulator, RegisterImage
from simulators.registry import simulators

from .conftest import StartSimulator


class UnknownDevice(ModbusSimulator):
    """A Modbus server that is none of the supported devices."""

    name = "unknown_test_device"
    description = "answers every register of unit 1 and 255 with 7"
    units = (1, 255)

    def render(self, image: RegisterImage) -> None:
        for unit in self.units:
            image.put_registers(unit, HOLDING, 0, [7] * 0x10000)

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        return None


@pytest.mark.parametrize("cls", [VestelEVC04, EastronSDM630])
async def test_detects_simulator(
    cls: type[ModbusSimulator], clock: SimClock, start_simulator: StartSimulator
) -> None:
    """Each simulator is identified as its own profile, with model and serial."""
    simulator = await start_simulator(cls(clock))
    found = await detect_modbus("127.0.0.1", port=simulator.port)
    assert found.driver == cls.name
    assert found.identity.serial == str(simulator.serial)  # type: ignore[attr-defined]


async def test_every_modbus_simulator_is_detected_as_itself(
    clock: SimClock, start_simulator: StartSimulator
) -> None:
    """No shipped profile's probe claims another device's simulator."""
    modbus = {n: c for n, c in simulators().items() if issubclass(c, ModbusSimulator)}
    assert len(modbus) >= 2
    for name, cls in modbus.items():
        simulator = await start_simulator(cls(clock))
        found = await detect_modbus("127.0.0.1", port=simulator.port)
        assert found.driver == name


async def test_unknown_device_is_refused(clock: SimClock, start_simulator: StartSimulator) -> None:
    """A Modbus server that matches no profile gets a clear error, not a guess."""
    simulator = await start_simulator(UnknownDevice(clock))
    with pytest.raises(UnsupportedDeviceError, match="none of the supported devices"):
        await detect_modbus("127.0.0.1", port=simulator.port)


async def test_nothing_listening() -> None:
    """A closed port is a connection error naming the host and port."""
    with pytest.raises(DeviceConnectionError, match=r"127\.0\.0\.1 on port 9"):
        await detect_modbus("127.0.0.1", port=9, timeout=0.5)


async def test_detection_survives_exceptions_and_drops(
    clock: SimClock, start_simulator: StartSimulator
) -> None:
    """Probes of other vendors that raise exception codes do not stop detection."""
    simulator = await start_simulator(EastronSDM630(clock))
    simulator.faults.exception_at[("input", 190)] = 2  # Vestel's brand register
    found = await detect_modbus("127.0.0.1", port=simulator.port)
    assert found.driver == "eastron_sdm630"


async def test_scan_finds_devices_on_loopback(
    clock: SimClock, start_simulator: StartSimulator
) -> None:
    """The scan probes each host and port, bounded in time, and lists what it found."""
    wallbox = await start_simulator(VestelEVC04(clock))
    meter = await start_simulator(EastronSDM630(clock))
    assert wallbox.port is not None
    assert meter.port is not None
    closed_port = 9
    found = await asyncio.wait_for(
        scan_subnet("127.0.0.1/32", ports=[wallbox.port, meter.port, closed_port], time_limit=20),
        timeout=30,
    )
    expected = sorted(
        [("127.0.0.1", wallbox.port, "vestel_evc04"), ("127.0.0.1", meter.port, "eastron_sdm630")]
    )
    assert [(d.host, d.port, d.driver) for d in found] == expected


async def test_scan_refuses_large_networks() -> None:
    """One /24 at a time."""
    with pytest.raises(ValueError, match="larger than a /24"):
        await scan_subnet("10.0.0.0/16")
