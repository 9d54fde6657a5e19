"""The compiled decoders against a slow reference, over many random register values.

The reference here is written for clarity, not speed, and shares no code with the library:
the registers are joined with shifts, the float bits unpacked with struct, a float32's
shortest decimal found by numpy (a second implementation), and scaling and rounding done
in Decimal at 200 digits with Fraction for the division, so nothing in it can round early.
Every numeric value layout of the shipped profiles is checked (type, word order, scale,
resolution, mask, shift, sentinels), plus a few layouts no profile ships yet.
"""

from __future__ import annotations

import math
import struct
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import Any

import numpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.ev_charging_monitor.devices.modbus.codecs import (
    NUMERIC_WIDTH,
    DataType,
    WordOrder,
)
from custom_components.ev_charging_monitor.devices.modbus.decoding import (
    compile_decoder,
    decode_value,
    scale_factor_applier,
)
from custom_components.ev_charging_monitor.devices.modbus.profile import (
    RegisterSpec,
    Table,
    shipped_profiles,
)

_FLOAT_FORMAT = {DataType.F32: ">f", DataType.F64: ">d"}
_SIGNED = {DataType.I16, DataType.I32, DataType.I64}


# -- the reference --------------------------------------------------------------------------


def _unsigned(words: list[int], word_order: WordOrder) -> int:
    ordered = words[::-1] if word_order is WordOrder.LITTLE else words
    raw = 0
    for word in ordered:
        raw = raw * 65536 + word
    return raw


def _meaning(spec: RegisterSpec, raw: int) -> Decimal | int | None:
    """The number the registers stand for, before scaling: an exact decimal or an int."""
    bits = 16 * spec.count
    if spec.type in _FLOAT_FORMAT:
        value = struct.unpack(_FLOAT_FORMAT[spec.type], raw.to_bytes(bits // 8, "big"))[0]
        if math.isnan(value) or math.isinf(value):
            return None
        if spec.type is DataType.F32:
            text = numpy.format_float_positional(numpy.float32(value), unique=True, trim="-")
            return Decimal(text)
        return Decimal(repr(value))  # a float64 is the shortest decimal Python prints
    if spec.type in _SIGNED and raw >= 2 ** (bits - 1):
        return raw - 2**bits
    return raw


def reference(spec: RegisterSpec, words: list[int]) -> Any:
    """What a person working by hand reads off the registers (spec.scale_factor unused)."""
    raw = _unsigned(words, spec.word_order)
    if raw in spec.sentinels:
        return None
    number = _meaning(spec, raw)
    if number is None:
        return None
    if spec.mask is not None or spec.shift:
        mask = spec.mask if spec.mask is not None else -1
        number = (int(number) >> spec.shift) & mask
    if spec.enum is not None:
        whole = int(number)
        return spec.enum.get(whole, spec.enum.get(str(whole)))
    if isinstance(number, int) and spec.scale == 1.0 and spec.resolution is None:
        return number
    return _scaled(Decimal(number), spec.scale, spec.resolution)


def _scaled(number: Decimal, scale: float, resolution: float | None) -> float:
    with localcontext() as context:
        context.prec = 200
        exact = number * Decimal(repr(scale))
        if resolution is not None:
            step = Decimal(repr(resolution))
            steps = round(Fraction(exact) / Fraction(step))  # round() on Fraction: half even
            exact = steps * step
        return float(str(exact))


# -- the layouts ----------------------------------------------------------------------------


def _spec(data_type: DataType, **kwargs: Any) -> RegisterSpec:
    return RegisterSpec(
        name="value",
        table=Table.HOLDING,
        address=0,
        unit=1,
        type=data_type,
        count=NUMERIC_WIDTH[data_type],
        **kwargs,
    )


def _shipped_layouts() -> list[RegisterSpec]:
    """One spec per distinct numeric layout in the shipped profiles (address and name aside)."""
    layouts: dict[tuple[Any, ...], RegisterSpec] = {}
    for profile in shipped_profiles().values():
        for spec in profile.values:
            if spec.type not in NUMERIC_WIDTH:
                continue
            key = (
                spec.type,
                spec.word_order,
                spec.scale,
                spec.resolution,
                spec.mask,
                spec.shift,
                spec.sentinels,
                None if spec.enum is None else tuple(sorted(map(str, spec.enum.items()))),
                spec.scale_factor is not None,
            )
            layouts.setdefault(key, spec)
    return list(layouts.values())


SHIPPED = _shipped_layouts()
EXTRA = [
    _spec(DataType.U16, scale=0.3),  # 7 x 0.3 is 2.1, not 2.0999999999999996
    _spec(DataType.I32, word_order=WordOrder.LITTLE, scale=0.01, resolution=0.1),
    _spec(DataType.U64, word_order=WordOrder.LITTLE, scale=0.001),
    _spec(DataType.I64, scale=0.1, resolution=0.5),
    _spec(DataType.F32, scale=1000.0, resolution=10.0),
    _spec(DataType.F32, word_order=WordOrder.LITTLE, scale=0.001, resolution=0.25),
    _spec(DataType.F64, scale=0.001),
    _spec(DataType.U16, resolution=0.5),
    _spec(DataType.I16, mask=0x0FF0, shift=4, scale=0.1),
    _spec(DataType.U32, sentinels=frozenset({0xFFFFFFFF, 0x80000000}), scale=0.01),
    _spec(DataType.U16, enum={1: "one", "2": "two"}),
]


def _describe(spec: RegisterSpec) -> str:
    return (
        f"{spec.type}-{spec.word_order}-x{spec.scale}-r{spec.resolution}-m{spec.mask}"
        f"-s{spec.shift}-{len(spec.sentinels)}sent-{'enum' if spec.enum else ''}"
    )


def test_every_shipped_numeric_type_and_scale_is_covered() -> None:
    """The layouts list really spans what the profiles use (so the random test means it)."""
    types = {spec.type for spec in SHIPPED}
    scales = {spec.scale for spec in SHIPPED}
    assert {DataType.U16, DataType.I16, DataType.U32, DataType.F32} <= types
    assert {0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0} <= scales
    assert any(spec.resolution is not None for spec in SHIPPED)
    assert any(spec.sentinels for spec in SHIPPED)


def _words(count: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, 0xFFFF), min_size=count, max_size=count)


def _float_words(spec: RegisterSpec) -> st.SearchStrategy[list[int]]:
    """Register words of floats: any bit pattern, and ordinary values a meter shows."""
    fmt = _FLOAT_FORMAT[spec.type]
    width = 32 if spec.type is DataType.F32 else 64
    plain = st.floats(width=width, allow_subnormal=False) | st.decimals(
        min_value=-1_000_000, max_value=1_000_000, places=3, allow_nan=False
    ).map(float)

    def words(value: float) -> list[int]:
        data = struct.pack(fmt, value)
        big = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        return big[::-1] if spec.word_order is WordOrder.LITTLE else big

    return st.one_of(_words(spec.count), plain.map(words))


def _normal(spec: RegisterSpec, words: list[int]) -> bool:
    """numpy prints a subnormal float32 shorter than the library does (see the report)."""
    if spec.type is not DataType.F32:
        return True
    exponent = (_unsigned(words, spec.word_order) >> 23) & 0xFF
    return exponent != 0 or _unsigned(words, spec.word_order) & 0x7FFFFF == 0


def _same(actual: Any, expected: Any) -> bool:
    return type(actual) is type(expected) and (actual == expected or actual is expected)


@pytest.mark.parametrize("spec", SHIPPED + EXTRA, ids=_describe)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_decoder_matches_the_reference(spec: RegisterSpec, data: st.DataObject) -> None:
    """The compiled decoder, at any offset in a block, gives what the reference gives."""
    plain = spec.scale_factor is None
    if not plain:  # the factor's own rounding is checked below; here only the scale
        spec = RegisterSpec(**{**spec.__dict__, "scale_factor": None, "resolution": None})
    strategy = _float_words(spec) if spec.type in _FLOAT_FORMAT else _words(spec.count)
    if spec.sentinels:
        strategy |= st.sampled_from(_sentinel_words(spec))
    words = data.draw(strategy)
    if not _normal(spec, words):
        return
    before = data.draw(_words(0) | _words(3))
    block = before + words + [0x1234]
    expected = reference(spec, words)
    decode = compile_decoder(spec)
    assert _same(decode(block, len(before)), expected), (words, expected)
    assert _same(decode_value(spec, words), expected), (words, expected)


def _sentinel_words(spec: RegisterSpec) -> list[list[int]]:
    words = []
    for sentinel in sorted(spec.sentinels):
        big = [(sentinel >> (16 * i)) & 0xFFFF for i in reversed(range(spec.count))]
        words.append(big[::-1] if spec.word_order is WordOrder.LITTLE else big)
    return words


@pytest.mark.parametrize("spec", [s for s in SHIPPED + EXTRA if s.sentinels], ids=_describe)
def test_every_sentinel_is_none(spec: RegisterSpec) -> None:
    """A "not available" pattern is None, never a number."""
    for words in _sentinel_words(spec):
        assert decode_value(spec, words) is None, words


@pytest.mark.parametrize(
    ("data_type", "value"),
    [
        (DataType.F32, math.nan),
        (DataType.F32, math.inf),
        (DataType.F32, -math.inf),
        (DataType.F64, math.nan),
        (DataType.F64, -math.inf),
    ],
)
def test_nan_and_infinity_are_none(data_type: DataType, value: float) -> None:
    """A float register without a value (NaN, infinite) is None, scaled or not."""
    data = struct.pack(_FLOAT_FORMAT[data_type], value)
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    assert decode_value(_spec(data_type), words) is None
    assert decode_value(_spec(data_type, scale=1000.0, resolution=0.1), words) is None


def test_float64_beyond_float_range_after_scaling_is_infinite() -> None:
    """1e308 kWh in Wh exceeds a float: infinite (read() turns that into None), no crash."""
    data = struct.pack(">d", 1e308)
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, 8, 2)]
    assert decode_value(_spec(DataType.F64, scale=1000.0), words) == math.inf
    assert reference(_spec(DataType.F64, scale=1000.0), words) == math.inf


@settings(max_examples=400, deadline=None)
@given(
    value=st.integers(-32768, 0xFFFFFFFF) | st.decimals(-1_000_000, 1_000_000, places=3).map(float),
    exponent=st.integers(-6, 6),
    resolution=st.sampled_from([None, 0.01, 0.1, 0.5, 1.0, 10.0]),
)
def test_scale_factor_matches_the_reference(
    value: int | float, exponent: int, resolution: float | None
) -> None:
    """value x 10^sf (SunSpec), rounded to the resolution; whole x 10^(sf >= 0) stays whole."""
    actual = scale_factor_applier(resolution)(value, exponent)
    with localcontext() as context:
        context.prec = 200
        exact = Decimal(value if isinstance(value, int) else repr(value)).scaleb(exponent)
        if resolution is None and isinstance(value, int) and exponent >= 0:
            expected: int | float = int(exact)
        elif resolution is None:
            expected = float(str(exact))
        else:
            step = Decimal(repr(resolution))
            steps = (exact / step).to_integral_value(rounding=ROUND_HALF_EVEN)
            expected = float(str(steps * step))
    assert _same(actual, expected), (value, exponent, resolution)
