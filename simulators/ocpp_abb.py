"""A simulated ABB Terra AC wallbox over OCPP 1.6J, with the firmware quirk that matters.

What it does, from public reports (sources in custom_components/.../central_system/quirks.json):

- It boots as vendor `ABB`, model `CDT_TACW11::NET_WIFI`, firmware `...::V1.8.21`
  (evcc-io/evcc#17979).
- Firmware 1.8.21 and earlier accepts any MeterValuesSampledData list, also measurands it
  cannot sample; once such a list is set, reading MeterValuesSampledData back
  (GetConfiguration) reboots it, and a central system that does so on every boot keeps it
  in a boot loop (lbbrhzn/ocpp#1275, LB docs/supported-devices.md).
- It samples Current.Import, Current.Offered, Energy.Active.Import.Register,
  Power.Active.Import and Voltage (ABB's OCPP 1.6 implementation overview, as LB quotes
  it); the register in Wh, currents and voltages per phase, voltage line to neutral
  (lbbrhzn/ocpp#374, #1741; evcc-io/evcc#17979 log).
- Its StatusNotifications carry info "null" (the text) and vendorErrorCode 0x0000 when
  there is no error; once connected it reports the whole charger (connector 0) as
  Available (evcc-io/evcc#15493, lbbrhzn/ocpp#169).

A reboot drops the websocket without a reply, then the charger connects again and boots.
A transaction that was running is ended with StopTransaction reason Reboot once it is back
(OCPP 1.6 lets a charger report a stop it could not send before).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, ChargePointErrorCode, ChargePointStatus, Reason

from .ocpp_charger import GenericOcpp16Charger, _Client, handles
from .ocpp_link import ClientConnection, stamp

SAMPLED_DATA = "MeterValuesSampledData"
ABB_MEASURANDS = (
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Voltage",
)
# Phase voltage (V, line to neutral) and the current offered (A) while it charges.
_VOLTAGE = 230.0
_OFFERED_A = 16.0


class _AbbClient(_Client):
    """Answers GetConfiguration like the firmware: reading a bad list back reboots it."""

    owner: AbbTerraAcOcpp

    @handles(Action.get_configuration)
    async def on_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        owner = self.owner
        if key is not None and SAMPLED_DATA in key and owner.unsupported_configured():
            await owner.crash()
            raise ConnectionError("rebooting")  # no reply: the websocket is gone
        return super().on_get_configuration(key=key)  # type: ignore[no-any-return]


@dataclass
class AbbTerraAcOcpp(GenericOcpp16Charger):
    """An ABB Terra AC (three phases, firmware 1.8.21) as an OCPP 1.6J client."""

    serial: str = "TACW1100000G0001"
    firmware: str = "TAC3Z9119006710273::V1.8.21"
    phases: int = 3
    # How often it rebooted, and whether it is (to be) back.
    reboots: int = 0
    # It boots again by itself after a reboot, unless the test has it stay down.
    comes_back: bool = True
    # Stops it could not send before a reboot, sent once it is back.
    lost_stop: dict[str, Any] | None = None
    _url: str | None = field(default=None, init=False, repr=False)
    _return: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    vendor: ClassVar[str] = "ABB"
    model: ClassVar[str] = "CDT_TACW11::NET_WIFI"
    energy_unit: ClassVar[str] = "Wh"
    # Before anything is configured it reports the register and the power.
    factory_measurands: ClassVar[str] = "Energy.Active.Import.Register,Power.Active.Import"

    def _make_client(self, connection: ClientConnection) -> _Client:
        return _AbbClient(self, connection)

    async def connect(self, url: str) -> None:
        """As the generic charger; it remembers `url` to come back after a reboot."""
        self._url = url
        await super().connect(url)

    def configuration(self) -> dict[str, str]:
        """Its meter configuration keys too (values are text in OCPP 1.6)."""
        return {
            **super().configuration(),
            SAMPLED_DATA: self.changed.get(SAMPLED_DATA, self.factory_measurands),
            "MeterValueSampleInterval": self.changed.get("MeterValueSampleInterval", "30"),
            "ChargeProfileMaxStackLevel": "3",
            "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
        }

    def measurands(self) -> list[str]:
        """The measurands set (it accepted them, whether it can sample them or not)."""
        value = self.changed.get(SAMPLED_DATA, self.factory_measurands)
        return [item.strip() for item in value.split(",") if item.strip()]

    def unsupported_configured(self) -> bool:
        """Whether the list set holds a measurand it cannot sample."""
        return any(item not in ABB_MEASURANDS for item in self.measurands())

    async def crash(self) -> None:
        """The firmware reboots: the websocket drops; it comes back in a moment."""
        self.reboots += 1
        if self.transaction_id is not None:
            self.lost_stop = {"meter_stop": self.register_wh, "transaction_id": self.transaction_id}
            self.transaction_id = None
        if self._ws is not None:
            await self._ws.close()
        if self.comes_back:
            self._return = asyncio.get_running_loop().create_task(self._come_back())

    async def disconnect(self) -> None:
        """Close the websocket; a reboot under way stops where it is."""
        task, self._return = self._return, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await super().disconnect()

    async def _come_back(self) -> None:
        task = self._task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        await super().disconnect()
        if not self.comes_back or self._url is None:
            return
        await self.connect(self._url)
        await self.boot()
        if self.lost_stop is not None:
            lost, self.lost_stop = self.lost_stop, None
            await self.send(
                call.StopTransaction(
                    meter_stop=lost["meter_stop"],
                    timestamp=stamp(self.at),
                    transaction_id=lost["transaction_id"],
                    reason=Reason.reboot,
                )
            )

    async def boot(self) -> str:
        """BootNotification; once accepted it tells the state of the whole charger first."""
        registration = await super().boot()
        if registration == "Accepted":
            await self.status("Available", connector_id=0)
        return registration

    async def status(
        self,
        status: str,
        error_code: str = "NoError",
        vendor_error_code: str | None = None,
        *,
        connector_id: int = 1,
    ) -> None:
        """StatusNotification (of connector 1), with its "null" info and 0x0000 vendor code."""
        await self.send(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=ChargePointErrorCode(error_code),
                status=ChargePointStatus(status),
                info="null",
                vendor_error_code=vendor_error_code or "0x0000",
                timestamp=stamp(self.at),
            )
        )

    def _sampled(self, power_w: float, context: str) -> list[dict[str, str]]:
        """What it samples of the list set: total register and power, per-phase the rest."""
        wanted = self.measurands()
        per_phase_a = power_w / (_VOLTAGE * self.phases)
        values: list[dict[str, str]] = []

        def add(measurand: str, value: str, unit: str, phase: str | None = None) -> None:
            sampled = {
                "value": value,
                "context": context,
                "format": "Raw",
                "measurand": measurand,
                "unit": unit,
            }
            if phase is not None:
                sampled["phase"] = phase
            values.append(sampled)

        for measurand in wanted:
            if measurand not in ABB_MEASURANDS:
                continue  # set, but the firmware has nothing to sample
            if measurand == "Energy.Active.Import.Register":
                add(measurand, str(self.register_wh), "Wh")
            elif measurand == "Power.Active.Import":
                add(measurand, f"{power_w:.0f}", "W")
            elif measurand == "Current.Offered":
                add(measurand, f"{_OFFERED_A:.2f}", "A")
            else:
                for phase in range(1, self.phases + 1):
                    if measurand == "Current.Import":
                        add(measurand, f"{per_phase_a:.2f}", "A", f"L{phase}")
                    else:
                        add(measurand, f"{_VOLTAGE:.1f}", "V", f"L{phase}-N")
        return values
