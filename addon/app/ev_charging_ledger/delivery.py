"""Scheduled delivery: on the first day of each month, last month's statements.

For every person and vehicle with sessions in the month, the statement is written as
PDF, XLSX, CSV for Excel and CSV for machines into ``<share>/<YYYY-MM>/``, with the
month's payroll CSV and one workbook of all statements. Then Home Assistant is told:
a persistent notification, or the notify service named in the options.

The job wakes at least hourly and delivers every month that has ended and is not
delivered yet (state in ``delivery.json`` next to the database), so a ledger that was
down on the first catches up when it starts. The clock and the sleep are injectable,
which is how the tests cross a month boundary.

Sessions reach the ledger when they end, so at 00:00 on the first a session still
charging over midnight, or one whose record comes late, is not there yet. The ledger
cannot know that such a session exists, so it does not wait for one: it delivers at once
and, at every later wake-up until the next month is delivered, recomputes the delivered
month's statements. When one changed (a late session or part, an adjustment) or a new
one appeared, the month is written again: the changed statements carry a visible
correction note naming the hash they replace, their content hash is the new one (the
one ``verify`` recomputes), the earlier files move to ``superseded/<n>/`` in the month's
folder, and Home Assistant is told.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
from ev_charging_ledger.reports.document import Correction, StatementDocument
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


SUPERSEDED = "superseded"


@dataclass
class DeliveryResult:
    month: str
    folder: Path
    files: list[Path] = field(default_factory=list)
    statements: int = 0
    # A correction: its number and the statements that changed or were added.
    revision: int = 0
    corrected: int = 0


def previous_month(moment: datetime) -> str:
    first = moment.replace(day=1)
    last = first - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def write_month(
    ledger: Ledger,
    month: str,
    share_dir: Path,
    settings: ReportSettings,
    documents: list[StatementDocument] | None = None,
    *,
    revision: int = 0,
) -> DeliveryResult:
    """Write the month's files; written to a temporary folder and renamed into place.

    ``revision`` > 0 is a correction: the files delivered before are kept under
    ``superseded/<revision>/`` in the month's folder instead of being replaced.
    """
    lang = settings.language
    folder = share_dir / month
    partial = share_dir / f".{month}.partial"
    if partial.exists():
        # A crash mid-write: start the new files afresh, keep what was already moved aside.
        for stale in partial.iterdir():
            if stale.is_file():
                stale.unlink()
    partial.mkdir(parents=True, exist_ok=True)
    if documents is None:
        documents = statement_document.statements_of_month(
            ledger, month, home_zone=settings.time_zone
        )
    result = DeliveryResult(month, folder, statements=len(documents), revision=revision)
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
        _keep_superseded(folder, partial, revision)
        for old in folder.iterdir():
            old.unlink()
        folder.rmdir()
    os.replace(partial, folder)
    result.files = [folder / name for name in names]
    return result


def _keep_superseded(folder: Path, partial: Path, revision: int) -> None:
    """Move earlier corrections' files, and on a correction the files it replaces, into
    the new folder's ``superseded/``: a delivered statement is never deleted."""
    kept = partial / SUPERSEDED
    earlier = folder / SUPERSEDED
    if earlier.is_dir():
        kept.mkdir(exist_ok=True)
        for entry in earlier.iterdir():
            if not (kept / entry.name).exists():
                os.replace(entry, kept / entry.name)
        if not any(earlier.iterdir()):
            earlier.rmdir()
    if revision <= 0:
        return
    for old in folder.iterdir():
        if old.is_file():
            os.replace(old, _free_path(kept, revision, old.name))


def _free_path(kept: Path, revision: int, name: str) -> Path:
    """``superseded/<revision>/<name>``, or ``<revision>.1/``, ... when that is taken (a
    correction written again after a crash before its state was saved): never overwrite."""
    folder, attempt = kept / str(revision), 0
    while (folder / name).exists():
        attempt += 1
        folder = kept / f"{revision}.{attempt}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


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

    def _state(self) -> dict[str, Any]:
        try:
            data = json.loads(self._state_path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _delivered(self) -> str | None:
        month = self._state().get("delivered_month")
        return month if isinstance(month, str) else None

    def _save(self, month: str, issued: dict[str, Any] | None = None) -> None:
        partial = self._state_path.with_suffix(".partial")
        state: dict[str, Any] = {"delivered_month": month}
        if issued is not None:
            state["issued"] = issued
        partial.write_text(json.dumps(state), "utf-8")
        partial.replace(self._state_path)

    def due(self) -> str | None:
        """The month to deliver now (the last ended month), or None."""
        month = previous_month(self._clock().astimezone(self._zone))
        delivered = self._delivered()
        return None if delivered is not None and delivered >= month else month

    def _documents(self, month: str) -> list[StatementDocument]:
        return statement_document.statements_of_month(
            self._ledger, month, home_zone=self._settings.time_zone
        )

    async def run_once(self) -> DeliveryResult | None:
        """Deliver the month that is due, else correct the last delivered month if its
        statements changed since; None when there was nothing to do."""
        month = self.due()
        if month is None:
            return await self._correct_last()
        documents = await asyncio.to_thread(self._documents, month)
        result = await asyncio.to_thread(
            write_month, self._ledger, month, self._share, self._settings, documents
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
        self._save(month, self._issued(documents, self._clock(), revision=0))
        return result

    @staticmethod
    def _issued(
        documents: list[StatementDocument], delivered_at: datetime, revision: int
    ) -> dict[str, Any]:
        return {
            "delivered_at": delivered_at.astimezone(UTC).isoformat(),
            "revision": revision,
            "hashes": {document.file_stem(): document.content_hash for document in documents},
            # The correction notes, so a statement corrected once keeps its note when a
            # later correction writes the month again without changing it.
            "notes": {
                document.file_stem(): [
                    note.revision,
                    note.delivered_at.astimezone(UTC).isoformat(),
                    note.previous_hash,
                ]
                for document in documents
                if (note := document.correction) is not None
            },
        }

    @staticmethod
    def _note(issued: dict[str, Any], stem: str) -> Correction | None:
        notes = issued.get("notes")
        found = notes.get(stem) if isinstance(notes, dict) else None
        if not isinstance(found, list) or len(found) != 3:
            return None
        revision, delivered_at, previous = found
        return Correction(int(revision), datetime.fromisoformat(str(delivered_at)), previous)

    async def _correct_last(self) -> DeliveryResult | None:
        month = self._delivered()
        if month is None:
            return None
        issued = self._state().get("issued")
        documents = await asyncio.to_thread(self._documents, month)
        if not isinstance(issued, dict) or not isinstance(issued.get("hashes"), dict):
            # Delivered by a version that kept no hashes: what is there now is the baseline.
            self._save(month, self._issued(documents, self._clock(), revision=0))
            return None
        hashes: dict[str, str] = issued["hashes"]
        current = {document.file_stem(): document.content_hash for document in documents}
        if current == hashes:
            return None
        revision = int(issued.get("revision") or 0) + 1
        delivered_at = datetime.fromisoformat(str(issued["delivered_at"]))
        corrected: list[StatementDocument] = []
        changed = 0
        for document in documents:
            stem = document.file_stem()
            note: Correction | None
            if hashes.get(stem) != document.content_hash:
                changed += 1
                note = Correction(revision, delivered_at, hashes.get(stem))
            else:
                note = self._note(issued, stem)
            corrected.append(dataclasses.replace(document, correction=note))
        withdrawn = len(set(hashes) - set(current))
        result = await asyncio.to_thread(
            write_month,
            self._ledger,
            month,
            self._share,
            self._settings,
            corrected,
            revision=revision,
        )
        result.corrected = changed
        LOGGER.warning(
            "statements for %s changed after delivery (%d changed or new, %d withdrawn): "
            "correction %d written to %s",
            month,
            changed,
            withdrawn,
            revision,
            result.folder,
        )
        lang = self._settings.language
        await self._notifier.notify(
            i18n.text(lang, "notify_corrected_title").format(month=month),
            i18n.text(lang, "notify_corrected_body").format(
                month=month,
                count=changed + withdrawn,
                folder=result.folder,
                superseded=result.folder / SUPERSEDED / str(revision),
            ),
            f"ev_charging_ledger_{month}",
        )
        # The next correction names this one as the delivery it replaces.
        self._save(month, self._issued(corrected, self._clock(), revision))
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
