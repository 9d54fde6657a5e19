"""The Bender CC613 profile against its simulator (devices.md section 7a)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custom_components.ev_charging_monitor.devices import (
    ChargerState,
    DeviceExceptionResponse,
    Identity,
)
from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from custom_components.ev_charging_monitor.devices.modbus.profile import Table
from simulators.clock import SimClock
from simulators.devices.bender_cc613 import BenderCC613
from simulators.vehicle import Vehicle

from .conftest import StartSimulator

PROFILE = "bender_cc613"


@pytest.fixture
async def wallbox(clock: SimClock, start_simulator: StartSimulator) -> BenderCC613:
    """A running CC613 simulator with 2 345 678 Wh on its meter."""
    simulator = BenderCC613(clock, energy_wh=2_345_678)
    await start_simulator(simulator)
    return simulator


async def test_identity(wallbox: BenderCC613, connect: Callable[..., ModbusDevice]) -> None:
    """Model and firmware come from the ASCII registers 142 and 100."""
    device = connect(PROFILE, wallbox)
    assert await device.identify() == Identity(
        manufacturer="Bender", model=wallbox.model_name, serial=None, firmware=wallbox.firmware
    )
    assert (wallbox.model_name, wallbox.firmware) == ("CC613", "5.22")


async def test_idle_then_charging(
    wallbox: BenderCC613, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Every value equals the simulator's model, idle and after an hour of charging."""
    device = connect(PROFILE, wallbox)
    idle = await device.read()
    assert idle.state is ChargerState.A
    assert idle.power == 0
    assert idle.energy == 2_345_678
    assert (idle.current_l1, idle.current_l2, idle.current_l3) == (0, 0, 0)
    assert (idle.voltage_l1, idle.voltage_l2, idle.voltage_l3) == (230, 230, 230)
    assert idle.session_energy == 0
    assert idle.rfid is None
    assert idle.current_limit == 32
    assert idle.enabled is True

    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    plugged = await device.read()
    assert plugged.state is ChargerState.C  # the car draws at once

    wallbox.charger.swipe("04A2B3C4")
    clock.advance(3600)
    charging = await device.read()
    # By hand: 3 phases x 230 V x 16 A = 11 040 W; for one hour 11 040 Wh.
    assert charging.state is ChargerState.C
    assert charging.power == 11_040
    assert (charging.current_l1, charging.current_l2, charging.current_l3) == (16, 16, 16)
    assert charging.session_energy == 11_040
    assert charging.energy == 2_345_678 + 11_040
    assert charging.extra["charging_time"] == 3600
    assert charging.rfid == "04A2B3C4"

    wallbox.charger.unplug()
    after = await device.read()
    assert after.state is ChargerState.A
    assert after.energy == 2_356_718


async def test_single_phase_vehicle(
    wallbox: BenderCC613, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """A one-phase car draws on L1 only: 230 V x 13 A = 2 990 W."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=13, phases=1))
    clock.advance(1800)
    reading = await device.read()
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (13, 0, 0)
    assert reading.power == 2_990
    assert reading.session_energy == 1_495  # half an hour


async def test_current_limit_and_enable(
    wallbox: BenderCC613, connect: Callable[..., ModbusDevice]
) -> None:
    """Writes reach the simulator, which changes the current it offers."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(10)
    reading = await device.read()
    assert wallbox.charger.current_limit == 10
    assert reading.current_limit == 10
    assert reading.current_l1 == 10
    assert reading.power == 3 * 230 * 10  # 6 900 W
    # The HEMS limit is written with FC16, as the manufacturer's integrations do.
    assert (16, 255, 1000, 1) in wallbox.requests

    await device.set_enabled(False)
    reading = await device.read()
    assert wallbox.charger.current_limit == 0
    assert reading.enabled is False
    assert reading.state is ChargerState.B
    assert reading.power == 0

    await device.set_enabled(True)
    reading = await device.read()
    assert reading.enabled is True
    assert reading.current_limit == 10
    assert reading.state is ChargerState.C

    with pytest.raises(ValueError, match="outside"):
        await device.set_current_limit(5)
    assert wallbox.charger.current_limit == 10


async def test_no_heartbeat_needed(
    wallbox: BenderCC613, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """No watchdog is documented: keep_alive sends nothing and the limit holds for a day."""
    device = connect(PROFILE, wallbox)
    assert device.profile.watchdog is None
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(12)
    before = len(wallbox.requests)
    await device.keep_alive()
    assert len(wallbox.requests) == before
    clock.advance(86_400)
    assert (await device.read()).current_l1 == 12


async def test_not_available_values_read_as_none(
    wallbox: BenderCC613, connect: Callable[..., ModbusDevice]
) -> None:
    """0xFFFFFFFF power and the 0 V of a box without OCPP meter are None, never 0."""
    device = connect(PROFILE, wallbox)
    wallbox.power_unavailable = True
    wallbox.ocpp_meter = False
    reading = await device.read()
    assert reading.power is None
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (None, None, None)
    assert reading.energy == 2_345_678


async def test_ventilation_state_d(
    wallbox: BenderCC613, connect: Callable[..., ModbusDevice]
) -> None:
    """CP state 4 is IEC state D, charging with ventilation."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    wallbox.ventilation_required = True
    reading = await device.read()
    assert reading.state is ChargerState.D
    assert reading.state.charging


async def test_plan_skips_unmapped_registers(
    wallbox: BenderCC613, connect: Callable[..., ModbusDevice]
) -> None:
    """Undocumented addresses answer illegal data address, so one poll is four requests."""
    device = connect(PROFILE, wallbox)
    with pytest.raises(DeviceExceptionResponse) as caught:
        await device.transport.read(Table.HOLDING, 255, 206, 2)
    assert caught.value.code == 2
    plan = [(block.address, block.count) for block in device.read_plan]
    assert plan == [(122, 1), (212, 16), (716, 14), (1000, 1)]
    before = len(wallbox.requests)
    await device.read()
    assert len(wallbox.requests) - before == 4
