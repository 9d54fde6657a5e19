"""Each meter profile's detection probes find its own simulator and no other meter's."""

from __future__ import annotations

import pytest

from custom_components.ev_charging_monitor.devices.modbus.client import ModbusTransport
from custom_components.ev_charging_monitor.devices.modbus.device import probe_profile
from custom_components.ev_charging_monitor.devices.modbus.profile import shipped_profiles
from simulators.clock import SimClock
from simulators.devices.abb_b2x import AbbB2x
from simulators.devices.eastron_sdm72dm import EastronSDM72DM
from simulators.devices.eastron_sdm120 import EastronSDM120
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.sunspec_meter import SunSpecMeterFloat, SunSpecMeterInt
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.modbus import ModbusSimulator

from .conftest import StartSimulator

# Every meter simulator (each stands in for the profile of its `name`), plus a charger.
SIMULATORS: list[type[ModbusSimulator]] = [
    EastronSDM630,
    EastronSDM72DM,
    EastronSDM120,
    SunSpecMeterInt,
    SunSpecMeterFloat,
    AbbB2x,
    VestelEVC04,
]
METER_PROFILES = [
    "eastron_sdm630",
    "eastron_sdm72dm",
    "eastron_sdm120",
    "sunspec_meter_int",
    "sunspec_meter_float",
    "abb_b2x",
]


@pytest.mark.parametrize("profile_id", METER_PROFILES)
async def test_probes_find_exactly_their_own_simulator(
    profile_id: str, clock: SimClock, start_simulator: StartSimulator
) -> None:
    """probe_profile() matches the profile's own simulator and refuses every other one."""
    profile = shipped_profiles()[profile_id]
    assert profile.detect, f"{profile_id} has no detection probe"
    matched = []
    for cls in SIMULATORS:
        simulator = await start_simulator(cls(clock))
        assert simulator.port is not None
        transport = ModbusTransport("127.0.0.1", simulator.port, timeout=1.0)
        try:
            if await probe_profile(transport, profile, profile.unit):
                matched.append(cls.name)
        finally:
            await transport.close()
    assert matched == [profile_id]
