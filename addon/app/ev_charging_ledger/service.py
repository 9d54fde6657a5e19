"""The long-running ledger: HTTP API plus ingestion, until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import sqlite3
from pathlib import Path

import aiohttp
from aiohttp import web

from ev_charging_ledger import supervisor
from ev_charging_ledger.access import (
    AccessPolicy,
    IngressAccess,
    TokenAccess,
    UserChanges,
    watch_user_changes,
)
from ev_charging_ledger.api import create_app
from ev_charging_ledger.delivery import HomeAssistantNotifier, MonthlyDelivery, rest_url
from ev_charging_ledger.homeassistant import (
    AuthenticationError,
    Connection,
    check_login,
    current_user,
    list_users,
)
from ev_charging_ledger.ingest import Ingestor
from ev_charging_ledger.login import BrowserLogin, HomeAssistantOAuth
from ev_charging_ledger.settings import Settings
from ev_charging_ledger.storage import Ledger

LOGGER = logging.getLogger(__name__)
SNAPSHOT_NAME = "ledger.snapshot.sqlite3"


class StartupError(Exception):
    """The ledger cannot start; the message is one line for the user."""


def open_ledger(data_dir: Path) -> Ledger:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StartupError(f"cannot create data directory {data_dir}: {err.strerror}") from err
    database = data_dir / "ledger.sqlite3"
    snapshot = data_dir / SNAPSHOT_NAME
    if not database.exists() and snapshot.exists():
        # A backup holds only the snapshot (the live files are excluded), so this is a
        # restore: start from the snapshot.
        LOGGER.warning("restoring the ledger from %s", snapshot)
        shutil.copyfile(snapshot, database)
    try:
        return Ledger(database)
    except sqlite3.Error as err:
        raise StartupError(f"cannot open the ledger database {database}: {err}") from err


def write_snapshot(data_dir: Path) -> Path:
    """A consistent copy of the live database (SQLite online backup), for backups."""
    database = data_dir / "ledger.sqlite3"
    if not database.exists():
        raise StartupError(f"no ledger in {data_dir}")
    target = data_dir / SNAPSHOT_NAME
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database, timeout=60)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()
    partial.replace(target)
    return target


async def serve(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; raises StartupError for problems the user must fix."""
    ledger = await asyncio.to_thread(open_ledger, settings.data_dir)
    if settings.retention_years is not None:
        await asyncio.to_thread(ledger.set_retention_years, settings.retention_years)
    try:
        async with aiohttp.ClientSession() as session:
            await _serve(settings, ledger, session)
    finally:
        ledger.close()


async def _serve(settings: Settings, ledger: Ledger, session: aiohttp.ClientSession) -> None:
    url, token = settings.ws_url, settings.token
    policy: AccessPolicy
    changes = UserChanges()
    if settings.addon:
        policy = IngressAccess(lambda: list_users(session, url, token), changes=changes)
    else:
        tokens = TokenAccess(
            settings.api_token,
            lambda user_token: current_user(session, url, user_token),
            after_refusal=lambda: check_login(session, url, token),
            changes=changes,
        )
        public_url = settings.public_url or f"http://{settings.host}:{settings.port}"
        policy = BrowserLogin(
            tokens,
            HomeAssistantOAuth(session, rest_url(url), public_url),
            secure_cookies=public_url.startswith("https:"),
        )
    watcher = asyncio.create_task(
        watch_user_changes(lambda: Connection.open(session, url, token, heartbeat=30), changes)
    )
    try:
        await _serve_with(settings, ledger, session, policy)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def _serve_with(
    settings: Settings, ledger: Ledger, session: aiohttp.ClientSession, policy: AccessPolicy
) -> None:
    url, token = settings.ws_url, settings.token
    announce = None
    if not settings.addon and (settings.public_url or settings.host not in ("0.0.0.0", "::")):
        announce = settings.public_url or f"http://{settings.host}:{settings.port}"
    ingestor = Ingestor(ledger, session, url, token, announce_url=announce)
    app = create_app(ledger, policy, ingestor.status, settings.reports)
    if isinstance(policy, BrowserLogin):
        policy.setup(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as err:
            raise StartupError(
                f"cannot listen on {settings.host}:{settings.port}: {err.strerror or err}"
            ) from err
        LOGGER.info("ledger API listening on %s:%s", settings.host, settings.port)
        if settings.addon:
            await supervisor.announce(session, token, settings.port)
        delivery = _delivery(settings, ledger, session)
        task = None if delivery is None else asyncio.create_task(delivery.run_forever())
        try:
            await _run_until_stopped(ingestor)
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        await runner.cleanup()


def _delivery(
    settings: Settings, ledger: Ledger, session: aiohttp.ClientSession
) -> MonthlyDelivery | None:
    share = settings.reports.share_dir
    if share is None:
        return None
    try:
        share.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        LOGGER.warning("monthly delivery is off: cannot create %s (%s)", share, err.strerror)
        return None
    notifier = HomeAssistantNotifier(
        session, rest_url(settings.ws_url), settings.token, settings.reports.notify_service
    )
    return MonthlyDelivery(ledger, settings.reports, notifier, settings.data_dir / "delivery.json")


async def _run_until_stopped(ingestor: Ingestor) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    ingest = asyncio.create_task(ingestor.run_forever())
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({ingest, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if ingest.done():
            error = ingest.exception()
            if isinstance(error, AuthenticationError):
                raise StartupError(f"Home Assistant refused the access token ({error})")
            if error is not None:
                raise error
    finally:
        for task in (ingest, stopper):
            if task.done():
                continue  # its outcome was handled above
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
