"""The integration installs where users run it: under Home Assistant's package constraints.

Home Assistant installs a custom integration's requirements with pip and its own
`package_constraints.txt`; a requirement that contradicts a constraint ends in
"Requirements not found" and the integration never loads. These tests read the
constraints of the Home Assistant installed for the tests, the same file a user's
installation of that release has.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import homeassistant
import pytest
from homeassistant.util.package import is_installed
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "custom_components" / "ev_charging_monitor" / "manifest.json"
CONSTRAINTS = Path(homeassistant.__file__).parent / "package_constraints.txt"


def _requirements(text: str) -> dict[str, list[Requirement]]:
    """Requirement lines by canonical package name (comments and blank lines skipped)."""
    found: dict[str, list[Requirement]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        found.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return found


def _manifest_requirements() -> list[Requirement]:
    return [Requirement(r) for r in json.loads(MANIFEST.read_text())["requirements"]]


def _pinned(requirement: Requirement) -> str | None:
    """The version of an exact `==` pin, else None."""
    exact = [s.version for s in requirement.specifier if s.operator == "=="]
    return exact[0] if len(exact) == 1 else None


def _constraint_violations(requirement: Requirement, constraints: str) -> list[str]:
    """What makes `requirement` unsatisfiable next to Home Assistant's constraints."""
    problems = []
    for constraint in _requirements(constraints).get(canonicalize_name(requirement.name), []):
        pinned = _pinned(constraint)
        if pinned is not None and pinned not in requirement.specifier:
            problems.append(f"{requirement} contradicts Home Assistant's {constraint}")
        own = _pinned(requirement)
        if own is not None and own not in constraint.specifier:
            problems.append(f"{requirement} contradicts Home Assistant's {constraint}")
    return problems


def test_the_check_sees_a_contradicting_pin() -> None:
    """The check itself: the pin that stopped real installations is caught."""
    constraints = "# comment\npymodbus==3.13.1\nurllib3>=2.0\n"
    assert _constraint_violations(Requirement("pymodbus==3.16.1"), constraints)
    assert _constraint_violations(Requirement("urllib3==1.26.0"), constraints)
    assert not _constraint_violations(Requirement("pymodbus==3.13.1"), constraints)
    assert not _constraint_violations(Requirement("pymodbus>=3.12,<3.17"), constraints)


@pytest.mark.parametrize("requirement", _manifest_requirements(), ids=str)
def test_manifest_requirement_installs_under_home_assistants_constraints(
    requirement: Requirement,
) -> None:
    """No manifest requirement contradicts a constraint of the installed Home Assistant."""
    assert _constraint_violations(requirement, CONSTRAINTS.read_text()) == []


@pytest.mark.parametrize("requirement", _manifest_requirements(), ids=str)
def test_manifest_requirement_is_exactly_the_constrained_version(
    requirement: Requirement,
) -> None:
    """Where Home Assistant pins a package, the manifest pins the same version."""
    for constraint in _requirements(CONSTRAINTS.read_text()).get(
        canonicalize_name(requirement.name), []
    ):
        if (pinned := _pinned(constraint)) is not None:
            assert _pinned(requirement) == pinned, f"{requirement} vs {constraint}"


@pytest.mark.parametrize("requirement", _manifest_requirements(), ids=str)
def test_manifest_requirement_is_what_the_tests_run_with(requirement: Requirement) -> None:
    """Home Assistant skips pip when the installed version satisfies the requirement;
    the tests run exactly that version, so they test what users get."""
    assert is_installed(str(requirement)), (
        f"{requirement} but the tests run {requirement.name} {version(requirement.name)}"
    )


def test_lock_was_resolved_against_the_installed_constraints() -> None:
    """requirements/ha-constraints.txt is the installed release's file, and every package of
    the lock that Home Assistant pins is at that version (scripts/lock keeps both true)."""
    assert (REPO / "requirements" / "ha-constraints.txt").read_text() == CONSTRAINTS.read_text()
    constraints = _requirements(CONSTRAINTS.read_text())
    lock = _requirements((REPO / "requirements" / "test.txt").read_text())
    problems = [
        f"{locked} contradicts {constraint}"
        for name, (locked, *_) in lock.items()
        for constraint in constraints.get(name, [])
        if (pin := _pinned(locked)) is not None and pin not in constraint.specifier
    ]
    assert problems == []


def test_home_assistants_frontend_dependencies_are_installed() -> None:
    """The packages of core and default_config are installed, so the UI loads (without
    hassil the frontend stays on "Loading...")."""
    runtime = _requirements((REPO / "requirements" / "ha-runtime.txt").read_text())
    assert {"hassil", "home-assistant-intents", "home-assistant-frontend"} <= set(runtime)
    missing = [str(r) for (r, *_) in runtime.values() if not is_installed(str(r))]
    assert missing == []
