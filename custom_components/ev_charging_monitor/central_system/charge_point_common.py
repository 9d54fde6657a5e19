"""What the OCPP 1.6 and 2.0.1 charge points share: who they are, their model's quirks,
their charger state, the boot trigger and what follows an accepted boot, and the marker of
a message being handled (control.py).

Each protocol's charge point derives from this and from its `ocpp` library version's
ChargePoint (which adds only the version's messages and schemas to the same base).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import uuid4

from homeassistant.core import HomeAssistant
from ocpp.charge_point import ChargePoint
from ocpp.messages import MessageType

from ..const import LOGGER
from .charger import BootInfo, OcppCharger
from .connection import WebSocketConnection
from .control import HANDLING
from .quirks import DEFAULT_QUIRKS, Quirks, quirks_for
from .registry import OcppRegistry


class CentralConnection(ChargePoint):
    """One charger's connection to the central system, whatever its OCPP version."""

    # The version's TriggerMessage for a BootNotification (`ocpp` call payload class and
    # its arguments).
    boot_trigger: ClassVar[tuple[type[Any], dict[str, Any]]]

    def __init__(
        self,
        hass: HomeAssistant,
        registry: OcppRegistry,
        charge_point_id: str,
        connection: WebSocketConnection,
    ) -> None:
        """Answer the messages of `charge_point_id` arriving on `connection`."""
        super().__init__(charge_point_id, connection)  # type: ignore[no-untyped-call]
        self.socket = connection
        self.hass = hass
        self.registry = registry
        self.boot: BootInfo | None = None
        # Messages stamped before this are queued ones (message_time.py).
        self.connected_at = datetime.now(UTC)
        # Set once the connection is gone: a charger that went away answers nothing, so a
        # request still waiting ends then, not at the library's timeout 30 s later.
        self.closed = asyncio.Event()
        # The ids of our requests waiting for their answers, and those answered (an answer
        # read just before the connection closed is still being checked by the library).
        self._waiting: set[str] = set()
        self._answered: set[str] = set()

    async def start(self) -> None:
        """Read and answer its messages until the connection closes."""
        try:
            await super().start()  # type: ignore[no-untyped-call]
        finally:
            self.closed.set()

    async def call(
        self,
        payload: Any,
        suppress: bool = True,
        unique_id: str | None = None,
        skip_schema_validation: bool = False,
    ) -> Any:
        """The library's request, ended by ConnectionError when the connection closes
        before its answer came."""
        if self.closed.is_set():
            raise ConnectionError(f"{self.id} is disconnected")
        unique_id = unique_id or str(uuid4())
        self._waiting.add(unique_id)
        answer = asyncio.ensure_future(
            super().call(payload, suppress, unique_id, skip_schema_validation)  # type: ignore[no-untyped-call]
        )
        gone = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait((answer, gone), return_when=asyncio.FIRST_COMPLETED)
            if not answer.done() and unique_id in self._answered:
                await asyncio.wait((answer,))
        finally:
            gone.cancel()
            if not answer.done():
                answer.cancel()
            self._waiting.discard(unique_id)
            self._answered.discard(unique_id)
        if not answer.cancelled() and answer.done():
            return answer.result()
        await asyncio.gather(answer, return_exceptions=True)
        raise ConnectionError(f"{self.id} disconnected before it answered {type(payload).__name__}")

    async def route_message(self, raw_msg: str) -> None:
        """Handle one message; commands it causes are sent after its answer (control.py)."""
        if self._waiting:
            self._note_answer(raw_msg)
        token = HANDLING.set((self.id, asyncio.current_task()))
        try:
            await super().route_message(raw_msg)  # type: ignore[no-untyped-call]
        finally:
            HANDLING.reset(token)

    def _note_answer(self, raw_msg: str) -> None:
        """Remember that one of our waiting requests got its answer (CALLRESULT/CALLERROR)."""
        try:
            message = json.loads(raw_msg)
            answer = message[0] in (MessageType.CallResult, MessageType.CallError)
            if answer and (unique_id := str(message[1])) in self._waiting:
                self._answered.add(unique_id)
        except (ValueError, TypeError, LookupError):
            pass  # not an answer the library could read either

    @property
    def quirks(self) -> Quirks:
        """What its model does differently (the default until it booted)."""
        boot = self.boot
        return DEFAULT_QUIRKS if boot is None else quirks_for(boot.vendor, boot.model)

    @property
    def charger(self) -> OcppCharger | None:
        """The loaded entry's charger state, if the charger was accepted."""
        return self.registry.chargers.get(self.id)

    async def _loaded_charger(self) -> OcppCharger | None:
        return await self.registry.async_loaded_charger(self.id)

    async def async_trigger_boot(self) -> None:
        """Ask the charger for a BootNotification (after it was accepted)."""
        payload, arguments = self.boot_trigger
        try:
            await self.call(payload(**arguments))
        except (TimeoutError, ConnectionError, asyncio.CancelledError):
            LOGGER.debug("%s did not take the boot trigger; it boots again by itself", self.id)
        except Exception as err:
            LOGGER.debug("Boot trigger to %s failed: %s", self.id, err)

    def booted_accepted(self, charger: OcppCharger) -> None:
        """After an accepted BootNotification: configure it, then its control (limits,
        local list) gets its turn, whatever the configuration did."""

        async def configure_then_control() -> None:
            try:
                await self.async_configure(charger)
            finally:
                charger.on_boot()

        self.hass.async_create_background_task(
            configure_then_control(), f"OCPP configure {self.id}"
        )

    async def async_configure(self, charger: OcppCharger) -> None:
        """Ask for the meter values its model can send (each version its own way)."""
        raise NotImplementedError
