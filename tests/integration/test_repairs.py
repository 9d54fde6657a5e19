"""Repair issues raised by what the devices report, and cleared when the cause is gone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ev_charging_monitor.const import DOMAIN
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.devices.webasto_next import WebastoNext
from simulators.vehicle import Vehicle

from .conftest import AddDevice


async def _poll(hass: HomeAssistant) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_watchdog_not_configured(
    hass: HomeAssistant, clock: SimClock, add_device: AddDevice, issue_registry: ir.IssueRegistry
) -> None:
    """A Webasto Next with communication timeout 0 gets an issue until a timeout is set."""
    charger = WebastoNext(clock, communication_timeout=0)
    await charger.start()
    try:
        entry = await add_device(charger)
        issue_id = f"watchdog_not_configured_{entry.entry_id}"
        issue = issue_registry.async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.translation_key == "watchdog_not_configured"
        assert issue.severity is ir.IssueSeverity.WARNING
        assert issue.translation_placeholders == {"name": entry.title}
        charger.communication_timeout = 30  # the installer sets a timeout
        await _poll(hass)
        assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await charger.stop()


async def test_watchdog_configured_no_issue(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The Vestel's default failsafe timeout (20 s) raises nothing."""
    await add_device(wallbox)
    assert [i for i in issue_registry.issues.values() if i.domain == DOMAIN] == []


async def _replace(old: VestelEVC04, clock: SimClock, energy_wh: float) -> VestelEVC04:
    """Put another EVC04 with `energy_wh` on its meter at the same address."""
    port = old.port
    assert port is not None
    await old.stop()
    new = VestelEVC04(clock, energy_wh=energy_wh)
    await new.start(port=port)
    return new


async def _poll_until(hass: HomeAssistant, done: Callable[[], bool], clock: SimClock) -> None:
    """Poll (10 simulated seconds apart) until `done`; a reading that drops may be held
    back for a few polls before it is published."""
    for _ in range(60):
        clock.advance(10)
        await _poll(hass)
        if done():
            return
    raise AssertionError("condition not reached")


async def test_register_backwards_then_back(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    add_device: AddDevice,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A meter whose register falls raises an issue; it clears when the register is back."""
    meter = EastronSDM630(clock, load=wallbox.charger, import_kwh=5432.1)
    await meter.start()
    wallbox.failsafe_timeout = 10**6
    wallbox.charger.watchdog_timeout = 10**6
    try:
        entry = await add_device(meter)
        issue_id = f"energy_register_backwards_{entry.entry_id}"
        port = meter.port
        await meter.stop()
        # The same meter 0.2 kWh lower (a faulty reset), at the same address.
        meter = EastronSDM630(clock, load=wallbox.charger, import_kwh=5431.9)
        await meter.start(port=port)
        await _poll_until(
            hass, lambda: issue_registry.async_get_issue(DOMAIN, issue_id) is not None, clock
        )
        issue = issue_registry.async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.is_fixable
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["before"] == "5432.100"
        assert issue.translation_placeholders["after"] == "5431.900"
        # The car charges at 11 kW: the register passes its old highest value again.
        wallbox.charger.plug(Vehicle(max_current=16, phases=3))
        await _poll_until(
            hass, lambda: issue_registry.async_get_issue(DOMAIN, issue_id) is None, clock
        )
        assert float(hass.states.get("sensor.eastron_sdm630_energy").state) >= 5432.1
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await meter.stop()


async def test_register_reset_accepted_by_fix_flow(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    wallbox: VestelEVC04,
    clock: SimClock,
    add_device: AddDevice,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The user confirms the meter was replaced: the issue goes and does not return."""
    assert await async_setup_component(hass, "repairs", {})
    entry = await add_device(wallbox)
    issue_id = f"energy_register_backwards_{entry.entry_id}"
    replaced = await _replace(wallbox, clock, 1_000)
    try:
        await _poll_until(
            hass, lambda: issue_registry.async_get_issue(DOMAIN, issue_id) is not None, clock
        )
        client = await hass_client()
        response = await client.post(
            "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
        )
        assert response.status == HTTPStatus.OK
        flow = await response.json()
        assert flow["step_id"] == "confirm"
        assert flow["description_placeholders"]["after"] == "1.000"
        response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
        assert response.status == HTTPStatus.OK
        assert (await response.json())["type"] == "create_entry"
        await hass.async_block_till_done(wait_background_tasks=True)
        assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
        await _poll(hass)
        assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
        assert hass.states.get("sensor.vestel_evc04_energy").state == "1.0"
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await replaced.stop()
