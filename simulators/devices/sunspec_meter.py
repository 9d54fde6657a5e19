"""SunSpec energy meters: models 201-204 (int16 + scale factors) and 211-214 (float32).

Written from devices.md section 16 and the SunSpec model definitions (sunspec/models
json/model_1.json, model_203.json, model_213.json), not from any profile:

* holding registers; at the base address (40000, or 0 / 50000 on some devices) the marker
  0x5375 0x6E53 ("SunS"), then a chain of models `[ID][L][L registers]` ended by ID 0xFFFF
  with L = 0;
* model 1 (common, L = 66, or 65 without the pad register): Mn at offset 2 (16 registers),
  Md at 18 (16), Opt at 34 (8), Vr at 42 (8), SN at 50 (16), DA at 66, pad at 67;
* models 201-204, L = 105, int16 points each scaled by 10^SF of an int16 "sunssf" point:
  A 2, AphA/B/C 3-5, A_SF 6, PhV 7, PhVphA/B/C 8-10, PPV 11, PhVphAB/BC/CA 12-14, V_SF 15,
  Hz 16, Hz_SF 17, W 18, WphA/B/C 19-21, W_SF 22, VA 23-27, VAR 28-32, PF 33-37,
  TotWhExp 38 (acc32) and per phase 40/42/44, TotWhImp 46 and per phase 48/50/52,
  TotWh_SF 54, apparent/reactive energies 55-104, Evt 105 (bitfield32);
* models 211-214, L = 124, float32 points: A 2, AphA/B/C 4/6/8, PhV 10, PhVphA/B/C 12/14/16,
  PPV 18, PhVphAB/BC/CA 20/22/24, Hz 26, W 28, WphA/B/C 30/32/34, VA 36-42, VAR 44-50,
  PF 52-58, TotWhExp 60 and per phase 62/64/66, TotWhImp 68 and per phase 70/72/74,
  apparent/reactive energies 76-122, Evt 124;
* "not implemented": int16 0x8000, sunssf 0x8000, acc32 0, float32 NaN, string all NUL.

Single-phase models (201, 211) mark phases B and C not implemented. Every register outside
the marker and the chain answers ILLEGAL_ADDRESS.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence

from pymodbus.constants import ExcCodes

from simulators.behaviour import ConstantLoad, Load, MeterModel, PhaseValues
from simulators.clock import SimClock
from simulators.modbus import HOLDING, ModbusSimulator, RegisterImage

SUNS = (0x5375, 0x6E53)
INT16_NOT_IMPLEMENTED = 0x8000
ACC32_NOT_IMPLEMENTED = 0
SQRT3 = math.sqrt(3)


class SunSpecMeter(ModbusSimulator):
    """A SunSpec meter: marker, common model, optional other models, the meter model."""

    units = (1,)
    model_id: int
    model_length: int

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        load: Load | None = None,
        import_wh: float = 5_432_100.0,
        export_wh: float = 1_234_500.0,
        base: int = 40000,
        unit: int = 1,
        model_id: int | None = None,
        common_length: int = 66,
        models_before: Sequence[tuple[int, int]] = (),
        manufacturer: str = "Fronius",
        model_name: str = "Smart Meter TS 65A-3",
        version: str = "1.3.2",
        serial: str = "41110123",
    ) -> None:
        """A meter on `unit` whose chain starts at `base`.

        `models_before` puts other models (id, length) between the common model and the
        meter, as inverters do; `common_length` 65 leaves out model 1's pad register.
        """
        super().__init__(clock)
        self.units = (unit,)  # type: ignore[misc]
        self.unit = unit
        self.base = base
        if model_id is not None:
            self.model_id = model_id
        self.common_length = common_length
        self.models_before = tuple(models_before)
        self.manufacturer = manufacturer
        self.model_name = model_name
        self.version = version
        self.serial = serial
        phases = 1 if self.model_id in (201, 211) else 3
        self.meter = MeterModel(
            load or ConstantLoad(self.clock, phases=phases),
            import_wh=import_wh,
            export_wh=export_wh,
        )

    @property
    def meter_start(self) -> int:
        """Address of the meter model's ID register."""
        address = self.base + 2 + 2 + self.common_length
        for _, length in self.models_before:
            address += 2 + length
        return address

    @property
    def phase_count(self) -> int:
        """1 for the single-phase models 201/211, else 3."""
        return 1 if self.model_id in (201, 211) else 3

    def render(self, image: RegisterImage) -> None:
        """The marker, the chain of models and the end marker."""
        unit = self.unit
        image.put_registers(unit, HOLDING, self.base, SUNS)
        common = self.base + 2
        image.put_registers(unit, HOLDING, common, [1, self.common_length])
        image.put_registers(unit, HOLDING, common + 2, [0] * self.common_length)
        image.put_ascii(unit, HOLDING, common + 2, self.manufacturer, 16)
        image.put_ascii(unit, HOLDING, common + 18, self.model_name, 16)
        image.put_ascii(unit, HOLDING, common + 42, self.version, 8)
        image.put_ascii(unit, HOLDING, common + 50, self.serial, 16)
        image.put_u16(unit, HOLDING, common + 66, unit)
        address = common + 2 + self.common_length
        for other_id, length in self.models_before:
            image.put_registers(unit, HOLDING, address, [other_id, length] + [0] * length)
            address += 2 + length
        assert address == self.meter_start
        image.put_registers(unit, HOLDING, address, [self.model_id, self.model_length])
        self.render_meter(image, address)
        end = address + 2 + self.model_length
        image.put_registers(unit, HOLDING, end, [0xFFFF, 0])

    @abstractmethod
    def render_meter(self, image: RegisterImage, start: int) -> None:
        """Put the meter model's points after its ID and L registers."""

    def present(self) -> tuple[PhaseValues, float, float]:
        """Phase values and import/export energy in Wh, NaN-free."""
        return self.meter.phases(), self.meter.import_wh(), self.meter.export_wh

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """The meter's points are read-only."""
        return ExcCodes.ILLEGAL_ADDRESS


class SunSpecMeterInt(SunSpecMeter):
    """Model 203 (or 201/202/204): int16 points with power-of-ten scale factors."""

    name = "sunspec_meter_int"
    description = "SunSpec meter, model 203 (int16 + scale factors), unit 1, base 40000"
    model_id = 203
    model_length = 105

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        a_sf: int = -2,
        v_sf: int = -1,
        hz_sf: int = -2,
        w_sf: int = 1,
        wh_sf: int = 1,
        **kwargs: object,
    ) -> None:
        """Scale factors as the meter reports them (power of ten of each unit)."""
        self.a_sf, self.v_sf, self.hz_sf, self.w_sf, self.wh_sf = a_sf, v_sf, hz_sf, w_sf, wh_sf
        self.not_implemented_sf: set[str] = set()  # e.g. {"W_SF"}: reported as 0x8000
        super().__init__(clock, **kwargs)  # type: ignore[arg-type]

    def render_meter(self, image: RegisterImage, start: int) -> None:
        """Model 20x points, each raw = value / 10^SF, rounded like the meter's firmware."""
        unit = self.unit
        phases, import_wh, export_wh = self.present()
        used = self.phase_count
        image.put_registers(unit, HOLDING, start + 2, [INT16_NOT_IMPLEMENTED] * self.model_length)

        def point(offset: int, value: float | None, sf: int) -> None:
            if value is None or self.faults.nan:
                image.put_u16(unit, HOLDING, start + offset, INT16_NOT_IMPLEMENTED)
                return
            raw = max(-32767, min(32767, round(value / 10**sf)))
            image.put_i16(unit, HOLDING, start + offset, raw)

        def scale(offset: int, name: str, sf: int) -> None:
            if name in self.not_implemented_sf:
                image.put_u16(unit, HOLDING, start + offset, INT16_NOT_IMPLEMENTED)
            else:
                image.put_i16(unit, HOLDING, start + offset, sf)

        def per_phase(values: tuple[float, float, float], index: int) -> float | None:
            return values[index] if index < used else None

        point(2, sum(phases.current), self.a_sf)
        for index in range(3):
            point(3 + index, per_phase(phases.current, index), self.a_sf)
        scale(6, "A_SF", self.a_sf)
        active = list(phases.voltage[:used])
        point(7, sum(active) / len(active), self.v_sf)
        for index in range(3):
            point(8 + index, per_phase(phases.voltage, index), self.v_sf)
        if used == 3:
            for index in range(4):
                point(11 + index, phases.voltage[0] * SQRT3, self.v_sf)
        scale(15, "V_SF", self.v_sf)
        point(16, 50.0, self.hz_sf)
        scale(17, "Hz_SF", self.hz_sf)
        point(18, phases.total_power, self.w_sf)
        for index in range(3):
            point(19 + index, per_phase(phases.power, index), self.w_sf)
        scale(22, "W_SF", self.w_sf)
        # No apparent/reactive power, power factor or per-phase energies: left at
        # "not implemented" (0x8000 above, acc32 0 below, their SFs 0x8000).

        def acc32(offset: int, wh: float | None) -> None:
            if wh is None or self.faults.nan:
                raw = ACC32_NOT_IMPLEMENTED
            else:
                raw = int(wh // 10**self.wh_sf) % 2**32  # an accumulator counts whole units
            image.put_u32(unit, HOLDING, start + offset, raw)

        acc32(38, export_wh)
        for offset in (40, 42, 44, 48, 50, 52):
            acc32(offset, None)
        acc32(46, import_wh)
        scale(54, "TotWh_SF", self.wh_sf)
        # Apparent energies 55-69 (TotVAh_SF 71) and reactive energies 72-102 (TotVArh_SF
        # 104) are not implemented; their scale factors stay 0x8000.
        for offset in [*range(55, 70, 2), *range(72, 103, 2)]:
            acc32(offset, None)
        image.put_u32(unit, HOLDING, start + 105, 0)  # Evt: no events


class SunSpecMeterFloat(SunSpecMeter):
    """Model 213 (or 211/212/214): float32 points, NaN where not implemented."""

    name = "sunspec_meter_float"
    description = "SunSpec meter, model 213 (float32), unit 1, base 40000"
    model_id = 213
    model_length = 124

    def render_meter(self, image: RegisterImage, start: int) -> None:
        """Model 21x points as IEEE 754 singles, high word first."""
        unit = self.unit
        phases, import_wh, export_wh = self.present()
        used = self.phase_count

        def point(offset: int, value: float | None) -> None:
            nan = self.faults.nan
            image.put_f32(
                unit, HOLDING, start + offset, math.nan if value is None or nan else value
            )

        def per_phase(values: tuple[float, float, float], index: int) -> float | None:
            return values[index] if index < used else None

        for offset in range(2, 124, 2):
            point(offset, None)
        point(2, sum(phases.current))
        for index in range(3):
            point(4 + 2 * index, per_phase(phases.current, index))
        active = list(phases.voltage[:used])
        point(10, sum(active) / len(active))
        for index in range(3):
            point(12 + 2 * index, per_phase(phases.voltage, index))
        if used == 3:
            for index in range(4):
                point(18 + 2 * index, phases.voltage[0] * SQRT3)
        point(26, 50.0)
        point(28, phases.total_power)
        for index in range(3):
            point(30 + 2 * index, per_phase(phases.power, index))
        point(60, export_wh)
        point(68, import_wh)
        image.put_u32(unit, HOLDING, start + 124, 0)  # Evt: no events
