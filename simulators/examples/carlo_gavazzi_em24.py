"""Carlo Gavazzi EM24-DIN three-phase meter behind an RS-485 to Modbus TCP gateway.

Register map written from the EM24-DIN communication protocol, table 2.3-1 (instantaneous
variables and meters, FC3 and FC4 alike), not from any profile: every value INT32 with the
least significant word first, except the INT16 power factors, phase sequence and frequency.
0x0000-0x000A voltages (V x 10: L1-N, L2-N, L3-N, L1-L2, L2-L3, L3-L1), 0x000C-0x0010
currents (A x 1000), 0x0012-0x0016 active power per phase (W x 10), 0x0018-0x001C VA,
0x001E-0x0022 var (x 10), 0x0024/0x0026 system voltages, 0x0028 system power (W x 10),
0x002A VA, 0x002C var, 0x002E-0x0031 power factors (x 1000), 0x0032 phase sequence,
0x0033 frequency (Hz x 10), 0x0034 kWh(+) total (kWh x 10), 0x0036 kvarh(+) total.
Table 2.4-1: 0x0302 version code, 0x0303 revision code (one word per request). Unit 1.
"""

from __future__ import annotations

import math

from pymodbus.constants import ExcCodes

from simulators.behaviour import ConstantLoad, Load, MeterModel
from simulators.clock import SimClock
from simulators.modbus import HOLDING, INPUT, ModbusSimulator, RegisterImage

UNIT = 1


class CarloGavazziEM24(ModbusSimulator):
    """An EM24 measuring a load (a constant one unless given a charger)."""

    name = "carlo_gavazzi_em24"
    description = "Carlo Gavazzi EM24-DIN behind a Modbus TCP gateway (unit 1)"
    units = (UNIT,)

    def __init__(
        self, clock: SimClock | None = None, *, load: Load | None = None, import_kwh: float = 0.0
    ) -> None:
        """A meter whose kWh(+) register starts at `import_kwh`."""
        super().__init__(clock)
        self.meter = MeterModel(load or ConstantLoad(self.clock), import_wh=import_kwh * 1000)

    def render(self, image: RegisterImage) -> None:
        """The same image on the holding and the input table (the meter answers both)."""
        phases = self.meter.phases()
        v, i, p = phases.voltage, phases.current, phases.power
        line = [v[a] * math.sqrt(3) if v[a] and v[b] else 0.0 for a, b in ((0, 1), (1, 2), (2, 0))]
        int32 = [
            *(round(x * 10) for x in (*v, *line)),
            *(round(x * 1000) for x in i),
            *(round(x * 10) for x in p),
            *(round(x * 10) for x in p),  # VA = W at unity power factor
            0,
            0,
            0,
            round(sum(v) / 3 * 10),
            round(sum(line) / 3 * 10),
            round(sum(p) * 10),
            round(sum(p) * 10),
            0,
        ]
        for table in (HOLDING, INPUT):
            for index, number in enumerate(int32):
                image.put_i32(UNIT, table, 2 * index, number, low_first=True)
            for address, number in ((0x2E, 1000), (0x2F, 1000), (0x30, 1000), (0x31, 1000)):
                image.put_i16(UNIT, table, address, number)
            image.put_i16(UNIT, table, 0x32, 0)  # L1-L2-L3
            image.put_i16(UNIT, table, 0x33, 500)  # 50.0 Hz
            image.put_i32(
                UNIT, table, 0x34, math.floor(self.meter.import_wh() / 100), low_first=True
            )
            image.put_i32(UNIT, table, 0x36, 0, low_first=True)
            image.put_u16(UNIT, table, 0x0302, 0)  # version "A"
            image.put_u16(UNIT, table, 0x0303, 0)  # revision "0"

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """The measuring registers are read-only."""
        return ExcCodes.ILLEGAL_ADDRESS
