"""What a ledger page must not show a reader: raw keys, ISO timestamps, bare numbers where
a unit or currency is due, English text on a German page.

The checks read what the browser renders (text nodes that are displayed), not the HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.async_api import Frame, Page

from ev_charging_ledger import i18n

# A decimal number must carry its unit or currency, right after it or in its column's
# header (a table of kWh figures names the unit once, in the header).
_DECIMALS_JS = r"""
() => {
  const unit = /^\s*(kWh|Wh|kW|W|EUR|€|%|ct|km|EUR\/kWh|€\/kWh)(?![A-Za-z])/;
  const headerUnit = /(kWh|Wh|kW|EUR|€|%|ct|km)/;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest("script, style, title, desc, .mono, code")) continue;
    if (!el.getClientRects().length) continue;  // not displayed
    const text = node.textContent;
    for (const m of text.matchAll(/(?<![\d.,:\/\-])\d+[.,]\d+(?![\d.,:\/\-])/g)) {
      if (unit.test(text.slice(m.index + m[0].length))) continue;
      const cell = el.closest("td, th");
      if (cell) {
        const table = cell.closest("table");
        const head = table && table.tHead && table.tHead.rows[0];
        const header = head && head.cells[cell.cellIndex];
        if (header && headerUnit.test(header.textContent)) continue;
        const row = cell.parentElement;
        if (row && row.cells[0] && headerUnit.test(row.cells[0].textContent)) continue;
      }
      const dd = el.closest("dd");
      const dt = dd && dd.previousElementSibling;
      if (dt && headerUnit.test(dt.textContent)) continue;
      found.push(text.trim().slice(0, 120));
    }
  }
  return found;
}
"""

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}[.,]\d+|[+-]\d{2}:\d{2}\b")
_KEY = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def _english_only() -> list[str]:
    """Pieces of English UI text that a German page must not show (texts whose German is
    different, cut at placeholders, long enough not to be a shared word)."""
    pieces = set()
    english, german = i18n.TEXT["en"], i18n.TEXT["de"]
    for key, text in english.items():
        if german.get(key) == text:
            continue
        for piece in _PLACEHOLDER.split(text):
            piece = piece.strip(" .,:;()-")
            if len(piece) >= 12 and " " in piece:
                pieces.add(piece)
    return sorted(pieces)


@dataclass
class Findings:
    """Everything wrong on the pages walked, by page."""

    problems: dict[str, list[str]] = field(default_factory=dict)

    def add(self, where: str, what: str, items: list[str]) -> None:
        if items:
            self.problems.setdefault(where, []).extend(f"{what}: {item!r}" for item in items)

    def report(self) -> str:
        return "\n".join(
            f"{where}:\n  " + "\n  ".join(items) for where, items in self.problems.items()
        )


async def check_page(target: Page | Frame, where: str, lang: str, findings: Findings) -> None:
    """Raw keys, ISO times, bare decimals; on a German page, English text."""
    text = await target.locator("body").inner_text()
    keys = set(i18n.TEXT["en"])
    findings.add(where, "raw key", sorted({k for k in _KEY.findall(text) if k in keys or "_" in k}))
    findings.add(where, "ISO time", _ISO.findall(text))
    findings.add(where, "number without unit", await target.evaluate(_DECIMALS_JS))
    if lang == "de":
        findings.add(where, "untranslated", [p for p in _english_only() if p in text])
