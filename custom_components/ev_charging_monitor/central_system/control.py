"""What the central system asks of a charger (the CALL side): limits, start, stop, reset.

`ChargePointControl` is the set of commands the device driver uses; `OcppControl` decides
them once for both OCPP versions and has the charger's live connection word them in its
own version (messages_16.py, messages_201.py): the protocol is chosen per connection, by
the websocket subprotocol, so the same entry may speak either.

Every answer but the accepted ones becomes a `CommandError` that names what was refused
and how; `async_run_command` turns it into a translated Home Assistant error.

A command caused by one of the charger's own messages (an Authorize that releases a held
charger) must not wait for the answer inside that message's handler: the charger's answer
is read by the same loop that runs the handler, so both would wait for ever (the library
times out after 30 s). `perform` sends such commands once the handler has answered.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from ocpp.exceptions import NotImplementedError as OcppNotImplementedError
from ocpp.exceptions import NotSupportedError, OCPPError, ValidationError

from ..const import LOGGER
from ..devices import DeviceError
from .connection import ConnectionClosedError
from .control_messages import LocalListEntry, Messages, Profile, Purpose, Unit
from .messages_16 import Ocpp16Messages
from .messages_201 import Ocpp201Messages
from .quirks import DEFAULT_QUIRKS, ProfileQuirks
from .transactions import OpenTransaction

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

__all__ = ["LocalListEntry"]

# The charge point id and the task handling one of its messages (charge_point.route_message).
# Tasks started meanwhile inherit the variable but are other tasks: they may wait.
HANDLING: ContextVar[tuple[str, asyncio.Task[Any] | None] | None] = ContextVar(
    "ev_charging_monitor_ocpp_handling", default=None
)
# Each OCPP version's wording, by the `ocpp` library's version name of the connection.
MESSAGES: Final[dict[str, Messages]] = {"1.6": Ocpp16Messages(), "2.0.1": Ocpp201Messages()}
# The profiles the integration owns on a charger: one default for every transaction,
# one for the running transaction (some firmware applies a new default only at the next).
DEFAULT_PROFILE_ID: Final = 1
TRANSACTION_PROFILE_ID: Final = 2
# Stack level 0 unless the model's quirks say otherwise: ABB Terra AC firmware rejects
# every other (quirks.json), and the integration's profiles are the only ones it sets.
STACK_LEVEL: Final = 0
# A charger that takes limits in W only gets the current's power at nominal voltage.
NOMINAL_VOLTAGE_V: Final = 230.0
PHASES: Final = 3
# A schedule that starts a minute ago holds from now on, whatever the charger's clock says.
SCHEDULE_LEAD: Final = timedelta(minutes=1)


class CommandError(DeviceError):
    """A command the charger did not carry out; `translation_key` says why."""

    translation_key = "ocpp_command_refused"

    def __init__(self, action: str, detail: str = "") -> None:
        """`action` is the OCPP message, `detail` the charger's status or error."""
        super().__init__(f"{action}: {detail}" if detail else action)
        self.action = action
        self.detail = detail

    @property
    def placeholders(self) -> dict[str, str]:
        """What the translated message names."""
        return {"action": self.action, "status": self.detail}


class CommandRefused(CommandError):
    """The charger answered Rejected (or another refusal) to the command."""


class CommandNotSupported(CommandError):
    """The charger does not implement the command (NotSupported, NotImplemented)."""

    translation_key = "ocpp_command_not_supported"


class ChargerOffline(CommandError):
    """The charger is not connected, or the connection broke while waiting."""

    translation_key = "ocpp_charger_offline"


class NoAnswer(CommandError):
    """The charger did not answer in time."""

    translation_key = "ocpp_command_timeout"


class NoTransaction(CommandError):
    """A command that needs a running transaction, while none runs."""

    translation_key = "ocpp_no_transaction"


class Connection(Protocol):
    """A charger's live connection: the `ocpp` library's ChargePoint of any version."""

    async def call(self, payload: Any, suppress: bool = True) -> Any:
        """Send a request, return the confirmation."""


class ChargePointControl(Protocol):
    """The commands a charger connected over OCPP takes, whatever the OCPP version."""

    def in_handler(self) -> bool:
        """Whether this runs inside one of the charger's own messages."""

    def action(self, action: str) -> str:
        """The command's OCPP message as the charger's version names it."""

    async def perform(self, command: Callable[[], Awaitable[None]], what: str) -> None:
        """Run `command` now, or right after the charger's message being handled."""

    async def set_current_limit(
        self, amps: float, *, connector_id: int, transaction: OpenTransaction | None
    ) -> None:
        """Limit every transaction (and the running one) to `amps`; 0 pauses."""

    async def clear_current_limit(self) -> None:
        """Remove the integration's limits: the charger offers what it can."""

    async def remote_start(self, id_tag: str, *, connector_id: int) -> None:
        """Start a transaction for `id_tag`."""

    async def remote_stop(self, transaction: OpenTransaction) -> None:
        """End the transaction."""

    async def reset(self, *, hard: bool) -> None:
        """Restart the charger."""

    async def unlock(self, *, connector_id: int) -> None:
        """Release the cable."""

    async def change_availability(self, *, operative: bool) -> str:
        """Make the charger (un)available; "Scheduled" when a transaction runs first."""

    async def get_local_list_version(self) -> int:
        """The version of the charger's local list; -1 where it has none."""

    async def send_local_list(
        self, version: int, entries: Sequence[LocalListEntry], *, full: bool
    ) -> str:
        """Replace (`full`) or change the local list; the charger's status."""


def _rate(amps: float, profiles: ProfileQuirks) -> tuple[Unit, float]:
    # OCPP limits are multiples of 0.1 (A or W).
    if "A" in profiles.rate_units:
        return "A", round(amps, 1)
    return "W", round(amps * NOMINAL_VOLTAGE_V * PHASES, 1)


def _start() -> str:
    return (datetime.now(UTC) - SCHEDULE_LEAD).isoformat(timespec="seconds").replace("+00:00", "Z")


class OcppControl:
    """The commands, to whichever connection the charger has now, in its OCPP version."""

    def __init__(
        self,
        hass: HomeAssistant,
        charge_point_id: str,
        connection: Callable[[], Connection | None],
        profiles: Callable[[], ProfileQuirks] = lambda: DEFAULT_QUIRKS.profiles,
    ) -> None:
        """`connection` gives the charger's live connection (None while it is away).

        `profiles` says which charging profiles its model takes (quirks.json).
        """
        self.hass = hass
        self.charge_point_id = charge_point_id
        self._connection = connection
        self._profiles = profiles
        # The OCPP version the charger spoke last (it names the messages while it is away).
        self._version = "1.6"

    # -- sending --------------------------------------------------------------------------

    def in_handler(self) -> bool:
        """Whether this runs inside one of this charger's own messages (and would block it)."""
        return HANDLING.get() == (self.charge_point_id, asyncio.current_task())

    def note_version(self) -> None:
        """Remember the OCPP version of the charger's connection now (after its boot)."""
        if (charge_point := self._connection()) is not None:
            self._version = str(getattr(charge_point, "_ocpp_version", "1.6"))

    def action(self, action: str) -> str:
        """The command's OCPP message as the charger's version names it (1.6's by default)."""
        messages = MESSAGES.get(self._version)
        return action if messages is None else messages.renamed.get(action, action)

    async def perform(self, command: Callable[[], Awaitable[None]], what: str) -> None:
        """Run `command` now; inside the charger's own message, right after its answer.

        A deferred command's failure is logged: nobody waits for it any more.
        """
        if not self.in_handler():
            await command()
            return

        async def later() -> None:
            try:
                await command()
            except DeviceError as err:
                LOGGER.warning("%s: %s failed: %s", self.charge_point_id, what, err)

        self.hass.async_create_task(later(), f"OCPP {what} {self.charge_point_id}")

    async def _call(self, action: str, request: Callable[[Messages], Any]) -> Any:
        """Send the request `request` words for the connection; `action` names it offline."""
        if (charge_point := self._connection()) is None:
            raise ChargerOffline(self.action(action))
        version = self._version = str(getattr(charge_point, "_ocpp_version", "1.6"))
        if (messages := MESSAGES.get(version)) is None:
            raise CommandNotSupported(action, f"OCPP {version}")
        payload = request(messages)
        action = type(payload).__name__
        try:
            return await charge_point.call(payload, suppress=False)
        except TimeoutError as err:
            raise NoAnswer(action) from err
        except (ConnectionClosedError, ConnectionError) as err:
            raise ChargerOffline(action) from err
        except (OcppNotImplementedError, NotSupportedError) as err:
            raise CommandNotSupported(action, type(err).__name__) from err
        except (OCPPError, ValidationError) as err:
            raise CommandRefused(action, str(getattr(err, "code", "") or err)) from err

    async def _expect(self, action: str, request: Callable[[Messages], Any], *accepted: str) -> str:
        """Send; the status if it is one of `accepted`, else the matching CommandError."""
        result = await self._call(action, request)
        status = str(getattr(result, "status", ""))
        if status in accepted:
            return status
        action = _action(result, action)
        if status == "NotSupported":
            raise CommandNotSupported(action, status)
        raise CommandRefused(action, status or "?")

    # -- commands -------------------------------------------------------------------------

    async def set_current_limit(
        self, amps: float, *, connector_id: int, transaction: OpenTransaction | None
    ) -> None:
        """TxDefaultProfile on every connector, and a TxProfile for the running transaction.

        The default decides; a TxProfile the charger refuses (not every firmware takes
        one) is only logged, the default covers the transaction on the others. A model
        without TxDefaultProfile (quirks.json) is limited by the TxProfile alone, so only
        while a transaction runs.
        """
        action = "SetChargingProfile"
        profiles = self._profiles()
        if not profiles.supported:
            raise CommandNotSupported(action, "NotSupported")
        level = STACK_LEVEL if profiles.stack_level is None else profiles.stack_level
        unit, limit = _rate(amps, profiles)

        def profile(purpose: Purpose) -> Callable[[Messages], Any]:
            default = purpose == "TxDefaultProfile"
            return lambda messages: messages.set_profile(
                Profile(
                    profile_id=DEFAULT_PROFILE_ID if default else TRANSACTION_PROFILE_ID,
                    stack_level=level,
                    purpose=purpose,
                    unit=unit,
                    limit=limit,
                    start=_start(),
                    connector_id=0 if default else connector_id,
                    transaction=None if default else transaction,
                )
            )

        default = "TxDefaultProfile" in profiles.purposes
        if default:
            await self._expect(action, profile("TxDefaultProfile"), "Accepted")
        if transaction is None or "TxProfile" not in profiles.purposes:
            if not default:
                raise NoTransaction(action)
            return
        try:
            await self._expect(action, profile("TxProfile"), "Accepted")
        except CommandError as err:
            if isinstance(err, ChargerOffline) or not default:
                raise
            LOGGER.debug("%s keeps the default profile only: %s", self.charge_point_id, err)

    async def clear_current_limit(self) -> None:
        """ClearChargingProfile of both profiles; "Unknown" means there was none."""
        for profile_id in (DEFAULT_PROFILE_ID, TRANSACTION_PROFILE_ID):
            await self._expect("ClearChargingProfile", _clear(profile_id), "Accepted", "Unknown")

    async def remote_start(self, id_tag: str, *, connector_id: int) -> None:
        """RemoteStartTransaction / RequestStartTransaction."""
        remote_start_id = secrets.randbelow(2**31 - 1) + 1
        await self._expect(
            "RemoteStartTransaction",
            lambda messages: messages.remote_start(
                id_tag, connector_id=connector_id, remote_start_id=remote_start_id
            ),
            "Accepted",
        )

    async def remote_stop(self, transaction: OpenTransaction) -> None:
        """RemoteStopTransaction / RequestStopTransaction."""
        await self._expect(
            "RemoteStopTransaction", lambda messages: messages.remote_stop(transaction), "Accepted"
        )

    async def reset(self, *, hard: bool) -> None:
        """Reset: after (Soft, OnIdle: "Scheduled" in 2.0.1) or despite the transaction."""
        await self._expect(
            "Reset", lambda messages: messages.reset(hard=hard), "Accepted", "Scheduled"
        )

    async def unlock(self, *, connector_id: int) -> None:
        """UnlockConnector."""
        await self._expect(
            "UnlockConnector",
            lambda messages: messages.unlock(connector_id=connector_id),
            "Unlocked",
        )

    async def change_availability(self, *, operative: bool) -> str:
        """ChangeAvailability of the whole charger."""
        return await self._expect(
            "ChangeAvailability",
            lambda messages: messages.change_availability(operative=operative),
            "Accepted",
            "Scheduled",
        )

    async def get_local_list_version(self) -> int:
        """GetLocalListVersion; -1 (as OCPP says) where the charger has no local list."""
        try:
            result = await self._call(
                "GetLocalListVersion", lambda messages: messages.get_local_list_version()
            )
        except CommandNotSupported:
            return -1
        return MESSAGES[self._version].local_list_version(result)

    async def send_local_list(
        self, version: int, entries: Sequence[LocalListEntry], *, full: bool
    ) -> str:
        """SendLocalList; the status (Accepted, Failed, VersionMismatch, NotSupported)."""
        try:
            result = await self._call(
                "SendLocalList",
                lambda messages: messages.send_local_list(version, entries, full=full),
            )
        except CommandNotSupported:
            return "NotSupported"
        return str(result.status)


def _clear(profile_id: int) -> Callable[[Messages], Any]:
    return lambda messages: messages.clear_profile(profile_id)


def _action(result: Any, fallback: str) -> str:
    """The request's name from its confirmation's class (the library names both alike)."""
    name = type(result).__name__
    return fallback if name in ("SimpleNamespace", "dict", "NoneType") else name
