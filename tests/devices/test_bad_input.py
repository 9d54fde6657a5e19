"""Devices misbehaving: each ends in a typed error or None values, then recovery."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from custom_components.ev_charging_monitor.devices import (
    DeviceCommunicationError,
    DeviceConnectionError,
    DeviceExceptionResponse,
    DeviceTimeoutError,
    InvalidProfileError,
)
from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from custom_components.ev_charging_monitor.devices.modbus.profile import (
    load_profile_file,
    load_profile_text,
)
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04

from .conftest import StartSimulator


@pytest.fixture
async def wallbox(clock: SimClock, start_simulator: StartSimulator) -> VestelEVC04:
    """A running Vestel simulator."""
    return await start_simulator(VestelEVC04(clock))  # type: ignore[return-value]


@pytest.fixture
async def meter(clock: SimClock, start_simulator: StartSimulator) -> EastronSDM630:
    """A running SDM630 simulator."""
    return await start_simulator(EastronSDM630(clock))  # type: ignore[return-value]


@pytest.mark.parametrize(("code", "meaning"), [(2, "illegal data address"), (4, "device failure")])
async def test_exception_code(
    wallbox: VestelEVC04, connect: Callable[..., ModbusDevice], code: int, meaning: str
) -> None:
    """A Modbus exception reply is a typed error naming the code, and the next poll works."""
    device = connect("vestel_evc04", wallbox)
    wallbox.faults.exception = code
    with pytest.raises(DeviceExceptionResponse, match=meaning) as info:
        await device.read()
    assert info.value.code == code
    wallbox.faults.exception = None
    assert (await device.read()).energy is not None


async def test_timeout(wallbox: VestelEVC04, connect: Callable[..., ModbusDevice]) -> None:
    """A device that does not answer in time raises a timeout, then recovers."""
    device = connect("vestel_evc04", wallbox, timeout=0.3)
    wallbox.faults.delay = 1.0
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError):
        await device.read()
    assert time.monotonic() - started < 2
    wallbox.faults.delay = 0
    assert (await device.read()).energy is not None


async def test_disconnect_mid_poll(
    wallbox: VestelEVC04, connect: Callable[..., ModbusDevice]
) -> None:
    """A dropped connection is a connection error; the next poll reconnects."""
    device = connect("vestel_evc04", wallbox, timeout=0.5)
    await device.read()
    wallbox.faults.drop_connection = True
    started = time.monotonic()
    with pytest.raises(DeviceConnectionError):
        await device.read()
    assert time.monotonic() - started < 2
    wallbox.faults.drop_connection = False
    assert (await device.read()).energy is not None


async def test_a_closed_device_opens_no_new_connection(
    wallbox: VestelEVC04, connect: Callable[..., ModbusDevice]
) -> None:
    """After close (the entry unloaded), a request still on its way (a keep-alive timer's)
    is a connection error, not a new connection: one made while the test stopped the
    simulator broke its server ("Error on transport creation for incoming connection")."""
    device = connect("vestel_evc04", wallbox, timeout=0.5)
    await device.read()
    before = len(wallbox.requests)
    await device.close()
    with pytest.raises(DeviceConnectionError, match="closed"):
        await device.keep_alive()
    with pytest.raises(DeviceConnectionError, match="closed"):
        await device.read()
    assert len(wallbox.requests) == before  # nothing reached the device


async def test_truncated_reply(wallbox: VestelEVC04, connect: Callable[..., ModbusDevice]) -> None:
    """A reply cut short never becomes a number."""
    device = connect("vestel_evc04", wallbox, timeout=0.3)
    wallbox.faults.truncate = True
    with pytest.raises((DeviceTimeoutError, DeviceCommunicationError)):
        await device.read()
    wallbox.faults.truncate = False
    assert (await device.read()).energy is not None


async def test_nan_values_are_none(
    meter: EastronSDM630, connect: Callable[..., ModbusDevice]
) -> None:
    """NaN float registers read as None, never 0."""
    device = connect("eastron_sdm630", meter)
    meter.faults.nan = True
    reading = await device.read()
    assert reading.power is None
    assert reading.energy is None
    assert reading.voltage_l1 is None


async def test_garbage_registers(
    wallbox: VestelEVC04, connect: Callable[..., ModbusDevice]
) -> None:
    """All-ones registers: strings vanish, no state is invented."""
    device = connect("vestel_evc04", wallbox)
    wallbox.faults.garbage = True
    reading = await device.read()
    assert reading.rfid is None
    assert reading.current_l1 == 65.535  # 0xFFFF mA: the device has no sentinel for it
    assert reading.state is not None


async def test_connection_refused() -> None:
    """Nothing listening: a connection error that names host and port."""
    device = ModbusDevice(
        load_profile_file(
            Path("custom_components/ev_charging_monitor/devices/modbus/profiles/vestel_evc04.yaml")
        ),
        "127.0.0.1",
        port=9,
        timeout=0.5,
    )
    with pytest.raises(DeviceConnectionError, match=r"127\.0\.0\.1:9"):
        await device.read()
    await device.close()


GOOD = """
id: my_meter
name: My meter
kind: meter
manufacturer: Acme
source: the manual
values:
  power: {address: 10, type: f32}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just text", "must be a mapping"),
        ("id: [unclosed", "not valid YAML"),
        (GOOD.replace("kind: meter", "kind: toaster"), "kind"),
        (GOOD.replace("address: 10", "address: 70000"), "values.power.address"),
        (GOOD.replace("type: f32", "type: f33"), "values.power.type"),
        (GOOD.replace("source: the manual\n", ""), "source"),
        (GOOD.replace("kind: meter", "kind: charger"), "state: a charger profile"),
        (GOOD.replace("type: f32}", "type: ascii}"), "values.power.count"),
        (GOOD + "controls:\n  enable: zero_current\n", "needs controls.current_limit"),
    ],
)
def test_invalid_profile(text: str, message: str) -> None:
    """An invalid profile names the field and the problem."""
    with pytest.raises(InvalidProfileError, match=message):
        load_profile_text(text)


def test_valid_user_profile() -> None:
    """A minimal user profile loads."""
    profile = load_profile_text(GOOD)
    assert profile.value("power") is not None
