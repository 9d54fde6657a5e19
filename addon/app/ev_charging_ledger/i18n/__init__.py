"""English and German text of the web UI and the reports, and locale number formats.

``text(lang, key)`` falls back to English, then to the key itself, so a missing German
string shows up as English rather than breaking a page. ``tests/ledger`` checks that both
languages define the same keys.
"""

from .formats import local_time, number, uses_decimal_comma
from .lookup import LANGUAGES, TEXT, gap_reason, language, ocmf_failure, text

__all__ = [
    "LANGUAGES",
    "TEXT",
    "gap_reason",
    "language",
    "local_time",
    "number",
    "ocmf_failure",
    "text",
    "uses_decimal_comma",
]
