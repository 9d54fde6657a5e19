"""manifest.json, hacs.json and translations follow the rules hassfest and HACS apply."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant import components
from homeassistant.const import Platform
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.loader import Manifest

REPO = Path(__file__).resolve().parent.parent
COMPONENT = REPO / "custom_components" / "ev_charging_monitor"

# Keys hassfest requires for every integration, and those HACS adds for custom ones.
HASSFEST_REQUIRED = {
    "domain",
    "name",
    "codeowners",
    "documentation",
    "integration_type",
    "iot_class",
    "requirements",
}
HACS_REQUIRED = {"version", "issue_tracker"}
IOT_CLASSES = {
    "assumed_state",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
    "calculated",
}
INTEGRATION_TYPES = {"device", "hub", "service", "helper", "entity", "hardware", "system"}


def _manifest() -> dict[str, object]:
    data: dict[str, object] = json.loads((COMPONENT / "manifest.json").read_text())
    return data


def test_manifest_keys() -> None:
    """Every required key is there and has a valid value."""
    manifest = _manifest()
    assert manifest.keys() >= HASSFEST_REQUIRED | HACS_REQUIRED
    assert set(manifest) <= set(Manifest.__annotations__)
    assert manifest["domain"] == COMPONENT.name
    assert manifest["iot_class"] in IOT_CLASSES
    assert manifest["integration_type"] in INTEGRATION_TYPES
    assert manifest["config_flow"] is True
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(manifest["version"]))
    assert all(str(c).startswith("@") for c in manifest["codeowners"])  # type: ignore[attr-defined]
    # hassfest: manifest keys sorted domain, name, then alphabetically.
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_values_follow_hassfest() -> None:
    """hassfest's custom integration manifest schema: https documentation and issue
    tracker, a version AwesomeVersion can read, lowercase zeroconf matchers, no domain of a
    core integration."""
    manifest = _manifest()
    for key in ("documentation", "issue_tracker"):
        assert urlparse(str(manifest[key])).scheme == "https", key
        assert urlparse(str(manifest[key])).netloc, key
    version = AwesomeVersion(
        str(manifest["version"]),
        ensure_strategy=[
            AwesomeVersionStrategy.CALVER,
            AwesomeVersionStrategy.SEMVER,
            AwesomeVersionStrategy.SIMPLEVER,
            AwesomeVersionStrategy.BUILDVER,
            AwesomeVersionStrategy.PEP440,
        ],
    )
    assert version.valid
    for matcher in manifest.get("zeroconf", []):  # type: ignore[attr-defined]
        if isinstance(matcher, dict):
            assert set(matcher) <= {"type", "name", "macaddress", "manufacturer", "properties"}
            assert str(matcher.get("name", "")).lower() == matcher.get("name", "")
        else:
            assert str(matcher).endswith(".local.")
    assert not (Path(components.__file__).parent / str(manifest["domain"])).exists()


def test_hacs_minimum_is_not_newer_than_the_tested_home_assistant() -> None:
    """HACS refuses to install on an older Home Assistant; the tests run the installed one."""
    hacs = json.loads((REPO / "hacs.json").read_text())
    assert AwesomeVersion(hacs["homeassistant"]) <= AwesomeVersion(HA_VERSION)


def test_hacs_json() -> None:
    """hacs.json has a name and a minimum Home Assistant version we test against."""
    hacs = json.loads((REPO / "hacs.json").read_text())
    assert hacs["name"] == _manifest()["name"]
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", hacs["homeassistant"])
    assert hacs["render_readme"] is True
    assert set(hacs) <= {
        "name",
        "homeassistant",
        "render_readme",
        "content_in_root",
        "zip_release",
        "filename",
        "hide_default_branch",
        "country",
        "hacs",
        "persistent_directory",
    }


def test_platform_modules_exist() -> None:
    """Every platform the integration forwards to has its module."""
    from custom_components.ev_charging_monitor import PLATFORMS

    for platform in PLATFORMS:
        assert isinstance(platform, Platform)
        assert (COMPONENT / f"{platform.value}.py").is_file()


def _keys(tree: object, prefix: str = "") -> set[str]:
    if isinstance(tree, dict):
        return {k for key, value in tree.items() for k in _keys(value, f"{prefix}{key}.")}
    return {prefix.rstrip(".")}


def test_translations_complete() -> None:
    """en.json is strings.json resolved; German has exactly the same keys."""
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "translations.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    english = json.loads((COMPONENT / "translations" / "en.json").read_text())
    german = json.loads((COMPONENT / "translations" / "de.json").read_text())
    assert _keys(german) == _keys(english)
    placeholders = re.compile(r"\{[a-z_]+\}")
    flat_en = _flatten(english)
    for key, text in _flatten(german).items():
        assert set(placeholders.findall(text)) == set(placeholders.findall(flat_en[key])), key


def _flatten(tree: dict[str, object], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out
