"""People, vehicles and cards on the integration page, in a real Chromium against the demo.

The demo's Home Assistant (started as in test_demo.py, its own ports and state directory)
gets the Authorization entry over REST, as the config flow's dialog would submit it; then an
administrator adds a person, a vehicle and a card, edits the vehicle and deletes the card
through Home Assistant's own subentry dialogs. Screenshots: test-artifacts/auth-subentries-*.
Nothing is mocked.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from playwright.async_api import Locator, Page
from playwright.async_api import expect as page_expect

from .test_demo import ARTIFACTS, RunningDemo, _no_untranslated_text, _ws, demo, page

__all__ = ["demo", "page"]  # the fixtures, shared with test_demo.py

CARD = "04:A2:B3:C4:D5"


async def _rest_flow(demo: RunningDemo, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Start the integration's config flow and submit `steps`, as the dialog would."""
    headers = {"Authorization": f"Bearer {demo.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        url = f"{demo.base}/api/config/config_entries/flow"
        async with session.post(url, json={"handler": "ev_charging_monitor"}) as response:
            result: dict[str, Any] = await response.json()
        for step in steps:
            async with session.post(f"{url}/{result['flow_id']}", json=step) as response:
                assert response.status == 200, await response.text()
                result = await response.json()
    return result


async def _shot(page: Page, name: str) -> None:
    await page.wait_for_timeout(500)  # the dialog's animations settle
    await _no_untranslated_text(page)
    await page.screenshot(path=ARTIFACTS / f"auth-subentries-{name}.png")


async def _choose(dialog: Locator, field: str, option: str) -> None:
    """Open a dropdown of the dialog and pick an option by its text."""
    await dialog.get_by_label(field, exact=True).first.click()
    await dialog.get_by_text(option, exact=True).last.click()


def _dialog(page: Page) -> Locator:
    return page.locator("dialog-data-entry-flow")


async def _submit(page: Page) -> None:
    await _dialog(page).get_by_role("button", name=re.compile("^(Submit|Finish)$")).click()


async def _login(demo: RunningDemo, page: Page) -> None:
    await page.goto(demo.base)
    await page.get_by_role("textbox", name="Username").fill("demo")
    await page.get_by_role("textbox", name="Password").fill("demo-charging")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/lovelace|/home"), timeout=60_000)


async def _subentries(demo: RunningDemo, entry_id: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await _ws(
        demo, {"type": "config_entries/subentries/list", "entry_id": entry_id}
    )
    return result


async def test_add_edit_remove_people_vehicles_and_cards(demo: RunningDemo, page: Page) -> None:
    """Add person, Add vehicle, Add card; edit the vehicle; delete the card."""
    try:
        await _walk_through(demo, page)
    except Exception:
        # What the page showed when it went wrong, for the person reading the failure.
        await page.screenshot(path=ARTIFACTS / "auth-subentries-failure.png", full_page=True)
        raise


async def _walk_through(demo: RunningDemo, page: Page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    result = await _rest_flow(
        demo,
        [
            {"next_step_id": "authorization"},
            # The demo keeps charging freely: only the lists are under test here.
            {"required_chargers": [], "default_mode": "free"},
        ],
    )
    assert result["type"] == "create_entry", result
    entry_id = result["result"]["entry_id"]

    await _login(demo, page)
    await page.goto(f"{demo.base}/config/integrations/integration/ev_charging_monitor")
    await page_expect(page.get_by_text("Authorization").first).to_be_visible(timeout=60_000)
    await page_expect(page.get_by_text("Loading data")).to_have_count(0)
    await _shot(page, "1-integration")

    # Add person.
    await page.get_by_role("button", name="Add person").first.click()
    dialog = _dialog(page)
    await page_expect(dialog.get_by_text("Add person").first).to_be_visible(timeout=30_000)
    await dialog.get_by_role("textbox", name="Name").fill("Alex")
    await _shot(page, "2-add-person")
    await _submit(page)
    await page_expect(dialog.get_by_text("Alex").first).to_be_visible(timeout=30_000)
    await dialog.get_by_role("button", name="Finish").click()

    # Add vehicle.
    await page.get_by_role("button", name="Add vehicle").first.click()
    await page_expect(dialog.get_by_text("Add vehicle").first).to_be_visible(timeout=30_000)
    await dialog.get_by_role("textbox", name="Name").fill("ID.4")
    await _choose(dialog, "Person", "Alex")
    await _shot(page, "3-add-vehicle")
    await _submit(page)
    await dialog.get_by_role("button", name="Finish").click()

    # Add card.
    await page.get_by_role("button", name="Add card").first.click()
    await page_expect(dialog.get_by_text("Add card").first).to_be_visible(timeout=30_000)
    await dialog.get_by_role("textbox", name="Card UID or tag id").fill(CARD)
    await dialog.get_by_role("textbox", name="Label").fill("blue card")
    await _choose(dialog, "Person", "Alex")
    await _shot(page, "4-add-card")
    await _submit(page)
    await dialog.get_by_role("button", name="Finish").click()

    subentries = await _subentries(demo, entry_id)
    titles = sorted((s["subentry_type"], s["title"]) for s in subentries)
    assert titles == [("card", "Alex: blue card"), ("person", "Alex"), ("vehicle", "ID.4")]
    rows = page.locator("ha-config-sub-entry-row")
    await page_expect(rows.get_by_text("Alex: blue card", exact=True)).to_be_visible(timeout=30_000)
    await _shot(page, "5-listed")

    # Edit the vehicle.
    row = rows.filter(has_text="ID.4")
    await row.get_by_role("button", name="Edit vehicle").click()
    await page_expect(dialog.get_by_text("Edit vehicle").first).to_be_visible(timeout=30_000)
    await dialog.get_by_role("textbox", name="Name").fill("ID.7")
    await _shot(page, "6-edit-vehicle")
    await _submit(page)
    await page_expect(dialog.get_by_text("Reconfiguration was successful")).to_be_visible(
        timeout=30_000
    )
    await dialog.locator("ha-dialog-footer").get_by_role("button", name="Close").click()
    await page_expect(rows.get_by_text("ID.7", exact=True)).to_be_visible(timeout=30_000)

    # Delete the card.
    row = rows.filter(has_text="Alex: blue card")
    await row.get_by_role("button", name="Menu").click()
    await row.locator("ha-dropdown-item", has_text="Delete").click()
    confirm = page.locator("dialog-box")
    await page_expect(confirm.get_by_text("Alex: blue card").first).to_be_visible(timeout=30_000)
    await _shot(page, "7-delete-card")
    await confirm.get_by_role("button", name="Delete").click()
    await page_expect(rows.filter(has_text="Alex: blue card")).to_have_count(0, timeout=30_000)
    await _shot(page, "8-after-delete")

    subentries = await _subentries(demo, entry_id)
    titles = sorted((s["subentry_type"], s["title"]) for s in subentries)
    assert titles == [("person", "Alex"), ("vehicle", "ID.7")]


async def test_dialogs_are_german_for_a_german_user(demo: RunningDemo, page: Page) -> None:
    """The buttons and the "Add person" dialog in German (translations/de.json)."""
    entries = await _ws(demo, {"type": "config_entries/get", "domain": "ev_charging_monitor"})
    if not any(e["title"] == "Authorization" for e in entries):  # this test may run alone
        await _rest_flow(
            demo,
            [{"next_step_id": "authorization"}, {"required_chargers": [], "default_mode": "free"}],
        )
    await _login(demo, page)
    # The frontend's language choice (profile -> language) lives in the browser.
    await page.evaluate("localStorage.setItem('selectedLanguage', JSON.stringify('de'))")
    add_person = page.get_by_role("button", name="Person hinzufügen").first
    for _ in range(4):  # a page loaded while the machine is busy may miss the entries
        await page.goto(f"{demo.base}/config/integrations/integration/ev_charging_monitor")
        try:
            await page_expect(add_person).to_be_visible(timeout=20_000)
            break
        except AssertionError:
            continue
    await page_expect(page.get_by_role("button", name="Fahrzeug hinzufügen").first).to_be_visible()
    await page_expect(page.get_by_role("button", name="Karte hinzufügen").first).to_be_visible()
    await add_person.click()
    dialog = _dialog(page)
    await page_expect(dialog.get_by_text("Person hinzufügen").first).to_be_visible(timeout=30_000)
    await page_expect(dialog.get_by_text("Home-Assistant-Benutzer").first).to_be_visible()
    await _shot(page, "9-add-person-de")
