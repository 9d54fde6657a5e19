"""Turn Modbus registers into numbers and strings, and numbers back into registers."""

from __future__ import annotations

import math
import struct
from enum import StrEnum


class DataType(StrEnum):
    """How a value is laid out in registers."""

    U16 = "u16"
    I16 = "i16"
    U32 = "u32"
    I32 = "i32"
    U64 = "u64"
    I64 = "i64"
    F32 = "f32"
    F64 = "f64"
    ASCII = "ascii"  # two characters per register, high byte first
    ASCII_SWAPPED = "ascii_swapped"  # two characters per register, low byte first
    UTF16 = "utf16"  # one UTF-16BE character per register
    HEX = "hex"  # binary identifiers (serials, RFID UIDs) shown as hex
    BOOL = "bool"  # a coil or discrete input
    VERSION = "version"  # a packed x.y.z number, shown with dots ("1.2.3", not 4611)


class WordOrder(StrEnum):
    """Order of the 16-bit words of a 32/64-bit value."""

    BIG = "big"  # high word first ("ABCD")
    LITTLE = "little"  # low word first ("CDAB")


NUMERIC_WIDTH: dict[DataType, int] = {
    DataType.U16: 1,
    DataType.I16: 1,
    DataType.U32: 2,
    DataType.I32: 2,
    DataType.F32: 2,
    DataType.U64: 4,
    DataType.I64: 4,
    DataType.F64: 4,
}
STRING_TYPES = frozenset({DataType.ASCII, DataType.ASCII_SWAPPED, DataType.UTF16, DataType.HEX})
_STRUCT = {
    DataType.U16: ">H",
    DataType.I16: ">h",
    DataType.U32: ">I",
    DataType.I32: ">i",
    DataType.U64: ">Q",
    DataType.I64: ">q",
    DataType.F32: ">f",
    DataType.F64: ">d",
}


_WORDS = {width: struct.Struct(f">{width}H") for width in (1, 2, 4)}
_UNPACK = {data_type: struct.Struct(fmt) for data_type, fmt in _STRUCT.items()}


def register_count(data_type: DataType, count: int | None) -> int:
    """Return how many registers a value of this type occupies."""
    if data_type in NUMERIC_WIDTH:
        return NUMERIC_WIDTH[data_type]
    if data_type is DataType.BOOL:
        return 1
    if data_type is DataType.VERSION:
        return 1 if count is None else count
    if count is None or count < 1:
        raise ValueError(f"{data_type} needs a register count")
    return count


def _ordered(registers: list[int], word_order: WordOrder) -> list[int]:
    return list(reversed(registers)) if word_order is WordOrder.LITTLE else registers


def raw_integer(registers: list[int], word_order: WordOrder = WordOrder.BIG) -> int:
    """Return the registers as one unsigned integer (used to compare against sentinels)."""
    value = 0
    for register in _ordered(registers, word_order):
        value = (value << 16) | (register & 0xFFFF)
    return value


def decode_number(
    registers: list[int], data_type: DataType, word_order: WordOrder = WordOrder.BIG
) -> int | float | None:
    """Decode a numeric value; a NaN or infinite float is None."""
    width = NUMERIC_WIDTH[data_type]
    if len(registers) != width:
        raise ValueError(f"{data_type} needs {width} registers, got {len(registers)}")
    # One pack of 16-bit words and one unpack per value: this runs for every value of
    # every poll, so it avoids building bytes register by register.
    data = _WORDS[width].pack(*_ordered(registers, word_order))
    value: int | float = _UNPACK[data_type].unpack(data)[0]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def decode_version(
    registers: list[int], bits: tuple[int, ...], word_order: WordOrder = WordOrder.BIG
) -> str:
    """Split the registers into fields of `bits` bits, most significant first, joined by dots.

    0x1203 with bits (4, 4, 8) is "1.2.3"; `bits` must add up to 16 per register.
    """
    packed = raw_integer(registers, word_order)
    parts = []
    remaining = 16 * len(registers)
    for width in bits:
        remaining -= width
        parts.append(str((packed >> remaining) & ((1 << width) - 1)))
    return ".".join(parts)


def decode_string(registers: list[int], data_type: DataType) -> str | None:
    """Decode a string register block; NUL and space padding is trimmed, empty is None."""
    if data_type is DataType.UTF16:
        text = "".join(chr(r) for r in registers if 0 < r < 0xD800 or 0xE000 <= r < 0xFFFF)
    elif data_type is DataType.HEX:
        # A binary identifier fills its registers: a trailing 00 is part of it (a card UID
        # may end in one); only all zeros means "none".
        data = b"".join(r.to_bytes(2, "big") for r in registers)
        text = "" if not any(data) else data.hex().upper()
    else:
        order = "little" if data_type is DataType.ASCII_SWAPPED else "big"
        data = b"".join(r.to_bytes(2, order) for r in registers)  # type: ignore[arg-type]
        text = data.split(b"\x00", 1)[0].decode("ascii", errors="replace")
        if "\ufffd" in text or not text.isprintable():
            return None
    text = text.strip()
    return text or None


def encode_number(
    value: float, data_type: DataType, word_order: WordOrder = WordOrder.BIG
) -> list[int]:
    """Encode a number into registers (rounding for integer types)."""
    packed_value: int | float = value if data_type in (DataType.F32, DataType.F64) else round(value)
    data = struct.pack(_STRUCT[data_type], packed_value)
    registers = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return _ordered(registers, word_order)
