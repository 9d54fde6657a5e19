"""Simulated OCPP 1.6J chargers: websocket clients of a central system, driven step by step.

A test (or the demo) tells the charger what happens: boot, plug in, present a card, charge
for a while, stop. The charger sends what a real one sends, through the `ocpp` library's
ChargePoint, with its own energy register. `GenericOcpp16Charger` reports in Wh like most
chargers; models that differ subclass it (`ocpp_alfen.py`, `ocpp_abb.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, cast

import aiohttp
from ocpp.exceptions import NotSupportedError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    AvailabilityStatus,
    AvailabilityType,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingProfileStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    MessageTrigger,
    Reason,
    RemoteStartStopStatus,
    ResetStatus,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateStatus,
)

from .ocpp_link import (
    ClientConnection,
    close_link,
    open_websocket,
    stamp,
    unanswered_logged,
    wait_real_time,
)
from .ocpp_profiles import allowed_power, limit_in_force

type _Handler = Callable[..., Any]
handles = cast(Callable[[Action], Callable[[_Handler], _Handler]], on)
then = cast(Callable[[Action], Callable[[_Handler], _Handler]], after)
# The transaction id a queued stop carries until its start is confirmed (replaced then).
_UNKNOWN_ID = -1
# What a charger queues while offline (OCPP 1.6: transaction-related messages).
_TRANSACTION_MESSAGES = (call.StartTransaction, call.StopTransaction, call.MeterValues)


def _queued(payload: Any) -> bool:
    return isinstance(payload, _TRANSACTION_MESSAGES)


@dataclass
class OfflineQueue:
    """A charger's transaction messages while it is offline, oldest first."""

    active: bool = False
    queue: list[Any] = field(default_factory=list)
    # A transaction started while offline (its id is not known yet).
    in_transaction: bool = False
    # What the replays sent, confirmed, in order (with the transaction ids filled in).
    replayed: list[Any] = field(default_factory=list)
    # The confirmation of the next replayed message of this kind (call.StartTransaction,
    # ...) does not reach the charger.
    lose_confirmation: type | None = None


class _Client(ChargePoint):
    """The library's charge point with the one request a central system sends us here."""

    def __init__(self, owner: GenericOcpp16Charger, connection: ClientConnection) -> None:
        super().__init__(owner.charge_point_id, connection)  # type: ignore[no-untyped-call]
        self.owner = owner

    @handles(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, **_: Any) -> call_result.TriggerMessage:
        if requested_message == MessageTrigger.boot_notification:
            return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)
        return call_result.TriggerMessage(status=TriggerMessageStatus.not_implemented)

    @handles(Action.get_configuration)
    def on_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        known = self.owner.configuration()
        wanted = known if key is None else [k for k in key if k in known]
        return call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": True, "value": known[k]} for k in wanted],
            unknown_key=[k for k in key or [] if k not in known] or None,
        )

    @handles(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        self.owner.changed[key] = value
        return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)

    @then(Action.trigger_message)
    def after_trigger_message(self, requested_message: str, **_: Any) -> None:
        if requested_message == MessageTrigger.boot_notification:
            self.owner.in_background(self.owner.boot())

    # -- control (the owner decides; see GenericOcpp16Charger's control section) ----------

    @handles(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any]
    ) -> call_result.SetChargingProfile:
        status = self.owner.take_profile(connector_id, cs_charging_profiles)
        return call_result.SetChargingProfile(status=ChargingProfileStatus(status))

    @handles(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **payload: Any) -> call_result.ClearChargingProfile:
        status = self.owner.clear_profile(payload.get("id"))
        return call_result.ClearChargingProfile(status=ClearChargingProfileStatus(status))

    @handles(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self, id_tag: str, **_: Any
    ) -> call_result.RemoteStartTransaction:
        status = self.owner.answer("RemoteStartTransaction", RemoteStartStopStatus)
        if self.owner.transaction_id is not None:
            status = "Rejected"
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus(status))

    @then(Action.remote_start_transaction)
    def after_remote_start_transaction(self, id_tag: str, **_: Any) -> None:
        if self.owner.remote_pending(id_tag):
            self.owner.in_background(self.owner.remote_start(id_tag))

    @handles(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        status = self.owner.answer("RemoteStopTransaction", RemoteStartStopStatus)
        if transaction_id != self.owner.transaction_id:
            status = "Rejected"
        return call_result.RemoteStopTransaction(status=RemoteStartStopStatus(status))

    @then(Action.remote_stop_transaction)
    def after_remote_stop_transaction(self, transaction_id: int) -> None:
        if transaction_id == self.owner.transaction_id and "RemoteStopTransaction" not in (
            self.owner.forced
        ):
            self.owner.in_background(self._stop_remotely())

    async def _stop_remotely(self) -> None:
        await self.owner.stop_transaction("Remote")
        await self.owner.status("Finishing")

    @handles(Action.reset)
    def on_reset(self, **payload: Any) -> call_result.Reset:
        status = self.owner.answer("Reset", ResetStatus)
        if status == "Accepted":
            self.owner.resets.append(str(payload["type"]))
        return call_result.Reset(status=ResetStatus(status))

    @then(Action.reset)
    def after_reset(self, **payload: Any) -> None:
        if "Reset" not in self.owner.forced:
            self.owner.in_background(self.owner.reboot(str(payload["type"])))

    @handles(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int) -> call_result.UnlockConnector:
        status = self.owner.answer("UnlockConnector", UnlockStatus, default="Unlocked")
        if status == "Unlocked":
            self.owner.unlocks += 1
        return call_result.UnlockConnector(status=UnlockStatus(status))

    @handles(Action.change_availability)
    def on_change_availability(
        self, connector_id: int, **payload: Any
    ) -> call_result.ChangeAvailability:
        status = self.owner.answer("ChangeAvailability", AvailabilityStatus)
        if status == "Accepted" and self.owner.transaction_id is not None:
            status = "Scheduled"
        return call_result.ChangeAvailability(status=AvailabilityStatus(status))

    @then(Action.change_availability)
    def after_change_availability(self, connector_id: int, **payload: Any) -> None:
        if "ChangeAvailability" not in self.owner.forced and self.owner.transaction_id is None:
            self.owner.available = payload["type"] == AvailabilityType.operative
            self.owner.in_background(
                self.owner.status("Available" if self.owner.available else "Unavailable")
            )

    @handles(Action.get_local_list_version)
    def on_get_local_list_version(self) -> call_result.GetLocalListVersion:
        self.owner.commands.append("GetLocalListVersion")
        if self.owner.forced.get("SendLocalList") == "NotSupported":
            return call_result.GetLocalListVersion(list_version=-1)
        return call_result.GetLocalListVersion(list_version=self.owner.local_list_version)

    @handles(Action.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
    ) -> call_result.SendLocalList:
        status = self.owner.take_local_list(
            list_version, update_type, local_authorization_list or []
        )
        return call_result.SendLocalList(status=UpdateStatus(status))


@dataclass
class GenericOcpp16Charger:
    """A single-connector OCPP 1.6J wallbox with an energy register in Wh."""

    charge_point_id: str
    password: str | None = None
    serial: str = "SIM-0001"
    firmware: str = "1.0.0"
    register_wh: int = 1_234_000
    at: datetime = field(default_factory=lambda: datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    registration: str | None = None
    heartbeat_interval: int | None = None
    transaction_id: int | None = None
    answers: list[str] = field(default_factory=list)
    # Configuration keys the central system set (ChangeConfiguration).
    changed: dict[str, str] = field(default_factory=dict)

    meter_serial: str | None = None
    meter_type: str | None = None
    # For wss:// (security profile 2): whom the charger trusts.
    ssl_context: ssl.SSLContext | None = None

    # Control (central system -> charger). How the simulated car draws: phases x volts x
    # the offered current, at most the power `charge` asks for.
    phases: int = 3
    voltage: float = 230.0
    # Answers forced per action, e.g. {"SetChargingProfile": "Rejected"}; "NotSupported"
    # where the action's status has no such value is a CallError NotSupported.
    forced: dict[str, str] = field(default_factory=dict)
    # Charging profiles by id: purpose, connector, transaction id, limit, unit.
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)
    # The rate units its profiles may have (a profile in another unit is Rejected).
    rate_units: tuple[str, ...] = ("A", "W")
    # Commands received, in order (action names), and what they were about.
    commands: list[str] = field(default_factory=list)
    remote_starts: list[str] = field(default_factory=list)
    resets: list[str] = field(default_factory=list)
    unlocks: int = 0
    available: bool = True
    # The local authorization list (SendLocalList): id tag -> idTagInfo, and its version.
    local_list: dict[str, dict[str, Any]] = field(default_factory=dict)
    local_list_version: int = 0
    # Every SendLocalList taken: (update type, version, number of entries).
    local_list_updates: list[tuple[str, int, int]] = field(default_factory=list)

    vendor: ClassVar[str] = "Generic"
    model: ClassVar[str] = "OCPP 1.6J wallbox"
    energy_unit: ClassVar[str] = "Wh"

    def __post_init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._client: _Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._accepted = asyncio.Event()
        self._url: str | None = None
        # What it sends after answering a request (a boot, a transaction): `disconnect`
        # ends these, so none outlives the connection it was meant for.
        self._background: set[asyncio.Task[Any]] = set()

    # -- connection ----------------------------------------------------------------------

    async def connect(self, url: str) -> None:
        """Open the websocket to `url`/<id> (aiohttp.WSServerHandshakeError when refused)."""
        self._url = url
        self._session, self._ws = await open_websocket(
            url,
            self.charge_point_id,
            password=self.password,
            ssl_context=self.ssl_context,
            protocols=("ocpp1.6",),
        )
        self._client = self._make_client(ClientConnection(self._ws))
        self._task = asyncio.create_task(self._run(self._client))

    def _make_client(self, connection: ClientConnection) -> _Client:
        """The ocpp library client that answers the central system for this model."""
        return _Client(self, connection)

    async def _run(self, client: _Client) -> None:
        with contextlib.suppress(ConnectionError):
            await client.start()  # type: ignore[no-untyped-call]

    def in_background(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Send what a request asked for after its answer; cancelled by `disconnect`.

        As a real charger, it logs a message that got no answer (the connection closed, or
        a test moved the clock past the answer's timeout) and goes on.
        """
        task = asyncio.create_task(unanswered_logged(coroutine, self.charge_point_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def disconnect(self) -> None:
        """Close the websocket (the charger keeps its register and transaction)."""
        # Not the task calling this (a reboot after Reset disconnects from within one).
        running = [task for task in self._background if task is not asyncio.current_task()]
        for task in running:
            task.cancel()
        try:
            await asyncio.gather(*running, return_exceptions=True)
        finally:
            # Even when the disconnect itself is cancelled: no unclosed client session. Taken
            # after the tasks ended (a reboot among them may have connected anew).
            ws, reader, session = self._ws, self._task, self._session
            self._ws = self._session = self._client = self._task = None
            self._accepted.clear()
            await close_link(ws, reader, session)

    async def send(self, payload: Any) -> Any:
        """Send any request; returns the confirmation (None: queued while offline)."""
        if self.offline.active:
            if _queued(payload):
                self.offline.queue.append(payload)
            return None
        assert self._client is not None, "connect first"
        return await self._client.call(payload)  # type: ignore[no-untyped-call]

    def configuration(self) -> dict[str, str]:
        """The configuration keys GetConfiguration reports."""
        return {"HeartbeatInterval": str(self.heartbeat_interval or 0)}

    # -- messages ------------------------------------------------------------------------

    async def boot(self) -> str:
        """BootNotification; returns Accepted, Pending or Rejected."""
        result = await self.send(
            call.BootNotification(
                charge_point_vendor=self.vendor,
                charge_point_model=self.model,
                charge_point_serial_number=self.serial,
                firmware_version=self.firmware,
                meter_serial_number=self.meter_serial,
                meter_type=self.meter_type,
            )
        )
        self.registration = str(result.status)
        self.heartbeat_interval = int(result.interval)
        if self.registration == "Accepted":
            self._accepted.set()
        return self.registration

    async def wait_accepted(self, timeout: float = 60) -> None:
        """Until a BootNotification was accepted (the central system triggers one)."""
        await wait_real_time(self._accepted, timeout)

    async def status(
        self, status: str, error_code: str = "NoError", vendor_error_code: str | None = None
    ) -> None:
        """StatusNotification of connector 1."""
        await self.send(
            call.StatusNotification(
                connector_id=1,
                error_code=ChargePointErrorCode(error_code),
                status=ChargePointStatus(status),
                vendor_error_code=vendor_error_code,
                timestamp=stamp(self.at),
            )
        )

    async def authorize(self, id_tag: str) -> str:
        """Authorize; returns idTagInfo.status."""
        result = await self.send(call.Authorize(id_tag=id_tag))
        status = str(result.id_tag_info["status"])
        self.answers.append(status)
        return status

    async def start_transaction(self, id_tag: str) -> str:
        """StartTransaction at the current register; returns idTagInfo.status."""
        result = await self.send(
            call.StartTransaction(
                connector_id=1,
                id_tag=id_tag,
                meter_start=self.register_wh,
                timestamp=stamp(self.at),
            )
        )
        self._started_wh = self.register_wh
        self._started_at = self.at
        if result is None:  # offline: the charger decides by itself and charges
            self.offline.in_transaction = True
            return "Accepted"
        self.transaction_id = int(result.transaction_id)
        status = str(result.id_tag_info["status"])
        self.answers.append(status)
        return status

    async def charge(self, seconds: int, power_w: float, *, samples: int = 1) -> None:
        """Charge at `power_w` for `seconds`, sending `samples` MeterValues on the way."""
        step = seconds / samples
        power_w = self.offered_power(power_w)
        for _ in range(samples):
            self.at += timedelta(seconds=step)
            self.register_wh += round(power_w * step / 3600)
            await self.meter_values(power_w)

    async def meter_values(self, power_w: float) -> None:
        """One periodic MeterValues message with the register and the power."""
        await self.send(
            call.MeterValues(
                connector_id=1,
                transaction_id=self.transaction_id,
                meter_value=[
                    {
                        "timestamp": stamp(self.at),
                        "sampledValue": self._sampled(power_w, "Sample.Periodic"),
                    }
                ],
            )
        )

    def _sampled(self, power_w: float, context: str) -> list[dict[str, str]]:
        register = (
            f"{self.register_wh / 1000:.3f}" if self.energy_unit == "kWh" else str(self.register_wh)
        )
        return [
            {
                "value": register,
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unit": self.energy_unit,
            },
            {
                "value": f"{power_w:.1f}",
                "context": context,
                "measurand": "Power.Active.Import",
                "unit": "W",
            },
        ]

    async def stop_transaction(self, reason: str = "Local") -> None:
        """StopTransaction at the current register."""
        assert self.transaction_id is not None or self.offline.in_transaction, "no transaction"
        await self.send(
            call.StopTransaction(
                meter_stop=self.register_wh,
                timestamp=stamp(self.at),
                transaction_id=_UNKNOWN_ID if self.transaction_id is None else self.transaction_id,
                reason=Reason(reason),
                transaction_data=self._transaction_data(),
            )
        )
        self.transaction_id = None
        self.offline.in_transaction = False

    def _transaction_data(self) -> list[dict[str, Any]] | None:
        return None

    # -- control (what the central system asks; tests force refusals with `forced`) -----

    def answer(self, action: str, statuses: type[StrEnum], default: str = "Accepted") -> str:
        """The status to answer `action` with (raises CallError NotSupported if forced)."""
        self.commands.append(action)
        status = self.forced.get(action, default)
        if status not in {str(member) for member in statuses}:
            raise NotSupportedError(f"{action} is not supported by this charger")  # type: ignore[no-untyped-call]
        return status

    def current_limit(self) -> float | None:
        """The limit in force in A: the transaction's own profile, else the default one."""
        return limit_in_force(
            self.profiles.values(), self.transaction_id, self.voltage * self.phases
        )

    def offered_power(self, power_w: float) -> float:
        """What the car draws when it would take `power_w`: at most the limit allows."""
        return allowed_power(power_w, self.current_limit(), self.voltage * self.phases)

    def take_profile(self, connector_id: int, profile: dict[str, Any]) -> str:
        """SetChargingProfile: keep it (by id) unless refused."""
        status = self.answer("SetChargingProfile", ChargingProfileStatus)
        purpose = profile["charging_profile_purpose"]
        transaction_id = profile.get("transaction_id")
        if purpose == "TxProfile" and (
            self.transaction_id is None or transaction_id != self.transaction_id
        ):
            return "Rejected"  # OCPP 1.6 3.13.1: only for the running transaction
        if profile["charging_schedule"]["charging_rate_unit"] not in self.rate_units:
            return "Rejected"
        if status == "Accepted":
            (period,) = profile["charging_schedule"]["charging_schedule_period"]
            self.profiles[int(profile["charging_profile_id"])] = {
                "purpose": purpose,
                "connector_id": connector_id,
                "transaction_id": transaction_id,
                "limit": float(period["limit"]),
                "unit": profile["charging_schedule"]["charging_rate_unit"],
            }
        return status

    def clear_profile(self, profile_id: int | None) -> str:
        """ClearChargingProfile by id (all without one); Unknown when there was none."""
        self.commands.append("ClearChargingProfile")
        if profile_id is None:
            cleared = bool(self.profiles)
            self.profiles.clear()
        else:
            cleared = self.profiles.pop(profile_id, None) is not None
        return "Accepted" if cleared else "Unknown"

    def remote_pending(self, id_tag: str) -> bool:
        """After an accepted RemoteStartTransaction: whether to start (not forced away)."""
        return "RemoteStartTransaction" not in self.forced and self.transaction_id is None

    async def remote_start(self, id_tag: str) -> None:
        """What a charger does after a remote start: start the transaction, then charge."""
        self.remote_starts.append(id_tag)
        await self.start_transaction(id_tag)
        await self.status("Charging")

    async def reboot(self, kind: str) -> None:
        """After a Reset: end the transaction, drop the connection, reconnect and boot."""
        if self.transaction_id is not None:
            await self.stop_transaction("HardReset" if kind == "Hard" else "SoftReset")
        url = self._url
        assert url is not None, "connected before"
        await self.disconnect()
        await self.connect(url)
        await self.boot()

    def take_local_list(self, version: int, update_type: str, entries: list[dict[str, Any]]) -> str:
        """SendLocalList: Full replaces, Differential changes (a later version only)."""
        status = self.answer("SendLocalList", UpdateStatus)
        if status != "Accepted":
            return status
        if update_type == "Differential" and version <= self.local_list_version:
            return "VersionMismatch"
        if update_type == "Full":
            self.local_list = {}
        for entry in entries:
            if entry.get("id_tag_info") is None:
                self.local_list.pop(entry["id_tag"], None)
            else:
                self.local_list[entry["id_tag"]] = dict(entry["id_tag_info"])
        self.local_list_version = version
        self.local_list_updates.append((update_type, version, len(entries)))
        return "Accepted"

    @property
    def online(self) -> bool:
        """Whether the websocket to the central system is open."""
        return self._ws is not None and not self._ws.closed

    async def present_card(self, id_tag: str) -> str:
        """A card at the reader: asked online, decided from the local list while offline.

        Offline (LocalAuthorizeOffline) a card is accepted only if the list has it as
        Accepted and not past its expiry date; anything else is refused.
        """
        if self.online:
            return await self.authorize(id_tag)
        info = self.local_list.get(id_tag)
        status = "Invalid" if info is None else str(info["status"])
        expiry = None if info is None else info.get("expiry_date")
        if status == "Accepted" and expiry and datetime.fromisoformat(expiry) <= self.at:
            status = "Expired"
        self.answers.append(status)
        return status

    # -- offline: transaction messages queued, replayed on reconnect ----------------------

    @property
    def offline(self) -> OfflineQueue:
        """What the charger keeps while it cannot reach the central system."""
        state = self.__dict__.get("_offline")
        if state is None:
            state = self.__dict__["_offline"] = OfflineQueue()
        return cast(OfflineQueue, state)

    async def go_offline(self) -> None:
        """The connection is lost: transaction messages are queued from now on, each with
        the time it happened; everything else is not sent (a real charger drops them)."""
        await self.disconnect()
        self.offline.active = True

    async def reconnect(self, url: str) -> int:
        """Connect again and send the queued messages in order; returns how many were
        confirmed. A message whose confirmation is lost (`lose_confirmation`) stays first in
        the queue and the connection drops, as it does when the network fails; the next
        `reconnect` sends it again."""
        await self.connect(url)
        self.offline.active = False
        confirmed = 0
        queue = self.offline.queue
        while queue:
            payload = self._with_transaction_id(queue[0])
            result = await self.send(payload)
            if (lost := self.offline.lose_confirmation) is not None and isinstance(payload, lost):
                self.offline.lose_confirmation = None
                await self.go_offline()
                return confirmed
            queue.pop(0)
            self.offline.replayed.append(payload)
            confirmed += 1
            if isinstance(payload, call.StartTransaction):
                self.transaction_id = int(result.transaction_id)
                self.offline.in_transaction = False
                self.answers.append(str(result.id_tag_info["status"]))
            elif isinstance(payload, call.StopTransaction):
                self.transaction_id = None
        return confirmed

    def sent_again(self) -> list[Any]:
        """Every replayed message, to send once more (as a charger that missed all their
        confirmations would)."""
        return list(self.offline.replayed)

    def _with_transaction_id(self, payload: Any) -> Any:
        """Queued before the start was confirmed: the id the confirmation gave."""
        if self.transaction_id is None:
            return payload
        if isinstance(payload, call.MeterValues) and payload.transaction_id is None:
            return replace(payload, transaction_id=self.transaction_id)
        if isinstance(payload, call.StopTransaction) and payload.transaction_id == _UNKNOWN_ID:
            return replace(payload, transaction_id=self.transaction_id)
        return payload

    # -- signals: the limits offered to the vehicle and its state of charge --------------

    async def signals(
        self,
        *,
        current_offered: str | None = None,
        power_offered: str | None = None,
        soc: str | None = None,
        power_unit: str = "W",
        soc_unit: str = "Percent",
        per_phase: bool = False,
    ) -> None:
        """One MeterValues with Current.Offered (A), Power.Offered (`power_unit`) and the
        vehicle's SoC (`soc_unit`, location EV), each as the text given (a test sends
        garbage this way); `per_phase` reports the offered values on L1, L2 and L3 each."""
        phases: tuple[str | None, ...] = ("L1", "L2", "L3") if per_phase else (None,)
        sampled: list[dict[str, str]] = []
        for measurand, value, unit in (
            ("Current.Offered", current_offered, "A"),
            ("Power.Offered", power_offered, power_unit),
        ):
            if value is None:
                continue
            for phase in phases:
                item = {"value": value, "context": "Sample.Periodic", "measurand": measurand}
                sampled.append({**item, "unit": unit, **({"phase": phase} if phase else {})})
        if soc is not None:
            sampled.append(
                {
                    "value": soc,
                    "context": "Sample.Periodic",
                    "measurand": "SoC",
                    "location": "EV",
                    "unit": soc_unit,
                }
            )
        await self.send(
            call.MeterValues(
                connector_id=1,
                transaction_id=self.transaction_id,
                meter_value=[{"timestamp": stamp(self.at), "sampledValue": sampled}],
            )
        )

    # -- a reboot that loses the transaction; connectors other than 1 -------------------------

    async def reboot_losing_transaction(self) -> str:
        """A power cut: the websocket drops, the running transaction and every queued message
        of it are forgotten (no stop is ever sent); it connects again and boots. Returns the
        boot's registration status."""
        url = self._url
        assert url is not None, "connected before"
        self.transaction_id = None
        self.offline.in_transaction = False
        self.offline.queue.clear()
        await self.disconnect()
        self.offline.active = False
        await self.connect(url)
        return await self.boot()

    @property
    def other_connectors(self) -> dict[int, dict[str, Any]]:
        """Connectors other than 1: each its own energy register and transaction id."""
        state = self.__dict__.get("_other_connectors")
        if state is None:
            state = self.__dict__["_other_connectors"] = {}
        return cast(dict[int, dict[str, Any]], state)

    def _connector(self, connector_id: int) -> dict[str, Any]:
        return self.other_connectors.setdefault(
            connector_id, {"register_wh": 5_000_000 * connector_id, "transaction_id": None}
        )

    async def status_of(self, connector_id: int, status: str) -> None:
        """StatusNotification of another connector."""
        self._connector(connector_id)
        await self.send(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=ChargePointErrorCode.no_error,
                status=ChargePointStatus(status),
                timestamp=stamp(self.at),
            )
        )

    async def start_on(self, connector_id: int, id_tag: str) -> str:
        """StartTransaction on another connector at its own register; idTagInfo.status."""
        connector = self._connector(connector_id)
        result = await self.send(
            call.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=connector["register_wh"],
                timestamp=stamp(self.at),
            )
        )
        connector["transaction_id"] = int(result.transaction_id)
        return str(result.id_tag_info["status"])

    async def charge_on(self, connector_id: int, seconds: int, power_w: float) -> None:
        """That connector's car draws `power_w` for `seconds` (the clock is not moved: the
        test moves it with connector 1's `charge`); one MeterValues of its register."""
        connector = self._connector(connector_id)
        connector["register_wh"] += round(power_w * seconds / 3600)
        await self.send(
            call.MeterValues(
                connector_id=connector_id,
                transaction_id=connector["transaction_id"],
                meter_value=[
                    {
                        "timestamp": stamp(self.at),
                        "sampledValue": [
                            {
                                "value": str(connector["register_wh"]),
                                "context": "Sample.Periodic",
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            },
                            {
                                "value": f"{power_w:.1f}",
                                "context": "Sample.Periodic",
                                "measurand": "Power.Active.Import",
                                "unit": "W",
                            },
                        ],
                    }
                ],
            )
        )

    async def stop_on(self, connector_id: int) -> None:
        """StopTransaction of another connector's transaction at its register."""
        connector = self._connector(connector_id)
        assert connector["transaction_id"] is not None, "no transaction"
        await self.send(
            call.StopTransaction(
                meter_stop=connector["register_wh"],
                timestamp=stamp(self.at),
                transaction_id=connector["transaction_id"],
                reason=Reason.local,
            )
        )
        connector["transaction_id"] = None
