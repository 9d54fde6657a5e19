"""The web UI in a real headless Chromium, through a simulated ingress path prefix.

The ledger app runs on 127.0.0.1 with its add-on access policy (ingress headers);
a stand-in for the Supervisor's ingress proxy (tests/ledger/ingress_proxy.py) serves
it under ``/api/hassio_ingress/<token>/`` as Home Assistant does. The user list that
tells admins from other users comes from a fixed list in Home Assistant's format here
(test_api_access.py checks the same policy against a real Home Assistant).

Screenshots of the dashboard and of a statement page go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, async_playwright
from pypdf import PdfReader

from ev_charging_ledger.access import IngressAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.storage import Ledger
from tests.ledger.ingress_proxy import IngressUser, ingress_proxy
from tests.ledger.integration_records import make_record

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
PREFIX = "/api/hassio_ingress/Zx9-TOKEN_abc"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PRICE = Decimal("0.30")
CENT = Decimal("0.01")
ADMIN = IngressUser("admin-user-id", "admin", "Ada Admin")
READER = IngressUser("reader-user-id", "reader", "Rita Reader")
HA_USERS = [
    {"id": ADMIN.id, "name": "Ada Admin", "is_owner": True, "group_ids": ["system-admin"]},
    {"id": READER.id, "name": "Rita Reader", "is_owner": False, "group_ids": ["system-users"]},
]


def _month(moment: datetime, delta: int = 0) -> str:
    index = moment.year * 12 + moment.month - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass
class Site:
    ledger: Ledger
    admin_url: str
    reader_url: str
    month: str
    driver_id: int
    reader_id: int
    driver_records: list[dict[str, Any]]
    excluded_id: str
    expected_kwh: Decimal
    expected_amount: Decimal
    expected_count: int


def _seed(ledger: Ledger) -> tuple[str, int, int, list[dict[str, Any]], str]:
    driver = ledger.add_person("=Dora Driver", ha_user_id="driver-user", personnel_number="1001")
    reader = ledger.add_person("Rita Reader", ha_user_id=READER.id, personnel_number="1002")
    ledger.add_vehicle("ID.3", plate="B-DD 1", person_id=driver.id)
    ledger.add_vehicle("Zoe", plate="B-RR 2", person_id=reader.id)
    for person in (driver, reader):
        ledger.add_rate(
            person_id=person.id, vehicle_id=None, valid_from=date(2020, 1, 1), valid_to=None,
            direction="reimburse", basis="fixed_price", price_per_kwh=PRICE, currency="EUR",
            note="employer price",
        )  # fmt: skip
    now = datetime.now(UTC)
    month = _month(now, -1)
    year, number = (int(part) for part in month.split("-"))
    first = datetime(year, number, 2, 6, 0, tzinfo=UTC)
    # 60 sessions of the driver last month: more than one page of the list (50).
    driver_records = [
        make_record(
            seq, user_id="driver-user", vehicle="B-DD 1",
            started=first + timedelta(hours=9 * seq), minutes=60 + seq,
            energy_wh=3_000 + 97 * seq, meter_start_wh=5_000_000 + 20_000 * seq,
        )
        for seq in range(1, 61)
    ]  # fmt: skip
    reader_records = [
        make_record(100 + seq, user_id=READER.id, vehicle="B-RR 2",
                    started=first + timedelta(days=seq, hours=3))
        for seq in range(1, 6)
    ]  # fmt: skip
    # This month's sessions for the dashboard.
    current = [
        make_record(200 + seq, user_id="driver-user", started=now - timedelta(hours=2 + seq))
        for seq in range(1, 4)
    ]
    ledger.append_sessions([*driver_records, *reader_records, *current])
    excluded = driver_records[7]["id"]
    ledger.add_adjustment(excluded, "exclude", reason="private trip", author="admin")
    return month, driver.id, reader.id, driver_records, excluded


@pytest.fixture
async def site(ledger: Ledger) -> AsyncIterator[Site]:
    month, driver_id, reader_id, records, excluded = _seed(ledger)

    async def list_users() -> list[dict[str, Any]]:
        return HA_USERS

    policy = IngressAccess(list_users, allowed_peers=frozenset({"127.0.0.1"}))
    app_server = TestServer(create_app(ledger, policy), host="127.0.0.1")
    await app_server.start_server()
    target = str(app_server.make_url("")).rstrip("/")
    proxies = [
        TestServer(ingress_proxy(target, PREFIX, user), host="127.0.0.1")
        for user in (ADMIN, READER)
    ]
    for proxy in proxies:
        await proxy.start_server()
    kwh = Decimal(0)
    amount = Decimal(0)
    count = 0
    for record in records:
        if record["id"] == excluded:
            continue
        energy = Decimal(record["energy_wh"]) / 1000
        kwh += energy
        amount += (energy * PRICE).quantize(CENT, ROUND_HALF_UP)
        count += 1
    yield Site(
        ledger,
        str(proxies[0].make_url(PREFIX)),
        str(proxies[1].make_url(PREFIX)),
        month,
        driver_id,
        reader_id,
        records,
        excluded,
        kwh,
        amount,
        count,
    )
    for proxy in proxies:
        await proxy.close()
    await app_server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


async def _new_page(browser: Browser, locale: str = "en-GB") -> Page:
    context = await browser.new_context(
        accept_downloads=True, locale=locale, viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"{request.url} {request.failure}"))
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def _download(page: Page, selector: str) -> bytes:
    async with page.expect_download() as info:
        await page.click(selector)
    download = await info.value
    path = await download.path()
    assert path is not None
    return await asyncio.to_thread(Path(path).read_bytes)


def _csv(data: bytes, delimiter: str) -> list[dict[str, str]]:
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    ids = rows[1] if rows[0][0] != "row_type" else rows[0]
    body = rows[2:] if ids is rows[1] else rows[1:]
    return [dict(zip(ids, row, strict=True)) for row in body]


async def test_admin_walks_through_the_ui(site: Site, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = await _new_page(browser)
    base = site.admin_url

    # Dashboard: served under the prefix, with its CSS and script, charts and tiles.
    response = await page.goto(base + "/")
    assert response is not None
    assert response.status == 200
    assert await page.locator("h1").inner_text() == "Dashboard"
    assert await page.locator("svg.chart").count() == 3
    assert "kWh" in await page.locator("#month-energy").inner_text()
    css = await page.evaluate("getComputedStyle(document.querySelector('header')).display")
    assert css == "flex"  # the stylesheet loaded through the prefix
    await page.screenshot(path=str(ARTIFACTS / "ui-dashboard.png"), full_page=True)

    # Sessions list: filter by person and period, page through, open a session.
    await page.click("text=Sessions")
    await page.select_option("#filter-person", str(site.driver_id))
    year, number = site.month.split("-")
    await page.fill("#filter-from", f"{site.month}-01")
    await page.fill("#filter-to", f"{site.month}-28")
    await page.click("#filter-submit")
    assert PREFIX in page.url
    rows = page.locator("#sessions tbody tr")
    assert await rows.count() == 50
    await page.click("#next-page")
    in_period = [r for r in site.driver_records if r["started_at"] < f"{site.month}-28T22:00:00"]
    assert await rows.count() == len(in_period) - 50
    await page.locator(".session-link").first.click()
    assert "/sessions/" in page.url
    assert "kWh" in await page.locator("#session-energy").inner_text()
    assert "MID" in await page.locator("#evidence-class").inner_text()

    # Statement page: totals equal the independently computed sums; every export.
    await page.goto(f"{base}/statements")
    await page.select_option("#statement-person", str(site.driver_id))
    await page.fill("#statement-month", site.month)
    await page.click("#statement-show")
    assert page.url.endswith(f"/statements/{site.driver_id}/{site.month}")
    total = await page.locator("#total-amount").inner_text()
    assert total == f"{site.expected_amount:.2f} EUR"
    assert await page.locator("#total-energy").inner_text() == f"{site.expected_kwh:.3f} kWh"
    await page.screenshot(path=str(ARTIFACTS / "ui-statement.png"), full_page=True)

    pdf = await _download(page, "#download-pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert (
        f"Total: {site.expected_count} charging sessions, {site.expected_kwh:.3f} kWh, "
        f"{site.expected_amount:.2f} EUR" in text
    )
    assert "=Dora Driver" in text  # a PDF is not a spreadsheet: shown as entered

    xlsx = await _download(page, "#download-xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][1] == "'=Dora Driver"
    (total_row,) = [row for row in values if row[0] == "Total"]
    assert Decimal(str(total_row[8])) == site.expected_amount

    excel = _csv(await _download(page, "#download-csv"), ",")
    (total_line,) = [row for row in excel if row["row_type"] == "Total"]
    assert Decimal(total_line["amount"]) == site.expected_amount
    assert total_line["person"] == "'=Dora Driver"

    machine = _csv(await _download(page, "#download-machine"), ",")
    counted = [r for r in machine if r["row_type"] == "session" and r["excluded"] == "false"]
    assert sum(Decimal(r["amount"]) for r in counted) == site.expected_amount
    assert sum(Decimal(r["energy_kwh"]) for r in counted) == site.expected_kwh

    # Reports: payroll CSV and the month's workbook (one sheet per statement).
    await page.goto(f"{base}/reports?month={site.month}")
    payroll = (await _download(page, "#download-payroll")).decode()
    lines = payroll.splitlines()
    assert lines[0] == "Personnel number;Payroll month;Wage type;Amount (EUR)"
    # Payroll format is configured, not taken from the UI language: decimal comma.
    amount = f"{site.expected_amount}".replace(".", ",")
    assert f"1001;{number}/{year};9979;{amount}" in lines
    book = openpyxl.load_workbook(io.BytesIO(await _download(page, "#download-month-xlsx")))
    assert len(book.sheetnames) == 2

    # evcc import through the browser (file upload to the API behind the prefix).
    evcc_file = ARTIFACTS / "evcc-sessions.csv"
    evcc_file.write_text(
        "Created,Finished,Loadpoint,Identifier,Vehicle,Odometer (km),Meter Start (kWh),"
        "Meter Stop (kWh),Charged Energy (kWh),Charge Duration,Soc Start (%),Soc Stop (%),"
        "Solar (%),Price,Price/kWh,CO2/kWh (gCO2eq)\n"
        "2025-01-10 18:00:00,2025-01-10 19:00:00,Garage,,ID.3,,100,107.5,7.5,1h,,,,2.25,0.3,\n"
        "2025-01-11 18:00:00,2025-01-11 19:00:00,Garage,,ID.3,,107.5,110,2.5,1h,,,,0.75,0.3,\n",
        encoding="utf-8-sig",
    )
    await page.select_option("#evcc-import select[name=person_id]", str(site.driver_id))
    await page.set_input_files("#evcc-import input[type=file]", str(evcc_file))
    await page.click("#evcc-import button")
    await page.wait_for_function(
        "document.querySelector('#evcc-import .result').textContent.includes('stored')"
    )
    assert '"stored": 2' in await page.locator("#evcc-import .result").inner_text()

    # Management: add a person through the form; integrity: verify the chain.
    await page.goto(f"{base}/manage")
    await page.fill("#add-person input[name=name]", "Neo Newcomer")
    await page.fill("#add-person input[name=personnel_number]", "1003")
    async with page.expect_navigation():
        await page.click("#add-person button")
    assert "Neo Newcomer" in await page.locator("#people").inner_text()
    await page.goto(f"{base}/integrity")
    await page.click("#verify")
    await page.wait_for_selector("#verify-result.ok")
    assert "Chain verified" in await page.locator("#verify-result").inner_text()
    # The site's sessions carry no signed values: none re-verified, none failing.
    assert await page.locator("#verify-ocmf").inner_text() == (
        "0 signed meter values (OCMF) re-verified against their public keys"
    )
    assert await page.locator("#verify-ocmf-failures li").count() == 0
    assert page.errors == []  # type: ignore[attr-defined]


async def test_german_ui(site: Site, browser: Browser) -> None:
    page = await _new_page(browser, locale="de-DE")
    await page.goto(f"{site.admin_url}/statements/{site.driver_id}/{site.month}")
    assert (await page.locator("h1").inner_text()).startswith("Monatsabrechnung")
    amount = f"{site.expected_amount:.2f}".replace(".", ",")
    assert await page.locator("#total-amount").inner_text() == f"{amount} EUR"
    german = _csv(await _download(page, "#download-csv"), ";")
    (total,) = [row for row in german if row["row_type"] == "Summe"]
    assert total["amount"] == amount
    await page.goto(f"{site.admin_url}/")
    assert await page.locator("nav a").first.inner_text() == "Übersicht"
    await page.screenshot(path=str(ARTIFACTS / "ui-dashboard-de.png"), full_page=True)


async def test_reader_sees_only_their_own(site: Site, browser: Browser) -> None:
    page = await _new_page(browser)
    base = site.reader_url
    await page.goto(base + "/sessions")
    assert await page.locator("#sessions tbody tr").count() == 5
    assert await page.locator("#filter-person").count() == 0
    for path in (
        f"/statements/{site.driver_id}/{site.month}",
        f"/api/statements/{site.driver_id}/{site.month}/export?format=pdf",
        f"/api/statements/{site.driver_id}/{site.month}/export?format=csv",
        f"/api/exports/sessions.csv?person_id={site.driver_id}",
        f"/sessions?person_id={site.driver_id}",
        f"/sessions/{site.driver_records[0]['id']}",
        f"/api/reports/{site.month}/payroll.csv",
        "/manage",
    ):
        response = await page.request.get(base + path)
        assert response.status == 403, path
    # The statement list offers only their own statement, and it opens.
    await page.goto(base + "/statements")
    options = await page.locator("#statement-person option").all_inner_texts()
    assert options == ["Rita Reader"]
    response = await page.goto(f"{base}/statements/{site.reader_id}/{site.month}")
    assert response is not None
    assert response.status == 200
    export = await page.request.get(
        f"{base}/api/statements/{site.reader_id}/{site.month}/export?format=machine_csv"
    )
    assert export.status == 200
    rows = _csv(await export.body(), ",")
    assert {row["person"] for row in rows} == {"Rita Reader"}
    # Their own sessions export holds their five sessions only.
    own = await page.request.get(f"{base}/api/exports/sessions.csv")
    sessions = list(csv.DictReader(io.StringIO((await own.body()).decode(), newline="")))
    assert len(sessions) == 5
    assert {row["person_id"] for row in sessions} == {str(site.reader_id)}
