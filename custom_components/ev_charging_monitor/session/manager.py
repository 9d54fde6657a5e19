"""Home Assistant glue for one charger's sessions: checkpoints, events, history."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, LOGGER
from ..devices import Identity, Reading
from ..energy_source import (
    EnergySource,
    EnergySourceKind,
    async_energy_resolution_wh,
    async_read_energy_wh,
    billing_energy_source,
)
from ..ledger_link.history import SessionHistory
from ..pricing.cost import PRICE_MISSING, SessionCost
from ..pricing.price_entity import SessionPricing
from .late import TimedTransaction, complete_late, late_session_id
from .plausibility import IDLE_POWER_W
from .record import decimal_text, session_record
from .tracker import FLAG_RECOVERED, ActiveSession, CompletedSession, SessionTracker

if TYPE_CHECKING:
    # The coordinator imports this module.
    from ..coordinator import EVChargingConfigEntry

EVENT_SESSION_STARTED = f"{DOMAIN}_session_started"
EVENT_SESSION_ENDED = f"{DOMAIN}_session_ended"
CHECKPOINT_VERSION = 1
# A running session is written at every state change and at least this often.
CHECKPOINT_DELAY_S = 60
CONF_RECONCILIATION_PCT = "reconciliation_threshold_pct"
# Class 1 meters may each be off by 1 %, plus timing of the two polls.
DEFAULT_RECONCILIATION_PCT = 2.5


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _seconds(value: object) -> float | None:
    """A counter from a reading's extras, if it is a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True, kw_only=True)
class PlugCycle:
    """A new plug cycle began: a car was plugged in (seen, or found after a restart).

    `previous_session_id` is the session it ended, if one was still open (a car swapped
    while Home Assistant was down). Whatever belonged to the previous plug cycle (an
    authorization, a card) must end here.
    """

    session_id: str
    previous_session_id: str | None
    started_at: datetime
    recovered: bool


type PlugCycleListener = Callable[[PlugCycle], None]


class ChargerSessions:
    """Feeds a charger's readings to its tracker and persists what comes out."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        *,
        history: SessionHistory,
        max_power_w: float,
        pricing: SessionPricing,
        identity_fn: Callable[[], Identity],
        resolution_wh: Decimal | None = None,
    ) -> None:
        """One per charger config entry; `resolution_wh`: the charger register's step."""
        self.hass = hass
        self.entry = entry
        self.history = history
        self.tracker = SessionTracker(
            max_power_w=max_power_w,
            resolution_wh=resolution_wh,
            device_resolution_wh=resolution_wh,
            boundary_fn=pricing.next_boundary,
        )
        self.device_resolution_wh = resolution_wh
        # The clock durations are measured with; a test may drive it.
        self.monotonic: Callable[[], float] = lambda: time.monotonic()
        self._plug_listeners: list[PlugCycleListener] = []
        self.pricing = pricing
        self.identity_fn = identity_fn
        self.last_record: dict[str, Any] | None = None
        self.live_cost: SessionCost | None = None
        self.current_price: Decimal | None = None
        # Set by authorization: who the ending session is attributed to.
        self.authorization_fn: Callable[[], dict[str, Any]] | None = None
        # The charger's built-in meter, where the charger names it (OCPP BootNotification).
        self.meter_identity_fn: Callable[[], Identity | None] | None = None
        # Signed meter values (OCMF) the charger sent for the session that ends now.
        self.signed_values_fn: Callable[[], list[dict[str, Any]]] | None = None
        self._saved_at = 0.0
        self._checkpoint: Store[dict[str, Any]] = Store(
            hass, CHECKPOINT_VERSION, f"{DOMAIN}.{entry.entry_id}.session"
        )

    @property
    def active(self) -> ActiveSession | None:
        """The session in progress, if any."""
        return self.tracker.active

    def async_listen_plug_cycle(self, listener: PlugCycleListener) -> Callable[[], None]:
        """Call `listener` at every new plug cycle (also one found after a restart)."""
        self._plug_listeners.append(listener)
        return lambda: self._plug_listeners.remove(listener)

    async def async_restore(self) -> None:
        """Resume the checkpointed session after a restart or crash."""
        data = await self._checkpoint.async_load()
        if data is None or data.get("session") is None:
            return
        session = ActiveSession.from_dict(data["session"])
        if self.history.has(session.id):
            return  # recorded just before the crash; the checkpoint was not cleared yet
        clean = bool(data.get("clean"))
        self.tracker.restore(session, clean=clean)
        LOGGER.info(
            "Resumed charging session %s of %s (%s shutdown)",
            session.id,
            self.entry.title,
            "clean" if clean else "unclean",
        )
        # From now on a crash must be seen as unclean.
        await self._save(clean=False)

    def _data(self, *, clean: bool) -> dict[str, Any]:
        active = self.tracker.active
        return {"session": None if active is None else active.to_dict(), "clean": clean}

    async def _save(self, *, clean: bool) -> None:
        self._saved_at = self.hass.loop.time()
        await self._checkpoint.async_save(self._data(clean=clean))

    async def async_process(self, reading: Reading, now: datetime) -> None:
        """Take one poll of the charger."""
        identity = self.identity_fn()
        source = billing_energy_source(self.hass, self.entry)
        mono = self.monotonic()
        paired = True
        lag_s = 0.0
        if source.external:
            fresh = self.tracker.needs_fresh_register(mono)
            energy, paired = await self._external_energy(source, reading, fresh=fresh)
            if fresh:
                # The meter was read after the charger's counters, by the time its poll took.
                lag_s = max(self.monotonic() - mono, 0.0)
        else:
            energy = reading.energy
        self.tracker.resolution_wh = (
            async_energy_resolution_wh(self.hass, source)
            if source.external
            else self.device_resolution_wh
        )
        previous = self.tracker.active
        started, ended = self.tracker.update(
            now=now,
            mono=mono,
            state=reading.state,
            energy_wh=energy,
            power_w=reading.power,
            rfid=reading.rfid,
            device_session_wh=reading.session_energy,
            device_energy_wh=reading.energy,
            device_charging_s=_seconds(reading.extra.get("charging_time")),
            billing_paired=paired,
            billing_lag_s=lag_s,
        )
        if source.external:
            reference = _decimal(reading.energy)
            if self.tracker.active is not None:
                self.tracker.active.note_reference(reference)
            if ended is not None:
                ended.session.note_reference(reference)
        if ended is not None:
            await self._record(ended, identity)
        if started is not None:
            self._announce_plug_cycle(started, None if previous is None else previous.id)
            self.hass.bus.async_fire(
                EVENT_SESSION_STARTED,
                {
                    "entry_id": self.entry.entry_id,
                    "session_id": started.id,
                    "charger_serial": identity.serial,
                    "started_at": started.started_at.isoformat(),
                    # A decimal string, as in the record (one type per field).
                    "meter_start_wh": decimal_text(started.meter_start_wh),
                },
            )
        # Store's delayed save postpones itself while calls keep coming, so with a poll
        # every few seconds it would never write: time the periodic checkpoint here.
        due = self.hass.loop.time() - self._saved_at >= CHECKPOINT_DELAY_S
        if started is not None or ended is not None or (self.tracker.active and due):
            await self._save(clean=False)
        # Priced once per poll here, not by each entity that shows it; a price that
        # cannot be had leaves the live cost unknown and touches nothing else.
        active = self.tracker.active
        self.live_cost = None if active is None else self._cost(active)
        try:
            self.current_price = self.pricing.current_price(now)
        except Exception:  # pricing must never stop a poll
            LOGGER.exception("The current price of %s could not be had", self.entry.title)
            self.current_price = None

    async def _external_energy(
        self, source: EnergySource, charger: Reading, *, fresh: bool
    ) -> tuple[float | None, bool]:
        """The billing register of another device or entity, in Wh, and whether it is of
        the same moment as the charger's `reading` (read afresh, or both read while no
        energy flowed).

        A meter entry's shown register holds a reset or jump back (unknown) until it is
        confirmed; the tracker confirms it itself and counts from the first reading on
        the new track, so it reads the meter's registers before they are held back.
        `fresh`: read the meter entry now rather than take its last poll (up to a scan
        interval old), so its register and the charger's counters are of one moment.
        """
        if source.kind is not EnergySourceKind.METER_ENTRY:
            return async_read_energy_wh(self.hass, source), False
        entry: EVChargingConfigEntry | None = self.hass.config_entries.async_get_entry(
            source.entry_id
        )
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            return None, False
        live = entry.runtime_data.live
        if fresh:
            # The meter's own coordinator fetches; a failure leaves it unavailable (None).
            await live.async_refresh()
        if not live.last_update_success or live.checked is None:
            return None, False
        meter = live.checked
        idle = all(
            power is not None and abs(power) < IDLE_POWER_W
            for power in (meter.power, charger.power)
        )
        return meter.energy, fresh or idle

    def late_session_id(self, key: str) -> str:
        """The id the session of a late transaction gets: the open session's, if one runs
        (the same plug cycle, seen live until the charger went quiet), else one made from
        `key` (the same for every retry of the transaction)."""
        active = self.tracker.active
        return active.id if active is not None else late_session_id(key)

    async def async_record_late(
        self, transaction: TimedTransaction, authorization: dict[str, Any] | None = None
    ) -> None:
        """Record a transaction whose messages came late, at the times they name (late.py).

        Once only: a transaction sent again (its confirmation was lost) finds its session
        recorded. `authorization`: whom the transaction's id tag named when it started.
        """
        if self.history.has(transaction.session_id):
            return
        active = self.tracker.active
        if active is not None and active.id != transaction.session_id:
            active = None  # a newer plug cycle than the transaction's: left to the tracker
        completed = complete_late(active, transaction, resolution_wh=self.tracker.resolution_wh)
        if active is not None:
            self.tracker.close(completed.ended_at, completed.end_reason)
        if transaction.hold_until_unplug:
            self.tracker.hold_until_unplug()
        await self._record(completed, self.identity_fn(), authorization=authorization)
        await self._save(clean=False)
        self.live_cost = None

    def _announce_plug_cycle(self, started: ActiveSession, previous_id: str | None) -> None:
        cycle = PlugCycle(
            session_id=started.id,
            previous_session_id=previous_id,
            started_at=started.started_at,
            recovered=FLAG_RECOVERED in started.flags,
        )
        for listener in list(self._plug_listeners):
            try:
                listener(cycle)
            except Exception:  # one listener must not stop the others
                LOGGER.exception("A plug-cycle listener of %s failed", self.entry.title)

    def _cost(self, session: ActiveSession) -> SessionCost | None:
        try:
            return self.pricing.cost(session)
        except Exception:  # an unpriced session is recorded, flagged
            LOGGER.exception("Session %s could not be priced", session.id)
            return None

    async def _record(
        self,
        ended: CompletedSession,
        identity: Identity,
        *,
        authorization: dict[str, Any] | None = None,
    ) -> None:
        # Nothing but the history store may stop a finished session from being recorded:
        # a price or an attribution that fails leaves the record without it, flagged.
        cost = self._cost(ended.session)
        cost_record: dict[str, Any] | None = None
        cost_flags = [PRICE_MISSING]
        if cost is not None:
            try:
                cost_record, cost_flags = cost.to_record(), list(cost.flags)
            except Exception:  # see above
                LOGGER.exception("The cost of session %s could not be written", ended.session.id)
        if authorization is None:
            authorization = {"method": "none"}
            if self.authorization_fn is not None:
                try:
                    authorization = self.authorization_fn()
                except Exception:  # see above
                    LOGGER.exception("Session %s could not be attributed", ended.session.id)
        signed: list[dict[str, Any]] = []
        if self.signed_values_fn is not None:
            try:
                signed = self.signed_values_fn()
            except Exception:  # see above
                LOGGER.exception("The signed values of session %s were lost", ended.session.id)
        source = billing_energy_source(self.hass, self.entry)
        reconciliation, flags = self._reconcile(ended)
        record = session_record(
            ended,
            charger=identity,
            charger_name=self.entry.title,
            meter=self._meter_identity(source, identity),
            meter_source="external" if source.external else "charger",
            time_zone=str(self.hass.config.time_zone),
            cost=cost_record,
            authorization=authorization,
            extra_flags=[*flags, *cost_flags],
            reconciliation=reconciliation,
            signed_meter_values=signed,
        )
        stored = await self.history.async_add(record)
        self.last_record = stored
        self.hass.bus.async_fire(EVENT_SESSION_ENDED, stored)
        LOGGER.info(
            "Charging session %s of %s ended (%s): %s Wh",
            ended.session.id,
            self.entry.title,
            ended.end_reason,
            stored["energy_wh"],
        )

    def _meter_identity(self, source: EnergySource, charger: Identity) -> Identity:
        if source.kind is EnergySourceKind.METER_ENTRY:
            meter = self.hass.config_entries.async_get_entry(source.entry_id)
            if meter is not None and getattr(meter, "runtime_data", None) is not None:
                identity: Identity = meter.runtime_data.identity.data
                return identity
            return Identity(manufacturer="unknown", model=source.entry_id)
        if source.kind is EnergySourceKind.SENSOR:
            return Identity(manufacturer="Home Assistant sensor", model=str(source.entity_id))
        if self.meter_identity_fn is not None and (built_in := self.meter_identity_fn()):
            return built_in
        return charger

    def _reconcile(self, ended: CompletedSession) -> tuple[dict[str, str] | None, list[str]]:
        """Compare the billed energy with the second meter's; flag a large deviation."""
        session = ended.session
        if session.reference is None:
            return None, []
        second = session.reference[1] - session.reference[0]
        billed = session.energy_wh
        deviation = (
            Decimal(0)
            if billed == second
            else ((second - billed) / billed * 100 if billed else Decimal(100))
        )
        threshold = Decimal(
            str(self.entry.options.get(CONF_RECONCILIATION_PCT, DEFAULT_RECONCILIATION_PCT))
        )
        flags = ["meter_discrepancy"] if abs(deviation) > threshold else []
        return {
            "external_energy_wh": decimal_text(second),
            "deviation_pct": decimal_text(deviation.quantize(Decimal("0.01"))),
        }, flags

    async def async_shutdown(self) -> None:
        """Mark the checkpoint as written by a clean shutdown."""
        await self._save(clean=True)


def now_utc() -> datetime:
    """The time base of sessions: aware UTC."""
    return dt_util.utcnow()
