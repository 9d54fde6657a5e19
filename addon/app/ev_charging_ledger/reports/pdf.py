"""PDF statements (fpdf2): what an employer files (reimbursement.md section 5.3).

Header (person, personnel number, vehicle, charger and meter serials, period), one row
per session, totals, the price basis with its source, excluded sessions with reasons,
generation time, the content hash and signature lines. The built-in Helvetica is used
with the Windows-1252 encoding (German text and the euro sign); characters outside it
print as ``?``, so no font file has to ship with the add-on.
"""

from __future__ import annotations

from collections.abc import Iterable

from fpdf import FPDF
from fpdf.fonts import FontFace

from ev_charging_ledger import i18n

from .document import StatementDocument

_ENCODING = "windows-1252"


def _safe(text: str) -> str:
    return text.encode(_ENCODING, errors="replace").decode(_ENCODING)


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, _safe(f"{self.footer_text} - {self.page_no()}/{{nb}}"), align="R")


def statement_pdf(documents: Iterable[StatementDocument], lang: str = "en") -> bytes:
    def t(key: str) -> str:
        return i18n.text(lang, key)

    def n(value: object, places: int | None = None) -> str:
        from decimal import Decimal

        if value is None:
            return ""
        assert isinstance(value, (Decimal, int))
        return i18n.number(value, lang, places)

    pdf = _Pdf(orientation="landscape", format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_creator("EV Charging Ledger")
    for document in documents:
        pdf.footer_text = f"{t('content_hash')}: {document.content_hash}"
        pdf.add_page()
        pdf.set_title(f"{t('statement')} {document.month}")
        pdf.set_font("Helvetica", "B", 15)
        pdf.cell(0, 9, _safe(f"{t('statement')} {document.month}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=9)
        first, last = document.period
        header = [
            (t("person"), document.person.name),
            (t("personnel_number"), document.person.personnel_number or "-"),
            (t("vehicle"), ", ".join(document.vehicles) or "-"),
            (t("charger_serials"), ", ".join(document.charger_serials) or "-"),
            (t("meter_serials"), ", ".join(document.meter_serials) or "-"),
            (t("period"), f"{first} - {last}"),
        ]
        for label, value in header:
            pdf.set_font("Helvetica", "B", 9)
            pdf.cell(45, 5, _safe(label + ":"))
            pdf.set_font("Helvetica", size=9)
            pdf.cell(0, 5, _safe(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        counted = document.counted
        pdf.set_font("Helvetica", size=8)
        headings = [
            t("date"), t("start"), t("end"), t("register_start"), t("register_end"), t("kwh"),
            t("price_per_kwh"), t("amount"), t("evidence_class"),
        ]  # fmt: skip
        with pdf.table(
            col_widths=(22, 16, 16, 32, 32, 22, 24, 26, 40),
            text_align=(
                "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT",
            ),
            headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
            line_height=4.5,
            width=230,
            align="LEFT",
        ) as table:  # fmt: skip
            table.row([_safe(text) for text in headings])
            for row in counted:
                table.row(
                    [
                        row.start.strftime("%Y-%m-%d"),
                        row.start.strftime("%H:%M"),
                        row.end.strftime("%H:%M"),
                        n(row.register_start_kwh, 3),
                        n(row.register_end_kwh, 3),
                        n(row.energy_kwh, 3),
                        n(row.price_per_kwh, 4),
                        n(row.amount, 2),
                        _safe(t(f"ev_{row.evidence_class}")),
                    ]
                )
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(
            0,
            6,
            _safe(
                f"{t('total')}: {document.session_count} {t('sessions')}, "
                f"{n(document.energy_kwh, 3)} kWh, {n(document.amount, 2)} {document.currency}"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("Helvetica", size=9)
        for basis, source in document.bases:
            pdf.multi_cell(
                0,
                5,
                _safe(f"{t('price_basis')}: {t('basis_' + basis)} - {source}"),
                new_x="LMARGIN",
            )
        for warning in document.warnings:
            pdf.multi_cell(0, 5, _safe(f"{t('warnings')}: {warning}"), new_x="LMARGIN")
        excluded = document.excluded
        if excluded:
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 9)
            pdf.cell(0, 5, _safe(t("excluded_sessions")), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=8)
            for row in excluded:
                pdf.multi_cell(
                    0,
                    4.5,
                    _safe(
                        f"{row.start.strftime('%Y-%m-%d %H:%M')}  {n(row.energy_kwh, 3)} kWh  "
                        f"{t('reason')}: {row.exclusion_reason}"
                    ),
                    new_x="LMARGIN",
                )
        pdf.ln(3)
        pdf.set_font("Helvetica", size=8)
        stamp = document.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        pdf.cell(0, 4.5, _safe(f"{t('generated')}: {stamp}"), new_x="LMARGIN", new_y="NEXT")
        pdf.cell(
            0,
            4.5,
            _safe(f"{t('content_hash')}: {document.content_hash}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        if pdf.will_page_break(26):
            pdf.add_page()
        pdf.ln(14)
        y = pdf.get_y()
        for x, label in (
            (pdf.l_margin, "signature_driver"),
            (pdf.l_margin + 140, "signature_approver"),
        ):
            pdf.line(x, y, x + 110, y)
            pdf.set_xy(x, y + 1)
            pdf.cell(110, 5, _safe(t(label)))
    if pdf.page == 0:
        pdf.add_page()
    return bytes(pdf.output())
