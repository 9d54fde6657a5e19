"""Charger model quirks: the shipped file, the lookup, bad files, and the meter setup.

The meter setup is driven against a small in-test charger that answers ChangeConfiguration
and GetConfiguration the way OCPP 1.6 (3.16.4) or the ABB Terra AC firmware does; the
expected requests are written out by hand.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call, call_result

from custom_components.ev_charging_monitor.central_system.charger import OcppCharger
from custom_components.ev_charging_monitor.central_system.const import DEFAULT_PORT, SUBPROTOCOL
from custom_components.ev_charging_monitor.central_system.meter_setup import (
    async_configure_meter,
)
from custom_components.ev_charging_monitor.central_system.quirks import (
    QUIRKS_PATH,
    QuirksError,
    load_quirks,
    parse_quirks,
    quirks_for,
)

EAIR = "Energy.Active.Import.Register"
ABB_SUPPORTED = [EAIR, "Power.Active.Import", "Current.Import", "Voltage", "Current.Offered"]
GENERIC_WISH = [*ABB_SUPPORTED[:4], "Current.Offered", "Power.Offered", "SoC"]


def _document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(QUIRKS_PATH.read_text(encoding="utf-8"))
    return data


def test_the_shipped_file_is_valid_and_every_section_names_its_source() -> None:
    table = load_quirks()
    assert len(table.models) >= 3
    for quirks in (table.default, *table.models):
        assert quirks.source.strip()
        for section in (
            quirks.meter,
            quirks.transactions,
            quirks.signed,
            quirks.profiles,
            quirks.status,
        ):
            assert section.source.strip()
    # A model that names a section has its own source there, not the default's.
    for entry in _document()["models"]:
        for name in ("meter", "transactions", "signed", "profiles", "status"):
            if name in entry:
                assert entry[name]["source"] != _document()["default"][name]["source"]


def test_abb_terra_ac_from_its_boot_notification() -> None:
    """The names an ABB Terra AC sends (evcc-io/evcc#17979): only what it supports."""
    quirks = quirks_for("ABB", "CDT_TACW11::NET_WIFI")
    assert quirks.key == "abb_terra_ac"
    assert list(quirks.meter.measurands) == ABB_SUPPORTED
    assert quirks.meter.unsupported_measurands == "accepted_then_reboots"
    assert quirks.meter.energy_unit == "Wh"
    assert quirks.profiles.stack_level == 0
    assert "ChargePointMaxProfile" not in quirks.profiles.purposes
    assert quirks.status.info_null_text is True
    assert quirks.meter_configuration() == {
        "MeterValuesSampledData": ",".join(ABB_SUPPORTED),
        "MeterValueSampleInterval": "60",
    }
    # Matching ignores case and the spaces around the names.
    assert quirks_for(" abb ", "Terra AC W22").key == "abb_terra_ac"
    # The DC charger of the same vendor is another entry.
    dc = quirks_for("ABB", "Terra DC 24")
    assert dc.key == "abb_terra_dc"
    assert dc.profiles.supported is False


def test_alfen_and_the_default() -> None:
    alfen = quirks_for("Alfen BV", "NG910-60023")
    assert alfen.key == "alfen_eve"
    assert alfen.meter.energy_unit == "kWh"
    assert alfen.transactions.idle_transaction_id == 2**63 - 1
    assert alfen.signed.placement == ("meter_values", "stop_transaction")
    assert alfen.signed.public_key_key == "MeterPublicKey{connector}"
    assert alfen.signed.public_key_name(2) == "MeterPublicKey2"
    # Sections Alfen does not name are the default's.
    assert alfen.status == quirks_for("Nobody", "Unknown").status
    generic = quirks_for("Generic", "OCPP 1.6J wallbox")
    assert generic.key == "default"
    assert list(generic.meter.measurands) == GENERIC_WISH
    assert generic.meter.unsupported_measurands == "rejected"
    assert generic.profiles.purposes == ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")
    assert generic.profiles.stack_level is None
    assert quirks_for(None, None) is generic


def test_quirks_are_frozen() -> None:
    quirks = quirks_for("ABB", "TACW22")
    with pytest.raises(dataclasses.FrozenInstanceError):
        quirks.meter.sample_interval_s = 5  # type: ignore[misc]


def _broken(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(_document())
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["default"]["meter"].update(measurands=[EAIR, "Power.Active.Imprt"]),
            "default.meter.measurands[1]: 'Power.Active.Imprt' is not one of",
        ),
        (
            lambda d: d["models"][0]["meter"].pop("source"),
            "models[0].meter.source: missing",
        ),
        (
            lambda d: d["models"][0]["meter"].update(measurands=["Voltage"]),
            "models[0].meter.measurands: must include Energy.Active.Import.Register",
        ),
        (
            lambda d: d["models"][1].update(vendor="ABB("),
            "models[1].vendor: is no valid pattern",
        ),
        (
            lambda d: d["models"][2].update(key="abb_terra_ac"),
            "models[2].key: 'abb_terra_ac' is used twice",
        ),
        (
            lambda d: d["models"][0]["profiles"].update(stack_level=-1),
            "models[0].profiles.stack_level: must be between 0 and 1000",
        ),
        (
            lambda d: d["models"][0]["profiles"].update(rate_units=["kW"]),
            "models[0].profiles.rate_units[0]: 'kW' is not one of ['A', 'W']",
        ),
        (
            lambda d: d["models"][0]["status"].update(info_null_text="yes"),
            "models[0].status.info_null_text: must be true or false",
        ),
        (
            lambda d: d["models"][0]["meter"].update(sample_interval=60),
            "models[0].meter: unknown field(s) ['sample_interval']",
        ),
        (
            lambda d: d["default"].pop("signed"),
            "default: missing section(s) ['signed']",
        ),
        (
            lambda d: d["models"][1]["profiles"].update(supported=True),
            "models[1].profiles: supported profiles need purposes and rate units",
        ),
        (
            lambda d: d["models"][1]["profiles"].update(purposes=["TxProfile"]),
            "models[1].profiles: unsupported profiles have no purposes or rate units",
        ),
        (lambda d: d.update(model=[]), "quirks.json: unknown field(s) ['model']"),
        (
            lambda d: d["models"][0].update(firmware="1.8"),
            "models[0]: unknown field(s) ['firmware']",
        ),
        (lambda d: d.update(models={}), "models: must be a list"),
        (lambda d: d["models"].append("ABB"), "models[15]: must be an object"),
        (lambda d: d["models"][0].pop("vendor"), "models[0].vendor: missing"),
        (lambda d: d["models"][0].update(meter=[]), "models[0].meter: must be an object"),
        (
            lambda d: d["models"][0]["meter"].update(sample_interval_s=True),
            "models[0].meter.sample_interval_s: must be a whole number",
        ),
        (
            lambda d: d["models"][0]["meter"].update(nonstandard_contexts=["Max", " "]),
            "models[0].meter.nonstandard_contexts[1]: must be a non-empty text",
        ),
        (
            lambda d: d["models"][0]["meter"].update(nonstandard_contexts="Max"),
            "models[0].meter.nonstandard_contexts: must be a list",
        ),
        (
            lambda d: d["models"][0]["profiles"].update(rate_units=["A", "A"]),
            "models[0].profiles.rate_units: names an item twice",
        ),
        (
            lambda d: d["models"][0]["meter"].update(energy_unit="MWh"),
            "models[0].meter.energy_unit: 'MWh' is not one of ['Wh', 'kWh']",
        ),
        (
            lambda d: d["models"][0].update(signed={"source": "x", "public_key_key": 5}),
            "models[0].signed.public_key_key: must be a non-empty text",
        ),
        (
            lambda d: d["models"][0].update(
                signed={"source": "x", "public_key_key": "MeterPublicKey{meter}"}
            ),
            "models[0].signed.public_key_key: may hold no placeholder but {connector}",
        ),
        (lambda d: d["models"][0].update(name=""), "models[0].name: must be a non-empty text"),
        (
            lambda d: d["default"]["meter"].pop("energy_unit"),
            "default.meter.energy_unit: missing from the default",
        ),
    ],
)
def test_a_broken_file_names_the_field(change: Any, message: str) -> None:
    with pytest.raises(QuirksError) as raised:
        parse_quirks(_broken(change), "quirks.json")
    assert message in str(raised.value)
    assert str(raised.value).startswith("quirks.json: ")


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "quirks.json"
    path.write_text('{"default": ', encoding="utf-8")
    with pytest.raises(QuirksError, match=r"quirks\.json: cannot be read"):
        load_quirks(path)
    with pytest.raises(QuirksError, match=r"missing\.json: cannot be read"):
        load_quirks(tmp_path / "missing.json")
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(QuirksError, match=r"quirks\.json: must be an object"):
        load_quirks(path)


class FakeCharger:
    """Answers configuration requests like a charger that can sample `supported`."""

    def __init__(self, supported: list[str], *, reboots: bool = False) -> None:
        self.supported = supported
        self.reboots = reboots  # ABB Terra AC: takes anything, reboots on reading it back
        self.sampled: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.rebooted = False

    async def send(self, request: Any) -> Any:
        if isinstance(request, call.ChangeConfiguration):
            self.requests.append((request.key, request.value))
            items = request.value.split(",")
            if request.key == "MeterValuesSampledData":
                if not self.reboots and any(item not in self.supported for item in items):
                    return call_result.ChangeConfiguration(status="Rejected")
                self.sampled = items
            return call_result.ChangeConfiguration(status="Accepted")
        assert isinstance(request, call.GetConfiguration)
        self.requests.append(("get", ",".join(request.key)))
        if self.reboots and any(item not in self.supported for item in self.sampled):
            self.rebooted = True
            raise ConnectionError("rebooting")
        return call_result.GetConfiguration(
            configuration_key=[
                {
                    "key": "MeterValuesSampledData",
                    "readonly": False,
                    "value": ",".join(self.sampled),
                }
            ]
        )


async def test_a_charger_that_rejects_is_probed_measurand_by_measurand() -> None:
    charger = FakeCharger([EAIR, "Power.Active.Import", "Voltage"])
    applied = await async_configure_meter(charger.send, "CP-1", quirks_for("Generic", "X"))
    assert applied == (EAIR, "Power.Active.Import", "Voltage")
    assert charger.sampled == [EAIR, "Power.Active.Import", "Voltage"]
    assert charger.requests == [
        ("MeterValuesSampledData", ",".join(GENERIC_WISH)),
        *[("MeterValuesSampledData", measurand) for measurand in GENERIC_WISH],
        ("MeterValuesSampledData", f"{EAIR},Power.Active.Import,Voltage"),
        ("MeterValueSampleInterval", "60"),
        ("get", "MeterValuesSampledData"),
    ]


async def test_a_charger_that_takes_the_whole_list_is_asked_once() -> None:
    charger = FakeCharger(GENERIC_WISH)
    applied = await async_configure_meter(charger.send, "CP-1", quirks_for("Generic", "X"))
    assert applied == tuple(GENERIC_WISH)
    assert [key for key, _ in charger.requests] == [
        "MeterValuesSampledData",
        "MeterValueSampleInterval",
        "get",
    ]


async def test_abb_with_the_generic_setup_reboots_and_with_its_quirks_does_not() -> None:
    generic = FakeCharger(ABB_SUPPORTED, reboots=True)
    await async_configure_meter(generic.send, "TACW1", quirks_for("Generic", "X"))
    assert generic.rebooted
    abb = FakeCharger(ABB_SUPPORTED, reboots=True)
    applied = await async_configure_meter(abb.send, "TACW1", quirks_for("ABB", "TACW11"))
    assert not abb.rebooted
    assert applied == tuple(ABB_SUPPORTED)
    assert abb.requests == [
        ("MeterValuesSampledData", ",".join(ABB_SUPPORTED)),
        ("MeterValueSampleInterval", "60"),
    ]


async def test_a_charger_that_refuses_everything_is_left_alone() -> None:
    charger = FakeCharger([])
    applied = await async_configure_meter(charger.send, "CP-1", quirks_for("Generic", "X"))
    assert applied == ()
    assert charger.sampled == []


def test_the_text_null_is_no_info_only_where_the_model_sends_it_so() -> None:
    """ABB sends info "null" with every status; from another charger the text stays."""
    faults: list[dict[str, Any]] = []

    async def refuse(_tag: str) -> str:
        return "Invalid"

    charger = OcppCharger("CP-1", authorize=refuse, on_update=lambda: None)
    charger.on_fault = faults.append
    charger.set_status("Faulted", "GroundFailure", {"info": "null", "vendor_error_code": "E1"})
    assert charger.error_report is not None
    assert charger.error_report.info == "null"
    charger.quirks = quirks_for("ABB", "CDT_TACW11::NET_WIFI")
    charger.set_status("Faulted", "OverVoltage", {"info": "null", "vendor_error_code": "0x0000"})
    assert charger.error_report.info is None
    assert charger.error_report.vendor_error_code == "0x0000"
    assert [fault["info"] for fault in faults] == ["null", None]
    charger.set_status("Available", "NoError", {"info": "", "vendor_error_code": None})
    assert charger.error_report.error_code == "NoError"
    assert charger.error_report.info is None
    assert charger.error_code is None
    assert len(faults) == 2


@pytest.mark.parametrize("doc", ["ocpp.md", "ocpp.de.md"])
def test_the_docs_list_every_model_and_the_connection_settings(doc: str) -> None:
    """Both languages: each quirks.json model in the table, the port and the protocol."""
    text = (Path(__file__).parents[2] / "docs" / doc).read_text(encoding="utf-8")
    for quirks in load_quirks().models:
        assert f"| {quirks.name} (" in text, quirks.name
    assert f"ws://192.168.1.10:{DEFAULT_PORT}/" in text
    assert f"wss://ha.example.org:{DEFAULT_PORT}/" in text
    assert f"`{SUBPROTOCOL}`" in text
    assert "simulators/ocpp_abb.py" in text
