"""HTTP devices (go-e, Shelly) set up by auto-detection through the config flow."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from simulators.clock import SimClock
from simulators.devices.goe_v2 import GoeV2
from simulators.devices.shelly_pro3em import ShellyPro3EMSimulator
from simulators.vehicle import Vehicle

from .conftest import AddDevice


async def test_goe_detected_and_charging(
    hass: HomeAssistant, clock: SimClock, add_device: AddDevice, entity_registry: er.EntityRegistry
) -> None:
    """A go-e box is found by its HTTP API and its values and controls work."""
    charger = GoeV2(clock)
    await charger.start()
    try:
        entry = await add_device(charger)
        assert entry.unique_id == charger.serial
        charger.charger.plug(Vehicle(max_current=16, phases=3))
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
        await hass.async_block_till_done(wait_background_tasks=True)
        power = next(
            e.entity_id
            for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
            if e.unique_id.endswith("_power")
        )
        # 3 x 230 V x 16 A, by hand.
        assert float(hass.states.get(power).state) == 11_040
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await charger.stop()


async def test_shelly_detected(hass: HomeAssistant, clock: SimClock, add_device: AddDevice) -> None:
    """A Shelly Pro 3EM is found by its RPC API and set up as a meter."""
    meter = ShellyPro3EMSimulator(clock)
    await meter.start()
    try:
        entry = await add_device(meter)
        assert entry.data["driver"] == "shelly_pro3em"
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await meter.stop()
