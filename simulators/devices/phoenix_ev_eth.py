"""Phoenix Contact EV Charge Control EV-CC-AC1-M3-...-ETH (Phoenix firmware) over Modbus TCP.

Register map written from devices.md section 3 (evcc charger/phoenix-ev-eth.go): unit 255;
32-bit values with the low word first; strings with the low byte of each register first.
IR 100 holds the IEC 61851 state as an ASCII letter; IR 108..121 voltages (V), currents
(A) and power (W) as int32; coil 400 enables charging; HR 528 is the maximum current in A;
HR 606 the RFID card of the current user (16 registers); HR 904 the total energy in Wh
(uint32). No heartbeat is documented: settings hold until written again.
"""

from __future__ import annotations

from pymodbus.constants import ExcCodes

from simulators.behaviour import ChargerModel
from simulators.clock import SimClock
from simulators.modbus import COIL, HOLDING, INPUT, ModbusSimulator, RegisterImage

UNIT = 255


class PhoenixEvEth(ModbusSimulator):
    """A three-phase 32 A wallbox on a Phoenix EV-CC-AC1-M3-CBC-RCM-ETH controller."""

    name = "phoenix_ev_eth"
    description = "Phoenix Contact EV-CC-AC1-M3 ETH charge controller (Modbus TCP, unit 255)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        firmware: str = "1.43",
        energy_wh: float = 1_234_567.0,
    ) -> None:
        """A controller with `energy_wh` on its meter."""
        super().__init__(clock)
        self.firmware = firmware
        self.card_reader = True
        self.charger = ChargerModel(self.clock, min_current=6, max_current=32, energy_wh=energy_wh)

    def render(self, image: RegisterImage) -> None:
        """Present values in the EV-ETH layout."""
        charger = self.charger
        phases = charger.phases()
        image.put_u16(UNIT, INPUT, 100, ord(charger.state))  # 'A' = 0x0041 ...
        image.put_u32(UNIT, INPUT, 102, int(charger.charging_seconds()), low_first=True)
        image.put_ascii(UNIT, INPUT, 105, self.firmware, 2, swapped=True)
        for index in range(3):
            volts = round(phases.voltage[index])
            amps = round(phases.current[index])
            image.put_i32(UNIT, INPUT, 108 + 2 * index, volts, low_first=True)
            image.put_i32(UNIT, INPUT, 114 + 2 * index, amps, low_first=True)
        image.put_i32(UNIT, INPUT, 120, round(phases.total_power), low_first=True)
        image.put_bit(UNIT, COIL, 400, charger.enabled)
        image.put_bit(UNIT, COIL, 419, self.card_reader)
        image.put_u16(UNIT, HOLDING, 528, round(charger.current_limit))
        image.put_ascii(UNIT, HOLDING, 606, charger.rfid or "", 16, swapped=True)
        image.put_u32(UNIT, HOLDING, 904, int(charger.energy_wh()), low_first=True)

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """Enable coil, card reader coil and the maximum current (A)."""
        charger = self.charger
        if table == COIL and len(values) == 1 and address in (400, 419):
            if address == 400:
                charger.set_enabled(bool(values[0]))
            else:
                self.card_reader = bool(values[0])
            return None
        if table == HOLDING and address == 528 and len(values) == 1:
            if not charger.min_current <= values[0] <= charger.max_current:
                return ExcCodes.ILLEGAL_VALUE
            charger.set_current_limit(values[0])
            return None
        return ExcCodes.ILLEGAL_ADDRESS
