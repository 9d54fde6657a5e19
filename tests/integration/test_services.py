"""Service actions and buttons against the Vestel and SDM630 simulators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pymodbus.constants import ExcCodes
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ev_charging_monitor.const import DOMAIN
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04

from .conftest import AddDevice

SERIAL = "VES2024000123"


def _device_id(device_registry: dr.DeviceRegistry, serial: str, entry_id: str) -> str:
    device = device_registry.async_get_device_by_identifier((DOMAIN, serial), entry_id)
    assert device is not None
    return device.id


def _setpoint(wallbox: VestelEVC04) -> list[int]:
    """The last value written to the EVC04's setpoint register (HR 5004, unit 255)."""
    return [words for unit, table, address, words in wallbox.writes if address == 5004][-1]


async def _settle(hass: HomeAssistant) -> None:
    """Let the refresh a command requested run (HA debounces refreshes for 10 s)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done(wait_background_tasks=True)


async def _call(hass: HomeAssistant, service: str, **data: object) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True)
    await _settle(hass)


async def test_set_current_limit(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The limit reaches the charger's register; out of range is refused, then accepted."""
    entry = await add_device(wallbox)
    device_id = _device_id(device_registry, SERIAL, entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_current_limit", device_id=device_id, current=40)
    assert err.value.translation_key == "current_out_of_range"
    assert err.value.translation_placeholders == {"current": "40", "min": "6", "max": "32"}
    assert wallbox.charger.current_limit == 32  # untouched
    await _call(hass, "set_current_limit", device_id=device_id, current=16)
    assert wallbox.charger.current_limit == 16
    assert (255, "holding", 5004, [16]) in wallbox.writes
    assert hass.states.get("number.vestel_evc04_current_limit").state == "16"


async def test_stop_and_start(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Stop writes setpoint 0 (the EVC04's way to pause); start restores the limit."""
    entry = await add_device(wallbox)
    device_id = _device_id(device_registry, SERIAL, entry.entry_id)
    await _call(hass, "set_current_limit", device_id=device_id, current=10)
    await _call(hass, "stop_charging", device_id=device_id)
    assert _setpoint(wallbox) == [0]
    assert hass.states.get("switch.vestel_evc04_charging_enabled").state == "off"
    await _call(hass, "start_charging", device_id=device_id)
    assert _setpoint(wallbox) == [10]
    assert hass.states.get("switch.vestel_evc04_charging_enabled").state == "on"


async def test_buttons(hass: HomeAssistant, wallbox: VestelEVC04, add_device: AddDevice) -> None:
    """The stop and start buttons do the same as the actions."""
    await add_device(wallbox)
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.vestel_evc04_stop_charging"}, blocking=True
    )
    await _settle(hass)
    assert _setpoint(wallbox) == [0]
    assert hass.states.get("switch.vestel_evc04_charging_enabled").state == "off"
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.vestel_evc04_start_charging"}, blocking=True
    )
    await _settle(hass)
    assert _setpoint(wallbox) == [32]
    assert hass.states.get("switch.vestel_evc04_charging_enabled").state == "on"


async def test_unknown_device_and_meter(
    hass: HomeAssistant,
    meter: EastronSDM630,
    add_device: AddDevice,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A device id that is not ours, and a meter, are refused with translated errors."""
    entry = await add_device(meter)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "start_charging", device_id="no-such-device")
    assert err.value.translation_key == "invalid_device"
    meter_id = _device_id(device_registry, entry.unique_id or "", entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "start_charging", device_id=meter_id)
    assert err.value.translation_key == "unsupported_command"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_current_limit", device_id=meter_id, current=16)
    assert err.value.translation_key == "unsupported_command"
    assert meter.writes == []


async def test_not_loaded_then_loaded(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    device_registry: dr.DeviceRegistry,
) -> None:
    """An unloaded entry is refused; after loading it again the action works."""
    entry = await add_device(wallbox)
    device_id = _device_id(device_registry, SERIAL, entry.entry_id)
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "stop_charging", device_id=device_id)
    assert err.value.translation_key == "device_not_loaded"
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _call(hass, "stop_charging", device_id=device_id)
    assert _setpoint(wallbox) == [0]


async def test_device_unreachable_then_back(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A dropped connection is a translated HomeAssistantError; the next call works."""
    entry = await add_device(wallbox)
    device_id = _device_id(device_registry, SERIAL, entry.entry_id)
    wallbox.faults.drop_connection = True
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "set_current_limit", device_id=device_id, current=16)
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "communication_error"
    wallbox.faults.drop_connection = False
    await _call(hass, "set_current_limit", device_id=device_id, current=16)
    assert wallbox.charger.current_limit == 16


async def test_remote_control_disabled_repair(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    device_registry: dr.DeviceRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A write refused as an illegal function raises a repair; an accepted one clears it."""
    entry = await add_device(wallbox)
    device_id = _device_id(device_registry, SERIAL, entry.entry_id)
    issue_id = f"remote_control_disabled_{entry.entry_id}"
    wallbox.faults.exception_at[("holding", 5004)] = ExcCodes.ILLEGAL_FUNCTION
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "set_current_limit", device_id=device_id, current=16)
    assert err.value.translation_key == "remote_control_disabled"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "remote_control_disabled"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["name"] == "Vestel EVC04"
    assert "exception code 1" in issue.translation_placeholders["error"]
    # The installer switches remote control on again.
    del wallbox.faults.exception_at[("holding", 5004)]
    await _call(hass, "set_current_limit", device_id=device_id, current=16)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_refused_value_is_no_repair(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    device_registry: dr.DeviceRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """An illegal data value is the command's problem, not disabled remote control."""
    entry = await add_device(wallbox)
    device_id = _device_id(device_registry, SERIAL, entry.entry_id)
    wallbox.faults.exception_at[("holding", 5004)] = ExcCodes.ILLEGAL_VALUE
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "set_current_limit", device_id=device_id, current=16)
    assert err.value.translation_key == "command_refused"
    assert (
        issue_registry.async_get_issue(DOMAIN, f"remote_control_disabled_{entry.entry_id}") is None
    )
