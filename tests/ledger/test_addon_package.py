"""The add-on's packaging: what the Supervisor builds and runs (the image cannot be built
here: no Docker engine). The config's keys against the Supervisor's schema and the
linter's rules are in tests/test_ecosystem.py."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import importlib.metadata
import json
import os
import re
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

import ev_charging_ledger
from ev_charging_ledger import service, settings, supervisor
from tests.ledger.ledger_process import free_port

REPO = Path(__file__).resolve().parents[2]
ADDON = REPO / "addon"
DOCKERFILE = ADDON / "Dockerfile"
# Home Assistant's Python base image: ghcr.io/home-assistant/base-python:<python>-alpine<alpine>
BASE_IMAGE = re.compile(
    r"^FROM ghcr\.io/home-assistant/base-python:(?P<python>3\.\d+)-alpine(?P<alpine>3\.\d+)$",
    re.MULTILINE,
)
# Alpine releases for which base-python 3.14 is published; all ship musl 1.2.
ALPINE_MUSL = {"3.21": (1, 2), "3.22": (1, 2), "3.23": (1, 2), "3.24": (1, 2)}
# The Supervisor's architectures and the machine names of their wheels.
WHEEL_MACHINES = {"amd64": "x86_64", "aarch64": "aarch64"}
ROOT_REQUIREMENTS = (
    "aiohttp",
    "cryptography",
    "yarl",
    "jinja2",
    "xlsxwriter",
    "fpdf2",
    "jsonschema-rs",
)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data = yaml.safe_load((ADDON / "config.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def _base_image() -> re.Match[str]:
    found = BASE_IMAGE.search(DOCKERFILE.read_text("utf-8"))
    assert found is not None, "the Dockerfile must build FROM a pinned base-python image"
    return found


def _image_python() -> tuple[int, int]:
    major, minor = _base_image().group("python").split(".")
    return int(major), int(minor)


def _image_musl() -> tuple[int, int]:
    return ALPINE_MUSL[_base_image().group("alpine")]


# ------------------------------------------------------------------ identity and runtime


def test_required_keys_and_identity(config: dict[str, Any]) -> None:
    for key in ("name", "version", "slug", "description", "arch"):
        assert config.get(key), key
    assert config["slug"] == "ev_charging_ledger"
    assert set(config["arch"]) == set(WHEEL_MACHINES)
    assert config["version"] == ev_charging_ledger.__version__
    assert isinstance(config["version"], str)
    # No workflow publishes an image: the Supervisor builds addon/Dockerfile instead.
    assert "image" not in config
    assert not (ADDON / "build.yaml").exists()  # deprecated; the Dockerfile holds it all


def test_ingress_panel_and_home_assistant_access(config: dict[str, Any]) -> None:
    assert config["ingress"] is True
    # ingress_port is left at the Supervisor's default, 8099: the port the app listens on.
    assert "ingress_port" not in config
    assert settings.ADDON_LISTEN == ("0.0.0.0", 8099)
    assert re.fullmatch(r"mdi:[a-z0-9-]+", config["panel_icon"])
    assert config["panel_title"]
    assert config["panel_admin"] is False
    assert config["homeassistant_api"] is True
    assert config["discovery"] == [supervisor.SERVICE] == ["ev_charging_monitor"]
    assert config["init"] is False  # s6-overlay v3 is the init
    assert "watchdog" not in config  # the Dockerfile's HEALTHCHECK replaces it
    assert "ports" not in config  # ingress only: nothing exposed on the host


def test_backup_keeps_the_database_consistent(config: dict[str, Any]) -> None:
    assert config.get("backup", "hot") == "hot"  # backup_pre runs only for hot backups
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
    service_dir = ADDON / "rootfs/etc/s6-overlay/s6-rc.d/ledger"
    assert (service_dir / "type").read_text().strip() == "longrun"
    run = service_dir / "run"
    assert os.access(run, os.X_OK)
    assert os.access(service_dir / "finish", os.X_OK)
    assert "exec python3 -m ev_charging_ledger --addon" in run.read_text()
    assert (ADDON / "rootfs/etc/s6-overlay/s6-rc.d/user/contents.d/ledger").exists()


# -------------------------------------------------------------------------- Dockerfile


def test_image_python_is_the_tests_python() -> None:
    """The ledger's tests run on the interpreter version the image runs."""
    assert _image_python() == sys.version_info[:2] == (3, 14)
    assert _base_image().group("alpine") in ALPINE_MUSL


def test_dockerfile_builds_as_the_supervisor_does() -> None:
    """Supervisor 2026.04+ passes BUILD_VERSION and BUILD_ARCH but no BUILD_FROM, and reads
    no build.yaml settings: the Dockerfile names its base itself."""
    text = DOCKERFILE.read_text("utf-8")
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) == 1
    assert "BUILD_FROM" not in text
    args = re.findall(r"^ARG (\w+)", text, re.MULTILINE)
    assert {"BUILD_VERSION", "BUILD_ARCH"} <= set(args)
    label_at = text.index("LABEL")
    assert all(text.index(f"ARG {arg}") < label_at for arg in ("BUILD_VERSION", "BUILD_ARCH"))
    labels = dict(re.findall(r'^\s+([\w.]+)="([^"]*)"', text[label_at:], re.MULTILINE))
    assert labels["io.hass.type"] == "app"  # "addon" is the legacy value
    assert labels["io.hass.version"] == "${BUILD_VERSION}"
    assert labels["io.hass.arch"] == "${BUILD_ARCH}"
    assert labels["io.hass.name"]
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    # The image's own Python, not Alpine's python3 package (another version).
    assert not re.search(r"apk add[^\n]*python3", text)


def test_dockerfile_installs_exactly_the_requirements_from_wheels() -> None:
    text = DOCKERFILE.read_text("utf-8")
    assert "COPY app/requirements.txt /tmp/requirements.txt" in text
    installs = re.findall(r"pip install(?:[^\n]*\\\n)*[^\n]*", text)
    assert len(installs) == 1
    assert "--only-binary=:all:" in installs[0]
    assert "-r /tmp/requirements.txt" in installs[0]
    assert f"sys.version_info[:2] == {_image_python()}" in text  # the build checks it too


def test_healthcheck_is_exec_form_against_the_public_health_endpoint() -> None:
    """hadolint DL3025: JSON (exec) form. The check asks the app's /health on the ingress
    port; curl (in the base image) exits non-zero on a refused connection or HTTP error."""
    text = DOCKERFILE.read_text("utf-8")
    healthcheck = r"^HEALTHCHECK (?P<options>(?:[^\n]*\\\n)*?)\s*CMD (?P<argv>\[.*\])$"
    found = re.search(healthcheck, text, re.MULTILINE)
    assert found is not None
    argv = json.loads(found.group("argv"))
    assert argv[0] == "curl"
    assert "--fail" in argv
    assert argv[-1] == f"http://127.0.0.1:{settings.ADDON_LISTEN[1]}/health"
    assert re.search(r"--start-period=\d+s", found.group("options"))


# ------------------------------------------------------------------------- requirements


def _requirements() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ADDON / "app" / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"not pinned with ==: {line}"
            pins[canonicalize_name(name)] = version
    return pins


def test_requirements_are_the_tested_versions() -> None:
    """The image installs exactly what the ledger's tests run with."""
    pins = _requirements()
    assert {canonicalize_name(name) for name in ROOT_REQUIREMENTS} <= set(pins)
    installed = {name: importlib.metadata.version(name) for name in pins}
    assert pins == installed


def _image_environment() -> dict[str, str]:
    major, minor = _image_python()
    return {
        "python_version": f"{major}.{minor}",
        "python_full_version": f"{major}.{minor}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "platform_machine": "aarch64",
        "extra": "",
    }


def test_requirements_cover_the_runtime_dependency_tree() -> None:
    """Every package the image's Python needs is pinned; a pin beyond that is at least a
    declared dependency of a pinned package (on some Python), never a stray one."""
    environment = _image_environment()
    pins = set(_requirements())
    needed: set[str] = set()
    declared: set[str] = set()
    todo = list(ROOT_REQUIREMENTS)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in needed:
            continue
        needed.add(name)
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            declared.add(canonicalize_name(requirement.name))
            if requirement.marker is None or requirement.marker.evaluate(environment):
                todo.append(requirement.name)
    assert needed <= pins, needed - pins
    assert pins - needed <= declared, pins - needed - declared


def _pip(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def package_index() -> None:
    """Skip (with the reason) only when the package index cannot be reached at all."""
    probe = _pip("index", "versions", "pip", "--timeout", "15", "--retries", "1", timeout=120)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"the package index is unreachable from here ({last})")


def _image_tags(machine: str) -> set[Tag]:
    """The wheel tags the image's CPython accepts on musl, worked out independently of pip."""
    python = _image_python()
    musl_major, musl_minor = _image_musl()
    platforms = [f"musllinux_{musl_major}_{minor}_{machine}" for minor in range(musl_minor, -1, -1)]
    return set(cpython_tags(python, platforms=platforms)) | set(
        compatible_tags(python, f"cp{python[0]}{python[1]}", platforms=platforms)
    )


@pytest.mark.usefixtures("package_index")
@pytest.mark.parametrize("arch", sorted(WHEEL_MACHINES))
def test_every_pin_has_a_wheel_for_the_image(arch: str, tmp_path: Path) -> None:
    """Resolve requirements.txt as the image's `pip install --only-binary=:all:` does, for
    this architecture, the image's CPython and musl: it must succeed, pick exactly the
    pinned versions (no other package) and only wheels the image can load."""
    machine = WHEEL_MACHINES[arch]
    python = "".join(map(str, _image_python()))
    musl_major, musl_minor = _image_musl()
    platforms = [
        arg
        for minor in range(musl_minor, -1, -1)
        for arg in ("--platform", f"musllinux_{musl_major}_{minor}_{machine}")
    ]
    report = tmp_path / "report.json"
    result = _pip(
        "install",
        "--dry-run",
        "--ignore-installed",
        "--quiet",
        "--only-binary=:all:",
        *platforms,
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--abi",
        f"cp{python}",
        "--report",
        str(report),
        "-r",
        str(ADDON / "app" / "requirements.txt"),
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    chosen: dict[str, str] = {}
    accepted = _image_tags(machine)
    for item in json.loads(report.read_text())["install"]:
        filename = item["download_info"]["url"].rsplit("/", 1)[1]
        assert filename.endswith(".whl"), filename
        name, version, _, tags = parse_wheel_filename(filename)
        assert tags & accepted, f"{filename} does not load on {arch}"
        chosen[str(name)] = str(version)
    assert chosen == _requirements()


# ---------------------------------------------------------------------------- discovery


async def test_addon_mode_announces_itself_and_answers_the_health_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger started as the add-on (--addon settings from options.json and the
    Supervisor token) posts its discovery to the Supervisor and answers /health to a
    caller that is not the ingress proxy (the HEALTHCHECK runs inside the container).

    Stand-ins for what exists only in a Supervisor install: a local HTTP server for the
    Supervisor API, and a free port and an unreachable Home Assistant instead of
    0.0.0.0:8099 and ws://supervisor/core/websocket (the ledger keeps retrying it)."""
    received: list[tuple[str, dict[str, Any]]] = []

    async def discovery(request: web.Request) -> web.Response:
        received.append((request.headers["Authorization"], await request.json()))
        return web.json_response({"result": "ok", "data": {"uuid": "0f1e2d"}})

    options = tmp_path / "options.json"
    options.write_text(json.dumps({"retention_years": 10, "monthly_delivery": False}))
    monkeypatch.setenv("SUPERVISOR_TOKEN", "supervisor-token")
    addon_settings = settings.addon(options)
    assert addon_settings.addon is True
    assert addon_settings.port == 8099
    port = free_port()
    run_settings = dataclasses.replace(
        addon_settings,
        host="127.0.0.1",
        port=port,
        ws_url=f"ws://127.0.0.1:{free_port()}/api/websocket",
    )
    fake = web.Application()
    fake.router.add_post("/discovery", discovery)
    async with TestServer(fake, host="127.0.0.1") as server:
        monkeypatch.setattr(
            supervisor,
            "announce",
            functools.partial(
                supervisor.announce, supervisor_url=str(server.make_url("")).rstrip("/")
            ),
        )
        task = asyncio.create_task(service.serve(run_settings))
        try:
            async with asyncio.timeout(30):
                while not received:
                    assert not task.done(), task.exception()
                    await asyncio.sleep(0.05)
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/health") as health,
            ):
                assert health.status == 200
                assert await health.json() == {"status": "ok"}
                async with session.get(f"http://127.0.0.1:{port}/api/me") as other:
                    assert other.status == 403  # everything else: the ingress proxy only
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert received == [
        (
            "Bearer supervisor-token",
            {
                "service": "ev_charging_monitor",
                # The container's hostname is the add-on's name on Home Assistant's network.
                "config": {"host": socket.gethostname(), "port": port},
            },
        )
    ]


async def test_addon_mode_runs_on_when_the_supervisor_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No Supervisor answering the discovery (a closed port stands in for it): the ledger
    logs one clear line and keeps serving; nothing stops."""
    options = tmp_path / "options.json"
    options.write_text(json.dumps({"monthly_delivery": False}))
    monkeypatch.setenv("SUPERVISOR_TOKEN", "supervisor-token")
    port = free_port()
    run_settings = dataclasses.replace(
        settings.addon(options),
        host="127.0.0.1",
        port=port,
        ws_url=f"ws://127.0.0.1:{free_port()}/api/websocket",
    )
    monkeypatch.setattr(
        supervisor,
        "announce",
        functools.partial(supervisor.announce, supervisor_url=f"http://127.0.0.1:{free_port()}"),
    )
    task = asyncio.create_task(service.serve(run_settings))
    try:
        async with asyncio.timeout(30):
            while "could not announce the ledger to the Supervisor" not in caplog.text:
                assert not task.done(), task.exception()
                await asyncio.sleep(0.05)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/health") as health,
        ):
            assert health.status == 200
        assert not task.done()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert (tmp_path / "ledger.sqlite3").is_file()


def test_docs_describe_the_discovery_payload_and_python(config: dict[str, Any]) -> None:
    docs = (ADDON / "DOCS.md").read_text()
    assert '{"host": "<hostname of the add-on>", "port": 8099}' in docs
    assert f"`{config['discovery'][0]}`" in docs
    assert "Python 3.14" in docs
    assert "Python 3.12" not in docs


# ------------------------------------------------------------------- docs and images


def test_documentation_and_images() -> None:
    docs = (ADDON / "DOCS.md").read_text()
    for needed in ("--ha-url", "verify", "EVCL_API_TOKEN", "retention_years"):
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
