"""Totals over recorded sessions: each person's month and year, each charger's cost.

Per person (a person subentry of the Authorization entry): energy and cost of this month and
of this year, state class total with `last_reset` at the period's start in the home time
zone, so statistics cards and the Energy dashboard's tools can use them. Per charger: the
cost of every session it recorded. Each total is kept exact (Decimal) with the position in
the session history it has read; both are restored after a restart, and what the history
recorded since is counted then, so nothing is counted twice or lost (see `totals.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorExtraStoredData,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import UnitOfEnergy
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .authorization.subentries import SUBENTRY_PERSON
from .const import DOMAIN, LOGGER
from .coordinator import EVChargingConfigEntry
from .entity import device_key
from .ledger_link.history import SessionHistory
from .ledger_link.websocket_api import HISTORY
from .totals import (
    AmountFn,
    Period,
    Record,
    RunningTotal,
    SelectFn,
    cost_in,
    energy_kwh,
    next_period_start,
    of_charger,
    of_person,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class TotalSensorDescription(SensorEntityDescription):
    """A total: over which period, and what a session adds to it."""

    period: Period
    amount_fn: Callable[[str], AmountFn]  # by currency
    state_class: SensorStateClass = SensorStateClass.TOTAL


def _energy(_currency: str) -> AmountFn:
    return energy_kwh


def _energy_total(key: str, period: Period) -> TotalSensorDescription:
    return TotalSensorDescription(
        key=key,
        translation_key=key,
        period=period,
        amount_fn=_energy,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
    )


def _cost_total(key: str, period: Period) -> TotalSensorDescription:
    # The unit is the instance's currency, set per entity.
    return TotalSensorDescription(
        key=key,
        translation_key=key,
        period=period,
        amount_fn=cost_in,
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
    )


PERSON_SENSORS: tuple[TotalSensorDescription, ...] = (
    _energy_total("energy_month", Period.MONTH),
    _energy_total("energy_year", Period.YEAR),
    _cost_total("cost_month", Period.MONTH),
    _cost_total("cost_year", Period.YEAR),
)
CHARGER_TOTAL_COST = _cost_total("total_cost", Period.ALL)


class TotalSensor(RestoreSensor):
    """One running total over the session history."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: TotalSensorDescription

    def __init__(
        self,
        *,
        description: TotalSensorDescription,
        history: SessionHistory,
        select: SelectFn,
        currency: str,
        unique_id: str,
        device_info: DeviceInfo,
    ) -> None:
        """A total of the sessions `select` picks from `history`."""
        self.entity_description = description
        self._history = history
        self._select = select
        self._amount = description.amount_fn(currency)
        self._attr_unique_id = unique_id
        self._attr_device_info = device_info
        if description.device_class is SensorDeviceClass.MONETARY:
            self._attr_native_unit_of_measurement = currency
        self._total = RunningTotal.begin(description.period, dt_util.utcnow(), _tz())
        self._unsub_rollover: CALLBACK_TYPE | None = None

    @property
    def native_value(self) -> Decimal:
        """The exact sum."""
        return self._total.value

    @property
    def last_reset(self) -> datetime | None:
        """The start of this month or year in the home time zone."""
        return self._total.start

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """How many sessions of the period had no price (a cost leaves them out)."""
        if self.entity_description.device_class is not SensorDeviceClass.MONETARY:
            return None
        return {"unpriced_sessions": self._total.missing}

    @property
    def extra_restore_state_data(self) -> TotalExtraData:
        """The exact total and its history position, for the next start."""
        return TotalExtraData(self._total)

    async def async_added_to_hass(self) -> None:
        """Continue from the saved total, count what was recorded since, then follow."""
        await super().async_added_to_hass()
        period = self.entity_description.period
        if (extra := await self.async_get_last_extra_data()) is not None:
            data = extra.as_dict()
            restored = RunningTotal.from_dict(data.get("total") or {}, period)
            if restored is None:
                LOGGER.warning("%s: the saved total is unreadable; counting anew", self.entity_id)
            else:
                self._total = restored
        if self._total.seq > self._history.last_seq:
            # The history is older than the total (its store was replaced): follow it from
            # where it is now, or every new session would look already counted.
            LOGGER.warning(
                "%s: the session history ends at %s, before this total (%s); it continues "
                "from the history's end",
                self.entity_id,
                self._history.last_seq,
                self._total.seq,
            )
            self._total.seq = self._history.last_seq
        self._total.roll(dt_util.utcnow(), _tz())
        self._take(self._history.after(self._total.seq, self._history.last_seq + 1))
        self.async_on_remove(self._history.async_subscribe(self._recorded))
        self._schedule_rollover()
        self.async_on_remove(self._cancel_rollover)

    def _take(self, records: list[Record]) -> bool:
        changed = False
        for record in records:
            try:
                changed |= self._total.take(record, self._select, self._amount)
            except Exception:  # one unreadable record must not stop the total
                LOGGER.exception("%s: session %s not counted", self.entity_id, record.get("id"))
        return changed

    @callback
    def _recorded(self, _records: list[Record]) -> None:
        # Read from the history itself: what is announced may be a stand-in for a record
        # too large for one message.
        rolled = self._total.roll(dt_util.utcnow(), _tz())
        recorded = self._history.after(self._total.seq, self._history.last_seq + 1)
        if self._take(recorded) or rolled:
            self.async_write_ha_state()

    def _schedule_rollover(self) -> None:
        when = next_period_start(self.entity_description.period, dt_util.utcnow(), _tz())
        if when is not None:
            self._unsub_rollover = async_track_point_in_utc_time(self.hass, self._rollover, when)

    @callback
    def _cancel_rollover(self) -> None:
        if self._unsub_rollover is not None:
            self._unsub_rollover()
            self._unsub_rollover = None

    @callback
    def _rollover(self, now: datetime) -> None:
        self._unsub_rollover = None
        self._total.roll(max(now, dt_util.utcnow()), _tz())
        self.async_write_ha_state()
        self._schedule_rollover()


class TotalExtraData(SensorExtraStoredData):
    """The sensor's restore data plus the exact total."""

    def __init__(self, total: RunningTotal) -> None:
        """Wrap `total`."""
        super().__init__(total.value, None)
        self.total = total

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {**super().as_dict(), "total": self.total.to_dict()}


def _tz() -> Any:
    return dt_util.get_default_time_zone()


def charger_total_sensors(hass: HomeAssistant, entry: EVChargingConfigEntry) -> list[TotalSensor]:
    """The charger's total cost, if it records sessions."""
    if entry.runtime_data.sessions is None:
        return []
    identity = entry.runtime_data.identity.data
    return [
        TotalSensor(
            description=CHARGER_TOTAL_COST,
            history=hass.data[HISTORY],
            select=of_charger(identity.serial, entry.title),
            currency=hass.config.currency,
            unique_id=f"{device_key(entry)}_{CHARGER_TOTAL_COST.key}",
            device_info=DeviceInfo(identifiers={(DOMAIN, device_key(entry))}),
        )
    ]


def _person_id(subentry: ConfigSubentry) -> str:
    """The person's own id (what session records name), kept across renames."""
    return str(subentry.data.get("id") or subentry.unique_id or subentry.subentry_id)


def _person_key(subentry: ConfigSubentry) -> str:
    return f"person_{_person_id(subentry)}"


def async_setup_person_sensors(
    hass: HomeAssistant, entry: ConfigEntry[Any], async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Each person subentry gets its totals; a person added later gets them then."""
    added: set[str] = set()

    @callback
    def add_new() -> None:
        for subentry_id, subentry in entry.subentries.items():
            if subentry.subentry_type != SUBENTRY_PERSON or subentry_id in added:
                continue
            added.add(subentry_id)
            person_id = _person_id(subentry)
            device = DeviceInfo(
                identifiers={(DOMAIN, _person_key(subentry))},
                name=subentry.title,
                entry_type=DeviceEntryType.SERVICE,
            )
            async_add_entities(
                [
                    TotalSensor(
                        description=description,
                        history=hass.data[HISTORY],
                        select=of_person(person_id),
                        currency=hass.config.currency,
                        unique_id=f"person_{person_id}_{description.key}",
                        device_info=device,
                    )
                    for description in PERSON_SENSORS
                ],
                config_subentry_id=subentry_id,
            )

    async def subentries_changed(_hass: HomeAssistant, _entry: ConfigEntry[Any]) -> None:
        added.intersection_update(entry.subentries)
        add_new()
        # A renamed person: their device follows (unless the user named it themselves).
        devices = dr.async_get(hass)
        for subentry_id in added:
            subentry = entry.subentries[subentry_id]
            device = devices.async_get_device_by_identifier(
                (DOMAIN, _person_key(subentry)), entry.entry_id
            )
            if device is not None and device.name != subentry.title:
                devices.async_update_device(device.id, name=subentry.title)

    add_new()
    entry.async_on_unload(entry.add_update_listener(subentries_changed))
