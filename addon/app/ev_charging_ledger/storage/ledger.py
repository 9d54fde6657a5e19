"""The ledger: an append-only, hash-chained SQLite store of charging sessions.

:class:`Ledger` is the one object the service, the API, the UI and the reports hold.
It owns the connection and delegates to one module per responsibility:

- :mod:`.sessions`: appending records (idempotent on id) and reading session rows
- :mod:`.adjustments`: corrections, exclusions, reassignments
- :mod:`.directory`: people, vehicles, cost centres, credentials
- :mod:`.rates`: rates and official flat prices
- :mod:`.statements`: effective sessions, monthly statements and totals
- :mod:`.activity`: dashboard aggregates
- :mod:`.integrity`: chain verification; :mod:`.retention`: retention and legal hold

All methods are thread-safe (one connection behind a lock), so async code calls them
through ``asyncio.to_thread``. Money is ``Decimal`` throughout and decimal text in
SQLite; nothing goes through float.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ev_charging_ledger.rates import FlatPrice, Rate

from . import (
    activity,
    adjustments,
    checkpoints,
    directory,
    integrity,
    manual,
    rates,
    retention,
    schema,
    sessions,
)
from . import statements as statement_store
from .chain import ChainReport
from .db import Database, LedgerError, NotFoundError
from .models import (
    Adjustment,
    AppendResult,
    MonthTotal,
    Person,
    SessionDetail,
    SessionFilter,
    SessionPage,
    Statement,
    Vehicle,
)

ADJUSTMENT_KINDS = adjustments.ADJUSTMENT_KINDS
DEFAULT_RETENTION_YEARS = retention.DEFAULT_RETENTION_YEARS

__all__ = ["ADJUSTMENT_KINDS", "Ledger", "LedgerError", "NotFoundError"]


class Ledger:
    """The ledger database (see the module docstring)."""

    def __init__(self, path: Path | str) -> None:
        self.db = Database(path)
        self.path = self.db.path
        checkpoints.ensure_started(self.db)

    @property
    def _db(self) -> sqlite3.Connection:
        # The raw connection, for tests that tamper with rows and for benchmarks.
        return self.db.conn

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ ingestion

    def last_seq(self) -> int:
        """The highest Home Assistant ``seq`` the ledger has durably processed."""
        return sessions.last_seq(self.db)

    def record_restore(self, ledger_seq: int, acknowledged_seq: int) -> None:
        """Chain a detected restore: Home Assistant saw more acknowledged than is here."""
        checkpoints.record_restore(self.db, ledger_seq, acknowledged_seq)

    def record_rebase(self, ledger_seq: int, ha_last_seq: int, acknowledged_seq: int) -> None:
        """Continue from Home Assistant's (older) position after it was restored; chained."""
        checkpoints.record_rebase(self.db, ledger_seq, ha_last_seq, acknowledged_seq)

    def gaps(self) -> list[checkpoints.Gap]:
        """Recorded gaps in Home Assistant's sequence, oldest first."""
        return checkpoints.gaps(self.db)

    def append_sessions(
        self, records: Iterable[Any], *, source: str = "ha", received_at: datetime | None = None
    ) -> AppendResult:
        """Store records not stored yet, in one durable transaction (see sessions.append)."""
        return sessions.append(self.db, records, source=source, received_at=received_at)

    def add_manual_session(
        self,
        *,
        author: str,
        started_at: datetime,
        ended_at: datetime,
        energy_wh: Decimal,
        cost_total: Decimal | None,
        currency: str,
        time_zone: str,
        person_id: int | None,
        vehicle_id: int | None,
        location: str,
        note: str | None = None,
        pending_approval: bool = False,
    ) -> str:
        """Record an external session (public charging) entered by a user.

        ``pending_approval``: entered by a non-admin, so it reaches no statement (and no
        payroll) until an administrator approves it with an ``include`` adjustment.
        """
        record = manual.manual_record(
            author=author,
            started_at=started_at,
            ended_at=ended_at,
            energy_wh=energy_wh,
            cost_total=cost_total,
            currency=currency,
            time_zone=time_zone,
            person_id=person_id,
            vehicle_id=vehicle_id,
            location=location,
            note=note,
        )
        if pending_approval:
            record["manual"]["approval"] = "pending"  # chained with the record itself
        directory.check_people(self.db, person_id, vehicle_id)
        result = self.append_sessions([record], source="manual")
        if result.rejected:
            raise LedgerError(result.rejected[0][1])
        return str(record["id"])

    # ---------------------------------------------------------------- adjustments

    def add_adjustment(
        self,
        session_id: str,
        kind: str,
        *,
        reason: str,
        author: str,
        data: dict[str, Any] | None = None,
    ) -> Adjustment:
        """Correct, exclude, re-include or reassign a session without editing it."""
        return adjustments.add_adjustment(
            self.db, session_id, kind, reason=reason, author=author, data=data
        )

    def adjustments(self, session_ids: list[str]) -> dict[str, list[Adjustment]]:
        return adjustments.adjustments(self.db, session_ids)

    # ---------------------------------------------------------------- master data

    def add_cost_centre(self, code: str, name: str) -> int:
        return directory.add_cost_centre(self.db, code, name)

    def cost_centres(self) -> list[dict[str, Any]]:
        return directory.cost_centres(self.db)

    def add_person(
        self,
        name: str,
        *,
        personnel_number: str | None = None,
        ha_user_id: str | None = None,
        cost_centre_id: int | None = None,
        country: str = "DE",
    ) -> Person:
        return directory.add_person(
            self.db,
            name,
            personnel_number=personnel_number,
            ha_user_id=ha_user_id,
            cost_centre_id=cost_centre_id,
            country=country,
        )

    def people(self) -> list[Person]:
        return directory.people(self.db)

    def person(self, person_id: int) -> Person | None:
        return directory.person(self.db, person_id)

    def person_for_user(self, ha_user_id: str) -> Person | None:
        return directory.person_for_user(self.db, ha_user_id)

    def add_vehicle(
        self,
        name: str,
        *,
        plate: str | None = None,
        person_id: int | None = None,
        company_car: bool = True,
        cost_centre_id: int | None = None,
    ) -> Vehicle:
        return directory.add_vehicle(
            self.db,
            name,
            plate=plate,
            person_id=person_id,
            company_car=company_car,
            cost_centre_id=cost_centre_id,
        )

    def vehicles(self) -> list[Vehicle]:
        return directory.vehicles(self.db)

    def vehicle(self, vehicle_id: int) -> Vehicle | None:
        return directory.vehicle(self.db, vehicle_id)

    def set_credential(
        self,
        tag_hash: str,
        *,
        person_id: int | None,
        vehicle_id: int | None = None,
        label: str | None = None,
    ) -> None:
        """Link an RFID/NFC credential (by its keyed hash) to a person and vehicle."""
        directory.set_credential(
            self.db, tag_hash, person_id=person_id, vehicle_id=vehicle_id, label=label
        )

    def credentials(self) -> list[dict[str, Any]]:
        return directory.credentials(self.db)

    # ---------------------------------------------------------------------- rates

    def add_rate(
        self,
        *,
        person_id: int | None,
        vehicle_id: int | None,
        valid_from: date,
        valid_to: date | None,
        direction: str,
        basis: str,
        price_per_kwh: Decimal | None,
        currency: str,
        note: str | None = None,
    ) -> tuple[Rate, list[str]]:
        """Add a rate; returns it with warnings (e.g. a price basis change mid-year)."""
        return rates.add_rate(
            self.db,
            person_id=person_id,
            vehicle_id=vehicle_id,
            valid_from=valid_from,
            valid_to=valid_to,
            direction=direction,
            basis=basis,
            price_per_kwh=price_per_kwh,
            currency=currency,
            note=note,
        )

    def rates(self, person_id: int | None = None) -> list[Rate]:
        return rates.rates(self.db, person_id)

    def add_flat_price(
        self, year: int, country: str, price_per_kwh: Decimal, currency: str, source: str
    ) -> FlatPrice:
        return rates.add_flat_price(self.db, year, country, price_per_kwh, currency, source)

    def flat_prices(self) -> list[FlatPrice]:
        return rates.flat_prices(self.db)

    # -------------------------------------------------------------------- queries

    def sessions(
        self, where: SessionFilter, *, limit: int = 50, cursor: str | None = None
    ) -> SessionPage:
        """Sessions newest first; ``cursor`` is the previous page's ``next_cursor``."""
        return sessions.page(self.db, where, limit=limit, cursor=cursor)

    def session_rows(
        self, where: SessionFilter, columns: tuple[str, ...], *, page_size: int = 5000
    ) -> Iterator[tuple[Any, ...]]:
        """Raw column values of the matching sessions, newest first, in keyset pages."""
        return sessions.rows(self.db, where, columns, page_size=page_size)

    def session(self, session_id: str) -> SessionDetail | None:
        return statement_store.session_detail(self.db, session_id)

    def statement(self, person_id: int, month: str) -> Statement:
        """The monthly statement of one person (effective attribution, adjustments applied)."""
        return statement_store.statement(self.db, person_id, month)

    def monthly_totals(self, person_id: int, year: int) -> list[MonthTotal]:
        """Totals per month of one year (months without sessions are left out)."""
        return statement_store.monthly_totals(self.db, person_id, year)

    def counts(self) -> dict[str, int]:
        return sessions.counts(self.db)

    # Dashboard aggregates (stored attribution), shared by the UI and the API.

    def chargers(self) -> list[str]:
        return activity.chargers(self.db)

    def people_with_sessions(self, month: str, since: datetime) -> list[int]:
        return activity.people_with_sessions(self.db, month, since)

    def month_totals(
        self, since: datetime, *, person_id: int | None = None, scoped: bool = False
    ) -> dict[str, tuple[int, float, float]]:
        return activity.month_totals(self.db, since, person_id=person_id, scoped=scoped)

    def unattributed(self, since: datetime, month: str) -> int:
        return activity.unattributed(self.db, since, month)

    def currencies(self, since: datetime) -> list[str]:
        return activity.currencies(self.db, since)

    def start_times(
        self, since: datetime, *, person_id: int | None = None, scoped: bool = False
    ) -> list[tuple[str, str]]:
        return activity.start_times(self.db, since, person_id=person_id, scoped=scoped)

    def charger_usage(
        self, since: datetime, *, person_id: int | None = None, scoped: bool = False
    ) -> list[tuple[str | None, int, float, float, int]]:
        return activity.charger_usage(self.db, since, person_id=person_id, scoped=scoped)

    # ---------------------------------------------------- integrity and retention

    def verify(self) -> ChainReport:
        """Walk both chains; the report names the first bad entry."""
        return integrity.verify(self.db)

    def retention_years(self) -> int:
        return retention.retention_years(self.db)

    def set_retention_years(self, years: int) -> None:
        retention.set_retention_years(self.db, years)

    def legal_hold(self) -> dict[str, Any] | None:
        return retention.legal_hold(self.db)

    def set_legal_hold(self, *, active: bool, author: str, reason: str) -> None:
        retention.set_legal_hold(self.db, active=active, author=author, reason=reason)

    def purge_expired(self, today: date) -> int:
        """Delete sessions whose retention has ended; refused under a legal hold."""
        return retention.purge_expired(self.db, today)

    def status(self) -> dict[str, Any]:
        with self.db.lock:
            return {
                **self.counts(),
                "last_seq": self.last_seq(),
                "schema_version": schema.SCHEMA_VERSION,
                "retention_years": self.retention_years(),
                "legal_hold": self.legal_hold(),
                "last_verified_ok": self.db.meta("verify.last_ok"),
                "gaps": [gap.as_json() for gap in checkpoints.gaps(self.db)],
                "restores": checkpoints.restores(self.db),
                # Noting the tips elsewhere now and then makes cutting off the newest
                # entries detectable too, which a chain alone cannot show.
                "chain_tips": {
                    table: {"entry_no": tip[0], "hash": tip[1]}
                    for table in ("sessions", "adjustments", "checkpoints")
                    for tip in [self.db.tip(table)]
                },
            }
