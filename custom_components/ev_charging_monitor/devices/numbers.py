"""Numbers as the device meant them: no float32 noise, scaled and rounded in decimal.

A float32 register holding 5432.1 reads back as 5432.10009765625, and 11.04 kW times 1000
is 11039.999961853027 W: binary noise the device never showed. Every numeric value the
library reports goes through `exact()` (the shortest decimal that is still the same
register value), is scaled in decimal, and is rounded to the value's resolution where one
is known, so what reaches a state is the figure the device means.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from decimal import Decimal

_F32 = struct.Struct(">f")


def shortest_f32(value: float) -> Decimal:
    """The shortest decimal that is the same float32 as `value` (which is one)."""
    if value == 0 or not math.isfinite(value):
        return Decimal(0) if value == 0 else Decimal(repr(value))
    # Six digits first: a float32 lies within 3e-8 (relative) of the decimal it stands for,
    # so rounding it to six digits finds every shorter decimal too ('g' drops the zeros).
    # Nine significant digits identify every float32.
    for digits in range(6, 10):
        text = f"{value:.{digits}g}"
        if _F32.unpack(_F32.pack(float(text)))[0] == value:
            return Decimal(text)
    return Decimal(repr(value))  # pragma: no cover - nine digits always suffice


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


def times_ten_to(value: int | float, exponent: int) -> int | float:
    """value x 10^exponent (a SunSpec scale factor), exact in decimal; whole stays whole."""
    exponent = int(exponent)
    if isinstance(value, int) and exponent >= 0:
        whole: int = value * 10**exponent
        return whole
    return as_float(exact(value).scaleb(exponent))


def clean_sum(values: Iterable[float | None]) -> float | None:
    """The sum in decimal (0.1 + 0.2 is 0.3); None when any part is unknown."""
    total = Decimal(0)
    for value in values:
        if value is None:
            return None
        total += exact(value)
    return as_float(total)
