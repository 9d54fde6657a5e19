"""Heidelberg Energy Control (Amperfied) behind an RS-485 to Modbus TCP gateway.

Register map written from devices.md section 6 (evcc charger/heidelberg-ec.go, Amperfied
"EC_ModBus_register_table_20210222_LW.pdf"), not from any profile: unit 1 (DIP switch S4),
input registers 4 (register-layout version), 5 (charging state 2 A1, 3 A2, 4 B1, 5 B2,
6 C1, 7 C2), 6-8 (phase currents, 0.1 A), 10-12 (phase voltages, V), 14 (power, W),
15-16 and 17-18 (energy since power-on and since installation, uint32 Wh, high word
first), 100/101 (hardware maximum / minimum current, A); holding registers 257 (watchdog
timeout, ms), 258 (standby function control), 259 (remote lock), 261 (maximum current,
0.1 A, 0 stops) and 262 (failsafe current, 0.1 A). The manager writes with FC16.

The layout-version register packs the version as one byte and two nibbles (0x0108 for
layout 1.0.8): assumed from the layout names the register table uses; UNVERIFIED.
Any request keeps the watchdog alive; after the timeout the box falls back to the
failsafe current. Other addresses are illegal data addresses.
"""

from __future__ import annotations

from pymodbus.constants import ExcCodes

from simulators.behaviour import ChargerModel
from simulators.clock import SimClock
from simulators.modbus import HOLDING, INPUT, ModbusSimulator, RegisterImage

UNIT = 1
LAYOUT_VERSION = 0x0108  # 1.0.8


class HeidelbergEnergyControl(ModbusSimulator):
    """An 11 kW (16 A, three-phase) Energy Control."""

    name = "heidelberg_energy_control"
    description = "Heidelberg Energy Control behind a Modbus TCP gateway (unit 1)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        energy_wh: float = 4_321_000.0,
        watchdog_timeout_ms: int = 15_000,
        failsafe_current: float = 0.0,
    ) -> None:
        """A box with `energy_wh` on its meter since installation."""
        super().__init__(clock)
        self.watchdog_timeout_ms = watchdog_timeout_ms
        self.standby_control = 0
        self.remote_lock = 1
        self.failsafe_deciamps = round(failsafe_current * 10)
        self.charger = ChargerModel(
            self.clock,
            min_current=6,
            max_current=16,
            safe_current=failsafe_current,
            watchdog_timeout=watchdog_timeout_ms / 1000,
            energy_wh=energy_wh,
        )
        self._energy_at_power_on = energy_wh

    def charging_state(self) -> int:
        """Input register 5: A1/A2, B1/B2, C1/C2 as 2..7 (the "1" states offer no current)."""
        charger = self.charger
        offering = charger.offered_current() > 0
        if charger.vehicle is None:
            return 3 if offering else 2
        if charger.phases().total_power > 0:
            return 7
        return 5 if offering else 4

    async def _before(self, function: int, unit: int, address: int, count: int) -> int | None:
        self.charger.alive()  # any Modbus traffic is a sign of life to this box
        return await super()._before(function, unit, address, count)

    def render(self, image: RegisterImage) -> None:
        """Present values in the Energy Control layout."""
        charger = self.charger
        phases = charger.phases()
        energy = charger.energy_wh()
        image.put_u16(UNIT, INPUT, 4, LAYOUT_VERSION)
        image.put_u16(UNIT, INPUT, 5, self.charging_state())
        for index in range(3):
            image.put_u16(UNIT, INPUT, 6 + index, round(phases.current[index] * 10))
            image.put_u16(UNIT, INPUT, 10 + index, round(phases.voltage[index]))
        image.put_i16(UNIT, INPUT, 9, 312)  # PCB temperature 31.2 degC
        image.put_u16(UNIT, INPUT, 13, 1)  # external lock: unlocked
        image.put_u16(UNIT, INPUT, 14, round(phases.total_power))
        image.put_u32(UNIT, INPUT, 15, int(energy - self._energy_at_power_on))
        image.put_u32(UNIT, INPUT, 17, int(energy))
        image.put_u16(UNIT, INPUT, 100, round(charger.max_current))
        image.put_u16(UNIT, INPUT, 101, round(charger.min_current))
        image.put_u16(UNIT, HOLDING, 257, self.watchdog_timeout_ms)
        image.put_u16(UNIT, HOLDING, 258, self.standby_control)
        image.put_u16(UNIT, HOLDING, 259, self.remote_lock)
        image.put_u16(UNIT, HOLDING, 261, round(charger.current_limit * 10))
        image.put_u16(UNIT, HOLDING, 262, self.failsafe_deciamps)

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """Watchdog timeout, standby, remote lock, maximum and failsafe current."""
        if table != HOLDING or len(values) != 1:
            return ExcCodes.ILLEGAL_ADDRESS
        value = values[0]
        charger = self.charger
        match address:
            case 257:
                self.watchdog_timeout_ms = value
                charger.watchdog_timeout = value / 1000 if value else None
            case 258:
                self.standby_control = value
            case 259:
                self.remote_lock = value
            case 261:
                amps = value / 10
                if amps != 0 and not charger.min_current <= amps <= charger.max_current:
                    return ExcCodes.ILLEGAL_VALUE
                charger.set_current_limit(amps)
            case 262:
                self.failsafe_deciamps = value
                charger.safe_current = value / 10
            case _:
                return ExcCodes.ILLEGAL_ADDRESS
        return None
