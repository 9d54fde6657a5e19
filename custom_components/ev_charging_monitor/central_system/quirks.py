"""What OCPP 1.6J charger models do differently, read from quirks.json (Home Assistant-free).

`quirks_for(vendor, model)` answers with the quirks of the first model entry whose patterns
match the BootNotification's vendor and model, else the default's. A model entry names only
the sections and fields where it differs; each section it names says where the facts come
from. The file is checked when it is loaded: a wrong field, type or value raises
QuirksError naming the file and the field, instead of a charger misconfigured later.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final, Literal, get_args

QUIRKS_PATH: Final = Path(__file__).with_name("quirks.json")

# OCPP 1.6 Measurand values (edition 2, 7.31).
MEASURANDS: Final = frozenset(
    {
        "Current.Export",
        "Current.Import",
        "Current.Offered",
        "Energy.Active.Export.Register",
        "Energy.Active.Import.Register",
        "Energy.Reactive.Export.Register",
        "Energy.Reactive.Import.Register",
        "Energy.Active.Export.Interval",
        "Energy.Active.Import.Interval",
        "Energy.Reactive.Export.Interval",
        "Energy.Reactive.Import.Interval",
        "Frequency",
        "Power.Active.Export",
        "Power.Active.Import",
        "Power.Factor",
        "Power.Offered",
        "Power.Reactive.Export",
        "Power.Reactive.Import",
        "RPM",
        "SoC",
        "Temperature",
        "Voltage",
    }
)
# The register the sessions are measured by: every model must ask for it.
ENERGY_REGISTER: Final = "Energy.Active.Import.Register"

# What a charger does with a measurand it cannot sample: OCPP says reject the list
# (1.6 3.16.4); some accept it and reboot once the list is read back.
type UnsupportedMeasurands = Literal["rejected", "accepted_then_reboots"]
type EnergyUnit = Literal["Wh", "kWh"]
# Whether the energy register counts for the charger's life or restarts per transaction.
type EnergyRegister = Literal["either", "lifetime", "per_transaction"]
# Where signed meter values (OCMF) arrive: SignedData sampled values in MeterValues or in
# StopTransaction's transactionData, or a DataTransfer.
type SignedPlacement = Literal["meter_values", "stop_transaction", "data_transfer"]
# In a public key's configuration key: the connector's number (MeterPublicKey{connector}).
CONNECTOR_PLACEHOLDER: Final = "{connector}"
type ProfilePurpose = Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]
type RateUnit = Literal["A", "W"]


class QuirksError(ValueError):
    """quirks.json (or another quirks file) breaks its rules."""


@dataclass(frozen=True, kw_only=True)
class MeterQuirks:
    """Which meter values to ask for, and how the charger reports them."""

    source: str
    measurands: tuple[str, ...]
    sample_interval_s: int
    unsupported_measurands: UnsupportedMeasurands
    energy_unit: EnergyUnit
    energy_register: EnergyRegister
    # The closing MeterValues (Transaction.End) arrive after StopTransaction.
    values_after_stop: bool
    # Reading contexts outside OCPP 1.6 the charger sends (they fail the schema).
    nonstandard_contexts: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TransactionQuirks:
    """How the charger handles transaction ids and starts."""

    source: str
    # The id its MeterValues carry outside a transaction (no transaction of ours).
    idle_transaction_id: int | None
    # It numbers transactions itself unless configured otherwise (ids do not match ours).
    charger_assigned_ids: bool
    # It may go on sending the id of a stopped transaction.
    stale_id_after_stop: bool
    # It waits for RemoteStartTransaction instead of starting by itself.
    needs_remote_start: bool


@dataclass(frozen=True, kw_only=True)
class SignedQuirks:
    """Where the charger's signed meter values (OCMF) and its public key are."""

    source: str
    placement: tuple[SignedPlacement, ...]  # empty: it sends none
    # Configuration key of the meter's public key; with {connector}, one per connector.
    public_key_key: str | None

    @property
    def key_per_connector(self) -> bool:
        """Whether each connector (meter) has a key of its own."""
        return self.public_key_key is not None and CONNECTOR_PLACEHOLDER in self.public_key_key

    def public_key_name(self, connector_id: int = 1) -> str | None:
        """The configuration key of the public key of `connector_id`'s meter."""
        if self.public_key_key is None:
            return None
        return self.public_key_key.replace(CONNECTOR_PLACEHOLDER, str(connector_id))


@dataclass(frozen=True, kw_only=True)
class ProfileQuirks:
    """What SetChargingProfile the charger takes."""

    source: str
    supported: bool
    purposes: tuple[ProfilePurpose, ...]
    rate_units: tuple[RateUnit, ...]
    stack_level: int | None  # None: the charger's ChargeProfileMaxStackLevel


@dataclass(frozen=True, kw_only=True)
class StatusQuirks:
    """How the charger reports and takes status."""

    source: str
    # StatusNotification.info is the text "null" when there is none.
    info_null_text: bool
    # ChangeAvailability may be sent.
    change_availability: bool
    # After a remote stop it stays Finishing until unplugged and rejects a remote start.
    finishing_until_unplugged: bool


@dataclass(frozen=True, kw_only=True)
class Quirks:
    """Everything known about one charger model (or the default for any other)."""

    key: str
    name: str
    source: str
    meter: MeterQuirks
    transactions: TransactionQuirks
    signed: SignedQuirks
    profiles: ProfileQuirks
    status: StatusQuirks

    def meter_configuration(self) -> dict[str, str]:
        """The ChangeConfiguration keys and values for the meter values this model sends."""
        return {
            "MeterValuesSampledData": ",".join(self.meter.measurands),
            "MeterValueSampleInterval": str(self.meter.sample_interval_s),
        }


_SECTIONS: Final[dict[str, type[Any]]] = {
    "meter": MeterQuirks,
    "transactions": TransactionQuirks,
    "signed": SignedQuirks,
    "profiles": ProfileQuirks,
    "status": StatusQuirks,
}
_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "unsupported_measurands": get_args(UnsupportedMeasurands.__value__),
    "energy_unit": get_args(EnergyUnit.__value__),
    "energy_register": get_args(EnergyRegister.__value__),
    "placement": get_args(SignedPlacement.__value__),
    "purposes": get_args(ProfilePurpose.__value__),
    "rate_units": get_args(RateUnit.__value__),
    "measurands": tuple(sorted(MEASURANDS)),
}
_TEXT_LISTS: Final = frozenset({"measurands", "placement", "purposes", "rate_units"})
_INTEGERS: Final = {"sample_interval_s": (1, 86400), "stack_level": (0, 1000)}
_OPTIONAL: Final = frozenset({"idle_transaction_id", "public_key_key", "stack_level"})


@dataclass(frozen=True)
class _Model:
    vendor: re.Pattern[str]
    model: re.Pattern[str]
    quirks: Quirks


class QuirksTable:
    """The default and the model entries of one quirks file."""

    def __init__(self, default: Quirks, models: tuple[_Model, ...]) -> None:
        """Use `load_quirks`."""
        self.default = default
        self._models = models

    @property
    def models(self) -> tuple[Quirks, ...]:
        """Every model entry's quirks, in the file's order."""
        return tuple(model.quirks for model in self._models)

    def lookup(self, vendor: str | None, model: str | None) -> Quirks:
        """The first model entry matching the BootNotification's names, else the default."""
        vendor, model = (vendor or "").strip(), (model or "").strip()
        for entry in self._models:
            if entry.vendor.fullmatch(vendor) and entry.model.search(model):
                return entry.quirks
        return self.default


def _fail(where: str, problem: str) -> QuirksError:
    return QuirksError(f"{where}: {problem}")


def _text(value: Any, where: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise _fail(where, "must be a non-empty text" if not empty else "must be a text")
    return value


def _pattern(value: Any, where: str) -> re.Pattern[str]:
    text = _text(value, where, empty=True)
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as err:
        raise _fail(where, f"is no valid pattern ({err})") from err


def _value(name: str, value: Any, where: str) -> Any:
    if name == "source":
        return _text(value, where)
    if value is None and name in _OPTIONAL:
        return None
    if name in _TEXT_LISTS or name == "nonstandard_contexts":
        if not isinstance(value, list):
            raise _fail(where, "must be a list")
        items = tuple(_text(item, f"{where}[{index}]") for index, item in enumerate(value))
        if len(set(items)) != len(items):
            raise _fail(where, "names an item twice")
        if (choices := _CHOICES.get(name)) is not None:
            for index, item in enumerate(items):
                if item not in choices:
                    raise _fail(f"{where}[{index}]", f"{item!r} is not one of {list(choices)}")
        return items
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise _fail(where, f"{value!r} is not one of {list(_CHOICES[name])}")
        return value
    if name in _INTEGERS or name == "idle_transaction_id":
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(where, "must be a whole number")
        low, high = _INTEGERS.get(name, (-(2**63), 2**63 - 1))
        if not low <= value <= high:
            raise _fail(where, f"must be between {low} and {high}")
        return value
    if name == "public_key_key":
        text = _text(value, where)
        if "{" in text.replace(CONNECTOR_PLACEHOLDER, "") or "}" in text.replace(
            CONNECTOR_PLACEHOLDER, ""
        ):
            raise _fail(where, f"may hold no placeholder but {CONNECTOR_PLACEHOLDER}")
        return text
    if not isinstance(value, bool):
        raise _fail(where, "must be true or false")
    return value


def _section(name: str, data: Any, base: Any | None, where: str) -> Any:
    """One section of a model entry; the default's values where the entry names none."""
    cls = _SECTIONS[name]
    if not isinstance(data, Mapping):
        raise _fail(where, "must be an object")
    known = {field.name for field in fields(cls)}
    if unknown := sorted(set(data) - known):
        raise _fail(where, f"unknown field(s) {unknown}")
    if "source" not in data:
        raise _fail(f"{where}.source", "missing: every section says where its facts come from")
    values: dict[str, Any] = {}
    for field_name in sorted(known):
        if field_name in data:
            values[field_name] = _value(field_name, data[field_name], f"{where}.{field_name}")
        elif base is not None:
            values[field_name] = getattr(base, field_name)
        else:
            raise _fail(f"{where}.{field_name}", "missing from the default")
    return cls(**values)


def _check(quirks: Quirks, where: str) -> None:
    meter = quirks.meter
    if ENERGY_REGISTER not in meter.measurands:
        raise _fail(f"{where}.meter.measurands", f"must include {ENERGY_REGISTER}")
    profiles = quirks.profiles
    if profiles.supported and not (profiles.purposes and profiles.rate_units):
        raise _fail(f"{where}.profiles", "supported profiles need purposes and rate units")
    if not profiles.supported and (profiles.purposes or profiles.rate_units):
        raise _fail(f"{where}.profiles", "unsupported profiles have no purposes or rate units")


def _quirks(data: Any, base: Quirks | None, where: str) -> Quirks:
    if not isinstance(data, Mapping):
        raise _fail(where, "must be an object")
    allowed = {"name", "source", *_SECTIONS} | ({"key", "vendor", "model"} if base else set())
    if unknown := sorted(set(data) - allowed):
        raise _fail(where, f"unknown field(s) {unknown}")
    sections: dict[str, Any] = {
        name: (
            _section(name, data[name], getattr(base, name, None), f"{where}.{name}")
            if name in data
            else getattr(base, name, None)
        )
        for name in _SECTIONS
    }
    if (missing := [name for name, value in sections.items() if value is None]) != []:
        raise _fail(where, f"missing section(s) {missing}")
    quirks = Quirks(
        key=_text(data.get("key", "default"), f"{where}.key"),
        name=_text(data.get("name"), f"{where}.name"),
        source=_text(data.get("source"), f"{where}.source"),
        **sections,
    )
    _check(quirks, where)
    return quirks


def parse_quirks(document: Any, origin: str = "quirks") -> QuirksTable:
    """The quirks of a parsed quirks document; QuirksError names what is wrong."""
    if not isinstance(document, Mapping):
        raise _fail(origin, "must be an object")
    if unknown := sorted(set(document) - {"comment", "default", "models"}):
        raise _fail(origin, f"unknown field(s) {unknown}")
    default = _quirks(document.get("default"), None, f"{origin}: default")
    entries = document.get("models", [])
    if not isinstance(entries, list):
        raise _fail(f"{origin}: models", "must be a list")
    models: list[_Model] = []
    keys = {default.key}
    for index, entry in enumerate(entries):
        where = f"{origin}: models[{index}]"
        quirks = _quirks(entry, default, where)
        if quirks.key in keys:
            raise _fail(f"{where}.key", f"{quirks.key!r} is used twice")
        keys.add(quirks.key)
        for name in ("vendor", "model"):
            if name not in entry:
                raise _fail(f"{where}.{name}", "missing")
        models.append(
            _Model(
                _pattern(entry["vendor"], f"{where}.vendor"),
                _pattern(entry["model"], f"{where}.model"),
                quirks,
            )
        )
    return QuirksTable(default, tuple(models))


def load_quirks(path: Path = QUIRKS_PATH) -> QuirksTable:
    """Read and check a quirks file (blocking)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise QuirksError(f"{path.name}: cannot be read ({err})") from err
    return parse_quirks(document, path.name)


# Read once when the integration is imported (imports run outside the event loop).
QUIRKS: Final = load_quirks()
DEFAULT_QUIRKS: Final = QUIRKS.default


def quirks_for(vendor: str | None, model: str | None) -> Quirks:
    """The quirks of the charger that booted as `vendor` `model`."""
    return QUIRKS.lookup(vendor, model)
