"""The "other integration" of the entity-charger tests: real Home Assistant entities.

A charger as another integration would show it, built from Home Assistant's own helpers and
template entities (nothing of ours): a status select with the source's own words, a total
energy sensor in kWh (device class energy, total increasing), a power sensor in W, an RFID
text and a charging switch. `Garage` plays the physics: energy flows only while a car is
plugged in, wants energy and the switch is on; it writes the source's states as the other
integration would. Expected energies are summed here in Decimal, independently of the code
under test.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.session.manager import ChargerSessions

STATUS = "input_select.garage_status"
ENERGY = "sensor.garage_energy"
POWER = "sensor.garage_power"
CARD = "input_text.garage_card"
SWITCH = "switch.garage_charging"
ALLOWED = "input_boolean.garage_allowed"
ONLINE = "input_boolean.garage_online"
METER = "input_number.garage_meter"
WORDS = ["Available", "Connected", "Charging", "Paused", "Fault"]
# What the user chooses in the flow for each word.
MEANINGS = {"available": "A", "connected": "B", "charging": "C", "paused": "B", "fault": "F"}
POWER_W = 12_000
START_KWH = Decimal("1234.5")


async def async_setup_source(hass: HomeAssistant, *, allowed: bool = True) -> None:
    """The other integration's entities."""
    assert await async_setup_component(
        hass,
        "input_select",
        {
            "input_select": {
                "garage_status": {"name": "Carport", "options": WORDS, "initial": "Available"}
            }
        },
    )
    assert await async_setup_component(
        hass,
        "input_number",
        {
            "input_number": {
                "garage_meter": {
                    "min": 0,
                    "max": 1_000_000,
                    "step": 0.001,
                    "mode": "box",
                    "initial": float(START_KWH),
                },
                "garage_power_w": {"min": 0, "max": 50_000, "mode": "box", "initial": 0},
                "garage_limit": {"min": 0, "max": 32, "mode": "box", "initial": 16},
            }
        },
    )
    assert await async_setup_component(
        hass, "input_text", {"input_text": {"garage_card": {"initial": ""}}}
    )
    assert await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "garage_allowed": {"initial": allowed},
                "garage_online": {"initial": True},
            }
        },
    )
    online = "{{ is_state('input_boolean.garage_online', 'on') }}"
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "sensor": [
                        {
                            "name": "Garage energy",
                            "unique_id": "garage_energy",
                            "state": "{{ states('input_number.garage_meter') }}",
                            "unit_of_measurement": "kWh",
                            "device_class": "energy",
                            "state_class": "total_increasing",
                            "availability": online,
                        },
                        {
                            "name": "Garage power",
                            "unique_id": "garage_power",
                            "state": "{{ states('input_number.garage_power_w') }}",
                            "unit_of_measurement": "W",
                            "device_class": "power",
                            "state_class": "measurement",
                            "availability": online,
                        },
                    ],
                    "switch": [
                        {
                            "name": "Garage charging",
                            "unique_id": "garage_charging",
                            "state": "{{ is_state('input_boolean.garage_allowed', 'on') }}",
                            "turn_on": {
                                "action": "input_boolean.turn_on",
                                "target": {"entity_id": ALLOWED},
                            },
                            "turn_off": {
                                "action": "input_boolean.turn_off",
                                "target": {"entity_id": ALLOWED},
                            },
                        }
                    ],
                }
            ]
        },
    )
    await hass.async_block_till_done()


async def async_add_charger(
    hass: HomeAssistant, *, card: bool = True, switch: bool = True
) -> ConfigEntry:
    """Through the config flow, entity by entity, as a user would."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    assert "entities" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "entities"}
    )
    assert result["step_id"] == "entities"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "entities_map"
    mapping: dict[str, Any] = {"status": STATUS, "energy": ENERGY, "power": POWER}
    if card:
        mapping["rfid"] = CARD
    if switch:
        mapping["enable"] = SWITCH
    result = await hass.config_entries.flow.async_configure(result["flow_id"], mapping)
    assert result["step_id"] == "entities_states", result
    # Every word of the select is offered, none is guessed for the user.
    assert set(result["data_schema"].schema) == set(MEANINGS)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], MEANINGS)
    if not switch:
        assert result["type"] is FlowResultType.MENU
        assert result["step_id"] == "entities_monitor_only"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "entities_create"}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return entry


class Garage:
    """The charger's physics, written into the other integration's entities."""

    def __init__(self, hass: HomeAssistant, freezer: FrozenDateTimeFactory | None) -> None:
        self.hass = hass
        self.freezer = freezer
        self.meter = START_KWH
        self.plugged = False
        self.wants = True  # the car takes energy when offered
        self.mono = 1000.0  # the sessions' monotonic clock, moved with the wall clock
        self.delivered: list[Decimal] = []  # kWh per charging interval

    def drive(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Sessions set up from now on measure time with this clock, moved with the wall
        clock (the machine's monotonic clock cannot be moved here), from their first
        reading on."""
        original = ChargerSessions.__init__
        garage = self

        def init(sessions: ChargerSessions, *args: Any, **kwargs: Any) -> None:
            original(sessions, *args, **kwargs)
            sessions.monotonic = lambda: garage.mono

        monkeypatch.setattr(ChargerSessions, "__init__", init)

    @property
    def allowed(self) -> bool:
        return self.hass.states.get(ALLOWED).state == "on"

    @property
    def charging(self) -> bool:
        return self.plugged and self.wants and self.allowed

    async def _call(self, domain: str, service: str, data: dict[str, Any]) -> None:
        await self.hass.services.async_call(domain, service, data, blocking=True)

    async def publish(self) -> None:
        """Write the state the charger is in, as the other integration would."""
        if not self.plugged:
            word = "Available"
        elif self.charging:
            word = "Charging"
        else:
            word = "Paused" if self.delivered else "Connected"
        await self._call("input_select", "select_option", {"entity_id": STATUS, "option": word})
        await self._call(
            "input_number",
            "set_value",
            {"entity_id": "input_number.garage_power_w", "value": POWER_W if self.charging else 0},
        )
        await self._call(
            "input_number", "set_value", {"entity_id": METER, "value": str(self.meter)}
        )
        await self.hass.async_block_till_done()

    async def run(self, seconds: int) -> None:
        """Let `seconds` pass in the present state (energy flows if charging)."""
        if self.charging:
            energy = Decimal(POWER_W) * seconds / 3600 / 1000
            self.meter += energy
            self.delivered.append(energy)
        self.mono += seconds
        if self.freezer is not None:
            self.freezer.tick(timedelta(seconds=seconds))
            async_fire_time_changed(self.hass)
        await self.publish()

    async def plug(self) -> None:
        self.plugged = True
        await self.publish()

    async def unplug(self) -> None:
        self.plugged = False
        await self.publish()

    async def swipe(self, uid: str) -> None:
        await self._call("input_text", "set_value", {"entity_id": CARD, "value": uid})
        await self.hass.async_block_till_done()

    @property
    def delivered_wh(self) -> Decimal:
        return sum(self.delivered, Decimal(0)) * 1000
