"""OCPP 1.6 sampled values and the transaction book, without Home Assistant."""

from __future__ import annotations

import pytest

from custom_components.ev_charging_monitor.central_system.meter_values import parse_meter_values
from custom_components.ev_charging_monitor.central_system.transactions import TransactionBook


def _values(*sampled: dict[str, str]) -> list[dict[str, object]]:
    return [{"timestamp": "2026-03-01T20:00:00Z", "sampled_value": list(sampled)}]


def test_register_without_measurand_is_energy_in_wh() -> None:
    assert parse_meter_values(_values({"value": "1234567"})).values == {"energy": 1234567.0}


def test_kwh_and_kw_are_scaled() -> None:
    sample = parse_meter_values(
        _values(
            {"value": "1234.567", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
            {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
        )
    )
    assert sample.values == {"energy": 1234567.0, "power": 7400.0}


def test_every_kwh_register_with_three_decimals_is_its_wh_exactly() -> None:
    """A float multiply made 1024.003 kWh 1024002.9999999999 Wh (one in nine of these)."""
    for wh in range(1_024_000, 1_034_000):
        text = f"{wh // 1000}.{wh % 1000:03d}"
        sample = parse_meter_values(_values({"value": text, "unit": "kWh"}))
        assert sample.values == {"energy": float(wh)}, text


def test_phases_go_to_their_fields() -> None:
    sample = parse_meter_values(
        _values(
            {"value": "16.1", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
            {"value": "231", "measurand": "Voltage", "phase": "L2-N", "unit": "V"},
            {"value": "3700", "measurand": "Power.Active.Import", "phase": "L3", "unit": "W"},
        )
    )
    assert sample.values == {"current_l1": 16.1, "voltage_l2": 231.0, "power_l3": 3700.0}


@pytest.mark.parametrize("garbage", ["NaN", "inf", "-inf", "abc", "", "1e999"])
def test_a_value_that_is_no_finite_number_is_skipped(garbage: str) -> None:
    sample = parse_meter_values(
        _values({"value": garbage}, {"value": "5", "measurand": "Power.Active.Import"})
    )
    assert sample.values == {"power": 5.0}


def test_signed_data_is_kept_verbatim_and_never_read_as_energy() -> None:
    ocmf = 'OCMF|{"FV":"1.0"}|{"SD":"00"}'
    sample = parse_meter_values(
        _values({"value": ocmf, "format": "SignedData", "context": "Transaction.End"})
    )
    assert sample.values == {}
    assert sample.signed == [ocmf]


def test_the_vehicles_energy_and_unknown_measurands_are_ignored_its_soc_is_read() -> None:
    sample = parse_meter_values(
        _values(
            {"value": "80", "measurand": "SoC", "location": "EV", "unit": "Percent"},
            {"value": "9", "measurand": "Energy.Active.Import.Register", "location": "EV"},
            {"value": "50", "measurand": "Frequency"},
        )
    )
    assert sample.values == {"soc": 80.0}


def test_a_repeated_start_gets_the_same_id_and_a_new_one_the_next() -> None:
    book = TransactionBook()
    first, new = book.start("CP", 1, "TAG", 1000, "2026-03-01T20:00:00Z")
    again, repeated_new = book.start("CP", 1, "TAG", 1000, "2026-03-01T20:00:00Z")
    assert (first.transaction_id, new) == (1, True)
    assert (again.transaction_id, repeated_new) == (1, False)
    assert book.stop("CP", 1) == first
    assert book.stop("CP", 1) is None  # a repeated stop
    second, _ = book.start("CP", 1, "TAG", 2000, "2026-03-01T21:00:00Z")
    assert second.transaction_id == 2


def test_the_book_survives_a_round_trip() -> None:
    book = TransactionBook()
    book.start("CP-1", 1, "TAG", 1000, "2026-03-01T20:00:00Z")
    book.start("CP-2", 1, "OTHER", 5, "2026-03-01T20:05:00Z")
    copy = TransactionBook.from_dict(book.to_dict())
    assert copy == book
    assert copy.next_id == 3


def test_id_minus_one_stops_the_open_transaction() -> None:
    """A charger whose start was never confirmed stops with transaction id -1."""
    book = TransactionBook()
    started, _ = book.start("CP", 1, "TAG", 1000, "2026-03-01T20:00:00Z")
    assert book.stop("CP", 7) is None  # some other transaction: the open one stays
    assert book.stop("CP", -1) == started
    assert book.open == {}
