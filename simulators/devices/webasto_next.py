"""Webasto Next / Ampure Next over Modbus TCP ("HEMS activated" mode).

Register map written from devices.md section 5 (evcc charger/webasto-next.go): unit 255;
the charge point state (1000), power (1020, uint32 W), meter reading (1036, uint32 Wh),
charging time (1508, uint32 s), the session's OCPP IdTag (1600, 20 ASCII characters),
smart-vehicle flag (1620), communication timeout (2002, s) and the charge current
(5004, A, 0 stops) are holding registers; the phase currents (1008/1010/1012, mA) are
single input registers. State 1000: 0 no vehicle, 1 connected, 3 charging, 4 connected
and paused (assumed meaning; both read as B), 7 error.

Life bit: the energy manager writes 1 to HR 6000 at least once per communication
timeout; the charger clears it again. Without it the charger falls back to its failsafe
current (0 A, i.e. stop, unless configured otherwise).
"""

from __future__ import annotations

from pymodbus.constants import ExcCodes

from simulators.behaviour import ChargerModel
from simulators.clock import SimClock
from simulators.modbus import HOLDING, INPUT, ModbusSimulator, RegisterImage

UNIT = 255


class WebastoNext(ModbusSimulator):
    """A three-phase 32 A Webasto Next with RFID reader and life-bit watchdog."""

    name = "webasto_next"
    description = "Webasto Next wallbox (Modbus TCP, unit 255)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        communication_timeout: int = 20,
        failsafe_current: float = 0.0,
        energy_wh: float = 987_654.0,
    ) -> None:
        """A wallbox with `energy_wh` on its meter."""
        super().__init__(clock)
        self.communication_timeout = communication_timeout
        self.charger = ChargerModel(
            self.clock,
            min_current=6,
            max_current=32,
            safe_current=failsafe_current,
            watchdog_timeout=communication_timeout,
            energy_wh=energy_wh,
            setpoint_is_heartbeat=False,
        )

    def charge_point_state(self) -> int:
        """Register 1000."""
        charger = self.charger
        if charger.fault:
            return 7
        if charger.vehicle is None:
            return 0
        if charger.phases().total_power > 0:
            return 3
        return 4 if charger.offered_current() == 0 else 1

    def render(self, image: RegisterImage) -> None:
        """Present values in the Webasto Next layout."""
        charger = self.charger
        phases = charger.phases()
        image.put_u16(UNIT, HOLDING, 1000, self.charge_point_state())
        for index, address in enumerate((1008, 1010, 1012)):
            image.put_u16(UNIT, INPUT, address, round(phases.current[index] * 1000))  # mA
        image.put_u32(UNIT, HOLDING, 1020, round(phases.total_power))
        image.put_u32(UNIT, HOLDING, 1036, int(charger.energy_wh()))
        image.put_u32(UNIT, HOLDING, 1508, int(charger.charging_seconds()))
        image.put_ascii(UNIT, HOLDING, 1600, charger.rfid or "", 10)
        image.put_u16(UNIT, HOLDING, 1620, 0)
        image.put_u16(UNIT, HOLDING, 2002, self.communication_timeout)
        image.put_u16(UNIT, HOLDING, 5004, round(charger.current_limit))
        image.put_u16(UNIT, HOLDING, 6000, 0)  # the charger clears the life bit

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """Charge current, life bit and communication timeout (one register each)."""
        if table != HOLDING or len(values) != 1:
            return ExcCodes.ILLEGAL_ADDRESS
        value = values[0]
        charger = self.charger
        match address:
            case 5004:
                if value != 0 and not charger.min_current <= value <= charger.max_current:
                    return ExcCodes.ILLEGAL_VALUE
                charger.set_current_limit(value)
            case 6000:
                if value == 1:
                    charger.alive()
            case 2002:
                charger.alive()
                self.communication_timeout = value
                charger.watchdog_timeout = value or None
            case _:
                return ExcCodes.ILLEGAL_ADDRESS
        return None
