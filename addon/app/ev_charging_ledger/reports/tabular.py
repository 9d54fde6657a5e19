"""CSV exports: statements (for Excel, for machines), payroll, the streamed sessions list.

Two flavours (reimbursement.md section 5.1):

- ``machine``: UTF-8 without BOM, RFC 4180 (``,`` separator, CRLF, minimal quoting),
  ``.`` decimals, ISO 8601 times with offset, one header row of stable snake_case ids.
- ``excel``: UTF-8 with BOM; in German ``;`` separator and decimal comma, in English ``,``
  and ``.``; local times in the reader's pattern (``31.10.2026 23:00``, ``31 Oct 2026
  23:00``, which Excel reads as date-times), no thousands separators; a row of localised
  headers followed by the row of stable ids; row type, evidence class, price basis and
  the note on a session split at a month boundary in words.

Statement columns (both flavours, in this order): see :data:`STATEMENT_COLUMNS`; the
last row of each statement has ``row_type`` ``total`` (in words for Excel) and carries
the totals of the sessions that count (excluded sessions are listed with ``excluded``
true and do not count). ``split`` says which part of a session split at a month
boundary the row is (machine: ``1/2 reading`` or ``2/2 interpolated``). Every text cell
is neutralised (:mod:`.cells`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ev_charging_ledger import i18n
from ev_charging_ledger.storage import Ledger, SessionFilter

from .cells import neutralise
from .document import DocumentRow, StatementDocument
from .wording import Wording

FLAVOURS = ("excel", "machine")
BOM = "\ufeff"

# (stable id, translation key)
STATEMENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("row_type", "row_type"),
    ("month", "month"),
    ("person", "person"),
    ("personnel_number", "personnel_number"),
    ("session_id", "session"),
    ("date", "date"),
    ("start", "start"),
    ("end", "end"),
    ("vehicle", "vehicle"),
    ("charger_serial", "charger"),
    ("meter_serial", "meter"),
    ("register_start_kwh", "register_start"),
    ("register_end_kwh", "register_end"),
    ("energy_kwh", "kwh"),
    ("price_per_kwh", "price_per_kwh"),
    ("amount", "amount"),
    ("currency", "currency"),
    ("evidence_class", "evidence_class"),
    ("price_basis", "price_basis"),
    ("excluded", "excluded"),
    ("exclusion_reason", "reason"),
    ("split", "st_note"),
)

# Streamed sessions export: columns of the ledger's sessions table, stored attribution.
SESSION_COLUMNS: tuple[str, ...] = (
    "session_id",
    "source",
    "started_at",
    "ended_at",
    "time_zone",
    "person_id",
    "vehicle_id",
    "charger_serial",
    "energy_wh",
    "cost_total",
    "currency",
    "evidence_class",
)
_SESSION_TEXT = frozenset({0, 4, 7, 10})  # columns people or devices can fill with text


@dataclass(frozen=True, slots=True)
class Dialect:
    flavour: str
    lang: str

    @property
    def delimiter(self) -> str:
        if self.flavour == "excel" and i18n.uses_decimal_comma(self.lang):
            return ";"
        return ","

    def number(self, value: Decimal | None) -> str:
        if value is None:
            return ""
        if self.flavour == "excel":
            return i18n.number(value, self.lang)
        return format(value, "f")

    def moment(self, value: datetime) -> str:
        if self.flavour == "excel":
            # The reader's date and a 24-hour clock, which Excel reads as a date-time.
            return f"{self.day(value)} {value:%H:%M}"
        return value.isoformat()

    def day(self, value: datetime) -> str:
        if self.flavour == "excel":
            return i18n.local_time(value, self.lang, date_only=True)
        return value.date().isoformat()

    def flag(self, value: bool) -> str:
        if self.flavour == "excel":
            return i18n.text(self.lang, "yes" if value else "no")
        return "true" if value else "false"


def dialect(flavour: str, lang: str) -> Dialect:
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {', '.join(FLAVOURS)}")
    return Dialect(flavour, lang if lang in i18n.LANGUAGES else "en")


def _writer(buffer: io.StringIO, style: Dialect) -> Any:
    return csv.writer(buffer, delimiter=style.delimiter, lineterminator="\r\n")


def _headers(writer: Any, style: Dialect, columns: Sequence[tuple[str, str]]) -> None:
    if style.flavour == "excel":
        writer.writerow([i18n.text(style.lang, key) for _, key in columns])
    writer.writerow([stable for stable, _ in columns])


def statement_csv(documents: Iterable[StatementDocument], flavour: str, lang: str = "en") -> bytes:
    """One or more statements in one CSV (each with its own total row)."""
    style = dialect(flavour, lang)
    buffer = io.StringIO()
    if style.flavour == "excel":
        buffer.write(BOM)
    writer = _writer(buffer, style)
    _headers(writer, style, STATEMENT_COLUMNS)
    for document in documents:
        say = Wording(document, style.lang)
        excel = style.flavour == "excel"
        who = [
            document.month,
            neutralise(document.person.name),
            neutralise(document.person.personnel_number),
        ]
        for row in document.rows:
            if excel:
                words = [say.evidence(row.evidence_class), say.basis(row.basis)]
                split = say.row_note(row)
            else:
                words = [row.evidence_class, row.basis]
                split = _machine_split(row)
            writer.writerow(
                [
                    say.t("session") if excel else "session",
                    *who,
                    neutralise(row.session_id),
                    style.day(row.start),
                    style.moment(row.start),
                    style.moment(row.end),
                    neutralise(row.vehicle),
                    neutralise(row.charger_serial),
                    neutralise(row.meter_serial),
                    style.number(row.register_start_kwh),
                    style.number(row.register_end_kwh),
                    style.number(row.energy_kwh),
                    style.number(row.price_per_kwh),
                    style.number(row.amount),
                    neutralise(row.currency),
                    *words,
                    style.flag(row.excluded),
                    neutralise(row.exclusion_reason),
                    neutralise(split),
                ]
            )
        bases = (
            [say.basis(basis) for basis, _ in document.bases]
            if excel
            else [basis for basis, _ in document.bases]
        )
        writer.writerow(
            [
                say.t("total") if excel else "total",
                *who,
                "",
                "",
                "",
                "",
                neutralise(", ".join(document.vehicles)),
                "",
                "",
                "",
                "",
                style.number(document.energy_kwh),
                "",
                style.number(document.amount),
                neutralise(document.currency),
                "",
                ", ".join(bases),
                "",
                "",
                "",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _machine_split(row: DocumentRow) -> str:
    """``1/2 reading``: the part of a session split at a month boundary, in stable words."""
    if row.part is None:
        return ""
    return f"{row.part.index + 1}/{row.part.count} {row.part.method}"


# -------------------------------------------------------------------------- payroll

PAYROLL_COLUMNS: dict[str, dict[str, str]] = {
    "personnel_number": {"en": "Personnel number", "de": "Personalnummer"},
    "name": {"en": "Name", "de": "Name"},
    "month": {"en": "Payroll month", "de": "Abrechnungsmonat"},
    "wage_type": {"en": "Wage type", "de": "Lohnart"},
    "amount": {"en": "Amount", "de": "Betrag"},
    "currency": {"en": "Currency", "de": "Währung"},
    "energy_kwh": {"en": "Energy (kWh)", "de": "Energie (kWh)"},
    "sessions": {"en": "Sessions", "de": "Ladevorgänge"},
}
DEFAULT_PAYROLL_COLUMNS = ("personnel_number", "month", "wage_type", "amount")
DEFAULT_WAGE_TYPE = "9979"


@dataclass(frozen=True, slots=True)
class PayrollSettings:
    """Lohnbewegungsdaten: which columns, which wage type (Lohnart), which format."""

    wage_type: str = DEFAULT_WAGE_TYPE
    columns: tuple[str, ...] = DEFAULT_PAYROLL_COLUMNS
    delimiter: str = ";"
    decimal_comma: bool = True
    header: bool = True

    @classmethod
    def parse_columns(cls, text: str) -> tuple[str, ...]:
        columns = tuple(part.strip() for part in text.split(",") if part.strip())
        unknown = [column for column in columns if column not in PAYROLL_COLUMNS]
        if unknown or not columns:
            raise ValueError(
                f"payroll columns must be a comma-separated list of {', '.join(PAYROLL_COLUMNS)}"
            )
        return columns


def payroll_csv(
    documents: Iterable[StatementDocument], settings: PayrollSettings, lang: str = "de"
) -> bytes:
    """One line per person and month with the amount to pay with the salary.

    Statements of the same person (one per vehicle) are added up. No BOM: payroll
    importers read plain text. Month as ``MM/YYYY``.
    """
    people: dict[int, list[StatementDocument]] = {}
    for document in documents:
        people.setdefault(document.person.id, []).append(document)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=settings.delimiter, lineterminator="\r\n")
    language = lang if lang in i18n.LANGUAGES else "en"
    if settings.header:
        # The amount column names its currency, so no number stands without its unit.
        currencies = {doc.currency for docs in people.values() for doc in docs if doc.currency}
        unit = f" ({next(iter(currencies))})" if len(currencies) == 1 else ""
        writer.writerow(
            [
                PAYROLL_COLUMNS[column][language] + (unit if column == "amount" else "")
                for column in settings.columns
            ]
        )
    for person_documents in people.values():
        first = person_documents[0]
        amount = sum((doc.amount for doc in person_documents), Decimal(0))
        sessions = sum(doc.session_count for doc in person_documents)
        if not sessions:
            continue
        year, month = first.month.split("-")
        amount_text = format(amount.quantize(Decimal("0.01")), "f")
        energy_text = format(sum((d.energy_kwh for d in person_documents), Decimal(0)), "f")
        if settings.decimal_comma:
            amount_text = amount_text.replace(".", ",")
            energy_text = energy_text.replace(".", ",")
        values = {
            "personnel_number": neutralise(first.person.personnel_number),
            "name": neutralise(first.person.name),
            "month": f"{month}/{year}",
            "wage_type": neutralise(settings.wage_type),
            "amount": amount_text,
            "currency": neutralise(first.currency),
            "energy_kwh": energy_text,
            "sessions": str(sessions),
        }
        writer.writerow([values[column] for column in settings.columns])
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------- sessions (streamed)

SESSION_HEADERS = {
    "en": (
        "Session", "Source", "Start", "End", "Time zone", "Person", "Vehicle", "Charger",
        "Energy (Wh)", "Tariff cost", "Currency", "Evidence class",
    ),
    "de": (
        "Ladevorgang", "Quelle", "Beginn", "Ende", "Zeitzone", "Person", "Fahrzeug",
        "Ladepunkt", "Energie (Wh)", "Tarifkosten", "Währung", "Nachweisklasse",
    ),
}  # fmt: skip


def sessions_csv(
    ledger: Ledger, where: SessionFilter, flavour: str, lang: str = "en", *, chunk_rows: int = 2000
) -> Iterator[bytes]:
    """All matching sessions, newest first, as encoded chunks of ``chunk_rows`` rows.

    Memory stays flat whatever the size: rows come from the ledger in keyset pages
    and leave as chunks. Machine flavour: times as stored (UTC, ISO 8601 ``Z``), the
    ``time_zone`` column says where they were local. Excel flavour: local times.
    """
    style = dialect(flavour, lang)
    buffer = io.StringIO()
    if style.flavour == "excel":
        buffer.write(BOM)
    writer = _writer(buffer, style)
    if style.flavour == "excel":
        writer.writerow(SESSION_HEADERS[style.lang])
    writer.writerow(SESSION_COLUMNS)
    rows = ledger.session_rows(where, SESSION_COLUMNS)
    convert = _excel_session_row(style) if style.flavour == "excel" else _machine_session_row
    pending = 0
    for row in rows:
        writer.writerow(convert(row))
        pending += 1
        if pending == chunk_rows:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    tail = buffer.getvalue()
    if tail:
        yield tail.encode("utf-8")


def _machine_session_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    session_id, charger, currency, zone = row[0], row[7], row[10], row[4]
    if (
        (session_id and session_id[0] in "=+-@\t\r")
        or (charger and charger[0] in "=+-@\t\r")
        or (currency and currency[0] in "=+-@\t\r")
        or (zone and zone[0] in "=+-@\t\r")
    ):
        return tuple(
            neutralise(value) if index in _SESSION_TEXT else value
            for index, value in enumerate(row)
        )
    return row


def _excel_session_row(style: Dialect) -> Any:
    zones: dict[str, ZoneInfo] = {}

    def convert(row: tuple[Any, ...]) -> list[Any]:
        zone = zones.get(row[4])
        if zone is None:
            zone = zones[row[4]] = ZoneInfo(row[4])
        out = [
            neutralise(value) if index in _SESSION_TEXT else value
            for index, value in enumerate(row)
        ]
        for index in (2, 3):
            moment = datetime.fromisoformat(row[index].replace("Z", "+00:00"))
            out[index] = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        for index in (8, 9):
            if row[index] is not None:
                out[index] = style.number(Decimal(row[index]))
        return out

    return convert
