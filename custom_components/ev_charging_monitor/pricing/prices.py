"""Price points from the attributes of common Home Assistant price sensors.

Home Assistant-free: every function takes a state's attributes dict (as `state.attributes`
holds it, with datetimes as objects or as ISO strings after a JSON round trip) and returns
`PricePoint`s in currency per kWh, as Decimal. Shapes understood:

- Nord Pool custom component: `raw_today` / `raw_tomorrow`, lists of {start, end, value}.
- Nord Pool core integration: its sensors carry no price list; the response of its
  `nordpool.get_prices_for_date` action, {area: [{start, end, price}]} per MWh, is read by
  `nordpool_action_points`.
- Tibber style: `today` / `tomorrow` (or `prices`), lists of {startsAt, total}; and the
  `tibber.get_prices` action response, {"prices": {home: [{start_time, price}]}}.
- ENTSO-e style: `prices_today` / `prices_tomorrow` (or `prices`), lists of {time, price}.
- EPEX Spot style: `data`, a list of {start_time, end_time, price_<unit>} where the key names
  the unit, e.g. price_ct_per_kwh or price_eur_per_mwh.
- Octopus Energy style: `rates`, a list of {start, end, value_inc_vat} in the sensor's
  currency per kWh (GBP/kWh without a unit), as its current-day and next-day rate
  entities carry them.
- Any other sensor: its current price as one interval from its `last_changed`.

Units: the sensor's unit of measurement, e.g. EUR/kWh, ct/kWh or EUR/MWh, converted to the
main currency unit per kWh. A price that is missing or not a number becomes None (unknown),
never 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from .tariff import PricePoint

HOUR = timedelta(hours=1)

# Sub-units of a currency (1/100 of it) as price sensors write them.
_SUBUNITS = frozenset({"ct", "c", "cent", "cents", "öre", "øre", "ore", "p", "pence", "gr"})
_SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD"}
_ENERGY_FACTOR = {"wh": Decimal(1000), "kwh": Decimal(1), "mwh": Decimal("0.001")}


def price_factor(unit: str) -> Decimal:
    """The factor turning a price in `unit` into main currency per kWh.

    EUR/kWh -> 1, ct/kWh -> 0.01, EUR/MWh -> 0.001. Raises ValueError for other units.
    """
    money, slash, energy = unit.strip().partition("/")
    energy_factor = _ENERGY_FACTOR.get(energy.strip().lower())
    money = money.strip()
    if not slash or energy_factor is None or not money:
        raise ValueError(f"unknown price unit {unit!r} (expected e.g. EUR/kWh, ct/kWh, EUR/MWh)")
    if money.lower() in _SUBUNITS:
        return energy_factor / 100
    return energy_factor


def price_currency(unit: str) -> str | None:
    """The ISO 4217 currency a price unit names, or None for a sub-unit like ct or öre."""
    money = unit.strip().partition("/")[0].strip()
    if money in _SYMBOLS:
        return _SYMBOLS[money]
    if len(money) == 3 and money.isalpha() and money.lower() not in _SUBUNITS:
        return money.upper()
    return None


def to_decimal(value: Any) -> Decimal | None:
    """A price as published (number or text) as a Decimal; None if unknown."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        # str() gives the shortest text that reads back to the same float: 0.1 -> "0.1".
        value = str(value)
    try:
        number = Decimal(value) if isinstance(value, (int, str, Decimal)) else None
    except InvalidOperation:
        return None
    return number if number is not None and number.is_finite() else None


def nordpool_points(attributes: Mapping[str, Any]) -> list[PricePoint]:
    """Nord Pool custom component: `raw_today` and `raw_tomorrow` ({start, end, value}).

    The values are in the sensor's unit; without `unit_of_measurement`, the component's own
    `currency`, `unit` and `price_in_cents` attributes say what it is.
    """
    unit = attributes.get("unit_of_measurement")
    if not unit:
        currency = attributes.get("currency", "EUR")
        money = "ct" if attributes.get("price_in_cents") else currency
        unit = f"{money}/{attributes.get('unit', 'kWh')}"
    factor = price_factor(str(unit))
    rows = [*_list(attributes, "raw_today"), *_list(attributes, "raw_tomorrow")]
    return [
        _point(row.get("start"), row.get("end"), row.get("value"), factor)
        for row in rows
        if isinstance(row, Mapping)
    ]


def nordpool_action_points(
    response: Mapping[str, Any], area: str, unit: str = "EUR/MWh"
) -> list[PricePoint]:
    """Nord Pool core integration: the `get_prices_for_date` response for one area.

    The action answers in the requested currency per MWh; pass the unit if it differs.
    """
    factor = price_factor(unit)
    rows = response.get(area)
    if not isinstance(rows, list):
        raise ValueError(f"no prices for area {area!r} (areas: {sorted(response)})")
    return [
        _point(row.get("start"), row.get("end"), row.get("price"), factor)
        for row in rows
        if isinstance(row, Mapping)
    ]


def tibber_points(
    attributes: Mapping[str, Any], resolution: timedelta | None = None
) -> list[PricePoint]:
    """Tibber style: `today`, `tomorrow` or `prices`, lists of {startsAt, total}.

    Tibber gives only start times; each price lasts until the next start, or for the list's
    usual step (or `resolution`) where the next one is further away or missing.
    """
    factor = _unit_factor(attributes, "EUR/kWh")
    rows = [
        *_list(attributes, "today"),
        *_list(attributes, "tomorrow"),
        *_list(attributes, "prices"),
    ]
    return _points_from_starts(
        ((row.get("startsAt"), row.get("total")) for row in rows if isinstance(row, Mapping)),
        factor,
        resolution,
    )


def tibber_action_points(
    response: Mapping[str, Any],
    home: str | None = None,
    unit: str = "EUR/kWh",
    resolution: timedelta | None = None,
) -> list[PricePoint]:
    """The `tibber.get_prices` response, {"prices": {home: [{start_time, price}]}}.

    Without `home`, the response must hold exactly one home.
    """
    homes = response.get("prices")
    if not isinstance(homes, Mapping) or not homes:
        raise ValueError("the response holds no 'prices'")
    if home is None:
        if len(homes) != 1:
            raise ValueError(f"the response holds several homes, name one of {sorted(homes)}")
        home = next(iter(homes))
    rows = homes.get(home)
    if not isinstance(rows, list):
        raise ValueError(f"no prices for home {home!r} (homes: {sorted(homes)})")
    return _points_from_starts(
        ((row.get("start_time"), row.get("price")) for row in rows if isinstance(row, Mapping)),
        price_factor(unit),
        resolution,
    )


def entsoe_points(
    attributes: Mapping[str, Any], resolution: timedelta | None = None
) -> list[PricePoint]:
    """ENTSO-e style: `prices_today`, `prices_tomorrow` or `prices`, lists of {time, price}.

    Start times only, as for Tibber.
    """
    factor = _unit_factor(attributes, "EUR/kWh")
    rows = [
        *_list(attributes, "prices_today"),
        *_list(attributes, "prices_tomorrow"),
        *_list(attributes, "prices"),
    ]
    return _points_from_starts(
        ((row.get("time"), row.get("price")) for row in rows if isinstance(row, Mapping)),
        factor,
        resolution,
    )


def epex_spot_points(attributes: Mapping[str, Any]) -> list[PricePoint]:
    """EPEX Spot style: `data`, a list of {start_time, end_time, price_...}.

    The price key names its unit (price_ct_per_kwh, price_eur_per_mwh, ...); a plain
    `price_per_kwh` is in the sensor's currency per kWh.
    """
    points = []
    for row in _list(attributes, "data"):
        if not isinstance(row, Mapping):
            continue
        key, factor = _epex_price_key(row)
        points.append(_point(row.get("start_time"), row.get("end_time"), row.get(key), factor))
    return points


def octopus_points(attributes: Mapping[str, Any]) -> list[PricePoint]:
    """Octopus Energy style: `rates`, a list of {start, end, value_inc_vat}."""
    factor = _unit_factor(attributes, "GBP/kWh")
    return [
        _point(row.get("start"), row.get("end"), row.get("value_inc_vat"), factor)
        for row in _list(attributes, "rates")
        if isinstance(row, Mapping)
    ]


def current_price_point(
    state: str, attributes: Mapping[str, Any], last_changed: datetime, end: datetime
) -> PricePoint:
    """Any price sensor: its current price, valid from `last_changed` until `end`.

    The caller closes the interval at the sensor's next change (or the session's end). A
    state that is not a number (unknown, unavailable) falls back to a `current_price`
    attribute, else the point has no price.
    """
    factor = _unit_factor(attributes, None)
    value = to_decimal(state)
    if value is None:
        value = to_decimal(attributes.get("current_price"))
    return _point(last_changed, end, value, factor)


def price_points(attributes: Mapping[str, Any]) -> list[PricePoint]:
    """Price points from whichever known shape the attributes have; [] if none."""
    if "raw_today" in attributes:
        return nordpool_points(attributes)
    if "prices_today" in attributes:
        return entsoe_points(attributes)
    if isinstance(attributes.get("data"), list):
        return epex_spot_points(attributes)
    if any(
        isinstance(row, Mapping) and "value_inc_vat" in row for row in _list(attributes, "rates")
    ):
        return octopus_points(attributes)
    if any(
        isinstance(row, Mapping) and "startsAt" in row
        for key in ("today", "tomorrow", "prices")
        for row in _list(attributes, key)
    ):
        return tibber_points(attributes)
    return []


# The keys of the list rows above that hold times.
_TIME_KEYS = ("start", "end", "startsAt", "time", "start_time", "end_time")
_LIST_KEYS = (
    "raw_today",
    "raw_tomorrow",
    "today",
    "tomorrow",
    "prices",
    "prices_today",
    "prices_tomorrow",
    "data",
    "rates",
)


def readable_price_points(attributes: Mapping[str, Any]) -> tuple[list[PricePoint], list[str]]:
    """Like `price_points`, but a row whose time cannot be read is left out and reported.

    One garbled row then costs only its own interval (priced by nobody), not the whole list.
    """
    cleaned = dict(attributes)
    problems: list[str] = []
    for key in _LIST_KEYS:
        rows = attributes.get(key)
        if not isinstance(rows, list):
            continue
        kept = []
        for row in rows:
            bad = _unreadable_time(row)
            if bad is None:
                kept.append(row)
            else:
                problems.append(f"{key}: {bad}")
        cleaned[key] = kept
    return price_points(cleaned), problems


def _unreadable_time(row: Any) -> str | None:
    if not isinstance(row, Mapping):
        return None  # skipped by every shape anyway
    for key in _TIME_KEYS:
        if key in row:
            try:
                _moment(row[key])
            except ValueError as err:
                return str(err)
    return None


def _epex_price_key(row: Mapping[str, Any]) -> tuple[str, Decimal]:
    for key in row:
        if key.startswith("price_") and key.endswith(("_per_kwh", "_per_mwh")):
            money, _, energy = key.removeprefix("price_").rpartition("_per_")
            if key == "price_per_kwh" or not money:
                return key, Decimal(1)
            return key, price_factor(f"{money}/{energy}")
    raise ValueError(f"no price_..._per_kwh or _per_mwh key in {sorted(row)}")


def _unit_factor(attributes: Mapping[str, Any], default: str | None) -> Decimal:
    unit = attributes.get("unit_of_measurement") or default
    if not unit:
        raise ValueError("the price sensor has no unit_of_measurement")
    return price_factor(str(unit))


def _list(attributes: Mapping[str, Any], key: str) -> list[Any]:
    value = attributes.get(key)
    return value if isinstance(value, list) else []


def _point(start: Any, end: Any, value: Any, factor: Decimal) -> PricePoint:
    price = to_decimal(value)
    return PricePoint(_moment(start), _moment(end), None if price is None else price * factor)


def _points_from_starts(
    rows: Iterable[tuple[Any, Any]], factor: Decimal, resolution: timedelta | None
) -> list[PricePoint]:
    starts: dict[datetime, Any] = {}
    for start, value in rows:
        starts.setdefault(_moment(start), value)
    ordered = sorted(starts)
    steps = Counter(b - a for a, b in pairwise(ordered))
    # The most common step is the list's resolution: a missing entry stays a gap instead
    # of stretching the previous price over it.
    step = resolution or (steps.most_common(1)[0][0] if steps else HOUR)
    points = []
    for index, start in enumerate(ordered):
        end = start + step
        if index + 1 < len(ordered):
            end = min(end, ordered[index + 1])
        points.append(_point(start, end, starts[start], factor))
    return points


def _moment(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as err:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from err
    if not isinstance(value, datetime):
        raise ValueError(f"expected a time, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"time {value.isoformat()} has no time zone (naive datetime)")
    return value
