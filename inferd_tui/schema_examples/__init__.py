"""The example JSON-schema library: `.json` files in this package, each a schema whose
``description`` says what it shows; and example tools arrays (``tool_sets.json``). Read on
first use, not at import."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

#: The example tools arrays, beside the schemas.
TOOL_SETS = "tool_sets.json"


@dataclass(frozen=True)
class SchemaExample:
    name: str
    description: str
    source: str

    @property
    def schema(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.source)
        return loaded


@functools.cache
def load_schema_examples() -> tuple[SchemaExample, ...]:
    """Every example, sorted by name."""
    examples = []
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json") or entry.name == TOOL_SETS:
            continue
        source = entry.read_text(encoding="utf-8")
        description = str(json.loads(source).get("description", ""))
        examples.append(SchemaExample(entry.name.removesuffix(".json"), description, source))
    return tuple(examples)


def get_schema_example(name: str) -> SchemaExample:
    """The example called ``name``; KeyError lists the names that exist."""
    for example in load_schema_examples():
        if example.name == name:
            return example
    names = ", ".join(example.name for example in load_schema_examples())
    raise KeyError(f"no schema example named {name!r}; available: {names}")


@functools.cache
def load_tool_examples() -> dict[str, str]:
    """Example tools arrays by name (``tool_sets.json``), each as indented JSON text."""
    sets = json.loads(resources.files(__name__).joinpath(TOOL_SETS).read_text("utf-8"))
    return {name: json.dumps(tools, indent=2) for name, tools in sets.items()}
