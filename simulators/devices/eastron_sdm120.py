"""Eastron SDM120 single-phase meter, as reached through a Modbus TCP gateway.

Register map from devices.md section 13 (mbmd meters/rs485/sdm120.go, evcc
eastron-sdm120.yaml): the single-phase subset of the SDM input registers (FC4), every value
float32 IEEE, high word first: voltage 0x00, current 0x06, active power 0x0C (the meter's
total power; it has no 0x34), apparent power 0x12, reactive power 0x18, power factor 0x1E,
frequency 0x46, import / export kWh 0x48 / 0x4A, import / export kVArh 0x4C / 0x4E, total
kWh / kVArh 0x156 / 0x158.

The meter code in HR 0xFC02 (uint16) is UNVERIFIED in devices.md; one weak source (an
independent SDM integration's tests) names 0x0020 as the documented SDM120 code and 0x0004 as
a code seen in the field. This simulator answers 0x0020. Every other address answers
ILLEGAL_ADDRESS.
"""

from __future__ import annotations

import math

from pymodbus.constants import ExcCodes

from simulators.behaviour import ConstantLoad, Load, MeterModel
from simulators.clock import SimClock
from simulators.modbus import HOLDING, INPUT, ModbusSimulator, RegisterImage

UNIT = 1
METER_CODE_SDM120 = 0x0020


class EastronSDM120(ModbusSimulator):
    """An SDM120 on one phase, measuring a load (a constant load unless given a charger)."""

    name = "eastron_sdm120"
    description = "Eastron SDM120 single-phase meter behind a Modbus TCP gateway (unit 1)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        load: Load | None = None,
        import_kwh: float = 321.0,
        export_kwh: float = 0.0,
    ) -> None:
        """A meter whose import register starts at `import_kwh`; it sees phase 1 only."""
        super().__init__(clock)
        self.meter = MeterModel(
            load or ConstantLoad(self.clock, phases=1),
            import_wh=import_kwh * 1000,
            export_wh=export_kwh * 1000,
        )

    def render(self, image: RegisterImage) -> None:
        """Present values in the SDM120 layout (phase 1 of the load)."""
        phases = self.meter.phases()
        nan = self.faults.nan

        def f32(address: int, value: float) -> None:
            image.put_f32(UNIT, INPUT, address, math.nan if nan else value)

        power = phases.power[0]
        f32(0x00, phases.voltage[0])
        f32(0x06, phases.current[0])
        f32(0x0C, power)
        f32(0x12, power)  # apparent = active at unity power factor
        f32(0x18, 0.0)
        f32(0x1E, 1.0)
        f32(0x46, 50.0)
        import_kwh = self.meter.import_wh() / 1000
        export_kwh = self.meter.export_wh / 1000
        f32(0x48, import_kwh)
        f32(0x4A, export_kwh)
        f32(0x4C, 0.0)
        f32(0x4E, 0.0)
        f32(0x156, import_kwh + export_kwh)
        f32(0x158, 0.0)
        image.put_u16(UNIT, HOLDING, 0xFC02, METER_CODE_SDM120)

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """A meter takes no commands over this gateway."""
        return ExcCodes.ILLEGAL_ADDRESS
