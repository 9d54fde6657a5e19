"""Scheduled delivery across a simulated month boundary, notifying a real Home Assistant.

The clock is injected: at 23:59 on the last day of a month nothing of that month is
delivered; five minutes later, on the first, the statements are in the share folder
and Home Assistant (pytest-homeassistant-custom-component's ``hass``, reached over its
real HTTP API) holds the persistent notification or received the notify call.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from pypdf import PdfReader

from ev_charging_ledger.delivery import (
    HomeAssistantNotifier,
    MonthlyDelivery,
    rest_url,
    write_month,
)
from ev_charging_ledger.reports import document as statement_document
from ev_charging_ledger.reports.settings import ReportSettings
from ev_charging_ledger.storage import Ledger
from tests.ledger.integration_records import make_record

BERLIN = ZoneInfo("Europe/Berlin")
PRICE = Decimal("0.25")


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.now = moment

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def home_assistant(
    hass: HomeAssistant,
    aiohttp_client: Callable[..., Awaitable[object]],
    hass_access_token: str,
) -> str:
    """A real Home Assistant with its REST API on a real HTTP port; returns its URL."""
    for component in ("api", "persistent_notification"):
        assert await async_setup_component(hass, component, {})
    client = await aiohttp_client(hass.http.app)
    return f"http://127.0.0.1:{client.server.port}"  # type: ignore[attr-defined]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _seed(ledger: Ledger) -> tuple[list[dict[str, Any]], Decimal]:
    person = ledger.add_person("Dana", ha_user_id="dana", personnel_number="77")
    ledger.add_vehicle("Kona", plate="M-K 1", person_id=person.id)
    ledger.add_rate(
        person_id=person.id, vehicle_id=None, valid_from=date(2026, 1, 1), valid_to=None,
        direction="reimburse", basis="fixed_price", price_per_kwh=PRICE, currency="EUR",
    )  # fmt: skip
    march = [
        make_record(seq, user_id="dana", vehicle="M-K 1",
                    started=datetime(2026, 3, 3, 17, tzinfo=UTC) + timedelta(days=2 * seq),
                    energy_wh=4_000 + seq * 311)
        for seq in range(1, 9)
    ]  # fmt: skip
    # Starts at 00:30 on 1 April in Berlin (22:30 UTC on 31 March): an April session.
    april = make_record(50, user_id="dana", started=datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    ledger.append_sessions([*march, april])
    amount = sum(
        ((Decimal(r["energy_wh"]) / 1000 * PRICE).quantize(Decimal("0.01"), ROUND_HALF_UP))
        for r in march
    )
    return march, amount


async def test_month_boundary_writes_files_and_notifies(
    hass: HomeAssistant,
    home_assistant: str,
    hass_access_token: str,
    ledger: Ledger,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    march, amount = _seed(ledger)
    share = tmp_path / "share"
    share.mkdir()
    settings = ReportSettings(share_dir=share, language="de", time_zone="Europe/Berlin")
    notifier = HomeAssistantNotifier(http, home_assistant, hass_access_token)
    clock = Clock(datetime(2026, 3, 31, 23, 59, tzinfo=BERLIN))
    delivery = MonthlyDelivery(ledger, settings, notifier, tmp_path / "delivery.json", clock=clock)

    # Before midnight: February is due (nothing in it, so no notification), March is not.
    first = await delivery.run_once()
    assert first is not None
    assert (first.month, first.statements) == ("2026-02", 0)
    assert await delivery.run_once() is None
    assert not (share / "2026-03").exists()
    assert persistent_notification._async_get_or_create_notifications(hass) == {}

    clock.now = datetime(2026, 4, 1, 0, 5, tzinfo=BERLIN)
    result = await delivery.run_once()
    assert result is not None
    assert (result.month, result.statements) == ("2026-03", 1)
    names = sorted(path.name for path in (share / "2026-03").iterdir())
    assert names == [
        "payroll-2026-03.csv",
        "statement-2026-03-77-vehicle1-machine.csv",
        "statement-2026-03-77-vehicle1.csv",
        "statement-2026-03-77-vehicle1.pdf",
        "statement-2026-03-77-vehicle1.xlsx",
        "statements-2026-03.xlsx",
    ]
    machine = list(
        csv.DictReader(
            io.StringIO((share / "2026-03/statement-2026-03-77-vehicle1-machine.csv").read_text())
        )
    )
    assert [row["session_id"] for row in machine if row["row_type"] == "session"] == [
        r["id"] for r in march
    ]  # the 00:30 session of 1 April is not in March
    (total,) = [row for row in machine if row["row_type"] == "total"]
    assert Decimal(total["amount"]) == amount
    pdf = (share / "2026-03/statement-2026-03-77-vehicle1.pdf").read_bytes()
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert f"{amount:.2f}".replace(".", ",") + " EUR" in text
    payroll = (share / "2026-03/payroll-2026-03.csv").read_text().splitlines()
    assert payroll[1] == "77;03/2026;9979;" + f"{amount:.2f}".replace(".", ",")

    notifications = persistent_notification._async_get_or_create_notifications(hass)
    note = notifications["ev_charging_ledger_2026-03"]
    assert note["title"] == "Ladeabrechnungen für 2026-03"
    assert "1 Abrechnung(en) für 2026-03" in note["message"]
    assert str(share / "2026-03") in note["message"]

    # Delivered once: later wake-ups in April do nothing.
    clock.now = datetime(2026, 4, 15, 12, tzinfo=BERLIN)
    assert await delivery.run_once() is None


async def test_notify_service_and_catch_up_loop(
    hass: HomeAssistant,
    home_assistant: str,
    hass_access_token: str,
    ledger: Ledger,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    calls: list[dict[str, Any]] = []

    async def phone(call: ServiceCall) -> None:
        calls.append(dict(call.data))

    hass.services.async_register("notify", "phone", phone)
    _seed(ledger)
    share = tmp_path / "share"
    share.mkdir()
    settings = ReportSettings(share_dir=share, language="en", notify_service="notify.phone")
    notifier = HomeAssistantNotifier(
        http, home_assistant, hass_access_token, settings.notify_service
    )
    # Started late (the ledger was down on the first): the loop catches up at once,
    # then sleeps until the next check.
    clock = Clock(datetime(2026, 3, 31, 23, 0, tzinfo=BERLIN))
    (tmp_path / "delivery.json").write_text('{"delivered_month": "2026-02"}')
    slept: list[float] = []
    done = asyncio.Event()

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += timedelta(seconds=seconds)
        if (share / "2026-03").exists():
            done.set()
            await asyncio.Event().wait()  # park until cancelled

    delivery = MonthlyDelivery(
        ledger, settings, notifier, tmp_path / "delivery.json", clock=clock, sleep=sleep
    )
    task = asyncio.create_task(delivery.run_forever())
    async with asyncio.timeout(30):
        await done.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert slept[0] == 3600.0  # 23:00: next check within the hour, at 00:00:05
    assert calls == [
        {
            "title": "Charging statements for 2026-03",
            "message": f"1 statement(s) for 2026-03 were written to {share / '2026-03'}.",
        }
    ]


def test_rest_url() -> None:
    assert rest_url("ws://supervisor/core/websocket") == "http://supervisor/core"
    assert rest_url("wss://ha.example:8123/api/websocket") == "https://ha.example:8123"


def _hash_in(pdf: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    found = set(re.findall(r"\b[0-9a-f]{64}\b", text.replace("\n", "")))
    # The footer and the verification section print the statement's own hash; a
    # correction note also names the hash it replaces.
    return max(found, key=lambda digest: text.replace("\n", "").count(digest))


async def test_session_over_midnight_arriving_late_corrects_the_delivered_month(
    hass: HomeAssistant,
    home_assistant: str,
    hass_access_token: str,
    ledger: Ledger,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    """31 March 23:00 -> 1 April 02:00 (Berlin), its record reaching the ledger at 02:01:
    the March statement delivered at 00:00:05 lacks its March hour, so the next wake-up
    writes March again with that part, a new hash and a visible correction note; the
    statement first delivered stays under superseded/1/."""
    march, amount = _seed(ledger)
    share = tmp_path / "share"
    share.mkdir()
    settings = ReportSettings(share_dir=share, language="de", time_zone="Europe/Berlin")
    notifier = HomeAssistantNotifier(http, home_assistant, hass_access_token)
    state = tmp_path / "delivery.json"
    state.write_text('{"delivered_month": "2026-02"}')
    clock = Clock(datetime(2026, 4, 1, 0, 0, 5, tzinfo=BERLIN))
    delivery = MonthlyDelivery(ledger, settings, notifier, state, clock=clock)
    delivered = await delivery.run_once()
    assert delivered is not None
    assert (delivered.month, delivered.revision) == ("2026-03", 0)
    stem = "statement-2026-03-77-vehicle1"
    first_pdf = (share / f"2026-03/{stem}.pdf").read_bytes()
    first_hash = _hash_in(first_pdf)
    # 01:00:05: nothing new, nothing written.
    clock.now = datetime(2026, 4, 1, 1, 0, 5, tzinfo=BERLIN)
    assert await delivery.run_once() is None

    # 02:01: the session that charged over midnight ends and reaches the ledger.
    late = make_record(
        60, user_id="dana", vehicle="M-K 1", started=datetime(2026, 3, 31, 21, tzinfo=UTC),
        minutes=180, energy_wh=6_000, cost_total="1.80",
    )  # fmt: skip
    ledger.append_sessions([late])
    clock.now = datetime(2026, 4, 1, 3, 0, 5, tzinfo=BERLIN)
    corrected = await delivery.run_once()
    assert corrected is not None
    assert (corrected.month, corrected.revision, corrected.corrected) == ("2026-03", 1, 1)

    machine = list(csv.DictReader(io.StringIO((share / f"2026-03/{stem}-machine.csv").read_text())))
    sessions = [row for row in machine if row["row_type"] == "session"]
    assert [row["session_id"] for row in sessions] == [r["id"] for r in march] + [late["id"]]
    # One hour of three in March, interpolated in time: 6000 Wh / 3 = 2.000 kWh, 0.50 EUR.
    assert (Decimal(sessions[-1]["energy_kwh"]), Decimal(sessions[-1]["amount"])) == (
        Decimal("2.000"),
        Decimal("0.50"),
    )
    (total,) = [row for row in machine if row["row_type"] == "total"]
    assert Decimal(total["amount"]) == amount + Decimal("0.50")

    pdf = (share / f"2026-03/{stem}.pdf").read_bytes()
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    new_hash = _hash_in(pdf)
    assert new_hash != first_hash
    assert "Korrektur: Korrigierte Abrechnung (Korrektur 1)" in text
    assert "01.04.2026, 00:00" in text  # the delivery it replaces
    assert first_hash in text.replace(" ", "")
    # The new hash is the one the ledger verifies today.
    assert statement_document.build(ledger, 1, "2026-03", vehicle_id=1).content_hash == new_hash
    # Nothing delivered is lost: the first files are kept as they were.
    kept = share / "2026-03" / "superseded" / "1"
    assert (kept / f"{stem}.pdf").read_bytes() == first_pdf
    assert sorted(path.name for path in kept.iterdir()) == sorted(
        path.name for path in (share / "2026-03").iterdir() if path.is_file()
    )
    notifications = persistent_notification._async_get_or_create_notifications(hass)
    note = notifications["ev_charging_ledger_2026-03"]
    assert note["title"] == "Korrigierte Ladeabrechnungen für 2026-03"
    assert str(kept) in note["message"]

    # Later wake-ups find nothing changed; a second late change is correction 2.
    clock.now = datetime(2026, 4, 1, 4, 0, 5, tzinfo=BERLIN)
    assert await delivery.run_once() is None
    # Another driver's session of March arrives: correction 2 adds their statement and
    # writes Dana's again, still noting correction 1 (it did not change since).
    ledger.add_person("Emil", ha_user_id="emil", personnel_number="78")
    ledger.append_sessions(
        [make_record(70, user_id="emil", started=datetime(2026, 3, 20, 8, tzinfo=UTC))]
    )
    clock.now = datetime(2026, 4, 1, 12, 0, 5, tzinfo=BERLIN)
    added = await delivery.run_once()
    assert added is not None
    assert (added.revision, added.corrected) == (2, 1)
    emil = " ".join(
        PdfReader(io.BytesIO((share / "2026-03/statement-2026-03-78.pdf").read_bytes()))
        .pages[0]
        .extract_text()
        .split()
    )
    assert "Korrigierte Zustellung (Korrektur 2)" in emil
    assert "Zustellung vom 01.04.2026, 03:00" in emil
    again = " ".join(
        PdfReader(io.BytesIO((share / f"2026-03/{stem}.pdf").read_bytes())).pages[0]
        .extract_text().split()
    )  # fmt: skip
    assert "(Korrektur 1)" in again
    assert _hash_in((share / f"2026-03/{stem}.pdf").read_bytes()) == new_hash
    pdf = (share / f"2026-03/{stem}.pdf").read_bytes()
    ledger.add_adjustment(late["id"], "exclude", reason="private trip", author="admin", data={})
    clock.now = datetime(2026, 4, 2, 9, 0, 5, tzinfo=BERLIN)
    third = await delivery.run_once()
    assert third is not None
    assert third.revision == 3
    assert (share / "2026-03/superseded/3" / f"{stem}.pdf").read_bytes() == pdf
    assert (share / "2026-03/superseded/1" / f"{stem}.pdf").read_bytes() == first_pdf

    # April's statement, delivered on 1 May, holds the session's April part: 4.000 kWh.
    clock.now = datetime(2026, 5, 1, 0, 0, 5, tzinfo=BERLIN)
    april = await delivery.run_once()
    assert april is not None
    assert (april.month, april.revision) == ("2026-04", 0)
    rows = list(
        csv.DictReader(
            io.StringIO((share / "2026-04/statement-2026-04-77-vehicle1-machine.csv").read_text())
        )
    )
    (part,) = [row for row in rows if row["session_id"] == late["id"]]
    assert Decimal(part["energy_kwh"]) == Decimal("4.000")


def test_correction_interrupted_or_repeated_loses_no_delivered_file(
    ledger: Ledger, tmp_path: Path
) -> None:
    """kill -9 while a correction moves the delivered files aside, then the same
    correction again (its state was never saved), then once more: every file that was
    ever delivered is still there, byte for byte."""
    _seed(ledger)
    share = tmp_path / "share"
    settings = ReportSettings(share_dir=share, language="en", time_zone="Europe/Berlin")
    write_month(ledger, "2026-03", share, settings)
    folder = share / "2026-03"
    delivered = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert len(delivered) == 6
    # The crash: half of the files already moved into the new folder's superseded/1/.
    partial = share / ".2026-03.partial"
    (partial / "superseded" / "1").mkdir(parents=True)
    moved = sorted(delivered)[:3]
    for name in moved:
        (folder / name).replace(partial / "superseded" / "1" / name)
    (partial / "half-written.pdf").write_bytes(b"%PDF-1.4 cut off")

    write_month(ledger, "2026-03", share, settings, revision=1)
    first = folder / "superseded" / "1"
    assert {path.name: path.read_bytes() for path in first.iterdir()} == delivered
    assert not partial.exists()
    assert not (folder / "half-written.pdf").exists()
    reissued = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}

    # The same correction once more: what it replaces goes beside, not over, the first.
    write_month(ledger, "2026-03", share, settings, revision=1)
    assert {path.name: path.read_bytes() for path in first.iterdir()} == delivered
    again = folder / "superseded" / "1.1"
    assert {path.name: path.read_bytes() for path in again.iterdir()} == reissued
