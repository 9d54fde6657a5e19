"""The tariff a charger's sessions are priced with, from the entry's options.

Options hold the tariff as plain data (`entry.options["tariff"]`):

- `{"type": "flat", "price": "0.32"}`
- `{"type": "time_of_use", "default_price": "0.30", "periods": [{"start": "22:00",
  "end": "00:00", "price": "0.22", "days": ["weekday", "weekend", "holiday"]}, ...]}`
- `{"type": "dynamic", "entity_id": "sensor.nordpool"}`: prices of a Home Assistant price
  sensor (Nord Pool, ENTSO-e, EPEX Spot, Tibber style lists, or any sensor whose state is
  the current price), collected while the integration runs.

Prices are in the instance's currency per kWh. A tariff that cannot be built leaves
sessions unpriced and flagged `price_missing`, never priced at 0.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from .tariff import FlatTariff, Tariff
from .time_of_use import DayKind, TimeOfUsePeriod, TimeOfUseTariff

CONF_TARIFF = "tariff"


def _decimal(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as err:
        raise ValueError(f"{what} {value!r} is not a number") from err


def _time(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours) % 24, int(minutes or 0))


def static_tariff(options: dict[str, Any], *, currency: str, time_zone: str) -> Tariff | None:
    """Build a flat or time-of-use tariff; None when none (or a dynamic one) is configured."""
    config = options.get(CONF_TARIFF) or {}
    match config.get("type"):
        case "flat":
            return FlatTariff(
                price=_decimal(config["price"], "price"),
                currency=currency,
                name=config.get("name", "Flat"),
            )
        case "time_of_use":
            periods = tuple(
                TimeOfUsePeriod(
                    price=_decimal(period["price"], "price"),
                    start=_time(period["start"]),
                    end=_time(period["end"]),
                    days=frozenset(DayKind(d) for d in period.get("days", list(DayKind))),
                    name=period.get("name", ""),
                )
                for period in config.get("periods", [])
            )
            default = config.get("default_price")
            return TimeOfUseTariff(
                periods=periods,
                time_zone=time_zone,
                currency=currency,
                name=config.get("name", "Time of use"),
                default_price=None if default is None else _decimal(default, "default price"),
            )
    return None


CONF_TARIFF_TYPE = "tariff_type"
CONF_FLAT_PRICE = "flat_price"
CONF_PRICE_ENTITY = "price_entity"
CONF_TOU_SCHEDULE = "tou_schedule"
CONF_TOU_DEFAULT = "tou_default_price"
TARIFF_TYPES = ("none", "flat", "time_of_use", "dynamic")


def tariff_from_form(form: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Turn the options form's tariff fields into the stored tariff (or field errors).

    The time-of-use schedule is written as local windows with prices, e.g.
    `22:00-06:00=0.22, 06:00-22:00=0.35`; a window over midnight is split in two.
    """
    kind = form.get(CONF_TARIFF_TYPE, "none")
    if kind == "flat":
        if form.get(CONF_FLAT_PRICE) is None:
            return None, {CONF_FLAT_PRICE: "price_required"}
        return {"type": "flat", "price": str(form[CONF_FLAT_PRICE])}, {}
    if kind == "dynamic":
        if not form.get(CONF_PRICE_ENTITY):
            return None, {CONF_PRICE_ENTITY: "price_entity_required"}
        return {"type": "dynamic", "entity_id": form[CONF_PRICE_ENTITY]}, {}
    if kind == "time_of_use":
        try:
            periods = _schedule(str(form.get(CONF_TOU_SCHEDULE) or ""))
            tariff: dict[str, Any] = {"type": "time_of_use", "periods": periods}
            if form.get(CONF_TOU_DEFAULT) is not None:
                tariff["default_price"] = str(form[CONF_TOU_DEFAULT])
            static_tariff({CONF_TARIFF: tariff}, currency="EUR", time_zone="UTC")
        except (ValueError, KeyError):
            return None, {CONF_TOU_SCHEDULE: "invalid_schedule"}
        return tariff, {}
    return None, {}


def tariff_form_values(tariff: dict[str, Any] | None) -> dict[str, Any]:
    """The options form's fields for a stored tariff (to show it again)."""
    tariff = tariff or {}
    values: dict[str, Any] = {CONF_TARIFF_TYPE: tariff.get("type", "none")}
    if tariff.get("type") == "flat":
        values[CONF_FLAT_PRICE] = float(tariff["price"])
    elif tariff.get("type") == "dynamic":
        values[CONF_PRICE_ENTITY] = tariff["entity_id"]
    elif tariff.get("type") == "time_of_use":
        values[CONF_TOU_SCHEDULE] = ", ".join(
            f"{p['start']}-{p['end']}={p['price']}" for p in tariff["periods"]
        )
        if "default_price" in tariff:
            values[CONF_TOU_DEFAULT] = float(tariff["default_price"])
    return values


def _schedule(text: str) -> list[dict[str, str]]:
    periods: list[dict[str, str]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        window, _, price = part.partition("=")
        start, _, end = window.strip().partition("-")
        _decimal(price.strip(), "price")
        start, end, price = start.strip(), end.strip(), price.strip()
        if _time(start) > _time(end) and _time(end) != time(0):
            periods.append({"start": start, "end": "00:00", "price": price})
            periods.append({"start": "00:00", "end": end, "price": price})
        else:
            periods.append({"start": start, "end": end, "price": price})
    if not periods:
        raise ValueError("empty schedule")
    return periods
