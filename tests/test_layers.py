"""The package layout the design promises, checked from the source.

The device library must stay free of Home Assistant so it can be published on its own, and
two modules importing each other at import time are a sign the split is wrong (and break
under a different import order). Both are read from the modules' syntax trees, so the test
sees imports inside functions as well.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "ev_charging_monitor"
LEDGER = ROOT / "addon" / "app" / "ev_charging_ledger"

# Packages that run without Home Assistant, and the glue modules in them that are allowed
# to talk to it (named here so a new one is a decision, not an accident).
HA_FREE = {
    "devices": frozenset(),
    "session": frozenset({"session.manager"}),
    "pricing": frozenset({"pricing.price_entity"}),
}


@dataclass(frozen=True)
class Import:
    """One import statement: the module it names, and whether it runs at import time."""

    target: str
    at_import_time: bool
    line: int


def _module_name(package: Path, path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(package).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _imports(package: Path, path: Path) -> Iterator[Import]:
    name, is_package = _module_name(package, path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_checking_lines: set[int] = set()
    top_level: set[int] = set()

    def mark_top(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                for inner in ast.walk(node):
                    type_checking_lines.add(getattr(inner, "lineno", -1))
                continue
            top_level.add(node.lineno)
            if isinstance(node, ast.If | ast.Try):
                mark_top(node.body)
                mark_top(node.orelse)
                if isinstance(node, ast.Try):
                    mark_top(node.finalbody)
                    for handler in node.handlers:
                        mark_top(handler.body)

    mark_top(tree.body)
    here = name.split(".") if name else []
    if not is_package:
        here = here[:-1]
    for node in ast.walk(tree):
        at_import_time = node.lineno in top_level if isinstance(node, ast.stmt) else False
        if getattr(node, "lineno", -1) in type_checking_lines:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, at_import_time, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if not node.level:
                yield Import(node.module or "", at_import_time, node.lineno)
                continue
            base = here[: len(here) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                yield Import(f".{target}|{alias.name}", at_import_time, node.lineno)


def _local_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the package's own modules it imports at import time."""
    modules = {_module_name(package, path)[0]: path for path in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for found in _imports(package, path):
            if not found.at_import_time or not found.target.startswith("."):
                continue
            target, member = found.target[1:].split("|")
            candidate = f"{target}.{member}".strip(".")
            deps.add(candidate if candidate in modules else target)
        graph[name] = {dep for dep in deps if dep in modules and dep != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.mark.parametrize("package", [INTEGRATION, LEDGER], ids=["integration", "ledger"])
def test_no_module_imports_one_that_imports_it_back(package: Path) -> None:
    graph = _local_graph(package)
    assert len(graph) > 20, "the package was not found where the test looks"
    assert _cycles(graph) == []


@pytest.mark.parametrize("layer", sorted(HA_FREE))
def test_home_assistant_free_layers_stay_free(layer: str) -> None:
    offenders = []
    for path in sorted((INTEGRATION / layer).rglob("*.py")):
        name, _ = _module_name(INTEGRATION, path)
        if name in HA_FREE[layer]:
            continue
        for found in _imports(INTEGRATION, path):
            target = found.target
            reaches_ha = target.split(".")[0] == "homeassistant"
            # The device library is published on its own: nothing outside it either.
            leaves_library = (
                layer == "devices"
                and target.startswith(".")
                and not target[1:].split("|")[0].startswith("devices")
            )
            if reaches_ha or leaves_library:
                offenders.append(f"{path.relative_to(ROOT)}:{found.line} {target}")
    assert offenders == []


def test_the_checks_see_a_cycle_and_a_forbidden_import(tmp_path: Path) -> None:
    """The two checks above, run on a small package that breaks both rules."""
    package = tmp_path / "pkg"
    (package / "devices").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import thing\n")
    (package / "b.py").write_text("from . import a\nthing = 1\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .d import x\n"
    )
    (package / "d.py").write_text("from .c import y\n")
    (package / "devices" / "__init__.py").write_text("")
    (package / "devices" / "driver.py").write_text(
        "def later():\n    from homeassistant.core import HomeAssistant\n"
    )
    assert _cycles(_local_graph(package)) == [["a", "b"]]
    targets = [found.target for found in _imports(package, package / "devices" / "driver.py")]
    assert targets == ["homeassistant.core"]
