"""Run settings from arguments, environment variables or the add-on's options."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yarl import URL

from ev_charging_ledger.homeassistant import websocket_url
from ev_charging_ledger.reports.settings import ReportSettings
from ev_charging_ledger.reports.tabular import PayrollSettings

ADDON_OPTIONS = Path("/data/options.json")
ADDON_WEBSOCKET = "ws://supervisor/core/websocket"
ADDON_LISTEN = ("0.0.0.0", 8099)
ADDON_SHARE = Path("/share/ev_charging_ledger")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is shown to the user as is."""


@dataclass(frozen=True, slots=True)
class Settings:
    ws_url: str
    token: str
    data_dir: Path
    host: str
    port: int
    api_token: str | None
    addon: bool
    retention_years: int | None = None
    log_level: str = "info"
    # Where browsers reach the ledger (standalone): its client id at Home Assistant.
    public_url: str | None = None
    reports: ReportSettings = field(default_factory=ReportSettings)

    @property
    def database(self) -> Path:
        return self.data_dir / "ledger.sqlite3"


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingsError(f"--listen must be HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port_text)


def standalone(
    *,
    ha_url: str | None,
    token: str | None,
    data_dir: str | None,
    listen: str | None,
    api_token: str | None,
    share_dir: str | None = None,
    notify_service: str | None = None,
    public_url: str | None = None,
) -> Settings:
    share_dir = share_dir or os.environ.get("EVCL_SHARE_DIR")
    notify_service = notify_service or os.environ.get("EVCL_NOTIFY_SERVICE") or ""
    ha_url = ha_url or os.environ.get("EVCL_HA_URL")
    token = token or os.environ.get("EVCL_HA_TOKEN")
    data_dir = data_dir or os.environ.get("EVCL_DATA_DIR")
    listen = listen or os.environ.get("EVCL_LISTEN") or "127.0.0.1:8099"
    api_token = api_token or os.environ.get("EVCL_API_TOKEN")
    missing = [
        name
        for name, value in (
            ("--ha-url/EVCL_HA_URL", ha_url),
            ("--token/EVCL_HA_TOKEN", token),
            ("--data-dir/EVCL_DATA_DIR", data_dir),
        )
        if not value
    ]
    if missing:
        raise SettingsError("missing " + ", ".join(missing))
    assert ha_url is not None
    assert token is not None
    assert data_dir is not None
    try:
        url = websocket_url(ha_url)
    except ValueError as err:
        raise SettingsError(f"--ha-url: {err}") from err
    host, port = parse_listen(listen)
    public = parse_public_url(public_url or os.environ.get("EVCL_PUBLIC_URL"), host, port)
    reports = ReportSettings(
        share_dir=Path(share_dir) if share_dir else None, notify_service=notify_service
    )
    return Settings(
        url,
        token,
        Path(data_dir),
        host,
        port,
        api_token,
        addon=False,
        public_url=public,
        reports=reports,
    )


def parse_public_url(text: str | None, host: str, port: int) -> str:
    """The ledger's URL as browsers open it; by default its listen address."""
    if not text:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        shown = f"[{shown}]" if ":" in shown else shown
        return f"http://{shown}:{port}"
    url = URL(text.strip())
    if url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        raise SettingsError(
            f"--public-url must be an http(s) URL like http://host:8099, not {text!r}"
        )
    if url.user is not None or url.password is not None:
        raise SettingsError("--public-url must not contain a user or password")
    if url.path not in ("", "/"):
        # The login's pages and cookie live at the root of the host.
        raise SettingsError(f"--public-url must be the root of a host, without a path: {text!r}")
    return str(url).rstrip("/")


def report_settings(options: dict[str, object], share_dir: Path | None) -> ReportSettings:
    """The report options of the add-on (names as in config.yaml)."""
    zone = str(options.get("time_zone") or "Europe/Berlin")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise SettingsError(f"time_zone: unknown time zone {zone!r}") from err
    wage_type = str(options.get("payroll_wage_type") or "9979")
    try:
        columns = PayrollSettings.parse_columns(
            str(options.get("payroll_columns") or "personnel_number,month,wage_type,amount")
        )
    except ValueError as err:
        raise SettingsError(str(err)) from err
    language = str(options.get("report_language") or "de")
    return ReportSettings(
        payroll=PayrollSettings(wage_type=wage_type, columns=columns),
        time_zone=zone,
        share_dir=share_dir if options.get("monthly_delivery", True) else None,
        notify_service=str(options.get("notify_service") or ""),
        language=language if language in ("en", "de") else "de",
    )


def addon(options_path: Path = ADDON_OPTIONS) -> Settings:
    token = os.environ.get("SUPERVISOR_TOKEN")
    if not token:
        raise SettingsError("SUPERVISOR_TOKEN is not set: --addon only works inside the add-on")
    try:
        options = json.loads(options_path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise SettingsError(f"cannot read the add-on options {options_path}: {err}") from err
    years = options.get("retention_years")
    if years is not None and (not isinstance(years, int) or years < 1):
        raise SettingsError("retention_years must be a positive whole number")
    return Settings(
        ws_url=ADDON_WEBSOCKET,
        token=token,
        data_dir=options_path.parent,
        host=ADDON_LISTEN[0],
        port=ADDON_LISTEN[1],
        api_token=None,
        addon=True,
        retention_years=years,
        log_level=str(options.get("log_level") or "info"),
        reports=report_settings(options, ADDON_SHARE),
    )
