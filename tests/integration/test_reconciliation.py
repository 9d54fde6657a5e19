"""Billing from an external meter, reconciled against the charger's own register."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant

from custom_components.ev_charging_monitor.session.manager import EVENT_SESSION_ENDED
from simulators.behaviour import Load, PhaseValues
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

from .clocks import poll
from .conftest import AddDevice

pytestmark = pytest.mark.no_watchdog


class ScaledLoad:
    """What a meter with a wrong transformer ratio sees of a load."""

    def __init__(self, load: Load, factor: float) -> None:
        self.load = load
        self.factor = factor

    def phases(self) -> PhaseValues:
        values = self.load.phases()
        return PhaseValues(
            voltage=values.voltage,
            current=tuple(i * self.factor for i in values.current),  # type: ignore[arg-type]
        )

    def energy_wh(self) -> float:
        return self.load.energy_wh() * self.factor


def _sdm_register_wh(meter: EastronSDM630) -> Decimal:
    """The SDM630 import register as the meter shows it: float32 kWh, read as the shortest
    decimal that is that float32 (numpy's float32 formatting, not the integration's)."""
    kwh = numpy.float32(meter.meter.import_wh() / 1000)
    return Decimal(numpy.format_float_positional(kwh, unique=True, trim="-")) * 1000


async def _session_billed_from_meter(
    hass: HomeAssistant,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    wallbox: VestelEVC04,
    load: Load,
) -> tuple[dict[str, Any], Decimal]:
    meter = EastronSDM630(clock, load=load)
    await meter.start()
    try:
        charger_entry = await add_device(wallbox)
        meter_entry = await add_device(meter)
        hass.config_entries.async_update_entry(
            charger_entry,
            options={
                **charger_entry.options,
                "energy_source": "meter_entry",
                "energy_meter_entry": meter_entry.entry_id,
            },
        )
        assert await hass.config_entries.async_reload(charger_entry.entry_id)
        await hass.async_block_till_done()
        ended: list[dict[str, Any]] = []

        def listener(event: Event) -> None:
            ended.append(dict(event.data))

        hass.bus.async_listen(EVENT_SESSION_ENDED, listener)
        # The session starts at the last reading before energy flowed: the energy between
        # the plug-in and the first poll that sees the car is the car's too.
        start = _sdm_register_wh(meter)
        wallbox.charger.plug(Vehicle(max_current=16, phases=3))
        await poll(hass, clock, 0, freezer)
        for _ in range(60):
            await poll(hass, clock, 60, freezer)
        end = _sdm_register_wh(meter)
        wallbox.charger.unplug()
        await poll(hass, clock, 0, freezer)
        assert len(ended) == 1
        return ended[0], end - start
    finally:
        await meter.stop()


async def test_external_meter_bills_and_agrees(
    hass: HomeAssistant,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    wallbox: VestelEVC04,
) -> None:
    """The session energy is the external meter's delta; the charger's own agrees."""
    record, meter_delta = await _session_billed_from_meter(
        hass, clock, freezer, add_device, wallbox, wallbox.charger
    )
    assert Decimal(record["energy_wh"]) == meter_delta
    assert record["meter"]["source"] == "external"
    assert record["meter"]["serial"] == "21345678"
    # The charger counts in 0.1 kWh steps: within 100 Wh of the meter's ~11 kWh.
    second = Decimal(record["reconciliation"]["external_energy_wh"])
    assert abs(second - meter_delta) <= 100
    assert "meter_discrepancy" not in record["flags"]


async def test_deviation_is_flagged(
    hass: HomeAssistant,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    add_device: AddDevice,
    wallbox: VestelEVC04,
) -> None:
    """A meter with a wrong current-transformer ratio reads 25 % high: flagged."""
    record, meter_delta = await _session_billed_from_meter(
        hass, clock, freezer, add_device, wallbox, ScaledLoad(wallbox.charger, 1.25)
    )
    assert Decimal(record["energy_wh"]) == meter_delta
    # The charger counted 1/1.25 of what the meter counted: (1 - 1.25) / 1.25 = -20 %.
    assert Decimal(record["reconciliation"]["deviation_pct"]) == pytest.approx(-20, abs=1)
    assert "meter_discrepancy" in record["flags"]
