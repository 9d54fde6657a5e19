"""Sessions completed from a charger's late registers (session/late.py), by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from custom_components.ev_charging_monitor.session.active import ActiveSession, Segment
from custom_components.ev_charging_monitor.session.late import (
    TimedTransaction,
    complete_late,
    late_session_id,
)

T = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _minutes(n: int) -> datetime:
    return T + timedelta(minutes=n)


def test_a_transaction_nobody_saw_is_a_new_session_at_its_own_times() -> None:
    transaction = TimedTransaction(
        session_id=late_session_id("CP/1/2026-11-30T10:00:00Z"),
        started_at=T,
        meter_start_wh=Decimal(1000),
        # Out of order and repeated as a charger may send them; one before the start.
        readings=(
            (_minutes(20), Decimal(3000)),
            (_minutes(10), Decimal(2000)),
            (_minutes(10), Decimal(2000)),
            (_minutes(-5), Decimal(900)),
        ),
        ended_at=_minutes(30),
        meter_stop_wh=Decimal(3500),
    )
    completed = complete_late(None, transaction, resolution_wh=None)
    session = completed.session
    assert session.id == late_session_id("CP/1/2026-11-30T10:00:00Z")
    assert session.energy_wh == Decimal(2500)
    assert session.samples == [
        (T, Decimal(0)),
        (_minutes(10), Decimal(1000)),
        (_minutes(20), Decimal(2000)),
        (_minutes(30), Decimal(2500)),
    ]
    assert (completed.ended_at, completed.end_reason) == (_minutes(30), "stopped")
    # 1000 Wh in 10 minutes is 6 kW at most; charged all 30 minutes.
    assert session.max_power_w == 6000.0
    assert session.charging_seconds == 1800
    assert "delivered_late" in session.flags


def test_the_live_session_is_completed_not_replaced() -> None:
    live = ActiveSession(
        id="live",
        started_at=_minutes(5),
        segments=[Segment(Decimal(1200), Decimal(1700))],
        samples=[(_minutes(5), Decimal(0)), (_minutes(10), Decimal(500))],
        last_reading_at=_minutes(40),  # a reading at the reconnect, after the stop
        register_at=_minutes(40),
    )
    transaction = TimedTransaction(
        session_id="live",
        started_at=T,  # the charger started before the tracker saw the car
        meter_start_wh=Decimal(1000),
        readings=((_minutes(20), Decimal(2700)),),
        ended_at=_minutes(30),
        meter_stop_wh=Decimal(3000),
    )
    session = complete_late(live, transaction, resolution_wh=None).session
    assert session is live
    assert session.started_at == T
    assert session.energy_wh == Decimal(2000)
    assert session.samples == [
        (T, Decimal(0)),
        (_minutes(5), Decimal(200)),
        (_minutes(10), Decimal(700)),
        (_minutes(20), Decimal(1700)),
        (_minutes(30), Decimal(2000)),
    ]


def test_a_stop_below_the_last_register_keeps_the_last() -> None:
    transaction = TimedTransaction(
        session_id="x",
        started_at=T,
        meter_start_wh=Decimal(1000),
        readings=((_minutes(10), Decimal(1500)),),
        ended_at=_minutes(20),
        meter_stop_wh=Decimal(0),
    )
    session = complete_late(None, transaction, resolution_wh=None).session
    assert session.energy_wh == Decimal(500)
    assert session.samples[-1] == (_minutes(20), Decimal(500))
    assert "meter_register_dropped" in session.flags
