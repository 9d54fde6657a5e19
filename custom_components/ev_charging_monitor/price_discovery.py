"""Price entities of other integrations, found by the shape of their attributes.

Nord Pool, Tibber, ENTSO-e, EPEX Spot and Octopus Energy publish price lists in attributes
that `pricing.prices` reads; an entity whose list reads is offered for a dynamic tariff,
with a preview of today's prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .pricing.prices import price_currency, price_factor, readable_price_points
from .pricing.tariff import PricePoint

_DOMAINS = ["sensor", "event"]  # Octopus Energy keeps its rates on event entities
_SHOWN = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class FoundPrices:
    """An entity with a readable price list."""

    entity_id: str
    name: str
    currency: str
    points: list[PricePoint]


@callback
def async_price_entities(hass: HomeAssistant) -> list[FoundPrices]:
    """Every sensor or event entity whose attributes hold a readable price list."""
    found = []
    for state in hass.states.async_all(_DOMAINS):
        try:
            points, _unreadable = readable_price_points(state.attributes)
        except (ValueError, ArithmeticError, TypeError, AttributeError):
            continue
        if points:
            # Octopus Energy's rate lists carry no unit: they are in GBP/kWh.
            unit = str(
                state.attributes.get("unit_of_measurement")
                or ("GBP/kWh" if "rates" in state.attributes else "")
            )
            currency = price_currency(unit) or hass.config.currency
            found.append(FoundPrices(state.entity_id, state.name, currency, points))
    return sorted(found, key=lambda one: one.entity_id)


@callback
def is_price_entity(hass: HomeAssistant, entity_id: str) -> bool:
    """Whether an entity has a price list, or a state in a price unit (e.g. EUR/kWh)."""
    if (state := hass.states.get(entity_id)) is None:
        return False
    try:
        points, _unreadable = readable_price_points(state.attributes)
        if points:
            return True
        price_factor(str(state.attributes.get("unit_of_measurement") or ""))
    except (ValueError, ArithmeticError, TypeError, AttributeError):
        return False
    return True


@callback
def preview_lines(hass: HomeAssistant, found: list[FoundPrices]) -> list[str]:
    """Per entity: today's lowest and highest price, how many prices, and the price now."""
    now = dt_util.now()
    zone = now.tzinfo
    lines = []
    for one in found:
        today = [
            point
            for point in one.points
            if point.start.astimezone(zone).date() == now.date() and point.price_per_kwh is not None
        ]
        head = f"- **{one.name}** (`{one.entity_id}`)"
        if not today:
            lines.append(f"{head}: -")
            continue
        prices = [point.price_per_kwh for point in today if point.price_per_kwh is not None]
        minutes = int((today[0].end - today[0].start).total_seconds() // 60)
        current = next(
            (point.price_per_kwh for point in one.points if point.start <= now < point.end), None
        )
        unit = f"{one.currency}/kWh"
        lines.append(
            f"{head}: {_shown(min(prices))} - {_shown(max(prices))} {unit}, "
            f"{len(today)} x {minutes} min, ▸ {_shown(current)} {unit}"
        )
    return lines


def _shown(price: Decimal | None) -> str:
    return "-" if price is None else format(price.quantize(_SHOWN), "f")
