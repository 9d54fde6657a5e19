"""The tariff a charger's sessions are priced with, from the entry's options.

Options hold the tariff as plain data (`entry.options["tariff"]`):

- `{"type": "flat", "price": "0.32"}`
- `{"type": "time_of_use", "default_price": "0.24", "holiday_entity": "calendar.germany",
  "periods": [{"start": "07:00", "end": "22:00", "price": "0.38", "days": ["mon", "tue",
  "wed", "thu", "fri"]}, ...]}`: days of the week ("mon" to "sun") and "holiday"; a period
  ends at or before midnight ("00:00" is the end of the day). Optionally `"seasons": [{"name":
  "Winter", "first": "11-01", "last": "02-28"}]` with `"season": "Winter"` on a period (a
  period without a season applies all year). Entries before options
  version 1.2 may hold "weekday"/"weekend" or no days at all (every day): `migrate_tariff`.
- `{"type": "dynamic", "entity_id": "sensor.nordpool"}`: prices of a Home Assistant price
  sensor (Nord Pool, ENTSO-e, EPEX Spot, Tibber style lists, or any sensor whose state is
  the current price), collected while the integration runs.

Prices are in the instance's currency per kWh. A tariff that cannot be built leaves
sessions unpriced and flagged `price_missing`, never priced at 0.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from .tariff import FlatTariff, Tariff
from .time_of_use import WEEK, DayKind, Season, TimeOfUsePeriod, TimeOfUseTariff

CONF_TARIFF = "tariff"


def _decimal(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as err:
        raise ValueError(f"{what} {value!r} is not a number") from err


def _time(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours) % 24, int(minutes.partition(":")[0] or 0))


def seasons_of(config: dict[str, Any]) -> tuple[Season, ...]:
    """The seasons of a stored time-of-use tariff: {"name", "first": "MM-DD", "last"}."""
    return tuple(
        Season(str(season["name"]), month_day(season["first"]), month_day(season["last"]))
        for season in config.get("seasons", [])
    )


def month_day(value: Any) -> tuple[int, int]:
    """ "11-01" as (11, 1); ValueError for anything else."""
    month, dash, day = str(value).strip().partition("-")
    if not dash or not month.isdigit() or not day.isdigit():
        raise ValueError(f"{value!r} is not a month and day like 11-01")
    return int(month), int(day)


def static_tariff(
    options: dict[str, Any],
    *,
    currency: str,
    time_zone: str,
    holidays: frozenset[date] = frozenset(),
) -> Tariff | None:
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
                    season=period.get("season"),
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
                holidays=holidays,
                seasons=seasons_of(config),
            )
    return None


EVERY_DAY = [day.value for day in WEEK] + [DayKind.HOLIDAY.value]
_GROUPS = {
    DayKind.WEEKDAY.value: [day.value for day in WEEK[:5]],
    DayKind.WEEKEND.value: [day.value for day in WEEK[5:]],
}


def migrate_tariff(tariff: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored tariff in the 1.2 format: every time-of-use period names its days.

    Before 1.2 a period without days applied every day (holidays too) and "weekday" /
    "weekend" stood for Monday-Friday / Saturday-Sunday; the prices at every moment stay
    the same.
    """
    if not tariff or tariff.get("type") != "time_of_use":
        return tariff
    periods = []
    for period in tariff.get("periods", []):
        days: list[str] = []
        for day in period.get("days", EVERY_DAY):
            for one in _GROUPS.get(day, [day]):
                if one not in days:
                    days.append(one)
        periods.append({**period, "days": sorted(days, key=EVERY_DAY.index)})
    return {**tariff, "periods": periods}
