"""A transaction with queued messages, recorded at the charger's times (OCPP 1.6 and 2.0.1).

Both protocols' handlers decide per message whether it came late (message_time.py) and
keep the stamped registers with the transaction; here is what they share: when the
transaction counts as started, how a queued start is noted, and how the finished
transaction is handed to the sessions (session/late.py) once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..session.late import FLAG_CHARGER_CLOCK
from .charger import OcppCharger
from .message_time import MessageTime, iso, parse_time
from .registry import OcppRegistry
from .transactions import OpenTransaction, timed_transaction, transaction_key


def started(transaction: OpenTransaction) -> datetime:
    """When the transaction counts as started (its checked start time)."""
    moment = parse_time(transaction.started_at or transaction.timestamp)
    return datetime.now(UTC) if moment is None else moment


def note_start(transaction: OpenTransaction, moment: MessageTime) -> None:
    """A queued start makes a late transaction; a start time that cannot be right is
    replaced by the arrival (flagged), so its session starts where it was seen."""
    transaction.late = moment.late
    if not moment.valid:
        transaction.flag(FLAG_CHARGER_CLOCK)
    transaction.started_at = iso(moment.at)


def keep_reading(transaction: OpenTransaction, moment: MessageTime, register_wh: float) -> bool:
    """Keep a stamped register with its transaction; True when it was not kept before.

    A late one makes the transaction late: it is then recorded from its registers.
    """
    if not moment.valid:
        transaction.flag(FLAG_CHARGER_CLOCK)
    kept = transaction.add_reading(iso(moment.at), register_wh)
    if moment.late and not transaction.late:
        transaction.late = kept = True
    return kept


async def async_record_late(
    registry: OcppRegistry,
    charge_point_id: str,
    charger: OcppCharger,
    transaction: OpenTransaction,
    moment: MessageTime,
    meter_stop: int,
) -> None:
    """Record a transaction with queued messages, ended at `moment` on `meter_stop`.

    Its session id is kept with it before the record is written, so an end sent again
    after a crash finds that session recorded.
    """
    assert charger.record_late is not None
    transaction.late = True
    if not moment.valid:
        transaction.flag(FLAG_CHARGER_CLOCK)
    if transaction.session_id is None:
        transaction.session_id = charger.late_session_id(
            transaction_key(charge_point_id, transaction)
        )
        await registry.async_save()
    started_at = started(transaction)
    await charger.record_late(
        timed_transaction(
            transaction,
            session_id=transaction.session_id,
            started_at=started_at,
            ended_at=max(moment.at, started_at),
            meter_stop=meter_stop,
        ),
        transaction.attribution,
    )
