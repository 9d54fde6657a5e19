"""Plan the fewest Modbus requests that read a set of values.

Values are grouped per (unit id, table), sorted by address and merged into blocks while the
device allows it: a block never exceeds the device's maximum request size, never bridges a
gap of unused registers wider than the profile permits (unmapped registers answer with an
exception on most devices), and never spans two values on devices that refuse reads across
value boundaries (KEBA).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .profile_model import RegisterSpec, Table


@dataclass(frozen=True, kw_only=True)
class ReadBlock:
    """One read request and the values it carries."""

    unit: int
    table: Table
    address: int
    count: int
    specs: tuple[RegisterSpec, ...]


def plan_reads(
    specs: Iterable[RegisterSpec], *, max_registers: int, max_gap: int, split_values: bool
) -> list[ReadBlock]:
    """Return the read blocks for these values, in a stable order."""
    groups: dict[tuple[int, Table], list[RegisterSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.unit, spec.table), []).append(spec)

    blocks: list[ReadBlock] = []
    for (unit, table), members in sorted(groups.items(), key=lambda item: item[0]):
        members.sort(key=lambda spec: (spec.address, spec.count))
        current: list[RegisterSpec] = []
        start = end = 0
        for spec in members:
            fits = (
                current
                and not split_values
                and spec.address - end <= max_gap
                and max(end, spec.end) - start <= max_registers
            )
            # Two values sharing registers (a bitfield read twice) always ride together.
            overlaps = (
                current and spec.address < end and max(end, spec.end) - start <= max_registers
            )
            if fits or overlaps:
                current.append(spec)
                end = max(end, spec.end)
                continue
            if current:
                blocks.append(_block(unit, table, start, end, current))
            current, start, end = [spec], spec.address, spec.end
        if current:
            blocks.append(_block(unit, table, start, end, current))
    return blocks


def _block(unit: int, table: Table, start: int, end: int, specs: list[RegisterSpec]) -> ReadBlock:
    return ReadBlock(unit=unit, table=table, address=start, count=end - start, specs=tuple(specs))
