"""Public holidays for time-of-use tariffs, from Home Assistant's own holiday sources.

A Workday binary sensor (its `workday.check_date` action: a day of its work week that is not
a workday is a holiday) or a Holiday calendar (its events, via `calendar.get_events`). Only
the days around now are asked for: a session running now, and the week ahead.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from .const import LOGGER

DAYS_BEFORE = 3  # a long session that started before today is still priced by its days
DAYS_AFTER = 9
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def holiday_window(today: date) -> list[date]:
    """The days whose holiday status a tariff needs around `today`."""
    return [today + timedelta(days=offset) for offset in range(-DAYS_BEFORE, DAYS_AFTER + 1)]


async def async_holidays(hass: HomeAssistant, entity_id: str, today: date) -> frozenset[date]:
    """The holidays around `today` per `entity_id`; none (and a warning) if it cannot say."""
    try:
        if entity_id.startswith("calendar."):
            return await _calendar_holidays(hass, entity_id, today)
        if entity_id.startswith("binary_sensor."):
            return await _workday_holidays(hass, entity_id, today)
        raise HomeAssistantError(f"{entity_id} is neither a calendar nor a workday sensor")
    except (HomeAssistantError, KeyError, TypeError, ValueError) as err:
        LOGGER.warning(
            "Holidays from %s cannot be read (%s); days are priced as ordinary days",
            entity_id,
            err,
        )
        return frozenset()


async def _calendar_holidays(hass: HomeAssistant, entity_id: str, today: date) -> frozenset[date]:
    days = holiday_window(today)
    response: Any = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": entity_id,
            "start_date_time": dt_util.start_of_local_day(days[0]),
            "end_date_time": dt_util.start_of_local_day(days[-1] + timedelta(days=1)),
        },
        blocking=True,
        return_response=True,
    )
    events: list[dict[str, Any]] = (response or {})[entity_id]["events"]
    holidays = set()
    for event in events:
        first, end = _day(event["start"]), _day(event["end"])
        # An all-day event ends on the day after its last day.
        day = first
        while day < max(end, first + timedelta(days=1)):
            holidays.add(day)
            day += timedelta(days=1)
    return frozenset(holidays)


async def _workday_holidays(hass: HomeAssistant, entity_id: str, today: date) -> frozenset[date]:
    state = hass.states.get(entity_id)
    if state is None:
        raise HomeAssistantError(f"{entity_id} does not exist")
    workdays = set(state.attributes.get("workdays") or _WEEKDAYS[:5])
    holidays = set()
    for day in holiday_window(today):
        if _WEEKDAYS[day.weekday()] not in workdays:
            continue  # the weekend is not a holiday; its own periods apply
        response: Any = await hass.services.async_call(
            "workday",
            "check_date",
            {"check_date": day},
            target={"entity_id": entity_id},
            blocking=True,
            return_response=True,
        )
        if not (response or {})[entity_id]["workday"]:
            holidays.add(day)
    return frozenset(holidays)


def _day(value: Any) -> date:
    """An event's start or end: a date ("2026-12-25") or a time (its local date)."""
    if isinstance(value, datetime):
        return dt_util.as_local(value).date()
    if isinstance(value, date):
        return value
    text = str(value)
    if len(text) == 10:
        return date.fromisoformat(text)
    return dt_util.as_local(datetime.fromisoformat(text)).date()
