"""The example grammar library: `.gbnf` files in this package, each opening with `# description`.

Files are read on first use, not at import.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Example:
    name: str
    description: str
    source: str


@functools.cache
def load_examples() -> tuple[Example, ...]:
    """Every example, sorted by name."""
    examples = []
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".gbnf"):
            continue
        source = entry.read_text(encoding="utf-8")
        first_line = source.splitlines()[0] if source else ""
        description = first_line.removeprefix("#").strip() if first_line.startswith("#") else ""
        examples.append(Example(entry.name.removesuffix(".gbnf"), description, source))
    return tuple(examples)


def get_example(name: str) -> Example:
    """The example called `name`; KeyError lists the names that exist."""
    for example in load_examples():
        if example.name == name:
            return example
    names = ", ".join(example.name for example in load_examples())
    raise KeyError(f"no example named {name!r}; available: {names}")


def __getattr__(name: str) -> tuple[Example, ...]:
    if name == "EXAMPLES":
        return load_examples()
    raise AttributeError(name)
