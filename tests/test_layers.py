"""The package's layers, read from its own imports (every one, those inside functions too):
the clinic config sits below the EHR documents, which sit below the renderers, then email,
then ``mesocare push``; no module imports itself back through others; no module grows past
400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "mesocare"
MAX_LINES = 400


def _module(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of ``package`` and the modules of ``package`` that it imports."""
    files = {_module(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)  # a module by name
        graph[name] = {m for m in found if m in files and m != name}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (the modules in order, the first again at the end), or None."""
    state: dict[str, int] = {}  # 1 on the path being walked, 2 done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := walk(start)):
            return found
    return None


# each package and what it may never import, from the bottom up: the clinic config; the EHR
# documents (pure); the renderers (which render those documents too); email; mesocare push
NEVER = {
    "mesocare.config": (
        "mesocare.ehr",
        "mesocare.render",
        "mesocare.mail",
        "mesocare.push",
        "mesocare.cli",
        "mesocare.scaffold",
    ),
    "mesocare.ehr": ("mesocare.render", "mesocare.mail", "mesocare.push", "mesocare.cli"),
    "mesocare.render": ("mesocare.mail", "mesocare.push", "mesocare.cli"),
    "mesocare.mail": ("mesocare.push", "mesocare.cli"),
    "mesocare.push": ("mesocare.cli",),
    # the SQLite machinery the sent log (mail) and the push log (push) share sits below both
    "mesocare.sqlite_log": ("mesocare.mail", "mesocare.push", "mesocare.cli"),
}


@pytest.mark.parametrize("package", sorted(NEVER))
def test_no_package_imports_one_above_it(package):
    graph = imports()
    wrong = {
        (name, m)
        for name, used in graph.items()
        if name.startswith(package)
        for m in used
        if m.startswith(NEVER[package])
    }
    assert wrong == set()


def test_no_module_imports_itself_back():
    graph = imports()
    # a package's __init__ that hands its modules' names on is no cycle of the modules
    for name in graph:
        if name.count(".") and (PACKAGE.parent / name.replace(".", "/")).is_dir():
            graph[name] = {m for m in graph[name] if not m.startswith(f"{name}.")}
    assert cycle(graph) is None


def test_no_module_is_longer_than_400_lines():
    long = {
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if len(p.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }
    assert long == set()
