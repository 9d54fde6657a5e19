"""Entities of a wallbox and a meter set up through the config flow against simulators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_charging_monitor.const import DOMAIN
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

from .conftest import AddDevice


async def _poll(hass: HomeAssistant) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    # Coordinator refreshes run as background tasks.
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_wallbox_entities(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every entity of the Vestel simulator, idle: states and registry entries."""
    entry = await add_device(wallbox)
    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    states = {e.entity_id: hass.states.get(e.entity_id) for e in entities}
    assert {
        e.entity_id: (e.translation_key, e.original_device_class) for e in entities
    } == snapshot(name="registry")
    assert {k: (s.state, dict(s.attributes)) for k, s in states.items() if s} == snapshot(
        name="states"
    )
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, "VES2024000123"), entry.entry_id
    )
    assert device is not None
    assert (device.manufacturer, device.model, device.serial_number, device.sw_version) == (
        "Vestel",
        "EVC04",
        "VES2024000123",
        "v3.187.0-240419",
    )
    # Checked by hand against the simulator: 1 234 500 Wh on the meter, idle, 32 A limit.
    assert hass.states.get("sensor.vestel_evc04_energy").state == "1234.5"
    assert hass.states.get("sensor.vestel_evc04_status").state == "no_vehicle"
    assert hass.states.get("number.vestel_evc04_current_limit").state == "32"


async def test_charging_is_shown(
    hass: HomeAssistant, wallbox: VestelEVC04, clock: SimClock, add_device: AddDevice
) -> None:
    """A car plugs in and charges: power and energy follow the simulator."""
    await add_device(wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    clock.advance(3)
    await _poll(hass)
    assert hass.states.get("sensor.vestel_evc04_power").state == "11040"
    assert hass.states.get("binary_sensor.vestel_evc04_charging").state == "on"
    assert hass.states.get("binary_sensor.vestel_evc04_vehicle_connected").state == "on"
    assert hass.states.get("sensor.vestel_evc04_status").state == "charging"


async def test_meter_entities(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    meter: EastronSDM630,
    clock: SimClock,
    add_device: AddDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The SDM630 in front of the wallbox shows the same power and counts energy."""
    await add_device(meter)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    wallbox.charger.set_current_limit(16)
    wallbox.failsafe_timeout = 10**6
    wallbox.charger.watchdog_timeout = 10**6
    # Both clocks move an hour: the meter's growth must look plausible to the gate.
    clock.advance(3600)
    freezer.tick(timedelta(seconds=3600 + 6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert float(hass.states.get("sensor.eastron_sdm630_power").state) == pytest.approx(11_040)
    # 5 432.1 kWh at start plus 11.04 kWh in the hour, as a float32 register.
    assert float(hass.states.get("sensor.eastron_sdm630_energy").state) == pytest.approx(
        5_443.14, abs=0.001
    )


async def test_offline_and_back(
    hass: HomeAssistant, wallbox: VestelEVC04, add_device: AddDevice
) -> None:
    """Entities go unavailable while the device is silent and come back by themselves."""
    await add_device(wallbox)
    wallbox.faults.drop_connection = True
    await _poll(hass)
    assert hass.states.get("sensor.vestel_evc04_power").state == STATE_UNAVAILABLE
    wallbox.faults.drop_connection = False
    await _poll(hass)
    assert hass.states.get("sensor.vestel_evc04_power").state == "0"
