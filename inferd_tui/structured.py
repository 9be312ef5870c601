"""Structured output: JSON schemas checked against their meta-schema, and answers checked
against a schema, with the JSON path of each problem. Uses the ``jsonschema`` library
(imported on first use: start-up matters). Pure; shared by ``ask`` and the app.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from inferd_tui.proto.chat import ToolSpec

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

    @property
    def level(self) -> str:
        """Every schema problem is an error (the editors mark spans by level)."""
        return "error"


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


def _syntax_check(source: str) -> tuple[Any, SchemaDiagnostic | None]:
    """The parsed JSON, or the syntax error at its line:column."""
    try:
        return json.loads(source), None
    except json.JSONDecodeError as exc:
        end = min(exc.pos + 1, len(source))
        return None, SchemaDiagnostic(exc.msg, "$", exc.lineno, exc.colno, exc.pos, end)
    except RecursionError:
        return None, SchemaDiagnostic("nested too deeply", "$", 1, 1, 0, 1)


def _diagnostic_at(
    source: str,
    spans: dict[tuple[str | int, ...], tuple[int, int]],
    parts: tuple[str | int, ...],
    message: str,
) -> SchemaDiagnostic:
    """A diagnostic marking the value at ``parts`` (or its nearest enclosing value)."""
    found = parts
    while found not in spans and found:
        found = found[:-1]
    start, end = spans.get(found, (0, len(source)))
    line, column = _line_column(source, start)
    return SchemaDiagnostic(message, json_path(parts), line, column, start, end)


def _meta_diagnostics(
    schema: Any,
    source: str,
    spans: dict[tuple[str | int, ...], tuple[int, int]],
    at: tuple[str | int, ...] = (),
) -> list[SchemaDiagnostic]:
    """Meta-schema problems of ``schema``, which sits at ``at`` in ``source``."""
    from jsonschema.validators import validator_for

    validator_class = validator_for(schema)
    meta = validator_class(validator_class.META_SCHEMA)
    errors = sorted(meta.iter_errors(schema), key=lambda error: list(map(str, error.path)))
    return [
        _diagnostic_at(source, spans, (*at, *error.absolute_path), error.message)
        for error in errors[:MAX_PROBLEMS]
    ]


def check_schema_text(source: str) -> SchemaCheck:
    """JSON syntax errors at their line:column, then meta-schema problems at the value
    they concern (the editor marks it), each with its JSON path."""
    if not source.strip():
        return SchemaCheck(None, ())
    schema, syntax = _syntax_check(source)
    if syntax is not None:
        return SchemaCheck(None, (syntax,))
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
    return SchemaCheck(schema, tuple(_meta_diagnostics(schema, source, value_spans(source))))


def describe_schema(schema: Any) -> str:
    """A few words on what a valid schema asks for: ``object, 3 properties``."""
    if schema is True or schema == {}:
        return "any value"
    if schema is False:
        return "no value at all"
    if not isinstance(schema, dict):
        return "not a schema"
    kind = schema.get("type")
    if isinstance(kind, list):
        words = ["/".join(str(k) for k in kind)]
    elif isinstance(kind, str):
        words = [kind]
    else:
        words = ["any type"]
    properties = schema.get("properties")
    if isinstance(properties, dict):
        count = len(properties)
        words.append(f"{count} propert{'ies' if count != 1 else 'y'}")
    required = schema.get("required")
    if isinstance(required, list) and required:
        words.append(f"{len(required)} required")
    enum = schema.get("enum")
    if isinstance(enum, list):
        words.append(f"one of {len(enum)} values")
    if isinstance(schema.get("items"), dict):
        words.append(f"items: {describe_schema(schema['items'])}")
    return ", ".join(words)


# --- the tools editor's checks -------------------------------------------------------------

#: The keys of one tool (protocol-v2.md §3): all three required, no others.
TOOL_KEYS: tuple[str, ...] = ("name", "description", "input_schema")


@dataclass(frozen=True)
class ToolsCheck:
    """The tools (when the text is a valid tools array) and every problem found.

    ``tools`` is ``()`` for blank text (no tools) and None while there are problems."""

    tools: tuple[ToolSpec, ...] | None
    diagnostics: tuple[SchemaDiagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.tools is not None and not self.diagnostics


def check_tools_text(source: str) -> ToolsCheck:
    """A tools array as the daemon takes it: JSON syntax at line:column, then for each
    tool its keys (name, description, input_schema: all required, no others), a
    non-empty unique name, and its ``input_schema`` against the meta-schema."""
    if not source.strip():
        return ToolsCheck((), ())
    document, syntax = _syntax_check(source)
    if syntax is not None:
        return ToolsCheck(None, (syntax,))
    spans = value_spans(source)
    if not isinstance(document, list):
        message = (
            "the tools must be a JSON array of {name, description, input_schema} objects, "
            f"not {type(document).__name__}"
        )
        return ToolsCheck(None, (_diagnostic_at(source, spans, (), message),))
    diagnostics: list[SchemaDiagnostic] = []
    seen: dict[str, int] = {}
    for index, tool in enumerate(document):
        at: tuple[str | int, ...] = (index,)
        if not isinstance(tool, dict):
            diagnostics.append(
                _diagnostic_at(
                    source, spans, at, f"a tool must be an object, not {type(tool).__name__}"
                )
            )
            continue
        missing = [key for key in TOOL_KEYS if key not in tool]
        if missing:
            names = ", ".join(repr(key) for key in missing)
            diagnostics.append(
                _diagnostic_at(source, spans, at, f"tool {index + 1} is missing {names}")
            )
        for key in tool:
            if key not in TOOL_KEYS:
                diagnostics.append(
                    _diagnostic_at(
                        source,
                        spans,
                        (*at, key),
                        f"unknown key {key!r} (a tool has name, description and input_schema)",
                    )
                )
        name = tool.get("name")
        if "name" in tool:
            if not isinstance(name, str) or not name.strip():
                diagnostics.append(
                    _diagnostic_at(
                        source, spans, (*at, "name"), "the name must be a non-empty string"
                    )
                )
            elif name in seen:
                diagnostics.append(
                    _diagnostic_at(
                        source,
                        spans,
                        (*at, "name"),
                        f"tool names must be unique: {name!r} is also tool {seen[name] + 1}",
                    )
                )
            else:
                seen[name] = index
        if "description" in tool and not isinstance(tool["description"], str):
            diagnostics.append(
                _diagnostic_at(
                    source, spans, (*at, "description"), "the description must be a string"
                )
            )
        if "input_schema" in tool:
            schema = tool["input_schema"]
            if not isinstance(schema, dict):
                diagnostics.append(
                    _diagnostic_at(
                        source,
                        spans,
                        (*at, "input_schema"),
                        f"input_schema must be a JSON schema object, not {type(schema).__name__}",
                    )
                )
            else:
                diagnostics.extend(_meta_diagnostics(schema, source, spans, (*at, "input_schema")))
    if diagnostics:
        # In text order, so the problem list and F8 read top to bottom.
        diagnostics.sort(key=lambda diagnostic: diagnostic.offset)
        return ToolsCheck(None, tuple(diagnostics[:MAX_PROBLEMS]))
    return ToolsCheck(tuple(ToolSpec.model_validate(tool) for tool in document), ())
