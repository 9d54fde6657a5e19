"""Shelly Pro 3EM (Gen2 RPC over HTTP GET), three-phase profile.

Written from devices.md section 17 (Shelly API docs): `/shelly` with `gen` 2, `model`, `mac`,
`ver`, `app`; `/rpc/Shelly.GetDeviceInfo` with the same fields; `/rpc/EM.GetStatus?id=0` with
`a_`/`b_`/`c_` `voltage` (V), `current` (A), `act_power` (W) and `total_act_power`;
`/rpc/EMData.GetStatus?id=0` with `total_act` and `total_act_ret` in Wh.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulators.behaviour import ConstantLoad, Load, MeterModel
from simulators.clock import SimClock
from simulators.http import HttpError, HttpSimulator

PHASES = ("a", "b", "c")


class ShellyPro3EMSimulator(HttpSimulator):
    """A Pro 3EM measuring a load (by default 10 A on each of three phases)."""

    name = "shelly_pro3em"
    description = "Shelly Pro 3EM energy meter (Gen2 RPC over HTTP)"

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        load: Load | None = None,
        import_wh: float = 987_654.0,
        export_wh: float = 1_234.0,
        mac: str = "C8F09E8A1B2C",
    ) -> None:
        """Measure `load`; the import register starts at `import_wh`."""
        super().__init__(clock)
        self.load = load or ConstantLoad(self.clock, amps=10.0, phases=3)
        self.meter = MeterModel(self.load, import_wh=import_wh, export_wh=export_wh)
        self.mac = mac
        self.model = "SPEM-003CEBEU"
        self.version = "1.4.4"

    def device_info(self) -> dict[str, Any]:
        """What /shelly and Shelly.GetDeviceInfo say."""
        return {
            "name": None,
            "id": f"shellypro3em-{self.mac.lower()}",
            "mac": self.mac,
            "slot": 1,
            "model": self.model,
            "gen": 2,
            "fw_id": f"20241011-114455/{self.version}-g8e6d3e4",
            "ver": self.version,
            "app": "Pro3EM",
            "auth_en": False,
            "auth_domain": None,
            "profile": "triphase",
        }

    def em_status(self) -> dict[str, Any]:
        """EM.GetStatus of component id 0."""
        phases = self.meter.phases()
        status: dict[str, Any] = {"id": 0}
        for index, letter in enumerate(PHASES):
            status[f"{letter}_current"] = round(phases.current[index], 3)
            status[f"{letter}_voltage"] = round(phases.voltage[index], 1)
            status[f"{letter}_act_power"] = round(phases.power[index], 1)
            status[f"{letter}_aprt_power"] = round(phases.power[index], 1)
            status[f"{letter}_pf"] = 1.0 if phases.current[index] else 0.0
            status[f"{letter}_freq"] = 50.0
        status["n_current"] = None
        status["total_current"] = round(sum(phases.current), 3)
        status["total_act_power"] = round(phases.total_power, 3)
        status["total_aprt_power"] = round(phases.total_power, 3)
        status["user_calibrated_phase"] = []
        return status

    def emdata_status(self) -> dict[str, Any]:
        """EMData.GetStatus of component id 0: the energy registers in Wh."""
        return {
            "id": 0,
            "total_act": round(self.meter.import_wh(), 2),
            "total_act_ret": round(self.meter.export_wh, 2),
        }

    def answer(self, path: str, query: Mapping[str, str]) -> Any:
        """Serve /shelly and the RPC methods a meter reader uses."""
        if path in ("/shelly", "/rpc/Shelly.GetDeviceInfo"):
            return self.device_info()
        methods = {"/rpc/EM.GetStatus": self.em_status, "/rpc/EMData.GetStatus": self.emdata_status}
        if path in methods:
            if query.get("id") != "0":
                raise HttpError(
                    500,
                    {"code": -105, "message": f"Argument 'id', value {query.get('id')} not found!"},
                )
            return methods[path]()
        raise HttpError(
            404, {"code": 404, "message": f"No handler for {path.removeprefix('/rpc/')}"}
        )
