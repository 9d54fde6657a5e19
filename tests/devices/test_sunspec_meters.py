"""The SunSpec meter profiles (models 20x int + scale factor, 21x float) against simulators."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custom_components.ev_charging_monitor.devices import (
    Identity,
    InvalidProfileError,
    UnsupportedDeviceError,
)
from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from custom_components.ev_charging_monitor.devices.modbus.profile import load_profile_text
from simulators.behaviour import ConstantLoad
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.sunspec_meter import SunSpecMeterFloat, SunSpecMeterInt

from .conftest import StartSimulator
from .meter_loads import UnbalancedLoad

FRONIUS = Identity(
    manufacturer="Fronius", model="Smart Meter TS 65A-3", serial="41110123", firmware="1.3.2"
)

# Chain variants real devices show: the base address, model 1 with or without its pad
# register, and other models (an inverter's) between the common model and the meter.
LAYOUTS = [
    pytest.param({}, id="base-40000"),
    pytest.param({"base": 0}, id="base-0"),
    pytest.param({"base": 50000}, id="base-50000"),
    pytest.param({"common_length": 65, "models_before": [(101, 50), (64001, 7)]}, id="chain"),
]


@pytest.fixture
def load(clock: SimClock) -> ConstantLoad:
    """Three phases at 16 A and 230 V: 3 680 W per phase, 11 040 W in all."""
    return ConstantLoad(clock, amps=16, phases=3)


@pytest.mark.parametrize("cls", [SunSpecMeterInt, SunSpecMeterFloat])
async def test_each_phase_is_its_own(
    cls: type[SunSpecMeterInt | SunSpecMeterFloat],
    clock: SimClock,
    start_simulator: StartSimulator,
    connect: Callable[..., ModbusDevice],
) -> None:
    """Unbalanced phases: 16 A at 230 V, 10 A at 231 V, 5 A at 228 V.

    Powers 3 680 + 2 310 + 1 140 = 7 130 W; every phase value lands on its own phase.
    """
    meter = await start_simulator(cls(clock, load=UnbalancedLoad(clock)))
    device = connect(cls.name, meter)
    reading = await device.read()
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (16, 10, 5)
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, 231, 228)
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (3680, 2310, 1140)
    assert reading.power == 7_130
    clock.advance(3600)
    assert (await device.read()).energy == 5_432_100 + 7_130


# -- int16 + scale factors (model 203) ------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_int_identity_and_values_on_every_layout(
    layout: dict[str, object],
    clock: SimClock,
    load: ConstantLoad,
    start_simulator: StartSimulator,
    connect: Callable[..., ModbusDevice],
) -> None:
    """The chain is walked wherever the models sit; every value equals the model.

    Scale factors (simulator defaults) are A -2, V -1, Hz -2, W +1 and Wh +1, so the raw
    registers are 1600, 2300, 5000, 368/1104 and 543210/123450.
    """
    meter = SunSpecMeterInt(clock, load=load, **layout)  # type: ignore[arg-type]
    await start_simulator(meter)
    device = connect("sunspec_meter_int", meter)
    assert await device.identify() == FRONIUS
    reading = await device.read()
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (16, 16, 16)
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, 230, 230)
    assert reading.extra["frequency"] == 50
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (3680, 3680, 3680)
    assert reading.power == 11_040
    assert reading.energy == 5_432_100
    assert reading.energy_export == 1_234_500
    # One poll is one request: the meter model's points 3..54 in a single read.
    start = meter.meter_start
    assert [(b.address, b.count) for b in device.read_plan] == [(start + 3, 52)]


async def test_int_energy_counts_in_whole_units_of_the_scale_factor(
    clock: SimClock,
    load: ConstantLoad,
    start_simulator: StartSimulator,
    connect: Callable[..., ModbusDevice],
) -> None:
    """TotWhImp counts 10 Wh steps (SF +1): an hour adds 11 040 Wh, seconds only full steps."""
    meter = SunSpecMeterInt(clock, load=load)
    await start_simulator(meter)
    device = connect("sunspec_meter_int", meter)
    clock.advance(3600)
    assert (await device.read()).energy == 5_443_140
    clock.advance(3)  # 11 040 W x 3 s = 9.2 Wh: no full 10 Wh step yet
    assert (await device.read()).energy == 5_443_140
    clock.advance(3)  # 18.4 Wh in all: one step
    assert (await device.read()).energy == 5_443_150
    load.set_amps(8)  # 5 520 W for half an hour: 2 760 Wh more
    clock.advance(1800)
    reading = await device.read()
    assert reading.power == 5_520
    assert reading.energy == 5_445_910  # 5 445 918.4 Wh counted in whole 10 Wh


async def test_int_other_scale_factors(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """Different exponents give the same physical values: the driver reads the SF registers.

    A -3 (1 A -> 1000), V -2 (230 V -> 23000), W -1 (690 W -> 6900), Wh 0.
    """
    load = ConstantLoad(clock, amps=1, phases=3)
    meter = await start_simulator(
        SunSpecMeterInt(
            clock, load=load, a_sf=-3, v_sf=-2, w_sf=-1, wh_sf=0, import_wh=1_000, export_wh=7
        )
    )
    device = connect("sunspec_meter_int", meter)
    reading = await device.read()
    assert reading.current_l2 == 1
    assert reading.voltage_l3 == 230
    assert reading.power_l1 == 230
    assert reading.power == 690
    assert reading.energy == 1_000
    assert reading.energy_export == 7
    clock.advance(60)  # 690 W for a minute: 11.5 Wh, counted as 11
    assert (await device.read()).energy == 1_011


async def test_int_single_phase_model_201(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """Model 201 marks phases B and C not implemented (0x8000): they read None, never 0."""
    load = ConstantLoad(clock, amps=10, phases=1)
    meter = SunSpecMeterInt(clock, load=load, model_id=201)
    await start_simulator(meter)
    device = connect("sunspec_meter_int", meter)
    reading = await device.read()
    assert reading.current_l1 == 10
    assert reading.voltage_l1 == 230
    assert reading.power_l1 == 2_300
    assert reading.power == 2_300
    assert (reading.current_l2, reading.current_l3) == (None, None)
    assert (reading.voltage_l2, reading.voltage_l3) == (None, None)
    assert (reading.power_l2, reading.power_l3) == (None, None)


async def test_int_sentinels_read_as_none(
    clock: SimClock,
    load: ConstantLoad,
    start_simulator: StartSimulator,
    connect: Callable[..., ModbusDevice],
) -> None:
    """An unimplemented scale factor voids its points; unimplemented points and acc32 0 too."""
    meter = SunSpecMeterInt(clock, load=load)
    await start_simulator(meter)
    device = connect("sunspec_meter_int", meter)
    meter.not_implemented_sf = {"W_SF"}
    reading = await device.read()
    assert reading.power is None
    assert reading.power_l2 is None
    assert reading.current_l1 == 16  # other scale factors are unaffected
    meter.faults.nan = True  # every point "not implemented": int16 0x8000, acc32 0
    reading = await device.read()
    assert reading.voltage_l1 is None
    assert reading.current_l3 is None
    assert reading.energy is None
    assert reading.energy_export is None
    meter.faults.nan = False
    meter.not_implemented_sf = set()
    assert (await device.read()).power == 11_040


async def test_int_meter_on_another_unit(
    clock: SimClock,
    load: ConstantLoad,
    start_simulator: StartSimulator,
    connect: Callable[..., ModbusDevice],
) -> None:
    """A meter behind an inverter at unit 240 is read when the unit id is given."""
    meter = SunSpecMeterInt(clock, load=load, unit=240)
    await start_simulator(meter)
    device = connect("sunspec_meter_int", meter, unit=240)
    assert (await device.identify()).serial == "41110123"
    assert (await device.read()).power == 11_040


# -- float32 (model 213) ----------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_float_identity_and_values_on_every_layout(
    layout: dict[str, object],
    clock: SimClock,
    load: ConstantLoad,
    start_simulator: StartSimulator,
    connect: Callable[..., ModbusDevice],
) -> None:
    """Every value equals the model; whole numbers below 2^24 are exact in float32."""
    meter = SunSpecMeterFloat(clock, load=load, **layout)  # type: ignore[arg-type]
    await start_simulator(meter)
    device = connect("sunspec_meter_float", meter)
    assert await device.identify() == FRONIUS
    reading = await device.read()
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (16, 16, 16)
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, 230, 230)
    assert reading.extra["frequency"] == 50
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (3680, 3680, 3680)
    assert reading.power == 11_040
    assert reading.energy == 5_432_100
    assert reading.energy_export == 1_234_500
    start = meter.meter_start
    assert [(b.address, b.count) for b in device.read_plan] == [(start + 4, 66)]


async def test_float_energy_counts_up(
    clock: SimClock,
    load: ConstantLoad,
    start_simulator: StartSimulator,
    connect: Callable[..., ModbusDevice],
) -> None:
    """An hour at 11 040 W adds 11 040 Wh; 10 s more add 30.67 Wh (float32 to 0.5 Wh)."""
    meter = SunSpecMeterFloat(clock, load=load)
    await start_simulator(meter)
    device = connect("sunspec_meter_float", meter)
    clock.advance(3600)
    assert (await device.read()).energy == 5_443_140
    clock.advance(10)
    assert (await device.read()).energy == pytest.approx(5_443_170.67, abs=0.5)


async def test_float_single_phase_and_nan(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """Model 211's phases B and C are NaN, read as None; a NaN energy is None, never 0."""
    load = ConstantLoad(clock, amps=10, phases=1)
    meter = SunSpecMeterFloat(clock, load=load, model_id=211)
    await start_simulator(meter)
    device = connect("sunspec_meter_float", meter)
    reading = await device.read()
    assert (reading.current_l1, reading.power) == (10, 2_300)
    assert (reading.current_l2, reading.voltage_l3, reading.power_l2) == (None, None, None)
    meter.faults.nan = True
    reading = await device.read()
    assert (reading.power, reading.energy, reading.energy_export) == (None, None, None)
    meter.faults.nan = False
    assert (await device.read()).power == 2_300


# -- errors -------------------------------------------------------------------------------------


async def test_not_a_sunspec_device(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """A device without the marker is refused with a message naming the missing model."""
    meter = await start_simulator(EastronSDM630(clock))
    device = connect("sunspec_meter_int", meter)
    with pytest.raises(UnsupportedDeviceError, match=r"no SunSpec model chain with .*203"):
        await device.read()


async def test_wrong_model_family_is_refused(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """The int profile does not read a float meter's chain (and vice versa)."""
    meter = SunSpecMeterFloat(clock)
    await start_simulator(meter)
    device = connect("sunspec_meter_int", meter)
    with pytest.raises(UnsupportedDeviceError, match="meter"):
        await device.identify()


def test_profile_blocks_are_validated() -> None:
    """A SunSpec profile value without a block, or with an unknown one, is named."""
    base = """
id: x
name: x
kind: meter
manufacturer: x
source: x
sunspec: {blocks: {meter: [203]}}
values:
"""
    with pytest.raises(InvalidProfileError, match=r"values\.power\.block: a sunspec profile"):
        load_profile_text(base + "  power: {address: 18, type: i16}\n")
    with pytest.raises(InvalidProfileError, match=r"values\.power\.block: no block named 'x'"):
        load_profile_text(base + "  power: {block: x, address: 18, type: i16}\n")
    plain = base.replace("sunspec: {blocks: {meter: [203]}}\n", "")
    with pytest.raises(InvalidProfileError, match=r"values\.power\.block: only a profile"):
        load_profile_text(plain + "  power: {block: meter, address: 18, type: i16}\n")
