"""The simulators by name, as `python -m simulators <name>` knows them."""

from __future__ import annotations

from .devices.eastron_sdm630 import EastronSDM630
from .devices.vestel_evc04 import VestelEVC04
from .modbus import ModbusSimulator

MODBUS_SIMULATORS: dict[str, type[ModbusSimulator]] = {
    cls.name: cls for cls in (VestelEVC04, EastronSDM630)
}
