"""Text cells that a spreadsheet would evaluate are neutralised in every export.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a
formula (or becomes one) in Excel, LibreOffice and Google Sheets (OWASP "CSV
injection"). Such text is prefixed with an apostrophe, which spreadsheets show as
plain text. Numbers are written as numbers and never pass through here, so a negative
amount stays a number.
"""

from __future__ import annotations

_TRIGGERS = frozenset("=+-@\t\r")


def neutralise(value: str | None) -> str:
    if not value:
        return ""
    if value[0] in _TRIGGERS:
        return "'" + value
    return value
