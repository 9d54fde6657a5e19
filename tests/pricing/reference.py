"""A second, deliberately simple cost method to check the real one against.

It walks the session minute by minute: the register at each minute comes from straight-line
interpolation between the readings (in exact fractions), and each minute's energy is priced
by a plain function of the time written in the test itself. It shares no code with the
module under test, so agreeing to the cent means something.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

MINUTE = timedelta(minutes=1)


def register_at(samples: Sequence[tuple[datetime, Decimal]], moment: datetime) -> Fraction:
    """The register at a moment, on the straight line between the readings around it."""
    for (t0, e0), (t1, e1) in itertools.pairwise(samples):
        if t0 <= moment <= t1:
            share = Fraction((moment - t0).total_seconds()) / Fraction((t1 - t0).total_seconds())
            return Fraction(e0) + (Fraction(e1) - Fraction(e0)) * share
    raise AssertionError(f"{moment} is outside the session")


def minute_by_minute(
    samples: Sequence[tuple[datetime, Decimal]],
    price_at: Callable[[datetime], Decimal | None],
) -> tuple[Decimal, Fraction]:
    """(cost rounded to cents, energy without a price in Wh); the session is whole minutes."""
    start, end = samples[0][0], samples[-1][0]
    cost = Fraction(0)
    unpriced = Fraction(0)
    moment = start
    while moment < end:
        energy = register_at(samples, moment + MINUTE) - register_at(samples, moment)
        price = price_at(moment)
        if price is None:
            unpriced += energy
        else:
            cost += energy * Fraction(price) / 1000
        moment += MINUTE
    cents = Decimal(cost.numerator) / Decimal(cost.denominator)
    return cents.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), unpriced
