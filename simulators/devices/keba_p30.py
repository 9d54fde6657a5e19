"""KEBA KeContact P30 (c-series) over Modbus TCP.

Register map written from devices.md section 10a (evcc charger/keba-modbus.go, KEBA's
Modbus TCP programmers guide): unit 255, every readable value a uint32 in two holding
registers with the high word first; currents in mA, power in mW, energy in 0.1 Wh. The
control registers (5004 current in mA, 5014 enable, 5018 failsafe timeout) are uint16,
written with FC6 and cannot be read. The box refuses any read that does not cover exactly
one value: "the box cannot read across value boundaries".

Failsafe: when the failsafe timeout (1602, set by writing 5018) passes without a new write
of 5018, the box falls back to its failsafe current. Disabled (5014 = 0) it suspends
charging (charging state 5). With authorisation on, a vehicle waits in state 1 until an
RFID card is swiped.
"""

from __future__ import annotations

from typing import Any

from pymodbus.constants import ExcCodes

from simulators.behaviour import ChargerModel
from simulators.clock import SimClock
from simulators.modbus import HOLDING, ModbusSimulator, RegisterImage

UNIT = 255
# The readable values: each starts here and is two registers long.
VALUES = frozenset(
    {1000, 1004, 1008, 1010, 1012, 1014, 1016, 1018, 1020, 1036, 1040, 1042, 1044}
    | {1500, 1502, 1550, 1552, 1602}
)
WRITE_ONLY = (5004, 5014, 5018, 5050, 5052)


class KebaP30(ModbusSimulator):
    """A three-phase 32 A KeContact P30 c-series with energy meter and RFID reader."""

    name = "keba_p30"
    description = "KEBA KeContact P30 wallbox (Modbus TCP, unit 255)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        serial: int = 22_334_455,
        product_code: int = 311_011,  # P30, digit 5 != 0: meter, digit 6 == 1: RFID
        firmware: int = 0x030A2A00,  # 3.10.42 as bytes
        failsafe_timeout: int = 30,
        failsafe_current: float = 6.0,
        energy_wh: float = 4_567_890.5,
        authorization: bool = False,
    ) -> None:
        """A box with `energy_wh` on its meter; `authorization` requires an RFID swipe."""
        super().__init__(clock)
        self.serial = serial
        self.product_code = product_code
        self.firmware = firmware
        self.failsafe_timeout = failsafe_timeout
        self.charger = ChargerModel(
            self.clock,
            min_current=6,
            max_current=32,
            safe_current=failsafe_current,
            watchdog_timeout=failsafe_timeout,
            energy_wh=energy_wh,
            setpoint_is_heartbeat=False,
        )
        self.charger.rfid_required = authorization

    # -- behaviour ---------------------------------------------------------------------

    def charging_state(self) -> int:
        """Register 1000: 1 not ready, 2 ready, 3 charging, 4 error, 5 suspended."""
        charger = self.charger
        if charger.fault:
            return 4
        if charger.vehicle is None:
            return 1
        if charger.rfid_required and charger.rfid is None:
            return 1  # locked by the authorisation function
        if not charger.enabled:
            return 5
        return 3 if charger.phases().total_power > 0 else 2

    def cable_state(self) -> int:
        """Register 1004: 1 cable at the station, 7 cable at station and vehicle, locked."""
        return 1 if self.charger.vehicle is None else 7

    # -- registers ---------------------------------------------------------------------

    def render(self, image: RegisterImage) -> None:
        """Present values in the P30 layout."""
        charger = self.charger
        phases = charger.phases()

        def u32(address: int, value: int) -> None:
            image.put_u32(UNIT, HOLDING, address, value)

        u32(1000, self.charging_state())
        u32(1004, self.cable_state())
        for index, address in enumerate((1008, 1010, 1012)):
            u32(address, round(phases.current[index] * 1000))  # mA
        u32(1014, self.serial)
        u32(1016, self.product_code)
        u32(1018, self.firmware)
        u32(1020, round(phases.total_power * 1000))  # mW
        u32(1036, int(charger.energy_wh() * 10))  # 0.1 Wh
        for index, address in enumerate((1040, 1042, 1044)):
            u32(address, round(phases.voltage[index]))
        tag = charger.rfid
        u32(1500, int(tag, 16) if tag else 0)
        session = charger.session_energy_wh() if charger.vehicle else 0.0
        u32(1502, int(session * 10))
        u32(1550, 0)  # phase switching not by Modbus
        u32(1552, 1)  # three phases
        u32(1602, self.failsafe_timeout)

    def swipe(self, uid: bytes) -> None:
        """Hold a card with this 4-byte UID to the reader."""
        if len(uid) != 4:
            raise ValueError("the P30 reports 4-byte UIDs")
        self.charger.swipe(uid.hex())

    async def get_values(self, unit: int, function: int, address: int, count: int) -> Any:
        """Refuse a read that is not exactly one value."""
        if function == 3 and (address not in VALUES or count != 2):
            self.requests.append((function, unit, address, count))
            return ExcCodes.ILLEGAL_ADDRESS
        return await super().get_values(unit, function, address, count)

    def writable(self, unit: int, table: str, address: int, count: int) -> bool:
        """The control registers are write-only, one register each."""
        return table == HOLDING and address in WRITE_ONLY and count == 1

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """Current (mA), enable, failsafe timeout (the heartbeat) and phase switching."""
        value = values[0]
        charger = self.charger
        match address:
            case 5004:
                if value != 0 and not 6000 <= value <= charger.max_current * 1000:
                    return ExcCodes.ILLEGAL_VALUE
                charger.set_current_limit(value / 1000)
            case 5014:
                if value not in (0, 1):
                    return ExcCodes.ILLEGAL_VALUE
                charger.set_enabled(bool(value))
            case 5018:
                charger.alive()  # integrates up to now under the old timeout
                self.failsafe_timeout = value
                charger.watchdog_timeout = value or None  # 0 switches the failsafe off
            case _:
                pass  # phase switching: not modelled, accepted
        return None
