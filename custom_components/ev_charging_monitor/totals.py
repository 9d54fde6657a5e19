"""Running totals over recorded sessions: a month's, a year's or all of them.

Free of Home Assistant, so the arithmetic is tested on its own. A total remembers the
highest `seq` of the session history it has looked at; after a restart it continues from
there, so a session is counted exactly once even when the saved total is older than the
history (a crash between recording a session and saving the total). A session counts in
the period its end falls in, in the home time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

type Record = dict[str, Any]
# What a session adds to a total; None when it has no such amount (an unpriced session).
type AmountFn = Callable[[Record], Decimal | None]
type SelectFn = Callable[[Record], bool]

WH_PER_KWH = Decimal(1000)


class Period(StrEnum):
    """How long a total runs before it starts again from zero."""

    MONTH = "month"
    YEAR = "year"
    ALL = "all"


def _local_midnight(tz: ZoneInfo, year: int, month: int) -> datetime:
    # Normalised through UTC: a midnight that a DST change skips becomes the first instant
    # that exists, and the result has the offset in force then.
    return datetime(year, month, 1, tzinfo=tz).astimezone(UTC).astimezone(tz)


def period_start(period: Period, moment: datetime, tz: ZoneInfo) -> datetime | None:
    """The start of the period containing `moment` (None for a total that never resets)."""
    local = moment.astimezone(tz)
    if period is Period.MONTH:
        return _local_midnight(tz, local.year, local.month)
    if period is Period.YEAR:
        return _local_midnight(tz, local.year, 1)
    return None


def next_period_start(period: Period, moment: datetime, tz: ZoneInfo) -> datetime | None:
    """When the period containing `moment` ends."""
    local = moment.astimezone(tz)
    if period is Period.MONTH:
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        return _local_midnight(tz, year, month)
    if period is Period.YEAR:
        return _local_midnight(tz, local.year + 1, 1)
    return None


def _calendar_key(period: Period, start: datetime) -> tuple[int, ...]:
    return (start.year, start.month) if period is Period.MONTH else (start.year,)


def _decimal(value: object) -> Decimal | None:
    """A finite decimal from a record's decimal string; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def ended_at(record: Record) -> datetime | None:
    """When the session ended (aware), if the record says so readably."""
    value = record.get("ended_at")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def started_at(record: Record) -> datetime | None:
    """When the session started (aware), if the record says so readably."""
    value = record.get("started_at")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def energy_kwh(record: Record) -> Decimal | None:
    """The session's energy in kWh (exact: the record's Wh over 1000)."""
    wh = _decimal(record.get("energy_wh"))
    return None if wh is None or wh < 0 else wh / WH_PER_KWH


def cost_in(currency: str) -> AmountFn:
    """The session's total cost, if it was priced in `currency`."""

    def amount(record: Record) -> Decimal | None:
        cost = record.get("cost")
        if not isinstance(cost, dict) or cost.get("currency") != currency:
            return None
        return _decimal(cost.get("total"))

    return amount


def person_id(record: Record) -> str | None:
    """The id of the person the session was attributed to."""
    authorization = record.get("authorization")
    if not isinstance(authorization, dict):
        return None
    value = authorization.get("person_id")
    return value if isinstance(value, str) and value else None


def person_name(record: Record) -> str | None:
    """The name of the person the session was attributed to, as recorded."""
    authorization = record.get("authorization")
    if not isinstance(authorization, dict):
        return None
    value = authorization.get("person")
    return value if isinstance(value, str) and value else None


def of_person(wanted: str) -> SelectFn:
    """Sessions attributed to the person with id `wanted`."""
    return lambda record: person_id(record) == wanted


def of_charger(serial: str | None, name: str) -> SelectFn:
    """Sessions of one charger, as the record names it.

    Records carry the charger's serial and name, not the config entry: the serial decides
    where there is one; a charger without a serial is known by its name.
    """

    def select(record: Record) -> bool:
        charger = record.get("charger")
        if not isinstance(charger, dict):
            return False
        if serial is not None:
            return bool(charger.get("serial") == serial)
        return charger.get("serial") is None and charger.get("name") == name

    return select


@dataclass
class RunningTotal:
    """A sum over the sessions of one period, and how far into the history it has read."""

    period: Period
    start: datetime | None
    value: Decimal = Decimal(0)
    seq: int = 0
    # Sessions that matched but had no amount (an unpriced session for a cost).
    missing: int = 0

    @classmethod
    def begin(cls, period: Period, now: datetime, tz: ZoneInfo) -> RunningTotal:
        """A new total at zero for the period containing `now`."""
        return cls(period=period, start=period_start(period, now, tz))

    def roll(self, now: datetime, tz: ZoneInfo) -> bool:
        """Start again from zero when `now` is in a later period; whether it did.

        The history position stays: sessions already read belong to the period before.
        """
        start = period_start(self.period, now, tz)
        if start is None:
            return False
        if self.start is not None and (
            start <= self.start
            or _calendar_key(self.period, start) == _calendar_key(self.period, self.start)
        ):
            # The same month or year by its own calendar (the start keeps the offset it was
            # made with), so a change of the home time zone does not empty it.
            return False
        self.start, self.value, self.missing = start, Decimal(0), 0
        return True

    def take(self, record: Record, select: SelectFn, amount: AmountFn) -> bool:
        """Count a newly recorded session if it is new, selected and in the period.

        Whether the total changed. A session ended before the period (recorded late, after
        a restart) belongs to the period before, which is no longer shown.
        """
        seq = record.get("seq")
        if not isinstance(seq, int) or seq <= self.seq:
            return False
        self.seq = seq
        if not select(record):
            return False
        end = ended_at(record)
        if end is None or (self.start is not None and end < self.start):
            return False
        value = amount(record)
        if value is None:
            self.missing += 1
            return True
        self.value += value
        return True

    def to_dict(self) -> dict[str, Any]:
        """JSON form, with the value exact."""
        return {
            "period": self.period.value,
            "start": None if self.start is None else self.start.isoformat(),
            "value": str(self.value),
            "seq": self.seq,
            "missing": self.missing,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], period: Period) -> RunningTotal | None:
        """Back from JSON; None when the data is not a total of `period`."""
        try:
            if data.get("period") != period.value:
                return None
            start = None if data.get("start") is None else datetime.fromisoformat(data["start"])
            value = _decimal(data.get("value"))
            seq = data.get("seq")
            missing = data.get("missing", 0)
        except (AttributeError, TypeError, ValueError):
            return None
        if (
            value is None
            or not isinstance(seq, int)
            or not isinstance(missing, int)
            or (start is not None and start.tzinfo is None)
            or (start is None) != (period is Period.ALL)
        ):
            return None
        return cls(period=period, start=start, value=value, seq=max(seq, 0), missing=missing)
