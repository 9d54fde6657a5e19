"""Scheduled delivery: on the first day of each month, last month's statements.

For every person and vehicle with sessions in the month, the statement is written as
PDF, XLSX, CSV for Excel and CSV for machines into ``<share>/<YYYY-MM>/``, with the
month's payroll CSV and one workbook of all statements. Then Home Assistant is told:
a persistent notification, or the notify service named in the options.

The job wakes at least hourly and delivers every month that has ended and is not
delivered yet (state in ``delivery.json`` next to the database), so a ledger that was
down on the first catches up when it starts. The clock and the sleep are injectable,
which is how the tests cross a month boundary.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import aiohttp
from yarl import URL

from ev_charging_ledger import i18n
from ev_charging_ledger.reports import document as statement_document
from ev_charging_ledger.reports.pdf import statement_pdf
from ev_charging_ledger.reports.settings import ReportSettings
from ev_charging_ledger.reports.tabular import payroll_csv, statement_csv
from ev_charging_ledger.reports.xlsx import statement_xlsx
from ev_charging_ledger.storage import Ledger

LOGGER = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def rest_url(ws_url: str) -> str:
    """Home Assistant's REST base from its websocket URL (add-on: the Supervisor proxy)."""
    url = URL(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
    path = url.path
    for suffix in ("/api/websocket", "/websocket"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return str(url.with_scheme(scheme).with_path(path or "/")).rstrip("/")


class HomeAssistantNotifier:
    """Calls ``persistent_notification.create`` or ``notify.<service>`` over REST."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, token: str, service: str = ""
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._token = token
        self._service = service.removeprefix("notify.").strip()

    async def notify(self, title: str, message: str, notification_id: str) -> None:
        if self._service:
            path = f"/api/services/notify/{self._service}"
            payload: dict[str, Any] = {"title": title, "message": message}
        else:
            path = "/api/services/persistent_notification/create"
            payload = {"title": title, "message": message, "notification_id": notification_id}
        async with self._session.post(
            self._base + path,
            json=payload,
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=aiohttp.ClientTimeout(total=30),
        ) as response:
            if response.status >= 400:
                text = await response.text()
                raise RuntimeError(f"Home Assistant answered {response.status}: {text[:200]}")


class Notifier(Protocol):
    async def notify(self, title: str, message: str, notification_id: str) -> None:
        """Tell Home Assistant's users."""


@dataclass
class DeliveryResult:
    month: str
    folder: Path
    files: list[Path] = field(default_factory=list)
    statements: int = 0


def previous_month(moment: datetime) -> str:
    first = moment.replace(day=1)
    last = first - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def write_month(
    ledger: Ledger, month: str, share_dir: Path, settings: ReportSettings
) -> DeliveryResult:
    """Write the month's files; written to a temporary folder and renamed into place."""
    lang = settings.language
    folder = share_dir / month
    partial = share_dir / f".{month}.partial"
    if partial.exists():
        for stale in partial.iterdir():
            stale.unlink()
    partial.mkdir(parents=True, exist_ok=True)
    documents = statement_document.statements_of_month(ledger, month, home_zone=settings.time_zone)
    result = DeliveryResult(month, folder, statements=len(documents))
    names: list[str] = []
    for document in documents:
        stem = document.file_stem()
        outputs = {
            f"{stem}.pdf": statement_pdf([document], lang),
            f"{stem}.xlsx": statement_xlsx([document], lang),
            f"{stem}.csv": statement_csv([document], "excel", lang),
            f"{stem}-machine.csv": statement_csv([document], "machine", lang),
        }
        for name, data in outputs.items():
            (partial / name).write_bytes(data)
            names.append(name)
    if documents:
        (partial / f"payroll-{month}.csv").write_bytes(
            payroll_csv(documents, settings.payroll, lang)
        )
        (partial / f"statements-{month}.xlsx").write_bytes(statement_xlsx(documents, lang))
        names += [f"payroll-{month}.csv", f"statements-{month}.xlsx"]
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
        folder.rmdir()
    os.replace(partial, folder)
    result.files = [folder / name for name in names]
    return result


class MonthlyDelivery:
    def __init__(
        self,
        ledger: Ledger,
        settings: ReportSettings,
        notifier: Notifier,
        state_path: Path,
        *,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if settings.share_dir is None:
            raise ValueError("scheduled delivery needs a share folder")
        self._ledger = ledger
        self._settings = settings
        self._share = settings.share_dir
        self._notifier = notifier
        self._state_path = state_path
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sleep = sleep
        self._zone = ZoneInfo(settings.time_zone)

    def _delivered(self) -> str | None:
        try:
            data = json.loads(self._state_path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        month = data.get("delivered_month") if isinstance(data, dict) else None
        return month if isinstance(month, str) else None

    def _save(self, month: str) -> None:
        partial = self._state_path.with_suffix(".partial")
        partial.write_text(json.dumps({"delivered_month": month}), "utf-8")
        partial.replace(self._state_path)

    def due(self) -> str | None:
        """The month to deliver now (the last ended month), or None."""
        month = previous_month(self._clock().astimezone(self._zone))
        delivered = self._delivered()
        return None if delivered is not None and delivered >= month else month

    async def run_once(self) -> DeliveryResult | None:
        month = self.due()
        if month is None:
            return None
        result = await asyncio.to_thread(
            write_month, self._ledger, month, self._share, self._settings
        )
        LOGGER.info(
            "delivered %d statement(s) for %s to %s", result.statements, month, result.folder
        )
        if result.statements:
            lang = self._settings.language
            await self._notifier.notify(
                i18n.text(lang, "notify_title").format(month=month),
                i18n.text(lang, "notify_body").format(
                    month=month, count=result.statements, folder=result.folder
                ),
                f"ev_charging_ledger_{month}",
            )
        self._save(month)
        return result

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # a failed delivery is retried at the next wake-up
                LOGGER.exception("scheduled delivery failed; retrying within the hour")
            await self._sleep(self._seconds_to_next_check())

    def _seconds_to_next_check(self) -> float:
        now = self._clock().astimezone(self._zone)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
        return max(min((midnight - now).total_seconds(), 3600.0), 1.0)
