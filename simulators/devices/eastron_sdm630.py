"""Eastron SDM630 v2 three-phase meter, as reached through a Modbus TCP gateway.

Register map from devices.md section 13 (mbmd meters/rs485/sdm.go, Tinkerforge sdm.h):
measurements are float32 input registers, high word first; energies in kWh. The meter code
0x0070 sits in HR 0xFC02 and the serial in HR 0xFC00 (uint32).
"""

from __future__ import annotations

import math

from pymodbus.constants import ExcCodes

from ..behaviour import ConstantLoad, Load, MeterModel
from ..clock import SimClock
from ..faults import RegisterFaults
from ..modbus import HOLDING, INPUT, ModbusSimulator, RegisterImage

UNIT = 1
METER_CODE_SDM630 = 0x0070


class EastronSDM630(ModbusSimulator):
    """An SDM630 measuring a load (by default a charger, or a constant house load)."""

    name = "eastron_sdm630"
    description = "Eastron SDM630 v2 meter behind a Modbus TCP gateway (unit 1)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        load: Load | None = None,
        serial: int = 21_345_678,
        import_kwh: float = 5_432.1,
    ) -> None:
        """A meter whose import register starts at `import_kwh`."""
        super().__init__(clock)
        self.serial = serial
        self.meter = MeterModel(load or ConstantLoad(self.clock), import_wh=import_kwh * 1000)
        self.register_faults = RegisterFaults()

    def import_register_wh(self) -> float:
        """What the import register shows now, in Wh (before float32 rounding)."""
        return self.register_faults.shown_wh(self.meter.import_wh())

    def render(self, image: RegisterImage) -> None:
        """Present values in the SDM630 layout."""
        # The meter answers every register of its input block; reserved ones read 0.
        image.put_registers(UNIT, INPUT, 0, [0] * 0x180)
        phases = self.meter.phases()
        nan = self.faults.nan

        def f32(address: int, value: float) -> None:
            image.put_f32(UNIT, INPUT, address, math.nan if nan else value)

        for index in range(3):
            f32(0x00 + 2 * index, phases.voltage[index])
            f32(0x06 + 2 * index, phases.current[index])
            f32(0x0C + 2 * index, phases.power[index])
            f32(0x12 + 2 * index, phases.power[index])  # apparent = active at PF 1
            f32(0x1E + 2 * index, 1.0 if phases.current[index] else 0.0)
        f32(0x34, phases.total_power)
        f32(0x38, phases.total_power)
        f32(0x3E, 1.0)
        f32(0x46, 50.0)
        import_kwh = self.import_register_wh() / 1000
        export_kwh = self.meter.export_wh / 1000
        f32(0x48, import_kwh)
        f32(0x4A, export_kwh)
        f32(0x156, import_kwh + export_kwh)
        image.put_registers(UNIT, HOLDING, 0, [0] * 0x30)
        image.put_f32(UNIT, HOLDING, 0x0A, 3.0)  # 3 phase 4 wire
        image.put_f32(UNIT, HOLDING, 0x18, 1000.0)
        image.put_u32(UNIT, HOLDING, 0xFC00, self.serial)
        image.put_u16(UNIT, HOLDING, 0xFC02, METER_CODE_SDM630)

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """A meter takes no commands over this gateway."""
        return ExcCodes.ILLEGAL_ADDRESS
