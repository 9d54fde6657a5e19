"""XLSX statements (xlsxwriter): typed cells, a totals row, one sheet per statement.

Dates and times are real Excel date-times (local time of the charger), energies and
amounts are numbers with number formats; text goes through :func:`write_string` after
neutralisation, so nothing a user typed is ever stored as a formula.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ev_charging_ledger import i18n

from .cells import neutralise
from .document import StatementDocument

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


def statement_xlsx(documents: Iterable[StatementDocument], lang: str = "en") -> bytes:
    def t(key: str) -> str:
        return i18n.text(lang, key)

    output = io.BytesIO()
    # xlsxwriter ships no type information; its objects are handled as Any.
    workbook: Any = importlib.import_module("xlsxwriter").Workbook(
        output, {"in_memory": True, "remove_timezone": True}
    )
    bold = workbook.add_format({"bold": True})
    title = workbook.add_format({"bold": True, "font_size": 14})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    kwh_format = workbook.add_format({"num_format": "0.000"})
    price_format = workbook.add_format({"num_format": "0.0000"})
    money_format = workbook.add_format({"num_format": "#,##0.00"})
    money_bold = workbook.add_format({"num_format": "#,##0.00", "bold": True, "top": 1})
    kwh_bold = workbook.add_format({"num_format": "0.000", "bold": True, "top": 1})
    total_label = workbook.add_format({"bold": True, "top": 1})
    used: set[str] = set()
    any_sheet = False
    for document in documents:
        any_sheet = True
        sheet: Any = workbook.add_worksheet(_sheet_name(document, used))
        sheet.write_string(0, 0, t("statement"), title)
        first, last = document.period
        header = [
            (t("person"), document.person.name),
            (t("personnel_number"), document.person.personnel_number or ""),
            (t("vehicle"), ", ".join(document.vehicles)),
            (t("charger_serials"), ", ".join(document.charger_serials)),
            (t("meter_serials"), ", ".join(document.meter_serials)),
            (t("period"), f"{first} - {last}"),
            (t("content_hash"), document.content_hash),
        ]
        for index, (label, value) in enumerate(header, start=1):
            sheet.write_string(index, 0, label, bold)
            sheet.write_string(index, 1, neutralise(value))
        top = len(header) + 2
        columns = [
            t("date"), t("start"), t("end"), t("vehicle"), t("register_start"),
            t("register_end"), t("kwh"), t("price_per_kwh"), t("amount"), t("currency"),
            t("evidence_class"), t("excluded"), t("reason"), t("session"),
        ]  # fmt: skip
        for col, label in enumerate(columns):
            sheet.write_string(top, col, label, bold)
        row_no = top
        for row in document.rows:
            row_no += 1
            sheet.write_datetime(row_no, 0, row.start.replace(tzinfo=None), date_format)
            sheet.write_datetime(row_no, 1, row.start.replace(tzinfo=None), time_format)
            sheet.write_datetime(row_no, 2, row.end.replace(tzinfo=None), time_format)
            sheet.write_string(row_no, 3, neutralise(row.vehicle))
            cells: tuple[tuple[int, Decimal | None, Any], ...] = (
                (4, row.register_start_kwh, kwh_format),
                (5, row.register_end_kwh, kwh_format),
                (6, row.energy_kwh, kwh_format),
                (7, row.price_per_kwh, price_format),
                (8, row.amount, money_format),
            )
            for col, amount, fmt in cells:
                number = _number(amount)
                if number is None:
                    sheet.write_blank(row_no, col, None)
                else:
                    sheet.write_number(row_no, col, number, fmt)
            sheet.write_string(row_no, 9, neutralise(row.currency))
            sheet.write_string(row_no, 10, t(f"ev_{row.evidence_class}"))
            sheet.write_string(row_no, 11, t("yes") if row.excluded else "")
            sheet.write_string(row_no, 12, neutralise(row.exclusion_reason))
            sheet.write_string(row_no, 13, neutralise(row.session_id))
        row_no += 1
        sheet.write_string(row_no, 0, t("total"), total_label)
        for col in (1, 2, 3, 4, 5, 7):
            sheet.write_blank(row_no, col, None, total_label)
        sheet.write_number(row_no, 6, float(document.energy_kwh), kwh_bold)
        sheet.write_number(row_no, 8, float(document.amount), money_bold)
        sheet.write_string(row_no, 9, neutralise(document.currency), total_label)
        row_no += 2
        for basis, source in document.bases:
            sheet.write_string(row_no, 0, t("price_basis"), bold)
            sheet.write_string(row_no, 1, neutralise(f"{t('basis_' + basis)}: {source}"))
            row_no += 1
        sheet.write_string(row_no, 0, t("generated"), bold)
        sheet.write_datetime(row_no, 1, document.generated_at.replace(tzinfo=None), time_format)
        sheet.set_column(0, 0, 12)
        sheet.set_column(1, 2, 17)
        sheet.set_column(3, 3, 20)
        sheet.set_column(4, 8, 13)
        sheet.set_column(10, 13, 18)
        sheet.freeze_panes(top + 1, 0)
    if not any_sheet:
        workbook.add_worksheet("empty")
    workbook.close()
    return output.getvalue()
