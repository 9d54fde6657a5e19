"""People, vehicles, cost centres and credentials, and who a session belongs to."""

from __future__ import annotations

import sqlite3
from typing import Any

from ev_charging_ledger.records import SessionFacts, iso_utc

from .db import Database, LedgerError, NotFoundError, now
from .models import Person, Vehicle

_PERSON_SELECT = (
    "SELECT id, name, personnel_number, ha_user_id, cost_centre_id, country FROM people"
)
_VEHICLE_SELECT = "SELECT id, name, plate, person_id, company_car, cost_centre_id FROM vehicles"


def _vehicle(row: tuple[Any, ...]) -> Vehicle:
    return Vehicle(row[0], row[1], row[2], row[3], bool(row[4]), row[5])


def add_cost_centre(db: Database, code: str, name: str) -> int:
    with db.transaction() as conn:
        try:
            cursor = conn.execute(
                "INSERT INTO cost_centres (code, name) VALUES (?, ?)", (code, name)
            )
        except sqlite3.IntegrityError as err:
            raise LedgerError(f"cost centre {code!r} exists") from err
        return int(cursor.lastrowid or 0)


def cost_centres(db: Database) -> list[dict[str, Any]]:
    with db.lock:
        return [
            {"id": row[0], "code": row[1], "name": row[2]}
            for row in db.conn.execute("SELECT id, code, name FROM cost_centres ORDER BY id")
        ]


def add_person(
    db: Database,
    name: str,
    *,
    personnel_number: str | None,
    ha_user_id: str | None,
    cost_centre_id: int | None,
    country: str,
) -> Person:
    with db.transaction() as conn:
        try:
            cursor = conn.execute(
                "INSERT INTO people (name, personnel_number, ha_user_id, cost_centre_id, "
                "country, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (name, personnel_number, ha_user_id, cost_centre_id, country, iso_utc(now())),
            )
        except sqlite3.IntegrityError as err:
            raise LedgerError(f"cannot add person: {err}") from err
        person_id = int(cursor.lastrowid or 0)
    return Person(person_id, name, personnel_number, ha_user_id, cost_centre_id, country)


def people(db: Database) -> list[Person]:
    with db.lock:
        return [Person(*row) for row in db.conn.execute(f"{_PERSON_SELECT} ORDER BY id")]


def person(db: Database, person_id: int) -> Person | None:
    with db.lock:
        row = db.conn.execute(f"{_PERSON_SELECT} WHERE id = ?", (person_id,)).fetchone()
    return None if row is None else Person(*row)


def person_for_user(db: Database, ha_user_id: str) -> Person | None:
    with db.lock:
        row = db.conn.execute(f"{_PERSON_SELECT} WHERE ha_user_id = ?", (ha_user_id,)).fetchone()
    return None if row is None else Person(*row)


def add_vehicle(
    db: Database,
    name: str,
    *,
    plate: str | None,
    person_id: int | None,
    company_car: bool,
    cost_centre_id: int | None,
) -> Vehicle:
    with db.transaction() as conn:
        try:
            cursor = conn.execute(
                "INSERT INTO vehicles (name, plate, person_id, company_car, cost_centre_id, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (name, plate, person_id, int(company_car), cost_centre_id, iso_utc(now())),
            )
        except sqlite3.IntegrityError as err:
            raise LedgerError(f"cannot add vehicle: {err}") from err
        vehicle_id = int(cursor.lastrowid or 0)
    return Vehicle(vehicle_id, name, plate, person_id, company_car, cost_centre_id)


def vehicles(db: Database) -> list[Vehicle]:
    with db.lock:
        rows = db.conn.execute(f"{_VEHICLE_SELECT} ORDER BY id").fetchall()
    return [_vehicle(row) for row in rows]


def vehicle(db: Database, vehicle_id: int) -> Vehicle | None:
    with db.lock:
        row = db.conn.execute(f"{_VEHICLE_SELECT} WHERE id = ?", (vehicle_id,)).fetchone()
    return None if row is None else _vehicle(row)


def check_people(db: Database, person_id: int | None, vehicle_id: int | None) -> None:
    with db.lock:
        if person_id is not None and person(db, person_id) is None:
            raise NotFoundError(f"no person {person_id}")
        if vehicle_id is not None and vehicle(db, vehicle_id) is None:
            raise NotFoundError(f"no vehicle {vehicle_id}")


def set_credential(
    db: Database,
    tag_hash: str,
    *,
    person_id: int | None,
    vehicle_id: int | None,
    label: str | None,
) -> None:
    """Link an RFID/NFC credential (by its keyed hash) to a person and vehicle."""
    check_people(db, person_id, vehicle_id)
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO credentials (tag_hash, person_id, vehicle_id, label) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(tag_hash) DO UPDATE SET "
            "person_id = excluded.person_id, vehicle_id = excluded.vehicle_id, "
            "label = excluded.label",
            (tag_hash, person_id, vehicle_id, label),
        )


def credentials(db: Database) -> list[dict[str, Any]]:
    with db.lock:
        return [
            {"tag_hash": r[0], "person_id": r[1], "vehicle_id": r[2], "label": r[3]}
            for r in db.conn.execute(
                "SELECT tag_hash, person_id, vehicle_id, label FROM credentials ORDER BY tag_hash"
            )
        ]


class Attribution:
    """Who a session belongs to, from the credential or the HA user that authorised it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._credentials = {
            row[0]: (row[1], row[2])
            for row in conn.execute("SELECT tag_hash, person_id, vehicle_id FROM credentials")
        }
        self._users = {
            row[0]: row[1]
            for row in conn.execute(
                "SELECT ha_user_id, id FROM people WHERE ha_user_id IS NOT NULL"
            )
        }
        self._vehicles: dict[str, int] = {}
        for vehicle_id, name, plate in conn.execute("SELECT id, name, plate FROM vehicles"):
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
