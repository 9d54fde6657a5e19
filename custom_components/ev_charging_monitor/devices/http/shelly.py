"""Shelly energy meters over HTTP: Pro 3EM (Gen2+ RPC) and EM / 3EM (Gen1 REST).

Facts from devices.md section 17 (Shelly API docs, evcc `meter/shelly/*`):

* `GET /shelly` identifies every generation: `mac`; Gen2+ adds `gen` (2, 3, 4...), `model`,
  `ver`, `app`, `auth_en`; Gen1 has no `gen` and gives `type` (e.g. SHEM, SHEM-3), `fw`, `auth`.
* Pro 3EM, three-phase profile: `GET /rpc/EM.GetStatus?id=0` -> `a_voltage` (V),
  `a_current` (A), `a_act_power` (W, signed), the same for b and c, `total_act_power` (W);
  `GET /rpc/EMData.GetStatus?id=0` -> `total_act` (Wh import), `total_act_ret` (Wh export).
* Gen1 EM / 3EM: `GET /status` -> `emeters[]` with `power` (W), `voltage` (V), `current` (A,
  3EM only), `is_valid`, `total` and `total_returned` in **Wh**.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import aiohttp

from custom_components.ev_charging_monitor.devices.errors import (
    DeviceCommunicationError,
    UnsupportedDeviceError,
)
from custom_components.ev_charging_monitor.devices.models import (
    Capabilities,
    DeviceKind,
    Identity,
    Reading,
)
from custom_components.ev_charging_monitor.devices.numbers import clean_sum

from .base import HttpDevice, integer, member, number, probe_object, text

MANUFACTURER = "Shelly"
PRO3EM_APP = "Pro3EM"
# Model codes (Gen2+ `model`, Gen1 `type`) and the names Shelly sells them under.
MODEL_NAMES = {
    "SPEM-003CEBEU": "Pro 3EM",
    "SHEM": "EM",
    "SHEM-3": "3EM",
}
# Gen2+ application names that differ from the readable name only by spacing.
APP_NAMES = {PRO3EM_APP: "Pro 3EM"}


def _mac(value: Any) -> str | None:
    """Shelly's MAC (12 hex digits, upper case) as aa:bb:cc:dd:ee:ff; None otherwise."""
    digits = text(value)
    if digits is None:
        return None
    digits = digits.replace(":", "").lower()
    if len(digits) != 12 or any(c not in "0123456789abcdef" for c in digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _gen2_identity(data: dict[str, Any]) -> Identity:
    code = text(data.get("model"))
    app = text(data.get("app"))
    name = MODEL_NAMES.get(code or "") or APP_NAMES.get(app or "") or app or code or "Pro 3EM"
    return Identity(
        manufacturer=MANUFACTURER,
        model=name,
        model_id=code,
        serial=text(data.get("mac")),
        mac=_mac(data.get("mac")),
        firmware=text(data.get("ver")),
    )


def _is_gen2(data: dict[str, Any]) -> bool:
    generation = integer(data.get("gen"))
    return generation is not None and generation >= 2


def _is_three_phase_em(data: dict[str, Any]) -> bool:
    return "a_act_power" in data


class ShellyPro3EM(HttpDevice):
    """Shelly Pro 3EM (and other Gen2+ meters with a three-phase EM component)."""

    id: ClassVar[str] = "shelly_pro3em"
    name: ClassVar[str] = "Shelly Pro 3EM"

    @classmethod
    async def detect(
        cls,
        host: str,
        session: aiohttp.ClientSession,
        *,
        port: int | None = None,
        timeout: float = 3.0,
    ) -> Identity | None:
        """The meter's identity when `host` is a Gen2+ Shelly with a three-phase EM."""
        info = await probe_object(host, session, "/shelly", port=port, timeout=timeout)
        if info is None or not _is_gen2(info):
            return None
        status = await probe_object(
            host, session, "/rpc/EM.GetStatus", {"id": "0"}, port=port, timeout=timeout
        )
        if status is None or not _is_three_phase_em(status):
            return None
        return _gen2_identity(info)

    @property
    def capabilities(self) -> Capabilities:
        """A three-phase meter with import and export registers."""
        return Capabilities(kind=DeviceKind.METER, phases=3, has_export_energy=True)

    async def identify(self) -> Identity:
        """Model, MAC address (Shelly's unique id) and firmware version."""
        info = await self.client.get_object("/rpc/Shelly.GetDeviceInfo")
        if not _is_gen2(info):
            raise UnsupportedDeviceError(
                f"{self.host} is not a Gen2+ Shelly (no 'gen' in Shelly.GetDeviceInfo)"
            )
        return _gen2_identity(info)

    async def read(self) -> Reading:
        """Two RPC GETs: the instantaneous values, then the energy registers."""
        em = await self.client.get_object("/rpc/EM.GetStatus", {"id": "0"})
        if not _is_three_phase_em(em):
            raise UnsupportedDeviceError(
                f"{self.host}: EM.GetStatus has no per-phase values; set the Pro 3EM to its"
                " three-phase profile"
            )
        data = await self.client.get_object("/rpc/EMData.GetStatus", {"id": "0"})
        return Reading(
            power=number(em.get("total_act_power")),
            power_l1=number(em.get("a_act_power")),
            power_l2=number(em.get("b_act_power")),
            power_l3=number(em.get("c_act_power")),
            current_l1=number(em.get("a_current")),
            current_l2=number(em.get("b_current")),
            current_l3=number(em.get("c_current")),
            voltage_l1=number(em.get("a_voltage")),
            voltage_l2=number(em.get("b_voltage")),
            voltage_l3=number(em.get("c_voltage")),
            energy=number(data.get("total_act")),
            energy_export=number(data.get("total_act_ret")),
            extra={"total_current": number(em.get("total_current"))},
        )


def _gen1_identity(data: dict[str, Any]) -> Identity | None:
    code = text(data.get("type"))
    if code is None or not code.upper().startswith("SHEM"):
        return None
    return Identity(
        manufacturer=MANUFACTURER,
        model=MODEL_NAMES.get(code.upper(), code),
        model_id=code,
        serial=text(data.get("mac")),
        mac=_mac(data.get("mac")),
        firmware=text(data.get("fw")),
    )


class ShellyEMGen1(HttpDevice):
    """Shelly EM (two single-phase channels) and Shelly 3EM (three phases), first generation.

    A Shelly EM measures one circuit: `channel` (0 or 1) picks the clamp and its values appear
    as phase L1. A 3EM (three or more `emeters`) reports phases L1..L3 from emeters 0..2, the
    power and energies being their sums.
    """

    id: ClassVar[str] = "shelly_em_gen1"
    name: ClassVar[str] = "Shelly EM / 3EM (Gen1)"

    def __init__(
        self,
        host: str,
        *,
        port: int | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 3.0,
        channel: int = 0,
    ) -> None:
        """Bind the driver to a host; `channel` is the Shelly EM clamp to report."""
        super().__init__(host, port=port, session=session, timeout=timeout)
        self.channel = channel
        self._phases = 1

    @classmethod
    async def detect(
        cls,
        host: str,
        session: aiohttp.ClientSession,
        *,
        port: int | None = None,
        timeout: float = 3.0,
    ) -> Identity | None:
        """The meter's identity when `host` is a Gen1 Shelly EM or 3EM."""
        info = await probe_object(host, session, "/shelly", port=port, timeout=timeout)
        if info is None or info.get("gen") not in (None, 1):
            return None
        return _gen1_identity(info)

    @property
    def capabilities(self) -> Capabilities:
        """One phase (EM) or three (3EM, known after identify() or the first read)."""
        return Capabilities(kind=DeviceKind.METER, phases=self._phases, has_export_energy=True)

    async def identify(self) -> Identity:
        """Type, MAC address and firmware from /shelly."""
        info = await self.client.get_object("/shelly")
        identity = _gen1_identity(info)
        if identity is None:
            raise UnsupportedDeviceError(
                f"{self.host} is not a Gen1 Shelly EM or 3EM (type {info.get('type')!r})"
            )
        if (identity.model_id or "").upper().startswith("SHEM-3"):
            self._phases = 3
        return identity

    async def read(self) -> Reading:
        """One GET of /status."""
        status = await self.client.get_object("/status")
        meters = status.get("emeters")
        if not isinstance(meters, list) or not meters:
            raise DeviceCommunicationError(f"{self.host}: /status has no 'emeters' list")
        if len(meters) >= 3:
            self._phases = 3
            channels = [_channel(meters[index]) for index in range(3)]
        else:
            if not 0 <= self.channel < len(meters):
                raise UnsupportedDeviceError(
                    f"{self.host} has {len(meters)} channels; channel {self.channel} does not exist"
                )
            self._phases = 1
            channels = [_channel(meters[self.channel])]
        padded = channels + [_EMPTY] * (3 - len(channels))
        return Reading(
            power=_sum(channel["power"] for channel in channels),
            power_l1=padded[0]["power"],
            power_l2=padded[1]["power"],
            power_l3=padded[2]["power"],
            current_l1=padded[0]["current"],
            current_l2=padded[1]["current"],
            current_l3=padded[2]["current"],
            voltage_l1=padded[0]["voltage"],
            voltage_l2=padded[1]["voltage"],
            voltage_l3=padded[2]["voltage"],
            energy=_sum(channel["total"] for channel in channels),
            energy_export=_sum(channel["total_returned"] for channel in channels),
        )


_FIELDS = ("power", "current", "voltage", "total", "total_returned")
_EMPTY: dict[str, float | None] = dict.fromkeys(_FIELDS)


def _channel(meter: Any) -> dict[str, float | None]:
    """One emeter's values; all None when the meter says they are not valid."""
    if member(meter, "is_valid") is False:
        return dict(_EMPTY)
    return {field: number(member(meter, field)) for field in _FIELDS}


def _sum(values: Iterable[float | None]) -> float | None:
    """The sum, or None when any part is unknown (a partial sum would be a wrong number)."""
    return clean_sum(values)
