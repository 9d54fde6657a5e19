"""The figures of the whole fault matrix, gathered run by run and printed once at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

from .invariant import Verdict


@dataclass
class Tally:
    """Every run's verdict, by scenario."""

    seed: int = 0
    verdict: Verdict = field(default_factory=Verdict)
    scenarios: set[str] = field(default_factory=set)
    runs: int = 0
    failing: dict[str, int] = field(default_factory=dict)  # scenario -> runs that failed

    def add(self, scenario: str, verdict: Verdict) -> None:
        """One run of `scenario` was checked."""
        self.scenarios.add(scenario)
        self.runs += 1
        self.verdict.add(verdict)
        if not verdict.ok:
            self.failing[scenario] = self.failing.get(scenario, 0) + 1

    def line(self) -> str:
        """The one figure line."""
        v = self.verdict
        return (
            f"faults: scenarios={len(self.scenarios)} runs={self.runs} sessions={v.sessions} "
            f"exact={v.exact} estimated={v.estimated} lost={v.lost} merged={v.merged} "
            f"phantom={v.phantom} duplicate={v.duplicate} inexact={v.inexact} "
            f"unpriced={v.unpriced} invalid={v.invalid} seed={self.seed}"
        )


TALLY = Tally()
