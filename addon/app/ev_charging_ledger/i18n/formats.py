"""Local number and date formats for people: decimal mark, dates and times in the
reader's language."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def local_time(moment: datetime, lang: str, *, date_only: bool = False) -> str:
    """A local date and time for people: ``1 Dec 2026, 14:51`` or ``01.12.2026, 14:51``."""
    if lang == "de":
        day = f"{moment.day:02d}.{moment.month:02d}.{moment.year}"
    else:
        day = f"{moment.day} {_MONTHS_EN[moment.month - 1]} {moment.year}"
    return day if date_only else f"{day}, {moment.hour:02d}:{moment.minute:02d}"


def uses_decimal_comma(lang: str) -> bool:
    return lang == "de"


def number(value: Decimal | int | None, lang: str, places: int | None = None) -> str:
    """A number for people: locale decimal mark, no thousands separators (Excel-safe)."""
    if value is None:
        return ""
    if places is not None:
        value = Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    out = format(value, "f")
    return out.replace(".", ",") if uses_decimal_comma(lang) else out
