"""A simulated OCPP 2.0.1 charging station: a websocket client of a central system.

A test (or the demo) tells the station what happens: boot, plug in, present a card,
charge for a while, stop, unplug. The station sends what a 2.0.1 station sends, through
the `ocpp` library's v201 ChargePoint: StatusNotification for the connector, Authorize,
and one TransactionEvent sequence per transaction (Started, Updated..., Ended) with its
own transaction id (a UUID), seqNo counting from 0, and meter values with
`unitOfMeasure`.

The meter is physically consistent: the energy register is the exact integral of the
power over time (a fraction of Wh), and it reports it rounded to whole Wh, as a meter with
1 Wh resolution does. `energy_multiplier` 3 reports it as kWh (Wh with multiplier 3).
With `signing_key` the Transaction.End reading carries an OCMF `signedMeterValue` with the
begin and end readings (one combined container, base64 as 2.0.1 asks). While
disconnected, transaction events are queued and delivered, marked `offline`, by
`deliver_queued`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any, ClassVar, cast

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.datatypes import (
    ChargingStationType,
    ComponentType,
    EventDataType,
    EVSEType,
    IdTokenType,
    MeterValueType,
    SampledValueType,
    SetVariableResultType,
    SignedMeterValueType,
    TransactionType,
    UnitOfMeasureType,
    VariableType,
)
from ocpp.v201.enums import (
    Action,
    BootReasonEnumType,
    ChargingStateEnumType,
    ConnectorStatusEnumType,
    EventNotificationEnumType,
    EventTriggerEnumType,
    IdTokenEnumType,
    MeasurandEnumType,
    PhaseEnumType,
    ReadingContextEnumType,
    ReasonEnumType,
    SetVariableStatusEnumType,
    TransactionEventEnumType,
    TriggerMessageStatusEnumType,
    TriggerReasonEnumType,
)

from .ocmf_signing import ocmf_reading, signed_ocmf
from .ocpp_link import ClientConnection, open_websocket, stamp, unanswered_logged

type _Handler = Callable[..., Any]
handles = cast(Callable[[Action], Callable[[_Handler], _Handler]], on)
then = cast(Callable[[Action], Callable[[_Handler], _Handler]], after)
SUBPROTOCOL = "ocpp2.0.1"
# Line-to-neutral voltage the per-phase currents are derived with.
PHASE_VOLTAGE = 230


def _card(token: str) -> IdTokenType:
    return IdTokenType(id_token=token, type=IdTokenEnumType.iso14443)


class _Client(ChargePoint):
    """The library's 2.0.1 charge point with the requests a central system sends us."""

    def __init__(self, owner: GenericOcpp201Station, connection: ClientConnection) -> None:
        super().__init__(owner.charge_point_id, connection)  # type: ignore[no-untyped-call]
        self.owner = owner

    @handles(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, **_: Any) -> call_result.TriggerMessage:
        self.owner.triggered.append(requested_message)
        if requested_message in ("BootNotification", "MeterValues"):
            return call_result.TriggerMessage(status=TriggerMessageStatusEnumType.accepted)
        return call_result.TriggerMessage(status=TriggerMessageStatusEnumType.not_implemented)

    @then(Action.trigger_message)
    def after_trigger_message(self, requested_message: str, **_: Any) -> None:
        if requested_message == "BootNotification":
            self.owner.in_background(self.owner.boot("Triggered"))
        elif requested_message == "MeterValues":
            self.owner.in_background(self.owner.meter_values("Trigger"))

    @handles(Action.set_variables)
    def on_set_variables(
        self, set_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.SetVariables:
        results = []
        for item in set_variable_data:
            component = item["component"]["name"]
            variable = item["variable"]["name"]
            known = component in self.owner.components
            if known:
                self.owner.variables[f"{component}.{variable}"] = item["attribute_value"]
            results.append(
                SetVariableResultType(
                    attribute_status=SetVariableStatusEnumType.accepted
                    if known
                    else SetVariableStatusEnumType.unknown_component,
                    component=ComponentType(name=component),
                    variable=VariableType(name=variable),
                )
            )
        return call_result.SetVariables(set_variable_result=results)


@dataclass
class GenericOcpp201Station:
    """A single-EVSE OCPP 2.0.1 charging station with a 1 Wh resolution meter."""

    charge_point_id: str
    password: str | None = None
    serial: str = "SIM201-0001"
    firmware: str = "2.0.1-sim.4"
    # The meter's exact register (Wh), the integral of the power over time.
    register: Fraction = Fraction(2_345_000)
    at: datetime = field(default_factory=lambda: datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    # unitOfMeasure.multiplier of the register: 0 reports Wh, 3 kWh (with 3 decimals).
    energy_multiplier: int = 0
    signing_key: ec.EllipticCurvePrivateKey | None = None
    ssl_context: ssl.SSLContext | None = None

    registration: str | None = None
    heartbeat_interval: int | None = None
    transaction_id: str | None = None
    seq_no: int = 0
    charging_state: str | None = None
    # Authorization answers received, in order (Authorize and TransactionEvent).
    answers: list[str] = field(default_factory=list)
    # Device model variables the central system set: "Component.Variable" -> value.
    variables: dict[str, str] = field(default_factory=dict)
    # Every TransactionEvent sent (or queued), as sent.
    events: list[call.TransactionEvent] = field(default_factory=list)
    # The messages the central system asked for (TriggerMessage).
    triggered: list[str] = field(default_factory=list)
    # OCMF records signed, as text (before base64).
    sent_ocmf: list[str] = field(default_factory=list)

    vendor: ClassVar[str] = "Generic"
    model: ClassVar[str] = "OCPP 2.0.1 station"
    components: ClassVar[frozenset[str]] = frozenset(
        {"SampledDataCtrlr", "AlignedDataCtrlr", "OCPPCommCtrlr"}
    )

    def __post_init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._client: _Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._accepted = asyncio.Event()
        self._queue: list[call.TransactionEvent] = []
        self._begin: tuple[datetime, int] | None = None
        self._power_w: float = 0
        self._background: set[asyncio.Task[Any]] = set()

    # -- connection ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the websocket is open."""
        return self._ws is not None and not self._ws.closed

    async def connect(self, url: str, protocols: tuple[str, ...] = (SUBPROTOCOL,)) -> None:
        """Open the websocket to `url`/<id> (aiohttp.WSServerHandshakeError when refused)."""
        self._session, self._ws = await open_websocket(
            url,
            self.charge_point_id,
            password=self.password,
            ssl_context=self.ssl_context,
            protocols=protocols,
        )
        self._client = _Client(self, ClientConnection(self._ws))
        self._task = asyncio.create_task(self._run(self._client))

    @property
    def protocol(self) -> str | None:
        """The subprotocol the central system agreed to."""
        return None if self._ws is None else self._ws.protocol

    def in_background(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Send what a request asked for after its answer; cancelled by `disconnect`."""
        task = asyncio.create_task(unanswered_logged(coroutine, self.charge_point_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run(self, client: _Client) -> None:
        with contextlib.suppress(ConnectionError):
            await client.start()  # type: ignore[no-untyped-call]

    async def disconnect(self) -> None:
        """Close the websocket (the station keeps its register and transaction)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        self._ws = self._session = self._client = self._task = None
        self._accepted.clear()

    async def send(self, payload: Any) -> Any:
        """Send any request; returns the confirmation."""
        assert self._client is not None, "connect first"
        return await self._client.call(payload)  # type: ignore[no-untyped-call]

    # -- the meter -----------------------------------------------------------------------

    @property
    def register_wh(self) -> int:
        """What the meter shows: the register at 1 Wh resolution."""
        return round(self.register)

    def _energy_value(self) -> float:
        if self.energy_multiplier == 0:
            return self.register_wh
        return round(self.register_wh / float(10**self.energy_multiplier), self.energy_multiplier)

    def _sampled(self, context: str, power_w: float, *, signed: bool = False) -> MeterValueType:
        reading_context = ReadingContextEnumType(context)
        signed_value = None
        if signed and self.signing_key is not None:
            record = self.ocmf(context)
            self.sent_ocmf.append(record)
            signed_value = SignedMeterValueType(
                signed_meter_data=base64.b64encode(record.encode()).decode(),
                signing_method="",
                encoding_method="OCMF",
                public_key=self.public_key_text,
            )
        values = [
            SampledValueType(
                value=self._energy_value(),
                context=reading_context,
                measurand=MeasurandEnumType.energy_active_import_register,
                unit_of_measure=UnitOfMeasureType(unit="Wh", multiplier=self.energy_multiplier),
                signed_meter_value=signed_value,
            ),
            SampledValueType(
                value=round(power_w, 1),
                context=reading_context,
                measurand=MeasurandEnumType.power_active_import,
                unit_of_measure=UnitOfMeasureType(unit="W"),
            ),
        ]
        for phase in (PhaseEnumType.l1, PhaseEnumType.l2, PhaseEnumType.l3):
            values.append(
                SampledValueType(
                    value=round(power_w / PHASE_VOLTAGE / 3, 2),
                    context=reading_context,
                    measurand=MeasurandEnumType.current_import,
                    phase=phase,
                    unit_of_measure=UnitOfMeasureType(unit="A"),
                )
            )
        return MeterValueType(timestamp=stamp(self.at), sampled_value=values)

    @property
    def public_key_text(self) -> str:
        """The meter's public key as 2.0.1 carries it: base64 of the OCA key text."""
        if self.signing_key is None:
            return ""
        der = self.signing_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(f"oca:base16:asn1:{der.hex()}".encode()).decode()

    def ocmf(self, context: str) -> str:
        """An OCMF record of the transaction's begin (and end) reading, signed."""
        assert self.signing_key is not None
        assert self._begin is not None

        begin_at, begin_wh = self._begin
        readings = [ocmf_reading(begin_at, "B", begin_wh)]
        if context == "Transaction.End":
            readings.append(ocmf_reading(self.at, "E", self.register_wh))
        return signed_ocmf(
            {
                "FV": "1.0",
                "GI": self.vendor,
                "GS": self.serial,
                "GV": self.firmware,
                "PG": f"T{self.seq_no}",
                "IS": True,
                "IT": "ISO14443",
                "RD": readings,
            },
            self.signing_key,
        )

    # -- messages ------------------------------------------------------------------------

    async def boot(self, reason: str = "PowerUp") -> str:
        """BootNotification; returns Accepted, Pending or Rejected."""
        result = await self.send(
            call.BootNotification(
                charging_station=ChargingStationType(
                    vendor_name=self.vendor,
                    model=self.model,
                    serial_number=self.serial,
                    firmware_version=self.firmware,
                ),
                reason=BootReasonEnumType(reason),
            )
        )
        self.registration = str(result.status)
        self.heartbeat_interval = int(result.interval)
        if self.registration == "Accepted":
            self._accepted.set()
        return self.registration

    async def wait_accepted(self, timeout: float = 10) -> None:
        """Until a BootNotification was accepted (the central system triggers one)."""
        await asyncio.wait_for(self._accepted.wait(), timeout)

    async def heartbeat(self) -> str:
        """Heartbeat; returns the central system's time."""
        return str((await self.send(call.Heartbeat())).current_time)

    async def status(self, connector_status: str) -> None:
        """StatusNotification of EVSE 1, connector 1 (Available, Occupied, Faulted, ...)."""
        await self.send(
            call.StatusNotification(
                timestamp=stamp(self.at),
                connector_status=ConnectorStatusEnumType(connector_status),
                evse_id=1,
                connector_id=1,
            )
        )

    async def problem(self, tech_code: str, *, active: bool = True) -> None:
        """NotifyEvent: the EVSE's `Problem` variable set (or cleared), with a techCode."""
        await self.send(
            call.NotifyEvent(
                generated_at=stamp(self.at),
                seq_no=0,
                event_data=[
                    EventDataType(
                        event_id=1,
                        timestamp=stamp(self.at),
                        trigger=EventTriggerEnumType.delta,
                        actual_value="true" if active else "false",
                        tech_code=tech_code,
                        cleared=not active,
                        event_notification_type=EventNotificationEnumType.hard_wired_notification,
                        component=ComponentType(name="EVSE", evse=EVSEType(id=1)),
                        variable=VariableType(name="Problem"),
                    )
                ],
            )
        )

    async def meter_values(self, context: str = "Sample.Clock") -> None:
        """MeterValues of EVSE 1 outside a transaction (triggered or clock-aligned)."""
        power = 0 if self.charging_state != "Charging" else self._power_w
        await self.send(call.MeterValues(evse_id=1, meter_value=[self._sampled(context, power)]))

    async def authorize(self, token: str) -> str:
        """Authorize an ISO 14443 card; returns idTokenInfo.status."""
        result = await self.send(call.Authorize(id_token=_card(token)))
        status = str(result.id_token_info["status"])
        self.answers.append(status)
        return status

    async def plug_in(self, *, start: bool = False) -> None:
        """The cable goes in: the connector is Occupied.

        With `start` the transaction begins with the cable (TxStartPoint EVConnected, a
        common default): TransactionEvent Started without a card; `present_card` follows.
        """
        await self.status("Occupied")
        if start:
            self._open_transaction()
            await self._event(
                "Started",
                "CablePluggedIn",
                meter_value=[self._sampled("Transaction.Begin", 0)],
            )

    def _open_transaction(self) -> None:
        self.transaction_id = str(uuid.uuid4())
        self.seq_no = 0
        self._begin = (self.at, self.register_wh)
        self.charging_state = "EVConnected"

    async def present_card(self, token: str) -> str:
        """A card at the running transaction: Authorize, then Updated with the idToken.

        Returns the answer to the Updated event (the CSMS must verify the token there too).
        """
        assert self.transaction_id is not None, "plug in with start=True first"
        if await self.authorize(token) != "Accepted":
            return self.answers[-1]
        result = await self._event("Updated", "Authorized", id_token=_card(token))
        status = "Accepted" if result is None else str(result.id_token_info["status"])
        self.answers.append(status)
        return status

    async def start_transaction(self, token: str) -> str:
        """TransactionEvent Started (the card authorized it); returns the card's answer.

        A card the central system refuses ends the transaction at once (DeAuthorized), as
        a station with StopTxOnInvalidId does.
        """
        self._open_transaction()
        result = await self._event(
            "Started",
            "Authorized",
            meter_value=[self._sampled("Transaction.Begin", 0)],
            id_token=_card(token),
        )
        status = "Accepted" if result is None else str(result.id_token_info["status"])
        self.answers.append(status)
        if status != "Accepted":
            await self.stop_transaction("DeAuthorized", trigger="Deauthorized")
        return status

    async def start_charging(self, power_w: float) -> None:
        """The car draws current: TransactionEvent Updated, chargingState Charging."""
        self.charging_state = "Charging"
        self._power_w = power_w
        await self._event(
            "Updated",
            "ChargingStateChanged",
            meter_value=[self._sampled("Sample.Periodic", power_w)],
        )

    async def charge(self, seconds: int, power_w: float, *, samples: int = 1) -> None:
        """Charge at `power_w` for `seconds`, with `samples` periodic TransactionEvents."""
        step = Fraction(seconds, samples)
        for _ in range(samples):
            self.at += timedelta(seconds=float(step))
            self.register += Fraction(power_w) * step / 3600
            await self._event(
                "Updated",
                "MeterValuePeriodic",
                meter_value=[self._sampled("Sample.Periodic", power_w)],
            )

    async def stop_transaction(
        self, reason: str = "Local", *, trigger: str = "StopAuthorized"
    ) -> None:
        """TransactionEvent Ended at the current register; the car stays plugged in."""
        assert self.transaction_id is not None, "no transaction"
        self.charging_state = "EVConnected"
        await self._event(
            "Ended",
            trigger,
            meter_value=[self._sampled("Transaction.End", 0, signed=True)],
            stopped_reason=reason,
        )
        self.transaction_id = None
        self.charging_state = None

    async def unplug(self) -> None:
        """The cable comes out: the connector is Available."""
        await self.status("Available")

    async def _event(
        self,
        event_type: str,
        trigger: str,
        *,
        meter_value: list[MeterValueType] | None = None,
        id_token: IdTokenType | None = None,
        stopped_reason: str | None = None,
    ) -> Any:
        assert self.transaction_id is not None
        info = TransactionType(
            transaction_id=self.transaction_id,
            charging_state=None
            if self.charging_state is None
            else ChargingStateEnumType(self.charging_state),
            stopped_reason=None if stopped_reason is None else ReasonEnumType(stopped_reason),
        )
        event = call.TransactionEvent(
            event_type=TransactionEventEnumType(event_type),
            timestamp=stamp(self.at),
            trigger_reason=TriggerReasonEnumType(trigger),
            seq_no=self.seq_no,
            transaction_info=info,
            meter_value=meter_value,
            id_token=id_token,
            evse=EVSEType(id=1, connector_id=1),
            offline=None if self.connected else True,
        )
        self.seq_no += 1
        self.events.append(event)
        if not self.connected or self._queue:
            self._queue.append(event)  # in order: behind what waits already
            return None
        return await self.send(event)

    async def updated(self, meter_value: list[MeterValueType]) -> Any:
        """An Updated event of the running transaction with these meter values (as given)."""
        return await self._event("Updated", "MeterValuePeriodic", meter_value=meter_value)

    async def repeat(self, event: call.TransactionEvent) -> Any:
        """Send an event again, as a station does whose confirmation was lost."""
        return await self.send(event)

    @property
    def queued(self) -> int:
        """Transaction events waiting for the connection."""
        return len(self._queue)

    async def deliver_queued(self) -> None:
        """Send the events queued while offline, oldest first."""
        while self._queue:
            await self.send(self._queue[0])
            self._queue.pop(0)

    # -- signals: the limits offered to the vehicle and its state of charge --------------

    async def signals(
        self,
        *,
        current_offered: float | None = None,
        power_offered: float | None = None,
        power_multiplier: int = 0,
        soc: float | None = None,
    ) -> None:
        """One MeterValues with Current.Offered (A), Power.Offered (W times 10^
        `power_multiplier`) and the vehicle's SoC (Percent, location EV), each as given
        (NaN and huge numbers too: JSON numbers as Python writes them)."""
        # Imported here, so this section stays apart from the module's shared imports.
        from ocpp.v201.enums import LocationEnumType

        context = ReadingContextEnumType.sample_periodic
        values: list[SampledValueType] = []
        if current_offered is not None:
            values.append(
                SampledValueType(
                    value=current_offered,
                    context=context,
                    measurand=MeasurandEnumType.current_offered,
                    unit_of_measure=UnitOfMeasureType(unit="A"),
                )
            )
        if power_offered is not None:
            values.append(
                SampledValueType(
                    value=power_offered,
                    context=context,
                    measurand=MeasurandEnumType.power_offered,
                    unit_of_measure=UnitOfMeasureType(unit="W", multiplier=power_multiplier),
                )
            )
        if soc is not None:
            values.append(
                SampledValueType(
                    value=soc,
                    context=context,
                    measurand=MeasurandEnumType.soc,
                    location=LocationEnumType.ev,
                    unit_of_measure=UnitOfMeasureType(unit="Percent"),
                )
            )
        meter_value = MeterValueType(timestamp=stamp(self.at), sampled_value=values)
        await self.send(call.MeterValues(evse_id=1, meter_value=[meter_value]))
