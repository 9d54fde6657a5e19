"""Command line: ``python -m ev_charging_ledger [run options] | verify | verify-statement |
snapshot``.

Errors the user can fix are one line on stderr and exit code 2; ``verify`` exits 1
when the chain is broken or a session's signed meter values no longer prove it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from ev_charging_ledger import __version__, i18n, settings
from ev_charging_ledger.service import StartupError, open_ledger, serve, write_snapshot

PROG = "python -m ev_charging_ledger"


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="EV Charging Ledger: stores Home Assistant's charging sessions in a "
        "tamper-evident ledger and serves its API. Subcommands: 'verify' checks the hash "
        "chain and the signed meter values, 'verify-statement' checks a statement's "
        "content hash, 'snapshot' writes a consistent copy for backups.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--ha-url", help="Home Assistant URL, e.g. http://127.0.0.1:8123 [EVCL_HA_URL]"
    )
    parser.add_argument(
        "--token", help="Home Assistant long-lived access token of an admin user [EVCL_HA_TOKEN]"
    )
    parser.add_argument("--data-dir", help="directory of the ledger database [EVCL_DATA_DIR]")
    parser.add_argument(
        "--listen", help="HOST:PORT of the API (default 127.0.0.1:8099) [EVCL_LISTEN]"
    )
    parser.add_argument("--api-token", help="bearer token with full API access [EVCL_API_TOKEN]")
    parser.add_argument(
        "--public-url",
        help="URL at which browsers open the ledger, its client id for 'Log in with Home "
        "Assistant' (default http://LISTEN-ADDRESS) [EVCL_PUBLIC_URL]",
    )
    parser.add_argument(
        "--share-dir",
        help="folder for the monthly statements, delivered on the first of each month "
        "(off when not set) [EVCL_SHARE_DIR]",
    )
    parser.add_argument(
        "--notify-service",
        help="notify service for the monthly message instead of a persistent notification, "
        "e.g. notify.mobile_app_phone [EVCL_NOTIFY_SERVICE]",
    )
    parser.add_argument(
        "--addon",
        action="store_true",
        help="run as the Home Assistant add-on (Supervisor token, /data)",
    )
    parser.add_argument("--log-level", default=None, choices=["debug", "info", "warning", "error"])
    return parser


def _data_dir_parser(command: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"{PROG} {command}", description=description)
    parser.add_argument("--data-dir", help="directory of the ledger database [EVCL_DATA_DIR]")
    return parser


def _data_dir(value: str | None) -> Path:
    text = value or os.environ.get("EVCL_DATA_DIR")
    if not text:
        raise StartupError("missing --data-dir/EVCL_DATA_DIR")
    return Path(text)


def verify(argv: Sequence[str]) -> int:
    parser = _data_dir_parser(
        "verify", "Walk the hash chain and re-verify the signed meter values (OCMF)."
    )
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default="en", help="language")
    args = parser.parse_args(argv)
    data_dir = _data_dir(args.data_dir)
    if not (data_dir / "ledger.sqlite3").exists():
        raise StartupError(f"no ledger in {data_dir}")
    with open_ledger(data_dir) as ledger:
        report = ledger.verify()
    chained = (
        f"{report.sessions_checked} sessions and {report.adjustments_checked} adjustments verified"
    )
    if report.first_problem is not None:
        print(f"BROKEN: {report.first_problem.describe()}")
    elif report.ok:
        print(f"ok: {chained}")
    else:
        print(
            f"BROKEN: {report.ocmf_failures_total} check(s) of signed meter values (OCMF) "
            f"failed; the chain is intact ({chained})"
        )
    print(i18n.text(args.lang, "ocmf_checked").format(count=report.ocmf_checked))
    for failure in report.ocmf_failures:
        line = i18n.ocmf_failure(args.lang, failure.as_json())
        print(f"OCMF: {line} ({failure.detail})")
    hidden = report.ocmf_failures_total - len(report.ocmf_failures)
    if hidden:
        print("OCMF: " + i18n.text(args.lang, "ocmf_failures_more").format(count=hidden))
    # An intact chain can still record that sessions are missing; never leave that out.
    for gap in report.gaps:
        print(f"GAP: {gap}")
    for restore in report.restores:
        print(f"RESTORE: {restore}")
    return 0 if report.ok else 1


def verify_statement(argv: Sequence[str]) -> int:
    """Recompute a statement and compare the content hash printed on it."""
    parser = _data_dir_parser(
        "verify-statement",
        "Recompute a monthly statement from the ledger and compare it with the content hash "
        "printed on its PDF, XLSX or page. Exit code 0: it matches; 1: it does not.",
    )
    parser.add_argument("--person", type=int, required=True, help="person id (on the statement)")
    parser.add_argument("--month", required=True, help="month of the statement, YYYY-MM")
    parser.add_argument("--hash", required=True, help="the content hash printed on it")
    parser.add_argument(
        "--vehicle", default="all", help="all (default), none, or the vehicle id printed on it"
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", args.month):
        raise StartupError(f"--month must be YYYY-MM, not {args.month!r}")
    if not re.fullmatch(r"all|none|[1-9][0-9]{0,17}", args.vehicle):
        raise StartupError("--vehicle must be all, none or a vehicle id")
    data_dir = _data_dir(args.data_dir)
    if not (data_dir / "ledger.sqlite3").exists():
        raise StartupError(f"no ledger in {data_dir}")
    from ev_charging_ledger.reports.document import build_scoped

    with open_ledger(data_dir) as ledger:
        if ledger.person(args.person) is None:
            raise StartupError(f"no person {args.person} in the ledger")
        document = build_scoped(ledger, args.person, args.month, args.vehicle)
    if document.content_hash == args.hash.strip().lower():
        print(f"ok: the statement of person {args.person} for {args.month} matches the ledger")
        return 0
    print(
        f"DIFFERENT: the statement of person {args.person} for {args.month} does not match; "
        f"the ledger's statement now has content hash {document.content_hash}"
    )
    return 1


def snapshot(argv: Sequence[str]) -> int:
    args = _data_dir_parser(
        "snapshot", "Write a consistent copy of the ledger for a backup."
    ).parse_args(argv)
    target = write_snapshot(_data_dir(args.data_dir))
    print(f"snapshot written to {target}")
    return 0


def run(argv: Sequence[str]) -> int:
    args = _run_parser().parse_args(argv)
    if args.addon:
        config = settings.addon()
    else:
        config = settings.standalone(
            ha_url=args.ha_url,
            token=args.token,
            data_dir=args.data_dir,
            listen=args.listen,
            api_token=args.api_token,
            share_dir=args.share_dir,
            notify_service=args.notify_service,
            public_url=args.public_url,
        )
    logging.basicConfig(
        level=(args.log_level or config.log_level).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(serve(config))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    commands = {"verify": verify, "verify-statement": verify_statement, "snapshot": snapshot}
    try:
        if arguments and arguments[0] in commands:
            return commands[arguments[0]](arguments[1:])
        return run(arguments)
    except (StartupError, settings.SettingsError) as err:
        print(f"ev_charging_ledger: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
