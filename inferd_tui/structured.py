"""Structured output: JSON schemas checked against their meta-schema, and answers checked
against a schema, with the JSON path of each problem. Uses the ``jsonschema`` library
(imported on first use: start-up matters). Pure; shared by ``ask`` and the app.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
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
