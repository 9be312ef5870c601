"""Package exports loaded on first use (PEP 562).

A package's ``__init__`` lists its public API as ordinary imports under
``if TYPE_CHECKING:`` (type checkers and readers see them as usual) and ends with::

    if not TYPE_CHECKING:  # type checkers see the imports above, and only those
        __getattr__, __dir__ = lazy_exports(__name__)

At run time nothing is imported until a name is asked for; then only the submodule that
defines it loads. Importing ``inferd_tui.proto.eras`` (pure data) thus no longer builds
every pydantic model of the wire first, and ``from inferd_tui.client import
resolve_endpoints`` loads the endpoint rules, not the client.

The import statements are the one list of what comes from where: they are read from the
package's source (``ast``) the first time a name is looked up.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def exported_sources(source: str) -> dict[str, tuple[str, str]]:
    """``{exported name: (module, name there)}`` from the ``if TYPE_CHECKING:`` imports of
    a package's source (absolute ``from … import …`` only)."""
    sources: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for statement in node.body:
            if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
                for alias in statement.names:
                    sources[alias.asname or alias.name] = (statement.module, alias.name)
    return sources


def _scanned_sources(package: ModuleType) -> dict[str, tuple[str, str]]:
    """Without the package's source (a build that ships bytecode only), find each name of
    its ``__all__`` by importing its submodules: slower, but every name still resolves
    (a name re-exported under another one, ``import x as y``, needs the source)."""
    wanted = set(getattr(package, "__all__", ()))
    found: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        for name in wanted - found.keys():
            if hasattr(module, name):
                found[name] = (info.name, name)
    return found


def lazy_exports(
    package_name: str,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package_name``, whose exports are its
    ``if TYPE_CHECKING:`` imports. Bind them under ``if not TYPE_CHECKING:`` so that type
    checkers still flag a misspelt name instead of typing it ``Any``."""
    table: dict[str, tuple[str, str]] = {}
    read = False

    def sources() -> dict[str, tuple[str, str]]:
        nonlocal read
        if not read:
            package = sys.modules[package_name]
            loader = package.__spec__.loader if package.__spec__ else None
            get_source = getattr(loader, "get_source", None)
            source = get_source(package_name) if get_source else None
            found = exported_sources(source) if source else _scanned_sources(package)
            table.update(found)
            read = True
        return table

    def __getattr__(name: str) -> Any:
        found = sources().get(name)
        if found is None:
            raise AttributeError(f"module {package_name!r} has no attribute {name!r}")
        module_name, attribute = found
        value = getattr(importlib.import_module(module_name), attribute)
        setattr(sys.modules[package_name], name, value)  # looked up once
        return value

    def __dir__() -> list[str]:
        package = sys.modules[package_name]
        return sorted({*vars(package), *getattr(package, "__all__", ()), *sources()})

    return __getattr__, __dir__
