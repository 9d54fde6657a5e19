"""Which language a reader gets, and a text key's words in it.

``text(lang, key)`` falls back to English, then to the key itself, so a missing German
string shows up as English rather than breaking a page.
"""

from __future__ import annotations

from typing import Any

from .english import ENGLISH
from .german import GERMAN

LANGUAGES = ("en", "de")

TEXT: dict[str, dict[str, str]] = {"en": ENGLISH, "de": GERMAN}


def language(requested: str | None) -> str:
    """``de``/``de-DE``/``de-AT,en;q=0.5`` -> ``de``; anything unknown -> ``en``."""
    for part in (requested or "").split(","):
        code = part.split(";", 1)[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def text(lang: str, key: str) -> str:
    return TEXT.get(lang, TEXT["en"]).get(key) or TEXT["en"].get(key) or key


def ocmf_failure(lang: str, failure: dict[str, Any]) -> str:
    """One session whose signed meter values no longer prove it, in the reader's language."""
    reason = text(lang, f"ocmf_failure_{failure.get('reason_key')}")
    return text(lang, "ocmf_failure_line").format(
        session_id=failure.get("session_id"), entry_no=failure.get("entry_no"), reason=reason
    )


def gap_reason(lang: str, gap: dict[str, Any]) -> str:
    """Why a recorded gap exists, in the reader's language.

    Gaps store a reason key and its values (``reason_key``, ``reason_params``); gaps
    recorded before that store English text (``reason``), which is shown as it is.
    """
    key = gap.get("reason_key")
    if isinstance(key, str) and key:
        params = gap.get("reason_params")
        wording = text(lang, f"gap_reason_{key}")
        try:
            return wording.format(**params) if isinstance(params, dict) and params else wording
        except (KeyError, IndexError, ValueError):
            return wording
    return str(gap.get("reason") or "")
