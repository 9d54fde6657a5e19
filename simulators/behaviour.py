"""Behaviour models shared by the simulated devices: a charger and the load a meter sees.

Energy is integrated exactly: power is constant between events (a write, a plug-in, a
watchdog expiry, a full battery), and `update()` splits the integration at each event, so a
test that advances the clock by an hour gets exactly the energy the physics says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .clock import SimClock
from .vehicle import Vehicle

NOMINAL_VOLTAGE = 230.0


@dataclass(frozen=True)
class PhaseValues:
    """Voltage, current and power of the three phases."""

    voltage: tuple[float, float, float]
    current: tuple[float, float, float]

    @property
    def power(self) -> tuple[float, float, float]:
        """Active power per phase in W (unity power factor)."""
        v, i = self.voltage, self.current
        return (v[0] * i[0], v[1] * i[1], v[2] * i[2])

    @property
    def total_power(self) -> float:
        """Sum of the phases' active power in W."""
        return sum(self.power)


class Load(Protocol):
    """Something a meter measures."""

    def phases(self) -> PhaseValues:
        """Present electrical values."""

    def energy_wh(self) -> float:
        """Energy drawn since the load was created, in Wh."""


class ChargerModel:
    """An EVSE: IEC 61851 states, current limit, enable, watchdog fallback, RFID, energy."""

    def __init__(
        self,
        clock: SimClock,
        *,
        phases: int = 3,
        min_current: float = 6.0,
        max_current: float = 32.0,
        safe_current: float = 0.0,
        watchdog_timeout: float | None = None,
        current_limit: float | None = None,
        energy_wh: float = 0.0,
        voltage: float = NOMINAL_VOLTAGE,
        setpoint_is_heartbeat: bool = True,
    ) -> None:
        """Start idle, with no vehicle and the limit at `current_limit` (default max)."""
        self.clock = clock
        self.phases_installed = phases
        self.min_current = min_current
        self.max_current = max_current
        self.safe_current = safe_current
        self.watchdog_timeout = watchdog_timeout
        self.voltage = voltage
        self.setpoint_is_heartbeat = setpoint_is_heartbeat
        self.vehicle: Vehicle | None = None
        self.enabled = True
        self.fault = False
        self.rfid: str | None = None
        self.rfid_required = False
        self._current_limit = max_current if current_limit is None else current_limit
        self._energy_ws = energy_wh * 3600.0
        self._session_start_ws = self._energy_ws
        self._session_started_at: float | None = None
        self._charging_seconds = 0.0
        self._updated_at = clock.now()
        self._alive_at = clock.now()
        self.max_current_seen = 0.0
        # Called with "plug" after a vehicle is connected and "unplug" just before it leaves
        # (energy integrated up to that moment): how a truth log sees every plug cycle.
        self.listeners: list[Callable[[str], None]] = []

    # -- time ----------------------------------------------------------------------------

    def update(self) -> None:
        """Integrate energy up to now, splitting at every event on the way."""
        now = self.clock.now()
        t = self._updated_at
        while t < now:
            end = now
            expiry = self._watchdog_expiry()
            if expiry is not None and t < expiry < end:
                end = expiry
            handshake_end = self._handshake_end()
            if handshake_end is not None and t < handshake_end < end:
                end = handshake_end
            power = self._phase_values_at(t).total_power
            vehicle = self.vehicle
            fills = False
            if power > 0 and vehicle is not None and vehicle.energy_wanted is not None:
                remaining = vehicle.energy_wanted - vehicle.delivered
                full_at = t + remaining * 3600.0 / power
                if full_at <= t:
                    # Rounding left a few femtowatt-hours to go: the car is full.
                    vehicle.delivered = vehicle.energy_wanted
                    continue
                if full_at < end:
                    end, fills = full_at, True
            # Counted in watt-seconds, which stay exact for whole seconds and watts.
            energy_ws = power * (end - t)
            self._energy_ws += energy_ws
            if power > 0:
                self._charging_seconds += end - t
                if vehicle is not None:
                    vehicle.delivered += energy_ws / 3600.0
                    if fills:
                        assert vehicle.energy_wanted is not None
                        vehicle.delivered = vehicle.energy_wanted
            t = end
        self._updated_at = now

    def _watchdog_expiry(self) -> float | None:
        if self.watchdog_timeout is None:
            return None
        return self._alive_at + self.watchdog_timeout

    def _handshake_end(self) -> float | None:
        if self.vehicle is None or self._session_started_at is None:
            return None
        return self._session_started_at + self.vehicle.handshake_s

    def watchdog_expired(self, at: float | None = None) -> bool:
        """Whether the remote controller has been silent for longer than the timeout."""
        expiry = self._watchdog_expiry()
        at = self.clock.now() if at is None else at
        return expiry is not None and at >= expiry

    # -- inputs --------------------------------------------------------------------------

    def alive(self) -> None:
        """The remote controller showed a sign of life (heartbeat or setpoint write)."""
        self.update()
        self._alive_at = self.clock.now()

    def plug(self, vehicle: Vehicle | None = None) -> Vehicle:
        """A vehicle is connected; a new session starts."""
        self.update()
        self.vehicle = vehicle or Vehicle()
        self.rfid = None
        self._session_start_ws = self._energy_ws
        self._session_started_at = self.clock.now()
        self._charging_seconds = 0.0
        for listener in self.listeners:
            listener("plug")
        return self.vehicle

    def unplug(self) -> None:
        """The vehicle leaves."""
        self.update()
        if self.vehicle is not None:
            for listener in self.listeners:
                listener("unplug")
        self.vehicle = None

    def swipe(self, tag: str) -> None:
        """An RFID card is held to the reader."""
        self.update()
        self.rfid = tag

    def set_current_limit(self, amps: float) -> None:
        """The energy manager sets the current limit (0 pauses)."""
        self.update()
        self._current_limit = amps
        if self.setpoint_is_heartbeat:
            self._alive_at = self.clock.now()

    def set_enabled(self, enabled: bool) -> None:
        """The energy manager allows or stops charging."""
        self.update()
        self.enabled = enabled

    def replace_meter(self, energy_wh: float) -> None:
        """The meter is reset or replaced: its register continues from `energy_wh`."""
        self.update()
        self._energy_ws = energy_wh * 3600.0
        self._session_start_ws = self._energy_ws

    def set_fault(self, fault: bool) -> None:
        """Raise or clear an EVSE fault."""
        self.update()
        self.fault = fault

    # -- outputs -------------------------------------------------------------------------

    @property
    def current_limit(self) -> float:
        """The limit the energy manager set."""
        return self._current_limit

    def offered_current(self, at: float | None = None) -> float:
        """The PWM current offered to the car: the limit, or the safe current on expiry."""
        if self.fault or not self.enabled:
            return 0.0
        if self.rfid_required and self.rfid is None:
            return 0.0
        limit = self.safe_current if self.watchdog_expired(at) else self._current_limit
        if limit < self.min_current:
            return 0.0
        return min(limit, self.max_current)

    def _phase_values_at(self, t: float) -> PhaseValues:
        vehicle = self.vehicle
        amps = 0.0
        handshake_end = self._handshake_end()
        negotiating = handshake_end is not None and t < handshake_end
        if vehicle is not None and not vehicle.full and not negotiating:
            amps = min(self.offered_current(t), vehicle.max_current)
        used = min(self.phases_installed, vehicle.phases if vehicle else 0)
        current = tuple(amps if index < used else 0.0 for index in range(3))
        voltage = tuple(
            self.voltage if index < self.phases_installed else 0.0 for index in range(3)
        )
        return PhaseValues(voltage=voltage, current=current)  # type: ignore[arg-type]

    def phases(self) -> PhaseValues:
        """Present voltages and currents."""
        self.update()
        values = self._phase_values_at(self.clock.now())
        self.max_current_seen = max(self.max_current_seen, *values.current)
        return values

    def energy_wh(self) -> float:
        """Lifetime energy delivered, in Wh."""
        self.update()
        return self._energy_ws / 3600.0

    def session_energy_wh(self) -> float:
        """Energy delivered since the vehicle was plugged in, in Wh."""
        self.update()
        return (self._energy_ws - self._session_start_ws) / 3600.0

    def charging_seconds(self) -> float:
        """Seconds with energy flowing in the present session."""
        self.update()
        return self._charging_seconds

    @property
    def state(self) -> str:
        """IEC 61851 state letter."""
        if self.fault:
            return "F"
        if self.vehicle is None:
            return "A"
        return "C" if self.phases().total_power > 0 else "B"


class ConstantLoad:
    """A fixed load (a house, a heat pump) for a meter that has no charger behind it."""

    def __init__(self, clock: SimClock, *, amps: float = 0.0, phases: int = 3) -> None:
        """Draw `amps` on each of `phases` phases at nominal voltage."""
        self.clock = clock
        self.phase_count = phases
        self._amps = amps
        self._energy = 0.0
        self._updated_at = clock.now()

    def _values(self) -> PhaseValues:
        current = tuple(self._amps if i < self.phase_count else 0.0 for i in range(3))
        voltage = tuple(NOMINAL_VOLTAGE if i < self.phase_count else 0.0 for i in range(3))
        return PhaseValues(voltage=voltage, current=current)  # type: ignore[arg-type]

    def _update(self) -> None:
        now = self.clock.now()
        self._energy += self._values().total_power * (now - self._updated_at) / 3600.0
        self._updated_at = now

    def set_amps(self, amps: float) -> None:
        """Change the load."""
        self._update()
        self._amps = amps

    def phases(self) -> PhaseValues:
        """Present voltages and currents."""
        self._update()
        return self._values()

    def energy_wh(self) -> float:
        """Energy drawn so far, in Wh."""
        self._update()
        return self._energy


class MeterModel:
    """An energy meter in front of a load; its import register starts at `import_wh`."""

    def __init__(self, load: Load, *, import_wh: float = 0.0, export_wh: float = 0.0) -> None:
        """Measure `load`."""
        self.load = load
        self._offset = import_wh - load.energy_wh()
        self.export_wh = export_wh

    def phases(self) -> PhaseValues:
        """Present voltages and currents."""
        return self.load.phases()

    def import_wh(self) -> float:
        """Total imported energy in Wh."""
        return self._offset + self.load.energy_wh()
