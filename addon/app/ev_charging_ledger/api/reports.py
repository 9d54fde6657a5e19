"""API routes for statements and reports: a person's statement and yearly totals, the
statement as PDF/XLSX/CSV and its verification, the month's payroll CSV and workbook."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ev_charging_ledger.http_context import LEDGER_KEY, REPORTS_KEY
from ev_charging_ledger.http_context import check_person_access as _check_person_access
from ev_charging_ledger.http_context import parse_month as _month
from ev_charging_ledger.http_context import require_admin as _require_admin
from ev_charging_ledger.params import BadRequestError, UnprocessableError
from ev_charging_ledger.reports import document as statement_document
from ev_charging_ledger.reports.pdf import statement_pdf
from ev_charging_ledger.reports.tabular import PayrollSettings, payroll_csv, statement_csv
from ev_charging_ledger.reports.xlsx import statement_xlsx
from ev_charging_ledger.storage import NotFoundError

from .inputs import language, path_int, query_int

routes = web.RouteTableDef()


@routes.get("/api/statements/{person_id}/{month}")
async def statement(request: web.Request) -> web.Response:
    person_id = path_int(request, "person_id")
    month = _month(request.match_info["month"])
    await _check_person_access(request, person_id)
    result = await asyncio.to_thread(request.app[LEDGER_KEY].statement, person_id, month)
    return web.json_response(result.as_json())


@routes.get("/api/people/{person_id}/totals/{year}")
async def totals(request: web.Request) -> web.Response:
    person_id = path_int(request, "person_id")
    year = path_int(request, "year")
    if not 2000 <= year <= 2200:
        raise BadRequestError("year must be between 2000 and 2200")
    await _check_person_access(request, person_id)
    ledger = request.app[LEDGER_KEY]
    if await asyncio.to_thread(ledger.person, person_id) is None:
        raise NotFoundError(f"no person {person_id}")
    months = await asyncio.to_thread(ledger.monthly_totals, person_id, year)
    return web.json_response([month.as_json() for month in months])


EXPORT_FORMATS = {
    "pdf": ("application/pdf", "pdf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "machine_csv": ("text/csv; charset=utf-8", "csv"),
}


def _download(body: bytes, content_type: str, filename: str) -> web.Response:
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def render_statement(documents: list[Any], fmt: str, lang: str) -> bytes:
    if fmt == "pdf":
        return statement_pdf(documents, lang)
    if fmt == "xlsx":
        return statement_xlsx(documents, lang)
    return statement_csv(documents, "excel" if fmt == "csv" else "machine", lang)


@routes.get("/api/statements/{person_id}/{month}/export")
async def export_statement(request: web.Request) -> web.Response:
    person_id = path_int(request, "person_id")
    month = _month(request.match_info["month"])
    fmt = request.query.get("format", "pdf")
    if fmt not in EXPORT_FORMATS:
        raise BadRequestError(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    vehicle_id = query_int(request, "vehicle_id", low=1, high=2**62)
    await _check_person_access(request, person_id)
    lang = language(request)
    ledger = request.app[LEDGER_KEY]
    home_zone = request.app[REPORTS_KEY].time_zone

    def build() -> tuple[bytes, str]:
        document = statement_document.build(
            ledger, person_id, month, vehicle_id=vehicle_id, home_zone=home_zone
        )
        return render_statement([document], fmt, lang), document.file_stem()

    body, stem = await asyncio.to_thread(build)
    content_type, extension = EXPORT_FORMATS[fmt]
    suffix = "-machine" if fmt == "machine_csv" else ""
    return _download(body, content_type, f"{stem}{suffix}.{extension}")


@routes.get("/api/statements/{person_id}/{month}/verify")
async def verify_statement(request: web.Request) -> web.Response:
    """Recompute the statement from the ledger and compare its content hash."""
    person_id = path_int(request, "person_id")
    month = _month(request.match_info["month"])
    await _check_person_access(request, person_id)
    printed = request.query["hash"].lower()
    scope = request.query.get("vehicle", "all")
    ledger = request.app[LEDGER_KEY]
    if await asyncio.to_thread(ledger.person, person_id) is None:
        raise NotFoundError(f"no person {person_id}")
    document = await asyncio.to_thread(
        lambda: statement_document.build_scoped(
            ledger, person_id, month, scope, home_zone=request.app[REPORTS_KEY].time_zone
        )
    )
    return web.json_response(
        {
            "match": document.content_hash == printed,
            "content_hash": document.content_hash,
            "person_id": person_id,
            "month": month,
            "vehicle": scope,
        }
    )


@routes.get("/api/reports/{month}/payroll.csv")
async def export_payroll(request: web.Request) -> web.Response:
    _require_admin(request)
    month = _month(request.match_info["month"])
    configured = request.app[REPORTS_KEY].payroll
    wage_type = request.query.get("wage_type", configured.wage_type)
    if not 1 <= len(wage_type) <= 20:
        raise BadRequestError("wage_type must have 1 to 20 characters")
    columns = configured.columns
    if "columns" in request.query:
        try:
            columns = PayrollSettings.parse_columns(request.query["columns"])
        except ValueError as err:
            raise UnprocessableError(str(err)) from err
    payroll = PayrollSettings(
        wage_type=wage_type,
        columns=columns,
        delimiter=configured.delimiter,
        decimal_comma=configured.decimal_comma,
    )
    ledger = request.app[LEDGER_KEY]
    lang = language(request)

    def build() -> bytes:
        documents = statement_document.statements_of_month(
            ledger, month, home_zone=request.app[REPORTS_KEY].time_zone
        )
        return payroll_csv(documents, payroll, lang)

    body = await asyncio.to_thread(build)
    return _download(body, "text/csv; charset=utf-8", f"payroll-{month}.csv")


@routes.get("/api/reports/{month}/statements.xlsx")
async def export_month_xlsx(request: web.Request) -> web.Response:
    _require_admin(request)
    month = _month(request.match_info["month"])
    ledger = request.app[LEDGER_KEY]
    lang = language(request)

    def build() -> bytes:
        documents = statement_document.statements_of_month(
            ledger, month, home_zone=request.app[REPORTS_KEY].time_zone
        )
        return statement_xlsx(documents, lang)

    body = await asyncio.to_thread(build)
    return _download(body, EXPORT_FORMATS["xlsx"][0], f"statements-{month}.xlsx")
