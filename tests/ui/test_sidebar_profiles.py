"""The sidebar follows the daemon: fields per era, reasons, text kept across daemons, and
the RequestOptions round trip; the tools editor's live checks."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widget import Widget
from textual.widgets import Select, Static
from ui_harness import SidebarApp

from inferd_tui.proto import SamplingParams
from inferd_tui.proto.capability import BackendCapabilities, DaemonProfile
from inferd_tui.proto.chat import ToolSpec
from inferd_tui.proto.eras import Era, EraRange
from inferd_tui.request_options import RequestOptions
from inferd_tui.ui.widgets.sampling_sidebar import SamplingSidebar
from inferd_tui.ui.widgets.schema_editor import JsonEditor

pytestmark = pytest.mark.anyio

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = ToolSpec(
    name="get_weather", description="Get the current weather for a city.", input_schema=SCHEMA
)


def profile(era: Era, **capabilities: bool) -> DaemonProfile:
    wire = "v1" if era in ("0.1", "0.2", "0.3") else "v2"
    backends = (BackendCapabilities(**capabilities),) if capabilities else ()
    return DaemonProfile(wire, EraRange.exactly(era), backends)  # type: ignore[arg-type]


def shown(app: App[None], selector: str) -> bool:
    """Displayed, and every ancestor up to the sidebar too."""
    widget: Widget | None = app.query_one(selector)
    while widget is not None and not isinstance(widget, SamplingSidebar):
        if not widget.display:
            return False
        widget = widget.parent  # type: ignore[assignment]
    return True


def reason(app: App[None], name: str) -> str | None:
    widget = app.query_one(f"#sampling-{name}-reason", Static)
    return str(widget.render()) if shown(app, f"#sampling-{name}-reason") else None


async def lay_out(pilot: object, app: SidebarApp, era: Era | None, **caps: bool) -> None:
    app.sidebar.set_profile(None if era is None else profile(era, **caps))
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def test_v1_daemons_get_todays_fields_and_no_json_editors() -> None:
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        await lay_out(pilot, app, "0.3")
        assert shown(app, "#sampling-image-token-budget")
        assert shown(app, "#sampling-grammar")
        assert reason(app, "grammar") is None
        assert app.sidebar.features is None  # the JSON editors are not even mounted
        assert not app.query(JsonEditor)


async def test_era_04_shows_sampling_disables_thinking_and_schema_with_reasons() -> None:
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        await lay_out(pilot, app, "0.4")
        assert not shown(app, "#sampling-image-token-budget")
        assert shown(app, "#sampling-temperature")
        assert not shown(app, "#sampling-grammar")
        assert reason(app, "grammar") == "GBNF grammars are v1 only; 0.5+ takes a JSON schema"
        assert shown(app, "#sampling-thinking")
        assert app.query_one("#sampling-thinking", Select).disabled
        assert reason(app, "thinking") == "inferd 0.4 has no thinking switch (0.5.1+)"
        assert not shown(app, "#sampling-response-schema")
        assert reason(app, "response-schema") == "inferd 0.4 has no JSON-schema output (0.5+)"
        assert shown(app, "#sampling-tools")
        assert app.query_one("#sampling-tool-choice", Select).disabled
        assert reason(app, "tool-choice") == "inferd 0.4 has no tool_choice (0.8+)"


async def test_era_05_takes_thinking_and_a_schema_but_no_tool_choice() -> None:
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        await lay_out(pilot, app, "0.5")
        assert not app.query_one("#sampling-thinking", Select).disabled
        assert reason(app, "thinking") is None
        assert shown(app, "#sampling-response-schema")
        assert reason(app, "response-schema") is None
        assert app.query_one("#sampling-tool-choice", Select).disabled
        assert reason(app, "tool-choice") == "inferd 0.5.1 has no tool_choice (0.8+)"


async def test_era_08_takes_everything_but_the_v1_fields() -> None:
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        await lay_out(pilot, app, "0.8")
        for name in ("thinking", "response-schema", "tools", "tool-choice"):
            assert shown(app, f"#sampling-{name}"), name
            assert reason(app, name) is None, name
        assert not app.query_one("#sampling-tool-choice", Select).disabled
        assert not shown(app, "#sampling-image-token-budget")
        assert not shown(app, "#sampling-grammar")


async def test_a_backend_without_thinking_or_tools_says_so() -> None:
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        await lay_out(pilot, app, "0.8", thinking=False, tools=False)
        assert app.query_one("#sampling-thinking", Select).disabled
        assert reason(app, "thinking") == "the backend does not advertise thinking"
        assert not shown(app, "#sampling-tools")
        assert reason(app, "tools") == "the backend does not advertise tools"


async def test_switching_daemons_keeps_what_was_typed() -> None:
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        sidebar = app.sidebar
        sidebar.load(SamplingParams(temperature=0.5, image_token_budget=280), 'root ::= "a"')
        await lay_out(pilot, app, "0.8")
        assert sidebar.features is not None
        sidebar.features.schema_editor.set_source('{"type": "string"}')
        sidebar.features.tools_editor.set_source("[not json")
        app.query_one("#sampling-thinking", Select).value = True
        await pilot.pause()
        options = sidebar.to_options()
        assert options is None  # the tools are broken and a 0.8 daemon takes tools
        assert "tools" in sidebar.errors()
        sidebar.features.tools_editor.set_source("")
        await pilot.pause()
        options = sidebar.to_options()
        assert options is not None
        assert options.grammar == ""  # kept, but a 0.8 daemon takes no grammar
        assert options.sampling.image_token_budget is None
        assert options.response_schema == {"type": "string"}
        assert options.thinking is True
        assert "your grammar is kept, not sent" in (reason(app, "grammar") or "")

        await lay_out(pilot, app, "0.3")
        assert sidebar.grammar_source == 'root ::= "a"'
        assert sidebar.grammar == 'root ::= "a"'
        v1 = sidebar.to_options()
        assert v1 is not None
        assert v1.response_schema is None and v1.thinking is None and v1.tools == ()
        assert v1.sampling.image_token_budget == 280
        assert not shown(app, "#sampling-features")

        await lay_out(pilot, app, "0.8")
        assert sidebar.features.schema_editor.source == '{"type": "string"}'
        back = sidebar.to_options()
        assert back is not None and back.thinking is True
        assert back.response_schema == {"type": "string"}


async def test_set_profile_announces_what_the_next_request_carries() -> None:
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        app.sidebar.load(SamplingParams(image_token_budget=280), "")
        await lay_out(pilot, app, "0.8")
        assert app.changed
        last = app.changed[-1]
        assert last.options is not None
        assert last.options.sampling.image_token_budget is None


ROUND_TRIPS = [
    RequestOptions(),
    RequestOptions(sampling=SamplingParams(temperature=0.2, max_tokens=64), thinking=False),
    RequestOptions(response_schema=SCHEMA, thinking=True),
    RequestOptions(tools=(WEATHER,), tool_choice="required"),
    RequestOptions(tools=(WEATHER,), tool_choice="none", thinking=True),
]


@pytest.mark.parametrize("options", ROUND_TRIPS)
async def test_to_options_round_trips_on_a_08_daemon(options: RequestOptions) -> None:
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        await lay_out(pilot, app, "0.8")
        app.sidebar.load_options(options)
        await pilot.pause()
        assert app.sidebar.to_options() == options


async def test_options_loaded_before_a_v2_daemon_wait_in_hidden_fields() -> None:
    options = RequestOptions(
        sampling=SamplingParams(top_k=5), grammar='root ::= "x"', response_schema=SCHEMA
    )
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        app.sidebar.load_options(options)
        await pilot.pause()
        on_v1 = app.sidebar.to_options()
        assert on_v1 == RequestOptions(sampling=SamplingParams(top_k=5), grammar='root ::= "x"')
        await lay_out(pilot, app, "0.8")
        on_v2 = app.sidebar.to_options()
        assert on_v2 == RequestOptions(sampling=SamplingParams(top_k=5), response_schema=SCHEMA)


async def test_tool_choice_needs_tools_and_no_schema() -> None:
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        await lay_out(pilot, app, "0.8")
        app.query_one("#sampling-tool-choice", Select).value = "auto"
        await pilot.pause()
        assert app.sidebar.errors()["tool_choice"] == "tool_choice needs at least one tool"
        assert app.sidebar.to_options() is None
        assert app.invalid and "tool_choice" in app.invalid[-1].errors
        error = app.query_one("#sampling-tool-choice-error", Static)
        assert error.display
        app.sidebar.load_options(RequestOptions(tools=(WEATHER,), tool_choice="auto"))
        await pilot.pause()
        assert app.sidebar.to_options() == RequestOptions(tools=(WEATHER,), tool_choice="auto")
        assert app.sidebar.features is not None
        app.sidebar.features.schema_editor.set_source('{"type": "object"}')
        await pilot.pause()
        assert "cannot be combined" in app.sidebar.errors()["tool_choice"]


async def test_tools_editor_checks_as_you_type() -> None:
    app = SidebarApp()
    async with app.run_test(size=(60, 80)) as pilot:
        await lay_out(pilot, app, "0.8")
        assert app.sidebar.features is not None
        editor = app.sidebar.features.tools_editor
        editor.text_area.focus()
        await pilot.press(*"[1")
        editor.flush_check()
        await pilot.pause()
        assert editor.summary == "✗ 1 problem"
        (problem,) = editor.result.diagnostics
        assert (problem.line, problem.column) == (1, 3)
        editor.set_source(
            '[{"name": "a", "description": "", "input_schema": {"type": "nope"}},\n'
            ' {"name": "a", "description": "", "input_schema": {}}]'
        )
        await pilot.pause()
        paths = [d.path for d in editor.result.diagnostics]
        assert paths == ["$[0].input_schema.type", "$[1].name"]
        assert editor.text_area.marked_spans  # both are marked in the text
        editor.set_source('[{"name": "a", "description": "", "input_schema": {"type": "object"}}]')
        await pilot.pause()
        assert editor.summary == "✓ 1 tool: a"
        options = app.sidebar.to_options()
        assert options is not None and [tool.name for tool in options.tools] == ["a"]
        assert app.changed[-1].options == options
