"""XLSX statements (xlsxwriter): typed cells, a totals row, one sheet per statement.

Dates and times are real Excel date-times (local time of the charger) shown in the
reader's date pattern, energies and amounts are numbers whose number formats carry the
unit (kWh, the currency); words come from :mod:`.wording`; text goes through
:func:`write_string` after neutralisation, so nothing a user typed is ever a formula.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .cells import neutralise
from .document import StatementDocument
from .wording import Wording

_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\'", "_"))


def _sheet_name(document: StatementDocument, used: set[str]) -> str:
    base = document.person.personnel_number or document.person.name or str(document.person.id)
    if document.vehicle is not None:
        base += f" {document.vehicle.plate or document.vehicle.name}"
    base = base.translate(_FORBIDDEN).strip() or "statement"
    name = _utf16_prefix(base, 31)
    counter = 2
    while name.lower() in used:
        suffix = f" ({counter})"
        name = _utf16_prefix(base, 31 - len(suffix)) + suffix
        counter += 1
    used.add(name.lower())
    return name


def _utf16_prefix(text: str, units: int) -> str:
    """The longest prefix of at most ``units`` UTF-16 code units: Excel counts sheet
    names that way, so a character outside the BMP (an emoji) takes two."""
    length = 0
    for index, char in enumerate(text):
        length += 2 if ord(char) > 0xFFFF else 1
        if length > units:
            return text[:index]
    return text


def _number(value: Decimal | None) -> float | None:
    # Excel stores IEEE doubles; the exact decimal values stay in the CSV and the ledger.
    return None if value is None else float(value)


def _quoted(text: str) -> str:
    """Text for a number format: in double quotes, quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def statement_xlsx(documents: Iterable[StatementDocument], lang: str = "en") -> bytes:
    output = io.BytesIO()
    # xlsxwriter ships no type information; its objects are handled as Any.
    workbook: Any = importlib.import_module("xlsxwriter").Workbook(
        output, {"in_memory": True, "remove_timezone": True}
    )
    formats: dict[str, Any] = {}

    def fmt(key: str, **properties: Any) -> Any:
        if key not in formats:
            formats[key] = workbook.add_format(properties)
        return formats[key]

    # Dates as the reader writes them (Excel shows them in this pattern in any locale).
    day_pattern = "dd.mm.yyyy" if lang == "de" else "d mmm yyyy"
    bold = fmt("bold", bold=True)
    wrap = fmt("wrap", text_wrap=True, valign="top")
    title = fmt("title", bold=True, font_size=14)
    date_format = fmt("date", num_format=day_pattern)
    time_format = fmt("time", num_format=f"{day_pattern} hh:mm")
    used: set[str] = set()
    any_sheet = False
    for document in documents:
        any_sheet = True
        say = Wording(document, lang)
        t = say.t
        currency = _quoted(document.currency or "")
        kwh_format = fmt("kwh", num_format='0.000 "kWh"')
        kwh_bold = fmt("kwh_bold", num_format='0.000 "kWh"', bold=True, top=1)
        price_format = fmt(
            f"price{currency}", num_format=f"0.0000 {_quoted((document.currency or '') + '/kWh')}"
        )
        money_format = fmt(f"money{currency}", num_format=f"#,##0.00 {currency}")
        money_bold = fmt(
            f"money_bold{currency}", num_format=f"#,##0.00 {currency}", bold=True, top=1
        )
        total_label = fmt("total_label", bold=True, top=1)
        sheet: Any = workbook.add_worksheet(_sheet_name(document, used))
        sheet.write_string(0, 0, say.title(), title)
        header = [
            (t("person"), document.person.name),
            (t("personnel_number"), document.person.personnel_number or ""),
            (t("vehicle"), ", ".join(document.vehicles)),
            (t("charger_serials"), ", ".join(document.charger_serials)),
            (t("meter_serials"), ", ".join(document.meter_serials)),
            (t("period"), say.period()),
            (t("price_basis"), "; ".join(say.bases())),
            (t("content_hash"), document.content_hash),
        ]
        if document.correction is not None:
            header.append((t("st_corrected_label"), say.correction()))
        for index, (label, value) in enumerate(header, start=1):
            sheet.write_string(index, 0, label, bold)
            sheet.write_string(index, 1, neutralise(value))
        sheet.write_string(len(header) + 1, 0, say.time_zone())
        top = len(header) + 3
        columns = [
            t("date"), t("start"), t("end"), t("vehicle"), t("register_start"),
            t("register_end"), t("st_energy"), t("price_per_kwh"), t("st_amount"),
            t("currency"), t("evidence_class"), t("excluded"), t("reason"), t("session"),
            t("st_note"),
        ]  # fmt: skip
        for col, label in enumerate(columns):
            sheet.write_string(top, col, label, bold)
        row_no = top
        for row in document.rows:
            row_no += 1
            start, end = say.local(row.start), say.local(row.end)
            sheet.write_datetime(row_no, 0, start.replace(tzinfo=None), date_format)
            sheet.write_datetime(row_no, 1, start.replace(tzinfo=None), time_format)
            sheet.write_datetime(row_no, 2, end.replace(tzinfo=None), time_format)
            sheet.write_string(row_no, 3, neutralise(row.vehicle))
            cells: tuple[tuple[int, Decimal | None, Any], ...] = (
                (4, row.register_start_kwh, kwh_format),
                (5, row.register_end_kwh, kwh_format),
                (6, row.energy_kwh, kwh_format),
                (7, row.price_per_kwh, price_format),
                (8, row.amount, money_format),
            )
            for col, amount, number_format in cells:
                number = _number(amount)
                if number is None:
                    sheet.write_blank(row_no, col, None)
                else:
                    sheet.write_number(row_no, col, number, number_format)
            sheet.write_string(row_no, 9, neutralise(row.currency))
            sheet.write_string(row_no, 10, say.evidence(row.evidence_class))
            sheet.write_string(row_no, 11, t("yes") if row.excluded else "")
            sheet.write_string(row_no, 12, neutralise(row.exclusion_reason))
            sheet.write_string(row_no, 13, neutralise(row.session_id))
            sheet.write_string(row_no, 14, neutralise(say.row_note(row)))
        row_no += 1
        sheet.write_string(row_no, 0, t("total"), total_label)
        sheet.write_string(row_no, 1, say.sessions(document.session_count), total_label)
        for col in (2, 3, 4, 5, 7):
            sheet.write_blank(row_no, col, None, total_label)
        sheet.write_number(row_no, 6, float(document.energy_kwh), kwh_bold)
        sheet.write_number(row_no, 8, float(document.amount), money_bold)
        sheet.write_string(row_no, 9, neutralise(document.currency), total_label)
        row_no += 2
        lines: list[tuple[str, str]] = [(t("price_basis"), line) for line in say.bases()]
        lines += [(t("warnings"), notice) for notice in say.notices()]
        lines += [
            (t("st_verify_title"), say.verify_text()),
            (t("st_rules_title"), say.rules_text()),
        ]
        for label, text in lines:
            sheet.write_string(row_no, 0, label, bold)
            sheet.merge_range(row_no, 1, row_no, 12, neutralise(text), wrap)
            sheet.set_row(row_no, 15 * max(1, len(text) // 150 + 1))
            row_no += 1
        sheet.write_string(row_no, 0, t("generated"), bold)
        generated = say.local(document.generated_at).replace(tzinfo=None)
        sheet.write_datetime(row_no, 1, generated, time_format)
        sheet.set_column(0, 0, 14)
        sheet.set_column(1, 2, 18)
        sheet.set_column(3, 3, 20)
        sheet.set_column(4, 8, 16)
        sheet.set_column(10, 10, 30)
        sheet.set_column(11, 13, 18)
        sheet.set_column(14, 14, 60)
        sheet.freeze_panes(top + 1, 0)
    if not any_sheet:
        workbook.add_worksheet("empty")
    workbook.close()
    return output.getvalue()
