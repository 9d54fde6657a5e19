"""Shelly EM and Shelly 3EM, first generation (REST over HTTP).

Written from devices.md section 17 (Shelly Gen1 API docs): `/shelly` with `type` (SHEM for
the two-channel EM, SHEM-3 for the 3EM), `mac`, `fw`, `auth`, `num_emeters`; `/status` with
`emeters[]` of `power` (W), `reactive`, `voltage` (V), `is_valid`, `total` and
`total_returned` in **Wh** (the 3EM also gives `current` in A and `pf`); `/emeter/<n>` one
channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulators.behaviour import ConstantLoad, Load, MeterModel
from simulators.clock import SimClock
from simulators.http import HttpError, HttpSimulator


class ShellyEMGen1Simulator(HttpSimulator):
    """A Shelly EM (channel 0 measures a single-phase load) or, with `three_phase`, a 3EM.

    The 3EM splits its import register equally over the three phases, which is exact for the
    balanced loads (three-phase chargers, ConstantLoad) it measures here.
    """

    name = "shelly_em_gen1"
    description = "Shelly EM / 3EM energy meter, first generation (HTTP /status)"

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        load: Load | None = None,
        three_phase: bool = False,
        import_wh: float = 456_789.0,
        export_wh: float = 0.0,
        mac: str = "A4CF12F3D4E5",
    ) -> None:
        """Measure `load` (by default 10 A on one phase, or on three for the 3EM)."""
        super().__init__(clock)
        self.three_phase = three_phase
        phases = 3 if three_phase else 1
        self.load = load or ConstantLoad(self.clock, amps=10.0, phases=phases)
        self.meter = MeterModel(self.load, import_wh=import_wh, export_wh=export_wh)
        self.mac = mac
        self.type = "SHEM-3" if three_phase else "SHEM"
        self.firmware = "20230913-114244/v1.14.0-gcb84623"
        self.valid = True

    def info(self) -> dict[str, Any]:
        """What /shelly says."""
        return {
            "type": self.type,
            "mac": self.mac,
            "auth": False,
            "fw": self.firmware,
            "longid": 1,
            "num_outputs": 1,
            "num_meters": 0,
            "num_emeters": 3 if self.three_phase else 2,
            "report_period": 1,
        }

    def emeters(self) -> list[dict[str, Any]]:
        """The emeters[] of /status."""
        phases = self.meter.phases()
        channels = 3 if self.three_phase else 1
        total = self.meter.import_wh()
        returned = self.meter.export_wh
        meters = []
        for index in range(channels):
            meter: dict[str, Any] = {
                "power": round(phases.power[index], 2),
                "reactive": 0.0,
                "pf": 1.0 if phases.current[index] else 0.0,
                "voltage": round(phases.voltage[index], 2),
                "is_valid": self.valid,
                "total": round(total / channels, 1),
                "total_returned": round(returned / channels, 1),
            }
            if self.three_phase:
                meter["current"] = round(phases.current[index], 2)
            meters.append(meter)
        if not self.three_phase:  # the second clamp of a Shelly EM hangs on nothing here
            meters.append(
                {
                    "power": 0.0,
                    "reactive": 0.0,
                    "pf": 0.0,
                    "voltage": round(phases.voltage[0], 2),
                    "is_valid": self.valid,
                    "total": 0.0,
                    "total_returned": 0.0,
                }
            )
        return meters

    def answer(self, path: str, query: Mapping[str, str]) -> Any:
        """Serve /shelly, /status and /emeter/<n>."""
        if path == "/shelly":
            return self.info()
        if path == "/status":
            return {
                "wifi_sta": {"connected": True, "ssid": "garage", "ip": "127.0.0.1"},
                "mac": self.mac,
                "relays": [{"ison": False, "has_timer": False}],
                "emeters": self.emeters(),
                "total_power": round(self.meter.phases().total_power, 2),
                "uptime": int(self.clock.now()),
            }
        if path.startswith("/emeter/"):
            meters = self.emeters()
            index = path.removeprefix("/emeter/")
            if index.isdigit() and int(index) < len(meters):
                return meters[int(index)]
        raise HttpError(404, "Not Found")
