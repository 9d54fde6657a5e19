"""When a charger's transaction message happened, and whether it was queued (HA-free).

A message stamped before the charger's present connection opened was queued while it was
offline or Home Assistant was down: it is "late" and counts at its own time. A time that
cannot be right is replaced by the arrival time and flagged: one in the future (beyond a
minute of clock difference), before its transaction's start, older than any charger
queues, or no time at all. A clock running a little behind (LATE_TOLERANCE) is not late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

# How far a charger's clock may run behind Home Assistant's before its messages of a new
# connection count as queued. Taking a live message for a queued one costs little (its
# transaction is then recorded from its own registers); a queued burst taken as live
# values would look like register jumps.
LATE_TOLERANCE: Final = timedelta(seconds=10)
# How far ahead of Home Assistant's clock a charger's time is still believed.
FUTURE_TOLERANCE: Final = timedelta(seconds=60)
# No charger keeps a queue longer than this; older times are a clock that was never set.
MAX_QUEUE_AGE: Final = timedelta(days=30)


@dataclass(frozen=True)
class MessageTime:
    """The time a message counts at."""

    at: datetime
    # Queued by the charger: stamped before the present connection.
    late: bool
    # False: the charger's time could not be right and `at` is the arrival time.
    valid: bool


def parse_time(text: object) -> datetime | None:
    """An OCPP dateTime (ISO 8601, UTC); one without a zone is taken as UTC."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def message_time(
    text: object,
    *,
    arrival: datetime,
    connected_at: datetime,
    not_before: datetime | None = None,
) -> MessageTime:
    """The time of a message stamped `text`, arriving at `arrival` on a connection opened
    at `connected_at`; `not_before`: its transaction's start."""
    moment = parse_time(text)
    if (
        moment is None
        or moment > arrival + FUTURE_TOLERANCE
        or moment < arrival - MAX_QUEUE_AGE
        or (not_before is not None and moment < not_before)
    ):
        return MessageTime(at=arrival, late=False, valid=False)
    return MessageTime(
        at=min(moment, arrival), late=moment < connected_at - LATE_TOLERANCE, valid=True
    )


def iso(moment: datetime) -> str:
    """UTC with a Z, as OCPP writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now_iso() -> str:
    """Now, as OCPP writes times (the central system's answers carry it)."""
    return iso(datetime.now(UTC))
