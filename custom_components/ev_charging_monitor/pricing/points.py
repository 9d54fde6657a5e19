"""The price points of a dynamic tariff as published over time, newest publication first.

Home Assistant-free. Price sources republish: today's list again with tomorrow's appended, a
15-minute list after an hourly one for the same hours, a corrected price. Each publication
replaces what was known before over exactly the spans its points cover (not over gaps in
it), so overlapping lists never conflict: the newest word on a moment wins. Points that can
not be used (no time zone, end before start, a price that is not a finite number) are left
out and reported, never guessed; a point without a price stays a known gap, priced by
nobody.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .tariff import DynamicTariff, PricePoint


@dataclass
class PriceBook:
    """Non-overlapping price points in time order, built from successive publications."""

    points: list[PricePoint] = field(default_factory=list)

    def publish(self, points: Iterable[PricePoint]) -> list[str]:
        """Take a publication; return why any of its points was left out.

        Within one publication, a later point also replaces an earlier one it overlaps.
        """
        problems: list[str] = []
        for point in points:
            problem = _problem(point)
            if problem is not None:
                problems.append(problem)
                continue
            self._put(
                PricePoint(
                    point.start.astimezone(UTC), point.end.astimezone(UTC), point.price_per_kwh
                )
            )
        return problems

    def _put(self, new: PricePoint) -> None:
        starts = [point.start for point in self.points]
        # Every point that may overlap [new.start, new.end): the one before new.start and
        # all starting before new.end.
        first = max(bisect.bisect_right(starts, new.start) - 1, 0)
        last = bisect.bisect_left(starts, new.end)
        kept: list[PricePoint] = []
        for old in self.points[first:last]:
            if old.end <= new.start or old.start >= new.end:
                kept.append(old)
                continue
            if old.start < new.start:
                kept.append(PricePoint(old.start, new.start, old.price_per_kwh))
            if old.end > new.end:
                kept.append(PricePoint(new.end, old.end, old.price_per_kwh))
        kept.append(new)
        kept.sort(key=lambda point: point.start)
        self.points[first:last] = kept

    def prune(self, before: datetime) -> int:
        """Forget points that ended at or before `before`; return how many."""
        keep = [point for point in self.points if point.end > before]
        dropped = len(self.points) - len(keep)
        self.points = keep
        return dropped

    def tariff(self, currency: str, name: str) -> DynamicTariff:
        """A tariff of the points known now."""
        return DynamicTariff(points=tuple(self.points), currency=currency, name=name)

    def to_dict(self) -> dict[str, Any]:
        """Storage form (JSON-compatible, prices as text so nothing is rounded)."""
        return {
            "points": [
                [
                    point.start.isoformat(),
                    point.end.isoformat(),
                    None if point.price_per_kwh is None else str(point.price_per_kwh),
                ]
                for point in self.points
            ]
        }

    @classmethod
    def from_dict(cls, data: Any) -> tuple[PriceBook, list[str]]:
        """The book stored by `to_dict`; rows that cannot be read are left out and reported."""
        book = cls()
        rows = data.get("points") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            return book, ["stored prices have no list of points"]
        points: list[PricePoint] = []
        problems: list[str] = []
        for row in rows:
            try:
                start, end, price = row
                points.append(
                    PricePoint(
                        datetime.fromisoformat(start),
                        datetime.fromisoformat(end),
                        None if price is None else Decimal(price),
                    )
                )
            except (TypeError, ValueError, ArithmeticError):
                problems.append(f"stored price point {row!r} cannot be read")
        problems.extend(book.publish(points))
        return book, problems


def _problem(point: PricePoint) -> str | None:
    for label, moment in (("start", point.start), ("end", point.end)):
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            return f"price point {label} {moment!r} has no time zone"
    if point.end <= point.start:
        return f"price point {point.start.isoformat()} to {point.end.isoformat()} has no duration"
    price = point.price_per_kwh
    if price is not None and not (isinstance(price, Decimal) and price.is_finite()):
        return f"price point at {point.start.isoformat()} has price {price!r}, not a number"
    return None
