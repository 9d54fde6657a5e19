"""The data of a Modbus device profile: where each value lives, how the device is controlled.

Built from a validated document by profile_parse; read by the device, the planner and the
SunSpec locator. Frozen: one profile is shared by every device of its family.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..models import Capabilities, ChargerState, DeviceKind
from ..value_names import unknown_value_names
from .codecs import DataType, WordOrder


class Table(StrEnum):
    """The four Modbus data tables."""

    HOLDING = "holding"  # FC3 read, FC6/FC16 write
    INPUT = "input"  # FC4
    COIL = "coil"  # FC1 read, FC5 write
    DISCRETE = "discrete"  # FC2

    @property
    def is_bits(self) -> bool:
        """Whether the table holds single bits rather than 16-bit registers."""
        return self in (Table.COIL, Table.DISCRETE)


@dataclass(frozen=True, kw_only=True)
class RegisterSpec:
    """Where one value lives and how to turn its registers into a number or string."""

    name: str
    table: Table
    address: int
    unit: int
    type: DataType
    count: int
    word_order: WordOrder = WordOrder.BIG
    scale: float = 1.0
    scale_factor: str | None = None  # name of a SunSpec scale-factor value (10 ** sf)
    mask: int | None = None
    shift: int = 0
    sentinels: frozenset[int] = frozenset()
    enum: Mapping[int | str, str] | None = None
    block: str | None = None  # SunSpec: `address` is an offset from this block's model start
    # A register some firmware lacks (e.g. the Vestel's failsafe current): a read it refuses
    # gives None instead of failing the poll, where its block holds optional values only.
    optional: bool = False
    # The value's step after scaling (0.1 for a register of 0.1 V); the value is rounded to
    # it. None: an integer register's step is its scale, a float's its shortest decimal.
    resolution: float | None = None
    version_bits: tuple[int, ...] = ()  # type version: widths of the parts, high bits first
    same_register_as: str | None = None  # another value on these registers, on purpose

    @property
    def end(self) -> int:
        """First address after this value."""
        return self.address + self.count


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One comparison in a composite state rule."""

    value: str
    op: str
    operand: Any

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the condition is true for these decoded values."""
        actual = values.get(self.value)
        if actual is None:
            return False
        match self.op:
            case "eq":
                return bool(actual == self.operand)
            case "ne":
                return bool(actual != self.operand)
            case "lt":
                return bool(actual < self.operand)
            case "ge":
                return bool(actual >= self.operand)
            case "in":
                return bool(actual in self.operand)
        return False


@dataclass(frozen=True, kw_only=True)
class StateRule:
    """If every condition holds, the charger is in this state."""

    conditions: tuple[Condition, ...]
    state: ChargerState


class EnableMode(StrEnum):
    """How a charger is told to stop and resume charging."""

    ZERO_CURRENT = "zero_current"  # writing 0 A to the setpoint pauses
    REGISTER = "register"  # a separate register takes on/off values
    COIL = "coil"  # a coil is switched


@dataclass(frozen=True, kw_only=True)
class CurrentControl:
    """The setpoint register for the charging current limit."""

    address: int
    unit: int
    type: DataType
    word_order: WordOrder
    amps_per_unit: float
    multiple: bool  # write with FC16 even for one register


@dataclass(frozen=True, kw_only=True)
class FailsafeControl:
    """What a charger does when its energy manager falls silent, and where it is set.

    `current` is the failsafe current register (same layout as the setpoint: `amps_per_unit`
    is A per raw unit), `timeout` the failsafe timeout register (`amps_per_unit` there is
    seconds per raw unit). Either may be missing on a device that documents only one.
    """

    current: CurrentControl | None = None
    timeout: CurrentControl | None = None


@dataclass(frozen=True, kw_only=True)
class EnableControl:
    """How charging is enabled and disabled."""

    mode: EnableMode
    address: int | None = None
    unit: int | None = None
    on: int = 1
    off: int = 0


class WatchdogAction(StrEnum):
    """What keeps a charger under remote control."""

    WRITE = "write"  # write a fixed value to an alive register
    REWRITE_SETPOINT = "rewrite_setpoint"  # write the current setpoint again
    READ = "read"  # any read keeps the link alive


@dataclass(frozen=True, kw_only=True)
class Watchdog:
    """The heartbeat a charger needs, or it falls back to its safe current."""

    action: WatchdogAction
    interval: float
    address: int | None = None
    unit: int | None = None
    value: int = 1
    # A write watchdog writes only while these hold, on values read just before; e.g. a
    # life bit that reads 2 while the device's watchdog is switched off is left alone.
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Probe:
    """One identification read, and what the answer must look like."""

    spec: RegisterSpec
    equals: Any = None
    one_of: tuple[Any, ...] | None = None
    pattern: re.Pattern[str] | None = None

    def matches(self, value: Any) -> bool:
        """Whether a decoded value identifies the device."""
        if value is None:
            return False
        if self.equals is not None and value != self.equals:
            return False
        if self.one_of is not None and value not in self.one_of:
            return False
        return not (self.pattern is not None and not self.pattern.fullmatch(str(value)))


@dataclass(frozen=True, kw_only=True)
class SunSpecLayout:
    """Where a SunSpec device's models are found: the chain behind the "SunS" marker.

    Each block names the model ids it accepts (e.g. meter: 201..204); a value with
    `block: meter` has its address counted from the start (the ID register) of the first
    such model in the chain, which the device locates on first use.
    """

    bases: tuple[int, ...]
    blocks: Mapping[str, tuple[int, ...]]


@dataclass(frozen=True, kw_only=True)
class ModbusProfile:
    """Everything needed to talk to one device family over Modbus TCP."""

    id: str
    name: str
    kind: DeviceKind
    manufacturer: str
    source: str
    port: int
    unit: int
    max_registers: int
    max_gap: int
    split_values: bool
    values: tuple[RegisterSpec, ...]
    identity: Mapping[str, RegisterSpec | str]
    state_from: str | None = None
    state_map: Mapping[int | str, ChargerState] = field(default_factory=dict)
    state_rules: tuple[StateRule, ...] = ()
    current: CurrentControl | None = None
    enable: EnableControl | None = None
    watchdog: Watchdog | None = None
    failsafe: FailsafeControl = field(default_factory=FailsafeControl)
    detect: tuple[Probe, ...] = ()
    sunspec: SunSpecLayout | None = None
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(kind=DeviceKind.METER))

    def value(self, name: str) -> RegisterSpec | None:
        """Return the spec of a named value."""
        return next((spec for spec in self.values if spec.name == name), None)

    def unknown_values(self) -> list[str]:
        """Value names nothing uses: read into `Reading.extra` (diagnostics) only."""
        referenced = {spec.scale_factor for spec in self.values if spec.scale_factor}
        if self.state_from is not None:
            referenced.add(self.state_from)
        for rule in self.state_rules:
            referenced.update(condition.value for condition in rule.conditions)
        if self.watchdog is not None:
            referenced.update(condition.value for condition in self.watchdog.conditions)
        return unknown_value_names((spec.name for spec in self.values), referenced)
