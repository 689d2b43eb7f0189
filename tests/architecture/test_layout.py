"""The code's shape, checked: no import cycles, no SQL outside repositories, pure layers.

These read the source with ``ast`` (nothing is imported), so they are fast and say
exactly which file breaks which rule.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGES = ("service", "connectors", "signal_processing")
#: Where SQL may be written: repositories, the database plumbing, and the COPY loader.
SQL_HOMES = (
    re.compile(r"^service/[a-z_]+/repository(\.py|/)"),
    re.compile(r"^service/core/db/"),
    re.compile(r"^service/imports/loader\.py$"),
)
SQL_CALL = re.compile(r"\.(execute|executemany|copy)\(")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every project module ``name`` imports (anywhere in the file, lazy ones too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target, node.lineno


GRAPH = {name: sorted({t for t, _ in _imports(name, path)}) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            # A package's __init__ importing its own submodule is not a cycle of concern.
            if len(component) > 1 and not all(c.startswith(node) or node.startswith(c) for c in component):
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert _cycles() == []


def test_the_cycle_check_finds_a_cycle(monkeypatch):
    monkeypatch.setitem(GRAPH, "service.core.settings", [*GRAPH["service.core.settings"], "service.app"])
    assert any("service.app" in cycle for cycle in _cycles())


@pytest.mark.parametrize(
    "package, forbidden",
    [
        ("connectors", ("service", "signal_processing", "psycopg", "fastapi")),
        ("signal_processing", ("service", "connectors", "psycopg", "fastapi")),
    ],
)
def test_pure_layers_import_no_io(package, forbidden):
    offenders = []
    for path in (REPO_ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [
                    f"{path.relative_to(REPO_ROOT)}:{node.lineno} imports {n}"
                    for n in names
                    if n.split(".")[0] in forbidden and not node.level
                ]
    assert offenders == []


def test_job_machinery_and_core_import_no_domain():
    """``service.core`` and the queue machinery sit below every domain."""
    low = [
        m
        for m in MODULES
        if m.startswith("service.core")
        or m
        in (
            "service.jobs.queue",
            "service.jobs.registry",
            "service.jobs.worker",
            "service.jobs.scheduler",
            "service.jobs.runtime",
            "service.jobs.context",
        )
    ]
    allowed = ("service.core", "service.jobs", "service", "connectors", "signal_processing")
    offenders = [
        f"{m} imports {t}"
        for m in low
        for t in GRAPH[m]
        if not any(t == a or t.startswith(a + ".") for a in allowed[:2]) and t not in ("service",)
    ]
    assert offenders == []


def test_endpoints_are_imported_only_by_the_app():
    offenders = [
        f"{m} imports {t}"
        for m, targets in GRAPH.items()
        for t in targets
        if t.rsplit(".", 1)[-1] == "endpoints" or ".endpoints." in t
        if m != "service.app" and not m.startswith(t.rsplit(".", 1)[0])
    ]
    assert offenders == []


def test_sql_lives_in_repositories():
    offenders = []
    for path in MODULES.values():
        rel = path.relative_to(REPO_ROOT).as_posix()
        if not rel.startswith("service/") or any(h.search(rel) for h in SQL_HOMES):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if SQL_CALL.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == []
