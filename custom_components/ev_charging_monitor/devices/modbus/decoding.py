"""Register values to numbers and strings, with each value's decoder built once.

Every poll decodes every value of a profile, so the work that depends only on the profile
(the scale as an exact fraction, the word order, sign, mask, sentinels) is done once per
value when a device plans its reads; a poll then runs a few integer operations per value.

Numbers stay the decimal the register means (see numbers.py): a scaled value is computed
as an exact fraction and turned into the nearest float only at the end (Python's int /
int is correctly rounded), so 12345 with scale 0.1 is 1234.5, never 1234.5000000000002.
A float32 stands for its shortest decimal; a resolution rounds to whole steps, half to even.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ..numbers import decimal_ratio, round_half_even, shortest_f32_text
from .codecs import NUMERIC_WIDTH, STRING_TYPES, DataType, WordOrder, decode_string, decode_version
from .profile_model import RegisterSpec

# (the registers of a read block, the value's offset in them) -> the decoded value
Decoder = Callable[[Sequence[int], int], Any]
# An exact value as (numerator, denominator > 0) -> the scaled value
_Scaler = Callable[[int, int], int | float]

_SIGNED = frozenset({DataType.I16, DataType.I32, DataType.I64})
_FLOATS = {DataType.F32: struct.Struct(">f"), DataType.F64: struct.Struct(">d")}


def decode_value(spec: RegisterSpec, registers: Sequence[int]) -> Any:
    """Decode one value from its own registers; sentinels and NaN become None, never 0."""
    return compile_decoder(spec)(registers, 0)


def compile_decoder(spec: RegisterSpec) -> Decoder:
    """The decoder of one value, for its registers at an offset in a block.

    A value with a scale factor is scaled here but rounded once the factor is applied
    (scale_factor_applier), as its resolution counts in final units.
    """
    data_type = spec.type
    count = spec.count
    if data_type is DataType.BOOL:
        return lambda registers, offset: bool(registers[offset])
    if data_type in STRING_TYPES:
        return lambda registers, offset: decode_string(
            list(registers[offset : offset + count]), data_type
        )
    if data_type is DataType.VERSION:
        bits, order = spec.version_bits, spec.word_order
        return lambda registers, offset: decode_version(
            list(registers[offset : offset + count]), bits, order
        )
    width = NUMERIC_WIDTH[data_type]
    read_raw = _raw_reader(width, spec.word_order)
    sentinels = spec.sentinels
    resolution = None if spec.scale_factor else spec.resolution
    finish = _integer_finisher(spec, resolution)
    if (unpack := _FLOATS.get(data_type)) is not None:
        return _float_decoder(spec, read_raw, unpack, finish, resolution)
    if data_type in _SIGNED:
        half = 1 << (16 * width - 1)
        full = 1 << (16 * width)

        def signed(registers: Sequence[int], offset: int) -> Any:
            raw = read_raw(registers, offset)
            if sentinels and raw in sentinels:
                return None
            return finish(raw - full if raw >= half else raw)

        return signed

    def unsigned(registers: Sequence[int], offset: int) -> Any:
        raw = read_raw(registers, offset)
        if sentinels and raw in sentinels:
            return None
        return finish(raw)

    return unsigned


def _raw_reader(width: int, word_order: WordOrder) -> Callable[[Sequence[int], int], int]:
    """The value's registers as one unsigned integer (what sentinels are compared with)."""
    if width == 1:
        return lambda registers, offset: registers[offset]
    little = word_order is WordOrder.LITTLE
    if width == 2:
        if little:
            return lambda registers, offset: (registers[offset + 1] << 16) | registers[offset]
        return lambda registers, offset: (registers[offset] << 16) | registers[offset + 1]

    def wide(registers: Sequence[int], offset: int) -> int:
        words = registers[offset : offset + width]
        raw = 0
        for word in reversed(words) if little else words:
            raw = (raw << 16) | word
        return raw

    return wide


def _integer_finisher(spec: RegisterSpec, resolution: float | None) -> Callable[[int], Any]:
    """Mask and shift, then the enum's label or the scaled number, of an integer value."""
    mask = -1 if spec.mask is None else spec.mask
    shift = spec.shift
    enum = spec.enum
    masked = spec.mask is not None or shift != 0
    if enum is not None:

        def label(value: int) -> Any:
            if masked:
                value = (value >> shift) & mask
            return enum.get(value, enum.get(str(value)))

        return label
    scale = _scaler(spec.scale, resolution)
    if scale is None and not masked:
        return lambda value: value
    if scale is None:
        return lambda value: (value >> shift) & mask
    if not masked:
        return lambda value: scale(value, 1)
    return lambda value: scale((value >> shift) & mask, 1)


def _scaler(scale: float, resolution: float | None) -> _Scaler | None:
    """value x scale rounded to `resolution`, in exact fractions; None: an integer stays."""
    if scale == 1.0 and resolution is None:
        return None
    scale_num, scale_den = decimal_ratio(scale)
    if resolution is None:

        def scaled(num: int, den: int) -> float:
            try:
                return (num * scale_num) / (den * scale_den)
            except OverflowError:  # a float64 scaled beyond the float range, as Decimal did
                return math.copysign(math.inf, num)

        return scaled
    step_num, step_den = decimal_ratio(resolution)
    # steps = value x scale / resolution, rounded; the result is steps x resolution.
    times, over = scale_num * step_den, scale_den * step_num

    def rounded(num: int, den: int) -> float:
        try:
            return (round_half_even(num * times, den * over) * step_num) / step_den
        except OverflowError:
            return math.copysign(math.inf, num)

    return rounded


def _float_decoder(
    spec: RegisterSpec,
    read_raw: Callable[[Sequence[int], int], int],
    unpack: struct.Struct,
    finish: Callable[[int], Any],
    resolution: float | None,
) -> Decoder:
    """A float32/float64 value: its shortest decimal, scaled; NaN and infinities are None."""
    sentinels = spec.sentinels
    size = unpack.size
    to_number = spec.mask is not None or spec.shift != 0 or spec.enum is not None
    float32 = spec.type is DataType.F32
    scale = _scaler(spec.scale, resolution)

    def decode(registers: Sequence[int], offset: int) -> Any:
        raw = read_raw(registers, offset)
        if sentinels and raw in sentinels:
            return None
        value: float = unpack.unpack(raw.to_bytes(size))[0]
        if not math.isfinite(value):
            return None
        if to_number:  # a float with a mask or labels counts as its whole number
            return finish(int(value))
        if float32:
            text = shortest_f32_text(value)
            if scale is None:
                return float(text)
            num, den = Decimal(text).as_integer_ratio()
            return scale(num, den)
        if scale is None:
            return value  # a float64 is its own shortest decimal
        num, den = decimal_ratio(value)
        return scale(num, den)

    return decode


def scale_factor_applier(
    resolution: float | None,
) -> Callable[[int | float, int | float], int | float]:
    """value x 10^exponent (a SunSpec scale factor) rounded to `resolution`, exact.

    A whole value with a factor of at least 0 stays whole.
    """
    step = None if resolution is None else decimal_ratio(resolution)

    def apply(value: int | float, exponent: int | float) -> int | float:
        power = int(exponent)
        whole = isinstance(value, int)
        num, den = (int(value), 1) if whole else decimal_ratio(value)
        if power >= 0:
            num *= 10**power
        else:
            den *= 10**-power
        try:
            if step is None:
                return num if whole and power >= 0 else num / den
            step_num, step_den = step
            return (round_half_even(num * step_den, den * step_num) * step_num) / step_den
        except OverflowError:
            return math.copysign(math.inf, num)

    return apply
