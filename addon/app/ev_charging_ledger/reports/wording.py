"""The words of a statement, the same in every format (page, PDF, XLSX, CSV for Excel).

Everything a reader sees goes through here: local dates and times in the home time
zone, amounts with their currency, energies with kWh, the price basis, evidence class,
problems and notices in the reader's language, the note on a session split at a month
boundary, how to verify the hash, and what the 2026 rules ask. No text key, stored
identifier or ISO time reaches a reader.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ev_charging_ledger import i18n

from .document import DocumentRow, StatementDocument

# The fixed source texts the rates module writes when a rate has no note of its own.
_SOURCES = {
    "session tariff": "st_source_session_tariff",
    "tariff": "st_source_session_tariff",
    "fixed employer price": "st_source_fixed_price",
}
# The pricing problems the rates module names.
_PROBLEMS = {
    "no rate applies": "problem_no_rate",
    "price missing": "problem_price_missing",
    "rate has no price": "st_problem_rate_no_price",
    "no official flat price": "st_problem_no_flat_price",
    "parts priced differently": "st_problem_parts_differ",
}
# The ledger program's subcommand (``python -m ev_charging_ledger verify-statement``); the
# program is named in the add-on's documentation, not on the statement.
VERIFY_COMMAND = "verify-statement"


class Wording:
    """Text for one statement in one language."""

    def __init__(self, document: StatementDocument, lang: str) -> None:
        self.document = document
        self.lang = lang if lang in i18n.LANGUAGES else "en"
        self.zone = ZoneInfo(document.time_zone)

    def t(self, key: str, **values: Any) -> str:
        text = i18n.text(self.lang, key)
        return text.format(**values) if values else text

    # ------------------------------------------------------------------ numbers

    def number(self, value: Decimal | int | None, places: int | None = None) -> str:
        return i18n.number(value, self.lang, places)

    def energy(self, kwh: Decimal | None) -> str:
        return "" if kwh is None else f"{self.number(kwh, 3)} kWh"

    def money(self, amount: Decimal | None, currency: str | None = None) -> str:
        if amount is None:
            return ""
        return f"{self.number(amount, 2)} {currency or self.document.currency}".strip()

    def price(self, price: Decimal | None, currency: str | None = None) -> str:
        if price is None:
            return ""
        return f"{self.number(price, 4)} {currency or self.document.currency}/kWh"

    def sessions(self, count: int) -> str:
        return self.t("st_session_count_one" if count == 1 else "st_session_count", count=count)

    # -------------------------------------------------------------------- times

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone) if moment.tzinfo is not None else moment

    def day(self, moment: datetime) -> str:
        return i18n.local_time(self.local(moment), self.lang, date_only=True)

    def moment(self, moment: datetime) -> str:
        return i18n.local_time(self.local(moment), self.lang)

    def clock(self, moment: datetime) -> str:
        return f"{self.local(moment):%H:%M}"

    def end_of(self, row: DocumentRow) -> str:
        """The end time; with its date when the session ends on another day."""
        if self.local(row.end).date() != self.local(row.start).date():
            return self.moment(row.end)
        return self.clock(row.end)

    def month_name(self, month: str | None = None) -> str:
        year, number = (int(part) for part in (month or self.document.month).split("-"))
        return f"{self.t(f'st_month_{number}')} {year}"

    def title(self) -> str:
        return self.t("st_title", month=self.month_name())

    def period(self) -> str:
        first, last = (datetime.fromisoformat(day) for day in self.document.period)
        return self.t(
            "st_period_value",
            first=i18n.local_time(first, self.lang, date_only=True),
            last=i18n.local_time(last, self.lang, date_only=True),
        )

    def time_zone(self) -> str:
        return self.t("st_time_zone", zone=self.document.time_zone)

    def generated(self) -> str:
        return self.moment(self.document.generated_at)

    # -------------------------------------------------------------------- words

    def basis(self, basis: str | None) -> str:
        return self.t(f"basis_{basis}") if basis else ""

    def source(self, source: str | None) -> str:
        if not source:
            return ""
        key = _SOURCES.get(source)
        return self.t(key) if key else source

    def basis_line(self, basis: str, source: str) -> str:
        named = self.source(source)
        return f"{self.basis(basis)}: {named}" if named else self.basis(basis)

    def bases(self) -> list[str]:
        return [self.basis_line(basis, source) for basis, source in self.document.bases]

    def evidence(self, evidence_class: str) -> str:
        """The evidence class in a few words ("MID meter", "Zähler ohne MID")."""
        return self.t(f"ev_{evidence_class}") if evidence_class else ""

    def problem(self, problem: str | None) -> str:
        if not problem:
            return ""
        key = _PROBLEMS.get(problem)
        return self.t(key) if key else problem

    def flag(self, value: bool) -> str:
        return self.t("yes" if value else "no")

    def row_note(self, row: DocumentRow) -> str:
        """What a reader needs to know about one row beyond its numbers."""
        notes = []
        if row.part is not None:
            part = row.part
            notes.append(
                self.t(
                    "st_part_interpolated" if part.interpolated else "st_part_reading",
                    index=part.index + 1,
                    count=part.count,
                    start=self.moment(part.session_start),
                    end=self.moment(part.session_end),
                    energy=self.energy(part.session_energy_kwh),
                )
            )
        if row.amount is None and row.problem:
            notes.append(self.problem(row.problem))
        return "; ".join(notes)

    def split_marker(self, row: DocumentRow) -> str:
        """A short word for a split row's boundary energy, for narrow table cells."""
        if row.part is None:
            return ""
        return self.t("st_split_interpolated" if row.part.interpolated else "st_split_reading")

    def correction(self) -> str:
        """Why this delivered statement replaces an earlier one; empty when it does not."""
        correction = self.document.correction
        if correction is None:
            return ""
        delivered = self.moment(correction.delivered_at)
        if correction.previous_hash is None:
            return self.t("st_corrected_new", revision=correction.revision, delivered=delivered)
        return self.t(
            "st_corrected",
            revision=correction.revision,
            delivered=delivered,
            previous=correction.previous_hash,
        )

    def notices(self) -> list[str]:
        return [self.notice(key, values) for key, values in self.document.notices]

    def notice(self, key: str, values: dict[str, Any]) -> str:
        if key == "notice_bases":
            bases = ", ".join(self.basis(basis) for basis in values["bases"])
            return self.t(key, year=values["year"], bases=bases)
        if key == "notice_gap":
            count = int(values["to_seq"]) - int(values["from_seq"]) + 1
            after, before = values.get("after"), values.get("before")
            return self.t(
                key,
                count=count,
                after=self._stored(after) if after else self.t("st_gap_start"),
                before=self._stored(before) if before else self.t("st_gap_now"),
                reason=i18n.gap_reason(self.lang, values),
            )
        return self.t(key, **values)

    def _stored(self, text: str) -> str:
        return self.moment(datetime.fromisoformat(text.replace("Z", "+00:00")))

    # ------------------------------------------------------------ verification

    def verify_query(self) -> str:
        query = f"hash={self.document.content_hash}"
        if self.document.vehicle_scope != "all":
            query += f"&vehicle={self.document.vehicle_scope}"
        return query

    def verify_path(self) -> str:
        document = self.document
        return f"/api/statements/{document.person.id}/{document.month}/verify?{self.verify_query()}"

    def verify_command(self) -> str:
        document = self.document
        command = (
            f"{VERIFY_COMMAND} --person {document.person.id} --month {document.month} "
            f"--hash {document.content_hash}"
        )
        if document.vehicle_scope != "all":
            command += f" --vehicle {document.vehicle_scope}"
        return command

    def verify_text(self) -> str:
        return self.t("st_verify", path=self.verify_path(), command=self.verify_command())

    def rules_text(self) -> str:
        return self.t("st_rules")

    def year_basis(self) -> str:
        """Which price basis this statement's year uses (the rules allow one)."""
        names = ", ".join(self.basis(basis) for basis, _ in self.document.bases)
        if not names:
            return ""
        return self.t("st_basis_year", year=self.document.month[:4], bases=names)
