"""A monthly statement ready to be rendered: header facts, local-time rows, totals.

Built from :meth:`Ledger.statement` (attribution and adjustments applied); the
optional ``vehicle_id`` narrows it to one vehicle ("per person and vehicle") and the
totals are recomputed over the remaining rows with the same rules (excluded sessions
do not count, ``bill`` rates count negative). ``content_hash`` is a SHA-256 over the
statement's content (not the generation time), so the same ledger state always gives
the same hash and a printed statement can be checked against the ledger later.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ev_charging_ledger.records import canonical_json
from ev_charging_ledger.storage import Ledger, Person, Statement, Vehicle

_KWH = Decimal(1000)


@dataclass(frozen=True, slots=True)
class DocumentRow:
    session_id: str
    vehicle: str
    charger_serial: str
    meter_serial: str
    start: datetime  # local time, with offset
    end: datetime
    register_start_kwh: Decimal | None
    register_end_kwh: Decimal | None
    energy_kwh: Decimal
    price_per_kwh: Decimal | None
    amount: Decimal | None  # signed: negative when the person is billed
    currency: str
    evidence_class: str
    basis: str
    excluded: bool
    exclusion_reason: str
    problem: str
    source: str = ""  # where the price comes from (rate note, flat price source)
    # Set when the session crosses a month boundary and this row is its part in the month.
    part: RowPartView | None = None

    def content(self) -> dict[str, object]:
        content: dict[str, object] = {
            "session_id": self.session_id,
            "vehicle": self.vehicle,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "register_start_kwh": _plain(self.register_start_kwh),
            "register_end_kwh": _plain(self.register_end_kwh),
            "energy_kwh": _plain(self.energy_kwh),
            "price_per_kwh": _plain(self.price_per_kwh),
            "amount": _plain(self.amount),
            "currency": self.currency,
            "evidence_class": self.evidence_class,
            "excluded": self.excluded,
            "exclusion_reason": self.exclusion_reason,
        }
        if self.part is not None:
            # Only split rows carry it, so the hash of every other statement is unchanged.
            content["part"] = self.part.content()
        return content


@dataclass(frozen=True, slots=True)
class RowPartView:
    """A month's part of a session that crosses a month boundary, in local time."""

    index: int  # 0-based
    count: int
    method: str  # "reading" or "interpolated"
    session_start: datetime
    session_end: datetime
    session_energy_kwh: Decimal

    @property
    def interpolated(self) -> bool:
        return self.method == "interpolated"

    def content(self) -> dict[str, object]:
        return {
            "index": self.index,
            "count": self.count,
            "method": self.method,
            "session_start": self.session_start.isoformat(),
            "session_end": self.session_end.isoformat(),
            "session_energy_kwh": format(self.session_energy_kwh, "f"),
        }


@dataclass(frozen=True, slots=True)
class Correction:
    """A delivered statement issued again because the ledger's content for it changed.

    Not part of the content hash: the hash stays the one the ledger recomputes today.
    """

    revision: int  # 1 for the first correction of the month's delivery
    delivered_at: datetime  # when the replaced delivery was written
    previous_hash: str | None  # None: the statement was not in that delivery at all


@dataclass(frozen=True, slots=True)
class StatementDocument:
    person: Person
    month: str
    vehicle: Vehicle | None
    vehicles: list[str]
    charger_serials: list[str]
    meter_serials: list[str]
    rows: list[DocumentRow]
    session_count: int
    energy_kwh: Decimal
    amount: Decimal
    currency: str
    bases: list[tuple[str, str]]  # (basis, its source/evidence reference)
    warnings: list[str]
    generated_at: datetime
    content_hash: str
    # The same findings as ``warnings`` as (text key, values), for the reader's language.
    notices: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    time_zone: str = "UTC"
    # Which sessions by vehicle: "all", a vehicle id, or "none" (sessions without one);
    # the verify endpoint and command take the same value.
    vehicle_scope: str = "all"
    # Set by the scheduled delivery when it issues the statement again (see delivery.py).
    correction: Correction | None = None

    @property
    def split_rows(self) -> list[DocumentRow]:
        return [row for row in self.rows if row.part is not None]

    @property
    def counted(self) -> list[DocumentRow]:
        return [row for row in self.rows if not row.excluded]

    @property
    def excluded(self) -> list[DocumentRow]:
        return [row for row in self.rows if row.excluded]

    @property
    def period(self) -> tuple[str, str]:
        year, month = (int(part) for part in self.month.split("-"))
        last = 31
        while True:
            try:
                datetime(year, month, last)
                break
            except ValueError:
                last -= 1
        return f"{self.month}-01", f"{self.month}-{last:02d}"

    def file_stem(self) -> str:
        who = self.person.personnel_number or f"person{self.person.id}"
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in who)
        stem = f"statement-{self.month}-{safe}"
        if self.vehicle is not None:
            stem += f"-vehicle{self.vehicle.id}"
        return stem


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _kwh(value: Decimal | None) -> Decimal | None:
    return None if value is None else value / _KWH


def build(
    ledger: Ledger,
    person_id: int,
    month: str,
    *,
    vehicle_id: int | None = None,
    now: datetime | None = None,
    home_zone: str = "UTC",
) -> StatementDocument:
    """``vehicle_id`` given: only that vehicle's sessions; None: all of the person's.

    ``home_zone``: the time zone of an empty statement's texts (rows bring their own).
    """
    statement = ledger.statement(person_id, month)
    return from_statement(
        ledger,
        statement,
        vehicle_id=vehicle_id,
        by_vehicle=vehicle_id is not None,
        now=now,
        home_zone=home_zone,
    )


def from_statement(
    ledger: Ledger,
    statement: Statement,
    *,
    vehicle_id: int | None = None,
    by_vehicle: bool = False,
    now: datetime | None = None,
    home_zone: str = "UTC",
) -> StatementDocument:
    """``by_vehicle``: only the rows of ``vehicle_id`` (which may be None: no vehicle)."""
    vehicles = {vehicle.id: vehicle for vehicle in ledger.vehicles()}
    rows: list[DocumentRow] = []
    meter_serials: set[str] = set()
    selected = [r for r in statement.rows if not by_vehicle or r.vehicle_id == vehicle_id]
    for row in selected:
        zone = ZoneInfo(row.time_zone)
        detail = ledger.session(row.session_id)
        meter_serial = ""
        if detail is not None:
            meter = detail.record.get("meter") or {}
            meter_serial = str(meter.get("serial") or "")
        if meter_serial:
            meter_serials.add(meter_serial)
        vehicle = vehicles.get(row.vehicle_id) if row.vehicle_id is not None else None
        amount = row.pricing.amount
        if amount is not None and row.pricing.direction == "bill":
            amount = -amount
        part = None
        if row.part is not None:
            part = RowPartView(
                index=row.part.index,
                count=row.part.count,
                method=row.part.method,
                session_start=_local(row.part.session_started_at, zone),
                session_end=_local(row.part.session_ended_at, zone),
                session_energy_kwh=row.part.session_energy_wh / _KWH,
            )
        rows.append(
            DocumentRow(
                session_id=row.session_id,
                vehicle=_vehicle_name(vehicle),
                charger_serial=row.charger_serial or "",
                meter_serial=meter_serial,
                start=_local(row.started_at, zone),
                end=_local(row.ended_at, zone),
                register_start_kwh=_kwh(row.meter_start_wh),
                register_end_kwh=_kwh(row.meter_end_wh),
                energy_kwh=row.energy_wh / _KWH,
                price_per_kwh=row.pricing.price_per_kwh,
                amount=amount,
                currency=row.pricing.currency or "",
                evidence_class=row.evidence_class,
                basis=row.pricing.basis or "",
                excluded=row.excluded,
                exclusion_reason=row.exclusion_reason or "",
                problem=row.pricing.problem or "",
                source=row.pricing.source or "",
                part=part,
            )
        )
    counted = [row for row in rows if not row.excluded]
    amount = sum((row.amount for row in counted if row.amount is not None), Decimal(0))
    energy = sum((row.energy_kwh for row in counted), Decimal(0))
    currencies = sorted({row.currency for row in counted if row.currency})
    bases: dict[str, str] = {}
    for source_row, doc_row in zip(selected, rows, strict=True):
        if not doc_row.excluded and source_row.pricing.basis:
            bases.setdefault(source_row.pricing.basis, source_row.pricing.source or "")
    warnings = list(statement.warnings)
    notices = list(statement.notices)
    unpriced = sum(1 for row in counted if row.amount is None)
    if unpriced:
        warnings.append(f"{unpriced} session(s) could not be priced")
        notices.append(("notice_unpriced", {"count": unpriced}))
    vehicle = vehicles.get(vehicle_id) if vehicle_id is not None else None
    vehicle_names = sorted({row.vehicle for row in rows if row.vehicle})
    if vehicle is not None:
        vehicle_names = [_vehicle_name(vehicle)]
    content = {
        "person": statement.person.as_json(),
        "month": statement.month,
        "vehicle_id": vehicle_id if by_vehicle else "all",
        "rows": [row.content() for row in rows],
        "energy_kwh": format(energy, "f"),
        "amount": format(amount, "f"),
        "currency": currencies,
        "bases": sorted(bases.items()),
    }
    digest = hashlib.sha256(canonical_json(content)).hexdigest()
    return StatementDocument(
        person=statement.person,
        month=statement.month,
        vehicle=vehicle,
        vehicles=vehicle_names,
        charger_serials=sorted({row.charger_serial for row in rows if row.charger_serial}),
        meter_serials=sorted(meter_serials),
        rows=rows,
        session_count=len(counted),
        energy_kwh=energy,
        amount=amount,
        currency=currencies[0] if len(currencies) == 1 else "/".join(currencies),
        bases=sorted(bases.items()),
        warnings=warnings,
        generated_at=(now or datetime.now(UTC)).replace(microsecond=0),
        content_hash=digest,
        notices=notices,
        time_zone=selected[0].time_zone if selected else home_zone,
        vehicle_scope=("none" if vehicle_id is None else str(vehicle_id)) if by_vehicle else "all",
    )


def _vehicle_name(vehicle: Vehicle | None) -> str:
    if vehicle is None:
        return ""
    return f"{vehicle.name} ({vehicle.plate})" if vehicle.plate else vehicle.name


def _local(text: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(zone)


def build_scoped(
    ledger: Ledger, person_id: int, month: str, scope: str, *, home_zone: str = "UTC"
) -> StatementDocument:
    """The statement as :attr:`StatementDocument.vehicle_scope` names it: ``all``, ``none``
    (only sessions without a vehicle) or a vehicle id."""
    if scope == "all":
        return build(ledger, person_id, month, home_zone=home_zone)
    vehicle_id = None if scope == "none" else int(scope)
    return from_statement(
        ledger,
        ledger.statement(person_id, month),
        vehicle_id=vehicle_id,
        by_vehicle=True,
        home_zone=home_zone,
    )


def statements_of_month(
    ledger: Ledger, month: str, *, home_zone: str = "UTC"
) -> list[StatementDocument]:
    """Every person's statement of a month, one per vehicle they charged (for delivery)."""
    documents: list[StatementDocument] = []
    now = datetime.now(UTC)
    for person in ledger.people():
        statement = ledger.statement(person.id, month)
        if not statement.rows:
            continue
        vehicle_ids = sorted(
            {row.vehicle_id for row in statement.rows}, key=lambda v: (v is None, v or 0)
        )
        for vehicle_id in vehicle_ids:
            documents.append(
                from_statement(
                    ledger,
                    statement,
                    vehicle_id=vehicle_id,
                    by_vehicle=True,
                    now=now,
                    home_zone=home_zone,
                )
            )
    return documents
