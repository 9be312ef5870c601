"""A small, deterministic JSON-schema instance generator (pure) for the demo backend.

The demo answers a ``response_format`` request with JSON that satisfies the schema, and
fills a tool call's ``input`` from the tool's ``input_schema``. Real llama.cpp compiles the
schema to a grammar; here one plausible instance is built from the common keywords:
``type`` (or a list of types), ``properties``/``required``, ``enum``, ``const``, ``items``
(``minItems``/``maxItems``), ``minimum``/``maximum`` (and the exclusive forms),
``multipleOf``, ``minLength``/``maxLength``, ``anyOf``/``oneOf``/``allOf``, local ``$ref``
(``#/$defs/…``, ``#/definitions/…``) and ``format`` (date, date-time, time, email, uri,
uuid). Anything it cannot satisfy raises :class:`UnsupportedSchema` (the demo then fails
the answer mid-stream, as a real backend does on a bad schema, protocol-v2.md §6).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

#: Strings for a property, by name: ``text_for(property_name)`` → a value or None.
TextSource = Callable[[str], str | None]

_FORMATS: Final[dict[str, str]] = {
    "date": "2026-08-14",
    "date-time": "2026-08-14T09:30:00Z",
    "time": "09:30:00Z",
    "email": "ada@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "123e4567-e89b-42d3-a456-426614174000",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
}
_TYPE_ORDER: Final = ("object", "array", "string", "integer", "number", "boolean", "null")
_MAX_DEPTH: Final = 32


class UnsupportedSchema(ValueError):
    """The schema uses something this generator cannot satisfy."""


def instance_for(schema: Any, *, text_for: TextSource | None = None) -> Any:
    """One value that validates against ``schema`` (draft 2020-12 / draft 7 keywords)."""
    return _Generator(schema, text_for or (lambda name: None)).value(schema, "", 0)


class _Generator:
    def __init__(self, root: Any, text_for: TextSource) -> None:
        self.root = root
        self.text_for = text_for

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise UnsupportedSchema(f"only local $ref is supported, not {ref!r}")
        node = self.root
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise UnsupportedSchema(f"$ref {ref!r} points nowhere")
            node = node[part]
        return node

    def value(self, schema: Any, name: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise UnsupportedSchema("the schema nests too deeply (or refers to itself)")
        if schema is True or schema == {}:
            return self.text_for(name) or "example"
        if schema is False:
            raise UnsupportedSchema("the schema `false` has no instance")
        if not isinstance(schema, dict):
            raise UnsupportedSchema("a schema must be an object or a boolean")
        if "$ref" in schema:
            target = self.resolve(str(schema["$ref"]))
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            return self.value(_merge(target, rest) if rest else target, name, depth + 1)
        if "allOf" in schema:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                if isinstance(part, dict) and "$ref" in part:
                    part = self.resolve(str(part["$ref"]))
                merged = _merge(merged, part)
            return self.value(merged, name, depth + 1)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            choices = schema["enum"]
            if not isinstance(choices, list) or not choices:
                raise UnsupportedSchema("`enum` must be a non-empty list")
            return choices[0]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                branches = schema[key]
                if not isinstance(branches, list) or not branches:
                    raise UnsupportedSchema(f"`{key}` must be a non-empty list")
                base = {k: v for k, v in schema.items() if k != key}
                return self.value(_merge(base, branches[0]), name, depth + 1)
        kind = _type_of(schema)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind == "string":
            return self.string(schema, name)
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        raise UnsupportedSchema(f"unknown type {kind!r}")

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        if not isinstance(properties, dict) or not isinstance(required, list):
            raise UnsupportedSchema("`properties` must be an object and `required` a list")
        result: dict[str, Any] = {}
        for key, sub in properties.items():
            result[key] = self.value(sub, key, depth + 1)
        for key in required:
            if key not in result:
                extra = schema.get("additionalProperties", True)
                result[key] = self.value(extra if isinstance(extra, dict) else True, key, depth + 1)
        minimum = schema.get("minProperties", 0)
        index = 1
        while len(result) < minimum:
            result.setdefault(f"field_{index}", "example")
            index += 1
        return result

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        prefix = schema.get("prefixItems", [])
        items = schema.get("items", True)
        if isinstance(items, list):  # draft 7's tuple form
            prefix, items = items, schema.get("additionalItems", True)
        low = int(schema.get("minItems", 0))
        high = schema.get("maxItems")
        count = max(low, len(prefix), 1 if high is None or high >= 1 else 0)
        if high is not None:
            count = min(count, int(high))
        if count < low:
            raise UnsupportedSchema("minItems is above maxItems")
        values = [self.value(sub, name, depth + 1) for sub in prefix[:count]]
        for index in range(len(values), count):
            value = self.value(items, name, depth + 1)
            if schema.get("uniqueItems") and isinstance(value, int | float):
                value = value + index
            values.append(value)
        return values

    def string(self, schema: dict[str, Any], name: str) -> str:
        form = schema.get("format")
        if isinstance(form, str) and form in _FORMATS:
            return _FORMATS[form]
        if "pattern" in schema:
            raise UnsupportedSchema("string `pattern` is not supported by the demo backend")
        text = self.text_for(name) or (name.replace("_", " ") if name else "example")
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        if len(text) < low:
            text = (text + " ") * (low // max(len(text) + 1, 1) + 1)
            text = text[: max(low, len(text.rstrip()))]
        if high is not None:
            if int(high) < low:
                raise UnsupportedSchema("minLength is above maxLength")
            text = text[: int(high)]
        return text


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        known = [k for k in _TYPE_ORDER if k in kind]
        if not known:
            raise UnsupportedSchema(f"no known type among {kind!r}")
        return known[0]
    if isinstance(kind, str):
        return kind
    # No type: infer from the keywords present.
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema or "minItems" in schema:
        return "array"
    if {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} & schema.keys():
        return "number"
    return "string"


def _merge(base: Any, extra: Any) -> dict[str, Any]:
    """Two schemas' keywords together (``properties`` and ``required`` combined)."""
    if not isinstance(base, dict) or not isinstance(extra, dict):
        raise UnsupportedSchema("only object schemas can be combined")
    merged = {**base, **extra}
    if "properties" in base and "properties" in extra:
        merged["properties"] = {**base["properties"], **extra["properties"]}
    if "required" in base and "required" in extra:
        merged["required"] = list(dict.fromkeys([*base["required"], *extra["required"]]))
    return merged


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    low: float = -math.inf
    high: float = math.inf
    if "minimum" in schema:
        low = float(schema["minimum"])
    if "maximum" in schema:
        high = float(schema["maximum"])
    exclusive_low = schema.get("exclusiveMinimum")
    exclusive_high = schema.get("exclusiveMaximum")
    step = schema.get("multipleOf")
    # Aim for a friendly value: 42 when allowed, else the middle of the range.
    target = 42.0
    if low > -math.inf and high < math.inf:
        target = (low + high) / 2
    elif low > -math.inf:
        target = max(target, low)
    elif high < math.inf:
        target = min(target, high)
    if isinstance(exclusive_low, int | float) and not isinstance(exclusive_low, bool):
        target = max(target, float(exclusive_low) + 1)
    if isinstance(exclusive_high, int | float) and not isinstance(exclusive_high, bool):
        target = min(target, float(exclusive_high) - 1)
        if target <= float(exclusive_low or -math.inf):
            target = (float(exclusive_low or exclusive_high - 1) + float(exclusive_high)) / 2
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        target = math.ceil(target / step) * step
        if target > high:
            target -= step
    if integer:
        value = math.ceil(target) if target > -math.inf else 0
        if value > high:
            value = math.floor(high)
        if value < low:
            raise UnsupportedSchema("no integer between minimum and maximum")
        return int(value)
    if target < low or target > high:
        raise UnsupportedSchema("minimum is above maximum")
    return int(target) if float(target).is_integer() else target
