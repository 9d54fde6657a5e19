"""Numbers as the device meant them: no float32 noise, scaled and rounded in decimal.

A float32 register holding 5432.1 reads back as 5432.10009765625, and 11.04 kW times 1000
is 11039.999961853027 W: binary noise the device never showed. Every numeric value the
library reports stands for its shortest decimal (`exact()`, `shortest_f32_text()`), is
scaled in decimal (Modbus: as exact fractions, modbus/decoding.py), and is rounded to the
value's resolution where one is known, so what reaches a state is the figure the device
means.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from decimal import Decimal

_F32 = struct.Struct(">f")


def shortest_f32_text(value: float) -> str:
    """The shortest decimal that is the same float32 as `value` (a finite float32), as text."""
    if value == 0:
        return "0"
    # Six digits first: a float32 lies within 3e-8 (relative) of the decimal it stands for,
    # so rounding it to six digits finds every shorter decimal too ('g' drops the zeros).
    # Nine significant digits identify every float32.
    for digits in range(6, 10):
        text = f"{value:.{digits}g}"
        if _F32.unpack(_F32.pack(float(text)))[0] == value:
            return text
    return repr(value)  # pragma: no cover - nine digits always suffice


def shortest_f32(value: float) -> Decimal:
    """The shortest decimal that is the same float32 as `value` (which is one)."""
    if not math.isfinite(value):
        return Decimal(repr(value))
    return Decimal(shortest_f32_text(value))


def exact(value: int | float, *, float32: bool = False) -> Decimal:
    """The decimal a device value stands for: ints as they are, floats by their shortest form."""
    if isinstance(value, int):
        return Decimal(value)
    return shortest_f32(value) if float32 else Decimal(repr(value))


def quantize(value: Decimal, resolution: Decimal) -> Decimal:
    """`value` rounded to a whole number of `resolution` steps (half to even)."""
    steps = (value / resolution).to_integral_value()
    return steps * resolution


def as_float(value: Decimal) -> float:
    """The float whose shortest form is `value` (so it prints as the decimal does)."""
    return float(value)


def scaled(
    value: int | float,
    *,
    scale: float = 1.0,
    resolution: float | None = None,
    float32: bool = False,
) -> int | float:
    """value x scale, rounded to `resolution` (in scaled units), without binary noise."""
    if isinstance(value, int) and scale == 1.0 and resolution is None:
        return value
    number = exact(value, float32=float32)
    if scale != 1.0:
        number *= Decimal(repr(scale))
    if resolution is not None:
        number = quantize(number, Decimal(repr(resolution)))
    return as_float(number)


def decimal_ratio(value: float) -> tuple[int, int]:
    """The exact fraction of a float's shortest decimal: 0.1 is (1, 10), not 0.1's binary."""
    numerator, denominator = Decimal(repr(value)).as_integer_ratio()
    return numerator, denominator


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded to a whole number, half to even."""
    whole, rest = divmod(numerator, denominator)
    twice = 2 * rest
    if twice > denominator or (twice == denominator and whole % 2):
        whole += 1
    return whole


def clean_sum(values: Iterable[float | None]) -> float | None:
    """The sum in decimal (0.1 + 0.2 is 0.3); None when any part is unknown."""
    total = Decimal(0)
    for value in values:
        if value is None:
            return None
        total += exact(value)
    return as_float(total)
