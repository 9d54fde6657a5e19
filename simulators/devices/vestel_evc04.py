"""Vestel EVC04 family (also Webasto Unite, Ampure Unite, E.ON Drive vBox) over Modbus TCP.

Register map from devices.md section 4 (evcc charger/vestel.go): unit 255, UTF-16 strings
one character per register, input registers for measurements, HR 5004 setpoint in A
(0 disables), HR 6000 alive register, HR 2000 failsafe current in A and HR 2002 failsafe
timeout in seconds. When the alive register is not written within the timeout the box
offers the failsafe current instead of the setpoint; a timeout of 0 switches this off. The
factory failsafe current is above 0, so a box nobody configured keeps charging without its
energy manager. (HR 2000 is not in evcc's map: it is named by a public Vestel Modbus reader.)
"""

from __future__ import annotations

from pymodbus.constants import ExcCodes

from ..behaviour import ChargerModel
from ..clock import SimClock
from ..faults import RegisterFaults
from ..modbus import HOLDING, INPUT, ModbusSimulator, RegisterImage

UNIT = 255
# Factory settings: the box charges at 6 A on its own 20 s after its manager fell silent.
FACTORY_FAILSAFE_A = 6
FACTORY_FAILSAFE_TIMEOUT_S = 20


class VestelEVC04(ModbusSimulator):
    """A three-phase 32 A Vestel EVC04 with RFID reader and failsafe watchdog."""

    name = "vestel_evc04"
    description = "Vestel EVC04 / Webasto Unite wallbox (Modbus TCP, unit 255)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        serial: str = "VES2024000123",
        failsafe_timeout: int = FACTORY_FAILSAFE_TIMEOUT_S,
        failsafe_current: float = FACTORY_FAILSAFE_A,
        energy_wh: float = 1_234_500.0,
        has_failsafe_current_register: bool = True,
    ) -> None:
        """A wallbox with `energy_wh` on its meter and the failsafe timeout in seconds.

        Without `has_failsafe_current_register` (firmware that lacks HR 2000) the failsafe
        current stays at its factory value and HR 2000 answers "illegal data address".
        """
        super().__init__(clock)
        self.serial = serial
        self.brand = "Vestel"
        self.model_name = "EVC04"
        self.firmware = "v3.187.0-240419"
        self.failsafe_timeout = failsafe_timeout
        self.has_failsafe_current_register = has_failsafe_current_register
        self.charger = ChargerModel(
            self.clock,
            min_current=6,
            max_current=32,
            safe_current=failsafe_current,
            watchdog_timeout=failsafe_timeout or None,
            energy_wh=energy_wh,
            setpoint_is_heartbeat=False,
        )
        self.register_faults = RegisterFaults()

    def energy_register_wh(self) -> float:
        """What the total energy register (0.1 kWh steps) shows now, in Wh."""
        shown = self.register_faults.shown_wh(self.charger.energy_wh())
        return float(self._energy_raw(shown) * 100)

    def _energy_raw(self, shown_wh: float) -> int:
        if self.register_faults.raw is not None:
            return self.register_faults.raw & 0xFFFFFFFF
        if not shown_wh >= 0:  # NaN or negative: what a 32-bit unsigned register can carry
            return 0xFFFFFFFF
        # The meter counts whole pulses; float sums of watt-seconds must not lose a step.
        return int(round(shown_wh, 6) // 100) & 0xFFFFFFFF

    def render(self, image: RegisterImage) -> None:
        """Present values in the EVC04 layout."""
        charger = self.charger
        phases = charger.phases()
        image.put_utf16(UNIT, INPUT, 100, self.serial, 25)
        image.put_utf16(UNIT, INPUT, 190, self.brand, 10)
        image.put_utf16(UNIT, INPUT, 210, self.model_name, 5)
        image.put_utf16(UNIT, INPUT, 230, self.firmware, 50)
        image.put_u16(UNIT, INPUT, 404, 1)  # three-phase hardware
        image.put_u16(UNIT, HOLDING, 405, 1)
        state = charger.state
        image.put_u16(UNIT, INPUT, 1000, {"A": 0, "B": 1, "C": 2}.get(state, 4))
        image.put_u16(UNIT, INPUT, 1001, 1 if state == "C" else 0)
        cable = 0 if charger.vehicle is None else 3  # 3: cable connected to vehicle, locked
        image.put_u16(UNIT, INPUT, 1004, cable)
        for index, address in enumerate((1008, 1010, 1012)):
            image.put_u16(UNIT, INPUT, address, round(phases.current[index] * 1000))
        for index, address in enumerate((1014, 1016, 1018)):
            image.put_u16(UNIT, INPUT, address, round(phases.voltage[index]))
        image.put_u32(UNIT, INPUT, 1020, round(phases.total_power))
        shown = self.register_faults.shown_wh(charger.energy_wh())
        image.put_u32(UNIT, INPUT, 1036, self._energy_raw(shown))  # 0.1 kWh
        session_wh = charger.session_energy_wh() if charger.vehicle else 0.0
        counters = self.register_faults.session_counters
        image.put_u32(UNIT, INPUT, 1502, int(session_wh) if counters else 0xFFFFFFFF)
        image.put_u32(
            UNIT, INPUT, 1508, int(charger.charging_seconds()) if counters else 0xFFFFFFFF
        )
        image.put_utf16(UNIT, INPUT, 1516, charger.rfid or "", 15)
        if self.has_failsafe_current_register:
            image.put_u16(UNIT, HOLDING, 2000, round(charger.safe_current))
        image.put_u16(UNIT, HOLDING, 2002, self.failsafe_timeout)
        image.put_u16(UNIT, HOLDING, 5004, round(charger.current_limit))
        image.put_u16(UNIT, HOLDING, 6000, 0 if charger.watchdog_expired() else 1)

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """Accept the setpoint, the alive bit, the failsafe current and timeout."""
        if table != HOLDING or len(values) != 1:
            return ExcCodes.ILLEGAL_ADDRESS
        value = values[0]
        match address:
            case 5004:
                if value != 0 and not 6 <= value <= 32:
                    return ExcCodes.ILLEGAL_VALUE
                self.charger.set_current_limit(value)
            case 6000:
                self.charger.alive()
            case 2000 if self.has_failsafe_current_register:
                if value != 0 and not 6 <= value <= 32:
                    return ExcCodes.ILLEGAL_VALUE
                self.charger.update()
                self.charger.safe_current = value
            case 2002:
                self.charger.update()
                self.failsafe_timeout = value
                self.charger.watchdog_timeout = value or None
            case _:
                return ExcCodes.ILLEGAL_ADDRESS
        return None
