"""A wallbox or meter driven by a declarative Modbus profile."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from ..errors import DeviceError, DeviceExceptionResponse, UnsupportedDeviceError
from ..models import READING_FIELDS, Capabilities, ChargerState, Identity, Reading
from .client import ModbusTransport
from .codecs import NUMERIC_WIDTH, encode_number
from .decoding import Decoder, compile_decoder, decode_value, scale_factor_applier
from .planner import ReadBlock, plan_reads
from .profile_model import (
    Condition,
    CurrentControl,
    EnableMode,
    ModbusProfile,
    RegisterSpec,
    WatchdogAction,
)
from .sunspec import locate

_LOGGER = logging.getLogger(__name__)

_ApplyFactor = Callable[[int | float, int | float], int | float]


class ModbusDevice:
    """Reads and controls one device through its profile.

    One `read()` is one planned batch of requests; writes go through the same transport, so
    they never interleave with a poll.
    """

    _written_a: float | None = None  # the setpoint last written, in A (0 while paused)

    def __init__(
        self,
        profile: ModbusProfile,
        host: str,
        *,
        port: int | None = None,
        unit: int | None = None,
        timeout: float = 3.0,
        transport: ModbusTransport | None = None,
        resume_current_a: float | None = None,
    ) -> None:
        """Bind a profile to a host; `unit` overrides the profile's default unit id.

        `resume_current_a` is the limit the user set last (kept by the caller across
        restarts): resuming a charger paused with 0 A writes it instead of the maximum.
        """
        self.profile = profile
        self.host = host
        self.port = port or profile.port
        self._unit_offset = {} if unit is None else {profile.unit: unit}
        self.transport = transport or ModbusTransport(host, self.port, timeout=timeout)
        # A SunSpec profile counts addresses from its models, which are found on first use.
        self._located = profile.sunspec is None
        self._plan: list[ReadBlock] = []
        self._decoders: list[tuple[ReadBlock, tuple[tuple[str, int, Decoder], ...]]] = []
        self._scale_factors: tuple[tuple[str, str, _ApplyFactor], ...] = ()
        self._reading_names: tuple[str, ...] = ()  # values that are Reading fields
        self._extra_names: tuple[str, ...] = ()  # the others, in the order they are read
        if self._located:
            self._make_plan()
        self._setpoint_a: float | None = None
        if resume_current_a is not None and self._in_range(resume_current_a):
            self._setpoint_a = resume_current_a

    def _make_plan(self) -> None:
        """Plan the poll's requests and build every value's decoder for them (once)."""
        profile = self.profile
        self._plan = plan_reads(
            (self._unit_spec(spec) for spec in profile.values),
            max_registers=profile.max_registers,
            max_gap=profile.max_gap,
            split_values=profile.split_values,
        )
        self._decoders = [
            (
                block,
                tuple(
                    (spec.name, spec.address - block.address, compile_decoder(spec))
                    for spec in block.specs
                ),
            )
            for block in self._plan
        ]
        self._scale_factors = tuple(
            (spec.name, spec.scale_factor, scale_factor_applier(spec.resolution))
            for spec in profile.values
            if spec.scale_factor is not None
        )
        names = [spec.name for block in self._plan for spec in block.specs]
        self._reading_names = tuple(name for name in names if name in READING_FIELDS)
        self._extra_names = tuple(name for name in names if name not in READING_FIELDS)

    async def _ensure_located(self) -> None:
        """Place a SunSpec profile on the device's model chain (once)."""
        if self._located:
            return
        self.profile = await locate(self.transport, self.profile, self._unit(None))
        self._make_plan()
        self._located = True

    def _unit(self, unit: int | None) -> int:
        unit = self.profile.unit if unit is None else unit
        return self._unit_offset.get(unit, unit)

    def _unit_spec(self, spec: RegisterSpec) -> RegisterSpec:
        unit = self._unit(spec.unit)
        if unit == spec.unit:
            return spec
        return RegisterSpec(**{**spec.__dict__, "unit": unit})

    @property
    def capabilities(self) -> Capabilities:
        """What this device can do."""
        return self.profile.capabilities

    @property
    def read_plan(self) -> list[ReadBlock]:
        """The requests one poll makes (for a SunSpec device: once it has been read)."""
        return list(self._plan)

    async def close(self) -> None:
        """Close the connection."""
        await self.transport.close()

    async def _read_spec(self, spec: RegisterSpec) -> Any:
        registers = await self.transport.read(
            spec.table, self._unit(spec.unit), spec.address, spec.count
        )
        return decode_value(spec, registers)

    async def read_one(self, spec: RegisterSpec) -> Any:
        """Read and decode one value on its own (to find which register a device refuses)."""
        await self._ensure_located()
        return await self._read_spec(spec)

    async def identify(self) -> Identity:
        """Read manufacturer, model, serial and firmware."""
        await self._ensure_located()
        found: dict[str, str | None] = {}
        for key, source in self.profile.identity.items():
            if isinstance(source, str):
                found[key] = source
                continue
            value = await self._read_spec(source)
            found[key] = None if value is None else _format_identity(value)
        return Identity(
            manufacturer=found.get("manufacturer") or self.profile.manufacturer,
            model=found.get("model") or self.profile.name,
            serial=found.get("serial"),
            firmware=found.get("firmware"),
        )

    async def read_values(self) -> dict[str, Any]:
        """Run the planned batch and decode every value of the profile."""
        await self._ensure_located()
        values: dict[str, Any] = {}
        for block, decoders in self._decoders:
            try:
                registers = await self.transport.read(
                    block.table, block.unit, block.address, block.count
                )
            except DeviceExceptionResponse:
                if not all(spec.optional for spec in block.specs):
                    raise
                values.update(dict.fromkeys((spec.name for spec in block.specs), None))
                continue
            for name, offset, decode in decoders:
                values[name] = decode(registers, offset)
        for name, factor_name, apply in self._scale_factors:
            if (value := values.get(name)) is None:
                continue
            exponent = values.get(factor_name)
            values[name] = None if exponent is None else apply(value, exponent)
        return values

    async def read(self) -> Reading:
        """Poll the device once."""
        values = await self.read_values()
        fields = {name: values[name] for name in self._reading_names}
        fields["state"] = self._state(values)
        if (
            "enabled" not in fields
            and self.profile.enable is not None
            and self.profile.enable.mode is EnableMode.ZERO_CURRENT
            and fields.get("current_limit") is not None
        ):
            fields["enabled"] = fields["current_limit"] > 0
        for key in ("power", "energy", "energy_export", "session_energy"):
            value = fields.get(key)
            if isinstance(value, float) and not math.isfinite(value):
                fields[key] = None
        extra = {name: values[name] for name in self._extra_names}
        return Reading(**fields, extra=extra)

    def _state(self, values: dict[str, Any]) -> ChargerState | None:
        profile = self.profile
        if profile.state_from is not None:
            raw = values.get(profile.state_from)
            if raw is None:
                return None
            key = int(raw) if isinstance(raw, (int, float)) else raw
            return profile.state_map.get(key)
        for rule in profile.state_rules:
            if all(condition.holds(values) for condition in rule.conditions):
                return rule.state
        return None

    async def set_current_limit(self, amps: float) -> None:
        """Set the charging current limit in A, within the device's range."""
        control = self.profile.current
        if control is None:
            raise UnsupportedDeviceError(f"{self.profile.name} has no current setpoint")
        caps = self.capabilities
        low = caps.min_current_a if caps.min_current_a is not None else 0
        high = caps.max_current_a if caps.max_current_a is not None else math.inf
        if amps != 0 and not low <= amps <= high:
            raise ValueError(f"current limit {amps} A is outside {low}..{high} A")
        await self._write_setpoint(amps)
        if amps > 0:  # 0 pauses; resuming returns to the last limit above it
            self._setpoint_a = amps

    def _in_range(self, amps: float) -> bool:
        caps = self.capabilities
        low = caps.min_current_a if caps.min_current_a is not None else 0
        high = caps.max_current_a if caps.max_current_a is not None else math.inf
        return amps > 0 and low <= amps <= high

    @property
    def resume_current_a(self) -> float | None:
        """The limit resuming writes: the last one set above 0 A (None: the maximum)."""
        return self._setpoint_a

    async def set_failsafe(
        self, *, current_a: float | None = None, timeout_s: float | None = None
    ) -> None:
        """Write the failsafe current (A) and/or timeout (s) the profile documents."""
        failsafe = self.profile.failsafe
        for value, control, what in (
            (current_a, failsafe.current, "failsafe current"),
            (timeout_s, failsafe.timeout, "failsafe timeout"),
        ):
            if value is None:
                continue
            if control is None:
                raise UnsupportedDeviceError(f"{self.profile.name} has no writable {what}")
            await self._write_control(control, value)

    async def _write_setpoint(self, amps: float) -> None:
        control = self.profile.current
        assert control is not None
        await self._write_control(control, amps)
        self._written_a = amps

    async def _write_control(self, control: CurrentControl, value: float) -> None:
        raw = value / control.amps_per_unit
        registers = encode_number(raw, control.type, control.word_order)
        await self.transport.write_registers(
            self._unit(control.unit),
            control.address,
            registers,
            multiple=control.multiple or NUMERIC_WIDTH[control.type] > 1,
        )

    async def set_enabled(self, enabled: bool) -> None:
        """Allow or stop charging."""
        enable = self.profile.enable
        if enable is None:
            raise UnsupportedDeviceError(f"{self.profile.name} cannot be enabled remotely")
        match enable.mode:
            case EnableMode.ZERO_CURRENT:
                if not enabled:
                    await self._write_setpoint(0)
                    return
                amps = self._setpoint_a or self.capabilities.max_current_a
                if amps is None:
                    raise UnsupportedDeviceError("no current limit known to resume charging")
                await self._write_setpoint(amps)
            case EnableMode.COIL:
                assert enable.address is not None
                await self.transport.write_coil(self._unit(enable.unit), enable.address, enabled)
            case EnableMode.REGISTER:
                assert enable.address is not None
                await self.transport.write_registers(
                    self._unit(enable.unit),
                    enable.address,
                    [enable.on if enabled else enable.off],
                    multiple=False,
                )

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between keep_alive() calls, from the profile."""
        return None if self.profile.watchdog is None else self.profile.watchdog.interval

    async def keep_alive(self) -> None:
        """Do one watchdog action, so the device stays under remote control."""
        watchdog = self.profile.watchdog
        if watchdog is None:
            return
        match watchdog.action:
            case WatchdogAction.WRITE:
                assert watchdog.address is not None
                if watchdog.conditions and not await self._hold(watchdog.conditions):
                    return
                await self.transport.write_registers(
                    self._unit(watchdog.unit), watchdog.address, [watchdog.value], multiple=False
                )
            case WatchdogAction.REWRITE_SETPOINT:
                if self._written_a is not None:
                    await self._write_setpoint(self._written_a)
            case WatchdogAction.READ:
                if self._plan:
                    block = self._plan[0]
                    await self.transport.read(block.table, block.unit, block.address, 1)

    async def _hold(self, conditions: tuple[Condition, ...]) -> bool:
        """Whether the conditions hold on their values, read now (not from the last poll)."""
        values: dict[str, Any] = {}
        for name in {condition.value for condition in conditions}:
            spec = self.profile.value(name)
            assert spec is not None  # the profile names only values it has
            values[name] = await self._read_spec(spec)
        return all(condition.holds(values) for condition in conditions)


def _format_identity(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


async def probe_profile(transport: ModbusTransport, profile: ModbusProfile, unit: int) -> bool:
    """Whether the device behind the transport answers this profile's probes."""
    if not profile.detect:
        return False
    if profile.sunspec is not None:
        try:
            profile = await locate(transport, profile, unit)
        except DeviceError:
            return False
    for probe in profile.detect:
        spec = probe.spec
        probe_unit = unit if spec.unit == profile.unit else spec.unit
        try:
            registers = await transport.read(spec.table, probe_unit, spec.address, spec.count)
        except DeviceError:
            return False
        if not probe.matches(decode_value(spec, registers)):
            return False
    return True
