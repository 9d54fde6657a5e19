"""Ledger benchmark: ingestion against raw sqlite3, monthly report on a large ledger.

Run: ``scripts/run python benchmarks/ledger.py`` (``--quick`` for a smoke run).

1. Ingest N sessions (default 100k) through ``Ledger.append_sessions`` in batches of 1000
   (the page size of the ledger's catch-up), then insert the very rows it stored with a
   raw ``sqlite3`` ``executemany`` into an identical fresh database, same batches, same
   durability settings. The ratio is ledger time / raw time (target <= 2).
2. Build a ledger of M sessions (default 1M; 100 people over 10 years, fixed-price rates,
   some exclusions) and time ``Ledger.statement(person, month)``; report the median.
3. Peak RSS of the process.
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "addon" / "app"))

from ev_charging_ledger.storage import Ledger
from ev_charging_ledger.storage import schema as ledger_schema

BATCH = 1000
PEOPLE = 100
FIRST_DAY = datetime(2017, 1, 1, tzinfo=UTC)
SPAN_DAYS = 3650


def make_records(count: int, *, seed: int, first_seq: int = 1) -> Iterator[dict[str, Any]]:
    """Realistic contract records (DESIGN.md section 6), deterministic per seed."""
    rng = random.Random(seed)
    register = [1_000_000] * PEOPLE
    step = SPAN_DAYS * 86400 / count
    for index in range(count):
        person = rng.randrange(PEOPLE)
        start = FIRST_DAY + timedelta(seconds=index * step + rng.uniform(0, step / 2))
        minutes = rng.randint(20, 600)
        energy = rng.randint(1_000, 60_000)
        register[person] += energy + rng.randint(0, 5_000)
        price = Decimal("0.3120")
        yield {
            "schema": 1,
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "seq": first_seq + index,
            "charger": {"serial": f"WB-{person % 7}", "name": "Garage", "model": "KC-P30",
                        "manufacturer": "KEBA"},
            "meter": {"serial": f"MTR-{person}", "model": "EM340", "source": "charger",
                      "mid": True},
            "started_at": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ended_at": (start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "time_zone": "Europe/Berlin",
            "meter_start_wh": register[person] - energy,
            "meter_end_wh": register[person],
            "energy_wh": energy,
            "max_power_w": 11000,
            "charging_seconds": minutes * 60,
            "authorization": {"method": "ha_user", "tag_hash": None,
                              "user_id": f"user-{person}", "user_name": None,
                              "vehicle": f"car-{person}"},
            "cost": {"currency": "EUR", "total": str(price * energy / 1000),
                     "tariff": "flat", "intervals": []},
            "signed_meter_values": [],
            "end_reason": "unplugged",
            "flags": [],
            "reconciliation": None,
        }  # fmt: skip


def add_people(ledger: Ledger) -> None:
    for person in range(PEOPLE):
        added = ledger.add_person(f"Driver {person}", ha_user_id=f"user-{person}")
        ledger.add_vehicle(f"car-{person}", person_id=added.id)
        ledger.add_rate(
            person_id=added.id,
            vehicle_id=None,
            valid_from=date(2017, 1, 1),
            valid_to=None,
            direction="reimburse",
            basis="fixed_price",
            price_per_kwh=Decimal("0.30"),
            currency="EUR",
        )


def ingest(ledger: Ledger, records: Iterator[dict[str, Any]]) -> int:
    stored = 0
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) == BATCH:
            stored += ledger.append_sessions(batch).stored
            batch = []
    if batch:
        stored += ledger.append_sessions(batch).stored
    return stored


def raw_insert(rows: list[tuple[Any, ...]], columns: list[str], path: Path) -> float:
    """The same rows with plain executemany, same schema, pragmas and batch commits."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    ledger_schema.migrate(db)
    insert = f"INSERT INTO sessions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        db.execute("BEGIN IMMEDIATE")
        db.executemany(insert, rows[start : start + BATCH])
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def bench_ingest(count: int, workdir: Path, rounds: int) -> float:
    """Best of ``rounds`` for each side, alternating, so both see the same machine load."""
    records = list(make_records(count, seed=1))
    ledger_times: list[float] = []
    raw_times: list[float] = []
    for round_no in range(rounds):
        with Ledger(workdir / f"ingest-{round_no}.sqlite3") as ledger:
            add_people(ledger)
            started = time.perf_counter()
            stored = ingest(ledger, iter(records))
            ledger_times.append(time.perf_counter() - started)
            assert stored == count
            cursor = ledger._db.execute("SELECT * FROM sessions ORDER BY entry_no")
            columns = [description[0] for description in cursor.description]
            rows = cursor.fetchall()
        raw_times.append(raw_insert(rows, columns, workdir / f"raw-{round_no}.sqlite3"))
        del rows
    ledger_s, raw_s = min(ledger_times), min(raw_times)
    ratio = ledger_s / raw_s
    print(
        f"ingest {count} sessions: ledger {ledger_s:.2f} s ({count / ledger_s:,.0f}/s), "
        f"best of {rounds}: {', '.join(f'{t:.2f}' for t in ledger_times)}"
    )
    print(
        f"raw sqlite3 executemany of the same rows: {raw_s:.2f} s ({count / raw_s:,.0f}/s), "
        f"best of {rounds}: {', '.join(f'{t:.2f}' for t in raw_times)}"
    )
    print(f"ingest ratio ledger/raw: {ratio:.2f} (target <= 2)")
    return ratio


def bench_report(count: int, workdir: Path, samples: int) -> float:
    path = workdir / "report.sqlite3"
    started = time.perf_counter()
    with Ledger(path) as ledger:
        add_people(ledger)
        ingest(ledger, make_records(count, seed=2))
        rng = random.Random(3)
        page = ledger.sessions
        from ev_charging_ledger.storage import SessionFilter

        excluded = page(SessionFilter(), limit=1000).items
        for item in excluded[::10]:
            ledger.add_adjustment(item.session_id, "exclude", reason="private", author="bench")
    print(f"built a ledger of {count} sessions in {time.perf_counter() - started:.1f} s "
          f"({path.stat().st_size / 1e6:.0f} MB)")  # fmt: skip
    with Ledger(path) as ledger:
        months = [f"{year}-{month:02d}" for year in range(2017, 2027) for month in range(1, 13)]
        timings: list[float] = []
        sizes: list[int] = []
        for _ in range(samples):
            person = rng.randrange(1, PEOPLE + 1)
            month = rng.choice(months[:-1])
            started = time.perf_counter()
            statement = ledger.statement(person, month)
            timings.append((time.perf_counter() - started) * 1000)
            sizes.append(len(statement.rows))
    median = statistics.median(timings)
    print(
        f"monthly per-person statement: median {median:.1f} ms, max {max(timings):.1f} ms "
        f"over {samples} (person, month) pairs, median {statistics.median(sizes):.0f} "
        "sessions each (target <= 50 ms)"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ingest-sessions", type=int, default=100_000)
    parser.add_argument("--report-sessions", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10k / 50k sessions")
    args = parser.parse_args()
    if args.quick:
        args.ingest_sessions, args.report_sessions = 10_000, 50_000
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
        workdir = Path(folder)
        ratio = bench_ingest(args.ingest_sessions, workdir, args.rounds)
        report_ms = bench_report(args.report_sessions, workdir, args.samples)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:.0f} MB")
    print(f"ledger: ingest_ratio={ratio:.2f} month_report_ms={report_ms:.1f} "
          f"peak_rss_mb={peak_mb:.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
