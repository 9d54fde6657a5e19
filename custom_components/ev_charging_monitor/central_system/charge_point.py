"""The OCPP 1.6 messages of one connected charger, answered for Home Assistant.

A charger without an entry is told `Pending` and offered as a discovery; everything it
sends before it is accepted is answered (OCPP wants every transaction message confirmed)
but counts for nothing: its cards are `Invalid`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, cast

from homeassistant.core import HomeAssistant
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    MessageTrigger,
    RegistrationStatus,
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
from .late_signed import LateOutcome
from .late_transactions import async_record_late, keep_reading, note_start, started
from .lost_transactions import (
    async_check_lost,
    async_end_lost,
    async_note_boot,
    note_kept,
    stop_after_lost,
)
from .message_time import MessageTime, message_time, now_iso
from .meter_setup import async_configure_meter, tolerate_nonstandard_contexts
from .meter_values import parse_meter_values
from .registry import OcppRegistry
from .signed import from_data_transfer, transfer_refusal
from .transactions import MAIN_CONNECTOR, OpenTransaction

type _Handler = Callable[..., Any]
# Connectors whose meter keys are read at most (a charger that claims more is mistaken).
MAX_CONNECTORS: Final = 8


def _id_tag_info(status: str) -> IdTagInfo:
    return IdTagInfo(status=AuthorizationStatus(status))


# The library's decorator, typed: it marks a method as the handler of an action.
handles = cast(Callable[[Action], Callable[[_Handler], _Handler]], on)
after_handling = cast(Callable[[Action], Callable[[_Handler], _Handler]], after)


class CentralChargePoint(CentralConnection, ChargePoint):
    """One charger's connection to the central system."""

    boot_trigger = (
        call.TriggerMessage,
        {"requested_message": MessageTrigger.boot_notification},
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
        # A reboot opens a new connection: only its first BootNotification is one (those
        # after it answer our TriggerMessage).
        self._booted = False

    @handles(Action.boot_notification)
    async def on_boot_notification(self, **payload: Any) -> call_result.BootNotification:
        self.boot = BootInfo.from_payload(payload)
        tolerate_nonstandard_contexts(self.route_map, self.quirks)
        rebooted, self._booted = not self._booted, True
        if self.charger is not None:
            LOGGER.info("OCPP charger %s booted: %s %s", self.id, self.boot.vendor, self.boot.model)
            if rebooted:
                await async_note_boot(self.registry, self.id)
            return call_result.BootNotification(
                current_time=now_iso(),
                interval=HEARTBEAT_INTERVAL_S,
                status=RegistrationStatus.accepted,
            )
        self.registry.async_offer(self.id, self.boot)
        return call_result.BootNotification(
            current_time=now_iso(), interval=PENDING_INTERVAL_S, status=RegistrationStatus.pending
        )

    @after_handling(Action.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        if (charger := self.charger) is not None:
            # Measurands and key first: limits and the local list (control.py) come after.
            self.booted_accepted(charger)

    async def async_configure(self, charger: OcppCharger) -> None:
        """Ask for the measurands and interval its model can send; read the public key.

        A key the charger rejects or does not know is logged, never fatal: it then reports
        what it was set up to report.
        """
        charger.quirks = self.quirks
        charger.measurands = await async_configure_meter(self.call, self.id, self.quirks)
        await self.async_read_public_key(charger)

    async def async_read_public_key(self, charger: OcppCharger) -> None:
        """The meter's public key for signed values (OCA: MeterPublicKey1), if it has one;
        where each connector has a meter of its own, every connector's (MeterPublicKey2...).
        """
        signed = self.quirks.signed
        if (first := signed.public_key_name(1)) is None:
            return
        if (key := await self._configuration_value(first)) is None:
            return
        charger.signed.set_charger_key(key)
        if not signed.key_per_connector:
            return
        count = await self._configuration_value("NumberOfConnectors")
        connectors = int(count) if count is not None and count.strip().isdigit() else 1
        for connector_id in range(2, min(connectors, MAX_CONNECTORS) + 1):
            name = signed.public_key_name(connector_id)
            if name is not None and (key := await self._configuration_value(name)) is not None:
                charger.signed.set_charger_key(key, connector_id)

    async def _configuration_value(self, name: str) -> str | None:
        """A configuration key's value (GetConfiguration); None when it has none."""
        try:
            result = await self.call(call.GetConfiguration(key=[name]))
        except Exception as err:
            LOGGER.debug("%s did not give its %s: %s", self.id, name, err)
            return None
        for item in getattr(result, "configuration_key", None) or []:
            if item.get("key") == name and item.get("value"):
                return str(item["value"])
        return None

    @handles(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        await async_check_lost(self.registry, self.charger)
        return call_result.Heartbeat(current_time=now_iso())

    @handles(Action.status_notification)
    async def on_status_notification(
        self,
        connector_id: int,
        error_code: str,
        status: str,
        info: str | None = None,
        vendor_id: str | None = None,
        vendor_error_code: str | None = None,
        **_: Any,
    ) -> call_result.StatusNotification:
        if (charger := self.charger) is not None:
            if connector_id == MAIN_CONNECTOR and status == "Charging":
                note_kept(self.registry.book.open.get(self.id))
            details = {"info": info, "vendor_id": vendor_id, "vendor_error_code": vendor_error_code}
            charger.set_status(status, error_code, details, connector_id=connector_id)
            await async_check_lost(self.registry, charger)
        return call_result.StatusNotification()

    @handles(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        status: str = AuthorizationStatus.invalid
        if (charger := self.charger) is not None:
            status = await charger.authorize(id_tag)
        return call_result.Authorize(id_tag_info=_id_tag_info(status))

    @handles(Action.start_transaction)
    async def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> call_result.StartTransaction:
        # Confirmed whatever the card: a charger retries an unconfirmed start for ever.
        charger = await self._loaded_charger()
        book = self.registry.book
        if connector_id != MAIN_CONNECTOR:
            return await self._async_refuse_connector(charger, connector_id)
        if book.repeated_start(self.id, connector_id, id_tag, meter_start, timestamp) is None:
            # Its transaction messages come in order: the open one's stop will not come.
            await async_end_lost(self.registry, self.id, charger, FLAG_STOP_MISSING_NEW_TRANSACTION)
        transaction, new = book.start(self.id, connector_id, id_tag, meter_start, timestamp)
        if new:
            note_start(transaction, self._time(transaction.timestamp))
        await self.registry.async_save()
        status: str = AuthorizationStatus.invalid
        if charger is not None:
            if transaction.late:
                # Queued: nobody stands at the charger now; decided without telling anyone.
                status, attribution = await charger.authorize_late(id_tag)
            else:
                status = await charger.authorize(id_tag)
                attribution = charger.attribution()
            if new:
                transaction.attribution = attribution
                await self.registry.async_save()
            is_open = book.open.get(self.id) is transaction
            if is_open and not transaction.late and (new or charger.transaction is None):
                if new:
                    charger.on_new_transaction()
                charger.set_transaction(transaction, meter_start)
        return call_result.StartTransaction(
            transaction_id=transaction.transaction_id, id_tag_info=_id_tag_info(status)
        )

    async def _async_refuse_connector(
        self, charger: OcppCharger | None, connector_id: int
    ) -> call_result.StartTransaction:
        """A transaction on a connector the sessions do not follow: refused, never merged.

        The charger is one device with one session at a time (connector 1's). `Invalid`
        makes a charger that stops on an invalid id (StopTransactionOnInvalidId) end it;
        the user is told by a repair issue naming the connector.
        """
        transaction_id = self.registry.book.refuse(self.id)
        await self.registry.async_save()
        LOGGER.warning(
            "%s started transaction %s on connector %s; only connector %s is recorded, so it "
            "was refused",
            self.id,
            transaction_id,
            connector_id,
            MAIN_CONNECTOR,
        )
        if charger is not None:
            charger.on_connector_refused(connector_id)
        return call_result.StartTransaction(
            transaction_id=transaction_id, id_tag_info=_id_tag_info(AuthorizationStatus.invalid)
        )

    def _time(self, timestamp: object, not_before: datetime | None = None) -> MessageTime:
        return message_time(
            timestamp,
            arrival=datetime.now(UTC),
            connected_at=self.connected_at,
            not_before=not_before,
        )

    @handles(Action.stop_transaction)
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        transaction_data: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.StopTransaction:
        charger = await self._loaded_charger()
        if self.registry.book.is_refused(self.id, transaction_id):
            LOGGER.info("%s stopped refused transaction %s", self.id, transaction_id)
            return call_result.StopTransaction()
        current = self.registry.book.find(self.id, transaction_id)
        if current is not None and charger is not None and charger.record_late is not None:
            moment = self._time(timestamp, not_before=started(current))
            if moment.late or current.late:
                await self._record_late(charger, current, moment, meter_stop, transaction_data)
        stopped = self.registry.book.stop(self.id, transaction_id)
        if stopped is not None:
            await self.registry.async_save()
        elif stop_after_lost(self.registry, self.id, transaction_id):
            return call_result.StopTransaction()  # recorded when it was ended without it
        if charger is not None:
            if transaction_data and not (stopped is not None and stopped.late):
                charger.set_meter(parse_meter_values(transaction_data))
            if stopped is not None:
                charger.set_transaction(None, meter_stop)
        return call_result.StopTransaction()

    async def _record_late(
        self,
        charger: OcppCharger,
        transaction: OpenTransaction,
        moment: MessageTime,
        meter_stop: int,
        transaction_data: list[dict[str, Any]] | None,
    ) -> None:
        """Record a transaction with queued messages at the times the charger names."""
        if transaction_data:
            # Signed values of the stop; its registers are old and stay out of the live ones.
            charger.signed.extend(parse_meter_values(transaction_data).signed)
        await async_record_late(self.registry, self.id, charger, transaction, moment, meter_stop)

    @handles(Action.data_transfer)
    async def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None, **_: Any
    ) -> call_result.DataTransfer:
        # Only signed meter values travel this way to us (signed_transfers.json).
        values = from_data_transfer(vendor_id, message_id, data)
        if values is None:
            return call_result.DataTransfer(status=DataTransferStatus(transfer_refusal(vendor_id)))
        if (charger := self.charger) is not None and values:
            # Some firmwares sign the end reading after StopTransaction (late_signed.py).
            result = await charger.add_signed(values)
            if result.outcome is LateOutcome.REFUSED:
                return call_result.DataTransfer(
                    status=DataTransferStatus.rejected, data=result.reason
                )
        return call_result.DataTransfer(status=DataTransferStatus.accepted)

    @handles(Action.meter_values)
    async def on_meter_values(
        self,
        connector_id: int,
        meter_value: list[dict[str, Any]],
        transaction_id: int | None = None,
        **_: Any,
    ) -> call_result.MeterValues:
        charger = await self._loaded_charger()
        if connector_id != MAIN_CONNECTOR:
            # The whole charger's meter (0), or a connector whose transactions are refused.
            return call_result.MeterValues()
        if charger is not None:
            sample = parse_meter_values(meter_value)
            if self._keep_readings(transaction_id, meter_value):
                # Queued: its signed values go with the record, its numbers are not live.
                charger.signed.extend(sample.signed)
            else:
                charger.set_meter(sample)
        return call_result.MeterValues()

    def _keep_readings(self, transaction_id: int | None, meter_value: list[dict[str, Any]]) -> bool:
        """Keep the stamped registers with their transaction; True when the message was
        queued (its values are no live values: they are recorded at their own times)."""
        transaction = self.registry.book.find(self.id, transaction_id)
        if transaction is not None and transaction_id == transaction.transaction_id:
            note_kept(transaction)  # its own meter values after a boot: not lost
        elif transaction is not None and transaction.rebooted_at is not None:
            transaction = None  # after a boot, values without its id may be of no transaction
        since = None if transaction is None else started(transaction)
        late = False
        kept = False
        for entry in meter_value:
            moment = self._time(entry.get("timestamp"), not_before=since)
            late = late or moment.late
            energy = parse_meter_values([entry]).values.get("energy")
            if transaction is None or energy is None:
                continue
            kept = keep_reading(transaction, moment, energy) or kept
        if kept and late:
            self.registry.async_save_soon()
        return late
