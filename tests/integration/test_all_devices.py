"""Every shipped device, set up through the config flow against its simulator: all entities.

Also: reload and unload leave no connection open at the simulator and no task running.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from syrupy.assertion import SnapshotAssertion

from simulators.base import Simulator
from simulators.clock import SimClock
from simulators.modbus import ModbusSimulator
from simulators.registry import simulators

from .conftest import AddDevice

# keba_udp only answers the KEBA identity request; the KEBA itself is keba_p30 (Modbus).
DEVICES = sorted(name for name in simulators() if name != "keba_udp")

# Checked by hand against the simulators' defaults when the snapshot was first recorded:
# the EVC04 idles with 1 234 500 Wh (0.1 kWh register) and a 32 A limit; the SDM630 holds
# 5 432.1 kWh as a float32 (nearest value 5 432.10009765625), shown as the 5 432.1 it
# stands for, 230 V and no load.
HAND_CHECKED = {
    "vestel_evc04": {
        "sensor.vestel_evc04_energy": "1234.5",
        "sensor.vestel_evc04_power": "0",
        "sensor.vestel_evc04_status": "no_vehicle",
        "sensor.vestel_evc04_voltage_l1": "230",
        "number.vestel_evc04_current_limit": "32",
        "switch.vestel_evc04_charging_enabled": "on",
        "binary_sensor.vestel_evc04_vehicle_connected": "off",
    },
    "eastron_sdm630": {
        "sensor.eastron_sdm630_energy": "5432.1",
        "sensor.eastron_sdm630_power": "0.0",
        "sensor.eastron_sdm630_voltage_l1": "230.0",
        "sensor.eastron_sdm630_current_l1": "0.0",
    },
}


@pytest.fixture
async def simulator(request: pytest.FixtureRequest, clock: SimClock) -> AsyncIterator[Simulator]:
    """The simulator named by the test's parameter, with its default values."""
    device = simulators()[request.param](clock)
    await device.start()
    yield device
    await device.stop()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("simulator", DEVICES, indirect=True)
async def test_entities(
    hass: HomeAssistant,
    simulator: Simulator,
    add_device: AddDevice,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Registry entries (translation key, device class, unit, category) and states."""
    entry = await add_device(simulator, driver=simulator.name)  # type: ignore[arg-type]
    entities = sorted(
        er.async_entries_for_config_entry(entity_registry, entry.entry_id),
        key=lambda e: e.entity_id,
    )
    assert entities
    registry = {
        e.entity_id: {
            "translation_key": e.translation_key,
            "device_class": e.original_device_class,
            "unit": e.unit_of_measurement,
            "category": e.entity_category,
            "capabilities": e.capabilities,
        }
        for e in entities
    }
    assert registry == snapshot(name="registry")
    states = {}
    for e in entities:
        state = hass.states.get(e.entity_id)
        assert state is not None
        states[e.entity_id] = state.state
    assert states == snapshot(name="states")
    for entity_id, value in HAND_CHECKED.get(simulator.name, {}).items():
        assert states[entity_id] == value, entity_id


def _open_connections(device: ModbusSimulator) -> int:
    server = device._server  # pymodbus keeps its connections there
    assert server is not None
    return len(server.active_connections)


async def _until_connections(device: ModbusSimulator, count: int) -> None:
    """Until the server has noticed the closed sockets: on a busy machine the kernel may
    hand the close over only after many turns of the loop. A leaked connection stays, and
    fails here after the generous wait."""
    async with asyncio.timeout(30):
        while _open_connections(device) != count:  # noqa: ASYNC110 (no event to wait on)
            await asyncio.sleep(0.05)


def _our_tasks() -> list[asyncio.Task[object]]:
    """Tasks running code of the integration or of a Modbus client."""
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        path = code.co_filename if code is not None else ""
        if "ev_charging_monitor" in path or "pymodbus/client" in path:
            found.append(task)
    return found


@pytest.mark.parametrize("simulator", ["vestel_evc04", "eastron_sdm630"], indirect=True)
async def test_reload_and_unload_close_everything(
    hass: HomeAssistant, simulator: Simulator, add_device: AddDevice
) -> None:
    """The simulator sees the connection closed on unload; reload keeps exactly one."""
    assert isinstance(simulator, ModbusSimulator)
    entry = await add_device(simulator)
    assert _open_connections(simulator) == 1
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await _until_connections(simulator, 1)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await _until_connections(simulator, 0)
    assert _our_tasks() == []
