"""The ledger's modules import each other without a cycle and the UI writes no SQL."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "addon" / "app" / "ev_charging_ledger"
ROOT = "ev_charging_ledger"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            # Importing a.b.c runs a, a.b and a.b.c.
            parts = target.split(".")
            for end in range(1, len(parts) + 1):
                candidate = ".".join(parts[:end])
                if candidate in modules and candidate != name:
                    found.add(candidate)
    return found


def test_no_import_cycle() -> None:
    files = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: _imports(path, set(files)) for name, path in files.items()}
    # A package importing its own submodules is how packages re-export; the cycle that
    # matters is between modules, so an __init__ edge into its own subtree is dropped.
    for name, targets in graph.items():
        if files[name].name == "__init__.py":
            graph[name] = {t for t in targets if not t.startswith(name + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []
    # The check sees real edges: the API mounts the UI.
    assert "ev_charging_ledger.web" in graph["ev_charging_ledger.api"]


def test_web_ui_reads_through_query_functions() -> None:
    source = (PACKAGE / "web.py").read_text()
    assert ".query(" not in source
    assert re.search(r"\b(SELECT|INSERT|UPDATE|DELETE) ", source) is None


@pytest.mark.parametrize("package", ["storage", "api", "i18n"])
def test_split_packages_stay_small(package: str) -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in (PACKAGE / package).glob("*.py")}
    assert len(sizes) > 1, sizes  # the package exists and is split
    assert max(sizes.values()) <= 400, sizes
