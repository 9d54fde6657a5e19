"""The OCPP 2.0.1 messages of one connected charging station, answered for Home Assistant.

The same design as the 1.6 charge point: the same charger state, discovery (`Pending`
until the user accepts), allow-list and transaction book. What differs is the protocol:
one TransactionEvent (Started/Updated/Ended) instead of Start/StopTransaction and
MeterValues, a transaction id the station chooses, connector status separate from the
charging state, and the device model (SetVariables) instead of configuration keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from homeassistant.core import HomeAssistant
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.datatypes import IdTokenInfoType
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    MessageTriggerEnumType,
    RegistrationStatusEnumType,
    TransactionEventEnumType,
)

from ..const import LOGGER
from ..session.late import FLAG_STOP_MISSING_NEW_TRANSACTION
from .charge_point_common import CentralConnection
from .charger import BootInfo, OcppCharger
from .connection import WebSocketConnection
from .const import (
    HEARTBEAT_INTERVAL_S,
    PENDING_INTERVAL_S,
)
from .late_transactions import async_record_late, keep_reading, note_start, started
from .lost_transactions import (
    async_check_lost,
    async_end_lost,
    async_note_boot,
    end_after_lost,
    note_kept,
)
from .message_time import MessageTime, message_time, now_iso
from .meter_setup_201 import async_configure_meter_201
from .meter_values import MeterSample
from .meter_values_201 import parse_meter_values_201
from .registry import OcppRegistry
from .signed import signed_values_201
from .station_status import NO_AUTHORIZATION, STATUS_201, station_status
from .transactions import MAIN_CONNECTOR, OpenTransaction

type _Handler = Callable[..., Any]

# The library's decorators, typed: they mark a method as the handler of a 2.0.1 action.
handles = cast(Callable[[Action], Callable[[_Handler], _Handler]], on)
after_handling = cast(Callable[[Action], Callable[[_Handler], _Handler]], after)


class CentralChargingStation(CentralConnection, ChargePoint):
    """One OCPP 2.0.1 charging station's connection to the central system."""

    boot_trigger = (
        call.TriggerMessage,
        {"requested_message": MessageTriggerEnumType.boot_notification},
    )

    def __init__(
        self,
        hass: HomeAssistant,
        registry: OcppRegistry,
        charge_point_id: str,
        connection: WebSocketConnection,
    ) -> None:
        """Answer the messages of `charge_point_id` arriving on `connection`."""
        super().__init__(hass, registry, charge_point_id, connection)
        self.connector_status: str | None = None
        # What the car does, as TransactionEvent reports it; forgotten when the connector is
        # Available again.
        self.charging_state: str | None = None
        # The problems NotifyEvent reported and that are not cleared yet: component ->
        # techCode (None when it gave none).
        self.problems: dict[str, str | None] = {}
        # Whom the token of the event being handled names, when it was decided late.
        self._late_attribution: dict[str, Any] | None = None
        # A reboot opens a new connection: only its first BootNotification is one (those
        # after it answer our TriggerMessage).
        self._booted = False

    def _update_status(self) -> None:
        charger = self.charger
        if charger is None:
            return
        status = station_status(
            self.connector_status, self.charging_state, charger.transaction is not None
        )
        if status is None:
            return
        # 2.0.1 has no error codes of its own: a component's Problem, or Faulted, is 1.6's
        # OtherError, with the component and its techCode as info and vendor error code.
        component, tech_code = next(iter(self.problems.items()), (None, None))
        error = "OtherError" if component is not None or status == "Faulted" else None
        charger.set_status(status, error, {"info": component, "vendor_error_code": tech_code})

    async def _authorize(
        self, id_token: Mapping[str, Any], *, late: bool = False
    ) -> IdTokenInfoType:
        """The token's answer; `late`: of a queued event, decided without telling anyone
        that someone is at the station (late_authorization.py)."""
        if (charger := self.charger) is None:
            # Not accepted yet: no card counts, whoever it is.
            return IdTokenInfoType(status=AuthorizationStatusEnumType.invalid)
        token = str(id_token.get("id_token", ""))
        if late:
            status, self._late_attribution = await charger.authorize_late(token)
        else:
            status = await charger.authorize(token)
        return IdTokenInfoType(status=STATUS_201.get(status, AuthorizationStatusEnumType.invalid))

    # -- provisioning ----------------------------------------------------------------------

    @handles(Action.boot_notification)
    async def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **_: Any
    ) -> call_result.BootNotification:
        self.boot = BootInfo(
            vendor=str(charging_station["vendor_name"]),
            model=str(charging_station["model"]),
            serial=charging_station.get("serial_number"),
            firmware=charging_station.get("firmware_version"),
        )
        rebooted, self._booted = not self._booted, True
        if self.charger is not None:
            if rebooted:
                await async_note_boot(self.registry, self.id)
            LOGGER.info(
                "OCPP 2.0.1 station %s booted (%s): %s %s",
                self.id,
                reason,
                self.boot.vendor,
                self.boot.model,
            )
            return call_result.BootNotification(
                current_time=now_iso(),
                interval=HEARTBEAT_INTERVAL_S,
                status=RegistrationStatusEnumType.accepted,
            )
        self.registry.async_offer(self.id, self.boot)
        return call_result.BootNotification(
            current_time=now_iso(),
            interval=PENDING_INTERVAL_S,
            status=RegistrationStatusEnumType.pending,
        )

    @after_handling(Action.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        if (charger := self.charger) is not None:
            # Measurands first: limits and the local list (control.py) come after.
            self.booted_accepted(charger)

    async def async_configure(self, charger: OcppCharger) -> None:
        """Ask for the measurands and interval its model can send (SetVariables), then for
        the register now (TriggerMessage MeterValues).

        A variable the station rejects or does not know is logged, never fatal: it then
        reports what it was set up to report. 2.0.1 stations report meter values only in
        transactions unless asked: without the register before the first plug-in, the
        session would begin only at the transaction's start, after the card was presented.
        """
        quirks = charger.quirks = self.quirks
        charger.measurands = await async_configure_meter_201(self.call, self.id, quirks)
        try:
            await self.call(
                call.TriggerMessage(requested_message=MessageTriggerEnumType.meter_values)
            )
        except Exception as err:
            LOGGER.debug("%s did not report its register when asked: %s", self.id, err)

    @handles(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        await async_check_lost(self.registry, self.charger)
        return call_result.Heartbeat(current_time=now_iso())

    @handles(Action.security_event_notification)
    def on_security_event_notification(self, **event: Any) -> call_result.SecurityEventNotification:
        LOGGER.info("OCPP 2.0.1 station %s reports security event %s", self.id, event.get("type"))
        return call_result.SecurityEventNotification()

    # -- status and faults -----------------------------------------------------------------

    @handles(Action.status_notification)
    async def on_status_notification(
        self, connector_status: str, evse_id: int, **_: Any
    ) -> call_result.StatusNotification:
        if evse_id == MAIN_CONNECTOR:  # 0 is the whole station; others are not followed
            self.connector_status = connector_status
            if connector_status == "Available":
                self.charging_state = None  # the car left; the next one starts afresh
            self._update_status()
            await async_check_lost(self.registry, self.charger)
        return call_result.StatusNotification()

    @handles(Action.notify_event)
    def on_notify_event(
        self, event_data: list[dict[str, Any]], **_: Any
    ) -> call_result.NotifyEvent:
        """A component's `Problem` variable is a fault (with its techCode)."""
        changed = False
        for event in event_data:
            if event.get("variable", {}).get("name") != "Problem":
                continue
            component = str(event.get("component", {}).get("name", "ChargingStation"))
            active = str(event.get("actual_value", "")).lower() == "true" and not event.get(
                "cleared"
            )
            if active:
                tech_code = event.get("tech_code")
                self.problems[component] = None if tech_code is None else str(tech_code)
            else:
                self.problems.pop(component, None)
            changed = True
        if changed:
            self._update_status()
        return call_result.NotifyEvent()

    # -- authorization and transactions ----------------------------------------------------

    @handles(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_token_info=await self._authorize(id_token))

    @handles(Action.meter_values)
    def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> call_result.MeterValues:
        if (charger := self.charger) is not None and evse_id == MAIN_CONNECTOR:
            charger.signed.add(signed_values_201(meter_value))
            charger.set_meter(parse_meter_values_201(meter_value))
        return call_result.MeterValues()

    @handles(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        meter_value: list[dict[str, Any]] | None = None,
        id_token: dict[str, Any] | None = None,
        evse: dict[str, Any] | None = None,
        offline: bool = False,
        **_: Any,
    ) -> call_result.TransactionEvent:
        """Started, Updated, Ended: answered whatever happened (it retries until confirmed).

        A repeated event (same seqNo, or any event of a transaction that ended) changes
        nothing; its card is still answered (the station asks for the answer again).
        """
        token_info = None
        token = None
        station_id = str(transaction_info["transaction_id"])
        book = self.registry.book
        evse_id = (evse or {}).get("id")
        named = id_token is not None and id_token.get("type") != NO_AUTHORIZATION
        if book.is_refused_station(self.id, station_id) or evse_id not in (None, MAIN_CONNECTOR):
            return await self._async_refuse_evse(station_id, evse_id, named)
        queued = self._time(timestamp, offline=offline).late
        self._late_attribution = None
        if id_token is not None and named:
            token = str(id_token.get("id_token", ""))
            token_info = await self._authorize(id_token, late=queued)
        if book.station_ended(self.id, station_id):
            if event_type == TransactionEventEnumType.ended:
                end_after_lost(self.registry, self.id, station_id)
            return call_result.TransactionEvent(id_token_info=token_info)
        ended = event_type == TransactionEventEnumType.ended
        sample = parse_meter_values_201(meter_value or [])
        transaction = book.station_transaction(self.id, station_id)
        if transaction is None and ended and book.open.get(self.id) is not None:
            # The end of a transaction never seen, while another one runs: confirmed, and
            # the running one stays.
            LOGGER.info("%s ended transaction %s, which it never started", self.id, station_id)
            return call_result.TransactionEvent(id_token_info=token_info)
        if transaction is None:
            # Started, or a later event whose Started the station gave up delivering. Its
            # events come in order: the end of one still open will not come.
            charger = await self.registry.async_loaded_charger(self.id)
            await async_end_lost(self.registry, self.id, charger, FLAG_STOP_MISSING_NEW_TRANSACTION)
            transaction = book.start_station(
                self.id,
                station_id,
                int((evse or {}).get("connector_id", 1)),
                token or "",
                round(sample.values.get("energy", 0.0)),
                timestamp,
            )
            note_start(transaction, self._time(timestamp))
            opened = True
        else:
            opened = False
            note_kept(transaction)  # an event of it after a boot: the station kept it
        if not book.take_seq_no(self.id, seq_no):
            LOGGER.debug("%s repeated TransactionEvent %s of %s", self.id, seq_no, station_id)
            return call_result.TransactionEvent(id_token_info=token_info)
        # Queued while offline: the station says so, or its time is before this connection.
        moment = self._time(timestamp, not_before=started(transaction), offline=offline)
        late = moment.late
        transaction.late = transaction.late or late
        self._keep_readings(transaction, meter_value or [], offline=offline)
        # While Home Assistant starts, the queue may come before the station's entry loads.
        charger = await self.registry.async_loaded_charger(self.id)
        if token is not None:
            book.identify_station(self.id, token)
            if charger is not None and transaction.attribution is None:
                # Whom the card names, for a record made from late events (as in 1.6).
                transaction.attribution = self._late_attribution or charger.attribution()
        if ended and charger is not None and charger.record_late is not None and transaction.late:
            await self._end_late(charger, transaction, moment, sample, meter_value or [])
            return call_result.TransactionEvent(id_token_info=token_info)
        if ended:
            book.stop_station(self.id, station_id)
        await self.registry.async_save()
        if late:
            LOGGER.debug("%s delivers %s of %s late", self.id, event_type, station_id)
        if charger is not None:
            if late:
                # Its signed values go with the record; its numbers are no live values.
                charger.signed.add(signed_values_201(meter_value or []))
                if ended:  # nothing records it (no sessions): the charger is free again
                    self._apply(charger, transaction.transaction_id, False, ended, sample)
                    self._update_status()
                return call_result.TransactionEvent(id_token_info=token_info)
            self._apply(charger, transaction.transaction_id, opened, ended, sample)
            # After the transaction: a new one begins its signed values afresh, and the
            # sample's exact register replaces the rounded one the transaction noted.
            charger.signed.add(signed_values_201(meter_value or []))
            charger.set_meter(sample)
            if (state := transaction_info.get("charging_state")) is not None:
                self.charging_state = str(state)
            self._update_status()
        return call_result.TransactionEvent(id_token_info=token_info)

    async def _async_refuse_evse(
        self, station_id: str, evse_id: object, with_token: bool
    ) -> call_result.TransactionEvent:
        """A transaction on another EVSE than 1: refused, never merged (as 1.6's other
        connectors): its token is answered Invalid, the user told by a repair issue."""
        if self.registry.book.refuse_station(self.id, station_id):
            await self.registry.async_save()
            LOGGER.warning(
                "%s began transaction %s on EVSE %s; only EVSE %s is recorded, so it was refused",
                self.id,
                station_id,
                evse_id,
                MAIN_CONNECTOR,
            )
            if (charger := self.charger) is not None and isinstance(evse_id, int):
                charger.on_connector_refused(evse_id)
        if not with_token:
            return call_result.TransactionEvent()
        return call_result.TransactionEvent(
            id_token_info=IdTokenInfoType(status=AuthorizationStatusEnumType.invalid)
        )

    def _time(
        self, timestamp: object, not_before: datetime | None = None, *, offline: bool = False
    ) -> MessageTime:
        moment = message_time(
            timestamp,
            arrival=datetime.now(UTC),
            connected_at=self.connected_at,
            not_before=not_before,
        )
        return dataclasses.replace(moment, late=True) if offline else moment

    def _keep_readings(
        self, transaction: OpenTransaction, meter_value: list[dict[str, Any]], *, offline: bool
    ) -> None:
        """Keep the event's stamped registers with its transaction (recorded from them
        if any of its events came late)."""
        since = started(transaction)
        for entry in meter_value:
            energy = parse_meter_values_201([entry]).values.get("energy")
            if energy is not None:
                moment = self._time(entry.get("timestamp"), not_before=since, offline=offline)
                keep_reading(transaction, moment, energy)

    async def _end_late(
        self,
        charger: OcppCharger,
        transaction: OpenTransaction,
        moment: MessageTime,
        sample: MeterSample,
        meter_value: list[dict[str, Any]],
    ) -> None:
        """The end of a transaction with queued events: recorded at the station's times
        from its own registers (late_transactions.py), then closed."""
        energy = sample.values.get("energy")
        if energy is None:
            energy = transaction.readings[-1][1] if transaction.readings else None
        meter_stop = transaction.meter_start if energy is None else round(energy)
        charger.signed.add(signed_values_201(meter_value))
        await async_record_late(self.registry, self.id, charger, transaction, moment, meter_stop)
        assert transaction.station_transaction_id is not None
        self.registry.book.stop_station(self.id, transaction.station_transaction_id)
        await self.registry.async_save()
        self.charging_state = None
        charger.set_transaction(None, meter_stop)
        self._update_status()

    def _apply(
        self,
        charger: OcppCharger,
        transaction_id: int,
        opened: bool,
        ended: bool,
        sample: MeterSample,
    ) -> None:
        """The event's effect on the charger's transaction (its meter values follow)."""
        current = self.registry.book.open.get(self.id)
        energy = sample.values.get("energy", charger.values.get("energy"))
        if opened and not ended:
            charger.on_new_transaction()  # a session again, even with the car still there
        if ended:
            if charger.transaction is not None and charger.transaction.transaction_id == (
                transaction_id
            ):
                self.charging_state = None
                if energy is None:
                    charger.transaction = None
                else:
                    charger.set_transaction(None, round(energy))
        elif opened and energy is not None:
            charger.set_transaction(current, round(energy))
        else:
            charger.transaction = current  # its card or seqNos noted, or no register yet
