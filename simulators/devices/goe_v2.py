"""go-e Charger speaking its local HTTP API v2.

Written from devices.md section 11a (go-e `apikeys-en.md`): `/api/status` answers a JSON
object, restricted to the keys in `filter=` when given; `/api/set?key=<json value>` writes and
answers `{"key": true}` or an error text. Units as go-e documents them: `nrg` voltages in V,
currents in A, powers in W; `eto` total energy in Wh (an integer); `wh` the energy since the
car was connected, in Wh (a double).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from simulators.behaviour import ChargerModel
from simulators.clock import SimClock
from simulators.http import HttpError, HttpSimulator

CAR_IDLE, CAR_CHARGING, CAR_WAIT, CAR_COMPLETE, CAR_ERROR = 1, 2, 3, 4, 5
FRC_NEUTRAL, FRC_OFF, FRC_ON = 0, 1, 2


class GoeV2(HttpSimulator):
    """A three-phase go-e charger (22 kW variant by default) with RFID cards."""

    name = "goe_v2"
    description = "go-e Charger (HTTP API v2 on /api/status and /api/set)"

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        serial: str = "204017",
        variant: int = 22,
        energy_wh: float = 2_345_678.0,
        cards: tuple[str, ...] = ("Alice", "Bob"),
    ) -> None:
        """A box with `energy_wh` on its counter and the named RFID cards taught in."""
        super().__init__(clock)
        self.serial = serial
        self.typ = "go-eCharger"
        self.oem = "go-e"
        self.firmware = "56.11"
        self.friendly_name = "Garage"
        self.variant = variant
        self.force_state = FRC_NEUTRAL
        self.card_names = list(cards)
        self.card_energy = [0.0] * len(cards)
        self._trx: int | None = None
        self._trx_vehicle: object | None = None
        self.charger = ChargerModel(
            self.clock,
            min_current=6,
            max_current=16 if variant == 11 else 32,
            current_limit=16,
            energy_wh=energy_wh,
            setpoint_is_heartbeat=False,
        )

    # -- things that happen at the box ---------------------------------------------------

    def swipe_card(self, index: int) -> None:
        """Card number `index` (0-based) is held to the reader: it starts the transaction."""
        self.charger.swipe(self.card_names[index])
        self._trx = index + 1
        self._trx_vehicle = self.charger.vehicle

    def start_without_card(self) -> None:
        """Charging is started at the box without a card (transaction 0)."""
        self._trx = 0
        self._trx_vehicle = self.charger.vehicle

    @property
    def trx(self) -> int | None:
        """The transaction of the present vehicle: None, 0 (no card) or card index + 1."""
        vehicle = self.charger.vehicle
        if vehicle is None or self._trx_vehicle is not vehicle:
            return None
        return self._trx

    # -- the API ---------------------------------------------------------------------------

    def car_state(self) -> int:
        """go-e carState from the charger model."""
        charger = self.charger
        if charger.fault:
            return CAR_ERROR
        if charger.vehicle is None:
            return CAR_IDLE
        if charger.state == "C":
            return CAR_CHARGING
        return CAR_COMPLETE if charger.vehicle.full else CAR_WAIT

    def status(self) -> dict[str, Any]:
        """Every key this simulator knows, with its present value."""
        charger = self.charger
        phases = charger.phases()
        u, i, p = phases.voltage, phases.current, phases.power
        pf = [100.0 if current > 0 else 0.0 for current in i]
        nrg = [u[0], u[1], u[2], 0.0, i[0], i[1], i[2], p[0], p[1], p[2], 0.0]
        nrg += [phases.total_power, pf[0], pf[1], pf[2], 0.0]
        return {
            "car": self.car_state(),
            "alw": charger.enabled and not charger.fault,
            "amp": round(charger.current_limit),
            "frc": self.force_state,
            "nrg": nrg,
            "eto": int(charger.energy_wh()),
            "wh": charger.session_energy_wh(),
            "trx": self.trx,
            "cards": [
                {"name": name, "energy": energy, "cardId": True}
                for name, energy in zip(self.card_names, self.card_energy, strict=True)
            ],
            "sse": self.serial,
            "typ": self.typ,
            "oem": self.oem,
            "fwv": self.firmware,
            "var": self.variant,
            "fna": self.friendly_name,
            "host": f"go-echarger_{self.serial}",
        }

    def answer(self, path: str, query: Mapping[str, str]) -> Any:
        """Serve /api/status and /api/set."""
        if path == "/api/status":
            status = self.status()
            if "filter" not in query:
                return status
            keys = [key for key in query["filter"].split(",") if key]
            return {key: status[key] for key in keys if key in status}
        if path == "/api/set":
            return {key: self._set(key, value) for key, value in query.items()}
        raise HttpError(404, {"error": f"not found: {path}"})

    def _set(self, key: str, raw: str) -> bool | str:
        try:
            value = json.loads(raw)
        except ValueError:
            return "could not parse value"
        if isinstance(value, bool) or not isinstance(value, int):
            return "value must be an integer"
        if key == "amp":
            if not 6 <= value <= self.charger.max_current:
                return f"amp must be 6..{self.charger.max_current:g}"
            self.charger.set_current_limit(value)
            return True
        if key == "frc":
            if value not in (FRC_NEUTRAL, FRC_OFF, FRC_ON):
                return "frc must be 0, 1 or 2"
            self.force_state = value
            self.charger.set_enabled(value != FRC_OFF)
            return True
        return f"key {key} not writable"
