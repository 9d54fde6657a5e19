"""A calendar per charger: each recorded session is an event.

The events come from the session history (the ledger's outbox), so the calendar shows what
the history holds: every unacknowledged session and a recent window of acknowledged ones.
A session in progress is the calendar's current event, so the calendar is on while a car
is plugged in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import EVChargingConfigEntry
from .entity import device_key
from .ledger_link.history import SessionHistory
from .ledger_link.websocket_api import HISTORY
from .session.manager import ChargerSessions, PlugCycle
from .totals import Record, SelectFn, ended_at, energy_kwh, of_charger, person_name, started_at

PARALLEL_UPDATES = 0
SESSIONS = CalendarEntityDescription(key="sessions", translation_key="sessions")
# A running session's event reaches this far past now; the calendar renews it when it ends.
RUNNING_HORIZON = timedelta(minutes=15)
# An event needs an end after its start: a session that ended where it started lasts this.
MIN_DURATION = timedelta(seconds=1)

_TEXT = f"component.{DOMAIN}.exceptions"
# Texts if the translations cannot be had (the keys are in strings.json).
_FALLBACK = {
    "calendar_summary": "Charging {energy} kWh",
    "calendar_running": "Charging",
    "calendar_energy": "Energy: {energy} kWh",
    "calendar_cost": "Cost: {cost} {currency}",
    "calendar_unpriced": "Cost: unknown (no price)",
    "calendar_person": "Person: {person}",
    "calendar_vehicle": "Vehicle: {vehicle}",
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EVChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A chargers' calendar (meters record no sessions)."""
    if (sessions := entry.runtime_data.sessions) is None:
        return
    async_add_entities([SessionCalendar(hass, entry, sessions)])


def shown_end(start: datetime, end: datetime) -> datetime:
    """An end Home Assistant accepts for an event from `start` to `end`.

    Home Assistant checks an event's duration on local wall-clock times, so a session
    from 02:20 summer time to 02:10 winter time (50 minutes, in the night the clocks go
    back) would be refused as negative. Such an event is shown until just after the
    start's wall-clock time in the repeated hour instead (never shorter than it was).
    """
    start_local, end_local = dt_util.as_local(start), dt_util.as_local(end)
    wall_start = start_local.replace(tzinfo=None)
    if end_local.replace(tzinfo=None) - wall_start >= MIN_DURATION:
        return end_local
    repeated = (wall_start + MIN_DURATION).replace(tzinfo=start_local.tzinfo, fold=1)
    return max(end_local, dt_util.as_local(repeated), key=dt_util.as_utc)


def kwh_text(energy: Decimal) -> str:
    """kWh with three decimals: the record's Wh, exactly."""
    return f"{energy.quantize(Decimal('0.001'))}"


class SessionCalendar(CalendarEntity):
    """The charger's sessions as events."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, hass: HomeAssistant, entry: EVChargingConfigEntry, sessions: ChargerSessions
    ) -> None:
        """Show the sessions of `entry` from the instance's history."""
        self.entity_description = SESSIONS
        self._history: SessionHistory = hass.data[HISTORY]
        self._sessions = sessions
        identity = entry.runtime_data.identity.data
        self._select: SelectFn = of_charger(identity.serial, entry.title)
        self._attr_unique_id = f"{device_key(entry)}_{SESSIONS.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, device_key(entry))})
        self._texts = dict(_FALLBACK)

    async def async_added_to_hass(self) -> None:
        """Follow sessions starting and being recorded."""
        await super().async_added_to_hass()
        await self._load_texts()
        self.async_on_remove(self._history.async_subscribe(self._recorded))
        self.async_on_remove(self._sessions.async_listen_plug_cycle(self._started))

    async def _load_texts(self) -> None:
        found = await async_get_translations(
            self.hass, self.hass.config.language, "exceptions", {DOMAIN}
        )
        for key in _FALLBACK:
            if (text := found.get(f"{_TEXT}.{key}.message")) is not None:
                self._texts[key] = text

    @callback
    def _recorded(self, _records: list[Record]) -> None:
        # A session ended (maybe this charger's, maybe announced as a stand-in): the
        # calendar's current event ends with it.
        self.async_write_ha_state()

    @callback
    def _started(self, _cycle: PlugCycle) -> None:
        self.async_write_ha_state()

    @property
    def event(self) -> CalendarEvent | None:
        """The session in progress, if a car is plugged in."""
        active = self._sessions.active
        if active is None:
            return None
        now = dt_util.utcnow()
        return CalendarEvent(
            start=dt_util.as_local(active.started_at),
            end=shown_end(active.started_at, max(now, active.started_at) + RUNNING_HORIZON),
            summary=self._texts["calendar_running"],
            uid=active.id,
        )

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The recorded sessions that overlap the range, oldest first."""
        events = []
        for record in self._history.after(0, self._history.last_seq + 1):
            if not self._select(record):
                continue
            event = self._event(record)
            if event is not None and event.start < end_date and event.end > start_date:
                events.append(event)
        events.sort(key=lambda event: (event.start, event.uid or ""))
        return events

    def _event(self, record: Record) -> CalendarEvent | None:
        begin, end, energy = started_at(record), ended_at(record), energy_kwh(record)
        if begin is None or end is None or energy is None:
            return None  # the ledger quarantines such a record; the calendar skips it
        texts = self._texts
        energy_text = kwh_text(energy)
        lines = [texts["calendar_energy"].format(energy=energy_text)]
        cost = record.get("cost")
        total = cost.get("total") if isinstance(cost, dict) else None
        if isinstance(total, str) and isinstance(cost, dict):
            lines.append(texts["calendar_cost"].format(cost=total, currency=cost.get("currency")))
        else:
            lines.append(texts["calendar_unpriced"])
        if (person := person_name(record)) is not None:
            lines.append(texts["calendar_person"].format(person=person))
        authorization = record.get("authorization")
        vehicle = authorization.get("vehicle") if isinstance(authorization, dict) else None
        if isinstance(vehicle, str) and vehicle:
            lines.append(texts["calendar_vehicle"].format(vehicle=vehicle))
        return CalendarEvent(
            start=dt_util.as_local(begin),
            end=shown_end(begin, max(end, begin + MIN_DURATION)),
            summary=texts["calendar_summary"].format(energy=energy_text),
            description="\n".join(lines),
            uid=str(record.get("id")),
        )
