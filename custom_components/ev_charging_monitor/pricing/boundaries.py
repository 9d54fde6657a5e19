"""Where a tariff's price may change next, so a register reading can be taken right there.

Home Assistant-free. A price line is exact only when the meter register is read at both of
its edges; the integration asks for the next edge and polls the charger at that moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .tariff import Tariff

# Far enough to see past a weekend and a clock change; a tariff without a change in this
# window is asked again at its end.
HORIZON = timedelta(days=8)


def next_boundary(tariff: Tariff | None, after: datetime) -> datetime | None:
    """The first moment strictly after `after` where a price line of `tariff` ends.

    Flat: never (None). Time of use: where the price on the wall clock changes, including
    at clock changes (computed in UTC, so a skipped or repeated hour is handled). Dynamic:
    every edge of a price point and of a gap between points.
    """
    if tariff is None:
        return None
    end = after + HORIZON
    for interval in tariff.price_intervals(after, end):
        if after < interval.end < end:
            return interval.end
    return None
