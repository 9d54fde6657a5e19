"""Ledger benchmark: ingestion against raw sqlite3, monthly report on a large ledger.

Run: ``scripts/run python benchmarks/ledger.py`` (``--quick`` for a smoke run).

1. Ingest N sessions (default 100k) through ``Ledger.append_sessions`` in batches of 1000
   (the page size of the ledger's catch-up), then insert the very rows it stored with a
   raw ``sqlite3`` ``executemany`` into an identical fresh database, same batches, same
   durability settings. The ratio is ledger time / raw time (target <= 2).
   Records are built by the integration's own record code (decimal strings, ``mid: null``,
   a priced cost) and carry signed OCMF begin/end values, so the ledger's contract check
   and OCMF verification are part of the timed ingest.
2. Build a ledger of M sessions (default 1M; 100 people over 10 years, fixed-price rates)
   with adjustments on 2% of them (exclusions, energy corrections, reassignments, notes)
   and time ``Ledger.statement(person, month)`` on months that hold adjusted sessions.
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from custom_components.ev_charging_monitor.devices import Identity
from custom_components.ev_charging_monitor.pricing.cost import IntervalCost, SessionCost
from custom_components.ev_charging_monitor.session.record import session_record
from custom_components.ev_charging_monitor.session.tracker import (
    ActiveSession,
    CompletedSession,
    Segment,
)
from ev_charging_ledger.storage import Ledger, SessionFilter
from ev_charging_ledger.storage import schema as ledger_schema

BATCH = 1000
PEOPLE = 100
FIRST_DAY = datetime(2017, 1, 1, tzinfo=UTC)
SPAN_DAYS = 3650


def _signer() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.hex()


def _signed_values(
    key: ec.EllipticCurvePrivateKey,
    public: str,
    serial: str,
    page: int,
    readings: tuple[tuple[datetime, str, Decimal], ...],
) -> list[dict[str, Any]]:
    """One OCMF record per reading (begin, end) with consecutive pagination, signed."""
    values = []
    for offset, (moment, kind, register) in enumerate(readings):
        payload = (
            '{"FV":"1.0","GI":"KEBA_KCP30","GS":"17619300","GV":"2.8.5",'
            f'"PG":"T{page + offset}","MV":"Phoenix","MM":"EEM-350-D-MCB","MS":"{serial}",'
            '"IS":true,"IL":"VERIFIED","IF":["RFID_PLAIN"],"IT":"ISO14443","ID":"1F2D3A4B",'
            f'"RD":[{{"TM":"{moment.strftime("%Y-%m-%dT%H:%M:%S,000+0000")} S","TX":"{kind}",'
            f'"RV":{register / 1000:.3f},"RI":"1-b:1.8.0","RU":"kWh","RT":"AC","EF":"",'
            '"ST":"G"}]}'
        )
        signature = key.sign(payload.encode(), ec.ECDSA(hashes.SHA256())).hex()
        data = f'OCMF|{payload}|{{"SA":"ECDSA-secp256r1-SHA256","SD":"{signature}"}}'
        values.append({"format": "OCMF", "data": data, "public_key": public})
    return values


def make_records(
    count: int, *, seed: int, first_seq: int = 1, signed: bool = True
) -> Iterator[dict[str, Any]]:
    """Records as the integration sends them (its own record code: decimal strings,
    ``mid: null``, a priced cost), with signed OCMF begin/end values; deterministic."""
    rng = random.Random(seed)
    key, public = _signer()
    register = [Decimal(1_000_000)] * PEOPLE
    step = SPAN_DAYS * 86400 / count
    price = Decimal("0.3120")
    for index in range(count):
        person = rng.randrange(PEOPLE)
        start = FIRST_DAY + timedelta(seconds=round(index * step + rng.uniform(0, step / 2)))
        minutes = rng.randint(20, 600)
        end = start + timedelta(minutes=minutes)
        energy = Decimal(rng.randint(100, 6_000)) * 10  # 10 Wh: the OCMF registers' step
        begin = register[person] + Decimal(rng.randint(0, 500)) * 10
        register[person] = begin + energy
        session = ActiveSession(
            id=str(uuid.UUID(int=rng.getrandbits(128))),
            started_at=start,
            segments=[Segment(begin, begin + energy)],
            samples=[(start, Decimal(0))],
            last_reading_at=end,
            register_at=end,
            max_power_w=11000.0,
            charging_seconds=minutes * 60,
        )
        total = (price * energy / 1000).quantize(Decimal("0.01"))
        cost = SessionCost(
            currency="EUR",
            tariff="flat",
            total=total,
            intervals=(IntervalCost(start, end, energy, price, total, False),),
            flags=(),
            unpriced_energy_wh=Decimal(0),
        ).to_record()
        record = session_record(
            CompletedSession(session=session, ended_at=end, end_reason="unplugged"),
            charger=Identity(manufacturer="KEBA", model="KC-P30", serial=f"WB-{person % 7}"),
            charger_name="Garage",
            meter=Identity(manufacturer="Phoenix", model="EEM-350-D-MCB", serial=f"MTR-{person}"),
            meter_source="charger",
            time_zone="Europe/Berlin",
            cost=cost,
            authorization={
                "method": "ha_user",
                "tag_hash": None,
                "user_id": f"user-{person}",
                "user_name": None,
                "vehicle": f"car-{person}",
            },
        )
        record["seq"] = first_seq + index
        if signed:
            record["signed_meter_values"] = _signed_values(
                key,
                public,
                f"MTR-{person}",
                2 * index + 1,
                ((start, "B", begin), (end, "E", begin + energy)),
            )
        yield record


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


def bench_ingest(count: int, workdir: Path, rounds: int, *, signed: bool) -> float:
    """Best of ``rounds`` for each side, alternating, so both see the same machine load."""
    records = list(make_records(count, seed=1, signed=signed))
    label = "with signed OCMF values" if signed else "without signed values"
    ledger_times: list[float] = []
    raw_times: list[float] = []
    for round_no in range(rounds):
        with Ledger(workdir / f"ingest-{signed}-{round_no}.sqlite3") as ledger:
            add_people(ledger)
            started = time.perf_counter()
            stored = ingest(ledger, iter(records))
            ledger_times.append(time.perf_counter() - started)
            assert stored == count
            cursor = ledger._db.execute("SELECT * FROM sessions ORDER BY entry_no")
            columns = [description[0] for description in cursor.description]
            rows = cursor.fetchall()
        raw_times.append(raw_insert(rows, columns, workdir / f"raw-{signed}-{round_no}.sqlite3"))
        del rows
    ledger_s, raw_s = min(ledger_times), min(raw_times)
    ratio = ledger_s / raw_s
    print(
        f"ingest {count} sessions {label}: ledger {ledger_s:.2f} s ({count / ledger_s:,.0f}/s), "
        f"best of {rounds}: {', '.join(f'{t:.2f}' for t in ledger_times)}"
    )
    print(
        f"raw sqlite3 executemany of the same rows: {raw_s:.2f} s ({count / raw_s:,.0f}/s), "
        f"best of {rounds}: {', '.join(f'{t:.2f}' for t in raw_times)}"
    )
    print(f"ingest ratio ledger/raw {label}: {ratio:.2f} (target <= 2)")
    return ratio


def add_adjustments(ledger: Ledger, share: float, rng: random.Random) -> list[tuple[int, str]]:
    """Corrections on a share of the sessions (exclusions, energy corrections, moves to
    another person, notes); returns the (person, month) pairs they touch."""
    touched: set[tuple[int, str]] = set()
    kinds = ("exclude", "correct_energy", "reassign", "note")
    rows = list(ledger.session_rows(SessionFilter(), ("session_id", "person_id", "local_month")))
    for session_id, person_id, month in rng.sample(rows, int(len(rows) * share)):
        kind = rng.choice(kinds)
        data: dict[str, Any] = {}
        if kind == "correct_energy":
            data = {"energy_wh": str(rng.randint(100, 60_000))}
        elif kind == "reassign":
            person_id = rng.randrange(1, PEOPLE + 1)
            data = {"person_id": person_id, "vehicle_id": None}
        ledger.add_adjustment(session_id, kind, reason="benchmark", author="bench", data=data)
        touched.add((person_id, month))
    return sorted(touched)


def bench_report(count: int, workdir: Path, samples: int) -> float:
    path = workdir / "report.sqlite3"
    started = time.perf_counter()
    rng = random.Random(3)
    with Ledger(path) as ledger:
        # Building is not what is timed; a crash here only loses the benchmark's file.
        ledger._db.execute("PRAGMA synchronous=OFF")
        add_people(ledger)
        ingest(ledger, make_records(count, seed=2, signed=False))
        touched = add_adjustments(ledger, 0.02, rng)
        adjustments = ledger.counts()["adjustments"]
    elapsed = time.perf_counter() - started
    print(
        f"built a ledger of {count} sessions and {adjustments} adjustments in "
        f"{elapsed:.1f} s ({path.stat().st_size / 1e6:.0f} MB)"
    )
    with Ledger(path) as ledger:
        timings: list[float] = []
        sizes: list[int] = []
        applied: list[int] = []
        # Only (person, month) pairs that hold adjusted sessions: every timed statement
        # applies adjustments.
        for person, month in rng.sample(touched, min(samples, len(touched))):
            started = time.perf_counter()
            statement = ledger.statement(person, month)
            timings.append((time.perf_counter() - started) * 1000)
            sizes.append(len(statement.rows))
            ids = [row.session_id for row in statement.rows]
            applied.append(sum(len(v) for v in ledger.adjustments(ids).values()))
    median = statistics.median(timings)
    print(
        f"monthly per-person statement: median {median:.1f} ms, max {max(timings):.1f} ms "
        f"over {len(timings)} (person, month) pairs, median {statistics.median(sizes):.0f} "
        f"sessions and {statistics.median(applied):.0f} adjustments each (target <= 50 ms)"
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
        ratio = bench_ingest(args.ingest_sessions, workdir, args.rounds, signed=True)
        plain = bench_ingest(args.ingest_sessions, workdir, args.rounds, signed=False)
        report_ms = bench_report(args.report_sessions, workdir, args.samples)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:.0f} MB")
    print(
        f"ledger: ingest_ratio={ratio:.2f} ingest_ratio_unsigned={plain:.2f} "
        f"month_report_ms={report_ms:.1f} peak_rss_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
