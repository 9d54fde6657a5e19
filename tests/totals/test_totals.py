"""Running totals over session records: periods in a home time zone, each session once.

Expected instants are written out by hand (UTC offsets from the published DST rules).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_charging_monitor.totals import (
    Period,
    RunningTotal,
    cost_in,
    energy_kwh,
    next_period_start,
    of_charger,
    of_person,
    period_start,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Paraguay moved its clocks from 00:00 to 01:00 on October 1st 2023: that midnight never was.
ASUNCION = ZoneInfo("America/Asuncion")


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _record(seq: int, ended: str, **changes: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": f"s{seq}",
        "ended_at": ended,
        "energy_wh": "1500",
        "charger": {"serial": "A1", "name": "Garage"},
        "authorization": {"person": "Alex", "person_id": "p1"},
        "cost": {"currency": "EUR", "total": "0.45"},
        **changes,
    }


@pytest.mark.parametrize(
    ("period", "moment", "start", "end"),
    [
        # Summer time: the month starts at 22:00 UTC the day before.
        (Period.MONTH, _utc(2026, 7, 15, 12), _utc(2026, 6, 30, 22), _utc(2026, 7, 31, 22)),
        # October holds the night clocks go back: it starts in summer time, ends in winter.
        (Period.MONTH, _utc(2026, 10, 25, 1, 30), _utc(2026, 9, 30, 22), _utc(2026, 10, 31, 23)),
        # 00:30 on November 1st in Berlin is still October in UTC.
        (Period.MONTH, _utc(2026, 10, 31, 23, 30), _utc(2026, 10, 31, 23), _utc(2026, 11, 30, 23)),
        (Period.MONTH, _utc(2026, 10, 31, 22, 59), _utc(2026, 9, 30, 22), _utc(2026, 10, 31, 23)),
        # March: starts in winter time, ends in summer time.
        (Period.MONTH, _utc(2026, 3, 29, 1, 30), _utc(2026, 2, 28, 23), _utc(2026, 3, 31, 22)),
        (Period.MONTH, _utc(2026, 12, 31, 23, 30), _utc(2026, 12, 31, 23), _utc(2027, 1, 31, 23)),
        (Period.YEAR, _utc(2026, 10, 25, 1, 30), _utc(2025, 12, 31, 23), _utc(2026, 12, 31, 23)),
        (Period.YEAR, _utc(2026, 12, 31, 23, 0), _utc(2026, 12, 31, 23), _utc(2027, 12, 31, 23)),
    ],
)
def test_periods_in_berlin(
    period: Period, moment: datetime, start: datetime, end: datetime
) -> None:
    assert period_start(period, moment, BERLIN) == start
    assert next_period_start(period, moment, BERLIN) == end
    local_start = period_start(period, moment, BERLIN)
    assert local_start is not None
    assert local_start.astimezone(BERLIN).hour == 0


def test_a_month_whose_midnight_never_was() -> None:
    """October 2023 in Asuncion began at 01:00 local (04:00 UTC)."""
    start = period_start(Period.MONTH, _utc(2023, 10, 15), ASUNCION)
    assert start == _utc(2023, 10, 1, 4)
    assert start is not None
    assert start.utcoffset() == timedelta(hours=-3)
    assert next_period_start(Period.MONTH, _utc(2023, 9, 20), ASUNCION) == _utc(2023, 10, 1, 4)


def test_all_time_never_resets() -> None:
    assert period_start(Period.ALL, _utc(2026, 1, 1), BERLIN) is None
    assert next_period_start(Period.ALL, _utc(2026, 1, 1), BERLIN) is None
    total = RunningTotal.begin(Period.ALL, _utc(2026, 1, 1), BERLIN)
    assert not total.roll(_utc(2030, 1, 1), BERLIN)


def test_each_session_counts_once_in_its_period() -> None:
    total = RunningTotal.begin(Period.MONTH, _utc(2026, 11, 5), BERLIN)
    select, amount = of_person("p1"), energy_kwh
    assert total.take(_record(1, "2026-11-02T10:00:00Z"), select, amount)
    assert not total.take(_record(1, "2026-11-02T10:00:00Z"), select, amount)  # again
    assert not total.take(_record(2, "2026-11-03T10:00:00Z", authorization={}), select, amount)
    # Recorded late (after a restart) but ended in October: not this month's.
    assert not total.take(_record(3, "2026-10-31T22:59:59Z"), select, amount)
    assert total.take(_record(4, "2026-10-31T23:00:00Z", energy_wh="250"), select, amount)
    assert total.value == Decimal("1.75")
    assert total.seq == 4
    assert total.roll(_utc(2026, 11, 30, 23), BERLIN)
    assert (total.value, total.seq, total.start) == (Decimal(0), 4, _utc(2026, 11, 30, 23))
    assert not total.roll(_utc(2026, 12, 5), BERLIN)  # the same month again


@pytest.mark.parametrize(
    "changes",
    [
        {"energy_wh": "NaN"},
        {"energy_wh": "Infinity"},
        {"energy_wh": "-5"},
        {"energy_wh": 1500},
        {"energy_wh": "lots"},
        {"ended_at": None},
        {"ended_at": "yesterday"},
        {"ended_at": "2026-11-02T10:00:00"},  # no zone: ambiguous
        {"authorization": "Alex"},
    ],
)
def test_garbage_records_are_not_counted(changes: dict[str, Any]) -> None:
    total = RunningTotal.begin(Period.MONTH, _utc(2026, 11, 5), BERLIN)
    total.take(_record(1, "2026-11-02T10:00:00Z", **changes), of_person("p1"), energy_kwh)
    assert total.value == 0
    assert total.seq == 1  # read past: it is not looked at again
    assert not total.take({"seq": "2"}, of_person("p1"), energy_kwh)


def test_cost_only_in_the_instance_currency_and_unpriced_counted() -> None:
    total = RunningTotal.begin(Period.YEAR, _utc(2026, 11, 5), BERLIN)
    select, amount = of_person("p1"), cost_in("EUR")
    total.take(_record(1, "2026-02-02T10:00:00Z"), select, amount)
    total.take(_record(2, "2026-03-02T10:00:00Z", cost=None), select, amount)
    total.take(
        _record(3, "2026-03-02T10:00:00Z", cost={"currency": "CHF", "total": "9"}), select, amount
    )
    total.take(
        _record(4, "2026-03-02T10:00:00Z", cost={"currency": "EUR", "total": None}), select, amount
    )
    total.take(
        _record(5, "2026-04-02T10:00:00Z", cost={"currency": "EUR", "total": "1.05"}),
        select,
        amount,
    )
    assert total.value == Decimal("1.50")
    assert total.missing == 3


def test_sessions_of_one_charger() -> None:
    by_serial = of_charger("A1", "Garage")
    assert by_serial(_record(1, "x"))
    assert by_serial(_record(1, "x", charger={"serial": "A1", "name": "Renamed"}))
    assert not by_serial(_record(1, "x", charger={"serial": "B2", "name": "Garage"}))
    by_name = of_charger(None, "Garage")
    assert by_name(_record(1, "x", charger={"serial": None, "name": "Garage"}))
    assert not by_name(_record(1, "x"))  # another charger of that name with a serial
    assert not by_name(_record(1, "x", charger=None))


def test_saved_form_round_trips_exactly() -> None:
    total = RunningTotal(
        period=Period.MONTH, start=_utc(2026, 10, 31, 23), value=Decimal("12.345"), seq=7
    )
    total.missing = 2
    assert RunningTotal.from_dict(total.to_dict(), Period.MONTH) == total
    forever = RunningTotal(period=Period.ALL, start=None, value=Decimal("3.10"), seq=2)
    assert RunningTotal.from_dict(forever.to_dict(), Period.ALL) == forever


@pytest.mark.parametrize(
    "changes",
    [
        {"period": "year"},
        {"value": "NaN"},
        {"value": 5},
        {"seq": "7"},
        {"missing": None},
        {"start": "not a time"},
        {"start": "2026-11-01T00:00:00"},
        {"start": None},
        {"start": 17},
    ],
)
def test_unreadable_saved_totals_are_refused(changes: dict[str, Any]) -> None:
    data = {"period": "month", "start": "2026-10-31T23:00:00+00:00", "value": "1", "seq": 7}
    assert RunningTotal.from_dict({**data, **changes}, Period.MONTH) is None


def test_a_new_home_time_zone_does_not_empty_the_month() -> None:
    """Berlin's November started at 23:00 UTC; London's starts an hour later."""
    total = RunningTotal.begin(Period.MONTH, _utc(2026, 11, 5), BERLIN)
    total.take(_record(1, "2026-11-02T10:00:00Z"), of_person("p1"), energy_kwh)
    london = ZoneInfo("Europe/London")
    assert not total.roll(_utc(2026, 11, 20), london)
    assert total.value == Decimal("1.5")
    assert total.roll(_utc(2026, 12, 1, 0, 30), london)
    assert total.start == _utc(2026, 12, 1)
