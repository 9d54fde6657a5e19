"""go-e Charger (HOME+/V2, V3, V4, Gemini, CORE) over its local HTTP API v2.

Facts from devices.md section 11a (go-e `apikeys-en.md`, evcc `charger/go-e*`):

* `GET /api/status?filter=k1,k2` answers a JSON object with just those keys;
  `GET /api/set?key=value` writes (the value is JSON) and answers `{"key": true}`, or an error
  text in place of `true`.
* `car`: 0 unknown/error, 1 idle (A), 2 charging (C), 3 waiting for car (B), 4 complete (B),
  5 error; `amp` requested current (A); `frc` force state 0 neutral, 1 off, 2 on;
  `alw` car allowed to charge now.
* `nrg[16]`: U L1, L2, L3, N (V); I L1, L2, L3 (A); P L1, L2, L3, N, total (W); pf L1..N.
* `eto` total energy (Wh); `wh` energy since the car was connected (Wh).
* `trx`: null no transaction, 0 without card, n = card index + 1; `cards[n-1].name` is the tag.
* `sse` serial, `typ` device type, `oem` manufacturer, `fwv` firmware, `var` 11 or 22 (kW).

The API must be enabled in the go-e app ("HTTP API v2"); without it /api/status is not found.
"""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar

import aiohttp

from custom_components.ev_charging_monitor.devices.errors import (
    DeviceCommunicationError,
    UnsupportedDeviceError,
)
from custom_components.ev_charging_monitor.devices.models import (
    Capabilities,
    ChargerState,
    DeviceKind,
    Identity,
    Reading,
)
from custom_components.ev_charging_monitor.devices.numbers import scaled

from .base import HttpDevice, HttpStatusError, integer, item, member, number, probe_object, text

STATUS = "/api/status"
SET = "/api/set"
IDENTITY_KEYS = "sse,typ,oem,fwv,var"
READ_KEYS = "car,alw,amp,frc,nrg,eto,wh,trx,cards,var"

CAR_STATES: dict[int, ChargerState | None] = {
    0: None,  # unknown / error: no state rather than a guess
    1: ChargerState.A,  # idle
    2: ChargerState.C,  # charging
    3: ChargerState.B,  # waiting for the car
    4: ChargerState.B,  # charging complete
    5: ChargerState.F,  # error
}
FORCE_NEUTRAL, FORCE_OFF, FORCE_ON = 0, 1, 2
MIN_CURRENT = 6.0
MAX_CURRENT_BY_VARIANT = {11: 16.0, 22: 32.0}  # `var`: 11 kW boxes allow 16 A, 22 kW 32 A


def _identity(data: dict[str, Any]) -> Identity | None:
    serial = text(data.get("sse"))
    if serial is None:
        return None
    return Identity(
        manufacturer=text(data.get("oem")) or "go-e",
        model=text(data.get("typ")) or "go-eCharger",
        serial=serial,
        firmware=text(data.get("fwv")),
    )


def _whole_wh(value: float | None) -> float | None:
    """A session energy in whole Wh, the step of the box's total (`eto`).

    `wh` is a float the box integrates itself; its binary digits are no measurement.
    """
    return None if value is None else scaled(value, resolution=1.0)


class GoeCharger(HttpDevice):
    """A go-e charger driven through HTTP API v2."""

    id: ClassVar[str] = "goe_v2"
    name: ClassVar[str] = "go-e Charger (HTTP API v2)"

    def __init__(
        self,
        host: str,
        *,
        port: int | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 3.0,
    ) -> None:
        """Bind the driver to a host; `session` is the caller's (not closed by us)."""
        super().__init__(host, port=port, session=session, timeout=timeout)
        self._max_current = MAX_CURRENT_BY_VARIANT[22]

    @classmethod
    async def detect(
        cls,
        host: str,
        session: aiohttp.ClientSession,
        *,
        port: int | None = None,
        timeout: float = 3.0,
    ) -> Identity | None:
        """The charger's identity when `host` is a go-e with API v2; None otherwise."""
        data = await probe_object(
            host, session, STATUS, {"filter": IDENTITY_KEYS}, port=port, timeout=timeout
        )
        return None if data is None else _identity(data)

    @property
    def capabilities(self) -> Capabilities:
        """Three phases, 6 A to 16 A or 32 A (by variant), enable, session energy, RFID."""
        return Capabilities(
            kind=DeviceKind.CHARGER,
            phases=3,
            min_current_a=MIN_CURRENT,
            max_current_a=self._max_current,
            can_set_current=True,
            can_enable=True,
            has_session_energy=True,
            has_rfid=True,
        )

    def _learn_variant(self, data: dict[str, Any]) -> None:
        variant = integer(data.get("var"))
        if variant in MAX_CURRENT_BY_VARIANT:
            self._max_current = MAX_CURRENT_BY_VARIANT[variant]

    async def _status(self, keys: str) -> dict[str, Any]:
        try:
            return await self.client.get_object(STATUS, {"filter": keys})
        except HttpStatusError as err:
            if err.status == 404:
                raise UnsupportedDeviceError(
                    f"{self.host} has no go-e HTTP API v2 at {STATUS}: enable"
                    " 'HTTP API v2' in the go-e app, or check the address"
                ) from err
            raise

    async def identify(self) -> Identity:
        """Serial, type, OEM and firmware."""
        data = await self._status(IDENTITY_KEYS)
        identity = _identity(data)
        if identity is None:
            raise UnsupportedDeviceError(
                f"{self.host} answered {STATUS} without a serial number (sse):"
                " it is not a go-e charger with HTTP API v2"
            )
        self._learn_variant(data)
        return identity

    async def read(self) -> Reading:
        """One GET of every key the reading needs."""
        data = await self._status(READ_KEYS)
        self._learn_variant(data)
        nrg = data.get("nrg")
        car = integer(data.get("car"))
        force = integer(data.get("frc"))
        transaction = data.get("trx")
        trx = integer(transaction)
        rfid = None
        if trx is not None and trx >= 1:
            rfid = text(member(item(data.get("cards"), trx - 1), "name"))
        allowed = data.get("alw")
        return Reading(
            state=CAR_STATES.get(car) if car is not None else None,
            voltage_l1=number(item(nrg, 0)),
            voltage_l2=number(item(nrg, 1)),
            voltage_l3=number(item(nrg, 2)),
            current_l1=number(item(nrg, 4)),
            current_l2=number(item(nrg, 5)),
            current_l3=number(item(nrg, 6)),
            power_l1=number(item(nrg, 7)),
            power_l2=number(item(nrg, 8)),
            power_l3=number(item(nrg, 9)),
            power=number(item(nrg, 11)),
            energy=number(data.get("eto")),
            session_energy=_whole_wh(number(data.get("wh"))),
            current_limit=number(data.get("amp")),
            # Neutral (0) lets the box decide by itself; only "off" (1) is a stop from us.
            enabled=None if force not in (0, 1, 2) else force != FORCE_OFF,
            rfid=rfid,
            extra={
                "car_state": car,
                "force_state": force,
                "allowed": allowed if isinstance(allowed, bool) else None,
                "transaction": trx,
            },
        )

    async def _set(self, key: str, value: Any) -> None:
        data = await self.client.get_object(SET, {key: json.dumps(value)})
        answer = data.get(key)
        if answer is not True:
            reason = answer if isinstance(answer, str) else f"answer {data!r}"
            raise DeviceCommunicationError(f"go-e refused {key}={value}: {reason}")

    async def set_current_limit(self, amps: float) -> None:
        """Set `amp` (whole amperes, rounded down so the limit is never exceeded)."""
        if not MIN_CURRENT <= amps <= self._max_current:
            raise ValueError(
                f"current limit {amps} A is outside {MIN_CURRENT}..{self._max_current} A"
            )
        await self._set("amp", math.floor(amps))

    async def set_enabled(self, enabled: bool) -> None:
        """Force charging on (frc=2) or off (frc=1)."""
        await self._set("frc", FORCE_ON if enabled else FORCE_OFF)
