"""The ledger: an append-only, hash-chained SQLite store of charging sessions.

Python API (used by the ingestion, the JSON API, the web UI and the reports)::

    ledger = Ledger(Path("/data/ledger.sqlite3"))

    # ingestion (idempotent on the record id; one durable transaction per call)
    result = ledger.append_sessions(records)       # -> AppendResult
    ledger.last_seq()                               # highest HA seq stored

    # master data
    ledger.add_person(name=..., ha_user_id=..., personnel_number=...)   -> Person
    ledger.add_vehicle(...), ledger.add_cost_centre(...), ledger.set_credential(...)
    ledger.add_rate(...) -> (Rate, warnings); ledger.add_flat_price(...)
    ledger.people(), ledger.person(id), ledger.person_for_user(ha_user_id), ...

    # queries
    ledger.sessions(SessionFilter(person_id=..., month="2026-03"), limit=50, cursor=None)
        -> SessionPage (newest first; keyset pagination with ``page.next_cursor``)
    ledger.session(session_id) -> SessionDetail | None  (record, evidence, adjustments,
        effective state, pricing)
    ledger.statement(person_id, "2026-03") -> Statement  (rows, totals, price basis)
    ledger.monthly_totals(person_id, 2026) -> list[MonthTotal]
    ledger.session_rows(SessionFilter(...), columns) -> iterator of raw row tuples, newest
        first, fetched in keyset pages (streamed exports of any size)
    ledger.query("SELECT ...", params) -> list of rows (read-only aggregates for the UI)

    # corrections, manual sessions, integrity, retention
    ledger.add_adjustment(session_id, kind, reason=..., author=..., data=...)
    ledger.add_manual_session(...)  (public charging entered by a user)
    ledger.verify() -> ChainReport
    ledger.set_legal_hold(...), ledger.purge_expired(today)

All methods are thread-safe (one connection behind a lock), so async code calls them
through ``asyncio.to_thread``. Money is ``Decimal`` throughout and decimal text in
SQLite; nothing goes through float.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ev_charging_ledger import evidence
from ev_charging_ledger.rates import (
    BASES,
    DIRECTIONS,
    FlatPrice,
    Pricing,
    Rate,
    applicable_rate,
    basis_warnings,
    price_session,
)
from ev_charging_ledger.records import (
    RecordError,
    SessionFacts,
    canonical_json,
    decimal_text,
    iso_utc,
    parse_decimal,
    session_facts,
)

from . import schema
from .chain import ChainProblem, ChainReport, entry_hash, walk
from .models import (
    Adjustment,
    AppendResult,
    EffectiveState,
    MonthTotal,
    Person,
    SessionDetail,
    SessionFilter,
    SessionPage,
    SessionSummary,
    Statement,
    StatementRow,
    Vehicle,
)

ADJUSTMENT_KINDS = ("exclude", "include", "correct_energy", "reassign", "note")
DEFAULT_RETENTION_YEARS = 10
_SESSION_COLUMNS = (
    "session_id",
    "source",
    "ha_seq",
    "started_at",
    "ended_at",
    "local_month",
    "time_zone",
    "person_id",
    "vehicle_id",
    "charger_serial",
    "meter_start_wh",
    "meter_end_wh",
    "energy_wh",
    "cost_total",
    "currency",
    "evidence_class",
)
_ADJUSTMENT_COLUMNS = ("session_id", "kind", "created_at", "author", "reason")
_INSERT_SESSION = (
    f"INSERT INTO sessions (entry_no, {', '.join(_SESSION_COLUMNS)}, body, prev_hash, hash) "
    f"VALUES ({', '.join('?' * (len(_SESSION_COLUMNS) + 4))})"
)


class LedgerError(ValueError):
    """A request the ledger refuses (unknown session, bad adjustment, legal hold...)."""


class NotFoundError(LedgerError):
    """The thing asked for does not exist."""


def _now() -> datetime:
    return datetime.now(UTC)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def _session_columns(envelope: dict[str, Any]) -> tuple[Any, ...]:
    """The derived column values of a session row, computed from its chained body."""
    facts = session_facts(envelope["record"], require_seq=envelope["source"] == "ha")
    return _columns_from_facts(facts, envelope)


def _adjustment_columns(envelope: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(envelope[name] for name in _ADJUSTMENT_COLUMNS)


def _month_bounds(month: str) -> tuple[int, int]:
    try:
        parsed = datetime.strptime(month, "%Y-%m")
    except ValueError as err:
        raise LedgerError(f"month must be YYYY-MM, not {month!r}") from err
    return parsed.year, parsed.month


class Ledger:
    """The ledger database. See the module docstring for the API."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30
        )
        # WAL lets readers run during a write; synchronous=FULL makes each commit
        # durable before we acknowledge it to Home Assistant.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        schema.migrate(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _tip(self, table: str) -> tuple[int, str]:
        row = self._db.execute(
            f"SELECT entry_no, hash FROM {table} ORDER BY entry_no DESC LIMIT 1"
        ).fetchone()
        if row is not None:
            return int(row[0]), str(row[1])
        anchor = self._anchor(table)
        return anchor if anchor is not None else (0, schema.GENESIS_HASH)

    def _anchor(self, table: str) -> tuple[int, str] | None:
        text = self._meta(f"anchor.{table}")
        if text is None:
            return None
        data = json.loads(text)
        return int(data["entry_no"]), str(data["hash"])

    # ----------------------------------------------------------------- ingestion

    def last_seq(self) -> int:
        """The highest Home Assistant ``seq`` the ledger has durably processed."""
        with self._lock:
            return int(self._meta("ingest.last_seq") or 0)

    def append_sessions(
        self, records: Iterable[Any], *, source: str = "ha", received_at: datetime | None = None
    ) -> AppendResult:
        """Store records not stored yet, in one durable transaction.

        Records whose id is already stored are skipped (idempotent delivery); invalid
        records are rejected with a reason and do not stop the others.
        """
        received = iso_utc(received_at or _now())
        batch = list(records)
        with self._transaction() as db:
            last_seq = int(self._meta("ingest.last_seq") or 0)
            ids = [record.get("id") for record in batch if isinstance(record, dict)]
            existing = self._existing_ids([i for i in ids if isinstance(i, str)])
            attribution = _Attribution(db)
            entry_no, prev_hash = self._tip("sessions")
            rows: list[tuple[Any, ...]] = []
            rejected: list[tuple[str, str]] = []
            quarantined: list[tuple[str, str, bytes]] = []
            duplicates = 0
            for record in batch:
                try:
                    facts = session_facts(record, require_seq=source == "ha")
                except RecordError as err:
                    ref = record.get("id") if isinstance(record, dict) else None
                    rejected.append((str(ref), str(err)))
                    seq = record.get("seq") if isinstance(record, dict) else None
                    if source == "ha" and type(seq) is int:
                        last_seq = max(last_seq, seq)
                    quarantined.append((received, str(err), _raw_json(record)))
                    continue
                if facts.seq is not None and source == "ha":
                    last_seq = max(last_seq, facts.seq)
                if facts.id in existing:
                    duplicates += 1
                    continue
                existing.add(facts.id)
                if source in ("manual", "import"):
                    manual = record.get("manual") or {}
                    person_id, vehicle_id = manual.get("person_id"), manual.get("vehicle_id")
                else:
                    person_id, vehicle_id = attribution.resolve(facts)
                entry_no += 1
                envelope = {
                    "n": entry_no,
                    "entry": "session",
                    "source": source,
                    "received_at": received,
                    "record": record,
                    "person_id": person_id,
                    "vehicle_id": vehicle_id,
                    "evidence": evidence.classify(facts).as_json(),
                }
                body = canonical_json(envelope)
                digest = entry_hash(prev_hash, body)
                rows.append(
                    (entry_no, *_columns_from_facts(facts, envelope), body, prev_hash, digest)
                )
                prev_hash = digest
            db.executemany(_INSERT_SESSION, rows)
            if source == "ha" and quarantined:
                db.executemany(
                    "INSERT INTO quarantine (received_at, reason, body) VALUES (?, ?, ?)",
                    quarantined,
                )
            if source == "ha":
                self._set_meta("ingest.last_seq", str(last_seq))
        return AppendResult(len(rows), duplicates, rejected, last_seq)

    def _existing_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        # SQLite limits bound parameters; 500 per query stays well below it.
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = (
                "SELECT session_id FROM sessions WHERE session_id IN "
                f"({', '.join('?' * len(chunk))})"
            )
            found.update(row[0] for row in self._db.execute(query, chunk))
        return found

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
    ) -> str:
        """Record an external session (public charging) entered by a user."""
        session_id = str(uuid.uuid4())
        record: dict[str, Any] = {
            "schema": 1,
            "id": session_id,
            "seq": None,
            "charger": {"serial": None, "name": location, "model": None, "manufacturer": None},
            "meter": {"serial": None, "model": None, "source": "external", "mid": None},
            "started_at": iso_utc(started_at),
            "ended_at": iso_utc(ended_at),
            "time_zone": time_zone,
            "meter_start_wh": None,
            "meter_end_wh": None,
            "energy_wh": decimal_text(energy_wh),
            "max_power_w": None,
            "charging_seconds": None,
            "authorization": {
                "method": "none",
                "tag_hash": None,
                "user_id": None,
                "user_name": None,
                "vehicle": None,
            },
            "cost": {
                "currency": currency,
                "total": _text(cost_total),
                "tariff": None,
                "intervals": [],
            },
            "signed_meter_values": [],
            "end_reason": "stopped",
            "flags": ["manual_external"],
            "reconciliation": None,
            "manual": {
                "entered_by": author,
                "note": note,
                "person_id": person_id,
                "vehicle_id": vehicle_id,
            },
        }
        self._check_people(person_id, vehicle_id)
        result = self.append_sessions([record], source="manual")
        if result.rejected:
            raise LedgerError(result.rejected[0][1])
        return session_id

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
        if kind not in ADJUSTMENT_KINDS:
            raise LedgerError(f"kind must be one of {', '.join(ADJUSTMENT_KINDS)}")
        if not reason.strip():
            raise LedgerError("an adjustment needs a reason")
        if not author.strip():
            raise LedgerError("an adjustment needs an author")
        payload = self._adjustment_data(kind, data or {})
        with self._transaction() as db:
            if (
                db.execute("SELECT 1 FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
                is None
            ):
                raise NotFoundError(f"no session {session_id}")
            entry_no, prev_hash = self._tip("adjustments")
            entry_no += 1
            created = iso_utc(_now())
            envelope = {
                "n": entry_no,
                "entry": "adjustment",
                "session_id": session_id,
                "kind": kind,
                "created_at": created,
                "author": author,
                "reason": reason,
                "data": payload,
            }
            body = canonical_json(envelope)
            digest = entry_hash(prev_hash, body)
            db.execute(
                f"INSERT INTO adjustments (entry_no, {', '.join(_ADJUSTMENT_COLUMNS)}, body, "
                "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry_no, session_id, kind, created, author, reason, body, prev_hash, digest),
            )
        return Adjustment(entry_no, session_id, kind, created, author, reason, payload)

    def _adjustment_data(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        if kind == "correct_energy":
            try:
                energy = parse_decimal(data.get("energy_wh"), "energy_wh")
            except RecordError as err:
                raise LedgerError(str(err)) from err
            if energy is None or energy < 0:
                raise LedgerError("energy_wh must be a non-negative number")
            return {"energy_wh": decimal_text(energy)}
        if kind == "reassign":
            person_id, vehicle_id = data.get("person_id"), data.get("vehicle_id")
            for name, value in (("person_id", person_id), ("vehicle_id", vehicle_id)):
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise LedgerError(f"{name} must be an integer or null")
            self._check_people(person_id, vehicle_id)
            return {"person_id": person_id, "vehicle_id": vehicle_id}
        return {}

    def _check_people(self, person_id: int | None, vehicle_id: int | None) -> None:
        with self._lock:
            if person_id is not None and self.person(person_id) is None:
                raise NotFoundError(f"no person {person_id}")
            if vehicle_id is not None and self.vehicle(vehicle_id) is None:
                raise NotFoundError(f"no vehicle {vehicle_id}")

    def adjustments(self, session_ids: list[str]) -> dict[str, list[Adjustment]]:
        result: dict[str, list[Adjustment]] = {}
        with self._lock:
            for start in range(0, len(session_ids), 500):
                chunk = session_ids[start : start + 500]
                query = (
                    "SELECT entry_no, session_id, kind, created_at, author, reason, body "
                    f"FROM adjustments WHERE session_id IN ({', '.join('?' * len(chunk))}) "
                    "ORDER BY entry_no"
                )
                for row in self._db.execute(query, chunk):
                    result.setdefault(row[1], []).append(
                        Adjustment(
                            entry_no=row[0],
                            session_id=row[1],
                            kind=row[2],
                            created_at=row[3],
                            author=row[4],
                            reason=row[5],
                            data=json.loads(row[6])["data"],
                        )
                    )
        return result

    # ---------------------------------------------------------------- master data

    def add_cost_centre(self, code: str, name: str) -> int:
        with self._transaction() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO cost_centres (code, name) VALUES (?, ?)", (code, name)
                )
            except sqlite3.IntegrityError as err:
                raise LedgerError(f"cost centre {code!r} exists") from err
            return int(cursor.lastrowid or 0)

    def cost_centres(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"id": row[0], "code": row[1], "name": row[2]}
                for row in self._db.execute("SELECT id, code, name FROM cost_centres ORDER BY id")
            ]

    def add_person(
        self,
        name: str,
        *,
        personnel_number: str | None = None,
        ha_user_id: str | None = None,
        cost_centre_id: int | None = None,
        country: str = "DE",
    ) -> Person:
        with self._transaction() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO people (name, personnel_number, ha_user_id, cost_centre_id, "
                    "country, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, personnel_number, ha_user_id, cost_centre_id, country, iso_utc(_now())),
                )
            except sqlite3.IntegrityError as err:
                raise LedgerError(f"cannot add person: {err}") from err
            person_id = int(cursor.lastrowid or 0)
        return Person(person_id, name, personnel_number, ha_user_id, cost_centre_id, country)

    _PERSON_SELECT = (
        "SELECT id, name, personnel_number, ha_user_id, cost_centre_id, country FROM people"
    )

    def people(self) -> list[Person]:
        with self._lock:
            return [Person(*row) for row in self._db.execute(f"{self._PERSON_SELECT} ORDER BY id")]

    def person(self, person_id: int) -> Person | None:
        with self._lock:
            row = self._db.execute(f"{self._PERSON_SELECT} WHERE id = ?", (person_id,)).fetchone()
        return None if row is None else Person(*row)

    def person_for_user(self, ha_user_id: str) -> Person | None:
        with self._lock:
            row = self._db.execute(
                f"{self._PERSON_SELECT} WHERE ha_user_id = ?", (ha_user_id,)
            ).fetchone()
        return None if row is None else Person(*row)

    def add_vehicle(
        self,
        name: str,
        *,
        plate: str | None = None,
        person_id: int | None = None,
        company_car: bool = True,
        cost_centre_id: int | None = None,
    ) -> Vehicle:
        with self._transaction() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO vehicles (name, plate, person_id, company_car, cost_centre_id, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, plate, person_id, int(company_car), cost_centre_id, iso_utc(_now())),
                )
            except sqlite3.IntegrityError as err:
                raise LedgerError(f"cannot add vehicle: {err}") from err
            vehicle_id = int(cursor.lastrowid or 0)
        return Vehicle(vehicle_id, name, plate, person_id, company_car, cost_centre_id)

    _VEHICLE_SELECT = "SELECT id, name, plate, person_id, company_car, cost_centre_id FROM vehicles"

    def vehicles(self) -> list[Vehicle]:
        with self._lock:
            rows = self._db.execute(f"{self._VEHICLE_SELECT} ORDER BY id").fetchall()
        return [Vehicle(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

    def vehicle(self, vehicle_id: int) -> Vehicle | None:
        with self._lock:
            r = self._db.execute(f"{self._VEHICLE_SELECT} WHERE id = ?", (vehicle_id,)).fetchone()
        return None if r is None else Vehicle(r[0], r[1], r[2], r[3], bool(r[4]), r[5])

    def set_credential(
        self,
        tag_hash: str,
        *,
        person_id: int | None,
        vehicle_id: int | None = None,
        label: str | None = None,
    ) -> None:
        """Link an RFID/NFC credential (by its keyed hash) to a person and vehicle."""
        self._check_people(person_id, vehicle_id)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO credentials (tag_hash, person_id, vehicle_id, label) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(tag_hash) DO UPDATE SET "
                "person_id = excluded.person_id, vehicle_id = excluded.vehicle_id, "
                "label = excluded.label",
                (tag_hash, person_id, vehicle_id, label),
            )

    def credentials(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"tag_hash": r[0], "person_id": r[1], "vehicle_id": r[2], "label": r[3]}
                for r in self._db.execute(
                    "SELECT tag_hash, person_id, vehicle_id, label FROM credentials "
                    "ORDER BY tag_hash"
                )
            ]

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
        if direction not in DIRECTIONS:
            raise LedgerError(f"direction must be one of {', '.join(DIRECTIONS)}")
        if basis not in BASES:
            raise LedgerError(f"basis must be one of {', '.join(BASES)}")
        if basis == "fixed_price" and (price_per_kwh is None or price_per_kwh < 0):
            raise LedgerError("a fixed_price rate needs a non-negative price_per_kwh")
        if valid_to is not None and valid_to < valid_from:
            raise LedgerError("valid_to is before valid_from")
        self._check_people(person_id, vehicle_id)
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO rates (person_id, vehicle_id, valid_from, valid_to, direction, "
                "basis, price_per_kwh, currency, note, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    person_id,
                    vehicle_id,
                    valid_from.isoformat(),
                    None if valid_to is None else valid_to.isoformat(),
                    direction,
                    basis,
                    _text(price_per_kwh),
                    currency,
                    note,
                    iso_utc(_now()),
                ),
            )
            rate = Rate(
                int(cursor.lastrowid or 0),
                person_id,
                vehicle_id,
                valid_from,
                valid_to,
                direction,
                basis,
                price_per_kwh,
                currency,
                note,
            )
        warnings: list[str] = []
        all_rates = self.rates()
        people = [person_id] if person_id is not None else [p.id for p in self.people()]
        last_year = (valid_to or date(max(valid_from.year, _now().year), 12, 31)).year
        for pid in people:
            for year in range(valid_from.year, last_year + 1):
                warnings.extend(basis_warnings(all_rates, pid, year))
        return rate, warnings

    def rates(self, person_id: int | None = None) -> list[Rate]:
        query = (
            "SELECT id, person_id, vehicle_id, valid_from, valid_to, direction, basis, "
            "price_per_kwh, currency, note FROM rates"
        )
        params: tuple[Any, ...] = ()
        if person_id is not None:
            query += " WHERE person_id IS NULL OR person_id = ?"
            params = (person_id,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", params).fetchall()
        return [
            Rate(
                r[0],
                r[1],
                r[2],
                date.fromisoformat(r[3]),
                None if r[4] is None else date.fromisoformat(r[4]),
                r[5],
                r[6],
                None if r[7] is None else Decimal(r[7]),
                r[8],
                r[9],
            )
            for r in rows
        ]

    def add_flat_price(
        self, year: int, country: str, price_per_kwh: Decimal, currency: str, source: str
    ) -> FlatPrice:
        if price_per_kwh < 0:
            raise LedgerError("price_per_kwh must not be negative")
        if not source.strip():
            raise LedgerError("an official flat price needs its source")
        with self._transaction() as db:
            db.execute(
                "INSERT INTO flat_prices (year, country, price_per_kwh, currency, source) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(year, country) DO UPDATE SET "
                "price_per_kwh = excluded.price_per_kwh, currency = excluded.currency, "
                "source = excluded.source",
                (year, country, decimal_text(price_per_kwh), currency, source),
            )
        return FlatPrice(year, country, price_per_kwh, currency, source)

    def flat_prices(self) -> list[FlatPrice]:
        with self._lock:
            rows = self._db.execute(
                "SELECT year, country, price_per_kwh, currency, source FROM flat_prices "
                "ORDER BY year, country"
            ).fetchall()
        return [FlatPrice(r[0], r[1], Decimal(r[2]), r[3], r[4]) for r in rows]

    # -------------------------------------------------------------------- queries

    _SUMMARY_SELECT = (
        "SELECT entry_no, session_id, source, started_at, ended_at, time_zone, person_id, "
        "vehicle_id, charger_serial, energy_wh, cost_total, currency, evidence_class "
        "FROM sessions"
    )

    @staticmethod
    def _summary(row: tuple[Any, ...]) -> SessionSummary:
        return SessionSummary(
            entry_no=row[0],
            session_id=row[1],
            source=row[2],
            started_at=row[3],
            ended_at=row[4],
            time_zone=row[5],
            person_id=row[6],
            vehicle_id=row[7],
            charger_serial=row[8],
            energy_wh=Decimal(row[9]),
            cost_total=None if row[10] is None else Decimal(row[10]),
            currency=row[11],
            evidence_class=row[12],
        )

    def sessions(
        self, where: SessionFilter, *, limit: int = 50, cursor: str | None = None
    ) -> SessionPage:
        """Sessions newest first. ``cursor`` is the previous page's ``next_cursor``.

        Filters use the stored attribution; use :meth:`session` for the effective one
        after reassignments.
        """
        if not 1 <= limit <= 1000:
            raise LedgerError("limit must be between 1 and 1000")
        clauses, params = _filter_clauses(where)
        if cursor is not None:
            started, _, entry_text = cursor.rpartition("~")
            if not started or not entry_text.isdigit():
                raise LedgerError("invalid cursor")
            clauses.append("(started_at, entry_no) < (?, ?)")
            params.extend((started, int(entry_text)))
        query = self._SUMMARY_SELECT
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        query += " ORDER BY started_at DESC, entry_no DESC LIMIT ?"
        params.append(limit + 1)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        items = [self._summary(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = f"{last.started_at}~{last.entry_no}"
        return SessionPage(items, next_cursor)

    def session_rows(
        self, where: SessionFilter, columns: tuple[str, ...], *, page_size: int = 5000
    ) -> Iterator[tuple[Any, ...]]:
        """Raw column values of the matching sessions, newest first.

        Pages are fetched with the same keyset as :meth:`sessions`, holding the lock only
        per page, so an export of a million rows neither blocks ingestion nor holds more
        than one page in memory. ``columns`` are names of the sessions table.
        """
        allowed = set(_SESSION_COLUMNS) | {"entry_no"}
        if not columns or not set(columns) <= allowed:
            raise LedgerError("unknown session column")
        clauses, params = _filter_clauses(where)
        select = f"SELECT {', '.join(columns)}, started_at, entry_no FROM sessions"
        after: tuple[str, int] | None = None
        while True:
            page_clauses = list(clauses)
            page_params = list(params)
            if after is not None:
                page_clauses.append("(started_at, entry_no) < (?, ?)")
                page_params.extend(after)
            query = select
            if page_clauses:
                query += " WHERE " + " AND ".join(page_clauses)
            query += " ORDER BY started_at DESC, entry_no DESC LIMIT ?"
            page_params.append(page_size)
            with self._lock:
                rows = self._db.execute(query, page_params).fetchall()
            width = len(columns)
            for row in rows:
                yield row[:width]
            if len(rows) < page_size:
                return
            after = (rows[-1][-2], rows[-1][-1])

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[tuple[Any, ...]]:
        """A read-only query (dashboards and reports); anything but SELECT is refused."""
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")) or ";" in sql:
            raise LedgerError("only single SELECT statements")
        with self._lock:
            return [tuple(row) for row in self._db.execute(sql, params).fetchall()]

    def session(self, session_id: str) -> SessionDetail | None:
        with self._lock:
            row = self._db.execute(
                f"{self._SUMMARY_SELECT.replace(' FROM sessions', ', body, hash FROM sessions')} "
                "WHERE session_id = ?",
                (session_id,),
            ).fetchone()
            if row is None:
                return None
            summary = self._summary(row[:13])
            envelope = json.loads(row[13])
            adjustments = self.adjustments([session_id]).get(session_id, [])
            state = EffectiveState(summary.person_id, summary.vehicle_id, summary.energy_wh)
            for adjustment in adjustments:
                state.apply(adjustment)
            pricing = self._pricing_for(summary, state)
        return SessionDetail(
            summary,
            envelope["record"],
            envelope["evidence"],
            envelope["received_at"],
            adjustments,
            state,
            pricing,
            row[14],
        )

    def _pricing_for(self, summary: SessionSummary, state: EffectiveState) -> Pricing:
        rates = self.rates(state.person_id)
        person = None if state.person_id is None else self.person(state.person_id)
        day = _local_day(summary.started_at, summary.time_zone)
        rate = applicable_rate(rates, state.person_id, state.vehicle_id, day)
        flat = self._flat_price(day.year, person.country if person else "DE")
        return price_session(rate, state.energy_wh, summary.cost_total, summary.currency, flat)

    def _flat_price(self, year: int, country: str) -> FlatPrice | None:
        row = self._db.execute(
            "SELECT year, country, price_per_kwh, currency, source FROM flat_prices "
            "WHERE year = ? AND country = ?",
            (year, country),
        ).fetchone()
        return None if row is None else FlatPrice(row[0], row[1], Decimal(row[2]), row[3], row[4])

    def statement(self, person_id: int, month: str) -> Statement:
        """The monthly statement of one person (effective attribution, adjustments applied)."""
        year, _ = _month_bounds(month)
        with self._lock:
            person = self.person(person_id)
            if person is None:
                raise NotFoundError(f"no person {person_id}")
            reassigned = self._reassignments()
            moved_in = [sid for sid, (pid, _) in reassigned.items() if pid == person_id]
            columns = (
                "session_id, started_at, ended_at, time_zone, person_id, vehicle_id, "
                "charger_serial, meter_start_wh, meter_end_wh, energy_wh, cost_total, currency, "
                "evidence_class"
            )
            rows = self._db.execute(
                f"SELECT {columns} FROM sessions WHERE person_id = ? AND local_month = ?",
                (person_id, month),
            ).fetchall()
            for start in range(0, len(moved_in), 500):
                chunk = moved_in[start : start + 500]
                rows += self._db.execute(
                    f"SELECT {columns} FROM sessions WHERE local_month = ? AND session_id IN "
                    f"({', '.join('?' * len(chunk))})",
                    (month, *chunk),
                ).fetchall()
            unique_rows = {row[0]: row for row in rows}
            adjustments = self.adjustments(list(unique_rows))
            rates = self.rates(person_id)
            flat = self._flat_price(year, person.country)
            result_rows: list[StatementRow] = []
            for row in sorted(unique_rows.values(), key=lambda r: (r[1], r[0])):
                state = EffectiveState(row[4], row[5], Decimal(row[9]))
                for adjustment in adjustments.get(row[0], []):
                    state.apply(adjustment)
                if state.person_id != person_id:
                    continue
                day = _local_day(row[1], row[3])
                rate = applicable_rate(rates, person_id, state.vehicle_id, day)
                pricing = price_session(
                    rate,
                    state.energy_wh,
                    None if row[10] is None else Decimal(row[10]),
                    row[11],
                    flat,
                )
                result_rows.append(
                    StatementRow(
                        session_id=row[0],
                        started_at=row[1],
                        ended_at=row[2],
                        time_zone=row[3],
                        vehicle_id=state.vehicle_id,
                        charger_serial=row[6],
                        meter_start_wh=None if row[7] is None else Decimal(row[7]),
                        meter_end_wh=None if row[8] is None else Decimal(row[8]),
                        energy_wh=state.energy_wh,
                        evidence_class=row[12],
                        pricing=pricing,
                        excluded=state.excluded,
                        exclusion_reason=state.exclusion_reason,
                    )
                )
        counted = [row for row in result_rows if not row.excluded]
        amount = Decimal(0)
        for row in counted:
            if row.pricing.amount is not None:
                signed = row.pricing.amount
                amount += signed if row.pricing.direction != "bill" else -signed
        currencies = {row.pricing.currency for row in counted if row.pricing.currency}
        bases = sorted({row.pricing.basis for row in counted if row.pricing.basis})
        warnings = basis_warnings(rates, person_id, year)
        if len(currencies) > 1:
            warnings.append("sessions are priced in more than one currency")
        return Statement(
            person=person,
            month=month,
            rows=result_rows,
            session_count=len(counted),
            energy_wh=sum((row.energy_wh for row in counted), Decimal(0)),
            amount=amount,
            currency=next(iter(currencies)) if len(currencies) == 1 else None,
            bases=bases,
            unpriced=sum(1 for row in counted if row.pricing.amount is None),
            warnings=warnings,
        )

    def _reassignments(self) -> dict[str, tuple[int | None, int | None]]:
        latest: dict[str, tuple[int | None, int | None]] = {}
        for session_id, body in self._db.execute(
            "SELECT session_id, body FROM adjustments WHERE kind = 'reassign' ORDER BY entry_no"
        ):
            data = json.loads(body)["data"]
            latest[session_id] = (data.get("person_id"), data.get("vehicle_id"))
        return latest

    def monthly_totals(self, person_id: int, year: int) -> list[MonthTotal]:
        """Totals per month of one year (months without sessions are left out)."""
        with self._lock:
            months = [
                row[0]
                for row in self._db.execute(
                    "SELECT DISTINCT local_month FROM sessions WHERE person_id = ? "
                    "AND local_month BETWEEN ? AND ? ORDER BY local_month",
                    (person_id, f"{year}-01", f"{year}-12"),
                )
            ]
            months = sorted(set(months) | self._reassigned_months(person_id, year))
            totals = []
            for month in months:
                statement = self.statement(person_id, month)
                if statement.rows:
                    totals.append(
                        MonthTotal(
                            month, statement.session_count, statement.energy_wh, statement.amount
                        )
                    )
        return totals

    def _reassigned_months(self, person_id: int, year: int) -> set[str]:
        ids = [sid for sid, (pid, _) in self._reassignments().items() if pid == person_id]
        months: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            months.update(
                row[0]
                for row in self._db.execute(
                    "SELECT local_month FROM sessions WHERE local_month BETWEEN ? AND ? AND "
                    f"session_id IN ({', '.join('?' * len(chunk))})",
                    (f"{year}-01", f"{year}-12", *chunk),
                )
            )
        return months

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "sessions": int(self._db.execute("SELECT count(*) FROM sessions").fetchone()[0]),
                "adjustments": int(
                    self._db.execute("SELECT count(*) FROM adjustments").fetchone()[0]
                ),
                "quarantined": int(
                    self._db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
                ),
            }

    # ----------------------------------------------------------------- integrity

    def verify(self) -> ChainReport:
        """Walk both chains; the report names the first bad entry."""
        with self._lock:
            counts = {"sessions": 0, "adjustments": 0}
            first: ChainProblem | None = None
            for table, columns, ref, expected in (
                ("sessions", _SESSION_COLUMNS, "session_id", _session_columns),
                ("adjustments", _ADJUSTMENT_COLUMNS, "session_id", _adjustment_columns),
            ):
                for outcome in walk(self._db, table, columns, ref, expected, self._anchor(table)):
                    if outcome is None:
                        counts[table] += 1
                    else:
                        first = first or outcome
                        break
            if first is None:
                self._set_meta("verify.last_ok", iso_utc(_now()))
        return ChainReport(first is None, counts["sessions"], counts["adjustments"], first)

    # ----------------------------------------------------------------- retention

    def retention_years(self) -> int:
        with self._lock:
            return int(self._meta("retention.years") or DEFAULT_RETENTION_YEARS)

    def set_retention_years(self, years: int) -> None:
        if years < 1:
            raise LedgerError("retention must be at least one year")
        with self._transaction():
            self._set_meta("retention.years", str(years))

    def legal_hold(self) -> dict[str, Any] | None:
        with self._lock:
            text = self._meta("legal_hold")
        return None if text is None else dict(json.loads(text))

    def set_legal_hold(self, *, active: bool, author: str, reason: str) -> None:
        if not reason.strip() or not author.strip():
            raise LedgerError("a legal hold change needs an author and a reason")
        with self._transaction():
            if active:
                hold = {"author": author, "reason": reason, "since": iso_utc(_now())}
                self._set_meta("legal_hold", json.dumps(hold))
            else:
                self._db.execute("DELETE FROM meta WHERE key = 'legal_hold'")

    def purge_expired(self, today: date) -> int:
        """Delete sessions whose retention has ended; refused under a legal hold.

        The period runs from the end of the calendar year the session ended in. Only a
        prefix of the chain is removed and the last removed hash becomes the anchor the
        remaining chain is verified from.
        """
        cutoff_year = today.year - self.retention_years()
        cutoff = f"{cutoff_year:04d}-01-01T00:00:00.000000Z"
        with self._transaction() as db:
            if self._meta("legal_hold") is not None:
                raise LedgerError("a legal hold is active: nothing may be deleted")
            first_kept = db.execute(
                "SELECT min(entry_no) FROM sessions WHERE ended_at >= ?", (cutoff,)
            ).fetchone()[0]
            limit_row = db.execute(
                "SELECT entry_no, hash FROM sessions WHERE entry_no < ? "
                "ORDER BY entry_no DESC LIMIT 1",
                (first_kept if first_kept is not None else 1 << 62,),
            ).fetchone()
            if limit_row is None:
                return 0
            deleted = db.execute(
                "DELETE FROM sessions WHERE entry_no <= ?", (limit_row[0],)
            ).rowcount
            self._set_meta(
                "anchor.sessions", json.dumps({"entry_no": limit_row[0], "hash": limit_row[1]})
            )
        return int(deleted)

    def status(self) -> dict[str, Any]:
        with self._lock:
            counts = self.counts()
            return {
                **counts,
                "last_seq": self.last_seq(),
                "schema_version": schema.SCHEMA_VERSION,
                "retention_years": self.retention_years(),
                "legal_hold": self.legal_hold(),
                "last_verified_ok": self._meta("verify.last_ok"),
                # Noting the tips elsewhere now and then makes cutting off the newest
                # entries detectable too, which a chain alone cannot show.
                "chain_tips": {
                    table: {"entry_no": tip[0], "hash": tip[1]}
                    for table in ("sessions", "adjustments")
                    for tip in [self._tip(table)]
                },
            }


def _columns_from_facts(facts: SessionFacts, envelope: dict[str, Any]) -> tuple[Any, ...]:
    return (
        facts.id,
        envelope["source"],
        facts.seq if envelope["source"] == "ha" else None,
        facts.started_text,
        facts.ended_text,
        facts.local_month,
        facts.time_zone,
        envelope["person_id"],
        envelope["vehicle_id"],
        facts.charger_serial,
        _text(facts.meter_start_wh),
        _text(facts.meter_end_wh),
        decimal_text(facts.energy_wh),
        _text(facts.cost_total),
        facts.currency,
        envelope["evidence"]["class"],
    )


def _filter_clauses(where: SessionFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if where.person_id is not None:
        clauses.append("person_id = ?")
        params.append(where.person_id)
    if where.vehicle_id is not None:
        clauses.append("vehicle_id = ?")
        params.append(where.vehicle_id)
    if where.charger_serial is not None:
        clauses.append("charger_serial = ?")
        params.append(where.charger_serial)
    if where.started_from is not None:
        clauses.append("started_at >= ?")
        params.append(iso_utc(where.started_from))
    if where.started_before is not None:
        clauses.append("started_at < ?")
        params.append(iso_utc(where.started_before))
    return clauses, params


def _raw_json(value: Any) -> bytes:
    try:
        return json.dumps(value, default=str).encode("utf-8")
    except (TypeError, ValueError):
        return repr(value).encode("utf-8")


def _local_day(started_at: str, time_zone: str) -> date:
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(time_zone)).date()


class _Attribution:
    """Who a session belongs to, from the credential or the HA user that authorised it."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._credentials = {
            row[0]: (row[1], row[2])
            for row in db.execute("SELECT tag_hash, person_id, vehicle_id FROM credentials")
        }
        self._users = {
            row[0]: row[1]
            for row in db.execute("SELECT ha_user_id, id FROM people WHERE ha_user_id IS NOT NULL")
        }
        self._vehicles: dict[str, int] = {}
        for vehicle_id, name, plate in db.execute("SELECT id, name, plate FROM vehicles"):
            self._vehicles.setdefault(name, vehicle_id)
            if plate:
                self._vehicles[plate] = vehicle_id

    def resolve(self, facts: SessionFacts) -> tuple[int | None, int | None]:
        person_id: int | None = None
        vehicle_id: int | None = None
        if facts.tag_hash is not None and facts.tag_hash in self._credentials:
            person_id, vehicle_id = self._credentials[facts.tag_hash]
        if person_id is None and facts.user_id is not None:
            person_id = self._users.get(facts.user_id)
        if vehicle_id is None and facts.vehicle is not None:
            vehicle_id = self._vehicles.get(facts.vehicle)
        return person_id, vehicle_id
