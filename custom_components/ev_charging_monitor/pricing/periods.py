"""The periods of a time-of-use tariff as the options editor adds, edits and removes them.

Home Assistant-free. A period is stored as `{"days": [...], "start": "HH:MM", "end": "HH:MM",
"price": "0.38"}` (see `options.py`). Checks are per day: two periods overlap only when they
share a day (or both apply on holidays) and their windows intersect, so "Mon-Fri 07:00-22:00"
and "Sat-Sun 10:00-16:00" live side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from .options import month_day, seasons_of
from .time_of_use import WEEK, DayKind, Season, TimeOfUsePeriod, TimeOfUseTariff

DAY_CHOICES = [day.value for day in WEEK] + [DayKind.HOLIDAY.value]
MIDNIGHT = "00:00"


@dataclass(frozen=True, slots=True)
class PeriodError(Exception):
    """A period the editor refuses: the form field, the error key and its placeholders."""

    field: str
    key: str
    placeholders: Mapping[str, str] | None = None


def hh_mm(value: Any, field: str) -> str:
    """A time as the selector sends it ("07:00:00" or "07:00") as "HH:MM"."""
    try:
        parts = [int(part) for part in str(value).split(":")]
        moment = time(parts[0], parts[1], [*parts, 0][2]) if 2 <= len(parts) <= 3 else None
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.second:
        raise PeriodError(field, "invalid_time")
    return f"{moment:%H:%M}"


def new_periods(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The period(s) of the editor's form: two when the window runs over midnight.

    A window over midnight, e.g. Friday 22:00-06:00, is Friday 22:00-00:00 and Saturday
    00:00-06:00, so each part belongs to one day; a holiday night stays a holiday night.
    """
    days = [day for day in DAY_CHOICES if day in (form.get("days") or [])]
    if not days:
        raise PeriodError("days", "days_required")
    start = hh_mm(form.get("start"), "start")
    end = hh_mm(form.get("end"), "end")
    try:
        price = Decimal(str(form.get("price")))
    except InvalidOperation:
        price = Decimal("NaN")
    if form.get("price") is None or not price.is_finite():
        raise PeriodError("price", "price_required")
    text = str(price)
    if start == end:
        raise PeriodError("end", "window_empty")
    season = {"season": str(form["season"])} if form.get("season") else {}
    if end == MIDNIGHT or start < end:
        return [{"days": days, "start": start, "end": end, "price": text, **season}]
    next_days = [
        WEEK[(WEEK.index(DayKind(day)) + 1) % 7].value for day in days if day in _WEEK_VALUES
    ]
    if DayKind.HOLIDAY.value in days:
        next_days.append(DayKind.HOLIDAY.value)
    return [
        {"days": days, "start": start, "end": MIDNIGHT, "price": text, **season},
        {
            "days": [day for day in DAY_CHOICES if day in next_days],
            "start": MIDNIGHT,
            "end": end,
            "price": text,
            **season,
        },
    ]


_WEEK_VALUES = {day.value for day in WEEK}


def _period(stored: Mapping[str, Any]) -> TimeOfUsePeriod:
    def clock(text: str) -> time:
        hours, _, minutes = text.partition(":")
        return time(int(hours) % 24, int(minutes or 0))

    return TimeOfUsePeriod(
        price=Decimal(str(stored["price"])),
        start=clock(stored["start"]),
        end=clock(stored["end"]),
        days=frozenset(DayKind(day) for day in stored["days"]),
        season=stored.get("season"),
    )


def first_overlap(
    added: Sequence[Mapping[str, Any]],
    others: Sequence[Mapping[str, Any]],
    seasons: Sequence[Mapping[str, Any]] = (),
) -> Mapping[str, Any] | None:
    """The first of `others` that shares a day, a season and a moment with one of `added`."""
    known = seasons_of({"seasons": list(seasons)})
    for new in added:
        for other in others:
            try:
                TimeOfUseTariff(
                    (_period(other), _period(new)), time_zone="UTC", currency="EUR", seasons=known
                )
            except ValueError:
                return other
    return None


def describe(period: Mapping[str, Any], day_names: Mapping[str, str], unit: str) -> str:
    """E.g. "Monday-Friday 07:00-22:00: 0.38 EUR/kWh", in the user's language."""
    season = f" ({period['season']})" if period.get("season") else ""
    return (
        f"{describe_days(period['days'], day_names)} {describe_window(period)}{season}: "
        f"{period['price']} {unit}"
    )


def describe_window(period: Mapping[str, Any]) -> str:
    """E.g. "22:00-24:00" (the end of the day written as 24:00)."""
    end = "24:00" if period["end"] == MIDNIGHT else period["end"]
    return f"{period['start']}-{end}"


def describe_days(days: Sequence[str], day_names: Mapping[str, str]) -> str:
    """Runs of three or more days as a range: "Monday-Friday, Holiday"."""
    numbers = sorted(WEEK.index(DayKind(day)) for day in days if day in _WEEK_VALUES)
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    words: list[str] = []
    for run in runs:
        names = [day_names.get(WEEK[n].value, WEEK[n].value) for n in run]
        words += [f"{names[0]}-{names[-1]}"] if len(run) >= 3 else names
    if DayKind.HOLIDAY.value in days:
        words.append(day_names.get(DayKind.HOLIDAY.value, DayKind.HOLIDAY.value))
    return ", ".join(words)


def sorted_periods(periods: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Periods in the order a person reads a week: by first day, then start time."""

    def key(period: Mapping[str, Any]) -> tuple[int, str]:
        return (min(DAY_CHOICES.index(day) for day in period["days"]), period["start"])

    return [dict(period) for period in sorted(periods, key=key)]


def new_season(form: Mapping[str, Any], seasons: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """A season from the editor's form: a unique name, first and last day ("MM-DD")."""
    name = str(form.get("name") or "").strip()
    if not name:
        raise PeriodError("name", "season_name_required")
    if any(season["name"] == name for season in seasons):
        raise PeriodError("name", "season_exists")
    days: dict[str, str] = {}
    for field in ("first", "last"):
        try:
            month, day = month_day(form.get(field))
            Season(name, (month, day), (month, day))
        except ValueError:
            raise PeriodError(field, "invalid_day") from None
        days[field] = f"{month:02d}-{day:02d}"
    season = {"name": name, **days}
    try:
        TimeOfUseTariff(
            (),
            time_zone="UTC",
            currency="EUR",
            default_price=Decimal(0),
            seasons=seasons_of({"seasons": [*seasons, season]}),
        )
    except ValueError:
        raise PeriodError("base", "season_overlaps") from None
    return season


def describe_season(season: Mapping[str, Any]) -> str:
    """E.g. "Winter: 11-01 to 02-28"."""
    return f"{season['name']}: {season['first']} - {season['last']}"
