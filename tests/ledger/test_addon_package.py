"""The add-on's packaging, checked against the Supervisor's rules (the image cannot be
built here: no Docker engine). Rules from aesthetics.md section 5."""

from __future__ import annotations

import importlib.metadata
import os
import re
import struct
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import ev_charging_ledger

REPO = Path(__file__).resolve().parents[2]
ADDON = REPO / "addon"
SCHEMA_TYPE = re.compile(
    r"^(str|bool|email|url|password|port|device|"
    r"(int|float)(\((-?\d+(\.\d+)?)?,(-?\d+(\.\d+)?)?\))?|"
    r"match\(.+\)|list\([^|()]+(\|[^|()]+)*\))\??$"
)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data = yaml.safe_load((ADDON / "config.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_required_keys_and_identity(config: dict[str, Any]) -> None:
    for key in ("name", "version", "slug", "description", "arch"):
        assert config.get(key), key
    assert config["slug"] == "ev_charging_ledger"
    assert set(config["arch"]) == {"aarch64", "amd64"}
    assert config["version"] == ev_charging_ledger.__version__
    assert isinstance(config["version"], str)
    assert "build_from" not in config
    assert config["image"].startswith("ghcr.io/")


def test_ingress_panel_and_home_assistant_access(config: dict[str, Any]) -> None:
    assert config["ingress"] is True
    assert isinstance(config["ingress_port"], int)
    assert 1024 <= config["ingress_port"] < 65536
    assert re.fullmatch(r"mdi:[a-z0-9-]+", config["panel_icon"])
    assert config["panel_title"]
    assert config["panel_admin"] is False
    assert config["homeassistant_api"] is True
    assert config["discovery"] == ["ev_charging_monitor"]
    assert config["init"] is False
    assert config["watchdog"] == f"http://[HOST]:[PORT:{config['ingress_port']}]/health"
    assert "ports" not in config  # ingress only: nothing exposed on the host


def test_options_match_schema(config: dict[str, Any]) -> None:
    options, schema = config["options"], config["schema"]
    assert set(options) == set(schema)
    for name, spec in schema.items():
        assert SCHEMA_TYPE.match(spec), f"{name}: {spec!r} is not a Supervisor schema type"
        value = options[name]
        if spec.startswith("int("):
            low, high = (int(part) for part in spec[4:-1].split(","))
            assert isinstance(value, int)
            assert low <= value <= high
        elif spec.startswith("list("):
            assert value in spec[5:].rstrip("?)").split("|")


def test_translations_describe_every_option(config: dict[str, Any]) -> None:
    for language in ("en", "de"):
        data = yaml.safe_load((ADDON / "translations" / f"{language}.yaml").read_text("utf-8"))
        described = data["configuration"]
        assert set(described) == set(config["schema"]), language
        for name, text in described.items():
            assert text["name"], (language, name)
            assert text["description"], (language, name)


def test_backup_keeps_the_database_consistent(config: dict[str, Any]) -> None:
    assert config["backup"] == "hot"
    hook = ADDON / "rootfs" / config["backup_pre"].lstrip("/")
    assert hook.is_file()
    assert os.access(hook, os.X_OK)
    assert "snapshot --data-dir /data" in hook.read_text()
    assert set(config["backup_exclude"]) == {
        "ledger.sqlite3",
        "ledger.sqlite3-wal",
        "ledger.sqlite3-shm",
    }


def test_s6_service_runs_the_app() -> None:
    service = ADDON / "rootfs/etc/s6-overlay/s6-rc.d/ledger"
    assert (service / "type").read_text().strip() == "longrun"
    run = service / "run"
    assert os.access(run, os.X_OK)
    assert os.access(service / "finish", os.X_OK)
    assert "exec python3 -m ev_charging_ledger --addon" in run.read_text()
    assert (ADDON / "rootfs/etc/s6-overlay/s6-rc.d/user/contents.d/ledger").exists()


def _requirements() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ADDON / "app" / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"not pinned with ==: {line}"
            pins[name] = version
    return pins


def test_requirements_are_the_tested_versions() -> None:
    pins = _requirements()
    assert {"aiohttp", "cryptography", "yarl", "jinja2", "xlsxwriter", "fpdf2"} <= set(pins)
    installed = {name: importlib.metadata.version(name) for name in pins}
    assert pins == installed


# The image's interpreter: Alpine's python3 on Linux (see the Dockerfile).
IMAGE_ENVIRONMENT = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "aarch64",
    "extra": "",
}


def test_requirements_cover_the_runtime_dependency_tree() -> None:
    pins = {canonicalize_name(name) for name in _requirements()}
    needed: set[str] = set()
    todo = ["aiohttp", "cryptography", "yarl", "jinja2", "xlsxwriter", "fpdf2", "jsonschema-rs"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in needed:
            continue
        needed.add(name)
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate(IMAGE_ENVIRONMENT):
                todo.append(requirement.name)
    assert needed == pins


def test_dockerfile_uses_pinned_base_and_installs_exactly_the_requirements() -> None:
    text = (ADDON / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", text, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"ghcr\.io/home-assistant/base:\d+\.\d+(\.\d+)?", base.group(1))
    assert "BUILD_FROM" not in text
    assert "COPY app/requirements.txt /tmp/requirements.txt" in text
    installs = re.findall(r"pip install(?:[^\n]*\\\n)*[^\n]*", text)
    assert len(installs) == 1
    assert "-r /tmp/requirements.txt" in installs[0]
    assert "Python 3.12" in text
    assert f'io.hass.version="{ev_charging_ledger.__version__}"' in text


def test_documentation_and_images() -> None:
    docs = (ADDON / "DOCS.md").read_text()
    for needed in ("--ha-url", "verify", "EVCL_API_TOKEN", "Python 3.12", "retention_years"):
        assert needed in docs, needed
    changelog = (ADDON / "CHANGELOG.md").read_text()
    assert f"## {ev_charging_ledger.__version__}" in changelog
    assert (ADDON / "README.md").read_text().startswith("# EV Charging Ledger")
    for name, size in (("icon.png", (128, 128)), ("logo.png", (250, 100))):
        header = (ADDON / name).read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", header[16:24]) == size


def test_no_other_config_yaml_in_the_repository() -> None:
    # The Supervisor finds add-ons by searching for config.yaml recursively.
    found = []
    for folder, folders, files in os.walk(REPO):
        folders[:] = [
            name for name in folders if not name.startswith(".") and name != "test-artifacts"
        ]
        found += [Path(folder, name).relative_to(REPO) for name in files if name == "config.yaml"]
    assert found == [Path("addon/config.yaml")]
