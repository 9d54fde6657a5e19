"""Report settings from the add-on options (or defaults in standalone mode)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .tabular import PayrollSettings


@dataclass(frozen=True, slots=True)
class ReportSettings:
    payroll: PayrollSettings = field(default_factory=PayrollSettings)
    # Local time zone of the UI's date filters and of imported evcc times.
    time_zone: str = "Europe/Berlin"
    # Scheduled delivery: statements go to share_dir/<YYYY-MM>/; None disables it.
    share_dir: Path | None = None
    # "" = persistent notification; "notify.xyz" or "xyz" = that notify service.
    notify_service: str = ""
    language: str = "en"
