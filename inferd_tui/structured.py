"""Structured output: JSON schemas checked against their meta-schema, and answers checked
against a schema, with the JSON path of each problem. Uses the ``jsonschema`` library
(imported on first use: start-up matters). Pure; shared by ``ask`` and the app.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: At most this many problems are reported for one schema (the first ones, by path).
MAX_PROBLEMS = 20


def json_path(parts: Iterable[Any]) -> str:
    """``$.items[2].name`` from a jsonschema error's ``absolute_path``."""
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def schema_problems(schema: Any) -> list[str]:
    """Why ``schema`` is not a valid JSON schema (checked against the meta-schema of the
    draft it names, 2020-12 by default), one ``"$.path: message"`` each; empty when valid."""
    from jsonschema.validators import validator_for

    if not isinstance(schema, dict | bool):
        return [f"$: a schema must be a JSON object, not {type(schema).__name__}"]
    validator_class = validator_for(schema)
    meta = validator_class(validator_class.META_SCHEMA)
    errors = sorted(meta.iter_errors(schema), key=lambda error: list(map(str, error.path)))
    return [f"{json_path(error.absolute_path)}: {error.message}" for error in errors][:MAX_PROBLEMS]


def answer_problem(schema: dict[str, Any], text: str) -> str | None:
    """Why ``text`` is not a JSON document valid under ``schema``; None when it is."""
    from jsonschema.validators import validator_for

    try:
        document = json.loads(text)
    except ValueError as exc:
        return f"not JSON: {exc}"
    from jsonschema.exceptions import best_match

    validator_class = validator_for(schema)
    error = best_match(validator_class(schema).iter_errors(document))
    if error is None:
        return None
    return f"{json_path(error.absolute_path)}: {error.message}"


# --- the schema editor's checks ------------------------------------------------------------


@dataclass(frozen=True)
class SchemaDiagnostic:
    """One problem in a schema's text, at a 1-based line and column (``offset`` and
    ``end_offset`` index the text); ``path`` is the JSON path, ``"$"`` for syntax errors."""

    message: str
    path: str
    line: int
    column: int
    offset: int
    end_offset: int

    def format(self, filename: str = "<schema>") -> str:
        where = "" if self.path == "$" else f" at {self.path}"
        return f"{filename}:{self.line}:{self.column}: error{where}: {self.message}"


@dataclass(frozen=True)
class SchemaCheck:
    """The schema (when its text is JSON) and every problem found."""

    schema: Any
    diagnostics: tuple[SchemaDiagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.schema is not None and not self.diagnostics


def _line_column(source: str, offset: int) -> tuple[int, int]:
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


_WHITESPACE = frozenset(" \t\r\n")


def value_spans(source: str) -> dict[tuple[str | int, ...], tuple[int, int]]:
    """Where each value of a valid JSON text sits: path (keys and indexes) → (start, end).

    A key's span is its value's; the root is ``()``. Uses ``json``'s own scanner, so
    strings and numbers end exactly where the parser says.
    """
    from json.scanner import make_scanner

    decoder = json.JSONDecoder()
    scan = make_scanner(decoder)  # type: ignore[arg-type]  # typeshed types it oddly
    spans: dict[tuple[str | int, ...], tuple[int, int]] = {}

    def skip(index: int) -> int:
        while index < len(source) and source[index] in _WHITESPACE:
            index += 1
        return index

    def walk(index: int, path: tuple[str | int, ...]) -> int:
        index = skip(index)
        start = index
        if source[index] == "{":
            index = skip(index + 1)
            while source[index] != "}":
                key, index = scan(source, index)
                index = skip(skip(index) + 1)  # the colon
                index = skip(walk(index, (*path, key)))
                if source[index] == ",":
                    index = skip(index + 1)
            end = index + 1
        elif source[index] == "[":
            index = skip(index + 1)
            position = 0
            while source[index] != "]":
                index = skip(walk(index, (*path, position)))
                position += 1
                if source[index] == ",":
                    index = skip(index + 1)
            end = index + 1
        else:
            _, end = scan(source, index)
        spans[path] = (start, end)
        return end

    walk(0, ())
    return spans


def check_schema_text(source: str) -> SchemaCheck:
    """JSON syntax errors at their line:column, then meta-schema problems at the value
    they concern (the editor marks it), each with its JSON path."""
    from jsonschema.validators import validator_for

    if not source.strip():
        return SchemaCheck(None, ())
    try:
        schema = json.loads(source)
    except json.JSONDecodeError as exc:
        end = min(exc.pos + 1, len(source))
        return SchemaCheck(
            None,
            (SchemaDiagnostic(exc.msg, "$", exc.lineno, exc.colno, exc.pos, end),),
        )
    except RecursionError:
        return SchemaCheck(None, (SchemaDiagnostic("nested too deeply", "$", 1, 1, 0, 1),))
    if not isinstance(schema, dict | bool):
        return SchemaCheck(
            schema,
            (
                SchemaDiagnostic(
                    f"a schema must be a JSON object, not {type(schema).__name__}",
                    "$",
                    1,
                    1,
                    0,
                    len(source),
                ),
            ),
        )
    validator_class = validator_for(schema)
    meta = validator_class(validator_class.META_SCHEMA)
    errors = sorted(meta.iter_errors(schema), key=lambda error: list(map(str, error.path)))
    spans = value_spans(source)
    diagnostics = []
    for error in errors[:MAX_PROBLEMS]:
        parts = tuple(error.absolute_path)
        while parts not in spans and parts:
            parts = parts[:-1]
        start, end = spans.get(parts, (0, len(source)))
        line, column = _line_column(source, start)
        diagnostics.append(
            SchemaDiagnostic(
                error.message, json_path(error.absolute_path), line, column, start, end
            )
        )
    return SchemaCheck(schema, tuple(diagnostics))
