"""Sessions crossing a month boundary: split at local midnight of the month's first day.

Every expected energy and amount is worked out by hand in the comments (elapsed real
hours, shares, products, rounding half up); the split code is only the thing checked.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from custom_components.ev_charging_monitor.ledger_link import contract
from ev_charging_ledger.storage import Ledger, Statement
from tests.ledger.integration_records import make_record


def _person_with_rate(
    ledger: Ledger, basis: str, price: Decimal | None = None, user: str = "u1"
) -> int:
    person = ledger.add_person("Alex Driver", ha_user_id=user, personnel_number="4711")
    ledger.add_rate(
        person_id=person.id, vehicle_id=None, valid_from=date(2026, 1, 1), valid_to=None,
        direction="reimburse", basis=basis, price_per_kwh=price, currency="EUR",
        note="employer price 2026",
    )  # fmt: skip
    return person.id


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _only_row(statement: Statement) -> Any:
    (row,) = statement.rows
    return row


def test_session_over_october_end_is_split_by_interpolation(ledger: Ledger) -> None:
    person = _person_with_rate(ledger, "fixed_price", Decimal("0.305"))
    # 31 Oct 2026 23:00 to 1 Nov 03:00 in Berlin (CET, UTC+1, summer time ended on 25 Oct):
    # 22:00Z to 02:00Z, four real hours; midnight is 23:00Z, one hour in.
    record = make_record(
        1, user_id="u1", started=datetime(2026, 10, 31, 22, 0, tzinfo=UTC), minutes=240,
        energy_wh=7_001, meter_start_wh=1_000_000, cost_total="2.10",
    )  # fmt: skip
    ledger.append_sessions([record])
    october = ledger.statement(person, "2026-10")
    november = ledger.statement(person, "2026-11")
    first, second = _only_row(october), _only_row(november)
    # Only the two ends are readings: 7001 Wh x 1/4 = 1750.25 -> 1750 Wh; the rest, 5251 Wh.
    assert first.energy_wh == Decimal(1750)
    assert second.energy_wh == Decimal(5251)
    assert first.energy_wh + second.energy_wh == Decimal(7001)
    assert (first.part.method, second.part.method) == ("interpolated", "interpolated")
    assert (first.part.index, first.part.count, second.part.index) == (0, 2, 1)
    midnight = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert [_at(first.started_at), _at(first.ended_at)] == [_at(record["started_at"]), midnight]
    assert [_at(second.started_at), _at(second.ended_at)] == [midnight, _at(record["ended_at"])]
    # Registers: 1 000 000 Wh at the start, 1 001 750 at midnight, 1 007 001 at the end.
    assert (first.meter_start_wh, first.meter_end_wh) == (Decimal(1_000_000), Decimal(1_001_750))
    assert (second.meter_start_wh, second.meter_end_wh) == (Decimal(1_001_750), Decimal(1_007_001))
    # Money on running totals: 1.750 kWh x 0.305 = 0.53375 -> 0.53; the whole session
    # 7.001 x 0.305 = 2.135305 -> 2.14, so November gets 2.14 - 0.53 = 1.61 (rounding
    # November alone, 5.251 x 0.305 = 1.601555 -> 1.60, would lose a cent).
    assert first.pricing.amount == Decimal("0.53")
    assert second.pricing.amount == Decimal("1.61")
    assert (october.amount, november.amount) == (Decimal("0.53"), Decimal("1.61"))
    assert (october.energy_wh, november.energy_wh) == (Decimal(1750), Decimal(5251))
    detail = ledger.session(record["id"])
    assert detail is not None
    assert detail.pricing.amount == Decimal("2.14")
    # The months before and after hold nothing of it.
    assert ledger.statement(person, "2026-09").rows == []
    assert ledger.statement(person, "2026-12").rows == []
    totals = {total.month: total for total in ledger.monthly_totals(person, 2026)}
    assert totals["2026-10"].energy_wh == Decimal(1750)
    assert totals["2026-11"].energy_wh == Decimal(5251)
    assert totals["2026-11"].amount == Decimal("1.61")


def _with_intervals(record: dict[str, Any], intervals: list[dict[str, Any]]) -> dict[str, Any]:
    total = sum(Decimal(item["cost"]) for item in intervals)
    record["cost"] = {**record["cost"], "total": str(total), "intervals": intervals}
    problems = contract.problems(record)
    assert not problems, problems
    return record


def test_reading_at_midnight_splits_energy_and_tariff_cost_exactly(ledger: Ledger) -> None:
    person = _person_with_rate(ledger, "tariff_cost")
    record = make_record(
        1, user_id="u1", started=datetime(2026, 10, 31, 22, 0, tzinfo=UTC), minutes=240,
        energy_wh=7_400,
    )  # fmt: skip
    # The integration read the register at the price change at midnight (23:00Z): 2000 Wh
    # before it at 0.40 = 0.80, 5400 Wh after it at 0.25 = 1.35; 2.15 in all.
    _with_intervals(
        record,
        [
            {"start": "2026-10-31T22:00:00Z", "end": "2026-10-31T23:00:00Z",
             "energy_wh": "2000", "price_per_kwh": "0.40", "cost": "0.80",
             "interpolated": False},
            {"start": "2026-10-31T23:00:00Z", "end": "2026-11-01T02:00:00Z",
             "energy_wh": "5400", "price_per_kwh": "0.25", "cost": "1.35",
             "interpolated": False},
        ],
    )  # fmt: skip
    ledger.append_sessions([record])
    first = _only_row(ledger.statement(person, "2026-10"))
    second = _only_row(ledger.statement(person, "2026-11"))
    # Linear interpolation would have said 7400 / 4 = 1850 Wh; the reading says 2000.
    assert (first.energy_wh, second.energy_wh) == (Decimal(2000), Decimal(5400))
    assert (first.part.method, second.part.method) == ("reading", "reading")
    assert (first.pricing.amount, second.pricing.amount) == (Decimal("0.80"), Decimal("1.35"))
    detail = ledger.session(record["id"])
    assert detail is not None
    assert detail.pricing.amount == Decimal("2.15")


def test_interpolated_price_boundary_is_not_taken_as_a_reading(ledger: Ledger) -> None:
    person = _person_with_rate(ledger, "fixed_price", Decimal("0.30"))
    record = make_record(
        1, user_id="u1", started=datetime(2026, 10, 31, 22, 0, tzinfo=UTC), minutes=240,
        energy_wh=7_400,
    )  # fmt: skip
    _with_intervals(
        record,
        [
            {"start": "2026-10-31T22:00:00Z", "end": "2026-10-31T23:00:00Z",
             "energy_wh": "2000", "price_per_kwh": "0.30", "cost": "0.60",
             "interpolated": True},
            {"start": "2026-10-31T23:00:00Z", "end": "2026-11-01T02:00:00Z",
             "energy_wh": "5400", "price_per_kwh": "0.30", "cost": "1.62",
             "interpolated": True},
        ],
    )  # fmt: skip
    ledger.append_sessions([record])
    first = _only_row(ledger.statement(person, "2026-10"))
    # The integration's own interpolated value is used, but marked interpolated.
    assert first.energy_wh == Decimal(2000)
    assert first.part.method == "interpolated"


def test_week_long_session_over_the_dst_night_splits_by_real_hours(ledger: Ledger) -> None:
    person = _person_with_rate(ledger, "fixed_price", Decimal("0.30"))
    # 24 Oct 2026 20:00 CEST (18:00Z) to 1 Nov 04:00 CET (03:00Z). Midnight of 1 Nov is
    # 23:00Z on 31 Oct. Real hours: 7 days 5 h = 173 h in October (the 25th had 25 h),
    # 4 h in November, 177 h in all. 17 700 Wh x 173/177 = 17 300 Wh; 400 Wh in November.
    # (Counting wall-clock hours, 172 of 176, would give 17 298.)
    record = make_record(
        1, user_id="u1", started=datetime(2026, 10, 24, 18, 0, tzinfo=UTC),
        minutes=177 * 60, energy_wh=17_700,
    )  # fmt: skip
    ledger.append_sessions([record])
    first = _only_row(ledger.statement(person, "2026-10"))
    second = _only_row(ledger.statement(person, "2026-11"))
    assert (first.energy_wh, second.energy_wh) == (Decimal(17_300), Decimal(400))
    # 17.3 x 0.30 = 5.19; 17.7 x 0.30 = 5.31 -> November 0.12.
    assert (first.pricing.amount, second.pricing.amount) == (Decimal("5.19"), Decimal("0.12"))


def test_midnight_that_occurs_twice_and_midnight_that_never_occurs(ledger: Ledger) -> None:
    havana = _person_with_rate(ledger, "fixed_price", Decimal("0.30"), user="u1")
    asuncion = _person_with_rate(ledger, "fixed_price", Decimal("0.30"), user="u2")
    # Havana, 1 Nov 2026: clocks go from 01:00 CDT back to 00:00 CST, so midnight occurs
    # twice; the month starts at the first, 00:00 CDT = 04:00Z. A session 31 Oct 23:00
    # CDT (03:00Z) to 1 Nov 03:00 CST (08:00Z) lasts 5 real hours, 1 of them in October:
    # 10 000 Wh / 5 = 2000 Wh in October, 8000 in November.
    cuba = make_record(
        1, user_id="u1", started=datetime(2026, 11, 1, 3, 0, tzinfo=UTC), minutes=300,
        energy_wh=10_000, time_zone="America/Havana",
    )  # fmt: skip
    # Asuncion, 1 Oct 2023: clocks jump from 00:00 (-04) to 01:00 (-03); the month starts
    # at the jump, 04:00Z. 30 Sep 22:00 (-04, 02:00Z) to 1 Oct 03:00 (-03, 06:00Z) is 4
    # real hours, 2 in September: 8000 Wh split 4000 / 4000.
    paraguay = make_record(
        2, user_id="u2", started=datetime(2023, 10, 1, 2, 0, tzinfo=UTC), minutes=240,
        energy_wh=8_000, time_zone="America/Asuncion",
    )  # fmt: skip
    ledger.append_sessions([cuba, paraguay])
    assert _only_row(ledger.statement(havana, "2026-10")).energy_wh == Decimal(2000)
    assert _only_row(ledger.statement(havana, "2026-11")).energy_wh == Decimal(8000)
    assert _only_row(ledger.statement(asuncion, "2023-09")).energy_wh == Decimal(4000)
    assert _only_row(ledger.statement(asuncion, "2023-10")).energy_wh == Decimal(4000)


def test_session_over_new_year_takes_each_years_flat_price(ledger: Ledger) -> None:
    person = _person_with_rate(ledger, "flat_price")
    # A test value for 2027 (the official one is not published yet); 2026 is the ledger's
    # own 0.34 EUR/kWh.
    ledger.add_flat_price(2027, "DE", Decimal("0.3512"), "EUR", "test value 2027")
    # 31 Dec 2026 22:30 to 1 Jan 2027 01:30 in Berlin (21:30Z to 00:30Z), three hours,
    # half of them in 2026: 9001 Wh / 2 = 4500.5 -> 4501 Wh in December, 4500 in January.
    record = make_record(
        1, user_id="u1", started=datetime(2026, 12, 31, 21, 30, tzinfo=UTC), minutes=180,
        energy_wh=9_001,
    )  # fmt: skip
    ledger.append_sessions([record])
    december = _only_row(ledger.statement(person, "2026-12"))
    january = _only_row(ledger.statement(person, "2027-01"))
    assert (december.energy_wh, january.energy_wh) == (Decimal(4501), Decimal(4500))
    assert december.pricing.price_per_kwh == Decimal("0.34")
    assert january.pricing.price_per_kwh == Decimal("0.3512")
    # 4.501 x 0.34 = 1.53034 -> 1.53; running total + 4.5 x 0.3512 = 1.5804 gives
    # 3.11074 -> 3.11, so January shows 3.11 - 1.53 = 1.58.
    assert (december.pricing.amount, january.pricing.amount) == (Decimal("1.53"), Decimal("1.58"))
    detail = ledger.session(record["id"])
    assert detail is not None
    assert detail.pricing.amount == Decimal("3.11")
    assert [t.month for t in ledger.monthly_totals(person, 2027)] == ["2027-01"]
    assert [t.month for t in ledger.monthly_totals(person, 2026)] == ["2026-12"]


def test_session_ending_exactly_at_midnight_is_not_split(ledger: Ledger) -> None:
    person = _person_with_rate(ledger, "fixed_price", Decimal("0.30"))
    record = make_record(
        1, user_id="u1", started=datetime(2026, 10, 31, 21, 0, tzinfo=UTC), minutes=120,
    )  # fmt: skip
    ledger.append_sessions([record])
    row = _only_row(ledger.statement(person, "2026-10"))
    assert row.part is None
    assert row.energy_wh == Decimal(7400)
    assert ledger.statement(person, "2026-11").rows == []


def test_garbage_intervals_fall_back_to_interpolation(ledger: Ledger) -> None:
    person = _person_with_rate(ledger, "fixed_price", Decimal("0.30"))
    record = make_record(
        1, user_id="u1", started=datetime(2026, 10, 31, 22, 0, tzinfo=UTC), minutes=240,
        energy_wh=7_400,
    )  # fmt: skip
    # They add up to the session's 7400 Wh, but the register would have run backwards:
    # 9000 Wh at midnight is more than the session ever charged. Not a reading to trust.
    _with_intervals(
        record,
        [
            {"start": "2026-10-31T22:00:00Z", "end": "2026-10-31T23:00:00Z",
             "energy_wh": "9000", "price_per_kwh": "0.30", "cost": "2.70",
             "interpolated": False},
            {"start": "2026-10-31T23:00:00Z", "end": "2026-11-01T02:00:00Z",
             "energy_wh": "-1600", "price_per_kwh": "0.30", "cost": "-0.48",
             "interpolated": False},
        ],
    )  # fmt: skip
    ledger.append_sessions([record])
    first = _only_row(ledger.statement(person, "2026-10"))
    second = _only_row(ledger.statement(person, "2026-11"))
    # The two ends only: 7400 Wh x 1/4 = 1850 Wh in October, 5550 Wh in November;
    # 1.85 x 0.30 = 0.555 -> 0.56, 7.4 x 0.30 = 2.22 -> November 1.66.
    assert (first.energy_wh, second.energy_wh) == (Decimal(1850), Decimal(5550))
    assert (first.part.method, second.part.method) == ("interpolated", "interpolated")
    assert (first.pricing.amount, second.pricing.amount) == (Decimal("0.56"), Decimal("1.66"))


def test_corrected_energy_is_split_in_the_same_proportion(ledger: Ledger) -> None:
    person = _person_with_rate(ledger, "fixed_price", Decimal("0.30"))
    record = make_record(
        1, user_id="u1", started=datetime(2026, 10, 31, 22, 0, tzinfo=UTC), minutes=240,
        energy_wh=7_400,
    )  # fmt: skip
    ledger.append_sessions([record])
    ledger.add_adjustment(
        record["id"], "correct_energy", reason="reading on the meter photo", author="admin",
        data={"energy_wh": "8000"},
    )  # fmt: skip
    first = _only_row(ledger.statement(person, "2026-10"))
    second = _only_row(ledger.statement(person, "2026-11"))
    # 8000 Wh x 1850/7400 = 2000 Wh in October, 6000 in November; no register at the cut,
    # as the corrected energy is no longer the meter's own.
    assert (first.energy_wh, second.energy_wh) == (Decimal(2000), Decimal(6000))
    assert first.meter_end_wh is None
    assert second.meter_start_wh is None
    assert first.part.method == "interpolated"
