"""A time-of-use tariff set up through the options steps, in a real Chromium against the demo.

The demo's Home Assistant (started as in test_demo.py, its own ports and state directory)
has the wallbox billed at 0.35/0.22 every day. A person opens the wallbox's options, removes
those periods and builds "Mon-Fri 07:00-22:00 0.38, Sat-Sun 10:00-16:00 0.28, else 0.24"
period by period, meeting the per-day overlap check once on the way. Then:

- the stored tariff (read back through Home Assistant's diagnostics download) prices a
  session from Friday evening to Saturday morning exactly as worked out by hand here;
- the live wallbox's current price and its next finished session are priced by the new
  tariff, the expected price picked by hand from the local day and hour.

Screenshots: test-artifacts/options-tou-*.png. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from playwright.async_api import Locator, Page, async_playwright
from playwright.async_api import expect as page_expect

from custom_components.ev_charging_monitor.pricing.cost import session_cost
from custom_components.ev_charging_monitor.pricing.options import static_tariff

from .test_demo import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    RunningDemo,
    _no_untranslated_text,
    _ws,
    demo,
    history_seq,
)

__all__ = ["demo"]  # the fixture, shared with test_demo.py

BERLIN = ZoneInfo("Europe/Berlin")  # the demo's time zone
WALLBOX = "Vestel EVC04"


def price_by_hand(moment: datetime) -> Decimal:
    """The tariff as the person means it, in plain conditions on the Berlin wall clock."""
    local = moment.astimezone(BERLIN)
    if local.weekday() < 5 and 7 <= local.hour < 22:
        return Decimal("0.38")
    if local.weekday() >= 5 and 10 <= local.hour < 16:
        return Decimal("0.28")
    return Decimal("0.24")


def _dialog(page: Page) -> Locator:
    return page.locator("dialog-data-entry-flow")


async def _shot(page: Page, name: str) -> None:
    await page.wait_for_timeout(400)  # the dialog's animations settle
    await _no_untranslated_text(page)
    await page.screenshot(path=ARTIFACTS / f"options-tou-{name}.png")


async def _menu(page: Page, item: str, then: Locator) -> None:
    """Pick a menu item once the menu shows it, until the step it opens (`then`) shows.

    A click while the dialog still animates from the previous step can go nowhere; it is
    repeated then, as a person would click again.
    """
    entry = _dialog(page).get_by_text(item, exact=True)
    await page_expect(entry).to_be_visible(timeout=30_000)
    for _ in range(5):
        await page.wait_for_timeout(300)
        if await entry.count():
            await entry.first.click()
        try:
            await page_expect(then.first).to_be_visible(timeout=6_000)
            return
        except AssertionError:
            continue
    await page_expect(then.first).to_be_visible(timeout=1)


async def _submit(page: Page) -> None:
    await _dialog(page).get_by_role("button", name=re.compile("^(Submit|Next)$")).click()


async def _time(field: Locator, hours: int, minutes: int) -> None:
    """Type a time into a time selector's hour, minute and second boxes."""
    boxes = field.get_by_role("spinbutton")
    for index, value in enumerate((hours, minutes, 0)):
        await boxes.nth(index).fill(str(value))


async def _period(page: Page, days: list[str], start: int, end: int, price: str) -> None:
    """Fill the period form: days ticked, start and end on the hour, price per kWh."""
    dialog = _dialog(page)
    await page_expect(dialog.get_by_role("checkbox", name="Monday")).to_be_visible(timeout=30_000)
    for day in days:
        await dialog.get_by_text(day, exact=True).click()
    times = dialog.locator("ha-selector-time")
    await _time(times.nth(0), start, 0)
    await _time(times.nth(1), end, 0)
    await dialog.locator("ha-selector-number").get_by_role("spinbutton").fill(price)


async def _login(demo: RunningDemo, page: Page) -> None:
    await page.goto(demo.base)
    await page.get_by_role("textbox", name="Username").fill("demo")
    await page.get_by_role("textbox", name="Password").fill("demo-charging")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/lovelace|/home"), timeout=60_000)


async def configure_tariff(demo: RunningDemo, page: Page) -> None:
    """The person's walk through the options: menu, tariff kind, the editor, save."""
    await _login(demo, page)
    await page.goto(f"{demo.base}/config/integrations/integration/ev_charging_monitor")
    row = page.locator("ha-config-entry-row").filter(has_text=WALLBOX)
    await page_expect(row.first).to_be_visible(timeout=60_000)
    await row.get_by_role("button", name="Configure").click()
    dialog = _dialog(page)
    await page_expect(dialog.get_by_text("Energy source for sessions")).to_be_visible(
        timeout=30_000
    )
    await _shot(page, "1-menu")
    await _menu(page, "Tariff", dialog.get_by_text("Time of use", exact=True))
    await dialog.get_by_text("Time of use", exact=True).click()
    await _submit(page)

    # The demo's every-day periods go.
    await _menu(page, "Remove periods", dialog.get_by_text("Periods to remove"))
    for label in ("00:00-06:00", "06:00-22:00", "22:00-24:00"):
        await dialog.get_by_text(re.compile(re.escape(label))).first.click()
    await _shot(page, "2-remove")
    await _submit(page)

    await _menu(page, "Add a period", dialog.get_by_role("checkbox", name="Monday"))
    await _period(page, ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], 7, 22, "0.38")
    await _shot(page, "3-weekdays")
    await _submit(page)

    # Friday ticked by mistake: the check is per day, and names the period in the way.
    await _menu(page, "Add a period", dialog.get_by_role("checkbox", name="Monday"))
    await _period(page, ["Friday", "Saturday", "Sunday"], 10, 16, "0.28")
    await _submit(page)
    overlap = dialog.get_by_text(
        "This period overlaps on the same day with: Monday-Friday 07:00-22:00: 0.38 EUR/kWh"
    )
    await page_expect(overlap).to_be_visible(timeout=30_000)
    await _shot(page, "4-overlap")
    await dialog.get_by_text("Friday", exact=True).click()
    await _submit(page)

    await _menu(
        page, "Price at other times and holidays", dialog.get_by_text("Price at all other times")
    )
    price = dialog.locator("ha-selector-number").get_by_role("spinbutton")
    await page_expect(price).to_be_visible(timeout=30_000)
    await price.fill("0.24")
    await _submit(page)

    await page_expect(
        dialog.get_by_text("Saturday, Sunday 10:00-16:00: 0.28 EUR/kWh")
    ).to_be_visible(timeout=30_000)
    await page_expect(dialog.get_by_text("At all other times: 0.24 EUR/kWh")).to_be_visible()
    await _shot(page, "5-schedule")
    await _menu(page, "Save the tariff", dialog.get_by_text(re.compile("saved|success", re.I)))
    await _shot(page, "6-saved")


async def _diagnostics(demo: RunningDemo, entry_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {demo.token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(f"{demo.base}/api/diagnostics/config_entry/{entry_id}") as response,
    ):
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
    return dict(body["data"])


async def _wallbox_entry(demo: RunningDemo) -> str:
    entries = await _ws(demo, {"type": "config_entries/get", "domain": "ev_charging_monitor"})
    return str(next(e["entry_id"] for e in entries if e["title"] == WALLBOX))


async def test_time_of_use_tariff_through_the_options_steps(demo: RunningDemo) -> None:
    """Mon-Fri 07-22 0.38, Sat-Sun 10-16 0.28, else 0.24: set in the browser, priced right."""
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        # A British English browser: the time boxes are 24-hour ones.
        context = await browser.new_context(
            viewport={"width": 1400, "height": 1000}, locale="en-GB"
        )
        page = await context.new_page()
        try:
            await configure_tariff(demo, page)
        except Exception:
            await page.screenshot(path=ARTIFACTS / "options-tou-failure.png", full_page=True)
            raise
        finally:
            await browser.close()
    saved_at = datetime.now(BERLIN)

    # What the steps stored, as Home Assistant's diagnostics download shows it.
    entry_id = await _wallbox_entry(demo)
    options = (await _diagnostics(demo, entry_id))["entry"]["options"]
    assert options["tariff"] == {
        "type": "time_of_use",
        "periods": [
            {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "start": "07:00",
                "end": "22:00",
                "price": "0.38",
            },
            {"days": ["sat", "sun"], "start": "10:00", "end": "16:00", "price": "0.28"},
        ],
        "default_price": "0.24",
    }

    # A session across the periods, priced by the integration from the stored options:
    # Friday 4 December 2026 21:00 to Saturday 11:00 (Berlin), register read at the edges.
    tariff = static_tariff(options, currency="EUR", time_zone="Europe/Berlin")
    assert tariff is not None
    friday = datetime(2026, 12, 4, 21, tzinfo=BERLIN)
    readings = [
        (friday, Decimal(1000)),
        (friday + timedelta(hours=1), Decimal(12_000)),  # 11 kWh at 0.38 = 4.18
        (friday + timedelta(hours=13), Decimal(40_000)),  # 28 kWh at 0.24 = 6.72
        (friday + timedelta(hours=14), Decimal(47_400)),  # 7.4 kWh at 0.28 = 2.072
    ]
    # 4.18 + 6.72 + 2.072 = 12.972, rounded once to cents.
    assert session_cost(readings, tariff).total == Decimal("12.97")

    # The live wallbox: its current price and its next session, by the new tariff.
    state = None
    for _ in range(60):
        states = {s["entity_id"]: s for s in await _ws(demo, {"type": "get_states"})}
        state = states.get("sensor.vestel_evc04_current_price")
        if state is not None and state["state"] not in ("unknown", "unavailable"):
            now = datetime.now(BERLIN)
            if Decimal(state["state"]) == price_by_hand(now):
                break
        await asyncio.sleep(2)
    else:
        raise AssertionError(f"current price never became the new tariff's: {state}")

    # A session ending after the change is priced by the new tariff as a whole: the options
    # reload the wallbox's entry, and a session's cost is worked out when it ends.
    record = None
    for _ in range(240):
        result = await _ws(
            demo, {"type": "ev_charging_monitor/sessions", "after_seq": history_seq(demo)}
        )
        for candidate in result["sessions"]:
            started = datetime.fromisoformat(candidate["started_at"])
            ended = datetime.fromisoformat(candidate["ended_at"])
            # A session that straddles a price change would need a second price; the next
            # car's comes a few minutes later.
            if ended > saved_at and price_by_hand(started) == price_by_hand(ended):
                record = candidate
                break
        if record is not None:
            break
        await asyncio.sleep(2)
    assert record is not None, "no session ended after the tariff change within 8 minutes"
    price = price_by_hand(datetime.fromisoformat(record["started_at"]))
    energy = Decimal(record["energy_wh"])
    assert {line["price_per_kwh"] for line in record["cost"]["intervals"]} == {str(price)}
    expected = (energy / 1000 * price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Decimal(record["cost"]["total"]) == expected, record["cost"]
