"""The dashboard's figures: one set of sessions for the tiles and the charts.

The tiles of the current month are the last bar of each chart (the same query over the
same sessions: every session in scope, with or without a person), so they cannot
contradict each other. The reimbursement comes from the statements, which only sessions
with a person have; the tile says so, and a hint links to assigning the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ev_charging_ledger.storage import Ledger

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "de": ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"),
}
HISTORY_MONTHS = 12


def shift_month(month: str, delta: int) -> str:
    """``2026-01`` shifted by -1 is ``2025-12``."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_start(month: str, zone: ZoneInfo) -> datetime:
    """Local midnight of the month's first day."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=zone)


def month_label(month: str, lang: str, *, with_year: bool = False) -> str:
    """``Mar`` or ``Mar 2026`` (``Mär 2026`` in German)."""
    year, number = (int(part) for part in month.split("-"))
    name = MONTHS.get(lang, MONTHS["en"])[number - 1]
    return f"{name} {year}" if with_year else name


@dataclass(frozen=True, slots=True)
class ChargerUse:
    serial: str | None
    sessions: int
    energy_wh: Decimal
    utilisation: float  # share of the last 30 days with a car plugged in
    availability: float  # share of sessions that did not end in a fault


@dataclass(frozen=True, slots=True)
class Dashboard:
    month: str
    months: list[str]  # the last twelve local months, oldest first
    sessions: list[int]  # per month
    energy_kwh: list[float]  # per month
    cost: list[float]  # tariff cost per month
    currency: str
    reimbursement: Decimal  # this month, from the statements of the people in scope
    reimbursed_sessions: int
    reimbursement_currency: str
    unattributed: int  # this month's sessions without a person (admins only)
    heat: list[list[int]]
    chargers: list[ChargerUse]

    @property
    def month_sessions(self) -> int:
        return self.sessions[-1]

    @property
    def month_energy_kwh(self) -> float:
        return self.energy_kwh[-1]

    @property
    def month_cost(self) -> float:
        return self.cost[-1]


def build(
    ledger: Ledger, person_id: int | None, scoped: bool, zone: ZoneInfo, now: datetime
) -> Dashboard:
    """Everything the dashboard shows, for an administrator (all sessions) or one person."""
    month = f"{now.astimezone(zone):%Y-%m}"
    first = shift_month(month, -(HISTORY_MONTHS - 1))
    # A day earlier than the first local midnight: the index scan must not cut a session
    # whose UTC start lies before it; the month column decides.
    since = month_start(first, zone).astimezone(UTC) - timedelta(days=1)
    scope_person = person_id if scoped else None
    by_month = {
        key: value
        for key, value in ledger.month_totals(since, person_id=scope_person, scoped=scoped).items()
        if key >= first
    }
    months = [shift_month(first, offset) for offset in range(HISTORY_MONTHS)]
    empty = (0, 0.0, 0.0)

    month_since = month_start(month, zone).astimezone(UTC) - timedelta(days=1)
    if scoped:
        people = [] if person_id is None else [person_id]
    else:
        people = ledger.people_with_sessions(month, month_since)
    amount, reimbursed, currencies = Decimal(0), 0, set()
    for pid in people:
        statement = ledger.statement(pid, month)
        amount += statement.amount
        reimbursed += statement.session_count
        if statement.currency:
            currencies.add(statement.currency)
    tariff_currencies = ledger.currencies(since)

    heat = [[0] * 24 for _ in range(7)]
    zones: dict[str, ZoneInfo] = {}
    for started, zone_name in ledger.start_times(
        now - timedelta(days=90), person_id=scope_person, scoped=scoped
    ):
        tz = zones.get(zone_name) or zones.setdefault(zone_name, ZoneInfo(zone_name))
        local = datetime.fromisoformat(started.replace("Z", "+00:00")).astimezone(tz)
        heat[local.weekday()][local.hour] += 1

    chargers = [
        ChargerUse(
            serial=serial,
            sessions=count,
            energy_wh=Decimal(str(energy)),
            utilisation=min(seconds / (30 * 86400), 1.0),
            availability=1 - faults / count if count else 1.0,
        )
        for serial, count, seconds, energy, faults in ledger.charger_usage(
            now - timedelta(days=30), person_id=scope_person, scoped=scoped
        )
    ]
    return Dashboard(
        month=month,
        months=months,
        sessions=[by_month.get(m, empty)[0] for m in months],
        energy_kwh=[by_month.get(m, empty)[1] / 1000 for m in months],
        cost=[by_month.get(m, empty)[2] for m in months],
        currency="/".join(tariff_currencies) or "EUR",
        reimbursement=amount,
        reimbursed_sessions=reimbursed,
        reimbursement_currency="/".join(sorted(currencies)) or "EUR",
        unattributed=0 if scoped else ledger.unattributed(month_since, month),
        heat=heat,
        chargers=chargers,
    )
