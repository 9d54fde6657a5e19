"""Parsing of request parameters shared by the JSON API and the web UI.

Everything that comes from a URL is text of any length: each parser either returns a
value the storage layer can take (SQLite integers are 64-bit, ``datetime`` ends at year
9999) or raises :class:`BadRequestError` with a message for the user, so no parameter
can reach the database or the calendar code as an unhandled overflow.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from ev_charging_ledger.records import RecordError, parse_utc

MAX_ID = 2**62
FIRST_YEAR, LAST_YEAR = 2000, 2200
_DIGITS = re.compile(r"[0-9]{1,19}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_CURSOR = re.compile(r"([0-9TZ:.\-]{1,40})~([0-9]{1,19})")
# The earliest and latest instants any stored session can have, with room for offsets.
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)

Bound = Literal["from", "to"]


class BadRequestError(Exception):
    """The request's parameters or body are not acceptable."""

    status = 400


class UnprocessableError(BadRequestError):
    """Well-formed (the schema allows it), but the values cannot be used together."""

    status = 422


def positive_id(text: str, name: str) -> int:
    """An id from a path or query: 1 .. 2**62, ASCII digits only."""
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_ID:
        raise BadRequestError(f"{name} must be an integer between 1 and {MAX_ID}")
    return int(text)


def month(text: str) -> str:
    """``YYYY-MM`` with a real month between 2000-01 and 2200-12."""
    match = _MONTH.fullmatch(text)
    if match is None:
        raise BadRequestError("month must be YYYY-MM")
    year, number = int(match[1]), int(match[2])
    if not 1 <= number <= 12:
        raise BadRequestError("month must be YYYY-MM with a month from 01 to 12")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadRequestError(f"month must be between {FIRST_YEAR}-01 and {LAST_YEAR}-12")
    return text


def cursor(text: str | None) -> str | None:
    """A ``next_cursor`` from a previous page; empty means the first page."""
    if not text:
        return None
    match = _CURSOR.fullmatch(text)
    if match is None:
        raise BadRequestError("invalid cursor: pass next_cursor of the previous page unchanged")
    # No entry is numbered that high, so the page is the same, and SQLite can bind it.
    return f"{match[1]}~{min(int(match[2]), MAX_ID)}"


def time_bound(text: str | None, name: Bound) -> datetime | None:
    """A ``from``/``to`` time with a UTC offset.

    Times at the ends of the calendar (``0001-01-01T00:00:00+01:00`` has no UTC
    equivalent) are clamped: nothing is stored that early or that late, so the answer
    is the same as for the nearest representable instant.
    """
    if text is None:
        return None
    try:
        return parse_utc(text, name)
    except RecordError as err:
        raise UnprocessableError(str(err)) from err
    except OverflowError:
        return _EARLIEST if text.lstrip().startswith("0001") else _LATEST


def day_bound(day: date | None, name: Bound, zone: tzinfo) -> datetime | None:
    """The start (``from``) or end (``to``, exclusive) of a local calendar day, as UTC."""
    if day is None:
        return None
    try:
        if name == "to":
            day += timedelta(days=1)
        return datetime.combine(day, time.min, zone).astimezone(UTC)
    except OverflowError:
        # date.max + 1 day, or year 1 shifted before the calendar by the zone's offset.
        return _EARLIEST if day.year == 1 else _LATEST
