"""Bender CC612/CC613 charge controller (Mennekes Amtron Professional and many more brands).

Register map written from devices.md section 7a (evcc charger/bender.go): unit 255, every
register a holding register, 32-bit values as uint32 with the high word first, 0xFFFFFFFF
for "not available", strings two ASCII characters per register. The HEMS current limit in
HR 1000 is in whole amperes and 0 pauses charging. No Modbus heartbeat is documented for
this controller, so the limit holds until it is written again.

Only documented registers answer; every other address is an illegal data address.
"""

from __future__ import annotations

from pymodbus.constants import ExcCodes

from simulators.behaviour import ChargerModel
from simulators.clock import SimClock
from simulators.modbus import HOLDING, ModbusSimulator, RegisterImage

UNIT = 255
NOT_AVAILABLE = 0xFFFFFFFF
# Control pilot state register 122: 1 A, 2 B, 3 C, 4 D (devices.md 7a).
_CP_STATE = {"A": 1, "B": 2, "C": 3, "D": 4}


class BenderCC613(ModbusSimulator):
    """A three-phase 32 A charge point on a CC613 controller with RFID and an OCPP meter."""

    name = "bender_cc613"
    description = "Bender CC613 / Mennekes Amtron Professional wallbox (Modbus TCP, unit 255)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        model: str = "CC613",
        firmware: str = "5.22",
        energy_wh: float = 2_345_678.0,
        ocpp_meter: bool = True,
    ) -> None:
        """A controller with `energy_wh` on its meter; voltages only with an OCPP meter."""
        super().__init__(clock)
        self.model_name = model
        self.firmware = firmware
        self.ocpp_meter = ocpp_meter
        self.ventilation_required = False  # the vehicle asks for state D
        self.power_unavailable = False  # some units report 0xFFFFFFFF for power at times
        self.charger = ChargerModel(
            self.clock,
            min_current=6,
            max_current=32,
            energy_wh=energy_wh,
            watchdog_timeout=None,
        )

    def _cp_state(self) -> int:
        state = self.charger.state
        if state == "C" and self.ventilation_required:
            state = "D"
        # Beyond the documented 1..4 the controller's codes are not known; a fault is
        # rendered as 5 here (UNVERIFIED) so that the driver must not guess a state.
        return _CP_STATE.get(state, 5)

    def render(self, image: RegisterImage) -> None:
        """Present values in the CC613 layout."""
        charger = self.charger
        phases = charger.phases()
        image.put_ascii(UNIT, HOLDING, 100, self.firmware, 2)
        image.put_u16(UNIT, HOLDING, 122, self._cp_state())
        used = sum(1 for current in phases.current if current > 0)
        image.put_u16(UNIT, HOLDING, 140, 0 if used == 0 else (5 if used == 1 else 1))
        image.put_ascii(UNIT, HOLDING, 142, self.model_name, 10)
        # 200..205 (phase energies of legacy firmware) are not rendered: the model keeps
        # only the total, and a made-up split would be a wrong number.
        for index, address in enumerate((212, 214, 216)):
            image.put_u32(UNIT, HOLDING, address, round(phases.current[index] * 1000))  # mA
        image.put_u32(UNIT, HOLDING, 218, int(charger.energy_wh()))  # Wh
        power = NOT_AVAILABLE if self.power_unavailable else round(phases.total_power)
        image.put_u32(UNIT, HOLDING, 220, power)  # W
        for index, address in enumerate((222, 224, 226)):
            volts = round(phases.voltage[index]) if self.ocpp_meter else 0
            image.put_u32(UNIT, HOLDING, address, volts)
        session_wh = int(charger.session_energy_wh()) if charger.vehicle else 0
        seconds = int(charger.charging_seconds()) if charger.vehicle else 0
        image.put_u32(UNIT, HOLDING, 705, session_wh)  # legacy copies
        image.put_u32(UNIT, HOLDING, 709, seconds)
        image.put_u32(UNIT, HOLDING, 716, session_wh)
        image.put_u32(UNIT, HOLDING, 718, seconds)
        image.put_ascii(UNIT, HOLDING, 720, charger.rfid or "", 10)
        image.put_u16(UNIT, HOLDING, 740, 0)  # no ISO 15118 "smart vehicle"
        image.put_ascii(UNIT, HOLDING, 741, "", 6)
        image.put_u16(UNIT, HOLDING, 1000, round(charger.current_limit))

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """Only the HEMS current limit (A, 0 pauses) is writable."""
        if table != HOLDING or address != 1000 or len(values) != 1:
            return ExcCodes.ILLEGAL_ADDRESS
        amps = values[0]
        if amps != 0 and not self.charger.min_current <= amps <= self.charger.max_current:
            return ExcCodes.ILLEGAL_VALUE
        self.charger.set_current_limit(amps)
        return None
