"""Every ledger page as its readers see it, through the add-on's ingress path.

A real Chromium walks every page as an administrator and as a driver without admin rights,
in English and in German, behind the stand-in for the Supervisor's ingress proxy
(tests/ledger/ingress_proxy.py: the same headers Home Assistant sends), and checks what is
displayed: no raw key, no ISO timestamp, no decimal number without its unit or currency,
and no English text on a German page. Screenshots of every page go to
test-artifacts/pages/. The Home Assistant login way is walked in test_demo.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from ev_charging_ledger.storage import Ledger
from tests.demo.page_checks import Findings, check_page
from tests.ledger.test_ui_browser import Site, _new_page, browser, site

__all__ = ["browser", "site"]  # fixtures, used by name

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pages"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def _pages(site: Site, admin: bool) -> dict[str, str]:
    person = site.driver_id if admin else site.reader_id
    session = site.driver_records[3]["id"] if admin else None
    pages = {
        "dashboard": "/",
        "sessions": "/sessions",
        "statements": "/statements",
        "statement": f"/statements/{person}/{site.month}",
        "manual": "/manual",
        "integrity": "/integrity",
    }
    if session is not None:
        pages["session"] = f"/sessions/{session}"
    if admin:
        pages |= {"manage": "/manage", "reports": f"/reports?month={site.month}"}
    return pages


@pytest.mark.parametrize("lang", ["en", "de"])
@pytest.mark.parametrize("role", ["admin", "driver"])
async def test_every_page_reads_well(site: Site, browser: Browser, role: str, lang: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    admin = role == "admin"
    page = await _new_page(browser, locale="de-DE" if lang == "de" else "en-GB")
    base = site.admin_url if admin else site.reader_url
    if not admin:
        # A driver's own session page too.
        await page.goto(f"{base}/sessions")
        await page.locator("a.session-link").first.click()
        await page.wait_for_url("**/sessions/*")
        own_session = page.url.split("?")[0].rsplit("/sessions", 1)[1]
    findings = Findings()
    pages = _pages(site, admin)
    if not admin:
        pages["session"] = f"/sessions{own_session}"
    for name, path in pages.items():
        response = await page.goto(base + path)
        assert response is not None
        assert response.status == 200, (name, await response.text())
        assert await page.locator("html").get_attribute("lang") == lang
        await check_page(page, f"{role} {lang} {name}", lang, findings)
        await page.screenshot(path=ARTIFACTS / f"{role}-{lang}-{name}.png", full_page=True)
    assert not findings.problems, findings.report()
    assert page.errors == []  # type: ignore[attr-defined]
