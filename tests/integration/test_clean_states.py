"""No numeric state of any simulated device carries more digits than its register resolves.

Each of the 16 device simulators is set up through the config flow, put under an awkward
load (13.7 A on a meter's phases, a car drawing 16 A at a charger) and read after 1 234.5 s,
so energies are fractional and powers are products that binary floats do not hold exactly.
Every numeric state is then compared with the resolution of the register behind it.

The resolutions below are written from the register maps (devices.md, and the simulators
that encode them), not taken from the profiles: an integer register resolves its scale
(a 0.1 kWh register: one decimal in kWh); a float32 register resolves the step between
neighbouring float32 values at its magnitude, so its figure may show the digits that step
needs and no more (5 432.1 kWh may not read 5432.10009765625). A float64 or a JSON float
has no step of its own: there it is the resolution the product documents for the value.
"""

from __future__ import annotations

import math
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from simulators.base import Simulator
from simulators.behaviour import ConstantLoad
from simulators.clock import SimClock
from simulators.registry import simulators
from simulators.vehicle import Vehicle

from .clocks import poll
from .conftest import AddDevice

DEVICES = sorted(name for name in simulators() if name != "keba_udp")
KWH_PER_WH = Decimal("0.001")


@dataclass(frozen=True)
class Step:
    """A register that counts in steps of this size (in the state's unit)."""

    size: Decimal

    def decimals(self, _state: Decimal) -> int:
        return max(0, -self.size.normalize().as_tuple().exponent)  # type: ignore[operator]


@dataclass(frozen=True)
class Float32:
    """A float32 register; `factor` turns its unit into the state's (kWh -> kWh: 1)."""

    factor: Decimal = Decimal(1)

    def decimals(self, state: Decimal) -> int:
        register = float(state / self.factor)
        bits = struct.unpack(">I", struct.pack(">f", abs(register)))[0]
        low, high = (struct.unpack(">f", struct.pack(">I", b))[0] for b in (bits, bits + 1))
        step = Decimal(high - low) * self.factor
        return max(0, math.ceil(-math.log10(step)))


def _step(text: str) -> Step:
    return Step(Decimal(text))


WH = _step("0.001")  # a whole-Wh register, shown in kWh
F32 = Float32()
# Per device: value name -> resolution in the state's unit (energies in kWh, power in W,
# voltage in V, current in A). "power_l" is the per-phase power where it differs.
RESOLUTION: dict[str, dict[str, Step | Float32]] = {
    "abb_b2x": {
        "energy": _step("0.01"),
        "energy_export": _step("0.01"),
        "voltage": _step("0.1"),
        "current": _step("0.01"),
        "power": _step("0.01"),
    },
    "abb_terra_ac": {
        "session_energy": WH,
        "energy": WH,  # sessions count from the session register
        "voltage": _step("0.1"),
        "current": _step("0.001"),
        "power": _step("1"),
        "current_limit": _step("0.001"),
    },
    "alfen_eve": {
        # float64 Wh: the product documents no step; the profile shows 0.01 Wh.
        "energy": _step("0.00001"),
        "voltage": F32,
        "current": F32,
        "power": F32,
        "current_limit": F32,
    },
    "bender_cc613": {
        "energy": WH,
        "session_energy": WH,
        "voltage": _step("1"),
        "current": _step("0.001"),
        "power": _step("1"),
        "current_limit": _step("1"),
    },
    # Every measurement of the Eastron meters is a float32 (energies in kWh).
    "eastron_sdm120": dict.fromkeys(
        ("energy", "energy_export", "voltage", "current", "power"), F32
    ),
    "eastron_sdm630": dict.fromkeys(
        ("energy", "energy_export", "voltage", "current", "power"), F32
    ),
    "eastron_sdm72dm": dict.fromkeys(
        ("energy", "energy_export", "voltage", "current", "power"), F32
    ),
    "goe_v2": {
        "energy": WH,  # eto: whole Wh
        "session_energy": WH,  # wh: a float the box integrates, shown in whole Wh
        # nrg: JSON numbers; the box sends whole volts and watts, currents in 0.01 A.
        "voltage": _step("1"),
        "current": _step("0.01"),
        "power": _step("1"),
        "current_limit": _step("1"),
    },
    "keba_p30": {
        "energy": _step("0.0001"),  # 0.1 Wh
        "voltage": _step("1"),
        "current": _step("0.001"),
        "power": _step("0.001"),  # mW
    },
    "phoenix_ev_eth": {
        "energy": WH,
        "voltage": _step("1"),
        "current": _step("1"),
        "power": _step("1"),
        "current_limit": _step("1"),
    },
    "shelly_em_gen1": {
        "energy": _step("0.0001"),  # total: 0.1 Wh
        "energy_export": _step("0.0001"),
        "voltage": _step("0.01"),
        "current": _step("0.01"),
        "power": _step("0.01"),
    },
    "shelly_pro3em": {
        "energy": _step("0.00001"),  # total_act: 0.01 Wh
        "energy_export": _step("0.00001"),
        "voltage": _step("0.1"),
        "current": _step("0.001"),
        "power": _step("0.001"),  # total_act_power
        "power_l": _step("0.1"),  # a_act_power ...
    },
    "sunspec_meter_float": {
        "energy": Float32(KWH_PER_WH),  # TotWhImp: float32 Wh
        "energy_export": Float32(KWH_PER_WH),
        "voltage": F32,
        "current": F32,
        "power": F32,
    },
    "sunspec_meter_int": {
        # int + scale factor: A 10^-2, V 10^-1, W 10^1, Wh 10^1 (the simulator's defaults)
        "energy": _step("0.01"),
        "energy_export": _step("0.01"),
        "voltage": _step("0.1"),
        "current": _step("0.01"),
        "power": _step("10"),
    },
    "vestel_evc04": {
        "energy": _step("0.1"),  # 0.1 kWh register
        "session_energy": WH,
        "voltage": _step("1"),
        "current": _step("0.001"),
        "power": _step("1"),
        "current_limit": _step("1"),
    },
    "webasto_next": {
        "energy": WH,
        "voltage": _step("1"),
        "current": _step("0.001"),
        "power": _step("1"),
        "current_limit": _step("1"),
    },
}
# Entity key -> value name (per-phase values share their kind's resolution).
VALUE_OF = {
    "device_session_energy": "session_energy",
    # A session's energy is a difference of the billing register's readings.
    "session_energy": "energy",
}


def _resolution(device: str, key: str) -> Step | Float32:
    table = RESOLUTION[device]
    if key == "session_duration":
        return _step("1")  # whole minutes
    if key in ("session_cost", "total_cost"):
        return _step("0.01")  # a session's cost is in cents (its price intervals finer)
    name = VALUE_OF.get(key, key)
    if name in table:
        return table[name]
    if name.startswith("power_l") and "power_l" in table:
        return table["power_l"]
    kind = name.rsplit("_l", 1)[0]
    if kind in table:
        return table[kind]
    if name == "session_energy" and "energy" in table:
        return table["energy"]
    raise AssertionError(f"{device}: no resolution known for {key}; add it to RESOLUTION")


def _decimals(text: str) -> int:
    exponent = Decimal(text).normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _numeric(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


@pytest.fixture
async def loaded(request: pytest.FixtureRequest, clock: SimClock) -> AsyncIterator[Simulator]:
    """The simulator under load: a car drawing 16 A, or 13.7 A on each phase of a meter."""
    device = simulators()[request.param](clock)
    if (charger := getattr(device, "charger", None)) is not None:
        charger.watchdog_timeout = None  # metering, not control: no failsafe in between
        charger.plug(Vehicle(max_current=16, phases=3))
    else:
        load = getattr(device, "load", None) or device.meter.load  # type: ignore[attr-defined]
        assert isinstance(load, ConstantLoad)
        load.set_amps(13.7)
    await device.start()
    yield device
    await device.stop()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("loaded", DEVICES, indirect=True)
async def test_no_state_has_more_digits_than_its_register(
    hass: HomeAssistant,
    loaded: Simulator,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    entity_registry: er.EntityRegistry,
) -> None:
    """Every numeric state has at most the decimals of its register's resolution, and
    every numeric sensor a suggested display precision."""
    entry = await add_device(loaded, driver=loaded.name)  # type: ignore[arg-type]
    await poll(hass, clock, 1234.5, freezer)  # both clocks: the energy gained is plausible
    prefix = f"{entry.unique_id or entry.entry_id}_"
    checked = []
    for registered in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        state = hass.states.get(registered.entity_id)
        assert state is not None
        if (value := _numeric(state.state)) is None:
            continue
        key = registered.unique_id.removeprefix(prefix)
        if registered.domain == "sensor":  # a numeric sensor says how to show itself
            precision = registered.options.get("sensor", {}).get("suggested_display_precision")
            assert precision is not None, f"{registered.entity_id} has no display precision"
        allowed = _resolution(loaded.name, key).decimals(value)
        assert _decimals(state.state) <= allowed, (
            f"{registered.entity_id} = {state.state}: more than {allowed} decimals"
        )
        checked.append(key)
    # The energy register and the power were among the states checked, under load.
    assert "energy" in checked or "device_session_energy" in checked, checked
    assert "power" in checked, checked
