"""The presets propose the right mapping for other integrations' chargers.

Each device below is registered in a real entity and device registry as its integration
registers it: platform, unique id, translation key, device class, unit and enum options as
read in the integration's public code (2026 versions: Home Assistant 2026.10 for wallbox,
tesla_wall_connector and ohme; nordicopen/easee_hass, custom-components/zaptec,
marq24/ha-goecharger-api2 and marq24/ha-evcc for the others), with look-alike entities
that must not be chosen. The expected mappings are written by hand from those sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.entity_charger.flow import candidates
from custom_components.ev_charging_monitor.entity_charger.mapping import EntityMapping
from custom_components.ev_charging_monitor.entity_charger.presets import (
    load_presets,
    parse_presets,
    propose,
)


@dataclass(frozen=True)
class E:
    """One entity as its integration registers it."""

    entity_id: str
    unique_id: str
    translation_key: str | None = None
    device_class: str | None = None
    unit: str | None = None
    options: tuple[str, ...] = ()
    disabled: bool = False


EASEE = [
    E("sensor.garage_status", "EH123456_status", "easee_status"),
    E("sensor.garage_power", "EH123456_power", "power", "power", "kW"),
    E(
        "sensor.garage_lifetime_energy",
        "EH123456_lifetime_energy",
        "lifetime_energy",
        "energy",
        "kWh",
    ),
    E("sensor.garage_session_energy", "EH123456_session_energy", "session_energy", "energy", "kWh"),
    E(
        "sensor.garage_energy_last_hour",
        "EH123456_energy_last_hour",
        "energy_last_hour",
        "energy",
        "kWh",
    ),
    E("switch.garage_enable_idle_current", "EH123456_enable_idle_current", "enable_idle_current"),
    E("switch.garage_is_enabled", "EH123456_is_enabled", "is_enabled"),
]
ZAPTEC_MODES = (
    "unknown",
    "disconnected",
    "connected_requesting",
    "connected_charging",
    "connected_finished",
)
ZAPTEC = [
    E(
        "sensor.go_charger_mode",
        "zc1_charger_operation_mode",
        "charger_operation_mode",
        "enum",
        None,
        ZAPTEC_MODES,
    ),
    E("sensor.go_charge_power", "zc1_total_charge_power", "total_charge_power", "power", "W"),
    E(
        "sensor.go_completed_session_energy",
        "zc1_completed_session.Energy",
        "completed_session_energy",
        "energy",
        "kWh",
    ),
    E(
        "sensor.go_energy_meter",
        "zc1_signed_meter_value_kwh",
        "signed_meter_value",
        "energy",
        "kWh",
    ),
    E(
        "sensor.go_session_total_charge",
        "zc1_total_charge_power_session",
        "total_charge_power_session",
        "energy",
        "kWh",
    ),
    E("sensor.go_current_phase_1", "zc1_current_phase1", "current_phase1", "current", "A"),
    E("sensor.go_current_phase_2", "zc1_current_phase2", "current_phase2", "current", "A"),
    E("sensor.go_current_phase_3", "zc1_current_phase3", "current_phase3", "current", "A"),
    E("switch.go_permanent_cable_lock", "zc1_permanent_cable_lock", "permanent_cable_lock"),
    E("switch.go_charging", "zc1_charger_operation_mode", "charger_operation_mode"),
    E(
        "number.go_charger_min_current",
        "zc1_charger_min_current",
        "charger_min_current",
        "current",
        "A",
    ),
    E(
        "number.go_charger_max_current",
        "zc1_charger_max_current",
        "charger_max_current",
        "current",
        "A",
    ),
]
WALLBOX = [
    E("sensor.pulsar_status_description", "status_description-12345", "status_description"),
    E(
        "sensor.pulsar_max_available_power",
        "max_available_power-12345",
        "max_available_power",
        "current",
        "A",
    ),
    E("sensor.pulsar_charging_power", "charging_power-12345", "charging_power", "power", "kW"),
    E(
        "sensor.pulsar_added_green_energy",
        "added_green_energy-12345",
        "added_green_energy",
        "energy",
        "kWh",
    ),
    E("sensor.pulsar_added_energy", "added_energy-12345", "added_energy", "energy", "kWh"),
    E("switch.pulsar_pause_resume", "paused-12345", "pause_resume"),
    E(
        "number.pulsar_maximum_icp_current",
        "icp_max_current-12345",
        "maximum_icp_current",
        "current",
        "A",
    ),
    E(
        "number.pulsar_maximum_charging_current",
        "max_charging_current-12345",
        "maximum_charging_current",
        "current",
        "A",
    ),
]
TESLA_STATES = (
    "booting",
    "not_connected",
    "connected",
    "ready",
    "negotiating",
    "error",
    "charging_finished",
    "waiting_car",
    "charging_reduced",
    "charging",
)
TESLA = [
    E("sensor.wall_connector_status", "PGT1_status", "status", "enum", None, TESLA_STATES),
    E("sensor.wall_connector_status_code", "PGT1_evse_state", "status_code", None, None, (), True),
    E(
        "binary_sensor.wall_connector_vehicle_connected",
        "PGT1_vehicle_connected",
        "vehicle_connected",
        "plug",
    ),
    E(
        "binary_sensor.wall_connector_contactor_closed",
        "PGT1_contactor_closed",
        "contactor_closed",
        "battery_charging",
    ),
    E("sensor.wall_connector_power", "PGT1_total_power_w", "total_power_w", "power", "kW"),
    E(
        "sensor.wall_connector_session_energy",
        "PGT1_session_energy_wh",
        "session_energy_wh",
        "energy",
        "kWh",
    ),
    E("sensor.wall_connector_energy", "PGT1_energy_kWh", "energy_kwh", "energy", "kWh"),
    E(
        "sensor.wall_connector_vehicle_current",
        "PGT1_vehicle_current_a",
        "vehicle_current_a",
        "current",
        "A",
    ),
    E("sensor.wall_connector_phase_a_current", "PGT1_current_a_a", "current_a_a", "current", "A"),
    E("sensor.wall_connector_phase_b_current", "PGT1_current_b_a", "current_b_a", "current", "A"),
    E("sensor.wall_connector_phase_c_current", "PGT1_current_c_a", "current_c_a", "current", "A"),
]
OHME_STATES = ("unplugged", "pending_approval", "charging", "plugged_in", "paused", "finished")
OHME = [
    E("sensor.ohme_home_pro_status", "OHME1_status", "status", "enum", None, OHME_STATES),
    E("sensor.ohme_home_pro_current", "OHME1_current", None, "current", "A"),
    E("sensor.ohme_home_pro_power", "OHME1_power", None, "power", "kW"),
    E("sensor.ohme_home_pro_energy", "OHME1_energy", None, "energy", "kWh"),
    E(
        "select.ohme_home_pro_charge_mode",
        "OHME1_charge_mode",
        "charge_mode",
        None,
        None,
        ("smart_charge", "max_charge", "paused"),
    ),
]
GOE = [
    E("sensor.goe_012345_car", "goe_012345_car", "car", None, None, (), True),
    E("sensor.goe_012345_car_value", "goe_012345_car_value", "car_value"),
    E("binary_sensor.goe_012345_car_connected", "goe_012345_car_connected", "car_connected"),
    E("sensor.goe_012345_nrg_11", "goe_012345_nrg_11", "nrg_11", "power", "W"),
    E("sensor.goe_012345_nrg_4", "goe_012345_nrg_4", "nrg_4", "current", "A"),
    E("sensor.goe_012345_nrg_5", "goe_012345_nrg_5", "nrg_5", "current", "A"),
    E("sensor.goe_012345_nrg_6", "goe_012345_nrg_6", "nrg_6", "current", "A"),
    E("sensor.goe_012345_eto", "goe_012345_eto", "eto", "energy", "kWh"),
    E("sensor.goe_012345_wh", "goe_012345_wh", "wh", "energy", "Wh"),
    E("sensor.goe_012345_trx", "goe_012345_trx", "trx"),
    E("select.goe_012345_frc", "goe_012345_frc", "frc", None, None, ("0", "1", "2")),
    E("number.goe_012345_amp", "goe_012345_amp", "amp", "current", "A"),
]
EVCC = [
    E("binary_sensor.evcc_garage_connected", "evcc_lp1_connected", "connected", "connectivity"),
    E("binary_sensor.evcc_garage_charging", "evcc_lp1_charging", "charging", "battery_charging"),
    E("binary_sensor.evcc_garage_enabled", "evcc_lp1_enabled", "enabled"),
    E("sensor.evcc_garage_chargepower", "evcc_lp1_chargepower", "chargepower", "power", "kW"),
    E(
        "sensor.evcc_garage_chargetotalimport",
        "evcc_lp1_chargetotalimport",
        "chargetotalimport",
        "energy",
        "kWh",
    ),
    E(
        "sensor.evcc_garage_sessionenergy",
        "evcc_lp1_sessionenergy",
        "sessionenergy",
        "energy",
        "kWh",
    ),
    E(
        "select.evcc_garage_mode",
        "evcc_lp1_mode",
        "mode",
        None,
        None,
        ("off", "pv", "minpv", "now"),
    ),
]

CASES: dict[str, tuple[str, list[E], dict[str, Any]]] = {
    "easee": (
        "easee",
        EASEE,
        {
            "status": "sensor.garage_status",
            "power": "sensor.garage_power",
            "energy": "sensor.garage_lifetime_energy",
            "session_energy": "sensor.garage_session_energy",
            "enable": "switch.garage_is_enabled",
            "limit_action": "easee.set_charger_dynamic_limit",
            "limit_data": {"time_to_live": 0},
            "words": {"disconnected": "A", "awaiting_authorization": "B", "charging": "C"},
        },
    ),
    "zaptec": (
        "zaptec",
        ZAPTEC,
        {
            "status": "sensor.go_charger_mode",
            "power": "sensor.go_charge_power",
            "energy": "sensor.go_energy_meter",
            "session_energy": "sensor.go_session_total_charge",
            "currents": [f"sensor.go_current_phase_{n}" for n in (1, 2, 3)],
            "enable": "switch.go_charging",
            "limit": "number.go_charger_max_current",
            "words": {
                "disconnected": "A",
                "connected_requesting": "B",
                "connected_charging": "C",
                "connected_finished": "B",
                "unknown": "none",
            },
        },
    ),
    "wallbox": (
        "wallbox",
        WALLBOX,
        {
            "status": "sensor.pulsar_status_description",
            "power": "sensor.pulsar_charging_power",
            "energy": "sensor.pulsar_added_energy",
            "enable": "switch.pulsar_pause_resume",
            "limit": "number.pulsar_maximum_charging_current",
            "words": {
                "ready": "A",
                "locked, car connected": "B",
                "waiting for car demand": "B",
                "charging": "C",
                "error": "F",
            },
        },
    ),
    "tesla_wall_connector": (
        "tesla_wall_connector",
        TESLA,
        {
            "status": "sensor.wall_connector_status",
            "plug": "binary_sensor.wall_connector_vehicle_connected",
            "charging": "binary_sensor.wall_connector_contactor_closed",
            "power": "sensor.wall_connector_power",
            "energy": "sensor.wall_connector_energy",
            "session_energy": "sensor.wall_connector_session_energy",
            "currents": [f"sensor.wall_connector_phase_{p}_current" for p in "abc"],
            "words": {
                "not_connected": "A",
                "waiting_car": "B",
                "charging_reduced": "C",
                "error": "F",
                "booting": "none",
            },
        },
    ),
    "ohme": (
        "ohme",
        OHME,
        {
            "status": "sensor.ohme_home_pro_status",
            "power": "sensor.ohme_home_pro_power",
            "energy": "sensor.ohme_home_pro_energy",
            "currents": ["sensor.ohme_home_pro_current"],
            "enable": "select.ohme_home_pro_charge_mode",
            "enable_on": "smart_charge",
            "enable_off": "paused",
            "words": {"unplugged": "A", "pending_approval": "B", "charging": "C"},
        },
    ),
    "goecharger": (
        "goecharger_api2",
        GOE,
        {
            # The raw `car` sensor ships disabled: the localized one is proposed.
            "status": "sensor.goe_012345_car_value",
            "plug": "binary_sensor.goe_012345_car_connected",
            "power": "sensor.goe_012345_nrg_11",
            "energy": "sensor.goe_012345_eto",
            "session_energy": "sensor.goe_012345_wh",
            "currents": [f"sensor.goe_012345_nrg_{n}" for n in (4, 5, 6)],
            "rfid": "sensor.goe_012345_trx",
            "enable": "select.goe_012345_frc",
            "enable_on": "0",
            "enable_off": "1",
            "limit": "number.goe_012345_amp",
            "words": {"idle": "A", "wait for car": "B", "laden": "C", "fehler": "F"},
        },
    ),
    "evcc": (
        "evcc_intg",
        EVCC,
        {
            "plug": "binary_sensor.evcc_garage_connected",
            "charging": "binary_sensor.evcc_garage_charging",
            "power": "sensor.evcc_garage_chargepower",
            "energy": "sensor.evcc_garage_chargetotalimport",
            "session_energy": "sensor.evcc_garage_sessionenergy",
        },
    ),
}


def _register(hass: HomeAssistant, platform: str, entities: list[E]) -> str:
    """The device and its entities in the registries, as the integration creates them."""
    source = MockConfigEntry(domain=platform, title=platform)
    source.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=source.entry_id,
        identifiers={(platform, "charger-1")},
        name="Charger",
        manufacturer=platform,
        model="Wallbox",
        serial_number="SN-1",
    )
    registry = er.async_get(hass)
    for item in entities:
        domain, _, object_id = item.entity_id.partition(".")
        capabilities = {"options": list(item.options)} if item.options else None
        created = registry.async_get_or_create(
            domain,
            platform,
            item.unique_id,
            suggested_object_id=object_id,
            config_entry=source,
            device_id=device.id,
            translation_key=item.translation_key,
            original_device_class=item.device_class,
            unit_of_measurement=item.unit,
            capabilities=capabilities,
            disabled_by=er.RegistryEntryDisabler.INTEGRATION if item.disabled else None,
        )
        assert created.entity_id == item.entity_id
    return device.id


def _check(mapping: EntityMapping, expected: dict[str, Any]) -> None:
    for role in (
        "status",
        "plug",
        "charging",
        "power",
        "energy",
        "session_energy",
        "rfid",
        "enable",
        "enable_on",
        "enable_off",
        "limit",
        "limit_action",
    ):
        assert getattr(mapping, role) == expected.get(role, "" if role == "energy" else None), role
    assert list(mapping.currents) == expected.get("currents", [])
    assert mapping.limit_data == expected.get("limit_data", {})
    for word, meaning in expected.get("words", {}).items():
        assert mapping.states[word] == meaning, word


@pytest.mark.parametrize("preset", list(CASES))
async def test_presets_propose_the_documented_mapping(hass: HomeAssistant, preset: str) -> None:
    platform, entities, expected = CASES[preset]
    device_id = _register(hass, platform, entities)
    presets = await hass.async_add_executor_job(load_presets)
    mapping = propose(presets, candidates(hass, device_id), device_id=device_id)
    assert mapping.preset == preset
    assert mapping.device_id == device_id
    _check(mapping, expected)


async def test_an_unknown_integration_is_mapped_by_device_class_and_name(
    hass: HomeAssistant,
) -> None:
    """No preset: plug and charging binary sensors, power, the lifetime energy over the
    session one, phase currents and the current number are still found."""
    device_id = _register(
        hass,
        "acme_charger",
        [
            E("binary_sensor.acme_plug", "a_plug", None, "plug"),
            E("binary_sensor.acme_charging", "a_charging", None, "battery_charging"),
            E("sensor.acme_max_power", "a_max_power", None, "power", "W"),
            E("sensor.acme_power", "a_power", None, "power", "W"),
            E("sensor.acme_session_energy", "a_session", None, "energy", "Wh"),
            E("sensor.acme_total_energy", "a_total", None, "energy", "kWh"),
            E("sensor.acme_current_l1", "a_l1", None, "current", "A"),
            E("sensor.acme_current_l2", "a_l2", None, "current", "A"),
            E("sensor.acme_current_l3", "a_l3", None, "current", "A"),
            E("number.acme_min_current", "a_min", None, "current", "A"),
            E("number.acme_charge_current", "a_limit", None, "current", "A"),
        ],
    )
    presets = await hass.async_add_executor_job(load_presets)
    mapping = propose(presets, candidates(hass, device_id), device_id=device_id)
    _check(
        mapping,
        {
            "plug": "binary_sensor.acme_plug",
            "charging": "binary_sensor.acme_charging",
            "power": "sensor.acme_power",
            "energy": "sensor.acme_total_energy",
            "session_energy": "sensor.acme_session_energy",
            "currents": [f"sensor.acme_current_l{n}" for n in (1, 2, 3)],
            "limit": "number.acme_charge_current",
        },
    )
    assert mapping.preset is None


def test_a_broken_preset_table_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown meanings"):
        parse_presets({"x": {"name": "X", "roles": {}, "states": {"on": "Z"}}})
    with pytest.raises(ValueError, match="unknown roles"):
        parse_presets({"x": {"name": "X", "roles": {"colour": []}, "states": {}}})


async def test_the_device_path_of_the_flow_proposes_and_creates_an_easee_charger(
    hass: HomeAssistant,
) -> None:
    """Pick the Easee device, take the proposal as it is: a charger whose current limit
    is Easee's action, called with the device and the current."""
    calls: list[ServiceCall] = []

    async def dynamic_limit(call: ServiceCall) -> None:
        calls.append(call)

    # Stands in for the Easee cloud integration's action (its cloud cannot run here).
    hass.services.async_register("easee", "set_charger_dynamic_limit", dynamic_limit)
    device_id = _register(hass, "easee", EASEE)
    hass.states.async_set("sensor.garage_status", "disconnected")
    hass.states.async_set("sensor.garage_power", "0", {"unit_of_measurement": "kW"})
    hass.states.async_set(
        "sensor.garage_lifetime_energy",
        "4321.5",
        {"unit_of_measurement": "kWh", "device_class": "energy"},
    )
    hass.states.async_set("switch.garage_is_enabled", "on")

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "entities"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"device": device_id}
    )
    assert result["step_id"] == "entities_map"
    assert result["description_placeholders"] == {"preset": "easee"}
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested["limit_action"] == "easee.set_charger_dynamic_limit"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], suggested)
    assert result["step_id"] == "entities_states"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.title == "Charger"
    assert entry.state is ConfigEntryState.LOADED
    device = entry.runtime_data.device
    identity = await device.identify()
    assert (identity.manufacturer, identity.model, identity.serial) == ("easee", "Wallbox", "SN-1")
    await device.inner.set_current_limit(13)
    assert [dict(c.data) for c in calls] == [
        {"device_id": device_id, "current": 13, "time_to_live": 0}
    ]
