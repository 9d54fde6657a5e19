"""Statement exports read back by independent parsers (csv, openpyxl, pypdf), payroll
CSV, the streamed sessions CSV, formula neutralisation and the evcc CSV import.

Expected totals are computed here from the records the test inserted (Decimal sums
of energy x rate, rounded per session as the employer's rate sheet says), never by
the report code.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader

from ev_charging_ledger.reports import document as documents
from ev_charging_ledger.reports import evcc
from ev_charging_ledger.reports.cells import neutralise
from ev_charging_ledger.reports.pdf import statement_pdf
from ev_charging_ledger.reports.tabular import (
    PayrollSettings,
    payroll_csv,
    sessions_csv,
    statement_csv,
)
from ev_charging_ledger.reports.xlsx import statement_xlsx
from ev_charging_ledger.storage import Ledger, SessionFilter
from tests.ledger.integration_records import make_record

MONTH = "2026-03"
PRICE = Decimal("0.30")
CENT = Decimal("0.01")
EVIL_NAME = '=HYPERLINK("http://x";"click")'


@dataclass
class Fixture:
    ledger: Ledger
    person_id: int
    other_id: int
    vehicle_id: int
    records: list[dict[str, Any]]
    excluded_id: str
    expected_kwh: Decimal
    expected_amount: Decimal
    expected_count: int


def _expected(records: list[dict[str, Any]], excluded: set[str]) -> tuple[Decimal, Decimal, int]:
    kwh = Decimal(0)
    amount = Decimal(0)
    count = 0
    for record in records:
        if record["id"] in excluded:
            continue
        energy = Decimal(record["energy_wh"]) / 1000
        kwh += energy
        amount += (energy * PRICE).quantize(CENT, ROUND_HALF_UP)
        count += 1
    return kwh, amount, count


@pytest.fixture
def world(ledger: Ledger) -> Fixture:
    person = ledger.add_person(EVIL_NAME, ha_user_id="user-evil", personnel_number="4711")
    other = ledger.add_person("Other Driver", ha_user_id="user-other", personnel_number="0815")
    vehicle = ledger.add_vehicle("-Car", plate="B-EV 100", person_id=person.id)
    for pid in (person.id, other.id):
        ledger.add_rate(
            person_id=pid, vehicle_id=None, valid_from=date(2026, 1, 1), valid_to=None,
            direction="reimburse", basis="fixed_price", price_per_kwh=PRICE, currency="EUR",
            note="employer price 2026 (contract of 2025-12-01)",
        )  # fmt: skip
    records = [
        make_record(
            seq,
            user_id="user-evil",
            vehicle="B-EV 100",
            started=datetime(2026, 3, 1, 17, 0, tzinfo=UTC) + timedelta(days=seq, minutes=seq),
            energy_wh=5_000 + seq * 137,
            meter_start_wh=2_000_000 + seq * 20_000,
        )
        for seq in range(1, 13)
    ]
    others = [make_record(100 + seq, user_id="user-other") for seq in range(1, 4)]
    # A session of the previous month must stay out of March.
    february = make_record(200, user_id="user-evil", started=datetime(2026, 2, 27, 9, tzinfo=UTC))
    ledger.append_sessions([*records, *others, february])
    excluded = records[3]["id"]
    ledger.add_adjustment(excluded, "exclude", reason="+private trip", author="admin")
    kwh, amount, count = _expected(records, {excluded})
    return Fixture(ledger, person.id, other.id, vehicle.id, records, excluded, kwh, amount, count)


def _parse(data: bytes, *, encoding: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline=""), delimiter=delimiter))


def test_neutralise_every_trigger() -> None:
    for trigger in "=+-@\t\r":
        assert neutralise(f"{trigger}1+1") == f"'{trigger}1+1"
    assert neutralise("Garage") == "Garage"
    assert neutralise("") == ""
    assert neutralise(None) == ""


def test_machine_csv_totals_and_format(world: Fixture) -> None:
    doc = documents.build(world.ledger, world.person_id, MONTH)
    data = statement_csv([doc], "machine")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    rows = _parse(data, encoding="utf-8", delimiter=",")
    header = rows[0]
    assert header[:5] == ["row_type", "month", "person", "personnel_number", "session_id"]
    table = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    sessions = [row for row in table if row["row_type"] == "session"]
    assert {row["session_id"] for row in sessions} == {r["id"] for r in world.records}
    counted = [row for row in sessions if row["excluded"] == "false"]
    assert sum(Decimal(row["amount"]) for row in counted) == world.expected_amount
    assert sum(Decimal(row["energy_kwh"]) for row in counted) == world.expected_kwh
    (total,) = [row for row in table if row["row_type"] == "total"]
    assert Decimal(total["amount"]) == world.expected_amount
    assert Decimal(total["energy_kwh"]) == world.expected_kwh
    # ISO 8601 with offset, local time of the charger (Berlin, UTC+1 in March before DST).
    first = min(sessions, key=lambda row: row["start"])
    assert datetime.fromisoformat(first["start"]).utcoffset() == timedelta(hours=1)
    assert first["start"].startswith("2026-03-02T18:01:00+01:00")
    # Text that a spreadsheet would run is neutralised; numbers stay numbers.
    assert {row["person"] for row in table} == {"'" + EVIL_NAME}
    assert {row["vehicle"] for row in sessions} == {"'-Car (B-EV 100)"}
    excluded = [row for row in sessions if row["excluded"] == "true"]
    assert [(row["session_id"], row["exclusion_reason"]) for row in excluded] == [
        (world.excluded_id, "'+private trip")
    ]


def test_excel_csv_german_and_english(world: Fixture) -> None:
    doc = documents.build(world.ledger, world.person_id, MONTH)
    german = statement_csv([doc], "excel", "de")
    assert german.startswith(b"\xef\xbb\xbf")
    rows = _parse(german, encoding="utf-8-sig", delimiter=";")
    assert rows[0][:3] == ["Zeile", "Monat", "Person"]
    ids = rows[1]
    assert ids[0] == "row_type"
    table = [dict(zip(ids, row, strict=True)) for row in rows[2:]]
    (total,) = [row for row in table if row["row_type"] == "Summe"]
    assert "," in total["amount"]
    assert Decimal(total["amount"].replace(",", ".")) == world.expected_amount
    assert Decimal(total["energy_kwh"].replace(",", ".")) == world.expected_kwh
    counted = [r for r in table if r["row_type"] == "Ladevorgang" and r["excluded"] == "nein"]
    assert len(counted) == world.expected_count
    assert sum(Decimal(r["amount"].replace(",", ".")) for r in counted) == world.expected_amount
    # Local time in the reader's pattern, which Excel reads as a date-time.
    assert datetime.strptime(counted[0]["start"], "%d.%m.%Y %H:%M")
    assert {r["price_basis"] for r in counted} == {"Festpreis des Arbeitgebers"}

    english = statement_csv([doc], "excel", "en")
    rows = _parse(english, encoding="utf-8-sig", delimiter=",")
    table = [dict(zip(rows[1], row, strict=True)) for row in rows[2:]]
    (total,) = [row for row in table if row["row_type"] == "Total"]
    assert Decimal(total["amount"]) == world.expected_amount


def test_xlsx_typed_cells_and_totals(world: Fixture, tmp_path: Path) -> None:
    doc = documents.build(world.ledger, world.person_id, MONTH)
    other = documents.build(world.ledger, world.other_id, MONTH)
    path = tmp_path / "statements.xlsx"
    path.write_bytes(statement_xlsx([doc, other], "en"))
    book = openpyxl.load_workbook(path)
    assert len(book.sheetnames) == 2  # one sheet per statement
    sheet = book[book.sheetnames[0]]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][:2] == ["Person", "'" + EVIL_NAME]
    header_row = next(i for i, row in enumerate(values) if row[0] == "Date")
    body = values[header_row + 1 :]
    total_index = next(i for i, row in enumerate(body) if row[0] == "Total")
    sessions = body[:total_index]
    assert len(sessions) == len(world.records)
    assert all(isinstance(row[0], datetime) for row in sessions)
    assert all(isinstance(row[6], float) for row in sessions)
    counted = [row for row in sessions if row[11] != "yes"]
    assert len(counted) == world.expected_count
    total = body[total_index]
    assert Decimal(str(total[8])) == world.expected_amount
    assert Decimal(str(round(total[6], 6))) == world.expected_kwh
    assert sum(Decimal(str(row[8])) for row in counted) == world.expected_amount
    assert {row[3] for row in sessions} == {"'-Car (B-EV 100)"}
    # No formula anywhere: every text cell is a plain string.
    assert not any(isinstance(cell, str) and cell.startswith("=") for row in values for cell in row)


def test_pdf_contents(world: Fixture, tmp_path: Path) -> None:
    doc = documents.build(world.ledger, world.person_id, MONTH)
    data = statement_pdf([doc], "en")
    (tmp_path / "statement.pdf").write_bytes(data)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    flat = " ".join(text.split())
    assert (
        f"Total: {world.expected_count} charging sessions, {world.expected_kwh:.3f} kWh, "
        f"{world.expected_amount:.2f} EUR" in flat
    )
    for needed in (
        "Personnel no.: 4711", "B-EV 100", "WB-0001", "MTR-42", "1 Mar 2026 to 31 Mar 2026",
        "Fixed employer price: employer price 2026", "Excluded sessions", "+private trip",
        doc.content_hash, "Driver: date, signature", "Approver: date, signature", "Generated",
    ):  # fmt: skip
        assert needed in flat, needed
    # One row per counted session: its amount is printed.
    for record in world.records:
        if record["id"] != world.excluded_id:
            amount = (Decimal(record["energy_wh"]) / 1000 * PRICE).quantize(CENT, ROUND_HALF_UP)
            assert f"{amount:.2f}" in flat

    german = statement_pdf([doc], "de")
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(german)).pages).split()
    )
    amount_de = f"{world.expected_amount:.2f}".replace(".", ",")
    assert f"Summe: {world.expected_count} Ladevorgänge" in text
    assert f"{amount_de} EUR" in text


def test_content_hash_is_reproducible(world: Fixture) -> None:
    first = documents.build(world.ledger, world.person_id, MONTH)
    second = documents.build(world.ledger, world.person_id, MONTH)
    assert first.content_hash == second.content_hash
    world.ledger.add_adjustment(world.excluded_id, "include", reason="business", author="a")
    third = documents.build(world.ledger, world.person_id, MONTH)
    assert third.content_hash != first.content_hash


def test_payroll_csv(world: Fixture) -> None:
    docs = [
        documents.build(world.ledger, world.person_id, MONTH),
        documents.build(world.ledger, world.other_id, MONTH),
    ]
    data = payroll_csv(docs, PayrollSettings())
    rows = _parse(data, encoding="utf-8", delimiter=";")
    assert rows[0] == ["Personalnummer", "Abrechnungsmonat", "Lohnart", "Betrag (EUR)"]
    other_amount = _expected(
        [make_record(100 + seq, user_id="user-other") for seq in range(1, 4)], set()
    )[1]
    assert rows[1:] == [
        ["4711", "03/2026", "9979", f"{world.expected_amount:.2f}".replace(".", ",")],
        ["0815", "03/2026", "9979", f"{other_amount:.2f}".replace(".", ",")],
    ]
    custom = PayrollSettings(
        wage_type="=1+2",
        columns=PayrollSettings.parse_columns("name, personnel_number, wage_type, amount"),
        delimiter=",",
        decimal_comma=False,
    )
    rows = _parse(payroll_csv(docs, custom, "en"), encoding="utf-8", delimiter=",")
    assert rows[0] == ["Name", "Personnel number", "Wage type", "Amount (EUR)"]
    assert rows[1] == ["'" + EVIL_NAME, "4711", "'=1+2", f"{world.expected_amount:.2f}"]
    with pytest.raises(ValueError, match="payroll columns"):
        PayrollSettings.parse_columns("amount, salary")


def test_statement_per_vehicle(world: Fixture) -> None:
    ledger = world.ledger
    second = ledger.add_vehicle("Second", plate="B-EV 200", person_id=world.person_id)
    moved = world.records[0]
    ledger.add_adjustment(
        moved["id"], "reassign", reason="other car", author="admin",
        data={"person_id": world.person_id, "vehicle_id": second.id},
    )  # fmt: skip
    whole = documents.build(ledger, world.person_id, MONTH)
    first_car = documents.build(ledger, world.person_id, MONTH, vehicle_id=world.vehicle_id)
    second_car = documents.build(ledger, world.person_id, MONTH, vehicle_id=second.id)
    assert [row.session_id for row in second_car.rows] == [moved["id"]]
    assert first_car.amount + second_car.amount == whole.amount == world.expected_amount
    assert second_car.vehicles == ["Second (B-EV 200)"]
    monthly = documents.statements_of_month(ledger, MONTH)
    assert len(monthly) == 3  # two vehicles of one person, one of the other


def test_sessions_csv_streams_every_session(world: Fixture) -> None:
    ledger = world.ledger
    ledger.append_sessions(
        [make_record(300, user_id="user-other") | {"charger": {"serial": "@SUM(A1)"}}]
    )
    chunks = list(sessions_csv(ledger, SessionFilter(), "machine", chunk_rows=4))
    assert len(chunks) > 3
    rows = _parse(b"".join(chunks), encoding="utf-8", delimiter=",")
    assert rows[0][:3] == ["session_id", "source", "started_at"]
    assert len(rows) - 1 == 12 + 3 + 1 + 1
    assert "'@SUM(A1)" in {row[7] for row in rows[1:]}
    energy = sum(Decimal(row[8]) for row in rows[1:])
    stored = [*world.records, *[make_record(100 + s) for s in range(1, 4)]]
    assert energy == sum(Decimal(r["energy_wh"]) for r in stored) + 2 * 7400
    only = _parse(
        b"".join(sessions_csv(ledger, SessionFilter(person_id=world.other_id), "excel", "de")),
        encoding="utf-8-sig",
        delimiter=";",
    )
    assert only[0][0] == "Ladevorgang"
    assert len(only) - 2 == 4  # the three of the fixture and the one added here


EVCC_DE = (
    "\ufeffStartzeit;Endzeit;Ladepunkt;Kennung;Fahrzeug;Kilometerstand (km);"
    "Zählerstand Start (kWh);Zählerstand Ende (kWh);Energie (kWh);Ladedauer;"
    "SoC Start (%);SoC Ende (%);Sonne (%);Preis;Preis/kWh;CO2/kWh (gCO2eq)\n"
    "2026-03-02 18:00:00;2026-03-02 20:30:00;Garage;;e-Golf;12000;1000,5;1012,75;12,25;2h30m;"
    "20;80;35,5;3,68;0,3;120\n"
    "2026-03-05 07:10:00;2026-03-05 08:00:00;Garage;;e-Golf;12100;1012,75;1020,75;8;50m;"
    "30;60;0;2,4;0,3;110\n"
    "2026-03-06 07:10:00;;Garage;;e-Golf;;;;;;;;;;;\n"
)
EVCC_EN = (
    "Created,Finished,Loadpoint,Identifier,Vehicle,Odometer (km),Meter Start (kWh),"
    "Meter Stop (kWh),Charged Energy (kWh),Charge Duration,Soc Start (%),Soc Stop (%),"
    "Solar (%),Price,Price/kWh,CO2/kWh (gCO2eq)\n"
    "2026-03-10 18:00:00,2026-03-10 19:00:00,=cmd|' /C calc'!A0,,ID.3,,,,"
    "7.5,1h,,,,2.25,0.3,\n"
)


def test_evcc_import_both_languages_idempotent(ledger: Ledger) -> None:
    person = ledger.add_person("Importer", personnel_number="42")
    ledger.add_rate(
        person_id=person.id, vehicle_id=None, valid_from=date(2026, 1, 1), valid_to=None,
        direction="reimburse", basis="tariff_cost", price_per_kwh=None, currency="EUR",
    )  # fmt: skip
    result = evcc.import_csv(ledger, EVCC_DE.encode(), person_id=person.id, author="admin")
    assert (result.rows, result.stored, result.duplicates) == (3, 2, 0)
    assert result.skipped == [(4, "the session has not finished")]
    again = evcc.import_csv(ledger, EVCC_DE.encode(), person_id=person.id, author="admin")
    assert (again.stored, again.duplicates) == (0, 2)
    english = evcc.import_csv(ledger, EVCC_EN.encode(), person_id=person.id, author="admin")
    assert english.stored == 1

    statement = ledger.statement(person.id, MONTH)
    assert statement.session_count == 3
    assert statement.energy_wh == Decimal("12250") + Decimal("8000") + Decimal("7500")
    assert statement.amount == Decimal("3.68") + Decimal("2.40") + Decimal("2.25")
    first = min(statement.rows, key=lambda row: row.started_at)
    assert first.started_at == "2026-03-02T17:00:00.000000Z"  # Berlin local 18:00
    assert (first.meter_start_wh, first.meter_end_wh) == (Decimal("1000500"), Decimal("1012750"))
    page = ledger.sessions(SessionFilter(person_id=person.id))
    assert {item.source for item in page.items} == {"import"}
    assert ledger.verify().ok
    doc = documents.build(ledger, person.id, MONTH)
    rows = _parse(statement_csv([doc], "machine"), encoding="utf-8", delimiter=",")
    assert all(not cell.startswith("=") for row in rows for cell in row)


def test_evcc_import_rejects_other_files(ledger: Ledger) -> None:
    with pytest.raises(evcc.EvccImportError, match="not an evcc session export"):
        evcc.import_csv(ledger, b"a,b\n1,2\n")
    with pytest.raises(evcc.EvccImportError, match="empty"):
        evcc.import_csv(ledger, b"")
    with pytest.raises(evcc.EvccImportError, match="time zone"):
        evcc.import_csv(ledger, EVCC_EN.encode(), time_zone="Mars/Base")


def test_both_languages_have_every_text() -> None:
    from ev_charging_ledger import i18n

    assert set(i18n.TEXT["en"]) == set(i18n.TEXT["de"])
    assert all(i18n.TEXT["de"].values())
    assert i18n.language("de-AT,en;q=0.5") == "de"
    assert i18n.language("fr-FR") == "en"


def test_pdf_of_a_hundred_sessions_repeats_the_heading_and_holds_every_row(
    ledger: Ledger,
) -> None:
    """The sessions table spans pages: each page of it starts with the heading row, and
    every session is a row with its energy (3.000 + index/1000 kWh, written out here)."""
    person = ledger.add_person("Paula Pdf", ha_user_id="pdf-user", personnel_number="100")
    first = datetime(2026, 3, 1, 6, tzinfo=UTC)
    ledger.append_sessions(
        [
            make_record(index + 1, user_id="pdf-user", energy_wh=3_000 + index,
                        started=first + timedelta(hours=7 * index), minutes=60)
            for index in range(100)
        ]
    )  # fmt: skip
    doc = documents.build(ledger, person.id, "2026-03")
    data = statement_pdf([doc], "en")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    with_rows = [text for text in pages if " kWh" in text and "MID" in text]
    assert len(with_rows) >= 3
    for text in with_rows:
        assert "Date Start End Register start (kWh)" in " ".join(text.split())
    words = " ".join(pages).split()
    energies = [f"{3 + index / 1000:.3f}" for index in range(100)]
    for energy in energies:
        assert energy in words, energy
