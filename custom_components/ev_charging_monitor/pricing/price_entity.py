"""Home Assistant glue for pricing: the price sensor followed, the tariff a session uses.

A price feed can never break a session: prices from a sensor go into a `PriceBook` (the
newest publication wins where lists overlap), which is kept in a Store so a restart keeps
the prices a running session needs. Pricing never raises into the poll: a session that
cannot be priced is recorded unpriced and flagged `price_missing`, and a repair issue says
why until prices flow again.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_time_change,
)
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, LOGGER
from ..holidays import async_holidays
from ..session.tracker import ActiveSession
from .boundaries import next_boundary
from .cost import PRICE_MISSING, SessionCost, session_cost
from .options import CONF_TARIFF, static_tariff
from .points import PriceBook
from .prices import current_price_point, readable_price_points
from .tariff import Tariff
from .time_of_use import TimeOfUseTariff

# A generic price sensor's current price is assumed to hold until its next change, at most
# this long (then the price is unknown, not extrapolated).
GENERIC_PRICE_HORIZON = timedelta(hours=1)
PRICES_STORE_VERSION = 1
PRICES_SAVE_DELAY_S = 10
# Prices are kept this long after use, and longer while a running session needs them.
PRICES_KEEP = timedelta(days=1)
# A session's claim on old prices lapses if it is not renewed (at every poll) for this long.
HOLD_LAPSES = timedelta(hours=1)
# Price sensors may load after this integration: no price "now" is a problem only after this.
STARTUP_GRACE = timedelta(minutes=5)
ISSUE_PRICE_MISSING = "price_missing"
_COLLECTORS = f"{DOMAIN}_price_collectors"


@dataclass(frozen=True, slots=True)
class SessionPrice:
    """A session's cost, or why it has none (`problem`), never an exception."""

    cost: SessionCost | None
    problem: str | None


class PriceCollector:
    """The price points of one price sensor, as published, kept across restarts.

    One per sensor, shared by every charger priced from it.
    """

    def __init__(self, hass: HomeAssistant, entity_id: str) -> None:
        """Follow `entity_id` once the first user calls `async_start`."""
        self.hass = hass
        self.entity_id = entity_id
        self.book = PriceBook()
        self.problem: str | None = None  # why the last publication was (partly) not used
        self.version = 0  # counts changes of the book
        self._store: Store[dict[str, Any]] = Store(
            hass, PRICES_STORE_VERSION, f"{DOMAIN}.prices.{entity_id}"
        )
        self._holds: dict[int, tuple[datetime, datetime]] = {}
        self._listeners: dict[int, Callable[[], None]] = {}
        self._stop: CALLBACK_TYPE | None = None

    @callback
    def async_start(self, user: object, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Add a user, told of every change; return its release."""
        key = id(user)
        self._listeners[key] = listener
        if self._stop is None:
            self._stop = async_track_state_change_event(self.hass, self.entity_id, self._changed)
            # Loading starts before anything is published: a load that found a write
            # pending would take (and prune) that data instead of the file.
            self.hass.async_create_task(self._async_load(), eager_start=True)
            if (state := self.hass.states.get(self.entity_id)) is not None:
                self._take(state)

        @callback
        def release() -> None:
            self._listeners.pop(key, None)
            self._holds.pop(key, None)
            if not self._listeners and self._stop is not None:
                self._stop()
                self._stop = None
                self.hass.data.get(_COLLECTORS, {}).pop(self.entity_id, None)
                # Written now, so a collector set up again (a reload) reads the latest.
                self.hass.async_create_task(self._store.async_save(self._data()), eager_start=True)

        return release

    async def _async_load(self) -> None:
        data = await self._store.async_load()
        if data is None:
            return
        stored, problems = PriceBook.from_dict(data)
        for problem in problems:
            LOGGER.warning("Stored prices of %s: %s", self.entity_id, problem)
        # What the sensor published since the start is newer than anything stored.
        stored.publish(self.book.points)
        self.book = stored
        self._notify()

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            self._take(new)

    @callback
    def _take(self, state: State) -> None:
        if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN) and not state.attributes:
            return  # the source is down: what it published before still holds
        try:
            points, unreadable = readable_price_points(state.attributes)
            if not points and not unreadable:
                if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
                    return
                # A sensor without a price list: its state is the price from now on.
                start = state.last_changed
                points = [
                    current_price_point(
                        state.state, state.attributes, start, start + GENERIC_PRICE_HORIZON
                    )
                ]
        except (ValueError, ArithmeticError, TypeError, AttributeError) as err:
            self.problem = f"the prices of {self.entity_id} cannot be read: {err}"
            LOGGER.warning("%s; the prices known before are kept", self.problem)
            self._notify()
            return
        problems = [*unreadable, *self.book.publish(points)]
        self.problem = None
        if problems:
            self.problem = f"{self.entity_id} published unusable prices: {problems[0]}"
            LOGGER.warning("%s (%d left out)", self.problem, len(problems))
        self._store.async_delay_save(self._data, PRICES_SAVE_DELAY_S)
        self._notify()

    def _notify(self) -> None:
        self.version += 1
        for listener in list(self._listeners.values()):
            listener()

    def hold(self, user: object, since: datetime) -> None:
        """Keep prices from `since` on: a running session of `user` needs them."""
        self._holds[id(user)] = (since, dt_util.utcnow())

    def _data(self) -> dict[str, Any]:
        now = dt_util.utcnow()
        cutoff = now - PRICES_KEEP
        for since, renewed in self._holds.values():
            if now - renewed <= HOLD_LAPSES:
                cutoff = min(cutoff, since)
        self.book.prune(cutoff)
        return self.book.to_dict()


@callback
def async_get_collector(hass: HomeAssistant, entity_id: str) -> PriceCollector:
    """The collector of a price sensor, shared by the chargers priced from it."""
    collectors: dict[str, PriceCollector] = hass.data.setdefault(_COLLECTORS, {})
    if (collector := collectors.get(entity_id)) is None:
        collector = collectors[entity_id] = PriceCollector(hass, entity_id)
    return collector


class SessionPricing:
    """Prices a charger's sessions with the configured tariff; never raises."""

    def __init__(
        self,
        hass: HomeAssistant,
        options: dict[str, Any],
        *,
        currency: str,
        time_zone: str,
        entry_id: str | None = None,
        name: str = "",
    ) -> None:
        """Read the tariff from the options."""
        self.hass = hass
        self.currency = currency
        self.entry_id = entry_id
        self.name = name
        self.collector: PriceCollector | None = None
        self._static: Tariff | None = None
        self._tariff_name = ""
        self._config_problem: str | None = None
        self._poll_problem: str | None = None
        self._raised: str | None = None
        self._started_at = dt_util.utcnow()
        self._boundary_cache: tuple[int | None, datetime, datetime | None] | None = None
        config = options.get(CONF_TARIFF) or {}
        self.holiday_entity: str | None = config.get("holiday_entity")
        try:
            if config.get("type") == "dynamic":
                entity_id = str(config["entity_id"])
                self._tariff_name = str(config.get("name", entity_id))
                self.collector = async_get_collector(hass, entity_id)
            else:
                self._static = static_tariff(options, currency=currency, time_zone=time_zone)
        except (KeyError, ValueError, ArithmeticError, TypeError, AttributeError) as err:
            self._config_problem = f"the tariff in the options cannot be used: {err}"
            LOGGER.warning("%s; sessions stay unpriced", self._config_problem)

    @property
    def configured(self) -> bool:
        """Whether the options name a tariff at all (none: sessions are unpriced by choice)."""
        return (
            self.collector is not None
            or self._static is not None
            or self._config_problem is not None
        )

    @property
    def tariff(self) -> Tariff | None:
        """The tariff now (a dynamic one holds the prices collected so far)."""
        if self.collector is not None:
            return self.collector.book.tariff(self.currency, self._tariff_name)
        return self._static

    @callback
    def async_start(
        self, refresh: Callable[[], Coroutine[Any, Any, None]] | None = None
    ) -> CALLBACK_TYPE:
        """Follow the price sensor and poll (`refresh`) at every price boundary."""
        stops: list[CALLBACK_TYPE] = []
        timer: list[CALLBACK_TYPE] = []

        @callback
        def arm() -> None:
            while timer:
                timer.pop()()
            if refresh is None:
                return
            now = dt_util.utcnow()
            boundary = self.next_boundary(now)
            timer.append(
                async_track_point_in_utc_time(hass, fire, boundary or now + timedelta(days=1))
            )

        @callback
        def fire(_moment: datetime) -> None:
            assert refresh is not None
            hass.async_create_task(refresh(), eager_start=True)
            arm()

        async def holidays(_now: datetime | None = None) -> None:
            # The days around today, asked again every night.
            if self.holiday_entity is None or not isinstance(self._static, TimeOfUseTariff):
                return
            found = await async_holidays(hass, self.holiday_entity, dt_util.now().date())
            if found != self._static.holidays:
                self._static = replace(self._static, holidays=found)
                self._boundary_cache = None
                arm()

        hass = self.hass
        if self.collector is not None:
            stops.append(self.collector.async_start(self, arm))
        if self.holiday_entity is not None:
            hass.async_create_task(holidays(), eager_start=True)
            stops.append(async_track_time_change(hass, holidays, hour=0, minute=0, second=5))
        arm()

        @callback
        def stop() -> None:
            for one in (*stops, *timer):
                one()

        return stop

    def price(self, session: ActiveSession) -> SessionPrice:
        """The cost of a session (so far), or why there is none."""
        if self._config_problem is not None:
            return self._problem(SessionPrice(None, self._config_problem))
        try:
            tariff = self.tariff
            if tariff is None:
                return SessionPrice(None, None)
            readings = session.readings()
            if self.collector is not None:
                self.collector.hold(self, session.started_at)
            if len(readings) < 2 or readings[0][0] >= readings[-1][0]:
                return SessionPrice(None, None)
            cost = session_cost(readings, tariff)
        except (ValueError, ArithmeticError, TypeError, IndexError) as err:
            return self._problem(SessionPrice(None, f"session {session.id}: {err}"))
        if PRICE_MISSING in cost.flags:
            missing = next(
                line for line in cost.intervals if line.price_per_kwh is None and line.energy_wh
            )
            problem = (
                f"no price from {missing.start.isoformat()} to {missing.end.isoformat()} "
                f"({cost.unpriced_energy_wh} Wh of session {session.id} unpriced)"
            )
            priced = any(
                line.energy_wh and line.price_per_kwh is not None for line in cost.intervals
            )
            # A session without a single priced Wh has no cost at all, not a cost of 0.
            return self._problem(SessionPrice(cost if priced else None, problem))
        return SessionPrice(cost, None)

    def cost(self, session: ActiveSession) -> SessionCost | None:
        """The cost of a session (so far); None without a tariff, energy or a usable price."""
        return self.price(session).cost

    def current_price(self, now: datetime) -> Decimal | None:
        """The price per kWh right now (None if unknown); once per poll, after the costs."""
        price: Decimal | None = None
        problem = self._config_problem or self._poll_problem
        try:
            tariff = self.tariff
            if tariff is not None:
                price = tariff.price_intervals(now, now + timedelta(seconds=1))[0].price_per_kwh
        except (ValueError, ArithmeticError, IndexError) as err:
            problem = problem or f"no current price: {err}"
        if problem is None and self.collector is not None:
            problem = self.collector.problem
            if problem is None and price is None and now - self._started_at > STARTUP_GRACE:
                problem = f"{self.collector.entity_id} has no price for {now.isoformat()}"
        self._poll_problem = None
        self._report(problem)
        return price

    def next_boundary(self, after: datetime) -> datetime | None:
        """The first price boundary after `after` (None: none known); never raises.

        The session tracker stores a register reading at the first poll at or after it, and
        `async_start` makes a poll happen right there.
        """
        version = None if self.collector is None else self.collector.version
        cached = self._boundary_cache
        # Asked at every poll: the answer holds until the boundary passes or prices change.
        if (
            cached is not None
            and cached[0] == version
            and cached[1] <= after < (cached[2] or after)
        ):
            return cached[2]
        try:
            boundary = next_boundary(self.tariff, after)
        except (ValueError, ArithmeticError) as err:
            LOGGER.debug("No price boundary after %s: %s", after.isoformat(), err)
            return None
        self._boundary_cache = (version, after, boundary)
        return boundary

    def _problem(self, result: SessionPrice) -> SessionPrice:
        self._poll_problem = result.problem
        self._report(result.problem)
        return result

    def _report(self, problem: str | None) -> None:
        """Raise the repair issue while prices are missing; clear it once they flow."""
        if problem == self._raised:
            return
        before, self._raised = self._raised, problem
        issue = f"{ISSUE_PRICE_MISSING}_{self.entry_id}"
        if problem is None:
            LOGGER.info("Prices for %s flow again", self.name)
            if self.entry_id is not None:
                ir.async_delete_issue(self.hass, DOMAIN, issue)
            return
        # Logged once when prices go missing; the repair keeps the latest reason.
        log = LOGGER.debug if before is not None else LOGGER.warning
        log("Sessions of %s are priced incompletely: %s", self.name, problem)
        if self.entry_id is None:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_PRICE_MISSING,
            translation_placeholders={"name": self.name, "reason": problem},
        )
