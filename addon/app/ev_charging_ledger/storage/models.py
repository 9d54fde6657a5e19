"""Value objects the :class:`~ev_charging_ledger.storage.Ledger` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ev_charging_ledger.rates import Pricing


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


@dataclass(frozen=True, slots=True)
class AppendResult:
    stored: int
    duplicates: int
    rejected: list[tuple[str, str]]
    last_seq: int


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    personnel_number: str | None
    ha_user_id: str | None
    cost_centre_id: int | None
    country: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "personnel_number": self.personnel_number,
            "ha_user_id": self.ha_user_id,
            "cost_centre_id": self.cost_centre_id,
            "country": self.country,
        }


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: int
    name: str
    plate: str | None
    person_id: int | None
    company_car: bool
    cost_centre_id: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "plate": self.plate,
            "person_id": self.person_id,
            "company_car": self.company_car,
            "cost_centre_id": self.cost_centre_id,
        }


@dataclass(frozen=True, slots=True)
class SessionFilter:
    person_id: int | None = None
    vehicle_id: int | None = None
    charger_serial: str | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None
    # Manual sessions entered by a non-admin that no administrator has included yet.
    awaiting_approval: bool = False


@dataclass(frozen=True, slots=True)
class SessionSummary:
    entry_no: int
    session_id: str
    source: str
    started_at: str
    ended_at: str
    time_zone: str
    person_id: int | None
    vehicle_id: int | None
    charger_serial: str | None
    energy_wh: Decimal
    cost_total: Decimal | None
    currency: str | None
    evidence_class: str

    def as_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "source": self.source,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "time_zone": self.time_zone,
            "person_id": self.person_id,
            "vehicle_id": self.vehicle_id,
            "charger_serial": self.charger_serial,
            "energy_wh": str(self.energy_wh),
            "cost_total": None if self.cost_total is None else str(self.cost_total),
            "currency": self.currency,
            "evidence_class": self.evidence_class,
        }


@dataclass(frozen=True, slots=True)
class SessionPage:
    items: list[SessionSummary]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Adjustment:
    entry_no: int
    session_id: str
    kind: str
    created_at: str
    author: str
    reason: str
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "entry_no": self.entry_no,
            "session_id": self.session_id,
            "kind": self.kind,
            "created_at": self.created_at,
            "author": self.author,
            "reason": self.reason,
            "data": self.data,
        }


AWAITING_APPROVAL = "entered by the driver, awaiting an administrator's approval"


@dataclass(slots=True)
class EffectiveState:
    """A session after its adjustments, in entry order.

    A manual session entered by a non-admin starts excluded (:data:`AWAITING_APPROVAL`)
    until an administrator's ``include`` adjustment approves it.
    """

    person_id: int | None
    vehicle_id: int | None
    energy_wh: Decimal
    excluded: bool = False
    exclusion_reason: str | None = None

    @classmethod
    def initial(
        cls, person_id: int | None, vehicle_id: int | None, energy_wh: Decimal, approval: Any
    ) -> EffectiveState:
        """The state as stored; ``approval`` is the manual record's (None for others)."""
        if approval == "pending":
            return cls(person_id, vehicle_id, energy_wh, True, AWAITING_APPROVAL)
        return cls(person_id, vehicle_id, energy_wh)

    def apply(self, adjustment: Adjustment) -> None:
        data = adjustment.data
        if adjustment.kind == "exclude":
            self.excluded, self.exclusion_reason = True, adjustment.reason
        elif adjustment.kind == "include":
            self.excluded, self.exclusion_reason = False, None
        elif adjustment.kind == "correct_energy":
            self.energy_wh = Decimal(str(data["energy_wh"]))
        elif adjustment.kind == "reassign":
            self.person_id = data.get("person_id")
            self.vehicle_id = data.get("vehicle_id")

    def as_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "vehicle_id": self.vehicle_id,
            "energy_wh": str(self.energy_wh),
            "excluded": self.excluded,
            "exclusion_reason": self.exclusion_reason,
        }


@dataclass(frozen=True, slots=True)
class SessionDetail:
    summary: SessionSummary
    record: dict[str, Any]
    evidence: dict[str, Any]
    received_at: str
    adjustments: list[Adjustment]
    state: EffectiveState
    pricing: Pricing
    entry_hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            **self.summary.as_json(),
            "record": self.record,
            "evidence": self.evidence,
            "received_at": self.received_at,
            "adjustments": [adjustment.as_json() for adjustment in self.adjustments],
            "effective": self.state.as_json(),
            "pricing": self.pricing.as_json(),
            "entry_hash": self.entry_hash,
        }


@dataclass(frozen=True, slots=True)
class RowPart:
    """Where a statement row sits in a session that crosses a month boundary."""

    index: int  # 0-based
    count: int
    method: str  # "reading" or "interpolated": how the boundary energy was found
    session_started_at: str
    session_ended_at: str
    session_energy_wh: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "count": self.count,
            "method": self.method,
            "session_started_at": self.session_started_at,
            "session_ended_at": self.session_ended_at,
            "session_energy_wh": str(self.session_energy_wh),
        }


@dataclass(frozen=True, slots=True)
class StatementRow:
    session_id: str
    started_at: str
    ended_at: str
    time_zone: str
    vehicle_id: int | None
    charger_serial: str | None
    meter_start_wh: Decimal | None
    meter_end_wh: Decimal | None
    energy_wh: Decimal
    evidence_class: str
    pricing: Pricing
    excluded: bool
    exclusion_reason: str | None
    # Set when the session crosses a month boundary: this row is its part in the month.
    part: RowPart | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "session_id": self.session_id,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "time_zone": self.time_zone,
            "vehicle_id": self.vehicle_id,
            "charger_serial": self.charger_serial,
            "meter_start_wh": _text(self.meter_start_wh),
            "meter_end_wh": _text(self.meter_end_wh),
            "energy_wh": str(self.energy_wh),
            "evidence_class": self.evidence_class,
            "pricing": self.pricing.as_json(),
            "excluded": self.excluded,
            "exclusion_reason": self.exclusion_reason,
        }
        if self.part is not None:
            out["part"] = self.part.as_json()
        return out


@dataclass(frozen=True, slots=True)
class Statement:
    person: Person
    month: str
    rows: list[StatementRow]
    session_count: int
    energy_wh: Decimal
    amount: Decimal
    currency: str | None
    bases: list[str]
    unpriced: int
    warnings: list[str] = field(default_factory=list)
    # Recorded gaps in Home Assistant's sequence whose window overlaps the month: the
    # statement may be missing sessions, and says so.
    gaps: list[dict[str, Any]] = field(default_factory=list)
    # ``warnings`` as (text key, values) for the reader's language; not in the API.
    notices: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "person": self.person.as_json(),
            "month": self.month,
            "session_count": self.session_count,
            "energy_wh": str(self.energy_wh),
            "amount": str(self.amount),
            "currency": self.currency,
            "price_bases": self.bases,
            "unpriced_sessions": self.unpriced,
            "warnings": self.warnings,
            "gaps": self.gaps,
            "rows": [row.as_json() for row in self.rows],
        }


@dataclass(frozen=True, slots=True)
class MonthTotal:
    month: str
    session_count: int
    energy_wh: Decimal
    amount: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "session_count": self.session_count,
            "energy_wh": str(self.energy_wh),
            "amount": str(self.amount),
        }
