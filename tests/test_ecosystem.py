"""What the ecosystem's validators enforce, checked offline.

.github/workflows/validate.yaml runs the real ones (hassfest, the HACS action, frenck's app
linter, hadolint). These tests restate the rules we learned from their sources, so a
change that would turn them red fails here first:

- hassfest's translation schema for repair issues (script/hassfest/translations.py);
- the Supervisor's schema of an app's config.yaml (supervisor/apps/validate.py and
  supervisor/apps/options.py) and its AppArmor profile reader (supervisor/utils/apparmor.py);
- frenck's app linter (src/lint.py and src/config.schema.json of frenck/action-addon-linter):
  no key set to its default value, no obsolete key.

The expected values below are written out by hand from those sources, not read from our
own files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from custom_components.ev_charging_monitor import repairs

REPO = Path(__file__).resolve().parent.parent
COMPONENT = REPO / "custom_components" / "ev_charging_monitor"
ADDON = REPO / "addon"
TRANSLATION_FILES = ("strings.json", "translations/en.json", "translations/de.json")

# --------------------------------------------------------------------- hassfest: issues

# Keys of a data entry flow step (hassfest's gen_data_entry_schema).
FLOW_STEP_KEYS = {
    "title",
    "description",
    "data",
    "data_description",
    "menu_options",
    "menu_option_descriptions",
    "submit",
    "sections",
}
FLOW_KEYS = {"flow_title", "step", "error", "abort", "progress", "create_entry", "initiate_flow"}


def _issues(name: str) -> dict[str, dict[str, Any]]:
    strings = json.loads((COMPONENT / name).read_text("utf-8"))
    issues: dict[str, dict[str, Any]] = strings["issues"]
    return issues


@pytest.mark.parametrize("name", TRANSLATION_FILES)
def test_issue_translations_follow_hassfest(name: str) -> None:
    """An issue has a title and either a description or a fix flow, never both."""
    for key, issue in _issues(name).items():
        assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", key), key
        assert set(issue) <= {"title", "description", "fix_flow"}, (name, key)
        assert isinstance(issue.get("title"), str), (name, key)
        # vol.Exclusive("description", "fixable") / vol.Exclusive("fix_flow", "fixable")
        # plus has_at_least_one_key("description", "fix_flow").
        assert ("description" in issue) != ("fix_flow" in issue), (name, key)
        if "fix_flow" in issue:
            flow = issue["fix_flow"]
            assert set(flow) <= FLOW_KEYS, (name, key)
            assert flow["step"], (name, key)
            for step_id, step in flow["step"].items():
                assert set(step) <= FLOW_STEP_KEYS, (name, key, step_id)


@pytest.mark.parametrize("name", TRANSLATION_FILES)
def test_issue_texts_are_plain(name: str) -> None:
    """hassfest's translation_value_validator: no HTML, URLs, quoted placeholders or
    surrounding spaces."""
    url = re.compile(r"(https?|ftp)://|www\.", re.IGNORECASE)

    def texts(node: object) -> list[str]:
        if isinstance(node, dict):
            return [text for value in node.values() for text in texts(value)]
        return [node] if isinstance(node, str) else []

    for text in texts(_issues(name)):
        assert text == text.strip(), text
        assert not re.search(r"<[a-z/][^>]*>", text), text
        assert not url.search(text), text
        assert not re.search(r"'\{\w+\}'", text), text


def test_fixable_issue_is_described_in_its_fix_flow() -> None:
    """repairs.py raises the register issue as fixable, and its flow shows the step
    "confirm" (ConfirmRepairFlow), so the explanation must live in that step; the
    non-fixable ones keep a description."""
    steps = {
        name.removeprefix("async_step_")
        for name in dir(repairs.AcceptRegisterFlow)
        if name.startswith("async_step_")
    }
    for name in TRANSLATION_FILES:
        issues = _issues(name)
        register = issues[repairs.ISSUE_REGISTER]
        assert set(register["fix_flow"]["step"]) <= steps, name
        step = register["fix_flow"]["step"]["confirm"]
        # The issue's placeholders reach the confirm step (ConfirmRepairFlow passes them).
        for placeholder in ("{name}", "{before}", "{after}"):
            assert placeholder in step["description"], (name, placeholder)
        for kind in (repairs.ISSUE_REMOTE_CONTROL, repairs.ISSUE_WATCHDOG):
            assert "description" in issues[kind], (name, kind)
            assert "fix_flow" not in issues[kind], (name, kind)


# -------------------------------------------------------- Supervisor: the app's config

# Every key the Supervisor's app config schema knows (supervisor/apps/validate.py); it
# silently drops others (vol.REMOVE_EXTRA), which the linter reports as an error.
SUPERVISOR_KEYS = {
    "name", "version", "slug", "description", "arch", "machine", "url", "startup", "boot",
    "init", "advanced", "stage", "ports", "ports_description", "watchdog", "webui",
    "ingress", "ingress_port", "ingress_entry", "ingress_stream", "panel_icon",
    "panel_title", "panel_admin", "homeassistant", "host_network", "host_pid", "host_ipc",
    "host_uts", "host_dbus", "devices", "udev", "tmpfs", "map", "environment", "privileged",
    "apparmor", "full_access", "audio", "video", "gpio", "usb", "uart", "devicetree",
    "kernel_modules", "realtime", "hassio_api", "hassio_role", "homeassistant_api", "stdin",
    "legacy", "docker_api", "auth_api", "services", "discovery", "backup_exclude",
    "backup_pre", "backup_post", "backup", "options", "schema", "image", "ulimits",
    "timeout", "journald", "breaking_versions",
}  # fmt: skip
REQUIRED_KEYS = {"name", "version", "slug", "description", "arch"}
# Defaults of the Supervisor's schema and of the linter's config.schema.json; the linter
# fails a key that repeats one ("... should be removed, it uses a default value").
DEFAULTS: dict[str, object] = {
    "startup": "application",
    "boot": "auto",
    "init": True,
    "advanced": False,
    "stage": "stable",
    "ingress": False,
    "ingress_port": 8099,
    "ingress_stream": False,
    "panel_icon": "mdi:puzzle",
    "panel_admin": True,
    "host_network": False,
    "host_pid": False,
    "host_ipc": False,
    "host_uts": False,
    "host_dbus": False,
    "udev": False,
    "tmpfs": False,
    "apparmor": True,
    "full_access": False,
    "audio": False,
    "video": False,
    "gpio": False,
    "usb": False,
    "uart": False,
    "devicetree": False,
    "kernel_modules": False,
    "realtime": False,
    "hassio_api": False,
    "hassio_role": "default",
    "homeassistant_api": False,
    "stdin": False,
    "legacy": False,
    "docker_api": False,
    "auth_api": False,
    "backup": "hot",
    "options": {},
    "schema": {},
    "ulimits": {},
    "timeout": 10,
    "journald": False,
}
# Keys the linter rejects outright, with its reason.
OBSOLETE = {
    "watchdog": "use the Docker HEALTHCHECK",
    "codenotary": "no longer used",
    "auto_uart": "renamed to uart",
    "advanced": "deprecated, ignored",
    "snapshot": "renamed to backup",
    "snapshot_pre": "renamed to backup_pre",
    "snapshot_post": "renamed to backup_post",
    "snapshot_exclude": "renamed to backup_exclude",
}
ARCHITECTURES = {"aarch64", "amd64"}  # armhf, armv7 and i386 are deprecated
MAP_TYPES = {
    "data", "ssl", "local_apps", "backup", "share", "media", "homeassistant_config",
    "all_app_configs", "app_config",
}  # fmt: skip
# supervisor/apps/options.py RE_SCHEMA_ELEMENT, restated.
SCHEMA_ELEMENT = re.compile(
    r"^(?:bool|email|url|port"
    r"|device(?:\(subsystem=[a-z]+\))?"
    r"|(?:str|password)(?:\(\d*,\d*\))?"
    r"|int(?:\((?:-?\d+)?,(?:-?\d+)?\))?"
    r"|float(?:\((?:-?\d*\.?\d+)?,(?:-?\d*\.?\d+)?\))?"
    r"|match\(.*\)|list\(.+\))\??$"
)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data = yaml.safe_load((ADDON / "config.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_config_keys_are_known_to_the_supervisor(config: dict[str, Any]) -> None:
    assert set(config) >= REQUIRED_KEYS
    assert set(config) <= SUPERVISOR_KEYS, set(config) - SUPERVISOR_KEYS


def test_config_repeats_no_default(config: dict[str, Any]) -> None:
    repeated = {key: value for key, value in config.items() if DEFAULTS.get(key, ...) == value}
    assert repeated == {}


def test_config_has_no_obsolete_key(config: dict[str, Any]) -> None:
    assert {key: OBSOLETE[key] for key in config if key in OBSOLETE} == {}


def test_config_values_have_the_supervisors_types(config: dict[str, Any]) -> None:
    for key in ("name", "version", "slug", "description", "url", "panel_title", "homeassistant"):
        assert isinstance(config[key], str), key  # a bare 0.1 would be read as a float
    assert re.fullmatch(r"[-_.A-Za-z0-9]+", config["slug"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", config["version"])
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", config["homeassistant"])
    assert re.fullmatch(r"https://[^\s]+", config["url"])
    assert set(config["arch"]) <= ARCHITECTURES
    assert len(config["arch"]) == len(set(config["arch"]))
    for key in ("init", "ingress", "panel_admin", "homeassistant_api"):
        assert isinstance(config[key], bool), key
    assert all(isinstance(service, str) for service in config["discovery"])
    assert all(isinstance(path, str) for path in config["backup_exclude"])
    for volume in config["map"]:
        assert set(volume) <= {"type", "read_only", "path"}
        assert volume["type"] in MAP_TYPES
        assert isinstance(volume.get("read_only", True), bool)


def test_config_combinations_the_linter_rejects(config: dict[str, Any]) -> None:
    if config.get("ingress", False):
        assert "webui" not in config  # ingress replaces the web UI link
        if not config.get("host_network", False):
            assert config.get("ingress_port", 8099) != 0
    if config.get("backup", "hot") == "cold":
        assert "backup_pre" not in config
        assert "backup_post" not in config
    if config.get("full_access"):
        assert not {"devices", "gpio", "uart", "usb"} & set(config)


def test_no_image_without_a_workflow_that_publishes_it(config: dict[str, Any]) -> None:
    """With `image:` the Supervisor pulls instead of building the Dockerfile."""
    workflows = "".join(
        path.read_text("utf-8") for path in (REPO / ".github" / "workflows").glob("*.y*ml")
    )
    publishes = "home-assistant/builder/actions/build-image" in workflows or (
        "docker/build-push-action" in workflows and "push: true" in workflows
    )
    assert "image" not in config or publishes


def test_options_and_schema_follow_the_supervisor(config: dict[str, Any]) -> None:
    options, schema = config["options"], config["schema"]
    assert set(options) <= set(schema)
    for name, element in schema.items():
        assert isinstance(element, str), name
        assert SCHEMA_ELEMENT.match(element), f"{name}: {element!r}"
        optional = element.endswith("?")
        # An option with a default is required; an optional one ("?") may have none.
        assert name in options or optional, name


def test_option_defaults_satisfy_their_schema(config: dict[str, Any]) -> None:
    """The defaults are what a fresh install starts with: each must pass its own type."""
    for name, value in config["options"].items():
        element = config["schema"][name].rstrip("?")
        if element == "bool":
            assert isinstance(value, bool), name
        elif element.startswith("int"):
            assert isinstance(value, int), name
            assert not isinstance(value, bool), name
            low, _, high = element[4:-1].partition(",") if "(" in element else ("", "", "")
            assert not low or value >= int(low), name
            assert not high or value <= int(high), name
        elif element.startswith("list("):
            assert value in element[5:-1].split("|"), name
        else:
            assert isinstance(value, str), name


def test_translations_name_every_option(config: dict[str, Any]) -> None:
    """supervisor SCHEMA_APP_TRANSLATIONS: configuration.<option>.name is required."""
    for language in ("en", "de"):
        data = yaml.safe_load((ADDON / "translations" / f"{language}.yaml").read_text("utf-8"))
        assert set(data) <= {"configuration", "network"}, language
        assert set(data["configuration"]) == set(config["schema"]), language
        for option, text in data["configuration"].items():
            assert isinstance(text["name"], str), (language, option)
            assert text["name"], (language, option)
            assert isinstance(text.get("description", ""), str), (language, option)


# ----------------------------------------------------- Supervisor: the AppArmor profile


def test_apparmor_profile_is_one_profile_the_supervisor_can_rename(
    config: dict[str, Any],
) -> None:
    """The Supervisor reads exactly one `^profile NAME` line and renames it to the
    installed slug; nested profiles must be indented."""
    text = (ADDON / "apparmor.txt").read_text("utf-8")
    profiles = re.findall(r"^profile ([^ ]+)", text, re.MULTILINE)
    assert profiles == [config["slug"]]
    assert text.startswith("#include <tunables/global>")
    assert "flags=(attach_disconnected,mediate_deleted)" in text
    assert text.count("{") == text.count("}")


def test_apparmor_profile_allows_what_the_app_does() -> None:
    """The ledger writes its database and the monthly statements, reads its code, and
    starts through s6-overlay; everything else stays read-only or denied."""
    rules = {
        line.strip().rstrip(",")
        for line in (ADDON / "apparmor.txt").read_text("utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    }
    for needed in (
        "/data/** rwkm",  # SQLite in WAL mode locks and maps the -shm file
        "/share/ev_charging_ledger/** rwk",
        "/app/** r",
        "/init ix",
        "/run/** rwk",
        "/usr/local/bin/** ix",  # the base image's Python
        "network inet stream",
    ):
        assert needed in rules, needed
    assert not any(rule.startswith("/app/") and "w" in rule.split()[-1] for rule in rules)
    assert "capability sys_admin" not in rules


# ------------------------------------------------------------------------ the workflows


def _workflow_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for path in sorted((REPO / ".github" / "workflows").glob("*.y*ml")):
        workflow = yaml.safe_load(path.read_text("utf-8"))
        for job in workflow["jobs"].values():
            steps += job["steps"]
    return steps


def test_workflows_run_the_ecosystem_validators() -> None:
    uses = {step["uses"].partition("@")[0]: step for step in _workflow_steps() if "uses" in step}
    assert "home-assistant/actions/hassfest" in uses
    assert uses["hacs/action"]["with"]["category"] == "integration"
    assert uses["frenck/action-addon-linter"]["with"]["path"] == "./addon"
    assert uses["hadolint/hadolint-action"]["with"]["dockerfile"] == "addon/Dockerfile"
    # hassfest, the linter and hadolint read the checked-out files.
    assert "actions/checkout" in uses
