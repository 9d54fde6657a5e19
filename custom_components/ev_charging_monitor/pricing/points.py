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
from itertools import pairwise
from typing import Any

from .tariff import DynamicTariff, PricePoint

# A year of quarter hours is 35 040; a list far longer than any source publishes is cut.
MAX_POINTS = 100_000


@dataclass
class PriceBook:
    """Non-overlapping price points in time order, built from successive publications."""

    points: list[PricePoint] = field(default_factory=list)

    def publish(self, points: Iterable[PricePoint]) -> list[str]:
        """Take a publication; return why any of its points was left out.

        Within one publication, a later point also replaces an earlier one it overlaps.
        """
        problems: list[str] = []
        fresh: list[PricePoint] = []
        for point in points:
            if len(fresh) >= MAX_POINTS:
                problems.append(f"more than {MAX_POINTS} prices in one list; the rest is left out")
                break
            problem = _problem(point)
            if problem is not None:
                problems.append(problem)
                continue
            fresh.append(
                PricePoint(
                    point.start.astimezone(UTC), point.end.astimezone(UTC), point.price_per_kwh
                )
            )
        layer = sorted(fresh, key=lambda point: point.start)
        if any(after.start < before.end for before, after in pairwise(layer)):
            # Rare: the list overlaps itself. Applied point by point, in published order.
            own = PriceBook()
            for point in fresh:
                own._put(point)
            layer = own.points
        self._overlay(layer)
        return problems

    def _overlay(self, layer: list[PricePoint]) -> None:
        """Lay sorted, non-overlapping points over the book: they win where they reach."""
        if not layer:
            return
        starts = [point.start for point in layer]
        kept: list[PricePoint] = []
        for old in self.points:
            cursor = old.start
            index = max(bisect.bisect_right(starts, old.start) - 1, 0)
            while index < len(layer) and layer[index].start < old.end and cursor < old.end:
                new = layer[index]
                if new.end > cursor:
                    if new.start > cursor:
                        kept.append(PricePoint(cursor, new.start, old.price_per_kwh))
                    cursor = new.end
                index += 1
            if cursor < old.end:
                kept.append(PricePoint(cursor, old.end, old.price_per_kwh))
        self.points = sorted([*kept, *layer], key=lambda point: point.start)

    def _put(self, new: PricePoint) -> None:
        self._overlay([new])

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
