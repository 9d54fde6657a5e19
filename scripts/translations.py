"""Resolve the [%key:...%] references of strings.json into translations/en.json.

Home Assistant resolves these references for core integrations at build time; a custom
integration must ship resolved files. Run: scripts/run python scripts/translations.py
(`--check` exits non-zero when en.json is out of date; the tests use it).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import homeassistant

COMPONENT = Path(__file__).resolve().parent.parent / "custom_components" / "ev_charging_monitor"
DOMAIN = COMPONENT.name
REFERENCE = re.compile(r"\[%key:([a-z0-9_:]+)%\]")


def _lookup(tree: dict[str, Any], path: list[str]) -> str:
    node: Any = tree
    for part in path:
        node = node[part]
    if not isinstance(node, str):
        raise KeyError("::".join(path))
    return node


def resolve(strings: dict[str, Any]) -> dict[str, Any]:
    """Return `strings` with every reference replaced by the text it names."""
    core = json.loads((Path(homeassistant.__file__).parent / "strings.json").read_text())
    roots = {"common": core["common"], "component": {DOMAIN: strings}}

    def text(value: str) -> str:
        def replace(match: re.Match[str]) -> str:
            root, *path = match.group(1).split("::")
            return text(_lookup(roots[root], path))

        return REFERENCE.sub(replace, value)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        return text(node) if isinstance(node, str) else node

    resolved: dict[str, Any] = walk(strings)
    return resolved


def render() -> str:
    """The en.json text for the present strings.json."""
    strings = json.loads((COMPONENT / "strings.json").read_text())
    return json.dumps(resolve(strings), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """Write (or with --check, compare) translations/en.json."""
    target = COMPONENT / "translations" / "en.json"
    if "--check" in sys.argv:
        if target.read_text() != render():
            print("translations/en.json is out of date: run scripts/translations.py")
            return 1
        return 0
    target.write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
