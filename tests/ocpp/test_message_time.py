"""The time a charger's message counts at, and whether it was queued (message_time.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_charging_monitor.central_system.message_time import message_time

ARRIVAL = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CONNECTED = datetime(2026, 11, 30, 11, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stamp", "at", "late", "valid"),
    [
        # Sent as it happened on this connection.
        ("2026-11-30T11:59:40Z", datetime(2026, 11, 30, 11, 59, 40, tzinfo=UTC), False, True),
        # A clock 8 s behind is no queue.
        ("2026-11-30T11:58:52Z", datetime(2026, 11, 30, 11, 58, 52, tzinfo=UTC), False, True),
        # Stamped an hour before the connection opened: queued.
        ("2026-11-30T10:59:00Z", datetime(2026, 11, 30, 10, 59, tzinfo=UTC), True, True),
        # Other zone, fractions: the same instant.
        (
            "2026-11-30T11:59:00.500+01:00",
            datetime(2026, 11, 30, 10, 59, 0, 500000, tzinfo=UTC),
            True,
            True,
        ),
        # 30 s ahead is a clock difference, taken as the arrival at most.
        ("2026-11-30T12:00:30Z", ARRIVAL, False, True),
        # Two minutes ahead, 40 days old, no time at all: the arrival, flagged.
        ("2026-11-30T12:02:00Z", ARRIVAL, False, False),
        ("2026-10-21T12:00:00Z", ARRIVAL, False, False),
        ("yesterday", ARRIVAL, False, False),
        (None, ARRIVAL, False, False),
    ],
)
def test_message_time(stamp: object, at: datetime, late: bool, valid: bool) -> None:
    moment = message_time(stamp, arrival=ARRIVAL, connected_at=CONNECTED)
    assert (moment.at, moment.late, moment.valid) == (at, late, valid)


def test_before_its_transaction_started_is_the_arrival() -> None:
    moment = message_time(
        "2026-11-30T10:00:00Z",
        arrival=ARRIVAL,
        connected_at=CONNECTED,
        not_before=ARRIVAL - timedelta(minutes=30),
    )
    assert (moment.at, moment.late, moment.valid) == (ARRIVAL, False, False)
