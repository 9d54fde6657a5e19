"""Import of evcc's session CSV export, so people can bring their charging history.

evcc writes (reimbursement.md section 5.2) the columns Created, Finished, Loadpoint,
Identifier, Vehicle, Odometer (km), Meter Start (kWh), Meter Stop (kWh), Charged
Energy (kWh), Charge Duration, SoC Start/Stop (%), Solar (%), Price, Price/kWh,
CO2/kWh, in that order; headers are localised (English or German), the separator is
``;`` in German and ``,`` otherwise, numbers use the locale's decimal mark, times are
local ``YYYY-MM-DD HH:MM:SS`` without offset, and the file starts with a BOM.

Columns are found by their English or German header; when a header is not
recognised the documented order is used. Each row becomes a ledger session with
source ``import`` (person and vehicle chosen by the importing admin, evidence from the
register readings, flag ``imported_evcc``). The session id is derived from the row's
content, so importing the same file twice stores every session once.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ev_charging_ledger.records import iso_utc
from ev_charging_ledger.storage import Ledger

NAMESPACE = uuid.UUID("5b0b8f7e-4d0c-4f7e-9a55-2f6a1e0c7d31")
ORDER = (
    "created", "finished", "loadpoint", "identifier", "vehicle", "odometer", "meter_start",
    "meter_stop", "energy", "duration", "soc_start", "soc_stop", "solar", "price",
    "price_per_kwh", "co2",
)  # fmt: skip
ALIASES: dict[str, tuple[str, ...]] = {
    "created": ("created", "startzeit", "start", "beginn", "erstellt", "gestartet"),
    "finished": ("finished", "endzeit", "ende", "end", "beendet"),
    "loadpoint": ("loadpoint", "charging point", "ladepunkt"),
    "identifier": ("identifier", "kennung", "identifikator", "ausweis", "id"),
    "vehicle": ("vehicle", "fahrzeug"),
    "odometer": ("odometer", "kilometerstand"),
    "meter_start": ("meter start", "zählerstand start", "zählerstand beginn", "zähler start"),
    "meter_stop": ("meter stop", "zählerstand ende", "zählerstand stop", "zähler ende"),
    "energy": ("charged energy", "energy", "energie", "geladene energie", "ladeenergie"),
    "duration": ("charge duration", "duration", "ladedauer", "dauer"),
    "price": ("price", "preis", "kosten"),
    "price_per_kwh": ("price/kwh", "preis/kwh"),
}
_UNIT = re.compile(r"\([^)]*\)")
_MAX_BYTES = 20 * 1024 * 1024


class EvccImportError(ValueError):
    """The file is not an evcc session export."""


@dataclass
class ImportResult:
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "skipped": [{"line": line, "reason": reason} for line, reason in self.skipped],
        }


def _normal(header: str) -> str:
    return _UNIT.sub("", header).strip().lower().replace("₂", "2")


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        normal = _normal(name)
        for key, aliases in ALIASES.items():
            if normal in aliases and key not in found:
                found[key] = index
                break
    if {"created", "finished", "energy"} <= set(found):
        return found
    if len(header) >= 9:
        return {key: index for index, key in enumerate(ORDER[: len(header)])}
    raise EvccImportError("not an evcc session export: no Created/Finished/Charged Energy columns")


def _number(text: str, line: int, name: str) -> Decimal | None:
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if "," in text and "." in text:
        # a thousands separator after all: keep the last mark as the decimal mark
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation as err:
        raise ValueError(f"{name} is not a number: {text!r}") from err
    if not value.is_finite():
        raise ValueError(f"{name} is not a number: {text!r}")
    return value


def _time(text: str, zone: ZoneInfo, name: str) -> datetime:
    text = text.strip()
    if not text:
        raise ValueError(f"{name} is empty")
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        try:
            moment = datetime.strptime(text, "%d.%m.%Y %H:%M:%S")
        except ValueError as err:
            raise ValueError(f"{name} is not a time: {text!r}") from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def parse(
    data: bytes,
    *,
    time_zone: str,
    currency: str,
    person_id: int | None,
    vehicle_id: int | None,
    author: str,
) -> tuple[list[dict[str, Any]], ImportResult]:
    if len(data) > _MAX_BYTES:
        raise EvccImportError("the file is larger than 20 MB")
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise EvccImportError(f"unknown time zone {time_zone!r}") from err
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise EvccImportError("the file is empty")
    if lines[0].lower().startswith("sep="):
        delimiter = lines.pop(0)[4:5] or ";"
    else:
        delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    header = next(reader)
    columns = _columns(header)
    result = ImportResult()
    records: list[dict[str, Any]] = []
    for line_no, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        result.rows += 1

        def cell(key: str, cells: list[str] = cells) -> str:
            index = columns.get(key)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        try:
            if not cell("finished"):
                raise ValueError("the session has not finished")
            started = _time(cell("created"), zone, "Created")
            ended = _time(cell("finished"), zone, "Finished")
            energy = _number(cell("energy"), line_no, "Charged Energy")
            meter_start = _number(cell("meter_start"), line_no, "Meter Start")
            meter_stop = _number(cell("meter_stop"), line_no, "Meter Stop")
            price = _number(cell("price"), line_no, "Price")
            if energy is None:
                if meter_start is None or meter_stop is None:
                    raise ValueError("no charged energy")
                energy = meter_stop - meter_start
            if energy < 0:
                raise ValueError("negative charged energy")
            if ended < started:
                raise ValueError("Finished is before Created")
        except ValueError as err:
            result.skipped.append((line_no, str(err)))
            continue
        loadpoint = cell("loadpoint")
        key = "|".join(("evcc", iso_utc(started), iso_utc(ended), loadpoint, format(energy, "f")))
        kwh = Decimal(1000)
        records.append(
            {
                "schema": 1,
                "id": str(uuid.uuid5(NAMESPACE, key)),
                "seq": None,
                "charger": {"serial": None, "name": loadpoint or None, "model": None,
                            "manufacturer": None},
                "meter": {"serial": None, "model": None, "source": "charger", "mid": None},
                "started_at": iso_utc(started),
                "ended_at": iso_utc(ended),
                "time_zone": time_zone,
                "meter_start_wh": None if meter_start is None else format(meter_start * kwh, "f"),
                "meter_end_wh": None if meter_stop is None else format(meter_stop * kwh, "f"),
                "energy_wh": format(energy * kwh, "f"),
                "max_power_w": None,
                "charging_seconds": None,
                "authorization": {"method": "none", "tag_hash": None, "user_id": None,
                                  "user_name": None, "vehicle": cell("vehicle") or None},
                "cost": {"currency": currency,
                         "total": None if price is None else format(price, "f"),
                         "tariff": "evcc", "intervals": []},
                "signed_meter_values": [],
                "end_reason": "stopped",
                "flags": ["imported_evcc"],
                "reconciliation": None,
                "evcc": {"identifier": cell("identifier") or None,
                         "odometer_km": cell("odometer") or None, "line": line_no},
                "manual": {"entered_by": author, "note": "imported from an evcc CSV export",
                           "person_id": person_id, "vehicle_id": vehicle_id},
            }
        )  # fmt: skip
    return records, result


def import_csv(
    ledger: Ledger,
    data: bytes,
    *,
    time_zone: str = "Europe/Berlin",
    currency: str = "EUR",
    person_id: int | None = None,
    vehicle_id: int | None = None,
    author: str = "import",
) -> ImportResult:
    records, result = parse(
        data,
        time_zone=time_zone,
        currency=currency,
        person_id=person_id,
        vehicle_id=vehicle_id,
        author=author,
    )
    if person_id is not None and ledger.person(person_id) is None:
        raise EvccImportError(f"no person {person_id}")
    if vehicle_id is not None and ledger.vehicle(vehicle_id) is None:
        raise EvccImportError(f"no vehicle {vehicle_id}")
    for start in range(0, len(records), 1000):
        appended = ledger.append_sessions(records[start : start + 1000], source="import")
        result.stored += appended.stored
        result.duplicates += appended.duplicates
        result.skipped.extend((0, f"{ref}: {reason}") for ref, reason in appended.rejected)
    return result
