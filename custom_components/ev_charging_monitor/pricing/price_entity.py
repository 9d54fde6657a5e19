"""Home Assistant glue for pricing: the price sensor followed, the tariff a session uses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers.event import async_track_state_change_event

from ..const import LOGGER
from ..session.tracker import ActiveSession
from .cost import SessionCost, session_cost
from .options import CONF_TARIFF, static_tariff
from .prices import current_price_point, price_points
from .tariff import DynamicTariff, PricePoint, Tariff

# A generic price sensor's current price is assumed to hold until its next change, at most
# this long (then the price is unknown, not extrapolated).
GENERIC_PRICE_HORIZON = timedelta(hours=1)


class PriceCollector:
    """Collects the price points of a dynamic price sensor as they are published."""

    def __init__(self, hass: HomeAssistant, entity_id: str, currency: str, name: str) -> None:
        """Follow `entity_id` (call async_start)."""
        self.hass = hass
        self.entity_id = entity_id
        self.currency = currency
        self.name = name
        self.points: dict[datetime, PricePoint] = {}

    @callback
    def async_start(self) -> Callable[[], None]:
        """Take the sensor's present prices and follow its changes; return the stopper."""
        if (state := self.hass.states.get(self.entity_id)) is not None:
            self._take(state)

        @callback
        def changed(event: Event[EventStateChangedData]) -> None:
            if (new := event.data["new_state"]) is not None:
                self._take(new)

        return async_track_state_change_event(self.hass, self.entity_id, changed)

    @callback
    def _take(self, state: State) -> None:
        points = price_points(state.attributes)
        if not points:
            # A sensor without a price list: its state is the price from now on.
            start = state.last_changed
            for moment in [m for m in self.points if m < start]:
                old = self.points[moment]
                if old.end > start:  # close the previous price at this change
                    self.points[moment] = PricePoint(old.start, start, old.price_per_kwh)
            points = [
                current_price_point(
                    state.state, state.attributes, start, start + GENERIC_PRICE_HORIZON
                )
            ]
        for point in points:
            self.points[point.start] = point

    def tariff(self) -> DynamicTariff:
        """The prices collected so far."""
        points = tuple(sorted(self.points.values(), key=lambda p: p.start))
        return DynamicTariff(points=points, currency=self.currency, name=self.name)


class SessionPricing:
    """Prices a charger's sessions with the configured tariff."""

    def __init__(
        self,
        hass: HomeAssistant,
        options: dict[str, Any],
        *,
        currency: str,
        time_zone: str,
    ) -> None:
        """Read the tariff from the options."""
        self.currency = currency
        self.collector: PriceCollector | None = None
        self._static: Tariff | None = None
        config = options.get(CONF_TARIFF) or {}
        try:
            if config.get("type") == "dynamic":
                self.collector = PriceCollector(
                    hass, config["entity_id"], currency, config.get("name", config["entity_id"])
                )
            else:
                self._static = static_tariff(options, currency=currency, time_zone=time_zone)
        except (KeyError, ValueError) as err:
            LOGGER.warning(
                "The tariff in the options cannot be used (%s); sessions stay unpriced", err
            )

    @property
    def tariff(self) -> Tariff | None:
        """The tariff now (a dynamic one holds the prices collected so far)."""
        return self.collector.tariff() if self.collector is not None else self._static

    def cost(self, session: ActiveSession) -> SessionCost | None:
        """The cost of a session (so far); None without a tariff or without energy yet."""
        tariff = self.tariff
        readings = session.readings()
        if tariff is None or len(readings) < 2 or readings[0][0] >= readings[-1][0]:
            return None
        try:
            return session_cost(readings, tariff)
        except ValueError as err:
            LOGGER.warning("Session %s could not be priced: %s", session.id, err)
            return None

    def current_price(self, now: datetime) -> Decimal | None:
        """The price per kWh right now."""
        tariff = self.tariff
        if tariff is None:
            return None
        interval = tariff.price_intervals(now, now + timedelta(seconds=1))[0]
        return interval.price_per_kwh
