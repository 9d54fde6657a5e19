"""ABB Terra AC wallbox over Modbus TCP.

Register map written from devices.md section 2 (evcc charger/abb.go quoting ABB's "Terra AC
Charger Modbus Communication" table): unit 1, holding registers 0x4000..0x401F, values
uint32 with the high word first; serial 8 bytes, firmware bytes b0.b1.b2; currents in mA,
voltages in 0.1 V, power in W, session energy in Wh (no lifetime register). The charging
state is the third byte of 0x400C, bits 0..6. Writes: 0x4100 current limit (uint32 mA,
one FC16 request, 0 pauses), 0x4105 start (0) / stop (1) session, 0x4106 communication
timeout (s); these registers are write-only.

Assumed where the reference says UNVERIFIED: the communication timeout (60 s here) counts
from the last Modbus request of any kind; when it passes, error bit 16384 ("Modbus
communication lost") is set and the box offers its fallback current (0 A here) until
the next request. After a stop command the state stays 5 until the next plug-in.
"""

from __future__ import annotations

from typing import Any

from pymodbus.constants import ExcCodes

from simulators.behaviour import ChargerModel
from simulators.clock import SimClock
from simulators.modbus import HOLDING, ModbusSimulator, RegisterImage
from simulators.vehicle import Vehicle

UNIT = 1
COMMUNICATION_LOST = 16384
# Bytes of 0x400C around the state byte are not described in the reference; they are
# non-zero here (and bit 7 of the state byte is set), so a decoder must shift and mask.
_STATE_OTHER_BYTES = 0x5A_00_00_A5
_STATE_BIT7 = 0x80
WRITE_ONLY = range(0x4100, 0x4107)


class AbbTerraAC(ModbusSimulator):
    """A three-phase 32 A Terra AC."""

    name = "abb_terra_ac"
    description = "ABB Terra AC wallbox (Modbus TCP, unit 1)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        serial: bytes = bytes.fromhex("1A2B3C4D5E6F7081"),
        firmware: bytes = bytes((1, 6, 5, 0)),
        communication_timeout: int = 60,
        fallback_current: float = 0.0,
    ) -> None:
        """A box whose Modbus link times out after `communication_timeout` seconds."""
        super().__init__(clock)
        self.serial = serial
        self.firmware = firmware
        self.communication_timeout = communication_timeout
        self.stopped = False
        self.charger = ChargerModel(
            self.clock,
            min_current=6,
            max_current=32,
            safe_current=fallback_current,
            watchdog_timeout=communication_timeout,
            setpoint_is_heartbeat=False,
        )

    # -- behaviour ---------------------------------------------------------------------

    def charging_state(self) -> int:
        """0 A, 1 B1 pending authorisation, 2 B2, 3 C1, 4 C2 charging, 5 stopped."""
        charger = self.charger
        if self.stopped:
            return 5
        if charger.vehicle is None:
            return 0
        if charger.rfid_required and charger.rfid is None:
            return 1
        if charger.phases().total_power > 0:
            return 4
        if charger.offered_current() > 0:
            return 2  # PWM on, the car takes nothing
        return 3 if not charger.vehicle.full else 1

    def socket_lock(self) -> int:
        """0 no cable, 0x0101 cable and EV unlocked, 0x0111 cable and EV locked."""
        if self.charger.vehicle is None:
            return 0
        return 0x0101 if self.stopped else 0x0111

    def plug(self, vehicle: Vehicle | None = None) -> Vehicle:
        """A vehicle is connected: a new session, which ends a stopped one."""
        if self.stopped:
            self.stopped = False
            self.charger.set_enabled(True)
        return self.charger.plug(vehicle)

    def render_error_code(self) -> int:
        """Register 0x4008 as it stands now (without counting a request as sign of life)."""
        return COMMUNICATION_LOST if self.charger.watchdog_expired() else 0

    # -- registers ---------------------------------------------------------------------

    def render(self, image: RegisterImage) -> None:
        """Present values in the Terra AC layout."""
        charger = self.charger
        phases = charger.phases()

        def u32(address: int, value: int) -> None:
            image.put_u32(UNIT, HOLDING, address, value)

        image.put_registers(
            UNIT, HOLDING, 0x4000, [int.from_bytes(self.serial[i : i + 2]) for i in (0, 2, 4, 6)]
        )
        u32(0x4004, int.from_bytes(self.firmware))
        u32(0x4006, round(charger.max_current * 1000))
        u32(0x4008, self.render_error_code())
        u32(0x400A, self.socket_lock())
        u32(0x400C, _STATE_OTHER_BYTES | (_STATE_BIT7 | self.charging_state()) << 8)
        u32(0x400E, round(charger.current_limit * 1000))
        for index in range(3):
            u32(0x4010 + 2 * index, round(phases.current[index] * 1000))  # mA
            u32(0x4016 + 2 * index, round(phases.voltage[index] * 10))  # 0.1 V
        u32(0x401C, round(phases.total_power))
        session = charger.session_energy_wh() if charger.vehicle else 0.0
        u32(0x401E, int(session))

    async def get_values(self, unit: int, function: int, address: int, count: int) -> Any:
        """Every request is a sign of life on the Modbus link."""
        self.charger.alive()
        return await super().get_values(unit, function, address, count)

    async def set_values(self, unit: int, function: int, address: int, values: Any) -> Any:
        """Every request is a sign of life on the Modbus link."""
        self.charger.alive()
        return await super().set_values(unit, function, address, values)

    def writable(self, unit: int, table: str, address: int, count: int) -> bool:
        """The control registers 0x4100..0x4106 are write-only."""
        return table == HOLDING and address in WRITE_ONLY

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """Current limit (whole uint32 mA), start/stop and communication timeout."""
        charger = self.charger
        if address in (0x4100, 0x4101):
            if address != 0x4100 or len(values) != 2:
                return ExcCodes.ILLEGAL_VALUE  # half a uint32
            milliamps = values[0] << 16 | values[1]
            if milliamps > charger.max_current * 1000:
                return ExcCodes.ILLEGAL_VALUE
            charger.set_current_limit(milliamps / 1000)
            return None
        if len(values) != 1:
            return ExcCodes.ILLEGAL_VALUE
        match address:
            case 0x4105:  # 0 start, 1 stop (values UNVERIFIED)
                if values[0] not in (0, 1):
                    return ExcCodes.ILLEGAL_VALUE
                self.stopped = values[0] == 1
                charger.set_enabled(not self.stopped)
            case 0x4106:
                self.communication_timeout = values[0]
                charger.watchdog_timeout = values[0] or None
            case 0x4103:
                pass  # socket lock: not modelled
            case _:
                return ExcCodes.ILLEGAL_ADDRESS
        return None
