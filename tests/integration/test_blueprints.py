"""The automation blueprints in a real Home Assistant, acting on the simulated chargers.

Each blueprint is copied into the test config's blueprints folder and used by an automation
whose inputs point at the simulator's entities; the simulators and Home Assistant's frozen
clock move together (clocks.poll), and every effect is checked on the simulator itself.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    async_mock_service,
)

from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.devices.webasto_next import WebastoNext
from simulators.vehicle import Vehicle

from .clocks import poll
from .conftest import AddDevice

SOURCE = Path(__file__).parents[2] / "blueprints" / "automation" / "ev_charging_monitor"
BLUEPRINTS = ("charge_off_peak.yaml", "notify_charging_complete.yaml", "notify_charger_fault.yaml")
BERLIN = ZoneInfo("Europe/Berlin")

SWITCH = "switch.vestel_evc04_charging_enabled"
LIMIT = "number.vestel_evc04_current_limit"
PRICE = "sensor.vestel_evc04_current_price"
POWER = "sensor.vestel_evc04_power"
ENERGY = "sensor.vestel_evc04_session_energy"
CONNECTED = "binary_sensor.vestel_evc04_vehicle_connected"
AUTOMATION = "automation.blueprint_under_test"

# Tests in which an automation logs an error on purpose.
EXPECTED_ERRORS = {"test_missing_required_input_does_not_load"}

# 16 A on three phases at 230 V.
POWER_16A_W = 11_040


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A config dir of this test's own, so the copied blueprints do not outlive it."""
    return hass_tmp_config_dir


@pytest.fixture(autouse=True)
def _blueprints(hass_config_dir: str) -> None:
    """Copy the repository's blueprints where Home Assistant looks for them."""
    target = Path(hass_config_dir, "blueprints", "automation", "ev_charging_monitor")
    shutil.copytree(SOURCE, target, dirs_exist_ok=True)


@pytest.fixture(autouse=True)
async def _stop_automations(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> AsyncIterator[None]:
    """No automation may log an error; turn them all off at the end (no lingering timers)."""
    yield
    if request.node.name not in EXPECTED_ERRORS:
        errors = [
            record.getMessage()
            for record in caplog.get_records("call")
            if record.levelno >= logging.ERROR
            and record.name.startswith("homeassistant.components.automation")
        ]
        assert errors == []
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all"}, blocking=True
        )
        await hass.async_block_till_done()


@pytest.fixture
async def wallbox(clock: SimClock) -> AsyncIterator[VestelEVC04]:
    """A Vestel whose watchdog is off: the tests jump hours between polls."""
    simulator = VestelEVC04(clock)
    simulator.charger.watchdog_timeout = None
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def webasto(clock: SimClock) -> AsyncIterator[WebastoNext]:
    """A Webasto Next, which reports IEC 61851 state F (the Vestel's map has no fault)."""
    simulator = WebastoNext(clock)
    simulator.charger.watchdog_timeout = None
    await simulator.start()
    yield simulator
    await simulator.stop()


async def _use_blueprint(hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]) -> None:
    """Set up one automation from `blueprint` and check that it loaded (is not unavailable)."""
    config = {
        "automation": {
            "id": "blueprint_under_test",
            "alias": "Blueprint under test",
            "use_blueprint": {"path": f"ev_charging_monitor/{blueprint}", "input": inputs},
        }
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    state = hass.states.get(AUTOMATION)
    assert state is not None
    assert state.state == STATE_ON, state


async def _at(hass: HomeAssistant, freezer: FrozenDateTimeFactory, local: str) -> None:
    """Home time zone Europe/Berlin, Home Assistant's clock at `local` (ISO, no offset)."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(datetime.fromisoformat(local).replace(tzinfo=BERLIN))


async def _poll_until(
    hass: HomeAssistant, clock: SimClock, freezer: FrozenDateTimeFactory, local: str
) -> None:
    """Poll once a minute until Home Assistant's clock has passed `local` (Berlin)."""
    until = datetime.fromisoformat(local).replace(tzinfo=BERLIN)
    while dt_util.now() < until:
        step = min(60.0, (until - dt_util.now()).total_seconds())
        await poll(hass, clock, step, freezer)


async def _set(
    hass: HomeAssistant, entity_id: str, state: str, attributes: dict[str, str] | None = None
) -> None:
    """Set another integration's entity, and let the automation's commands finish."""
    hass.states.async_set(entity_id, state, attributes)
    await hass.async_block_till_done(wait_background_tasks=True)


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _offered(wallbox: VestelEVC04 | WebastoNext) -> float:
    return wallbox.charger.offered_current()


async def _notifications(hass: HomeAssistant) -> list[dict[str, str]]:
    """Persistent notifications as they are created or updated (a core integration)."""
    assert await async_setup_component(hass, "persistent_notification", {})
    seen: list[dict[str, str]] = []

    def updated(
        kind: persistent_notification.UpdateType,
        notifications: dict[str, persistent_notification.Notification],
    ) -> None:
        if kind in (
            persistent_notification.UpdateType.ADDED,
            persistent_notification.UpdateType.UPDATED,
        ):
            seen.extend(
                {key: str(value) for key, value in n.items()} for n in notifications.values()
            )

    persistent_notification.async_register_callback(hass, updated)
    return seen


def _mock_notify(hass: HomeAssistant) -> list[ServiceCall]:
    """A stand-in for a phone's notify action: a mobile app cannot run in this test."""
    calls: list[ServiceCall] = async_mock_service(hass, "notify", "phone")
    return calls


PHONE = [{"action": "notify.phone", "data": {"title": "{{ title }}", "message": "{{ message }}"}}]


# -- every blueprint --------------------------------------------------------------------


# The inputs that only offer this integration's entities, with their other filters
# (as Home Assistant's selector schema normalises them).
FILTERED_INPUTS = {
    "charge_off_peak.yaml": {
        "charging_switch": {"domain": ["switch"]},
        "current_limit_entity": {"domain": ["number"], "device_class": ["current"]},
    },
    "notify_charging_complete.yaml": {
        "vehicle_connected": {"domain": ["binary_sensor"], "device_class": ["plug"]},
        "power_sensor": {"domain": ["sensor"], "device_class": ["power"]},
        "session_energy_sensor": {"domain": ["sensor"], "device_class": ["energy"]},
        "charging_switch": {"domain": ["switch"]},
    },
    "notify_charger_fault.yaml": {
        "status_sensor": {"domain": ["sensor"], "device_class": ["enum"]},
    },
}


@pytest.mark.parametrize("name", BLUEPRINTS)
async def test_blueprint_metadata_and_filters(hass: HomeAssistant, name: str) -> None:
    """Each blueprint loads as an automation blueprint; charger inputs are filtered to us."""
    blueprint = await async_get_blueprints(hass).async_get_blueprint(f"ev_charging_monitor/{name}")
    metadata = blueprint.metadata
    assert metadata["domain"] == "automation"
    assert metadata["name"].startswith("EV Charging Monitor - ")
    assert metadata["description"]
    assert metadata["source_url"].endswith(f"/blueprints/automation/ev_charging_monitor/{name}")
    filtered = {
        key: {k: v for k, v in entity_filter.items() if k != "integration"}
        for key, spec in blueprint.inputs.items()
        if "entity" in spec["selector"]
        for entity_filter in spec["selector"]["entity"].get("filter", [])
        if entity_filter.get("integration") == "ev_charging_monitor"
    }
    assert filtered == FILTERED_INPUTS[name]
    for key, spec in blueprint.inputs.items():
        assert spec["name"], key
        assert spec["selector"], key


REQUIRED_INPUTS = {
    "charge_off_peak.yaml": {"charging_switch": SWITCH},
    "notify_charging_complete.yaml": {
        "vehicle_connected": CONNECTED,
        "power_sensor": POWER,
        "session_energy_sensor": ENERGY,
    },
    "notify_charger_fault.yaml": {"status_sensor": "sensor.vestel_evc04_status"},
}


@pytest.mark.parametrize("name", BLUEPRINTS)
async def test_blueprint_validates_with_defaults(
    hass: HomeAssistant, wallbox: VestelEVC04, add_device: AddDevice, name: str
) -> None:
    """With only the required inputs (every optional one at its default) the automation loads."""
    await add_device(wallbox)
    await _use_blueprint(hass, name, REQUIRED_INPUTS[name])


async def test_missing_required_input_does_not_load(hass: HomeAssistant) -> None:
    """The check above is real: without the switch the automation is unavailable."""
    config = {
        "automation": {
            "id": "blueprint_under_test",
            "alias": "Blueprint under test",
            "use_blueprint": {"path": "ev_charging_monitor/charge_off_peak.yaml", "input": {}},
        }
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    state = hass.states.get(AUTOMATION)
    assert state is not None
    assert state.state == "unavailable"


def test_blueprints_are_plain_yaml_with_input_tags() -> None:
    """The files parse (with !input as a tag) and have the blueprint header first."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!input", lambda loader, node: f"!input {node.value}")
    for name in BLUEPRINTS:
        data = yaml.load((SOURCE / name).read_text(encoding="utf-8"), Loader=Loader)
        assert next(iter(data)) == "blueprint"
        assert {"triggers", "actions"} <= set(data)


# -- charge only off-peak ----------------------------------------------------------------


async def test_off_peak_time_window_over_midnight(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """22:00-06:00: charging stops at 06:00 and starts at 22:00 with the off-peak current."""
    await _at(hass, freezer, "2026-06-10T05:57:00")
    await add_device(wallbox)
    await _use_blueprint(
        hass,
        "charge_off_peak.yaml",
        {
            "charging_switch": SWITCH,
            "current_limit_entity": LIMIT,
            "off_peak_current": 16,
            "mode": "time_window",
            "window_start": "22:00:00",
            "window_end": "06:00:00",
        },
    )
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await _poll_until(hass, clock, freezer, "2026-06-10T05:59:30")
    assert _offered(wallbox) == 32
    assert wallbox.charger.phases().total_power > 0

    await _poll_until(hass, clock, freezer, "2026-06-10T06:00:30")
    assert _offered(wallbox) == 0
    assert wallbox.charger.current_limit == 0
    await poll(hass, clock, 0, freezer)
    assert _state(hass, SWITCH) == "off"

    # All day long the charger stays off, and the car draws nothing.
    energy = wallbox.charger.energy_wh()
    await poll(hass, clock, 15 * 3600, freezer)
    await _poll_until(hass, clock, freezer, "2026-06-10T21:59:30")
    assert _offered(wallbox) == 0
    assert wallbox.charger.energy_wh() == energy

    await _poll_until(hass, clock, freezer, "2026-06-10T22:00:30")
    assert wallbox.charger.current_limit == 16
    assert _offered(wallbox) == 16
    await poll(hass, clock, 60, freezer)
    assert _state(hass, SWITCH) == "on"
    assert float(_state(hass, POWER)) == POWER_16A_W


async def test_off_peak_time_window_same_day(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """A window within one day (12:00-14:00), and without the optional current limit."""
    await _at(hass, freezer, "2026-06-10T09:00:00")
    await add_device(wallbox)
    await hass.services.async_call(
        "number", "set_value", {"entity_id": LIMIT, "value": 20}, blocking=True
    )
    await hass.services.async_call("switch", "turn_off", {"entity_id": SWITCH}, blocking=True)
    assert _offered(wallbox) == 0
    await _use_blueprint(
        hass,
        "charge_off_peak.yaml",
        {"charging_switch": SWITCH, "window_start": "12:00:00", "window_end": "14:00:00"},
    )
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await _poll_until(hass, clock, freezer, "2026-06-10T11:59:00")
    assert _offered(wallbox) == 0
    await _poll_until(hass, clock, freezer, "2026-06-10T12:00:30")
    # Resumes at the limit set before: the blueprint did not touch it.
    assert _offered(wallbox) == 20
    await _poll_until(hass, clock, freezer, "2026-06-10T14:00:30")
    assert _offered(wallbox) == 0


async def test_off_peak_by_price_threshold(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """The charger's own current price (a time-of-use tariff) against a maximum of 0.25."""
    await _at(hass, freezer, "2026-06-10T12:55:00")
    entry = await add_device(wallbox)
    tariff = {
        "type": "time_of_use",
        "default_price": "0.40",
        "periods": [
            {"start": "12:00", "end": "13:00", "price": "0.20"},
            {"start": "14:00", "end": "15:00", "price": "0.20"},
        ],
    }
    hass.config_entries.async_update_entry(entry, options={**entry.options, "tariff": tariff})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await poll(hass, clock, 0, freezer)
    assert float(_state(hass, PRICE)) == pytest.approx(0.20)
    await _use_blueprint(
        hass,
        "charge_off_peak.yaml",
        {
            "charging_switch": SWITCH,
            "current_limit_entity": LIMIT,
            "off_peak_current": 10,
            "mode": "price",
            "price_sensor": PRICE,
            "price_threshold": 0.25,
            # Would switch at 06:00 and 22:00 in the time-window mode; ignored here.
            "window_start": "13:30:00",
            "window_end": "13:40:00",
        },
    )
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await _poll_until(hass, clock, freezer, "2026-06-10T12:59:30")
    assert _offered(wallbox) == 32

    await _poll_until(hass, clock, freezer, "2026-06-10T13:00:30")
    assert float(_state(hass, PRICE)) == pytest.approx(0.40)
    assert _offered(wallbox) == 0

    # The time-window times pass without effect in the price mode.
    await _poll_until(hass, clock, freezer, "2026-06-10T13:59:00")
    assert _offered(wallbox) == 0

    await _poll_until(hass, clock, freezer, "2026-06-10T14:00:30")
    assert float(_state(hass, PRICE)) == pytest.approx(0.20)
    assert wallbox.charger.current_limit == 10
    assert _offered(wallbox) == 10


async def test_off_peak_price_unknown_leaves_charger_alone(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """A dynamic price sensor: above the maximum stops, unavailable changes nothing."""
    await _at(hass, freezer, "2026-06-10T12:00:00")
    await add_device(wallbox)
    await _set(hass, "sensor.spot_price", "0.10", {"unit_of_measurement": "EUR/kWh"})
    await _use_blueprint(
        hass,
        "charge_off_peak.yaml",
        {
            "charging_switch": SWITCH,
            "mode": "price",
            "price_sensor": "sensor.spot_price",
            "price_threshold": 0.15,
        },
    )
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await poll(hass, clock, 60, freezer)
    assert _offered(wallbox) == 32

    await _set(hass, "sensor.spot_price", "0.16", {"unit_of_measurement": "EUR/kWh"})
    await poll(hass, clock, 60, freezer)
    assert _offered(wallbox) == 0

    await _set(hass, "sensor.spot_price", "unavailable")
    await poll(hass, clock, 60, freezer)
    assert _offered(wallbox) == 0

    # At the maximum is off-peak.
    await _set(hass, "sensor.spot_price", "0.15", {"unit_of_measurement": "EUR/kWh"})
    await poll(hass, clock, 60, freezer)
    assert _offered(wallbox) == 32

    await _set(hass, "sensor.spot_price", "unknown")
    await poll(hass, clock, 60, freezer)
    assert _offered(wallbox) == 32


async def test_off_peak_by_time_of_use_period(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """A tariff-period entity (a utility meter's tariff select, say) naming the period."""
    await _at(hass, freezer, "2026-06-10T12:00:00")
    await add_device(wallbox)
    await _set(hass, "select.grid_tariff", "offpeak")
    await _use_blueprint(
        hass,
        "charge_off_peak.yaml",
        {
            "charging_switch": SWITCH,
            "mode": "period",
            "period_entity": "select.grid_tariff",
            "off_peak_states": ["offpeak", "night"],
        },
    )
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await poll(hass, clock, 60, freezer)
    assert _offered(wallbox) == 32

    await _set(hass, "select.grid_tariff", "peak")
    await poll(hass, clock, 60, freezer)
    assert _offered(wallbox) == 0

    await _set(hass, "select.grid_tariff", "unavailable")
    await poll(hass, clock, 60, freezer)
    assert _offered(wallbox) == 0

    await _set(hass, "select.grid_tariff", "night")
    await poll(hass, clock, 60, freezer)
    assert _offered(wallbox) == 32
    await poll(hass, clock, 60, freezer)
    assert _state(hass, SWITCH) == "on"


# -- notify when charging is complete ----------------------------------------------------


async def test_charging_complete_persistent_notification(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """The car is full after 2 kWh; 5 minutes at 0 W later, one notification (default)."""
    await _at(hass, freezer, "2026-06-10T18:00:00")
    await add_device(wallbox)
    seen = await _notifications(hass)
    await _use_blueprint(
        hass,
        "notify_charging_complete.yaml",
        {
            "vehicle_connected": CONNECTED,
            "power_sensor": POWER,
            "session_energy_sensor": ENERGY,
            "charging_switch": SWITCH,
            "power_threshold": 100,
            "idle_time": {"minutes": 5},
            "energy_threshold": 1.0,
        },
    )
    car = wallbox.charger.plug(Vehicle(max_current=16, phases=3, energy_wanted=2_000))
    # The session starts on a register step (1 234.5 kWh): the 2 kWh show as 2.0 exactly.
    await poll(hass, clock, 0, freezer)
    # 2 000 Wh at 11 040 W take 652 s; the car is full during the poll of 18:11.
    await _poll_until(hass, clock, freezer, "2026-06-10T18:10:30")
    assert float(_state(hass, POWER)) == POWER_16A_W
    assert car.delivered < 2_000
    await _poll_until(hass, clock, freezer, "2026-06-10T18:11:30")
    assert car.full
    assert float(_state(hass, POWER)) == 0
    assert _state(hass, CONNECTED) == "on"

    await _poll_until(hass, clock, freezer, "2026-06-10T18:15:30")
    assert seen == []
    await _poll_until(hass, clock, freezer, "2026-06-10T18:17:00")
    assert len(seen) == 1
    assert seen[0]["title"] == "Vestel EVC04: charging complete"
    assert seen[0]["message"] == "The car has finished charging: 2.0 kWh this session."
    assert seen[0]["notification_id"] == f"ev_charging_complete_{CONNECTED}"

    # Standing idle does not notify again.
    await _poll_until(hass, clock, freezer, "2026-06-10T18:40:00")
    assert len(seen) == 1


async def test_charging_complete_not_for_pause_or_unplug(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """A pause by the switch, a car unplugged, and too little energy: no notification."""
    await _at(hass, freezer, "2026-06-10T18:00:00")
    await add_device(wallbox)
    calls = _mock_notify(hass)
    await _use_blueprint(
        hass,
        "notify_charging_complete.yaml",
        {
            "vehicle_connected": CONNECTED,
            "power_sensor": POWER,
            "session_energy_sensor": ENERGY,
            "charging_switch": SWITCH,
            "idle_time": {"minutes": 2},
            "energy_threshold": 0.5,
            "notify_action": PHONE,
        },
    )
    # Charged 1.1 kWh, then paused by the switch (as the off-peak blueprint would).
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await _poll_until(hass, clock, freezer, "2026-06-10T18:06:00")
    await hass.services.async_call("switch", "turn_off", {"entity_id": SWITCH}, blocking=True)
    await _poll_until(hass, clock, freezer, "2026-06-10T18:12:00")
    assert float(_state(hass, POWER)) == 0
    assert calls == []

    # Charging again, then the car leaves while charging.
    await hass.services.async_call("switch", "turn_on", {"entity_id": SWITCH}, blocking=True)
    await _poll_until(hass, clock, freezer, "2026-06-10T18:15:00")
    assert float(_state(hass, POWER)) > 0
    wallbox.charger.unplug()
    await _poll_until(hass, clock, freezer, "2026-06-10T18:20:00")
    assert calls == []

    # A car that takes 0.2 kWh only: below the minimum session energy.
    wallbox.charger.plug(Vehicle(max_current=16, phases=3, energy_wanted=200))
    await _poll_until(hass, clock, freezer, "2026-06-10T18:30:00")
    assert calls == []

    # And one that takes 1 kWh: the notify action is called once, with the variables.
    wallbox.charger.unplug()
    await poll(hass, clock, 60, freezer)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3, energy_wanted=1_000))
    await _poll_until(hass, clock, freezer, "2026-06-10T18:45:00")
    assert len(calls) == 1
    # The session energy counts the charger's 0.1 kWh register steps.
    energy = round(float(_state(hass, ENERGY)), 2)
    assert energy in (0.9, 1.0)
    assert calls[0].data == {
        "title": "Vestel EVC04: charging complete",
        "message": f"The car has finished charging: {energy} kWh this session.",
    }


# -- notify on charger fault -------------------------------------------------------------

STATUS = "sensor.webasto_next_status"


async def test_fault_persistent_notification(
    hass: HomeAssistant,
    webasto: WebastoNext,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """The status entering fault notifies at once with the defaults."""
    await _at(hass, freezer, "2026-06-10T08:00:00")
    await add_device(webasto)
    seen = await _notifications(hass)
    await _use_blueprint(hass, "notify_charger_fault.yaml", {"status_sensor": STATUS})
    webasto.charger.plug(Vehicle())
    await poll(hass, clock, 60, freezer)
    assert _state(hass, STATUS) == "charging"
    assert seen == []

    webasto.charger.set_fault(True)
    await poll(hass, clock, 0, freezer)
    assert _state(hass, STATUS) == "fault"
    assert len(seen) == 1
    assert seen[0]["title"] == "Webasto Next: charger fault"
    assert seen[0]["message"].startswith("The charger reports a fault (IEC 61851 state F)")
    assert "08:01" in seen[0]["message"]

    # Clearing is not notified by default.
    webasto.charger.set_fault(False)
    await poll(hass, clock, 60, freezer)
    assert _state(hass, STATUS) == "charging"
    assert len(seen) == 1


async def test_fault_for_a_while_and_cleared(
    hass: HomeAssistant,
    webasto: WebastoNext,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
) -> None:
    """A fault of 10 s is ignored; one of a minute is notified, and so is its clearing."""
    await _at(hass, freezer, "2026-06-10T08:00:00")
    await add_device(webasto)
    calls = _mock_notify(hass)
    await _use_blueprint(
        hass,
        "notify_charger_fault.yaml",
        {
            "status_sensor": STATUS,
            "fault_for": {"seconds": 30},
            "notify_cleared": True,
            "notify_action": PHONE,
        },
    )
    webasto.charger.plug(Vehicle())
    await poll(hass, clock, 60, freezer)

    webasto.charger.set_fault(True)
    await poll(hass, clock, 0, freezer)
    assert _state(hass, STATUS) == "fault"
    webasto.charger.set_fault(False)
    await poll(hass, clock, 10, freezer)
    assert _state(hass, STATUS) == "charging"
    await poll(hass, clock, 60, freezer)
    assert calls == []

    webasto.charger.set_fault(True)
    await poll(hass, clock, 0, freezer)
    await poll(hass, clock, 20, freezer)
    assert calls == []
    await poll(hass, clock, 20, freezer)
    assert [call.data["title"] for call in calls] == ["Webasto Next: charger fault"]

    webasto.charger.set_fault(False)
    await poll(hass, clock, 0, freezer)
    assert [call.data["title"] for call in calls] == [
        "Webasto Next: charger fault",
        "Webasto Next: fault cleared",
    ]
    assert calls[1].data["message"] == (
        "The charger's fault has cleared; its status is now charging."
    )
