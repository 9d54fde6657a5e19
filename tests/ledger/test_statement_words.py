"""A statement an employer accepts without asking, read back from the real files.

PDF text comes from pypdf, workbook cells from openpyxl, CSV from the csv module, the
page from the real aiohttp app: each is checked for the words a reader needs (price
basis and evidence class in words, meter serial, period, per-session amounts with
currency, totals, the hash with how to verify it, the 2026 rules, the split session)
and for the absence of text keys, ISO times and numbers without a unit, in English and
German. Expected amounts are worked out by hand in the fixture.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pypdf import PdfReader

from ev_charging_ledger import cli
from ev_charging_ledger.access import TokenAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.reports import document as documents
from ev_charging_ledger.reports.pdf import statement_pdf
from ev_charging_ledger.reports.settings import ReportSettings
from ev_charging_ledger.reports.tabular import statement_csv
from ev_charging_ledger.reports.xlsx import statement_xlsx
from ev_charging_ledger.storage import Ledger
from tests.ledger.integration_records import make_record

# Text keys look like this; ISO times like this (as in the browser walk).
RAW_KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# A decimal number must be followed by its unit; dates are taken out first.
DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")
BARE_DECIMAL = re.compile(r"(?<![\w.,])-?\d+[.,]\d+(?!\d)(?![.,]\d)(?!\s*(?:kWh|EUR))")
RAW_WORDS = ("fixed_price", "non_mid_meter", "mid_meter", "tariff_cost", "flat_price")
API_TOKEN = "statement-test-token"


@dataclass
class Office:
    ledger: Ledger
    person_id: int
    split_id: str


@pytest.fixture
def office(ledger: Ledger) -> Office:
    person = ledger.add_person("Alex Driver", ha_user_id="u1", personnel_number="4711")
    ledger.add_vehicle("Company car", plate="B-EV 7", person_id=person.id)
    ledger.add_rate(
        person_id=person.id, vehicle_id=None, valid_from=date(2026, 1, 1), valid_to=None,
        direction="reimburse", basis="fixed_price", price_per_kwh=Decimal("0.305"),
        currency="EUR", note="Company car policy 2026",
    )  # fmt: skip
    october = [
        make_record(
            seq, user_id="u1", vehicle="B-EV 7", energy_wh=10_000 + seq * 1000,
            started=datetime(2026, 10, 5 + seq, 17, 0, tzinfo=UTC),
        )
        for seq in (1, 2)
    ]  # fmt: skip
    # 31 Oct 23:00 to 1 Nov 03:00 in Berlin: 7001 Wh, a quarter of the time in October.
    crossing = make_record(
        3, user_id="u1", vehicle="B-EV 7", energy_wh=7_001, minutes=240,
        started=datetime(2026, 10, 31, 22, 0, tzinfo=UTC),
    )  # fmt: skip
    ledger.append_sessions([*october, crossing])
    return Office(ledger, person.id, crossing["id"])


# By hand: 11 kWh x 0.305 = 3.355 -> 3.36; 12 kWh x 0.305 = 3.66; the October part of the
# crossing session 1.750 kWh -> 0.53375 -> 0.53 (see test_month_split). Total 24.750 kWh,
# 7.55 EUR. November: 5.251 kWh and 2.14 - 0.53 = 1.61 EUR.
OCTOBER = {
    "en": ["3.36 EUR", "3.66 EUR", "0.53 EUR", "Total: 3 charging sessions, 24.750 kWh, 7.55 EUR"],
    "de": ["3,36 EUR", "3,66 EUR", "0,53 EUR", "Summe: 3 Ladevorgänge, 24,750 kWh, 7,55 EUR"],
}
NOVEMBER = {
    "en": ["1.61 EUR", "Total: 1 charging session, 5.251 kWh, 1.61 EUR"],
    "de": ["1,61 EUR", "Summe: 1 Ladevorgang, 5,251 kWh, 1,61 EUR"],
}
WORDS = {
    "en": [
        "Monthly statement October 2026", "Fixed employer price: Company car policy 2026",
        "Non-MID meter", "MTR-42", "1 Oct 2026 to 31 Oct 2026",
        "Europe/Berlin", "How to verify this statement", "separate meter",
        "one price basis used for the whole calendar year",
        "Part 1 of 2 of the session from 31 Oct 2026, 23:00 to 1 Nov 2026, 03:00 (7.001 kWh)",
        "interpolated",
    ],
    "de": [
        "Monatsabrechnung Oktober 2026", "Festpreis des Arbeitgebers: Company car policy 2026",
        "Zähler ohne MID", "MTR-42", "01.10.2026 bis 31.10.2026",
        "So prüfen Sie diese Abrechnung", "gesonderten Zähler",
        "Preisgrundlage, die für das ganze Kalenderjahr gilt",
        "Teil 1 von 2 des Ladevorgangs vom 31.10.2026, 23:00 bis 01.11.2026, 03:00 (7,001 kWh)",
        "interpoliert",
    ],
}  # fmt: skip


def _flat(text: str) -> str:
    return " ".join(text.split())


def _check_clean(text: str, where: str) -> None:
    assert not RAW_KEY.search(text), (where, RAW_KEY.search(text))
    assert not ISO_TIME.search(text), (where, ISO_TIME.search(text))
    for raw in RAW_WORDS:
        assert raw not in text, (where, raw)
    bare = BARE_DECIMAL.search(DATE.sub("", text))
    assert bare is None, (where, bare, text[max(0, bare.start() - 60) : bare.end() + 20])


def _verify_line(document: documents.StatementDocument) -> str:
    return (
        f"verify-statement --person {document.person.id} --month {document.month} "
        f"--hash {document.content_hash}"
    )


@pytest.mark.parametrize("lang", ["en", "de"])
def test_pdf_says_everything_in_words(office: Office, lang: str, tmp_path: Path) -> None:
    october = documents.build(office.ledger, office.person_id, "2026-10", home_zone="UTC")
    data = statement_pdf([october], lang)
    (tmp_path / f"statement-{lang}.pdf").write_bytes(data)
    text = _flat("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))
    for needed in (*WORDS[lang], *OCTOBER[lang], october.content_hash, _verify_line(october)):
        assert needed in text, needed
    _check_clean(text, f"pdf {lang}")

    november = documents.build(office.ledger, office.person_id, "2026-11")
    text = _flat(
        "\n".join(
            page.extract_text()
            for page in PdfReader(io.BytesIO(statement_pdf([november], lang))).pages
        )
    )
    for needed in NOVEMBER[lang]:
        assert needed in text, needed
    assert ("Part 2 of 2" if lang == "en" else "Teil 2 von 2") in text
    _check_clean(text, f"pdf {lang} november")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_xlsx_says_everything_in_words(office: Office, lang: str, tmp_path: Path) -> None:
    october = documents.build(office.ledger, office.person_id, "2026-10")
    path = tmp_path / f"statement-{lang}.xlsx"
    path.write_bytes(statement_xlsx([october], lang))
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    strings = [
        cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)
    ]
    text = _flat(" | ".join(strings))
    for needed in (*WORDS[lang], october.content_hash, _verify_line(october)):
        assert needed in text, needed
    _check_clean(text, f"xlsx {lang}")
    # Numbers are numbers whose format names the unit; dates are dates in the reader's pattern.
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, float):
                assert "kWh" in cell.number_format or "EUR" in cell.number_format, cell
            if isinstance(cell.value, datetime):
                assert "yyyy-mm-dd" not in cell.number_format, cell
    amounts = [
        Decimal(str(cell.value)).quantize(Decimal("0.01"))
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, float) and '"EUR"' in cell.number_format
        and "/kWh" not in cell.number_format
    ]  # fmt: skip
    # Three rows and the total: 3.36 + 3.66 + 0.53 = 7.55.
    assert amounts == [Decimal("3.36"), Decimal("3.66"), Decimal("0.53"), Decimal("7.55")]


@pytest.mark.parametrize(("lang", "delimiter"), [("en", ","), ("de", ";")])
def test_excel_csv_says_it_in_words(office: Office, lang: str, delimiter: str) -> None:
    october = documents.build(office.ledger, office.person_id, "2026-10")
    data = statement_csv([october], "excel", lang).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data, newline=""), delimiter=delimiter))
    # Row 2 holds the stable column ids for programs; everything else is for people.
    people = "\n".join(delimiter.join(row) for index, row in enumerate(rows) if index != 1)
    assert not RAW_KEY.search(people), RAW_KEY.search(people)
    assert not ISO_TIME.search(people), ISO_TIME.search(people)
    for raw in RAW_WORDS:
        assert raw not in people
    table = [dict(zip(rows[1], row, strict=True)) for row in rows[2:]]
    basis = "Fixed employer price" if lang == "en" else "Festpreis des Arbeitgebers"
    assert {row["price_basis"] for row in table} == {basis}
    sessions = [row for row in table if row["row_type"] in ("Session", "Ladevorgang")]
    assert len(sessions) == 3
    # Number cells stay numbers for the spreadsheet: the unit is the column's (kWh) or
    # the currency column's.
    assert {row["currency"] for row in table} == {"EUR"}
    split = [row for row in sessions if row["split"]]
    assert len(split) == 1
    assert ("interpolated" if lang == "en" else "interpoliert") in split[0]["split"]

    machine = statement_csv([october], "machine").decode()
    parsed = list(csv.DictReader(io.StringIO(machine, newline="")))
    assert [row["split"] for row in parsed if row["split"]] == ["1/2 interpolated"]


@pytest.fixture
async def client(office: Office) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    def refuse(token: str) -> None:
        raise AssertionError("only the API token is used here")

    policy = TokenAccess(API_TOKEN, refuse)  # type: ignore[arg-type]
    app = create_app(office.ledger, policy, reports=ReportSettings(time_zone="Europe/Berlin"))
    test_client = TestClient(TestServer(app, host="127.0.0.1"))
    await test_client.start_server()
    yield test_client
    await test_client.close()


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_statement_page_says_everything_in_words(
    office: Office, client: TestClient[web.Request, web.Application], lang: str
) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    response = await client.get(
        f"/statements/{office.person_id}/2026-10?lang={lang}", headers=headers
    )
    assert response.status == 200
    html = await response.text()
    body = html[html.index("<main") if "<main" in html else html.index("<body") :]
    text = _flat(re.sub(r"<[^>]+>", " ", body.split("<script")[0]).replace("&amp;", "&"))
    october = documents.build(office.ledger, office.person_id, "2026-10")
    for needed in (*WORDS[lang], *OCTOBER[lang][:3], october.content_hash, _verify_line(october)):
        assert needed in text, needed
    _check_clean(text, f"page {lang}")


async def test_verify_endpoint_and_command(
    office: Office, client: TestClient[web.Request, web.Application], tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    october = documents.build(office.ledger, office.person_id, "2026-10")
    path = f"/api/statements/{office.person_id}/2026-10/verify"
    response = await client.get(path, params={"hash": october.content_hash}, headers=headers)
    assert response.status == 200
    assert (await response.json())["match"] is True
    command = [
        "verify-statement", "--data-dir", str(tmp_path), "--person", str(office.person_id),
        "--month", "2026-10", "--hash", october.content_hash,
    ]  # fmt: skip
    assert cli.main(command) == 0
    # A correction after the statement was printed: the printed hash no longer matches.
    office.ledger.add_adjustment(office.split_id, "exclude", reason="private", author="admin")
    response = await client.get(path, params={"hash": october.content_hash}, headers=headers)
    answer = await response.json()
    assert answer["match"] is False
    assert answer["content_hash"] != october.content_hash
    assert cli.main(command) == 1
    # A malformed hash is refused by the API's contract, not compared.
    response = await client.get(path, params={"hash": "abc"}, headers=headers)
    assert response.status == 400
    assert cli.main([*command[:-1], "x" * 64]) == 1


REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
async def test_split_session_on_both_statements_in_chromium(
    office: Office, client: TestClient[web.Request, web.Application], locale: str
) -> None:
    """The October and November statement pages in a real browser, with their PDFs:
    each holds its own part of the crossing session, the parts add up to the session."""
    from playwright.async_api import async_playwright

    lang = locale[:2]
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(client.make_url("")).rstrip("/")
    # Hand-worked parts (see the fixture): 1.750 kWh / 0.53 EUR and 5.251 kWh / 1.61 EUR,
    # 7.001 kWh / 2.14 EUR together.
    parts = {"2026-10": ("1.750 kWh", "0.53 EUR"), "2026-11": ("5.251 kWh", "1.61 EUR")}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = await browser.new_context(
            accept_downloads=True,
            locale=locale,
            viewport={"width": 1280, "height": 900},
            extra_http_headers={"Authorization": f"Bearer {API_TOKEN}"},
        )
        page = await context.new_page()
        for month, (energy, amount) in parts.items():
            if lang == "de":
                energy, amount = energy.replace(".", ","), amount.replace(".", ",")
            await page.goto(f"{base}/statements/{office.person_id}/{month}")
            split_row = page.locator("#statement-rows tbody tr.split")
            assert await split_row.count() == 1
            cells = await split_row.locator("td").all_inner_texts()
            assert energy in cells, cells
            assert amount in cells, cells
            note = await page.locator("#split-sessions").inner_text()
            assert ("interpolated" if lang == "en" else "interpoliert") in note
            text = await page.locator("main").inner_text()
            _check_clean(text, f"browser {month} {lang}")
            await page.screenshot(
                path=str(ARTIFACTS / f"ledger-statement-split-{month}-{lang}.png"), full_page=True
            )
            # The page's own PDF link, fetched with the page's credentials (a browser
            # download drops the bearer header this test logs in with).
            href = await page.locator("#download-pdf").get_attribute("href")
            assert href is not None
            response = await context.request.get(f"{base}{href}")
            assert response.status == 200
            assert response.headers["content-type"] == "application/pdf"
            data = await response.body()
            target = ARTIFACTS / f"ledger-statement-split-{month}-{lang}.pdf"
            await asyncio.to_thread(target.write_bytes, data)
            pdf_text = _flat(
                "\n".join(leaf.extract_text() for leaf in PdfReader(io.BytesIO(data)).pages)
            )
            assert energy in pdf_text
            assert amount in pdf_text
            _check_clean(pdf_text, f"browser pdf {month} {lang}")
        await context.close()
        await browser.close()
