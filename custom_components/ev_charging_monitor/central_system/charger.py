"""One accepted charger's live state, as its OCPP messages describe it (Home Assistant-free).

The device driver reads a Reading from here; the central system's message handlers write
to it and call `on_update`, which takes a reading at once (no polling delay).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ..devices import ChargerState, Reading
from ..session.late import TimedTransaction
from .late_signed import LateOutcome, LateResult
from .meter_values import MeterSample, signals
from .quirks import DEFAULT_QUIRKS, Quirks
from .signed import SignedValue, SignedValues
from .transactions import OpenTransaction

# OCPP 1.6 connector status -> IEC 61851 state (what the session tracker follows).
_STATES: Final = {
    "Available": ChargerState.A,
    "Preparing": ChargerState.B,
    "Charging": ChargerState.C,
    "SuspendedEV": ChargerState.B,
    "SuspendedEVSE": ChargerState.B,
    "Finishing": ChargerState.B,
    "Reserved": ChargerState.A,
    "Unavailable": ChargerState.A,
    "Faulted": ChargerState.F,
}

# The id tag's answer, as OCPP 1.6 idTagInfo.status.
type Authorizer = Callable[[str], Awaitable[str]]
# A queued message's id tag, decided quietly (nobody is at the charger now): its answer
# and whom it names.
type LateAuthorizer = Callable[[str], Awaitable[tuple[str, dict[str, Any] | None]]]
# Records a transaction whose messages came late, with whom its id tag named.
type LateRecorder = Callable[[TimedTransaction, dict[str, Any] | None], Awaitable[None]]
# Connector states without a vehicle: its state of charge is no longer known.
_NO_VEHICLE: Final = frozenset({"Available", "Unavailable", "Reserved"})
# Where signed values go that come while no transaction runs (signed_store.py).
type SignedAfter = Callable[[list[SignedValue]], Awaitable[LateResult]]
# After a reconnect, a status without a car while a transaction is open may be newer than
# the charger's queued messages of it: for this long the transaction's car counts as there.
CATCH_UP: Final = timedelta(minutes=5)


@dataclass(frozen=True, kw_only=True)
class ErrorReport:
    """The error part of the connector's last StatusNotification."""

    error_code: str  # OCPP 1.6 ChargePointErrorCode, NoError included
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class BootInfo:
    """Who the charger says it is in its BootNotification."""

    vendor: str
    model: str
    serial: str | None = None
    firmware: str | None = None
    meter_serial: str | None = None
    meter_type: str | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> BootInfo:
        """From the handler's snake_case keyword arguments."""
        return cls(
            vendor=str(payload["charge_point_vendor"]),
            model=str(payload["charge_point_model"]),
            serial=payload.get("charge_point_serial_number")
            or payload.get("charge_box_serial_number"),
            firmware=payload.get("firmware_version"),
            meter_serial=payload.get("meter_serial_number"),
            meter_type=payload.get("meter_type"),
        )


async def _refuse_late(_id_tag: str) -> tuple[str, dict[str, Any] | None]:
    return "Invalid", None


class OcppCharger:
    """The state of one charger, fed by its messages."""

    def __init__(
        self,
        charge_point_id: str,
        *,
        authorize: Authorizer,
        on_update: Callable[[], None],
    ) -> None:
        """`authorize` answers an id tag; `on_update` is called after every change."""
        self.charge_point_id = charge_point_id
        self.authorize = authorize
        self.on_update = on_update
        self.on_fault: Callable[[dict[str, Any]], None] = lambda _fault: None
        # Called once an accepted charger booted (control: its limit, its local list).
        self.on_boot: Callable[[], None] = lambda: None
        self.connected = False
        self.status: str | None = None
        self.error_code: str | None = None
        self.values: dict[str, float] = {}
        # Signed meter values of the running session and the meter's keys (signed.py).
        self.signed = SignedValues()
        self.signed_after_transaction: SignedAfter = self._signed_running
        self.transaction: OpenTransaction | None = None
        self.last_message: datetime | None = None
        self.connected_since: datetime | None = None
        # Set by the sessions: late transactions are recorded through them (None: no
        # sessions, nothing to record).
        self.record_late: LateRecorder | None = None
        self.late_session_id: Callable[[str], str] = lambda key: key
        # Flags the session running now (a transaction of its plug cycle lost its stop).
        self.flag_session: Callable[[str], None] = lambda _flag: None
        # A new transaction began live (after one recorded with the car still there).
        self.on_new_transaction: Callable[[], None] = lambda: None
        # The id and start of the session running now, if one does.
        self.active_session: Callable[[], tuple[str, datetime] | None] = lambda: None
        # Decides the id tag of a queued start (set with `authorize`).
        self.authorize_late: LateAuthorizer = _refuse_late
        # Tells the user that a transaction on another connector than 1 was refused.
        self.on_connector_refused: Callable[[int], None] = lambda _connector: None
        # Whom the id tag just authorised names (the authorization's attribution).
        self.attribution: Callable[[], dict[str, Any] | None] = lambda: None
        # What its model does differently (from its entry's vendor and model, then its boot).
        self.quirks: Quirks = DEFAULT_QUIRKS
        # The measurands it was set to report, as far as it told (empty: not known).
        self.measurands: tuple[str, ...] = ()
        # The last StatusNotification's error (NoError too) of the connector (1) and of the
        # whole charger (0).
        self._errors: dict[int, ErrorReport] = {}
        # Whether the register came with the messages since the last reading. While it
        # charges, a register repeated later would look like a live value that stood
        # still, and the growth the next MeterValues reports like a jump in no time.
        self._fresh_energy = False
        # What the central system told it (control.py): the current limit it was given,
        # whether it is paused, and the id tags of its remote starts (tag -> monotonic
        # expiry), which the StartTransaction they cause carries.
        self.current_limit: float | None = None
        self.paused = False
        self.remote_tags: dict[str, float] = {}

    def set_connected(self, connected: bool) -> None:
        """The websocket opened or closed."""
        self.connected = connected
        self.connected_since = datetime.now(UTC) if connected else None
        self.on_update()

    @property
    def error_report(self) -> ErrorReport | None:
        """The error to show: the connector's, else the whole charger's, else NoError."""
        reports = [self._errors[connector] for connector in (1, 0) if connector in self._errors]
        for report in reports:
            if report.error_code != "NoError":
                return report
        return reports[0] if reports else None

    def set_status(
        self,
        status: str,
        error_code: str | None,
        details: dict[str, Any] | None = None,
        *,
        connector_id: int = 1,
    ) -> None:
        """A StatusNotification; a new error code is told once.

        Connector 0 is the whole charger: its error counts, its status is no plug's state;
        so is another connector's (its transactions are refused: transactions.py).
        """
        details = {key: self._detail(value) for key, value in (details or {}).items()}
        report = ErrorReport(
            error_code=error_code or "NoError",
            info=details.get("info"),
            vendor_id=details.get("vendor_id"),
            vendor_error_code=details.get("vendor_error_code"),
        )
        previous = self._errors.get(connector_id)
        self._errors[connector_id] = report
        if connector_id == 1:
            # Only the first connector is the plug the sessions follow (transactions.py).
            self.status = status
            if status in _NO_VEHICLE:
                self.values.pop("soc", None)  # the next vehicle's is another one
        if report.error_code != "NoError" and (
            previous is None or previous.error_code != report.error_code
        ):
            self.on_fault(
                {
                    "connector_id": connector_id,
                    "error_code": report.error_code,
                    "status": status,
                    **details,
                }
            )
        shown = self.error_report
        self.error_code = (
            None if shown is None or shown.error_code == "NoError" else shown.error_code
        )
        self.on_update()

    def _detail(self, value: Any) -> str | None:
        """A StatusNotification text, None where the charger means none."""
        if value is None or value == "":
            return None
        if value == "null" and self.quirks.status.info_null_text:
            return None
        return str(value)

    def set_meter(self, sample: MeterSample) -> None:
        """Values of a MeterValues message; signed data is kept verbatim."""
        self.values.update(sample.values)
        self._fresh_energy = self._fresh_energy or "energy" in sample.values
        self.signed.extend(sample.signed)
        self.on_update()

    def set_transaction(self, transaction: OpenTransaction | None, meter_wh: int) -> None:
        """A transaction started or stopped at the register value `meter_wh`."""
        if transaction is not None and transaction != self.transaction:
            self.signed.clear()  # what a new transaction signs starts afresh
            if self.signed.connector != transaction.connector_id:
                self.signed.connector = transaction.connector_id  # its meter's key
                self.signed.on_change()
        self.transaction = transaction
        self.values["energy"] = float(meter_wh)
        self._fresh_energy = True
        if transaction is None:
            self.values.pop("power", None)
        self.on_update()

    async def _signed_running(self, values: list[SignedValue]) -> LateResult:
        """Without sessions: kept with the values of the running session."""
        self.signed.add(values)
        return LateResult(outcome=LateOutcome.RUNNING)

    async def add_signed(self, values: list[SignedValue]) -> LateResult:
        """Signed values from a DataTransfer: the running transaction's, else perhaps those
        of the session just recorded (late_signed.py)."""
        if self.transaction is not None:
            return await self._signed_running(values)
        return await self.signed_after_transaction(values)

    def is_remote_start(self, id_tag: str) -> bool:
        """Whether `id_tag` is one the central system started a transaction with just now."""
        expires = self.remote_tags.get(id_tag)
        return expires is not None and time.monotonic() < expires

    @property
    def public_key(self) -> str | None:
        """The meter's public key as the charger reports it (kept by `signed`)."""
        return self.signed.keys.charger

    @public_key.setter
    def public_key(self, value: str | None) -> None:
        self.signed.set_charger_key(value)

    def take_signed(self) -> list[dict[str, Any]]:
        """The signed values of the session that ends now, as the record carries them."""
        return self.signed.take()

    def _catching_up(self) -> bool:
        since = self.connected_since
        return since is not None and datetime.now(UTC) - since < CATCH_UP

    def reading(self) -> Reading:
        """What the charger reported last, as one reading."""
        state = None if self.status is None else _STATES.get(self.status)
        power = self.values.get("power")
        if state is None and self.transaction is not None:
            # Reconnected without a status yet: its open transaction says a car is there.
            state = ChargerState.C if power else ChargerState.B
        if (
            state is ChargerState.A
            and self.transaction is not None
            and (self._catching_up() or self.transaction.rebooted_at is not None)
        ):
            # Its stop may still be queued behind this status, or the boot lost it
            # (lost_transactions.py decides): the session waits.
            state = ChargerState.B
        values = self.values
        # Outside Charging no energy flows, so the last register is still the register.
        current = self._fresh_energy or (state is not None and not state.charging)
        energy = values.get("energy") if current else None
        self._fresh_energy = False
        return Reading(
            state=state,
            power=power,
            power_l1=values.get("power_l1"),
            power_l2=values.get("power_l2"),
            power_l3=values.get("power_l3"),
            current_l1=values.get("current_l1"),
            current_l2=values.get("current_l2"),
            current_l3=values.get("current_l3"),
            voltage_l1=values.get("voltage_l1"),
            voltage_l2=values.get("voltage_l2"),
            voltage_l3=values.get("voltage_l3"),
            energy=energy,
            current_limit=0.0 if self.paused else self.current_limit,
            enabled=not self.paused,
            extra={
                "ocpp_status": self.status,
                "ocpp_error": self.error_code,
                "ocpp_error_report": self.error_report,
                **signals(values),
            },
        )
