"""Snapshot tests of the post-v1 sidebar and the JSON-schema editor (fixed size, no daemon).

Each test's docstring says what the SVG shows. The widgets are hosted on their own, so
the frames do not depend on the chat screen or a daemon.
"""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.pilot import Pilot

from inferd_tui.proto import SamplingParams
from inferd_tui.proto.capability import DaemonProfile
from inferd_tui.proto.chat import ToolSpec
from inferd_tui.proto.eras import EraRange
from inferd_tui.request_options import RequestOptions
from inferd_tui.schema_examples import get_schema_example
from inferd_tui.ui.widgets.sampling_sidebar import SamplingSidebar
from inferd_tui.ui.widgets.schema_editor import SchemaEditor

WEATHER = ToolSpec(
    name="get_weather",
    description="Get the current weather for a city.",
    input_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)

BAD_SCHEMA = """{
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "age": {"type": "integr", "minimum": 0}
  },
  "required": ["name"]
}"""


class SidebarHost(App[None]):
    """The sidebar at the chat screen's width (44 columns) beside an empty pane."""

    CSS = """
    #pane { width: 1fr; }
    SamplingSidebar { width: 44; border-left: vkey $panel-lighten-2; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Vertical(id="pane")
            yield SamplingSidebar(id="sidebar")


def test_v2_sidebar_at_era_08(snap_compare: Any) -> None:
    """The sidebar on an inferd 0.8 daemon: Temperature 0.7 and the other sampling fields
    (no image budget), Thinking "on", the structured-output editor holding a contact-card
    schema with "✓ valid JSON schema (object, 3 properties, 2 required)", the tools editor
    with get_weather and "✓ 1 tool: get_weather", Tool choice "not sent", and at the bottom
    the grammar heading folded to "GBNF grammars are v1 only; 0.5+ takes a JSON schema
    (your grammar is kept, not sent)"."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        sidebar = pilot.app.query_one(SamplingSidebar)
        sidebar.load_options(
            RequestOptions(
                sampling=SamplingParams(temperature=0.7, max_tokens=256),
                grammar='root ::= "yes" | "no"',
                response_schema=get_schema_example("object-required").schema,
                thinking=True,
                tools=(WEATHER,),
            )
        )
        sidebar.set_profile(DaemonProfile("v2", EraRange.exactly("0.8")))
        await pilot.pause()
        await pilot.pause()
        for editor in pilot.app.query(SchemaEditor):
            editor.text_area.cursor_blink = False
        if sidebar.features is not None:
            sidebar.features.tools_editor.text_area.cursor_blink = False
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(SidebarHost(), terminal_size=(90, 64), run_before=run_before)


class EditorHost(App[None]):
    def compose(self) -> ComposeResult:
        yield SchemaEditor(BAD_SCHEMA, show_examples=True, id="editor")


def test_schema_editor_with_a_diagnostic(snap_compare: Any) -> None:
    """The JSON-schema editor with the example picker above it: `"integr"` on line 5 is
    marked, the summary says "✗ 1 problem" and the problem list shows
    "5:21 $.properties.age.type 'integr' is not valid under any of the given schemas"."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        editor = pilot.app.query_one(SchemaEditor)
        editor.text_area.cursor_blink = False
        editor.flush_check()
        await pilot.pause()

    assert snap_compare(EditorHost(), terminal_size=(90, 20), run_before=run_before)
