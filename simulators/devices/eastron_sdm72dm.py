"""Eastron SDM72D-M v2 three-phase meter, as reached through a Modbus TCP gateway.

Register map from devices.md section 13 (mbmd meters/rs485/sdm72v2.go, evcc
eastron-sdm72v2_630.yaml, Tinkerforge evse-v2-bricklet sdm.h for the meter code):

* input registers (FC4), every value float32 IEEE, high word first: voltages 0x00/0x02/0x04,
  currents 0x06/0x08/0x0A, active power per phase 0x0C/0x0E/0x10, apparent power
  0x12..0x16, reactive power 0x18..0x1C, power factor 0x1E..0x22, total power 0x34, total
  VA / VAr / PF 0x38 / 0x3C / 0x3E, frequency 0x46, total import / export kWh 0x48 / 0x4A,
  total kWh / kVArh 0x156 / 0x158;
* holding registers (FC3): system type 0x0A (float32, 3.0 = 3P4W), KPPA 0x0E (float32) and
  the meter code 0xFC02 (uint16) = 0x0089 for the SDM72D-M v2.

Only these registers are mapped; any other address answers ILLEGAL_ADDRESS (nothing
documents what the meter answers for reserved registers).
"""

from __future__ import annotations

import math

from pymodbus.constants import ExcCodes

from simulators.behaviour import ConstantLoad, Load, MeterModel
from simulators.clock import SimClock
from simulators.modbus import HOLDING, INPUT, ModbusSimulator, RegisterImage

UNIT = 1
METER_CODE_SDM72DM_V2 = 0x0089


class EastronSDM72DM(ModbusSimulator):
    """An SDM72D-M v2 measuring a load (a constant house load unless given a charger)."""

    name = "eastron_sdm72dm"
    description = "Eastron SDM72D-M v2 meter behind a Modbus TCP gateway (unit 1)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        load: Load | None = None,
        import_kwh: float = 1_234.5,
        export_kwh: float = 12.5,
    ) -> None:
        """A meter whose import register starts at `import_kwh`."""
        super().__init__(clock)
        self.meter = MeterModel(
            load or ConstantLoad(self.clock),
            import_wh=import_kwh * 1000,
            export_wh=export_kwh * 1000,
        )

    def render(self, image: RegisterImage) -> None:
        """Present values in the SDM72D-M v2 layout."""
        phases = self.meter.phases()
        nan = self.faults.nan

        def f32(address: int, value: float) -> None:
            image.put_f32(UNIT, INPUT, address, math.nan if nan else value)

        for index in range(3):
            power = phases.power[index]
            f32(0x00 + 2 * index, phases.voltage[index])
            f32(0x06 + 2 * index, phases.current[index])
            f32(0x0C + 2 * index, power)
            f32(0x12 + 2 * index, power)  # apparent = active at unity power factor
            f32(0x18 + 2 * index, 0.0)
            f32(0x1E + 2 * index, 1.0)
        f32(0x34, phases.total_power)
        f32(0x38, phases.total_power)
        f32(0x3C, 0.0)
        f32(0x3E, 1.0)
        f32(0x46, 50.0)
        import_kwh = self.meter.import_wh() / 1000
        export_kwh = self.meter.export_wh / 1000
        f32(0x48, import_kwh)
        f32(0x4A, export_kwh)
        f32(0x156, import_kwh + export_kwh)
        f32(0x158, 0.0)
        image.put_f32(UNIT, HOLDING, 0x0A, 3.0)  # 3 phase 4 wire
        image.put_f32(UNIT, HOLDING, 0x0E, 0.0)
        image.put_u16(UNIT, HOLDING, 0xFC02, METER_CODE_SDM72DM_V2)

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """A meter takes no commands over this gateway."""
        return ExcCodes.ILLEGAL_ADDRESS
