"""Offered limits, state of charge, late signed values and per-connector meter keys,
without Home Assistant. Expected values are written by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from custom_components.ev_charging_monitor.central_system.late_signed import mismatch
from custom_components.ev_charging_monitor.central_system.meter_values import (
    parse_meter_values,
    signals,
)
from custom_components.ev_charging_monitor.central_system.meter_values_201 import (
    parse_meter_values_201,
)
from custom_components.ev_charging_monitor.central_system.signed import (
    MAX_LATE_KEPT,
    SignedValues,
    unwrap,
)
from simulators.ocpp_alfen import _der_hex


def _values(*sampled: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"timestamp": "2026-03-01T20:00:00Z", "sampled_value": list(sampled)}]


def test_1_6_offered_values_and_soc_with_their_units() -> None:
    sample = parse_meter_values(
        _values(
            {"value": "16", "measurand": "Current.Offered", "unit": "A"},
            {"value": "7.36", "measurand": "Power.Offered", "unit": "kW"},
            {"value": "80", "measurand": "SoC", "location": "EV", "unit": "Percent"},
        )
    )
    assert sample.values == {"current_offered": 16.0, "power_offered": 7360.0, "soc": 80.0}
    # Without a unit each has its own (1.6's default Wh fits none of them).
    bare = parse_meter_values(
        _values(
            {"value": "6", "measurand": "Current.Offered"},
            {"value": "1380", "measurand": "Power.Offered"},
            {"value": "12.5", "measurand": "SoC"},
        )
    )
    assert bare.values == {"current_offered": 6.0, "power_offered": 1380.0, "soc": 12.5}


@pytest.mark.parametrize(
    ("sampled", "why"),
    [
        ({"value": "16", "measurand": "Current.Offered", "unit": "W"}, "a current in W"),
        ({"value": "7", "measurand": "Power.Offered", "unit": "kWh"}, "a power in kWh"),
        ({"value": "50", "measurand": "SoC", "unit": "Wh"}, "a state of charge in Wh"),
        ({"value": "-1", "measurand": "SoC"}, "below 0 %"),
        ({"value": "100.01", "measurand": "SoC"}, "above 100 %"),
        ({"value": "NaN", "measurand": "SoC"}, "no number"),
        ({"value": "-0.1", "measurand": "Current.Offered"}, "a negative limit"),
        ({"value": "5000.1", "measurand": "Current.Offered"}, "more than any charger"),
        ({"value": "5.1", "measurand": "Power.Offered", "unit": "MW"}, "an unknown unit"),
        ({"value": "5001", "measurand": "Power.Offered", "unit": "kW"}, "more than any charger"),
        ({"value": "1e999999", "measurand": "Power.Offered"}, "no float"),
        ({"value": "7", "measurand": "Current.Offered", "location": "EV"}, "the vehicle's"),
    ],
)
def test_1_6_a_signal_it_cannot_be_is_skipped(sampled: dict[str, Any], why: str) -> None:
    assert parse_meter_values(_values(sampled)).values == {}, why


def test_2_0_1_offered_values_and_soc_with_multipliers() -> None:
    sample = parse_meter_values_201(
        _values(
            {"value": 160, "measurand": "Current.Offered", "unit_of_measure": {"multiplier": -1}},
            {"value": 7.36, "measurand": "Power.Offered", "unit_of_measure": {"unit": "kW"}},
            {"value": 3, "measurand": "Power.Offered", "phase": "L1"},
            {"value": 55, "measurand": "SoC", "location": "EV"},
        )
    )
    # By hand: 160 x 10^-1 A = 16 A; 7.36 kW = 7360 W.
    assert sample.values == {
        "current_offered": 16.0,
        "power_offered": 7360.0,
        "power_offered_l1": 3.0,
        "soc": 55.0,
    }
    assert (
        parse_meter_values_201(
            _values({"value": 5, "measurand": "SoC", "unit_of_measure": {"multiplier": 2}})
        ).values
        == {}
    )  # 500 %


def test_the_signals_from_phases() -> None:
    sample = parse_meter_values(
        _values(
            *(
                {"value": value, "measurand": "Current.Offered", "phase": phase}
                for phase, value in (("L1", "16"), ("L2", "15.5"), ("L3", "16.5"))
            ),
            *(
                {"value": "3680.1", "measurand": "Power.Offered", "phase": phase}
                for phase in ("L1", "L2", "L3")
            ),
            {"value": "40", "measurand": "SoC", "phase": "L1"},
        )
    )
    # The highest per-phase limit; the power summed in decimal: 3 x 3680.1 = 11040.3.
    assert signals(sample.values) == {
        "ocpp_current_offered": 16.5,
        "ocpp_power_offered": 11040.3,
        "ocpp_soc": None,
    }
    # Two of three phases: no total power to tell.
    assert signals({"power_offered_l1": 1.0, "power_offered_l2": 1.0})["ocpp_power_offered"] is None


# -- late signed values ---------------------------------------------------------------------


def _ocmf(serial: str = "MTR-1", *readings: tuple[str, object, str]) -> str:
    payload = {
        "FV": "1.0",
        "MS": serial,
        "RD": [{"TX": kind, "RV": value, "RU": unit} for kind, value, unit in readings],
    }
    return "OCMF|" + json.dumps(payload) + '|{"SD":"00"}'


RECORD: dict[str, Any] = {
    "meter": {"serial": "MTR-1"},
    "meter_start_wh": "1234000",
    "meter_end_wh": "1244998",
}


def _check(data: str, record: dict[str, Any] = RECORD) -> str | None:
    return mismatch([unwrap(data)], record)


def test_a_late_value_of_the_sessions_meter_and_registers_belongs_to_it() -> None:
    # 1244.998 kWh is 1244998 Wh exactly (read in decimal, not as a float).
    assert _check(_ocmf("MTR-1", ("B", 1234.0, "kWh"), ("E", 1244.998, "kWh"))) is None
    assert _check(_ocmf("MTR-1", ("E", 1244998, "Wh"))) is None
    assert _check(_ocmf("MTR-1", ("B", 1234000, "Wh"), ("C", 1240000, "Wh"))) is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            _ocmf("MTR-2", ("E", 1244.998, "kWh")),
            "signed by meter 'MTR-2', but the session was recorded with meter 'MTR-1'",
        ),
        (
            _ocmf("MTR-1", ("E", 1244.999, "kWh")),
            "its end register 1244999 Wh is not the session's 1244998 Wh",
        ),
        (
            _ocmf("MTR-1", ("B", 1233.999, "kWh"), ("E", 1244.998, "kWh")),
            "its begin register 1233999 Wh is not the session's 1234000 Wh",
        ),
        (
            _ocmf("MTR-1", ("C", 1250000, "Wh")),
            "its register 1250000 Wh lies outside the session's",
        ),
        (_ocmf("MTR-1", ("C", 1240000, "Wh")), "has neither a begin nor an end reading"),
        (_ocmf("MTR-1", ("E", "1244998", "Wh")), "has no register readings in Wh or kWh"),
        (_ocmf("MTR-1", ("E", 1244998, "varh")), "has no register readings in Wh or kWh"),
        (_ocmf("MTR-1"), "has no register readings in Wh or kWh"),
        ("OCMF|not json|{}", "the OCMF value cannot be read"),
        ("deadbeef", "a value in format 'SignedData' cannot be matched to the session"),
    ],
)
def test_a_late_value_that_differs_is_refused_with_the_reason(data: str, reason: str) -> None:
    found = _check(data)
    assert found is not None
    assert reason in found


def test_a_record_without_registers_takes_no_late_value() -> None:
    record = {**RECORD, "meter_start_wh": None}
    assert _check(_ocmf("MTR-1", ("E", 1244998, "Wh")), record) == (
        "the recorded session has no meter registers to compare the signed value with"
    )


def test_late_values_kept_aside_are_bounded_and_survive_a_restart() -> None:
    signed = SignedValues()
    for number in range(MAX_LATE_KEPT + 3):
        signed.keep_late(
            signed.stamped([unwrap(f"OCMF|{{}}|{number}")]), session_id="S", reason="r"
        )
    assert len(signed.late) == MAX_LATE_KEPT
    assert signed.late[-1]["data"] == f"OCMF|{{}}|{MAX_LATE_KEPT + 2}"
    restored = SignedValues()
    restored.restore(json.loads(json.dumps(signed.to_dict())))
    assert restored.late == signed.late


# -- one key per connector ------------------------------------------------------------------


def test_each_connectors_key_stamps_its_transactions_values() -> None:
    one, two = (_der_hex(ec.generate_private_key(ec.SECP256R1())) for _ in range(2))
    signed = SignedValues()
    signed.set_charger_key(one)
    signed.set_charger_key(two.upper(), connector_id=2)
    signed.connector = 2
    signed.extend(["OCMF|{}|{}"])
    assert signed.pending[0]["public_key"] == two
    assert signed.pending[0]["key_source"] == "charger"
    restored = SignedValues()
    restored.restore(json.loads(json.dumps(signed.to_dict())))
    assert (restored.keys.charger, restored.keys.connectors, restored.connector) == (
        one,
        {2: two},
        2,
    )
    # A connector whose key is not known gets none (not another meter's).
    restored.connector = 3
    restored.clear()
    restored.extend(["OCMF|{}|{}"])
    assert restored.take()[0]["public_key"] is None
    # One key for all connectors (no per-connector keys read): it stamps every connector.
    single = SignedValues()
    single.set_charger_key(one)
    single.connector = 2
    single.extend(["OCMF|{}|{}"])
    assert single.take()[0]["public_key"] == one
