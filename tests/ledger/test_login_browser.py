"""Log in with Home Assistant, for real: Home Assistant, the ledger and Chromium.

A real Home Assistant (``python -m homeassistant`` with its frontend, onboarded with an
owner and a second, non-admin user) and the real ledger process in standalone mode
(``--public-url``). Chromium opens the ledger, is sent to the login page, clicks
"Log in with Home Assistant", fills in Home Assistant's own login form and lands on the
ledger's dashboard. Forged states, a foreign redirect target and missing CSRF tokens
are refused. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import pytest_socket
from aiohttp.test_utils import TestServer
from homeassistant.components.http import config as http_config
from homeassistant.util import dt as dt_util
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from playwright.async_api import expect as page_expect

from ev_charging_ledger.access import TokenAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.homeassistant import current_user, websocket_url
from ev_charging_ledger.login import BrowserLogin, HomeAssistantOAuth, Tokens
from ev_charging_ledger.storage import Ledger
from scripts.lib.ha_onboarding import async_onboard
from tests.ledger.integration_records import make_record
from tests.ledger.ledger_process import free_port, ledger_env

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
OWNER = ("ada", "ada-password-1", "Ada Admin")
READER = ("rita", "rita-password-1", "Rita Reader")
API_TOKEN = "script-token-for-the-ledger"
PRICE = Decimal("0.30")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
RAW_KINDS = re.compile(r"\b(reassign|correct_energy|exclude|include|fixed_price|tariff_cost)\b")
CONFIGURATION = """\
homeassistant:
  name: Ledger login test
  time_zone: Europe/Berlin
  country: DE
  currency: EUR
  unit_system: metric
frontend:
onboarding:
config:
"""


@dataclass
class World:
    ha: str
    ledger: str
    admin_sessions: list[str]
    reader_sessions: list[str]
    guest_session: str
    january_guests: list[str]
    root: Path

    def log(self) -> str:
        return (self.root / "ledger.log").read_text(errors="replace")


def _write_http_settings(config: Path, port: int) -> None:
    """Home Assistant 2026.10 keeps its HTTP settings in storage, not in YAML."""
    stable = {
        **http_config.HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": port}),
        http_config.HTTP_CONFIG_CREATED_AT: dt_util.utcnow().isoformat(),
        http_config.HTTP_CONFIG_ERROR: None,
        http_config.HTTP_CONFIG_ERROR_MESSAGE: None,
    }
    storage = config / ".storage"
    storage.mkdir(parents=True)
    document = {
        "version": http_config.STORAGE_VERSION,
        "minor_version": http_config.STORAGE_MINOR_VERSION,
        "key": http_config.STORAGE_KEY,
        "data": {
            http_config.KEY_STABLE: stable,
            http_config.KEY_PENDING: None,
            http_config.KEY_YAML_MIGRATION_DONE: True,
        },
    }
    (storage / http_config.STORAGE_KEY).write_text(json.dumps(document))


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _wait(url: str, seconds: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"{process.args} exited:\n{await asyncio.to_thread(_tail, log)}")
            try:
                async with session.get(url, allow_redirects=False) as response:
                    if response.status < 500:
                        return
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.5)
    pytest.fail(f"{url} did not answer in {seconds} s:\n{await asyncio.to_thread(_tail, log)}")


async def _commands(base: str, token: str, *messages: dict[str, Any]) -> list[Any]:
    results = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{base}/api/websocket") as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        for number, message in enumerate(messages, start=1):
            await ws.send_json({"id": number, **message})
            reply = await ws.receive_json()
            assert reply["success"], reply
            results.append(reply["result"])
    return results


async def _onboard(base: str) -> tuple[str, str, str]:
    """The owner through onboarding, a non-admin user: (token, owner id, reader id)."""
    username, password, name = OWNER
    async with aiohttp.ClientSession() as session:
        access = await async_onboard(session, base, name=name, username=username, password=password)
    me, created, token = await _commands(
        base,
        access,
        {"type": "auth/current_user"},
        {"type": "config/auth/create", "name": READER[2], "group_ids": ["system-users"]},
        {"type": "auth/long_lived_access_token", "client_name": "ledger", "lifespan": 30},
    )
    reader_id = created["user"]["id"]
    await _commands(
        base,
        access,
        {
            "type": "config/auth_provider/homeassistant/create",
            "user_id": reader_id,
            "username": READER[0],
            "password": READER[1],
        },
    )
    return str(token), str(me["id"]), str(reader_id)


def _seed(
    data_dir: Path, owner_id: str, reader_id: str
) -> tuple[list[str], list[str], str, list[str]]:
    data_dir.mkdir()
    with Ledger(data_dir / "ledger.sqlite3") as ledger:
        ledger.add_person(OWNER[2], ha_user_id=owner_id)
        rita = ledger.add_person(READER[2], ha_user_id=reader_id)
        ledger.add_vehicle("Zoe", plate="B-RR 2", person_id=rita.id)
        ledger.add_rate(
            person_id=rita.id, vehicle_id=None, valid_from=date(2020, 1, 1), valid_to=None,
            direction="reimburse", basis="fixed_price", price_per_kwh=PRICE, currency="EUR",
        )  # fmt: skip
        own = [make_record(seq, user_id=owner_id) for seq in (1, 2, 3)]
        theirs = [make_record(seq, user_id=reader_id) for seq in (4, 5)]
        # A guest's session (no tag, no user): nobody's until an administrator assigns it.
        guest = make_record(6, energy_wh=4_200, started=datetime(2026, 3, 14, 9, 5, tzinfo=UTC))
        # More guests: three in January and one at 23:00 UTC on 31 January (already February in
        # Berlin), for the bulk assignment of a period.
        january = [
            make_record(seq, started=datetime(2026, 1, day, hour, 0, tzinfo=UTC), minutes=20)
            for seq, day, hour in ((7, 1, 8), (8, 15, 12), (9, 30, 22), (10, 31, 23))
        ]
        ledger.append_sessions([*own, *theirs, guest, *january])
    return (
        [r["id"] for r in own],
        [r["id"] for r in theirs],
        str(guest["id"]),
        [str(r["id"]) for r in january],
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # Module-scoped fixtures run before the per-test socket switch: open it here too.
    pytest_socket.enable_socket()
    root = tmp_path_factory.mktemp("login")
    ha_port, ledger_port = free_port(), free_port()
    ha, ledger = f"http://127.0.0.1:{ha_port}", f"http://127.0.0.1:{ledger_port}"
    config = root / "config"
    _write_http_settings(config, ha_port)
    (config / "configuration.yaml").write_text(CONFIGURATION)
    ha_log = root / "home-assistant.log"
    home_assistant = subprocess.Popen(
        [sys.executable, "-m", "homeassistant", "-c", str(config), "--skip-pip"],
        stdout=ha_log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    processes = [home_assistant]
    try:
        asyncio.run(_wait(f"{ha}/api/onboarding", 300, home_assistant, ha_log))
        token, owner_id, reader_id = asyncio.run(_onboard(ha))
        own, theirs, guest, guests = _seed(root / "data", owner_id, reader_id)
        ledger_log = root / "ledger.log"
        process = subprocess.Popen(
            [
                sys.executable, "-m", "ev_charging_ledger",
                "--ha-url", ha, "--token", token, "--data-dir", str(root / "data"),
                "--listen", f"127.0.0.1:{ledger_port}", "--api-token", API_TOKEN,
                "--public-url", ledger,
            ],
            env=ledger_env(),
            cwd=REPO,
            stdout=ledger_log.open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(process)
        asyncio.run(_wait(f"{ledger}/health", 60, process, ledger_log))
        yield World(ha, ledger, own, theirs, guest, guests, root)
    finally:
        for running in reversed(processes):
            _stop(running)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


async def _context(browser: Browser, locale: str = "en-GB") -> tuple[BrowserContext, Page]:
    context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    return context, await context.new_page()


async def _log_in(page: Page, world: World, user: tuple[str, str, str], start: str = "/") -> None:
    await page.goto(f"{world.ledger}{start}")
    await page.wait_for_url(re.compile(r"/login"))
    await page.locator("#login").click()
    # Home Assistant's own login page, served by its frontend.
    await page.wait_for_url(
        re.compile("^" + re.escape(world.ha) + r"/auth/authorize"), timeout=60_000
    )
    await page.get_by_role("textbox", name=re.compile("Username|Benutzername")).fill(user[0])
    await page.get_by_role("textbox", name=re.compile("Password|Passwort")).fill(user[1])
    await page.keyboard.press("Enter")
    await page.wait_for_url(
        re.compile("^" + re.escape(world.ledger) + r"/(?!login|auth)"), timeout=60_000
    )


async def _session_ids(page: Page, world: World) -> set[str]:
    await page.goto(f"{world.ledger}/sessions")
    hrefs = await page.locator("a.session-link").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    return {href.split("?")[0].rsplit("/", 1)[1] for href in hrefs}


async def test_admin_logs_in_with_home_assistant_and_out(world: World, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context, page = await _context(browser)
    await page.goto(f"{world.ledger}/sessions")
    await page.wait_for_url(re.compile(re.escape(world.ledger) + r"/login\?next=(/|%2F)sessions$"))
    await page_expect(page.locator("#login")).to_have_text("Log in with Home Assistant")
    await page.screenshot(path=ARTIFACTS / "ledger-login.png")

    await _log_in(page, world, OWNER, "/sessions")
    assert page.url == f"{world.ledger}/sessions"
    await page_expect(page.locator(".who")).to_have_text("Ada Admin (admin)")
    assert await _session_ids(page, world) == {
        *world.admin_sessions,
        *world.reader_sessions,
        world.guest_session,
        *world.january_guests,
    }
    await page.goto(f"{world.ledger}/")
    await page.screenshot(path=ARTIFACTS / "ledger-logged-in.png")

    cookies = {cookie["name"]: cookie for cookie in await context.cookies()}
    session_cookie = cookies["evcl_session"]
    assert session_cookie["httpOnly"] is True
    assert session_cookie["sameSite"] == "Lax"
    # Nothing of Home Assistant's tokens reaches the browser.
    assert len(session_cookie["value"]) < 60
    assert "." not in session_cookie["value"]

    # A state-changing request of the session needs its CSRF token.
    refused = await context.request.post(f"{world.ledger}/api/people", data={"name": "Mallory"})
    assert refused.status == 403
    assert "CSRF" in (await refused.json())["error"]
    csrf = await page.locator("meta[name=csrf-token]").get_attribute("content")
    assert csrf
    created = await context.request.post(
        f"{world.ledger}/api/people", data={"name": "Carla Csrf"}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status == 201, await created.text()

    await page.locator("#logout").click()
    await page.wait_for_url(re.compile("^" + re.escape(world.ledger) + r"/login"))
    await page.goto(f"{world.ledger}/sessions")
    await page.wait_for_url(re.compile(r"/login\?next="))
    # The old cookie value is worthless now, even if someone kept it.
    await context.add_cookies([{**session_cookie}])  # type: ignore[list-item]
    response = await context.request.get(f"{world.ledger}/api/sessions")
    assert response.status == 401
    await context.close()


async def test_non_admin_sees_only_own_sessions(world: World, browser: Browser) -> None:
    context, page = await _context(browser, locale="de-DE")
    await page.goto(f"{world.ledger}/")
    await page_expect(page.locator("#login")).to_have_text("Mit Home Assistant anmelden")
    await page.screenshot(path=ARTIFACTS / "ledger-login-de.png")
    # A `next` that leaves the ledger is not followed after the login.
    await _log_in(page, world, READER, "/login?next=//evil.example/steal")
    assert page.url == f"{world.ledger}/"
    await page_expect(page.locator(".who")).to_have_text("Rita Reader")
    await page_expect(page.locator("#logout")).to_have_text("Abmelden")
    assert await _session_ids(page, world) == set(world.reader_sessions)
    response = await page.goto(f"{world.ledger}/sessions/{world.admin_sessions[0]}")
    assert response is not None
    assert response.status == 403
    api = await context.request.get(f"{world.ledger}/api/sessions/{world.admin_sessions[0]}")
    assert api.status == 403
    await context.close()


async def _password_login(session: aiohttp.ClientSession, world: World, redirect: str) -> int:
    """Home Assistant's login flow, as its login page runs it: the final HTTP status."""
    client_id = f"{world.ledger}/"
    async with session.post(
        f"{world.ha}/auth/login_flow",
        json={"client_id": client_id, "handler": ["homeassistant", None], "redirect_uri": redirect},
    ) as response:
        assert response.status == 200, await response.text()
        flow_id = (await response.json())["flow_id"]
    async with session.post(
        f"{world.ha}/auth/login_flow/{flow_id}",
        json={"client_id": client_id, "username": READER[0], "password": READER[1]},
    ) as response:
        if response.status == 200:
            assert (await response.json())["type"] == "create_entry"
        return response.status


async def test_forged_state_and_foreign_redirect_are_refused(world: World) -> None:
    # A cookie jar that keeps cookies of 127.0.0.1, as a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        # Scripts keep their bearer token and their JSON 401.
        async with session.get(f"{world.ledger}/api/sessions") as response:
            assert response.status == 401
            assert await response.json() == {"error": "a bearer token is required"}
        async with session.get(
            f"{world.ledger}/api/sessions", headers={"Authorization": f"Bearer {API_TOKEN}"}
        ) as response:
            assert response.status == 200
        # A callback nobody started.
        async with session.get(
            f"{world.ledger}/auth/callback?state=forged&code=whatever", allow_redirects=False
        ) as response:
            assert response.status == 302
            assert response.headers["Location"] == "/login?error=refused"
            assert "evcl_session" not in response.cookies

        # A real login started here, its state sent back from another browser.
        async with session.get(f"{world.ledger}/auth/login", allow_redirects=False) as response:
            assert response.status == 302
            authorize = urlsplit(response.headers["Location"])
            query = {key: values[0] for key, values in parse_qs(authorize.query).items()}
        assert f"{authorize.scheme}://{authorize.netloc}" == world.ha
        assert authorize.path == "/auth/authorize"
        assert query["client_id"] == f"{world.ledger}/"
        assert query["redirect_uri"] == f"{world.ledger}/auth/callback"
        assert query["code_challenge_method"] == "S256"
        async with (
            aiohttp.ClientSession() as other,
            other.get(
                f"{world.ledger}/auth/callback?state={query['state']}&code=stolen",
                allow_redirects=False,
            ) as response,
        ):
            assert response.headers["Location"] == "/login?error=refused"
            assert "evcl_session" not in response.cookies
        # The right browser with a code Home Assistant never issued.
        async with session.get(
            f"{world.ledger}/auth/callback?state={query['state']}&code=made-up",
            allow_redirects=False,
        ) as response:
            assert response.headers["Location"] == "/login?error=refused"
            assert "evcl_session" not in response.cookies

        # Home Assistant hands out a code for the ledger's client id only to a redirect
        # URI on the ledger's host and port, even for the right password.
        for redirect, expected in (
            ("http://evil.example/auth/callback", 403),
            (f"{world.ledger.rsplit(':', 1)[0]}:1/auth/callback", 403),
            (f"{world.ledger}/auth/callback", 200),
        ):
            assert await _password_login(session, world, redirect) == expected, redirect
    assert "Traceback" not in world.log()


async def test_admin_assigns_and_corrects_a_session(world: World, browser: Browser) -> None:
    """Each change made on the session page is an adjustment in the chain, with who and
    when in the history; the driver then sees the session that was assigned to her."""
    context, page = await _context(browser)
    await _log_in(page, world, OWNER, f"/sessions/{world.guest_session}")
    assert page.url == f"{world.ledger}/sessions/{world.guest_session}"
    await page_expect(page.locator("#session-person")).to_have_text("nobody")
    # Stored at 09:05 UTC, shown in Berlin time (UTC+1 in March before the switch).
    await page_expect(page.locator("h1")).to_have_text("Session 14 Mar 2026, 10:05")

    steps = (
        ("#assign-form", {"data.person_id": READER[2], "data.vehicle_id": "Zoe (B-RR 2)",
                          "reason": "guest was Rita"}, "Assigned",
         "Person: Rita Reader, vehicle: Zoe (B-RR 2)"),
        ("#exclude-form", {"reason": "private trip"}, "Excluded", ""),
        ("#exclude-form", {"reason": "business after all"}, "Included again", ""),
        ("#note-form", {"reason": "checked with Rita"}, "Note", ""),
        ("#correct-form", {"data.energy_wh": "3,5", "reason": "meter photo 2026-03-14"},
         "Energy corrected", "Energy: 3.500 kWh"),
    )  # fmt: skip
    for form, fields, kind, details in steps:
        before = await page.locator("#adjustments tbody tr").count()
        for name, value in fields.items():
            field = page.locator(f"{form} [name='{name}']")
            if name.endswith("_id"):
                await field.select_option(label=value)
            else:
                await field.fill(value)
        await page.locator(f"{form} button[type=submit]").click()
        # The page reloads with the new row at the end of the history.
        last = page.locator("#adjustments tbody tr").last
        await page_expect(last.locator("td").nth(1)).to_have_text(kind)
        assert await page.locator("#adjustments tbody tr").count() in (before + 1, 1)
        cells = await last.locator("td").all_inner_texts()
        assert cells[2] == details
        assert cells[3] == fields["reason"]
        assert cells[4] == OWNER[2]
        assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} 20\d\d, \d\d:\d\d", cells[0]), cells[0]

    await page_expect(page.locator("#session-person")).to_have_text(READER[2])
    await page_expect(page.locator("#session-vehicle")).to_have_text("Zoe (B-RR 2)")
    await page_expect(page.locator("#session-excluded")).to_have_text("no")
    await page_expect(page.locator("#session-energy")).to_have_text("3.500 kWh")
    # Rita's fixed price on the corrected energy: 3.5 kWh x 0.30 EUR = 1.05 EUR.
    await page_expect(page.locator("#session-amount")).to_have_text(
        "1.05 EUR (Fixed employer price)"
    )
    text = await page.locator("main").inner_text()
    assert not ISO_TIME.search(text), ISO_TIME.search(text)
    assert not RAW_KINDS.search(text), RAW_KINDS.search(text)
    assert "MID: ?" not in text
    await page.screenshot(path=ARTIFACTS / "ledger-session-adjusted.png", full_page=True)

    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {API_TOKEN}"}) as api:
        async with api.get(f"{world.ledger}/api/sessions/{world.guest_session}") as response:
            detail = await response.json()
        async with api.get(f"{world.ledger}/api/verify") as response:
            report = await response.json()
    kinds = [(a["kind"], a["author"], a["reason"]) for a in detail["adjustments"]]
    assert kinds == [
        ("reassign", OWNER[2], "guest was Rita"),
        ("exclude", OWNER[2], "private trip"),
        ("include", OWNER[2], "business after all"),
        ("note", OWNER[2], "checked with Rita"),
        ("correct_energy", OWNER[2], "meter photo 2026-03-14"),
    ]
    assert detail["adjustments"][-1]["data"] == {"energy_wh": "3500"}
    assert report["ok"] is True
    await context.close()

    # Rita now finds the session among her own, in German, without the admin's forms.
    context, page = await _context(browser, locale="de-DE")
    await _log_in(page, world, READER)
    assert world.guest_session in await _session_ids(page, world)
    await page.goto(f"{world.ledger}/sessions/{world.guest_session}")
    await page_expect(page.locator("h1")).to_have_text("Ladevorgang 14.03.2026, 10:05")
    await page_expect(page.locator("#session-amount")).to_have_text(
        "1,05 EUR (Festpreis des Arbeitgebers)"
    )
    history = page.locator("#adjustments tbody tr td:nth-child(2)")
    await page_expect(history).to_have_text(
        ["Zugeordnet", "Ausgeschlossen", "Wieder einbezogen", "Notiz", "Energie korrigiert"]
    )
    assert await page.locator("#assign-form").count() == 0
    await page_expect(page.locator("#evidence-class")).to_have_text(
        "Zähler ohne MID Zählerstand (Zähler nicht MID-geeicht)"
    )
    text = await page.locator("main").inner_text()
    assert not ISO_TIME.search(text), ISO_TIME.search(text)
    assert not RAW_KINDS.search(text), RAW_KINDS.search(text)
    await page.screenshot(path=ARTIFACTS / "ledger-session-de.png", full_page=True)
    await context.close()


async def _api_login(
    session: aiohttp.ClientSession, ha: str, ledger: str, user: tuple[str, str, str]
) -> None:
    """What the browser does, over plain HTTP: the ledger's start, Home Assistant's login
    flow (as its login page runs it, with the ledger's PKCE challenge), the callback."""
    async with session.get(f"{ledger}/auth/login", allow_redirects=False) as response:
        query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
    async with session.post(
        f"{ha}/auth/login_flow",
        json={
            "client_id": query["client_id"],
            "handler": ["homeassistant", None],
            "redirect_uri": query["redirect_uri"],
            "code_challenge": query["code_challenge"],
            "code_challenge_method": "S256",
        },
    ) as response:
        flow_id = (await response.json())["flow_id"]
    async with session.post(
        f"{ha}/auth/login_flow/{flow_id}",
        json={"client_id": query["client_id"], "username": user[0], "password": user[1]},
    ) as response:
        code = (await response.json())["result"]
    async with session.get(
        f"{query['redirect_uri']}?state={query['state']}&code={code}", allow_redirects=False
    ) as response:
        assert response.status == 302
        assert response.headers["Location"] == "/"


class _CountingOAuth(HomeAssistantOAuth):
    """The real client, counting its refreshes (a spy, nothing is replaced)."""

    refreshed = 0

    async def refresh(self, refresh_token: str) -> Tokens:
        self.refreshed += 1
        return await super().refresh(refresh_token)


async def test_login_refreshes_the_token_and_ends_when_home_assistant_revokes_it(
    world: World, ledger: Ledger
) -> None:
    """Home Assistant's access tokens live 30 minutes: the session refreshes them with
    the refresh token; once the refresh token is revoked in Home Assistant, the session
    is over. The ledger app runs in-process here so its clock can be moved forward."""
    offset = [0.0]

    def clock() -> float:
        return time.time() + offset[0]

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as backend:
        tokens = TokenAccess(
            None, lambda token: current_user(backend, websocket_url(world.ha), token)
        )
        oauth = _CountingOAuth(backend, world.ha, public, clock=clock)
        policy = BrowserLogin(tokens, oauth, clock=clock)
        app = create_app(ledger, policy)
        policy.setup(app)
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        try:
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as browser:
                await _api_login(browser, world.ha, public, READER)
                async with browser.get(f"{public}/api/sessions") as response:
                    assert response.status == 200
                first = {c.key: c.value for c in jar}["evcl_session"]

                # 31 minutes later: the access token has expired, the refresh token works.
                offset[0] = 31 * 60
                async with browser.get(f"{public}/", allow_redirects=False) as response:
                    assert response.status == 200
                    assert "Rita Reader" in await response.text()
                assert {c.key: c.value for c in jar}["evcl_session"] == first
                assert oauth.refreshed == 1

                # Rita's refresh tokens are deleted in Home Assistant (e.g. she logged out
                # everywhere): after the next expiry the ledger's session ends with them.
                (me,) = await _commands_as(world.ha, READER)
                refresh_ids = [t["id"] for t in me if t["client_id"] == f"{public}/"]
                assert refresh_ids
                await _delete_refresh_tokens(world.ha, READER, refresh_ids)
                offset[0] = 62 * 60
                async with browser.get(f"{public}/sessions", allow_redirects=False) as response:
                    assert response.status == 302
                    assert response.headers["Location"] == "/login?next=/sessions"
                async with browser.get(f"{public}/api/sessions") as response:
                    assert response.status == 401
                assert oauth.refreshed == 2
        finally:
            await server.close()


async def _user_token(ha: str, user: tuple[str, str, str]) -> str:
    """An access token of ``user`` through Home Assistant's own login flow."""
    client_id = f"{ha}/"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{ha}/auth/login_flow",
            json={"client_id": client_id, "handler": ["homeassistant", None],
                  "redirect_uri": f"{ha}/"},
        ) as response:  # fmt: skip
            flow_id = (await response.json())["flow_id"]
        async with session.post(
            f"{ha}/auth/login_flow/{flow_id}",
            json={"client_id": client_id, "username": user[0], "password": user[1]},
        ) as response:
            code = (await response.json())["result"]
        async with session.post(
            f"{ha}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
        ) as response:
            return str((await response.json())["access_token"])


async def _commands_as(ha: str, user: tuple[str, str, str]) -> list[Any]:
    return await _commands(ha, await _user_token(ha, user), {"type": "auth/refresh_tokens"})


async def _delete_refresh_tokens(ha: str, user: tuple[str, str, str], ids: list[str]) -> None:
    token = await _user_token(ha, user)
    await _commands(
        ha, token, *({"type": "auth/delete_refresh_token", "refresh_token_id": i} for i in ids)
    )


async def test_admin_assigns_a_period_in_bulk(world: World, browser: Browser) -> None:
    """The sessions page assigns every unattributed session of the filter, one adjustment
    each; sessions outside the period (in Berlin time) stay unattributed."""
    context, page = await _context(browser)
    await _log_in(page, world, OWNER, "/sessions?from=2026-01-01&to=2026-01-31")
    form = page.locator("#bulk-form")
    await form.locator("[name=person_id]").select_option(label=OWNER[2])
    await form.locator("[name=reason]").fill("January guests were Ada's visitors")
    await form.locator("button[type=submit]").click()
    await page_expect(form.locator(".result")).to_have_text("3 sessions assigned.", timeout=30_000)
    await page_expect(form.locator(".error")).to_have_text("")
    await context.close()

    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {API_TOKEN}"}) as api:
        people = {}
        for session_id in world.january_guests:
            async with api.get(f"{world.ledger}/api/sessions/{session_id}") as response:
                detail = await response.json()
            people[session_id] = [
                (a["kind"], a["author"], a["data"]) for a in detail["adjustments"]
            ]
        async with api.get(f"{world.ledger}/api/people") as response:
            ada = next(p["id"] for p in await response.json() if p["name"] == OWNER[2])
    assigned = [("reassign", OWNER[2], {"person_id": ada, "vehicle_id": None})]
    # 1, 15 and 30 January are in the period; 31 January 23:00 UTC is 1 February in Berlin.
    assert [people[i] for i in world.january_guests] == [assigned, assigned, assigned, []]


PAGES = ("/", "/sessions", "/statements", "/manual", "/integrity")
ADMIN_PAGES = ("/manage", "/reports")
# Text keys look like this (i18n.text returns the key itself when a text is missing).
RAW_KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


async def _person_id(world: World, name: str) -> int:
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {API_TOKEN}"}) as api,
        api.get(f"{world.ledger}/api/people") as response,
    ):
        return int(next(p["id"] for p in await response.json() if p["name"] == name))


@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
async def test_every_page_is_translated(world: World, browser: Browser, locale: str) -> None:
    """Every page, as an administrator and as a driver: no text key, no ISO time."""
    for user, extra in ((OWNER, ADMIN_PAGES), (READER, ())):
        context, page = await _context(browser, locale=locale)
        await _log_in(page, world, user)
        session = world.admin_sessions[0] if user is OWNER else world.reader_sessions[0]
        person = await _person_id(world, user[2])
        statement = f"/statements/{person}/2026-03"
        for path in (*PAGES, *extra, f"/sessions/{session}", statement):
            response = await page.goto(f"{world.ledger}{path}")
            assert response is not None
            assert response.status == 200, path
            # Messages from elsewhere (Home Assistant's errors) are shown as they are.
            await page.locator(".detail").evaluate_all("nodes => nodes.forEach(n => n.remove())")
            text = await page.locator("body").inner_text()
            assert not RAW_KEY.search(text), (path, RAW_KEY.search(text))
            assert not ISO_TIME.search(text), (path, ISO_TIME.search(text))
        await context.close()
