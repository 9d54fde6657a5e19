"""Every step and error of the options flow: the menu, polling, energy source and tariffs.

The charger and meter are the simulators on loopback; price sensors are states set as the
price integrations publish them. Expected prices and costs are worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_integration,
    mock_platform,
)

from custom_components.ev_charging_monitor.const import CONF_SCAN_INTERVAL, DOMAIN
from custom_components.ev_charging_monitor.energy_source import (
    CONF_ENERGY_METER_ENTRY,
    CONF_ENERGY_SENSOR,
    CONF_ENERGY_SOURCE,
    EnergySource,
    EnergySourceKind,
    billing_energy_source,
)
from custom_components.ev_charging_monitor.pricing.cost import session_cost
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04

from .conftest import AddDevice

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
WEEKEND = ["sat", "sun"]
MON_FRI = {"days": WEEKDAYS, "start": "07:00:00", "end": "22:00:00", "price": 0.38}
SAT_SUN = {"days": WEEKEND, "start": "10:00:00", "end": "16:00:00", "price": 0.28}


async def _step(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
    result = await hass.config_entries.options.async_configure(flow_id, data)
    await hass.async_block_till_done()
    return dict(result)


async def _open(hass: HomeAssistant, entry: ConfigEntry, item: str) -> dict[str, Any]:
    """Open the options and pick a menu item."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["polling", "energy_source", "tariff"]
    return await _step(hass, result["flow_id"], {"next_step_id": item})


async def _time_of_use(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    result = await _open(hass, entry, "tariff")
    result = await _step(hass, result["flow_id"], {"tariff_type": "time_of_use"})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "time_of_use"
    return result


@pytest.fixture
async def berlin(hass: HomeAssistant) -> None:
    """The tariff's wall clock is Home Assistant's time zone."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.currency = "EUR"


async def test_meter_has_polling_only(
    hass: HomeAssistant, wallbox: VestelEVC04, meter: EastronSDM630, add_device: AddDevice
) -> None:
    """A meter has no menu: its one step is the polling interval."""
    meter_entry = await add_device(meter)
    result = await hass.config_entries.options.async_init(meter_entry.entry_id)
    assert result["step_id"] == "polling"
    assert set(result["data_schema"].schema) == {CONF_SCAN_INTERVAL}
    result = await _step(hass, result["flow_id"], {CONF_SCAN_INTERVAL: 10})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert meter_entry.options == {CONF_SCAN_INTERVAL: 10}


async def test_polling_keeps_the_other_options(
    hass: HomeAssistant, wallbox: VestelEVC04, add_device: AddDevice
) -> None:
    """The polling step shows one field and changes only it."""
    charger = await add_device(wallbox)
    hass.config_entries.async_update_entry(
        charger, options={"tariff": {"type": "flat", "price": "0.30"}}
    )
    await hass.async_block_till_done()
    result = await _open(hass, charger, "polling")
    assert set(result["data_schema"].schema) == {CONF_SCAN_INTERVAL}
    result = await _step(hass, result["flow_id"], {CONF_SCAN_INTERVAL: 7})
    assert charger.options == {
        CONF_SCAN_INTERVAL: 7,
        "tariff": {"type": "flat", "price": "0.30"},
    }


async def test_energy_sources_each_with_its_errors(
    hass: HomeAssistant, wallbox: VestelEVC04, meter: EastronSDM630, add_device: AddDevice
) -> None:
    """Meter of this integration, any energy sensor, the charger's own: each step and error."""
    charger = await add_device(wallbox)
    meter_entry = await add_device(meter)

    result = await _open(hass, charger, "energy_source")
    assert set(result["data_schema"].schema) == {CONF_ENERGY_SOURCE}
    result = await _step(hass, result["flow_id"], {CONF_ENERGY_SOURCE: "meter_entry"})
    assert result["step_id"] == "energy_meter"
    assert set(result["data_schema"].schema) == {CONF_ENERGY_METER_ENTRY}
    result = await _step(hass, result["flow_id"], {})
    assert result["errors"] == {CONF_ENERGY_METER_ENTRY: "meter_required"}
    result = await _step(hass, result["flow_id"], {CONF_ENERGY_METER_ENTRY: charger.entry_id})
    assert result["errors"] == {CONF_ENERGY_METER_ENTRY: "not_a_meter"}
    result = await _step(hass, result["flow_id"], {CONF_ENERGY_METER_ENTRY: meter_entry.entry_id})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert billing_energy_source(hass, charger) == EnergySource(
        kind=EnergySourceKind.METER_ENTRY, entry_id=meter_entry.entry_id
    )

    result = await _open(hass, charger, "energy_source")
    result = await _step(hass, result["flow_id"], {CONF_ENERGY_SOURCE: "sensor"})
    assert result["step_id"] == "energy_sensor"
    assert set(result["data_schema"].schema) == {CONF_ENERGY_SENSOR}
    result = await _step(hass, result["flow_id"], {})
    assert result["errors"] == {CONF_ENERGY_SENSOR: "sensor_required"}
    result = await _step(hass, result["flow_id"], {CONF_ENERGY_SENSOR: "sensor.mid_meter_energy"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_ENERGY_METER_ENTRY not in charger.options
    source = billing_energy_source(hass, charger)
    assert (source.kind, source.entity_id) == (EnergySourceKind.SENSOR, "sensor.mid_meter_energy")

    result = await _open(hass, charger, "energy_source")
    result = await _step(hass, result["flow_id"], {CONF_ENERGY_SOURCE: "device"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert charger.options == {CONF_ENERGY_SOURCE: "device"}


async def test_flat_tariff_and_no_tariff(
    hass: HomeAssistant, wallbox: VestelEVC04, add_device: AddDevice
) -> None:
    """Flat: the price is required, stored as text, shown again; "No tariff" removes it."""
    charger = await add_device(wallbox)
    result = await _open(hass, charger, "tariff")
    assert set(result["data_schema"].schema) == {"tariff_type"}
    result = await _step(hass, result["flow_id"], {"tariff_type": "flat"})
    assert result["step_id"] == "flat"
    result = await _step(hass, result["flow_id"], {})
    assert result["errors"] == {"flat_price": "price_required"}
    result = await _step(hass, result["flow_id"], {"flat_price": 0.3279})
    assert charger.options["tariff"] == {"type": "flat", "price": "0.3279"}

    result = await _open(hass, charger, "tariff")
    result = await _step(hass, result["flow_id"], {"tariff_type": "flat"})
    field = next(iter(result["data_schema"].schema))
    assert field.description == {"suggested_value": 0.3279}
    result = await _step(hass, result["flow_id"], {"flat_price": 0.31})

    result = await _open(hass, charger, "tariff")
    result = await _step(hass, result["flow_id"], {"tariff_type": "none"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "tariff" not in charger.options


def _nord_pool_today(day: datetime, prices: list[str]) -> dict[str, Any]:
    """Nord Pool custom component attributes: hourly `raw_today` from local midnight."""
    return {
        "unit_of_measurement": "EUR/kWh",
        "raw_today": [
            {
                "start": (day + timedelta(hours=hour)).isoformat(),
                "end": (day + timedelta(hours=hour + 1)).isoformat(),
                "value": float(price),
            }
            for hour, price in enumerate(prices)
        ],
    }


async def test_dynamic_tariff_offers_the_price_entities_it_finds(
    hass: HomeAssistant, berlin: None, wallbox: VestelEVC04, add_device: AddDevice
) -> None:
    """Nord Pool and Octopus lists are found and previewed; a switch is not a price."""
    charger = await add_device(wallbox)
    result = await _open(hass, charger, "tariff")
    result = await _step(hass, result["flow_id"], {"tariff_type": "dynamic"})
    assert result["step_id"] == "dynamic"
    assert result["description_placeholders"] == {"found": "-"}
    result = await _step(hass, result["flow_id"], {})
    assert result["errors"] == {"price_entity": "price_entity_required"}
    hass.states.async_set("sensor.garage_door", "open", {})
    result = await _step(hass, result["flow_id"], {"price_entity": "sensor.garage_door"})
    assert result["errors"] == {"price_entity": "not_a_price_entity"}
    result = await _step(hass, result["flow_id"], {"price_entity": "sensor.gone"})
    assert result["errors"] == {"price_entity": "not_a_price_entity"}

    midnight = dt_util.start_of_local_day()
    prices = [f"0.{10 + hour:02d}" for hour in range(24)]  # 0.10 at 00:00 ... 0.33 at 23:00
    hass.states.async_set("sensor.nordpool_kwh_de", "0.2", {**_nord_pool_today(midnight, prices)})
    hass.states.async_set(
        "event.octopus_energy_electricity_current_day_rates",
        "2026-12-01T00:00:00+00:00",
        {
            "friendly_name": "Octopus current day rates",
            "rates": [
                {
                    "start": (midnight + timedelta(minutes=30 * i)).isoformat(),
                    "end": (midnight + timedelta(minutes=30 * i + 30)).isoformat(),
                    "value_inc_vat": 0.245 if i % 2 else 0.155,
                    "is_capped": False,
                }
                for i in range(48)
            ],
        },
    )
    result = await _open(hass, charger, "tariff")
    result = await _step(hass, result["flow_id"], {"tariff_type": "dynamic"})
    hour = dt_util.now().hour
    octopus_now = "0.2450" if dt_util.now().minute >= 30 else "0.1550"
    assert result["description_placeholders"]["found"].splitlines() == [
        "- **Octopus current day rates** (`event.octopus_energy_electricity_current_day_rates`):"
        f" 0.1550 - 0.2450 GBP/kWh, 48 x 30 min, ▸ {octopus_now} GBP/kWh",
        "- **nordpool kwh de** (`sensor.nordpool_kwh_de`): 0.1000 - 0.3300 EUR/kWh,"
        f" 24 x 60 min, ▸ 0.{10 + hour:02d}00 EUR/kWh",
    ]
    field = next(iter(result["data_schema"].schema))
    assert field.description == {
        "suggested_value": "event.octopus_energy_electricity_current_day_rates"
    }
    result = await _step(hass, result["flow_id"], {"price_entity": "sensor.nordpool_kwh_de"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert charger.options["tariff"] == {"type": "dynamic", "entity_id": "sensor.nordpool_kwh_de"}
    # A plain sensor whose state is a price is accepted too.
    hass.states.async_set("sensor.spot", "31.2", {"unit_of_measurement": "ct/kWh"})
    result = await _open(hass, charger, "tariff")
    result = await _step(hass, result["flow_id"], {"tariff_type": "dynamic"})
    field = next(iter(result["data_schema"].schema))
    assert field.description == {"suggested_value": "sensor.nordpool_kwh_de"}  # the stored one
    result = await _step(hass, result["flow_id"], {"price_entity": "sensor.spot"})
    assert charger.options["tariff"] == {"type": "dynamic", "entity_id": "sensor.spot"}


async def test_time_of_use_editor_every_step_and_error(
    hass: HomeAssistant, berlin: None, wallbox: VestelEVC04, add_device: AddDevice
) -> None:
    """Mon-Fri 07-22 0.38, Sat-Sun 10-16 0.28, else 0.24: built, corrected and stored."""
    charger = await add_device(wallbox)
    result = await _time_of_use(hass, charger)
    flow_id = result["flow_id"]
    assert result["menu_options"] == ["tou_add", "tou_season_add", "tou_other"]
    assert result["description_placeholders"] == {
        "periods": "-",
        "default_price": "-",
        "holiday_entity": "-",
        "seasons": "-",
    }

    result = await _step(hass, flow_id, {"next_step_id": "tou_add"})
    assert set(result["data_schema"].schema) == {"days", "start", "end", "price"}
    for wrong, errors in (
        ({**MON_FRI, "days": []}, {"days": "days_required"}),
        ({k: v for k, v in MON_FRI.items() if k != "start"}, {"start": "invalid_time"}),
        ({k: v for k, v in MON_FRI.items() if k != "end"}, {"end": "invalid_time"}),
        ({**MON_FRI, "end": "07:00:00"}, {"end": "window_empty"}),
        ({k: v for k, v in MON_FRI.items() if k != "price"}, {"price": "price_required"}),
    ):
        result = await _step(hass, flow_id, wrong)
        assert (result["step_id"], result["errors"]) == ("tou_add", errors), wrong
    # A time that is not one never reaches the step: the time selector refuses it.
    with pytest.raises(InvalidData):
        await _step(hass, flow_id, {**MON_FRI, "end": "25:00:00"})
    result = await _step(hass, flow_id, MON_FRI)
    assert result["step_id"] == "time_of_use"
    assert result["menu_options"] == [
        "tou_add",
        "tou_edit",
        "tou_remove",
        "tou_season_add",
        "tou_other",
        "tou_save",
    ]

    # Saturday-Sunday is not an overlap with Monday-Friday, whatever the hours.
    result = await _step(hass, flow_id, {"next_step_id": "tou_add"})
    result = await _step(hass, flow_id, SAT_SUN)
    assert result["step_id"] == "time_of_use"
    # Friday evening is: the error names the period it collides with.
    result = await _step(hass, flow_id, {"next_step_id": "tou_add"})
    friday = {"days": ["fri", "sat"], "start": "21:00:00", "end": "23:00:00", "price": 0.5}
    result = await _step(hass, flow_id, friday)
    assert result["errors"] == {"base": "period_overlaps"}
    assert result["description_placeholders"] == {
        "other": "Monday-Friday 07:00-22:00: 0.38 EUR/kWh"
    }
    # Over midnight: Sunday 22:00 to Monday 06:00, stored as two periods of one day each.
    result = await _step(
        hass, flow_id, {"days": ["sun"], "start": "22:00", "end": "06:00", "price": 0.2}
    )
    assert result["step_id"] == "time_of_use"
    assert result["description_placeholders"]["periods"].splitlines() == [
        "- Monday 00:00-06:00: 0.2 EUR/kWh",
        "- Monday-Friday 07:00-22:00: 0.38 EUR/kWh",
        "- Saturday, Sunday 10:00-16:00: 0.28 EUR/kWh",
        "- Sunday 22:00-24:00: 0.2 EUR/kWh",
    ]

    # Edit: the Saturday-Sunday price, with the old values suggested.
    result = await _step(hass, flow_id, {"next_step_id": "tou_edit"})
    options = result["data_schema"].schema["period"].config["options"]
    assert [option["label"] for option in options][
        2
    ] == "Saturday, Sunday 10:00-16:00: 0.28 EUR/kWh"
    result = await _step(hass, flow_id, {"period": "2"})
    assert result["step_id"] == "tou_change"
    suggested = {
        str(key): key.description["suggested_value"] for key in result["data_schema"].schema
    }
    assert suggested == {"days": WEEKEND, "start": "10:00:00", "end": "16:00:00", "price": 0.28}
    # Changing it into an overlap is refused like adding one.
    result = await _step(hass, flow_id, {**SAT_SUN, "days": ["fri"], "start": "20:00:00"})
    assert result["errors"] == {"base": "period_overlaps"}
    result = await _step(hass, flow_id, {**SAT_SUN, "price": 0.27})
    result = await _step(hass, flow_id, {"next_step_id": "tou_edit"})
    result = await _step(hass, flow_id, {"period": "2"})
    result = await _step(hass, flow_id, SAT_SUN)  # and back, an edit over itself is no overlap

    # Remove the night periods again.
    result = await _step(hass, flow_id, {"next_step_id": "tou_remove"})
    result = await _step(hass, flow_id, {"period": ["0", "3"]})
    assert result["description_placeholders"]["periods"].splitlines() == [
        "- Monday-Friday 07:00-22:00: 0.38 EUR/kWh",
        "- Saturday, Sunday 10:00-16:00: 0.28 EUR/kWh",
    ]

    # Else price and holidays.
    result = await _step(hass, flow_id, {"next_step_id": "tou_other"})
    assert set(result["data_schema"].schema) == {"default_price", "holiday_entity"}
    result = await _step(
        hass, flow_id, {"default_price": 0.24, "holiday_entity": "calendar.germany"}
    )
    assert result["description_placeholders"]["default_price"] == "0.24 EUR/kWh"
    assert result["description_placeholders"]["holiday_entity"] == "calendar.germany"
    result = await _step(hass, flow_id, {"next_step_id": "tou_save"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert charger.options["tariff"] == {
        "type": "time_of_use",
        "periods": [
            {"days": WEEKDAYS, "start": "07:00", "end": "22:00", "price": "0.38"},
            {"days": WEEKEND, "start": "10:00", "end": "16:00", "price": "0.28"},
        ],
        "default_price": "0.24",
        "holiday_entity": "calendar.germany",
    }

    # Opened again, the schedule is there to edit; the holiday source can be cleared.
    result = await _time_of_use(hass, charger)
    assert result["description_placeholders"]["periods"].count("\n") == 1
    result = await _step(hass, result["flow_id"], {"next_step_id": "tou_other"})
    result = await _step(hass, result["flow_id"], {"default_price": 0.24})
    result = await _step(hass, result["flow_id"], {"next_step_id": "tou_save"})
    assert "holiday_entity" not in charger.options["tariff"]

    # The loaded charger prices a session across the periods as worked out by hand:
    # 2 kW from Friday 27 November 2026 20:00 to Saturday 12:00 (Berlin), read hourly.
    assert charger.state is ConfigEntryState.LOADED
    tariff = charger.runtime_data.sessions.pricing.tariff
    start = datetime(2026, 11, 27, 20, tzinfo=BERLIN)
    readings = [(start + timedelta(hours=h), Decimal(2000 * h)) for h in range(17)]
    # Fri 20-22 at 0.38: 4 kWh = 1.52; Fri 22 - Sat 10 at 0.24: 24 kWh = 5.76;
    # Sat 10-12 at 0.28: 4 kWh = 1.12.
    assert session_cost(readings, tariff).total == Decimal("8.40")


async def test_time_of_use_labels_in_german(
    hass: HomeAssistant, berlin: None, wallbox: VestelEVC04, add_device: AddDevice
) -> None:
    """The periods list in the user's language."""
    hass.config.language = "de"
    charger = await add_device(wallbox)
    result = await _time_of_use(hass, charger)
    result = await _step(hass, result["flow_id"], {"next_step_id": "tou_add"})
    result = await _step(hass, result["flow_id"], {**MON_FRI, "days": [*WEEKDAYS, "holiday"]})
    assert result["description_placeholders"]["periods"] == (
        "- Montag-Freitag, Feiertag 07:00-22:00: 0.38 EUR/kWh"
    )


LEGACY_TARIFF = {
    "type": "time_of_use",
    "default_price": "0.30",
    "periods": [
        {"start": "22:00", "end": "00:00", "price": "0.22"},
        {"start": "07:00", "end": "18:00", "price": "0.38", "days": ["weekday"]},
        {"start": "10:00", "end": "16:00", "price": "0.28", "days": ["weekend", "holiday"]},
    ],
}


async def test_stored_schedule_migrates_to_days_of_the_week(
    hass: HomeAssistant, berlin: None, wallbox: VestelEVC04
) -> None:
    """Options 1.1 (no days, weekday/weekend) become explicit days with the same prices."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=1,
        data={"host": "127.0.0.1", "port": wallbox.port, "driver": "vestel_evc04"},
        options={CONF_SCAN_INTERVAL: 5, "tariff": LEGACY_TARIFF},
        unique_id="legacy",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    every_day = [*WEEKDAYS, *WEEKEND, "holiday"]
    assert entry.options == {
        CONF_SCAN_INTERVAL: 5,
        "tariff": {
            "type": "time_of_use",
            "default_price": "0.30",
            "periods": [
                {"start": "22:00", "end": "00:00", "price": "0.22", "days": every_day},
                {"start": "07:00", "end": "18:00", "price": "0.38", "days": WEEKDAYS},
                {"start": "10:00", "end": "16:00", "price": "0.28", "days": [*WEEKEND, "holiday"]},
            ],
        },
    }
    tariff = entry.runtime_data.sessions.pricing.tariff
    price_at = tariff.price_at
    # Tuesday 1 December 2026 and Saturday 5 December, Berlin (UTC+1).
    for local, price in (
        (datetime(2026, 12, 1, 8), "0.38"),
        (datetime(2026, 12, 1, 19), "0.30"),
        (datetime(2026, 12, 1, 23), "0.22"),
        (datetime(2026, 12, 5, 11), "0.28"),
        (datetime(2026, 12, 5, 8), "0.30"),
        (datetime(2026, 12, 5, 22, 30), "0.22"),
    ):
        assert price_at(local.replace(tzinfo=BERLIN).astimezone(UTC)) == Decimal(price), local
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_entry_from_a_newer_version_is_not_touched(hass: HomeAssistant) -> None:
    """Options written by a newer integration are left as they are, and not set up."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=2,
        data={"host": "127.0.0.1", "port": 1, "driver": "vestel_evc04"},
        options={"tariff": {"type": "time_of_use", "future": True}},
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert entry.options == {"tariff": {"type": "time_of_use", "future": True}}


def _next_weekday(after: date) -> date:
    day = after + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


HOLIDAY_TARIFF = {
    "type": "time_of_use",
    "default_price": "0.24",
    "periods": [
        {"days": WEEKDAYS, "start": "07:00", "end": "22:00", "price": "0.38"},
        {"days": ["holiday"], "start": "00:00", "end": "00:00", "price": "0.20"},
    ],
}


class HolidayCalendar(CalendarEntity):
    """A calendar of holidays, as Home Assistant's Holiday integration keeps one."""

    _attr_name = "Germany"

    def __init__(self, holiday: date) -> None:
        """One holiday."""
        self.holiday = holiday
        self.asked: list[tuple[datetime, datetime]] = []

    @property
    def event(self) -> CalendarEvent | None:
        """No event now."""
        return None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The holiday, as an all-day event, when asked for its days."""
        self.asked.append((start_date, end_date))
        event = CalendarEvent(
            start=self.holiday, end=self.holiday + timedelta(days=1), summary="Holiday"
        )
        return [event] if start_date.date() <= self.holiday < end_date.date() else []


async def _holiday_calendar(hass: HomeAssistant, holiday: date) -> HolidayCalendar:
    """A real calendar entity (calendar.germany) of a test integration, read through the
    calendar component's own `calendar.get_events` action."""
    calendar = HolidayCalendar(holiday)

    async def setup_platform(
        hass: HomeAssistant,
        config: ConfigType,
        add: AddEntitiesCallback,
        discovery_info: DiscoveryInfoType | None = None,
    ) -> None:
        add([calendar])

    mock_integration(hass, MockModule("holiday_test"))
    mock_platform(hass, "holiday_test.calendar", MockPlatform(async_setup_platform=setup_platform))
    assert await async_setup_component(hass, "calendar", {"calendar": {"platform": "holiday_test"}})
    await hass.async_block_till_done()
    assert hass.states.get("calendar.germany") is not None
    return calendar


@pytest.mark.parametrize("source", ["calendar.germany", "binary_sensor.workday_sensor"])
async def test_holidays_from_a_holiday_calendar_or_workday_sensor(
    hass: HomeAssistant, berlin: None, wallbox: VestelEVC04, add_device: AddDevice, source: str
) -> None:
    """A weekday the source calls a holiday is priced by the holiday period.

    The calendar is a real calendar entity read through the calendar component. Home
    Assistant's Workday integration needs the `holidays` library, which this toolchain does
    not have: its `workday.check_date` action is stood in for here, answering in its shape.
    """
    holiday = _next_weekday(dt_util.now().date())
    asked: list[Any] = []
    if source.startswith("calendar."):
        calendar = await _holiday_calendar(hass, holiday)
        asked = calendar.asked
    else:

        async def check_date(call: ServiceCall) -> ServiceResponse:
            asked.append(dict(call.data))
            return {source: {"workday": call.data["check_date"] != holiday}}

        hass.services.async_register(
            "workday", "check_date", check_date, None, SupportsResponse.ONLY
        )
        hass.states.async_set(
            "binary_sensor.workday_sensor", "on", {"workdays": WEEKDAYS, "excludes": WEEKEND}
        )
    charger = await add_device(wallbox)
    hass.config_entries.async_update_entry(
        charger, options={"tariff": {**HOLIDAY_TARIFF, "holiday_entity": source}}
    )
    assert await hass.config_entries.async_reload(charger.entry_id)
    await hass.async_block_till_done()
    tariff = charger.runtime_data.sessions.pricing.tariff
    assert tariff.holidays == {holiday}
    assert asked, "the holiday source was never asked"
    noon = datetime.combine(holiday, time(12), tzinfo=BERLIN)
    assert tariff.price_at(noon) == Decimal("0.20")
    assert tariff.price_at(noon - timedelta(days=7)) == Decimal("0.38")  # the same weekday


async def test_an_unreadable_holiday_source_prices_ordinary_days(
    hass: HomeAssistant,
    berlin: None,
    wallbox: VestelEVC04,
    add_device: AddDevice,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A holiday source that is gone: a warning, and the weekday prices, never a crash."""
    charger = await add_device(wallbox)
    hass.config_entries.async_update_entry(
        charger, options={"tariff": {**HOLIDAY_TARIFF, "holiday_entity": "calendar.gone"}}
    )
    assert await hass.config_entries.async_reload(charger.entry_id)
    await hass.async_block_till_done()
    assert charger.state is ConfigEntryState.LOADED
    assert charger.runtime_data.sessions.pricing.tariff.holidays == frozenset()
    assert "Holidays from calendar.gone cannot be read" in caplog.text


async def test_seasons_each_step_and_error(
    hass: HomeAssistant, berlin: None, wallbox: VestelEVC04, add_device: AddDevice
) -> None:
    """Winter and summer weekday prices: seasons added, checked, used, refused removal."""
    charger = await add_device(wallbox)
    result = await _time_of_use(hass, charger)
    flow_id = result["flow_id"]
    result = await _step(hass, flow_id, {"next_step_id": "tou_season_add"})
    assert set(result["data_schema"].schema) == {"name", "first", "last"}
    for wrong, errors in (
        ({"first": "11-01", "last": "02-29"}, {"name": "season_name_required"}),
        ({"name": "Winter", "first": "11", "last": "02-29"}, {"first": "invalid_day"}),
        ({"name": "Winter", "first": "11-01", "last": "02-30"}, {"last": "invalid_day"}),
    ):
        result = await _step(hass, flow_id, wrong)
        assert result["errors"] == errors, wrong
    result = await _step(hass, flow_id, {"name": "Winter", "first": "11-01", "last": "2-29"})
    assert result["description_placeholders"]["seasons"] == "Winter: 11-01 - 02-29"
    assert "tou_season_remove" in result["menu_options"]
    result = await _step(hass, flow_id, {"next_step_id": "tou_season_add"})
    result = await _step(hass, flow_id, {"name": "Winter", "first": "03-01", "last": "10-31"})
    assert result["errors"] == {"name": "season_exists"}
    result = await _step(hass, flow_id, {"name": "Summer", "first": "02-01", "last": "10-31"})
    assert result["errors"] == {"base": "season_overlaps"}
    result = await _step(hass, flow_id, {"name": "Summer", "first": "03-01", "last": "10-31"})

    # The same weekday hours in each season are no overlap; all year would be.
    result = await _step(hass, flow_id, {"next_step_id": "tou_add"})
    assert "season" in {str(key) for key in result["data_schema"].schema}
    result = await _step(hass, flow_id, {**MON_FRI, "season": "Winter"})
    result = await _step(hass, flow_id, {"next_step_id": "tou_add"})
    result = await _step(hass, flow_id, {**MON_FRI, "price": 0.30})
    assert result["errors"] == {"base": "period_overlaps"}
    assert result["description_placeholders"] == {
        "other": "Monday-Friday 07:00-22:00 (Winter): 0.38 EUR/kWh"
    }
    result = await _step(hass, flow_id, {**MON_FRI, "price": 0.30, "season": "Summer"})
    assert result["step_id"] == "time_of_use"

    # A season in use stays.
    result = await _step(hass, flow_id, {"next_step_id": "tou_season_remove"})
    result = await _step(hass, flow_id, {"seasons": ["Winter"]})
    assert result["errors"] == {"seasons": "season_in_use"}
    result = await _step(hass, flow_id, {"seasons": []})
    result = await _step(hass, flow_id, {"next_step_id": "tou_save"})
    assert charger.options["tariff"] == {
        "type": "time_of_use",
        "periods": [
            {
                "days": WEEKDAYS,
                "start": "07:00",
                "end": "22:00",
                "price": "0.38",
                "season": "Winter",
            },
            {
                "days": WEEKDAYS,
                "start": "07:00",
                "end": "22:00",
                "price": "0.3",
                "season": "Summer",
            },
        ],
        "seasons": [
            {"name": "Winter", "first": "11-01", "last": "02-29"},
            {"name": "Summer", "first": "03-01", "last": "10-31"},
        ],
    }
    tariff = charger.runtime_data.sessions.pricing.tariff
    # Wednesday 14 January and Tuesday 14 July 2026, 08:00 Berlin; a Saturday has no price.
    assert tariff.price_at(datetime(2026, 1, 14, 8, tzinfo=BERLIN)) == Decimal("0.38")
    assert tariff.price_at(datetime(2026, 7, 14, 8, tzinfo=BERLIN)) == Decimal("0.30")
    assert tariff.price_at(datetime(2026, 7, 18, 8, tzinfo=BERLIN)) is None

    # An unused season can go.
    result = await _time_of_use(hass, charger)
    result = await _step(hass, result["flow_id"], {"next_step_id": "tou_remove"})
    result = await _step(hass, result["flow_id"], {"period": ["1"]})
    result = await _step(hass, result["flow_id"], {"next_step_id": "tou_season_remove"})
    result = await _step(hass, result["flow_id"], {"seasons": ["Summer", "Winter"]})
    assert result["errors"] == {"seasons": "season_in_use"}
    result = await _step(hass, result["flow_id"], {"seasons": ["Summer"]})
    assert result["description_placeholders"]["seasons"] == "Winter: 11-01 - 02-29"
