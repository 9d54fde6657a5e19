"""ABB B21 / B23 / B24 (EQ meters) behind a Modbus TCP gateway.

Register map from devices.md section 14 (victron dbus-modbus-client abb.py, mbmd
meters/rs485/abb.go, evcc abb-ab.yaml), all holding registers, words high first:

* 0x8960: model, 2 registers ASCII: "B21 " / "B23 " / "B24 "; 0x8900 serial (int32);
  0x8908 firmware (8 registers text);
* 0x5000 / 0x5004: active import / export energy, uint64 in 0.01 kWh;
  0x5460/64/68 import and 0x546C/70/74 export per phase (uint64, 0.01 kWh);
* 0x5B00/02/04 voltage L1-L3 (uint32, 0.1 V); 0x5B0C/0E/10 current (uint32, 0.01 A);
  0x5B14 active power total and 0x5B16/18/1A per phase (int32, 0.01 W);
  0x5B2C frequency (uint16, 0.01 Hz); 0x5B3A power factor total, 0x5B3B-3D per phase
  (int16, 0.001);
* "not available" is all ones (0xFFFF..., 0x7FFF for power factors).

The B21 is single-phase: its phase 2 and 3 values read "not available" (an assumption from
victron's note that the B21 reports per-phase values as not supported). Per-phase energies
are reported "not available" here (the load model has no per-phase energy). Every other
address answers ILLEGAL_ADDRESS.
"""

from __future__ import annotations

from pymodbus.constants import ExcCodes

from simulators.behaviour import ConstantLoad, Load, MeterModel
from simulators.clock import SimClock
from simulators.modbus import HOLDING, ModbusSimulator, RegisterImage

UNIT = 1
ALL_ONES_16 = 0xFFFF
ALL_ONES_32 = 0xFFFFFFFF
ALL_ONES_64 = 0xFFFFFFFFFFFFFFFF
PF_NOT_AVAILABLE = 0x7FFF


class AbbB2x(ModbusSimulator):
    """A B23 (or B21/B24) measuring a load."""

    name = "abb_b2x"
    description = "ABB B21/B23/B24 meter behind a Modbus TCP gateway (unit 1)"
    units = (UNIT,)

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        model: str = "B23",
        load: Load | None = None,
        import_wh: float = 5_432_100.0,
        export_wh: float = 12_340.0,
        serial: int = 7_012_345,
        firmware: str = "1.2.0",
    ) -> None:
        """A meter of `model` ("B21", "B23" or "B24") whose import starts at `import_wh`."""
        super().__init__(clock)
        if model not in ("B21", "B23", "B24"):
            raise ValueError(f"unknown ABB model {model}")
        self.model = model
        self.serial = serial
        self.firmware = firmware
        phases = 1 if model == "B21" else 3
        self.meter = MeterModel(
            load or ConstantLoad(self.clock, phases=phases),
            import_wh=import_wh,
            export_wh=export_wh,
        )

    def render(self, image: RegisterImage) -> None:
        """Present values in the B2x layout."""
        image.put_ascii(UNIT, HOLDING, 0x8960, f"{self.model} ", 2)
        image.put_u32(UNIT, HOLDING, 0x8900, self.serial)
        image.put_ascii(UNIT, HOLDING, 0x8908, self.firmware, 8)
        used = 1 if self.model == "B21" else 3
        phases = self.meter.phases()

        # Energy counters show whole 0.01 kWh (10 Wh) steps.
        image.put_u64(UNIT, HOLDING, 0x5000, int(self.meter.import_wh() // 10))
        image.put_u64(UNIT, HOLDING, 0x5004, int(self.meter.export_wh // 10))
        for address in (0x5460, 0x5464, 0x5468, 0x546C, 0x5470, 0x5474):
            image.put_u64(UNIT, HOLDING, address, ALL_ONES_64)

        def u32(address: int, value: float | None, unit_size: float) -> None:
            raw = ALL_ONES_32 if value is None else round(value / unit_size)
            image.put_u32(UNIT, HOLDING, address, raw)

        def i32(address: int, value: float | None, unit_size: float) -> None:
            if value is None:
                image.put_u32(UNIT, HOLDING, address, ALL_ONES_32)
            else:
                image.put_i32(UNIT, HOLDING, address, round(value / unit_size))

        for index in range(3):
            present = index < used
            u32(0x5B00 + 2 * index, phases.voltage[index] if present else None, 0.1)
            u32(0x5B0C + 2 * index, phases.current[index] if present else None, 0.01)
            i32(0x5B16 + 2 * index, phases.power[index] if present else None, 0.01)
            image.put_i16(UNIT, HOLDING, 0x5B3B + index, 1000 if present else PF_NOT_AVAILABLE)
        i32(0x5B14, phases.total_power, 0.01)
        image.put_u16(UNIT, HOLDING, 0x5B2C, 5000)  # 50.00 Hz
        image.put_i16(UNIT, HOLDING, 0x5B3A, 1000)  # PF 1.000

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """A meter takes no commands over this gateway."""
        return ExcCodes.ILLEGAL_ADDRESS
