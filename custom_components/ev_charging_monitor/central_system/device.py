"""The driver of an OCPP charger: its reading is what it last reported; commands go out
through the charge point's control (control.py) while it is connected.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Final

from ..const import LOGGER
from ..devices import Capabilities, DeviceError, DeviceKind, Identity, Reading
from ..devices.errors import UnsupportedDeviceError
from .charger import BootInfo, OcppCharger
from .control import ChargePointControl, ChargerOffline, CommandNotSupported, NoTransaction

CONNECTOR_ID: Final = 1
# A remote start's id tag is honoured this long (a charger asks the driver to plug in
# first: OCPP ConnectionTimeOut, typically a minute or two).
REMOTE_START_VALID: Final = timedelta(minutes=10)
# Prefix of the id tags of remote starts (20 characters in all, OCPP 1.6's maximum).
REMOTE_TAG_PREFIX: Final = "HA"
# Connector states in which a vehicle waits for a transaction to start.
_WAITING: Final = frozenset({"Preparing", "Finishing"})


async def _nothing(_paused: bool) -> None:
    """No store: a pause is forgotten with the process."""


class OcppDevice:
    """A charger connected to the central system, seen through the Device interface."""

    def __init__(
        self, charger: OcppCharger, boot: BootInfo, *, resume_current_a: float | None = None
    ) -> None:
        """`boot` is what the charger said when it was accepted (until it boots again).

        `resume_current_a` is the limit the user set last (it resumes a pause).
        """
        self.charger = charger
        self.host = charger.charge_point_id
        self.boot = boot
        self.control: ChargePointControl | None = None
        self.limit_a = resume_current_a
        # False where its model takes none (quirks.json), or once it answered so.
        self.profiles_supported = charger.quirks.profiles.supported
        # Keeps a pause across restarts of Home Assistant (the charger keeps its profile).
        self.remember_pause: Callable[[bool], Awaitable[None]] = _nothing

    @property
    def capabilities(self) -> Capabilities:
        """It measures and authorises itself; it is limited and paused by charging profiles."""
        control = self.profiles_supported
        return Capabilities(
            kind=DeviceKind.CHARGER,
            phases=3,
            can_set_current=control,
            can_enable=control,
            authorizes_itself=True,
        )

    async def identify(self) -> Identity:
        """Vendor, model, serial and firmware of the BootNotification."""
        boot = self.boot
        return Identity(
            manufacturer=boot.vendor, model=boot.model, serial=boot.serial, firmware=boot.firmware
        )

    def meter_identity(self) -> Identity | None:
        """The built-in meter: as its signed values name it, else as the BootNotification does.

        The serial inside signed values (OCMF MS) is signed by the meter itself, so it is the
        identity the ledger checks the values against; the boot message's is only reported.
        """
        boot = self.boot
        signed = self.charger.signed
        serial = signed.meter_serial or boot.meter_serial
        if serial is None:
            return None
        model = (signed.meter_model if signed.meter_serial else None) or boot.meter_type
        return Identity(manufacturer=boot.vendor, model=model or boot.model, serial=serial)

    async def read(self) -> Reading:
        """The last reported values; unavailable while the charger is not connected."""
        if not self.charger.connected:
            raise DeviceError(f"{self.host} is not connected to the OCPP central system")
        return self.charger.reading()

    # -- control --------------------------------------------------------------------------

    def _control(self, action: str) -> ChargePointControl:
        if self.control is None or not self.charger.connected:
            raise ChargerOffline(action if self.control is None else self.control.action(action))
        return self.control

    async def set_current_limit(self, amps: float) -> None:
        """The limit of every transaction; 0 pauses. Kept, not sent, while paused."""
        if amps < 0:
            raise ValueError(f"{amps} A is no current limit")
        if amps == 0:
            await self.set_enabled(False)
            return
        control = self._control("SetChargingProfile")

        async def limit() -> None:
            if not self.charger.paused:
                await self._apply(control, amps)
            self.limit_a = amps
            self.charger.current_limit = amps
            self.charger.on_update()

        await control.perform(limit, "current limit")

    async def set_enabled(self, enabled: bool) -> None:
        """Pause (a 0 A profile) or resume (the limit again, or no profile at all).

        Resumed while a vehicle waits with no transaction, the charger is started remotely
        (unless the charger's own Authorize or StartTransaction caused this: it starts
        by itself then).
        """
        control = self._control("SetChargingProfile")
        by_charger = control.in_handler()

        async def switch() -> None:
            if enabled:
                # Without profiles it was never paused: starting is all there is to do.
                if self.profiles_supported and self.limit_a is not None:
                    await self._apply(control, self.limit_a)
                elif self.profiles_supported and self.charger.paused:
                    await self._guarded(control.clear_current_limit())
            else:
                await self._apply(control, 0)
            if self.charger.paused != (not enabled):
                self.charger.paused = not enabled
                await self.remember_pause(not enabled)
            self.charger.on_update()
            if enabled and not by_charger:
                await self.start_if_waiting()

        await control.perform(switch, "resume" if enabled else "pause")

    async def _apply(self, control: ChargePointControl, amps: float) -> None:
        transaction = self.charger.transaction
        await self._guarded(
            control.set_current_limit(
                amps,
                connector_id=CONNECTOR_ID if transaction is None else transaction.connector_id,
                transaction=transaction,
            )
        )
        if amps > 0:
            self.charger.current_limit = amps

    async def _guarded(self, command: Awaitable[None]) -> None:
        """A charger that takes no profiles is not asked again (and not held by them)."""
        try:
            await command
        except CommandNotSupported:
            if self.profiles_supported:
                LOGGER.info("%s takes no charging profiles: no limits, no pause", self.host)
            self.profiles_supported = False
            raise

    async def start_if_waiting(self) -> bool:
        """RemoteStartTransaction if a vehicle waits without a transaction; whether it did.

        Its id tag is new for every start and is accepted when the charger presents it:
        the decision on who charges was made before (the user, the NFC tag, the
        administrator), and the session is attributed to it. The tag is kept before it
        is sent: a restart of Home Assistant before the charger starts must not turn it
        into an unknown card.
        """
        charger = self.charger
        starts = charger.remote_starts
        if (
            charger.transaction is not None
            or charger.status not in _WAITING
            or starts.under_way()  # a remote start is under way
        ):
            return False
        control = self._control("RemoteStartTransaction")
        id_tag = REMOTE_TAG_PREFIX + secrets.token_hex(9)
        await starts.async_add(id_tag, REMOTE_START_VALID)
        try:
            await control.remote_start(id_tag, connector_id=CONNECTOR_ID)
        except DeviceError:
            await starts.async_discard(id_tag)
            raise
        return True

    async def stop_transaction(self) -> None:
        """RemoteStopTransaction of the running transaction."""
        control = self._control("RemoteStopTransaction")
        if (transaction := self.charger.transaction) is None:
            raise NoTransaction(control.action("RemoteStopTransaction"))
        await control.remote_stop(transaction)

    async def reset(self, *, hard: bool = False) -> None:
        """Restart the charger (it reconnects and boots)."""
        await self._control("Reset").reset(hard=hard)

    async def unlock(self) -> None:
        """Release the cable of the connector."""
        await self._control("UnlockConnector").unlock(connector_id=CONNECTOR_ID)

    async def set_available(self, available: bool) -> None:
        """Operative or inoperative; a running transaction finishes first (Scheduled)."""
        status = await self._control("ChangeAvailability").change_availability(operative=available)
        if status == "Scheduled":
            LOGGER.info("%s becomes %s after its transaction", self.host, available)

    async def async_restore(self) -> None:
        """After the charger (re)booted: give it the pause or limit it had."""
        if self.control is None or not (self.charger.paused or self.limit_a is not None):
            return
        try:
            await self._apply(self.control, 0 if self.charger.paused else self.limit_a or 0)
        except DeviceError as err:
            LOGGER.warning("%s did not take its current limit again: %s", self.host, err)

    async def set_failsafe(
        self, *, current_a: float | None = None, timeout_s: float | None = None
    ) -> None:
        """OCPP chargers decide by their own authorization while the server is away."""
        raise UnsupportedDeviceError("no failsafe over OCPP")

    @property
    def watchdog_interval(self) -> float | None:
        """The charger keeps its connection alive itself."""
        return None

    async def keep_alive(self) -> None:
        """Nothing to do."""

    async def close(self) -> None:
        """The connection belongs to the central system, not to the entry."""
