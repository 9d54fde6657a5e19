"""SQLite schema and its migrations.

``PRAGMA user_version`` holds the schema version; each migration runs in its own
transaction, so a crash mid-migration leaves the previous version intact.
"""

from __future__ import annotations

import sqlite3

GENESIS_HASH = "0" * 64

_MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE cost_centres (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL
    );
    CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        personnel_number TEXT,
        ha_user_id TEXT UNIQUE,
        cost_centre_id INTEGER REFERENCES cost_centres(id),
        country TEXT NOT NULL DEFAULT 'DE',
        created_at TEXT NOT NULL
    );
    CREATE TABLE vehicles (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        plate TEXT,
        person_id INTEGER REFERENCES people(id),
        company_car INTEGER NOT NULL DEFAULT 1,
        cost_centre_id INTEGER REFERENCES cost_centres(id),
        created_at TEXT NOT NULL
    );
    -- RFID/NFC credentials by their keyed hash: the raw UID never reaches the ledger.
    CREATE TABLE credentials (
        tag_hash TEXT PRIMARY KEY,
        person_id INTEGER REFERENCES people(id),
        vehicle_id INTEGER REFERENCES vehicles(id),
        label TEXT
    );
    CREATE TABLE flat_prices (
        year INTEGER NOT NULL,
        country TEXT NOT NULL,
        price_per_kwh TEXT NOT NULL,
        currency TEXT NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (year, country)
    );
    CREATE TABLE rates (
        id INTEGER PRIMARY KEY,
        person_id INTEGER REFERENCES people(id),
        vehicle_id INTEGER REFERENCES vehicles(id),
        valid_from TEXT NOT NULL,
        valid_to TEXT,
        direction TEXT NOT NULL CHECK (direction IN ('reimburse', 'bill')),
        basis TEXT NOT NULL CHECK (basis IN ('tariff_cost', 'fixed_price', 'flat_price')),
        price_per_kwh TEXT,
        currency TEXT NOT NULL,
        note TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX rates_person ON rates (person_id, valid_from);

    -- The chained sessions. Rows are only ever inserted; columns other than body,
    -- prev_hash and hash are derived from body and checked against it by verify.
    CREATE TABLE sessions (
        entry_no INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        ha_seq INTEGER,
        started_at TEXT NOT NULL,
        ended_at TEXT NOT NULL,
        local_month TEXT NOT NULL,
        person_id INTEGER,
        vehicle_id INTEGER,
        charger_serial TEXT,
        time_zone TEXT NOT NULL,
        meter_start_wh TEXT,
        meter_end_wh TEXT,
        energy_wh TEXT NOT NULL,
        cost_total TEXT,
        currency TEXT,
        evidence_class TEXT NOT NULL,
        body BLOB NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX sessions_person_month ON sessions (person_id, local_month);
    CREATE INDEX sessions_person_started ON sessions (person_id, started_at);
    CREATE INDEX sessions_vehicle ON sessions (vehicle_id, started_at);
    CREATE INDEX sessions_charger ON sessions (charger_serial, started_at);
    CREATE INDEX sessions_started ON sessions (started_at);

    CREATE TABLE adjustments (
        entry_no INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        created_at TEXT NOT NULL,
        author TEXT NOT NULL,
        reason TEXT NOT NULL,
        body BLOB NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX adjustments_session ON adjustments (session_id, entry_no);
    CREATE INDEX adjustments_kind ON adjustments (kind, entry_no);

    -- Records that failed validation: kept, so that acknowledging them loses nothing.
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        received_at TEXT NOT NULL,
        reason TEXT NOT NULL,
        body BLOB NOT NULL
    );

    CREATE TRIGGER sessions_append_only_update BEFORE UPDATE ON sessions
    BEGIN SELECT RAISE(ABORT, 'sessions are append-only; add an adjustment'); END;
    CREATE TRIGGER adjustments_append_only_update BEFORE UPDATE ON adjustments
    BEGIN SELECT RAISE(ABORT, 'adjustments are append-only'); END;

    INSERT INTO flat_prices (year, country, price_per_kwh, currency, source) VALUES
        (2026, 'DE', '0.34', 'EUR',
         'BMF-Schreiben 11.11.2025 (IV C 5 - S 2334/00087/014/013), Strompreispauschale '
         || 'Rn. 30 ff.: Destatis 61243-0001, first half of 2025');
    """,
    # 2: checkpoints chain the heads and anchors of both chains, the ingest position and
    # every gap or restore, so truncating either end or editing the anchor is detected.
    """
    CREATE TABLE checkpoints (
        entry_no INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        created_at TEXT NOT NULL,
        body BLOB NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX checkpoints_kind ON checkpoints (kind, entry_no);
    CREATE INDEX sessions_ha_seq ON sessions (ha_seq) WHERE ha_seq IS NOT NULL;
    CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
    CREATE TRIGGER checkpoints_append_only_delete BEFORE DELETE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
    """,
)

SCHEMA_VERSION = len(_MIGRATIONS)


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the database to the current schema; returns the version it started at."""
    start = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if start > SCHEMA_VERSION:
        raise RuntimeError(
            f"database schema {start} is newer than this ledger ({SCHEMA_VERSION}); "
            "update the add-on"
        )
    for version in range(start, SCHEMA_VERSION):
        script = _MIGRATIONS[version]
        # executescript commits implicitly, so wrap the migration in one explicit
        # transaction to make it all-or-nothing.
        connection.executescript(
            f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version + 1};\nCOMMIT;"
        )
    return start
