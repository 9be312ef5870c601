"""No module of the package imports itself back through others (no import circles).

Only module-level imports count, including those under ``if TYPE_CHECKING:`` (a circle of
types is still a circle of knowledge); an import inside a function is how a module defers
what it needs later, and is left out. A name taken from a package counts as an import of
the submodule its ``__init__`` hands it on from (eagerly or on first use, see
:mod:`inferd_tui._lazy`), and an ``__init__`` handing on its own submodules' names is not
counted as using them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import inferd_tui

ROOT = Path(inferd_tui.__file__).parent


def module_names() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.Try):  # TYPE_CHECKING blocks, optional imports
            yield from module_level(node.body)
            yield from module_level(node.orelse)


def imported_from(path: Path) -> Iterator[tuple[str, str | None]]:
    """(module, name) for each module-level import: name is None for ``import module``."""
    for node in module_level(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield from ((node.module, alias.name) for alias in node.names)


def handed_on(package: Path, modules: dict[str, Path]) -> dict[str, str]:
    """The names a package's ``__init__`` takes from its submodules, and from which."""
    return {
        name: module
        for module, name in imported_from(package)
        if name is not None and module in modules
    }


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    targets: set[str] = set()
    for module, imported in imported_from(path):
        if module not in modules:
            continue
        if imported is not None and f"{module}.{imported}" in modules:
            targets.add(f"{module}.{imported}")
        elif imported is not None and modules[module].name == "__init__.py":
            targets.add(handed_on(modules[module], modules).get(imported, module))
        else:
            targets.add(module)
    if path.name == "__init__.py":
        # Handing on its submodules' names is what a package face does, not a use.
        targets = {target for target in targets if not target.startswith(f"{name}.")}
    targets.discard(name)
    return targets


def find_circle(edges: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(edges.get(node, ())):
            circle = visit(target)
            if circle:
                return circle
        path.pop()
        done.add(node)
        return None

    for node in sorted(edges):
        circle = visit(node)
        if circle:
            return circle
    return None


def test_no_module_imports_itself_back() -> None:
    modules = module_names()
    edges = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert sum(len(targets) for targets in edges.values()) > 200  # the scan sees the imports
    assert find_circle(edges) is None


def test_a_circle_is_found() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_circle(edges) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None
