"""PDF statements (fpdf2): what an employer files (reimbursement.md section 5.3).

Header (person, personnel number, vehicle, charger and meter serials, period, time
zone, price basis of the year), one row per session in local time with units, totals,
the price basis with its source, notices, excluded sessions with reasons, sessions
split at a month boundary, how to verify the content hash, what the 2026 rules ask,
generation time and signature lines. Every text comes from :mod:`.wording`.

The built-in Helvetica is used with the Windows-1252 encoding (German text and the euro
sign); characters outside it print as ``?``, so no font file has to ship with the add-on.
"""

from __future__ import annotations

from collections.abc import Iterable

from fpdf import FPDF

from .document import StatementDocument
from .wording import Wording

_ENCODING = "windows-1252"


def _safe(text: str) -> str:
    return text.encode(_ENCODING, errors="replace").decode(_ENCODING)


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, _safe(f"{self.footer_text} - {self.page_no()}/{{nb}}"), align="R")


def _section(pdf: _Pdf, title: str) -> None:
    pdf.ln(2)
    if pdf.will_page_break(14):
        pdf.add_page()
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(0, 5, _safe(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)


def _paragraph(pdf: _Pdf, text: str, height: float = 4.2) -> None:
    pdf.multi_cell(0, height, _safe(text), new_x="LMARGIN", new_y="NEXT")


_COLUMNS = (22, 12, 28, 32, 32, 22, 28, 24, 27, 40)  # mm, 267 in all (A4 landscape)
_ALIGN = ("L", "L", "L", "R", "R", "R", "R", "R", "L", "L")
_LINE = 4.2
_HEADING_FILL = (230, 230, 230)


def _table(pdf: _Pdf, headings: list[str], rows: list[list[str]]) -> None:
    """The sessions as a bordered grid; a row is as tall as its longest cell and the
    heading row repeats on every page.

    Drawn cell by cell instead of with ``FPDF.table``, which breaks every cell's text into
    lines twice (to size the row, then to draw it) and took nine tenths of a statement's
    time: here a text that fits its column is one ``cell`` and only a longer one is broken.
    """

    def heading() -> None:
        pdf.set_font("Helvetica", "B", 8)
        _row(pdf, _lines(pdf, headings), fill=True)
        pdf.set_font("Helvetica", size=8)

    heading()
    for cells in rows:
        lines = _lines(pdf, cells)
        if pdf.will_page_break(max(len(cell) for cell in lines) * _LINE):
            pdf.add_page()
            heading()
        _row(pdf, lines, fill=False)


def _lines(pdf: _Pdf, cells: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    for width, text in zip(_COLUMNS, cells, strict=True):
        if pdf.get_string_width(text) <= width - 2 * pdf.c_margin:
            out.append([text])
        else:
            broken = pdf.multi_cell(width, _LINE, text, dry_run=True, output="LINES")
            out.append(list(broken) if isinstance(broken, list) and broken else [text])
    return out


def _row(pdf: _Pdf, lines: list[list[str]], *, fill: bool) -> None:
    height = max(len(cell) for cell in lines) * _LINE
    x, top = pdf.l_margin, pdf.get_y()
    if fill:
        pdf.set_fill_color(*_HEADING_FILL)
    for width, align, cell in zip(_COLUMNS, _ALIGN, lines, strict=True):
        pdf.rect(x, top, width, height, style="DF" if fill else "D")
        for index, text in enumerate(cell):
            pdf.set_xy(x, top + index * _LINE)
            pdf.cell(width, _LINE, text, align=align)
        x += width
    pdf.set_xy(pdf.l_margin, top + height)


def statement_pdf(documents: Iterable[StatementDocument], lang: str = "en") -> bytes:
    pdf = _Pdf(orientation="landscape", format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_creator("EV Charging Ledger")
    for document in documents:
        _document(pdf, document, Wording(document, lang))
    if pdf.page == 0:
        pdf.add_page()
    return bytes(pdf.output())


def _document(pdf: _Pdf, document: StatementDocument, say: Wording) -> None:
    t = say.t
    pdf.footer_text = f"{t('content_hash')}: {document.content_hash}"
    pdf.add_page()
    pdf.set_title(say.title())
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, _safe(say.title()), new_x="LMARGIN", new_y="NEXT")
    if document.correction is not None:
        pdf.set_font("Helvetica", "B", 9)
        pdf.set_text_color(160, 0, 0)
        note = _safe(f"{t('st_corrected_label')}: {say.correction()}")
        # Left-aligned: justified, the line before the long hash would spread its words.
        pdf.multi_cell(0, 4.2, note, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    header = [
        (t("person"), document.person.name),
        (t("personnel_number"), document.person.personnel_number or "-"),
        (t("vehicle"), ", ".join(document.vehicles) or "-"),
        (t("charger_serials"), ", ".join(document.charger_serials) or "-"),
        (t("meter_serials"), ", ".join(document.meter_serials) or "-"),
        (t("period"), say.period()),
        (t("price_basis"), "; ".join(say.bases()) or "-"),
    ]
    for label, value in header:
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(45, 5, _safe(label + ":"))
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(0, 5, _safe(value), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 5, _safe(say.time_zone()), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    headings = [
        t("date"), t("start"), t("end"), t("register_start"), t("register_end"),
        t("st_energy"), t("price_per_kwh"), t("st_amount"), t("evidence_class"), t("st_note"),
    ]  # fmt: skip
    rows = [
        [
            _safe(say.day(row.start)),
            say.clock(row.start),
            _safe(say.end_of(row)),
            _safe(say.energy(row.register_start_kwh)),
            _safe(say.energy(row.register_end_kwh)),
            _safe(say.energy(row.energy_kwh)),
            _safe(say.price(row.price_per_kwh, row.currency)),
            _safe(say.money(row.amount, row.currency)),
            _safe(say.evidence(row.evidence_class)),
            _safe(say.split_marker(row) or say.problem(row.problem)),
        ]
        for row in document.counted
    ]
    _table(pdf, [_safe(text) for text in headings], rows)
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 10)
    total = (
        f"{t('total')}: {say.sessions(document.session_count)}, "
        f"{say.energy(document.energy_kwh)}, {say.money(document.amount)}"
    )
    pdf.cell(0, 6, _safe(total), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    for line in say.bases():
        _paragraph(pdf, f"{t('price_basis')}: {line}")
    for notice in say.notices():
        _paragraph(pdf, f"{t('warnings')}: {notice}")
    split_rows = [row for row in document.counted if row.part is not None]
    if split_rows:
        _section(pdf, t("st_split_title"))
        for row in split_rows:
            _paragraph(pdf, f"{say.day(row.start)}: {say.row_note(row)}")
    if document.excluded:
        _section(pdf, t("excluded_sessions"))
        for row in document.excluded:
            _paragraph(
                pdf,
                f"{say.moment(row.start)}, {say.energy(row.energy_kwh)}: "
                f"{t('reason')}: {row.exclusion_reason}",
            )
    _section(pdf, t("st_verify_title"))
    _paragraph(pdf, f"{t('content_hash')}: {document.content_hash}")
    _paragraph(pdf, say.verify_text())
    _section(pdf, t("st_rules_title"))
    _paragraph(pdf, say.rules_text())
    pdf.ln(2)
    _paragraph(pdf, f"{t('generated')}: {say.generated()}")
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
