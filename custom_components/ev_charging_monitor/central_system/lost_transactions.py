"""Transactions whose stop never comes (OCPP 1.6 and 2.0.1), ended where they were last seen.

A charger that loses power or reboots may forget its running transaction: it boots, shows
the connector free, and never sends the stop. Another firmware never sends the stop of a
transaction cut by a power failure, but starts the next one. Left open, such a transaction
would hold its session for ever (or, if it came late, never record it at all). The rule:

- a new transaction on the same connector ends the open one (OCPP delivers a charger's
  transaction messages in order, so its stop can no longer come);
- a boot while a transaction is open, then the connector `Available`, ends it once
  LOST_AFTER has passed since the boot without its stop or a meter value of it (a stop the
  charger kept may come after its status: status messages overtake its queue);

at its last known register and time, flagged with the reason (session/late.py) and
`estimated` (what it drew after its last meter value is not known), ending `recovered`: the
session Home Assistant follows since the transaction began (its plug cycle), else one of its
own if its messages came late. A live transaction whose plug cycle's session ended already
(the car was seen leaving) was recorded then. A stop that comes after all changes nothing
recorded: it is logged and noted with the transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from ..const import LOGGER
from ..session.late import (
    END_RECOVERED,
    FLAG_ESTIMATED,
    FLAG_STOP_MISSING_REBOOT,
    late_session_id,
)
from .charger import CATCH_UP, OcppCharger
from .late_transactions import started
from .message_time import iso, parse_time
from .registry import OcppRegistry
from .transactions import OpenTransaction, timed_transaction, transaction_key

# How long after a boot a free connector's transaction may still get its stop.
LOST_AFTER: Final = CATCH_UP
# A session that began this soon after its transaction's start is of its plug cycle (the
# charger may report the transaction before the car's state).
SAME_PLUG_CYCLE: Final = timedelta(minutes=5)
# Noted with a lost transaction whose stop came after all.
FLAG_STOP_AFTER_LOST: Final = "stop_after_lost"


async def async_note_boot(registry: OcppRegistry, charge_point_id: str) -> None:
    """The charger booted: its open transaction may be lost (kept across a restart)."""
    if (transaction := registry.book.open.get(charge_point_id)) is not None:
        transaction.rebooted_at = iso(datetime.now(UTC))
        await registry.async_save()


def note_kept(transaction: OpenTransaction | None) -> None:
    """A message of the transaction after the boot: the charger kept it."""
    if transaction is not None:
        transaction.rebooted_at = None


async def async_check_lost(registry: OcppRegistry, charger: OcppCharger | None) -> None:
    """End the charger's transaction if a boot lost it (see the module's rule)."""
    if charger is None:
        return
    transaction = registry.book.open.get(charger.charge_point_id)
    if transaction is None or transaction.rebooted_at is None or charger.status != "Available":
        return
    booted = parse_time(transaction.rebooted_at)
    if booted is not None and datetime.now(UTC) - booted < LOST_AFTER:
        return
    await async_end_lost(registry, charger.charge_point_id, charger, FLAG_STOP_MISSING_REBOOT)


async def async_end_lost(
    registry: OcppRegistry, charge_point_id: str, charger: OcppCharger | None, reason: str
) -> OpenTransaction | None:
    """End the open transaction without its stop, at its last known register and time.

    Its session is recorded before the transaction is closed, under an id kept with it:
    after a crash in between, the transaction is ended again and finds it recorded.
    """
    transaction = registry.book.open.get(charge_point_id)
    if transaction is None:
        return None
    transaction.flag(reason)
    at, register = transaction.last_known()
    LOGGER.warning(
        "%s never stopped transaction %s (%s): ended at its last known register, %s Wh at %s",
        charge_point_id,
        transaction.transaction_id,
        reason,
        register,
        at,
    )
    session_id = None
    if charger is not None and charger.record_late is not None:
        session_id = _session_of(charge_point_id, charger.active_session(), transaction)
    if session_id is not None and transaction.session_id is None:
        transaction.session_id = session_id
        await registry.async_save()
    if (
        charger is not None
        and charger.transaction is not None
        and (charger.transaction.transaction_id == transaction.transaction_id)
    ):
        # No await from here until the tracker took the session (record_late does so
        # first): a reading in between would end it as an unplug.
        charger.transaction = None
    if session_id is not None:
        assert charger is not None
        assert charger.record_late is not None
        started_at = started(transaction)
        ended_at = parse_time(at) or started_at
        await charger.record_late(
            timed_transaction(
                transaction,
                session_id=session_id,
                started_at=started_at,
                ended_at=max(ended_at, started_at),
                meter_stop=register,
                end_reason=END_RECOVERED,
                flags=(FLAG_ESTIMATED,),
                delivered_late=transaction.late,
                hold=False,  # a new transaction may follow with the car still there
            ),
            transaction.attribution,
        )
    else:
        # Followed live, and its plug cycle's session ended with the plug cycle.
        LOGGER.debug(
            "%s: transaction %s was recorded with its plug cycle",
            charge_point_id,
            transaction.transaction_id,
        )
    registry.book.end_lost(charge_point_id, reason)
    await registry.async_save()
    if charger is not None:
        charger.on_update()
    return transaction


def _session_of(
    charge_point_id: str, charger_session: tuple[str, datetime] | None, transaction: OpenTransaction
) -> str | None:
    """The session the lost transaction is recorded as: the tracker's, if it runs since the
    transaction's start (the same plug cycle); a session of its own if it came late (nothing
    live followed it); None when its plug cycle's session was recorded already."""
    if transaction.session_id is not None:
        return transaction.session_id
    if charger_session is not None:
        session_id, session_start = charger_session
        if session_start <= started(transaction) + SAME_PLUG_CYCLE:
            return session_id
    if transaction.late:
        return late_session_id(transaction_key(charge_point_id, transaction))
    return None


def stop_after_lost(registry: OcppRegistry, charge_point_id: str, transaction_id: int) -> bool:
    """A stop of a transaction ended without it: logged and noted, nothing recorded again.

    True when that was the case.
    """
    lost = registry.book.closed_lost(charge_point_id, transaction_id)
    if lost is None:
        return False
    _note_late_stop(registry, charge_point_id, lost)
    return True


def end_after_lost(registry: OcppRegistry, charge_point_id: str, station_id: str) -> bool:
    """OCPP 2.0.1: the end of a transaction ended without it (as `stop_after_lost`)."""
    lost = registry.book.closed_station_lost(charge_point_id, station_id)
    if lost is None:
        return False
    _note_late_stop(registry, charge_point_id, lost)
    return True


def _note_late_stop(registry: OcppRegistry, charge_point_id: str, lost: OpenTransaction) -> None:
    if FLAG_STOP_AFTER_LOST in lost.flags:
        return  # a stop sent again
    LOGGER.warning(
        "%s sent the stop of transaction %s after it was ended without it (%s); its session "
        "was recorded then and stays as it is",
        charge_point_id,
        lost.transaction_id,
        lost.lost,
    )
    lost.flag(FLAG_STOP_AFTER_LOST)
    registry.async_save_soon()
