"""Alfen Eve (NG9xx platform) over Modbus TCP: station on unit 200, socket 1 on unit 1.

Register map written from devices.md section 1 (Alfen "Implementation of Modbus Slave
TCP/IP for Alfen NG9xx platform" v2.3): every register a holding register, big-endian,
float32/float64 IEEE with the high word first, strings two ASCII characters per register
NUL padded; unavailable values read NaN. The Modbus max current (1210, float32 A) is only
valid for the validity time (60 s by default): without a re-write the socket falls back to
the safe current (1212). A 32-bit value must be written whole in one FC16 request.
"""

from __future__ import annotations

import math
import struct

from pymodbus.constants import ExcCodes

from simulators.behaviour import ChargerModel
from simulators.clock import SimClock
from simulators.modbus import HOLDING, ModbusSimulator, RegisterImage

STATION = 200
SOCKET = 1
NAN = math.nan


class AlfenEve(ModbusSimulator):
    """An Alfen Eve Single (one socket), three-phase or one-phase, 32 A."""

    name = "alfen_eve"
    description = "Alfen Eve (NG9xx) wallbox (Modbus TCP, station unit 200, socket unit 1)"
    units = (STATION, SOCKET)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        phases: int = 3,
        serial: str = "ACE0123456",
        validity_time: int = 60,
        safe_current: float = 6.0,
        energy_wh: float = 3_456_789.25,
    ) -> None:
        """A station with `energy_wh` delivered; the setpoint expires after `validity_time`."""
        super().__init__(clock)
        self.station_name = "ALF_1000"
        self.manufacturer = "Alfen NV"
        self.firmware = "4.14.0-3398"
        self.platform = "NG910"
        self.serial = serial
        self.validity_time = validity_time
        self.phase_setting = 3 if phases == 3 else 1
        self.board_temperature = 41.5
        # The max current is not persisted over a reboot: the station starts at its safe
        # current until the energy manager writes one.
        self.charger = ChargerModel(
            self.clock,
            phases=phases,
            min_current=6,
            max_current=32,
            safe_current=safe_current,
            current_limit=safe_current,
            watchdog_timeout=validity_time,
            energy_wh=energy_wh,
            setpoint_is_heartbeat=True,
        )
        self._written_at = self.clock.now()

    # -- behaviour ---------------------------------------------------------------------

    def mode3_state(self) -> str:
        """The socket's IEC 61851 state with the PWM suffix, as register 1201 shows it."""
        charger = self.charger
        if charger.fault:
            return "F"
        if charger.vehicle is None:
            return "A"
        pwm = charger.offered_current() > 0
        if charger.phases().total_power > 0:
            return "C2"
        if not pwm:
            # Without PWM a car that still wants energy closes S2 anyway (C1).
            return "B1" if charger.vehicle.full else "C1"
        return "B2"

    def applied_current(self) -> float:
        """The max current the socket applies now: the setpoint, or the safe current."""
        charger = self.charger
        limit = charger.safe_current if charger.watchdog_expired() else charger.current_limit
        return min(limit, charger.max_current)

    def remaining_validity(self) -> int:
        """Seconds before the Modbus max current stops being valid."""
        left = self._written_at + self.validity_time - self.clock.now()
        return max(0, math.ceil(left))

    # -- registers ---------------------------------------------------------------------

    def render(self, image: RegisterImage) -> None:
        """Present values in the NG9xx layout."""
        self._render_station(image)
        self._render_socket(image)

    def _render_station(self, image: RegisterImage) -> None:
        image.put_ascii(STATION, HOLDING, 100, self.station_name, 17)
        image.put_ascii(STATION, HOLDING, 117, self.manufacturer, 5)
        image.put_i16(STATION, HOLDING, 122, 1)  # Modbus table version
        image.put_ascii(STATION, HOLDING, 123, self.firmware, 17)
        image.put_ascii(STATION, HOLDING, 140, self.platform, 17)
        image.put_ascii(STATION, HOLDING, 157, self.serial, 11)
        now = int(self.clock.now())
        # 2026-01-01 00:00:00 at simulation start; only the time of day moves here.
        day_seconds = now % 86_400
        for offset, value in enumerate(
            (2026, 1, 1, day_seconds // 3600, day_seconds % 3600 // 60, day_seconds % 60)
        ):
            image.put_i16(STATION, HOLDING, 168 + offset, value)
        image.put_u64(STATION, HOLDING, 174, round(self.clock.now() * 1000))  # uptime, ms
        image.put_i16(STATION, HOLDING, 178, 60)  # UTC+1
        image.put_f32(STATION, HOLDING, 1100, self.charger.max_current)
        image.put_f32(STATION, HOLDING, 1102, self.board_temperature)
        image.put_u16(STATION, HOLDING, 1104, 1)
        image.put_u16(STATION, HOLDING, 1105, 1)  # one socket

    def _render_socket(self, image: RegisterImage) -> None:
        charger = self.charger
        values = charger.phases()
        installed = charger.phases_installed
        nan = self.faults.nan

        def f32(address: int, value: float) -> None:
            image.put_f32(SOCKET, HOLDING, address, NAN if nan else value)

        def f64(address: int, value: float) -> None:
            image.put_f64(SOCKET, HOLDING, address, NAN if nan else value)

        def phase(index: int, value: float) -> float:
            # A one-phase station has no L2/L3: those registers read NaN.
            return value if index < installed else NAN

        image.put_u16(SOCKET, HOLDING, 300, 0x03)  # meter initialised and updated
        image.put_u64(SOCKET, HOLDING, 301, 0)  # ms since the last meter value
        image.put_u16(SOCKET, HOLDING, 305, 0)  # meter on RTU
        for index in range(3):
            f32(306 + 2 * index, phase(index, values.voltage[index]))
            line = 400.0 if installed == 3 else NAN  # L1-L2, L2-L3, L3-L1
            f32(312 + 2 * index, line)
            f32(320 + 2 * index, phase(index, values.current[index]))
            pf = 1.0 if values.current[index] else 0.0
            f32(328 + 2 * index, phase(index, pf))
            f32(338 + 2 * index, phase(index, values.power[index]))
            f32(346 + 2 * index, phase(index, values.power[index]))  # apparent, PF 1
            f32(354 + 2 * index, phase(index, 0.0))  # reactive
        f32(318, 0.0)  # neutral current
        f32(326, sum(values.current))
        f32(334, 1.0 if values.total_power else 0.0)
        f32(336, 50.0)
        f32(344, values.total_power)
        f32(352, values.total_power)
        f32(360, 0.0)
        energy = charger.energy_wh()
        # The model counts only the sum; per-phase energies are shown as unavailable.
        for address in (362, 366, 370):
            f64(address, NAN)
        f64(374, energy)
        for address in (378, 382, 386, 390):  # consumed (returned) energy
            f64(address, 0.0)
        for address in range(394, 426, 4):  # apparent and reactive energies
            f64(address, NAN)
        image.put_u16(SOCKET, HOLDING, 1200, 1)  # operative
        image.put_ascii(SOCKET, HOLDING, 1201, self.mode3_state(), 5)
        f32(1206, self.applied_current())
        image.put_u32(SOCKET, HOLDING, 1208, self.remaining_validity())
        f32(1210, charger.current_limit)
        f32(1212, charger.safe_current)
        image.put_u16(SOCKET, HOLDING, 1214, 1 if not charger.watchdog_expired() else 0)
        image.put_u16(SOCKET, HOLDING, 1215, self.phase_setting)

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """Accept the max current (whole float32, FC16) and the phase setting."""
        if unit != SOCKET or table != HOLDING:
            return ExcCodes.ILLEGAL_ADDRESS
        if address == 1215 and len(values) == 1:
            if values[0] not in (1, 3):
                return ExcCodes.ILLEGAL_VALUE
            self.phase_setting = values[0]
            return None
        if address in (1210, 1211):
            # Half a float32 is refused (the exception code is not documented).
            if address != 1210 or len(values) != 2:
                return ExcCodes.ILLEGAL_VALUE
            amps = _float32(values)
            if not math.isfinite(amps) or not 0 <= amps <= self.charger.max_current:
                return ExcCodes.ILLEGAL_VALUE
            self.charger.set_current_limit(amps)  # also restarts the validity time
            self._written_at = self.clock.now()
            return None
        return ExcCodes.ILLEGAL_ADDRESS


def _float32(words: list[int]) -> float:
    return float(struct.unpack(">f", struct.pack(">HH", words[0], words[1]))[0])
