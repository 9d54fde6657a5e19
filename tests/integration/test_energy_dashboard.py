"""The Energy dashboard accepts the energy sensor (Home Assistant's own validation)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from simulators.devices.vestel_evc04 import VestelEVC04

from .conftest import AddDevice


@pytest.fixture(autouse=True)
def _integration_env(
    recorder_mock: object, enable_custom_integrations: None, socket_enabled: None
) -> None:
    """As in conftest, but with the recorder (the Energy dashboard needs it) set up first."""


async def test_energy_sensor_validates(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    wallbox: VestelEVC04,
    add_device: AddDevice,
) -> None:
    """Added as a consumption of the grid, `energy/validate` reports no issue for it."""
    assert await async_setup_component(hass, "energy", {})
    await add_device(wallbox)
    entity_id = "sensor.vestel_evc04_energy"
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "energy/save_prefs",
            "device_consumption": [{"stat_consumption": entity_id}],
        }
    )
    assert (await client.receive_json())["success"]
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done(wait_background_tasks=True)
    # Long-term statistics are compiled every 5 minutes; compile the present period now.
    await async_wait_recording_done(hass)
    now = dt_util.utcnow()
    period = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    do_adhoc_statistics(hass, start=period)
    await async_wait_recording_done(hass)
    await client.send_json_auto_id({"type": "energy/validate"})
    result = await client.receive_json()
    assert result["success"], result
    assert result["result"]["device_consumption"] == [[]]
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["device_class"] == "energy"
    assert state.attributes["state_class"] == "total_increasing"
    assert state.attributes["unit_of_measurement"] == "kWh"
