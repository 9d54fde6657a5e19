"""Reports benchmark: streamed CSV export, PDF statement, sessions list page.

Run: ``scripts/run python benchmarks/reports.py`` (``--quick`` for a smoke run with
50k sessions; ``--ledger PATH`` keeps the built ledger for the next run).

1. Build a ledger of N sessions (default 1M; 100 people over 10 years, the records of
   benchmarks/ledger.py) through ``Ledger.append_sessions`` in batches of 20k with
   ``synchronous=OFF`` (building is not what is measured).
2. CSV export of all N sessions, streamed (``reports.tabular.sessions_csv``, machine
   flavour, to a file), in a fresh child process: time and the child's peak RSS. The
   baseline is a raw ``csv.writer`` over the same rows (same SELECT, same order, same
   file), also in a fresh child. Best of ``--rounds``, alternating. Ratio = export / raw.
3. PDF statement of one person's month with 100 sessions: build + render, median.
4. Server time of the sessions list page (HTML, 50 rows) on the N-session ledger,
   measured as the request's wall time over loopback against the real aiohttp app:
   newest page, filtered by person, by person and period, by charger, and the next
   page of a person (keyset cursor). list_ms is the slowest of those medians.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import html
import json
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "addon" / "app"))
sys.path.insert(0, str(REPO))

from ev_charging_ledger.storage import Ledger, SessionFilter  # noqa: E402

BUILD_BATCH = 20_000


def build(path: Path, count: int) -> None:
    # The records come from the integration's own code, which imports Home Assistant
    # (over 100 MB): only here and in bench_pdf, never in the measured export children,
    # whose peak RSS must be the add-on's, which never imports Home Assistant.
    from benchmarks.ledger import add_people, make_records

    if path.exists():
        with Ledger(path) as ledger:
            if ledger.counts()["sessions"] >= count:
                print(f"reusing {path} ({ledger.counts()['sessions']} sessions)")
                return
        path.unlink()
    started = time.perf_counter()
    with Ledger(path) as ledger:
        ledger._db.execute("PRAGMA synchronous=OFF")
        add_people(ledger)
        batch: list[dict[str, Any]] = []
        for record in make_records(count, seed=5):
            batch.append(record)
            if len(batch) == BUILD_BATCH:
                ledger.append_sessions(batch)
                batch = []
        if batch:
            ledger.append_sessions(batch)
    size = path.stat().st_size / 1e6
    print(f"built a ledger of {count} sessions in {time.perf_counter() - started:.0f} s "
          f"({size:.0f} MB)")  # fmt: skip


# ------------------------------------------------------------------------ children


def child_export(path: Path, out: Path) -> dict[str, float]:
    from ev_charging_ledger.reports.tabular import sessions_csv

    with Ledger(path) as ledger:
        before = rss_mb()
        started = time.perf_counter()
        rows = 0
        with out.open("wb") as handle:
            for chunk in sessions_csv(ledger, SessionFilter(), "machine"):
                handle.write(chunk)
                rows += chunk.count(b"\r\n")
        elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "lines": rows,
        "bytes": out.stat().st_size,
        "rss_before_mb": before,
    }


def child_raw(path: Path, out: Path) -> dict[str, float]:
    from ev_charging_ledger.reports.tabular import SESSION_COLUMNS

    db = sqlite3.connect(path)
    started = time.perf_counter()
    cursor = db.execute(
        f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions ORDER BY started_at DESC, entry_no DESC"
    )
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SESSION_COLUMNS)
        writer.writerows(cursor)
    elapsed = time.perf_counter() - started
    db.close()
    return {"seconds": elapsed, "lines": 0, "bytes": out.stat().st_size}


def rss_mb() -> float:
    """This process's resident memory now (the interpreter, its imports, the ledger open)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM starts afresh at exec, unlike ru_maxrss, which a
    child inherits from the parent that forked it (here: the one that built the ledger)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(mode: str, path: Path, out: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--ledger", str(path), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def bench_csv(path: Path, workdir: Path, rounds: int, count: int) -> tuple[float, float]:
    export_runs: list[dict[str, float]] = []
    raw_runs: list[dict[str, float]] = []
    for _ in range(rounds):
        export_runs.append(run_child("export", path, workdir / "export.csv"))
        raw_runs.append(run_child("raw", path, workdir / "raw.csv"))
    best_export = min(export_runs, key=lambda run: run["seconds"])
    best_raw = min(raw_runs, key=lambda run: run["seconds"])
    assert best_export["lines"] == count + 1, best_export
    ratio = best_export["seconds"] / best_raw["seconds"]
    peak = max(run["peak_rss_mb"] for run in export_runs)
    print(
        f"CSV export of {count} sessions, streamed: {best_export['seconds']:.2f} s "
        f"({count / best_export['seconds']:,.0f} rows/s, {best_export['bytes'] / 1e6:.0f} MB), "
        f"best of {rounds}: {', '.join(f'{r["seconds"]:.2f}' for r in export_runs)}; "
        f"peak RSS of the exporting process {peak:.0f} MB (target <= 150 MB; "
        f"{max(run['rss_before_mb'] for run in export_runs):.0f} MB before the export began)"
    )
    print(
        f"raw csv.writer over the same rows: {best_raw['seconds']:.2f} s, best of {rounds}: "
        f"{', '.join(f'{r["seconds"]:.2f}' for r in raw_runs)}; "
        f"peak RSS {max(r['peak_rss_mb'] for r in raw_runs):.0f} MB"
    )
    print(f"CSV export ratio export/raw: {ratio:.2f} (target <= 2)")
    return ratio, peak


def bench_pdf(workdir: Path, samples: int) -> float:
    from benchmarks.ledger import make_records
    from ev_charging_ledger.reports import document
    from ev_charging_ledger.reports.pdf import statement_pdf

    with Ledger(workdir / "pdf.sqlite3") as ledger:
        person = ledger.add_person("Paula Pdf", ha_user_id="pdf-user", personnel_number="100")
        ledger.add_vehicle("ID.4", plate="B-PD 100", person_id=person.id)
        ledger.add_rate(
            person_id=person.id, vehicle_id=None, valid_from=date(2026, 1, 1), valid_to=None,
            direction="reimburse", basis="fixed_price", price_per_kwh=Decimal("0.30"),
            currency="EUR",
        )  # fmt: skip
        records = []
        for index, record in enumerate(make_records(100, seed=9)):
            start = datetime(2026, 3, 1, 6, tzinfo=UTC) + timedelta(hours=7 * index)
            record["started_at"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
            record["ended_at"] = (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
            record["authorization"]["user_id"] = "pdf-user"
            records.append(record)
        ledger.append_sessions(records)
        timings = []
        size = 0
        for _ in range(samples):
            started = time.perf_counter()
            doc = document.build(ledger, person.id, "2026-03")
            data = statement_pdf([doc], "de")
            timings.append(time.perf_counter() - started)
            size = len(data)
        assert len(doc.rows) == 100
    median = statistics.median(timings)
    print(
        f"PDF statement with 100 sessions (build + render): median {median:.3f} s, "
        f"max {max(timings):.3f} s over {samples}, {size / 1024:.0f} KiB (target <= 1 s)"
    )
    return median


def next_page_cursor(page: str) -> str:
    """The cursor of the page's "next page" link, decoded.

    The href is HTML-escaped and its query URL-encoded (``:`` is ``%3A``); passing that
    text on as a parameter would encode it a second time and the server would rightly
    refuse it as an invalid cursor.
    """
    match = re.search(r'id="next-page" href="([^"]+)"', page)
    assert match is not None, "the page has no next-page link"
    query = parse_qs(urlsplit(html.unescape(match.group(1))).query)
    return query["cursor"][0]


async def _bench_list(path: Path, samples: int) -> float:
    import aiohttp
    from aiohttp.test_utils import TestServer

    from ev_charging_ledger.access import TokenAccess
    from ev_charging_ledger.api import create_app

    with Ledger(path) as ledger:
        app = create_app(ledger, TokenAccess("bench-token", None))
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        headers = {"Authorization": "Bearer bench-token"}
        base = str(server.make_url("/sessions"))
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(base, params={"person_id": "42"}) as first:
                text = await first.text()
            cursor = next_page_cursor(text)
            variants = {
                "newest": {},
                "person": {"person_id": "42"},
                "person+period": {"person_id": "42", "from": "2021-03-01", "to": "2021-05-31"},
                "charger": {"charger": "WB-3"},
                "person, page 2": {"person_id": "42", "cursor": cursor},
            }
            medians: dict[str, float] = {}
            for name, params in variants.items():
                timings = []
                for _ in range(samples):
                    started = time.perf_counter()
                    async with http.get(base, params=params) as response:
                        body = await response.text()
                        assert response.status == 200, body[:300]
                    timings.append((time.perf_counter() - started) * 1000)
                if name != "person+period":
                    assert body.count('class="session-link"') == 50, name
                medians[name] = statistics.median(timings)
        await server.close()
    print(
        "sessions list page (HTML, 50 rows) on the large ledger, median wall time per "
        f"request over {samples}: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in medians.items())
        + " (target <= 100 ms)"
    )
    return max(medians.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="50k sessions, one round")
    parser.add_argument("--ledger", type=Path, help="ledger file to build or reuse")
    parser.add_argument("--child", choices=["export", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        assert args.ledger is not None
        assert args.out is not None
        run = child_export if args.child == "export" else child_raw
        result = run(args.ledger, args.out)
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return
    if args.quick:
        args.sessions, args.rounds, args.samples = 50_000, 1, 5
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as folder:
        workdir = Path(folder)
        path = args.ledger or workdir / "large.sqlite3"
        build(path, args.sessions)
        ratio, peak = bench_csv(path, workdir, args.rounds, args.sessions)
        pdf_s = bench_pdf(workdir, args.samples)
        list_ms = asyncio.run(_bench_list(path, args.samples))
    print(
        f"reports: csv_ratio={ratio:.2f} csv_peak_rss_mb={peak:.0f} pdf_s={pdf_s:.2f} "
        f"list_ms={list_ms:.1f}"
    )


if __name__ == "__main__":
    main()
