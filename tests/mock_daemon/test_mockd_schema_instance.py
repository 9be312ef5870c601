"""The demo backend's JSON-schema instance generator: every instance validates."""

from __future__ import annotations

from typing import Any

import pytest

from inferd_tui.mock_daemon.schema_instance import UnsupportedSchema, instance_for

jsonschema = pytest.importorskip("jsonschema")

SCHEMAS: dict[str, dict[str, Any]] = {
    "object with required": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name", "age"],
        "additionalProperties": False,
    },
    "enum and const": {
        "type": "object",
        "properties": {
            "colour": {"enum": ["red", "green"]},
            "version": {"const": 3},
        },
        "required": ["colour", "version"],
    },
    "array bounds": {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 4},
    "empty array allowed": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
    "number range": {"type": "number", "minimum": 0.5, "maximum": 0.75},
    "integer above": {"type": "integer", "minimum": 100},
    "integer below": {"type": "integer", "maximum": -3},
    "exclusive": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2},
    "multiple of": {"type": "integer", "minimum": 50, "multipleOf": 7},
    "anyOf": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
    "oneOf": {"oneOf": [{"type": "boolean"}, {"type": "object"}]},
    "allOf": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer"}}, "required": ["b"]},
        ]
    },
    "formats": {
        "type": "object",
        "properties": {
            name: {"type": "string", "format": name}
            for name in ("date", "date-time", "email", "uri", "uuid")
        },
    },
    "string lengths": {"type": "string", "minLength": 12, "maxLength": 14},
    "type list": {"type": ["null", "integer"]},
    "refs": {
        "$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}}}},
        "type": "array",
        "items": {"$ref": "#/$defs/point"},
        "minItems": 2,
    },
    "nested": {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                    "required": ["sku", "qty"],
                },
            }
        },
        "required": ["items"],
    },
    "untyped": {"required": ["x"]},
    "required not in properties": {"type": "object", "required": ["city"]},
}


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
def test_instances_validate(schema: dict[str, Any]) -> None:
    instance = instance_for(schema)
    jsonschema.validate(instance, schema)
    assert instance_for(schema) == instance  # deterministic


def test_strings_come_from_the_text_source() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    assert instance_for(schema, text_for=lambda name: "Dublin" if name == "city" else None) == {
        "city": "Dublin"
    }


@pytest.mark.parametrize(
    "schema",
    [
        False,
        {"type": "string", "pattern": "^[a-z]+$"},
        {"$ref": "https://example.com/schema"},
        {"type": "integer", "minimum": 5, "maximum": 4},
        {"type": "array", "minItems": 3, "maxItems": 1},
        {"$ref": "#/$defs/loop", "$defs": {"loop": {"$ref": "#/$defs/loop"}}},
        "not a schema",
    ],
)
def test_what_it_cannot_satisfy_is_refused(schema: Any) -> None:
    with pytest.raises(UnsupportedSchema):
        instance_for(schema)
