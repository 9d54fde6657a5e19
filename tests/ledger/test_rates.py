"""Rates, price bases and statements; expected amounts are worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ev_charging_ledger.storage import Ledger, LedgerError
from tests.ledger.integration_records import make_record

MONTH = "2026-03"


def _rate(ledger: Ledger, person_id: int | None, basis: str, **kwargs: object) -> list[str]:
    arguments: dict[str, object] = {
        "person_id": person_id,
        "vehicle_id": None,
        "valid_from": date(2026, 1, 1),
        "valid_to": None,
        "direction": "reimburse",
        "basis": basis,
        "price_per_kwh": None,
        "currency": "EUR",
        **kwargs,
    }
    _, warnings = ledger.add_rate(**arguments)  # type: ignore[arg-type]
    return warnings


@pytest.mark.parametrize(
    ("basis", "price", "expected"),
    [
        # 7.4 kWh x 0.30 = 2.22
        ("fixed_price", Decimal("0.30"), Decimal("2.22")),
        # the session's own tariff cost, 2.22 in the record
        ("tariff_cost", None, Decimal("2.22")),
        # 7.4 kWh x 0.34 (Germany 2026) = 2.516 -> 2.52
        ("flat_price", None, Decimal("2.52")),
    ],
)
def test_amount_per_basis(
    ledger: Ledger, basis: str, price: Decimal | None, expected: Decimal
) -> None:
    person = ledger.add_person("Alex", ha_user_id="u1")
    _rate(ledger, person.id, basis, price_per_kwh=price)
    ledger.append_sessions([make_record(1, user_id="u1", energy_wh=7400, cost_total="2.22")])
    statement = ledger.statement(person.id, MONTH)
    assert statement.amount == expected
    assert statement.bases == [basis]
    assert statement.rows[0].pricing.amount == expected


def test_vehicle_rate_beats_person_rate_and_bill_is_negative(ledger: Ledger) -> None:
    person = ledger.add_person("Alex", ha_user_id="u1")
    car = ledger.add_vehicle("Company car", plate="B-EV 1", person_id=person.id)
    _rate(ledger, person.id, "fixed_price", price_per_kwh=Decimal("0.30"))
    _rate(
        ledger, person.id, "fixed_price", vehicle_id=car.id, price_per_kwh=Decimal("0.40"),
        direction="bill",
    )  # fmt: skip
    ledger.append_sessions(
        [
            make_record(1, user_id="u1", energy_wh=10_000, vehicle="B-EV 1"),
            make_record(2, user_id="u1", energy_wh=10_000),
        ]
    )
    statement = ledger.statement(person.id, MONTH)
    # own car 10 kWh x 0.40 billed (-4.00); unknown car 10 kWh x 0.30 reimbursed (+3.00)
    assert statement.amount == Decimal("-1.00")
    assert sorted(row.pricing.direction or "" for row in statement.rows) == ["bill", "reimburse"]


def test_price_basis_change_mid_year_warns(ledger: Ledger) -> None:
    person = ledger.add_person("Alex")
    assert _rate(ledger, person.id, "flat_price", valid_to=date(2026, 6, 30)) == []
    warnings = _rate(
        ledger, person.id, "fixed_price", valid_from=date(2026, 7, 1),
        price_per_kwh=Decimal("0.30"),
    )  # fmt: skip
    assert warnings == [
        f"person {person.id} has more than one price basis in 2026 (fixed_price, flat_price); "
        "the rules allow one price basis per calendar year"
    ]


def test_missing_tariff_cost_is_flagged_not_zero(ledger: Ledger) -> None:
    person = ledger.add_person("Alex", ha_user_id="u1")
    _rate(ledger, person.id, "tariff_cost")
    ledger.append_sessions([make_record(1, user_id="u1", cost_total=None)])
    statement = ledger.statement(person.id, MONTH)
    assert statement.unpriced == 1
    assert statement.rows[0].pricing.amount is None
    assert statement.rows[0].pricing.problem == "price missing"


def test_reassigned_session_moves_between_statements(ledger: Ledger) -> None:
    alex = ledger.add_person("Alex", ha_user_id="u1")
    sam = ledger.add_person("Sam", ha_user_id="u2")
    for person in (alex, sam):
        _rate(ledger, person.id, "fixed_price", price_per_kwh=Decimal("0.50"))
    records = [make_record(seq, user_id="u1", energy_wh=2000) for seq in (1, 2)]
    ledger.append_sessions(records)
    ledger.add_adjustment(
        records[1]["id"], "reassign", reason="Sam drove", author="admin",
        data={"person_id": sam.id, "vehicle_id": None},
    )  # fmt: skip
    # 2 kWh x 0.50 = 1.00 each
    assert ledger.statement(alex.id, MONTH).amount == Decimal("1.00")
    assert ledger.statement(sam.id, MONTH).amount == Decimal("1.00")
    assert [t.month for t in ledger.monthly_totals(sam.id, 2026)] == [MONTH]


def test_month_is_the_local_month_of_the_start(ledger: Ledger) -> None:
    from datetime import UTC, datetime

    person = ledger.add_person("Alex", ha_user_id="u1")
    # 23:30 UTC on 31 March is 01:30 on 1 April in Berlin (summer time).
    record = make_record(1, user_id="u1", started=datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    ledger.append_sessions([record])
    assert ledger.statement(person.id, "2026-03").rows == []
    assert len(ledger.statement(person.id, "2026-04").rows) == 1


def test_manual_external_session(ledger: Ledger) -> None:
    from datetime import UTC, datetime

    person = ledger.add_person("Alex")
    _rate(ledger, person.id, "tariff_cost")
    session_id = ledger.add_manual_session(
        author="Alex", started_at=datetime(2026, 3, 5, 10, tzinfo=UTC),
        ended_at=datetime(2026, 3, 5, 11, tzinfo=UTC), energy_wh=Decimal("20000"),
        cost_total=Decimal("11.80"), currency="EUR", time_zone="Europe/Berlin",
        person_id=person.id, vehicle_id=None, location="Ionity A9",
    )  # fmt: skip
    detail = ledger.session(session_id)
    assert detail is not None
    assert detail.summary.source == "manual"
    assert detail.record["flags"] == ["manual_external"]
    assert detail.summary.evidence_class == "estimate"
    assert ledger.statement(person.id, MONTH).amount == Decimal("11.80")
    assert ledger.verify().ok
    assert ledger.last_seq() == 0  # manual entries never move the HA sequence


def test_rate_validation(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="fixed_price rate needs"):
        _rate(ledger, None, "fixed_price")
    with pytest.raises(LedgerError, match="basis must be one of"):
        _rate(ledger, None, "guess")
