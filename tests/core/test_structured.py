"""JSON schemas and answers checked with the jsonschema library: paths, positions, examples."""

from __future__ import annotations

import pytest

from inferd_tui.proto.chat import ToolSpec
from inferd_tui.schema_examples import get_schema_example, load_schema_examples
from inferd_tui.structured import (
    ToolsCheck,
    answer_problem,
    check_schema_text,
    check_tools_text,
    describe_schema,
    schema_problems,
    value_spans,
)


def test_a_valid_schema_has_no_problems() -> None:
    assert schema_problems({"type": "object", "required": ["a"]}) == []


def test_meta_schema_problems_name_the_json_path() -> None:
    problems = schema_problems({"type": "object", "properties": {"a": {"type": "strin"}}})
    assert len(problems) == 1
    assert problems[0].startswith("$.properties.a.type: 'strin' is not valid")


def test_not_an_object() -> None:
    assert schema_problems([1]) == ["$: a schema must be a JSON object, not list"]


def test_syntax_error_at_line_and_column() -> None:
    check = check_schema_text('{\n  "type": "object",\n  "x": \n}')
    assert not check.ok
    (diagnostic,) = check.diagnostics
    assert (diagnostic.line, diagnostic.column, diagnostic.path) == (4, 1, "$")
    assert diagnostic.message == "Expecting value"


def test_meta_schema_problem_is_marked_at_its_value() -> None:
    source = '{"type": "object",\n "required": "name"}'
    (diagnostic,) = check_schema_text(source).diagnostics
    assert diagnostic.path == "$.required"
    assert source[diagnostic.offset : diagnostic.end_offset] == '"name"'
    assert (diagnostic.line, diagnostic.column) == (2, 14)
    assert (
        diagnostic.format("s.json")
        == "s.json:2:14: error at $.required: 'name' is not of type 'array'"
    )


def test_blank_text_is_no_schema() -> None:
    check = check_schema_text("  \n")
    assert check.schema is None
    assert check.diagnostics == ()


def test_value_spans_follow_the_parser() -> None:
    source = '{"a": [1, {"b": "x\\"y"}], "c": null}'
    spans = value_spans(source)
    assert source[slice(*spans[("a", 1, "b")])] == '"x\\"y"'
    assert source[slice(*spans[("c",)])] == "null"
    assert spans[()] == (0, len(source))


def test_answer_checks() -> None:
    schema = get_schema_example("enum").schema
    assert answer_problem(schema, '{"sentiment": "neutral", "confidence": 0.5}') is None
    problem = answer_problem(schema, '{"sentiment": "meh", "confidence": 0.5}')
    assert problem is not None
    assert problem.startswith("$.sentiment: 'meh' is not one of")
    assert answer_problem(schema, "{not json").startswith("not JSON")  # type: ignore[union-attr]


@pytest.mark.parametrize("example", load_schema_examples(), ids=lambda e: e.name)
def test_every_example_is_a_valid_schema_with_a_description(example: object) -> None:
    assert example.description  # type: ignore[attr-defined]
    assert check_schema_text(example.source).ok  # type: ignore[attr-defined]


# --- tools ----------------------------------------------------------------------------------

TOOLS = """[
  {"name": "get_weather", "description": "Weather for a city.",
   "input_schema": {"type": "object", "properties": {"city": {"type": "strin"}}}},
  {"name": "get_weather", "description": 3, "input_schema": {}, "extra": 1},
  {"name": "lookup"}
]"""


def test_blank_tools_text_is_no_tools() -> None:
    assert check_tools_text("  \n") == ToolsCheck((), ())


def test_valid_tools_become_tool_specs() -> None:
    result = check_tools_text(
        '[{"name": "a", "description": "", "input_schema": {"type": "object"}}]'
    )
    assert result.ok
    assert result.tools == (ToolSpec(name="a", description="", input_schema={"type": "object"}),)


def test_tools_syntax_error_at_line_and_column() -> None:
    result = check_tools_text('[\n  {"name": "a",,}\n]')
    assert result.tools is None
    (problem,) = result.diagnostics
    assert (problem.line, problem.column, problem.path) == (2, 16, "$")


def test_tools_must_be_an_array() -> None:
    (problem,) = check_tools_text('{"name": "a"}').diagnostics
    assert "must be a JSON array" in problem.message


def test_each_tool_is_checked_in_text_order() -> None:
    result = check_tools_text(TOOLS)
    assert result.tools is None
    found = [(d.path, d.message) for d in result.diagnostics]
    assert [path for path, _ in found] == [
        "$[0].input_schema.properties.city.type",
        "$[1].name",
        "$[1].description",
        "$[1].extra",
        "$[2]",
    ]
    assert "'get_weather' is also tool 1" in found[1][1]
    assert "unknown key 'extra'" in found[3][1]
    assert "missing 'description', 'input_schema'" in found[4][1]
    bad_type = result.diagnostics[0]
    assert TOOLS[bad_type.offset : bad_type.end_offset] == '"strin"'


def test_describe_schema() -> None:
    assert describe_schema({"type": "object", "properties": {"a": {}, "b": {}}}) == (
        "object, 2 properties"
    )
    assert describe_schema({"enum": ["a", "b"]}) == "any type, one of 2 values"
    assert describe_schema(True) == "any value"
