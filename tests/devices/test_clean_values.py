"""Values as the device meant them: no float32 noise, exact scales, declared resolutions.

The expected figures are the decimals a person reads off the register map; the float32
bit patterns are built here with struct, independently of the library's codecs.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import aiohttp
import numpy
import pytest

from custom_components.ev_charging_monitor.devices import InvalidProfileError
from custom_components.ev_charging_monitor.devices.http.shelly import ShellyEMGen1
from custom_components.ev_charging_monitor.devices.modbus.codecs import DataType
from custom_components.ev_charging_monitor.devices.modbus.decoding import decode_value
from custom_components.ev_charging_monitor.devices.modbus.profile import (
    RegisterSpec,
    Table,
    load_profile_text,
)
from custom_components.ev_charging_monitor.devices.neighbours import neighbour_mac
from custom_components.ev_charging_monitor.devices.numbers import clean_sum, shortest_f32
from simulators.base import Simulator
from simulators.behaviour import ConstantLoad
from simulators.clock import SimClock
from simulators.devices.shelly_em_gen1 import ShellyEMGen1Simulator


def _f32_registers(value: float) -> list[int]:
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return [high, low]


def _spec(data_type: DataType, **kwargs: object) -> RegisterSpec:
    count = 2 if data_type is DataType.F32 else 1
    return RegisterSpec(
        name="value",
        table=Table.HOLDING,
        address=0,
        unit=1,
        type=data_type,
        count=count,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (5432.1, 5432.1),  # float32 5432.10009765625
        (230.1, 230.1),  # float32 230.10000610351562
        (0.1, 0.1),
        (11040.0, 11040.0),
        (-3.75, -3.75),
        (0.0, 0.0),
        (1e-7, 1e-7),
        (16777217.0, 16777216.0),  # beyond float32's integers: the register holds 2^24
    ],
)
def test_float32_reads_as_its_shortest_decimal(written: float, expected: float) -> None:
    """A float32 register reads as the decimal the device wrote, not its binary expansion."""
    value = decode_value(_spec(DataType.F32), _f32_registers(written))
    assert value == expected
    assert repr(value) == repr(expected)


def test_float32_kilowatts_scaled_to_watts() -> None:
    """11.04 kW as float32 (11.039999961853027) times 1000 is 11 040 W, not 11 039.99996."""
    value = decode_value(_spec(DataType.F32, scale=1000.0), _f32_registers(11.04))
    assert repr(value) == "11040.0"


def test_float32_kwh_register_in_wh() -> None:
    """An SDM630 energy register at 5 432.1 kWh is 5 432 100 Wh."""
    value = decode_value(_spec(DataType.F32, scale=1000.0), _f32_registers(5432.1))
    assert repr(value) == "5432100.0"


@pytest.mark.parametrize(
    ("raw", "scale", "expected"),
    [(2301, 0.1, "230.1"), (1234, 0.1, "123.4"), (65432, 0.001, "65.432"), (7, 0.3, "2.1")],
)
def test_integer_scales_are_exact(raw: int, scale: float, expected: str) -> None:
    """raw x scale in decimal: 7 x 0.3 is 2.1 (in binary 2.0999999999999996)."""
    assert repr(decode_value(_spec(DataType.U16, scale=scale), [raw])) == expected


def test_declared_resolution_rounds() -> None:
    """A value with a resolution is rounded to whole steps of it (half to even)."""
    spec = _spec(DataType.F32, resolution=0.5)
    assert decode_value(spec, _f32_registers(230.26)) == 230.5
    assert decode_value(spec, _f32_registers(230.2)) == 230.0
    tenth = _spec(DataType.F32, scale=1000.0, resolution=10.0)
    assert repr(decode_value(tenth, _f32_registers(5443.1396))) == "5443140.0"


def test_profile_resolution_key() -> None:
    """`resolution` in a profile is validated and becomes the energy step a record states."""
    profile = load_profile_text(
        """
id: float_meter
name: Float meter
kind: meter
manufacturer: Test
source: test
values:
  energy: {address: 0, type: f64, resolution: 0.01}
  power: {address: 4, type: f32}
"""
    )
    energy = profile.value("energy")
    assert energy is not None
    assert energy.resolution == 0.01
    assert profile.capabilities.energy_resolution_wh == 0.01
    with pytest.raises(InvalidProfileError, match="resolution"):
        load_profile_text(
            "id: x\nname: x\nkind: meter\nmanufacturer: x\nsource: x\n"
            "values:\n  power: {address: 0, type: f32, resolution: 0}\n"
        )


def test_shortest_f32_is_the_same_register() -> None:
    """The shortest decimal always maps back to the very same float32 bits."""
    for bits in range(0x3F800000, 0x3F800000 + 50_000, 7):
        value = struct.unpack(">f", struct.pack(">I", bits))[0]
        text = str(shortest_f32(value))
        assert struct.pack(">f", float(text)) == struct.pack(">I", bits)


def test_clean_sum() -> None:
    """Sums in decimal: 0.1 + 0.2 is 0.3; an unknown part makes the sum unknown."""
    assert repr(clean_sum([0.1, 0.2])) == "0.3"
    assert repr(clean_sum([100000.1, 100000.1, 100000.1])) == "300000.3"
    assert clean_sum([1.0, None]) is None


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Simulator], Awaitable[int]]]:
    """Start HTTP simulators on loopback; stop them afterwards."""
    started: list[Simulator] = []

    async def start(simulator: Simulator) -> int:
        started.append(simulator)
        return await simulator.start("127.0.0.1", 0)

    yield start
    for simulator in started:
        await simulator.stop()


async def test_shelly_3em_sums_without_noise(
    clock: SimClock, serve: Callable[[Simulator], Awaitable[int]]
) -> None:
    """Three channels of 100 000.1 Wh each sum to 300 000.3 Wh (binary: 300000.30000000005)."""
    load = ConstantLoad(clock, amps=0.0, phases=3)
    simulator = ShellyEMGen1Simulator(clock, load=load, three_phase=True, import_wh=300_000.3)
    port = await serve(simulator)
    async with aiohttp.ClientSession() as session:
        device = ShellyEMGen1("127.0.0.1", port=port, session=session)
        reading = await device.read()
    assert repr(reading.energy) == "300000.3"


def test_shortest_f32_agrees_with_numpy() -> None:
    """A second implementation (numpy's float32 formatting) finds the same decimals."""
    # Normal float32 values of every magnitude, both signs, every few thousand bit patterns.
    for bits in range(0x00800000, 0x7F000000, 0x0003F1E7):
        for signed in (bits, bits | 0x80000000):
            value = struct.unpack(">f", struct.pack(">I", signed))[0]
            text = numpy.format_float_positional(numpy.float32(value), unique=True, trim="-")
            assert shortest_f32(value) == Decimal(text), hex(signed)


def test_neighbour_mac_from_a_table_file(tmp_path: Path) -> None:
    """The table is read from its file; an IP or a missing file are handled."""
    table = tmp_path / "arp"
    table.write_text(
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "192.0.2.7        0x1         0x2         00:1A:2B:3C:4D:5E     *        eth0\n",
        encoding="ascii",
    )
    assert neighbour_mac("192.0.2.7", table) == "00:1a:2b:3c:4d:5e".lower()
    assert neighbour_mac("192.0.2.8", table) is None
    assert neighbour_mac("192.0.2.7", tmp_path / "missing") is None
