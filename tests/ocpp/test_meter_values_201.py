"""OCPP 2.0.1 sampled values and the station transaction book, without Home Assistant."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.ev_charging_monitor.central_system.charge_point_201 import station_status
from custom_components.ev_charging_monitor.central_system.meter_values_201 import (
    parse_meter_values_201,
)
from custom_components.ev_charging_monitor.central_system.transactions import (
    ENDED_KEPT,
    TransactionBook,
)


def _values(*sampled: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"timestamp": "2026-03-01T20:00:00Z", "sampled_value": list(sampled)}]


def test_a_bare_value_is_the_register_in_wh() -> None:
    assert parse_meter_values_201(_values({"value": 1234567})).values == {"energy": 1234567.0}


@pytest.mark.parametrize(
    ("unit_of_measure", "expected_wh"),
    [
        ({"unit": "Wh"}, 1234.567),
        ({"unit": "kWh"}, 1234567.0),
        ({"unit": "Wh", "multiplier": 3}, 1234567.0),
        ({"unit": "kWh", "multiplier": -3}, 1234.567),
        ({"multiplier": 3}, 1234567.0),  # the unit defaults to Wh
        ({}, 1234.567),
    ],
)
def test_units_and_multipliers_scale_exactly(
    unit_of_measure: dict[str, Any], expected_wh: float
) -> None:
    sample = parse_meter_values_201(
        _values({"value": 1234.567, "unit_of_measure": unit_of_measure})
    )
    # Exactly the decimal number by hand, not 1234.567 * 1000 in floats (1234566.9999...).
    assert sample.values == {"energy": expected_wh}


def test_power_in_kw_and_values_of_each_phase() -> None:
    sample = parse_meter_values_201(
        _values(
            {"value": 7.4, "measurand": "Power.Active.Import", "unit_of_measure": {"unit": "kW"}},
            {"value": 16.1, "measurand": "Current.Import", "phase": "L1"},
            {"value": 15.9, "measurand": "Current.Import", "phase": "L2"},
            {"value": 231, "measurand": "Voltage", "phase": "L3-N"},
            {"value": 3700, "measurand": "Power.Active.Import", "phase": "L2"},
            {"value": 400, "measurand": "Voltage", "phase": "L1-L2"},  # line-to-line: no field
        )
    )
    assert sample.values == {
        "power": 7400.0,
        "current_l1": 16.1,
        "current_l2": 15.9,
        "voltage_l3": 231.0,
        "power_l2": 3700.0,
    }


def test_a_unit_that_does_not_fit_the_measurand_is_skipped() -> None:
    sample = parse_meter_values_201(
        _values(
            {"value": 5, "unit_of_measure": {"unit": "varh"}},
            {"value": 7, "measurand": "Power.Active.Import", "unit_of_measure": {"unit": "Wh"}},
            {"value": 42, "measurand": "SoC", "location": "EV", "unit_of_measure": {"unit": "Wh"}},
            {"value": 10, "measurand": "Current.Offered", "unit_of_measure": {"unit": "W"}},
        )
    )
    assert sample.values == {}


@pytest.mark.parametrize(
    "garbage",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        "NaN",
        "abc",
        "",
        None,
        True,
        [1],
        {"v": 1},
    ],
)
def test_garbage_is_skipped_and_the_rest_kept(garbage: object) -> None:
    sample = parse_meter_values_201(
        _values(
            {"value": garbage},
            {"value": 11000, "measurand": "Power.Active.Import"},
        )
    )
    assert sample.values == {"power": 11000.0}


def test_a_value_beyond_a_float_after_scaling_is_skipped() -> None:
    sample = parse_meter_values_201(
        _values({"value": 1e308, "unit_of_measure": {"unit": "kWh", "multiplier": 9}})
    )
    assert sample.values == {}


@pytest.mark.parametrize("multiplier", [10**6, "3", 3.0, None, 99])
def test_a_multiplier_that_is_no_small_integer_is_skipped(multiplier: object) -> None:
    sample = parse_meter_values_201(_values({"value": 1, "unit_of_measure": {"multiplier": 3}}))
    assert sample.values == {"energy": 1000.0}
    bad = parse_meter_values_201(
        _values({"value": 1, "unit_of_measure": {"multiplier": multiplier}})
    )
    assert bad.values == {}


@pytest.mark.parametrize(
    "message",
    [
        [{"timestamp": "x"}],
        [{"timestamp": "x", "sampled_value": "nope"}],
        [{"timestamp": "x", "sampled_value": ["nope", 3, None]}],
        [],
    ],
)
def test_malformed_meter_values_give_nothing(message: list[dict[str, Any]]) -> None:
    sample = parse_meter_values_201(message)
    assert (sample.values, sample.signed) == ({}, [])


def test_a_signed_sampled_value_is_read_for_its_number_only() -> None:
    """The signed data is signed.py's; the sampled value's own number is the register."""
    signed = {
        "signed_meter_data": "T0NNRnx7fXx7fQ==",
        "signing_method": "",
        "encoding_method": "OCMF",
        "public_key": "",
    }
    sample = parse_meter_values_201(
        _values(
            {"value": 2345.678, "unit_of_measure": {"unit": "kWh"}, "signed_meter_value": signed}
        )
    )
    assert sample.values == {"energy": 2345678.0}
    assert sample.signed == []


def test_later_entries_win() -> None:
    sample = parse_meter_values_201(
        [
            {"timestamp": "a", "sampled_value": [{"value": 100}]},
            {"timestamp": "b", "sampled_value": [{"value": 200}]},
        ]
    )
    assert sample.values == {"energy": 200.0}


@pytest.mark.parametrize(
    ("connector", "charging", "in_transaction", "expected"),
    [
        ("Available", None, False, "Available"),
        ("Occupied", None, False, "Preparing"),
        ("Occupied", "EVConnected", True, "Preparing"),
        ("Occupied", "Charging", True, "Charging"),
        ("Occupied", "SuspendedEV", True, "SuspendedEV"),
        ("Occupied", "SuspendedEVSE", True, "SuspendedEVSE"),
        ("Occupied", "EVConnected", False, "Finishing"),
        (None, "Charging", True, "Charging"),  # reconnected: no StatusNotification yet
        (None, None, False, None),
        ("Faulted", "Charging", True, "Faulted"),
        ("Unavailable", None, False, "Unavailable"),
    ],
)
def test_connector_status_and_charging_state_make_the_16_status(
    connector: str | None, charging: str | None, in_transaction: bool, expected: str | None
) -> None:
    assert station_status(connector, charging, in_transaction) == expected


def test_station_transactions_take_each_seq_no_once() -> None:
    book = TransactionBook(next_id=7)
    opened = book.start_station("CS", "uuid-1", 1, "", 1000, "2026-03-01T20:00:00Z")
    assert opened.transaction_id == 7
    assert book.take_seq_no("CS", 0)
    assert not book.take_seq_no("CS", 0)
    assert book.take_seq_no("CS", 2)
    assert book.take_seq_no("CS", 1)  # late but new
    assert not book.take_seq_no("CS", 2)
    identified = book.identify_station("CS", "04A1B2C3")
    assert identified is not None
    assert identified.id_tag == "04A1B2C3"
    # Equal to the transaction it was, whatever seqNos were noted since.
    assert identified.seq_nos == (0, 2, 1)
    assert book.station_transaction("CS", "uuid-2") is None
    assert book.stop_station("CS", "uuid-2") is None
    assert book.stop_station("CS", "uuid-1") == identified
    assert book.station_ended("CS", "uuid-1")
    assert book.stop_station("CS", "uuid-1") is None
    # A 1.6 transaction after it still gets the next id.
    started, new = book.start("CS", 1, "04A1B2C3", 2000, "2026-03-01T21:00:00Z")
    assert (started.transaction_id, new) == (8, True)


def test_the_station_book_survives_a_restart() -> None:
    book = TransactionBook()
    book.start_station("CS", "uuid-1", 1, "tag", 1000, "t0")
    book.take_seq_no("CS", 0)
    book.take_seq_no("CS", 1)
    book.start_station("OTHER", "uuid-x", 1, "", 0, "t0")
    book.stop_station("OTHER", "uuid-x")
    again = TransactionBook.from_dict(book.to_dict())
    assert again.station_transaction("CS", "uuid-1") == book.open["CS"]
    assert not again.take_seq_no("CS", 1)
    assert again.station_ended("OTHER", "uuid-x")
    # A book written before 2.0.1 existed reads as before.
    old = {"next_id": 5, "open": {"CP": {**book.to_dict()["open"]["CS"]}}}
    for key in ("station_transaction_id", "seq_nos"):
        del old["open"]["CP"][key]
    legacy = TransactionBook.from_dict(old)
    assert legacy.open["CP"].station_transaction_id is None
    assert legacy.ended_station == {}


def test_only_the_latest_ended_station_ids_are_kept() -> None:
    book = TransactionBook()
    for number in range(ENDED_KEPT + 5):
        book.start_station("CS", f"tx-{number}", 1, "", 0, "t")
        book.stop_station("CS", f"tx-{number}")
    assert len(book.ended_station["CS"]) == ENDED_KEPT
    assert not book.station_ended("CS", "tx-0")
    assert book.station_ended("CS", f"tx-{ENDED_KEPT + 4}")
