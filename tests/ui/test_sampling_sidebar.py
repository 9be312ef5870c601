"""The sampling sidebar: load → to_params round trips, validation in place, budget, reset, preview."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Select, Static
from ui_harness import SidebarApp, sidebar_ready

from inferd_tui.proto import SamplingParams
from inferd_tui.ui.widgets.grammar_editor import GrammarEditor
from inferd_tui.ui.widgets.sampling_sidebar import SamplingSidebar, format_value, parse_field

pytestmark = pytest.mark.anyio


def field(app: App[None], name: str) -> Input:
    return app.query_one(f"#sampling-{name}", Input)


def error_text(app: App[None], name: str) -> str | None:
    error = app.query_one(f"#sampling-{name}-error", Static)
    return str(error.render()) if error.display else None


U32_MAX = 2**32 - 1


@given(
    st.sampled_from(["temperature", "top_p"]),
    st.floats(allow_nan=False, allow_infinity=False),
)
def test_float_fields_read_back_exactly_what_they_show(name: str, value: float) -> None:
    assert parse_field(name, format_value(value)) == (value, None)


@given(st.sampled_from(["top_k", "max_tokens"]), st.integers(0, U32_MAX))
def test_integer_fields_read_back_exactly_what_they_show(name: str, value: int) -> None:
    assert parse_field(name, format_value(value)) == (value, None)


def test_an_empty_field_is_the_daemon_default() -> None:
    assert parse_field("temperature", "") == (None, None)
    assert parse_field("top_k", "   ") == (None, None)


ROUND_TRIPS = [
    SamplingParams(),
    SamplingParams(temperature=0.7, top_p=0.9, top_k=40, max_tokens=128),
    SamplingParams(temperature=0.0, top_k=0, max_tokens=0),
    SamplingParams(temperature=1e-07, top_p=1.0, image_token_budget=280),
    SamplingParams(temperature=-0.5, top_p=0.3333333333333333, image_token_budget=1120),
    SamplingParams(top_k=2**32 - 1, max_tokens=2**32 - 1, image_token_budget=70),
    SamplingParams(temperature=1.5e300, max_tokens=1),
]


@pytest.mark.parametrize("params", ROUND_TRIPS, ids=lambda p: repr(p.wire_fields()))
async def test_load_then_to_params_round_trips(params: SamplingParams) -> None:
    app = SidebarApp()
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        app.sidebar.load(params, 'root ::= "x"')
        await pilot.pause()
        assert app.sidebar.to_params() == params
        assert app.sidebar.grammar == 'root ::= "x"'
        assert app.sidebar.errors() == {}
        # load does not announce a change: the caller knows what it loaded.
        assert app.changed == []


async def test_params_given_before_mount_are_shown() -> None:
    params = SamplingParams(temperature=0.2, image_token_budget=560)
    app = SidebarApp(params, 'root ::= "y"')
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        await pilot.pause()
        assert field(app, "temperature").value == "0.2"
        assert app.sidebar.to_params() == params
        assert app.sidebar.grammar == 'root ::= "y"'


async def test_empty_fields_show_daemon_defaults_and_are_not_sent() -> None:
    app = SidebarApp(SamplingParams(temperature=0.7))
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        assert field(app, "temperature").value == "0.7"
        assert field(app, "top-p").placeholder == "0.95 (daemon default)"
        assert field(app, "top-k").placeholder == "64 (daemon default)"
        assert field(app, "max-tokens").placeholder == "1000 (daemon default)"
        field(app, "temperature").value = ""
        await pilot.pause()
        params = app.sidebar.to_params()
        assert params == SamplingParams()
        assert params is not None and params.wire_fields() == {}
        assert app.changed[-1].params == SamplingParams()


async def test_invalid_text_stays_shows_a_message_and_recovers() -> None:
    app = SidebarApp()
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        top_k = field(app, "top-k")
        top_k.focus()
        await pilot.press("-", "3")
        await pilot.pause()
        assert top_k.value == "-3"  # the user's text is kept
        assert app.sidebar.to_params() is None
        assert "greater than or equal to 0" in app.sidebar.errors()["top_k"]
        assert "greater than or equal to 0" in (error_text(app, "top-k") or "")
        assert top_k.has_class("-invalid")
        assert app.invalid and "top_k" in app.invalid[-1].errors

        await pilot.press("backspace", "backspace", "4", "0")
        await pilot.pause()
        assert top_k.value == "40"
        assert app.sidebar.to_params() == SamplingParams(top_k=40)
        assert error_text(app, "top-k") is None
        assert not top_k.has_class("-invalid")
        assert app.changed[-1].params == SamplingParams(top_k=40)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("temperature", "hot", "valid number"),
        ("temperature", "inf", "finite number"),
        ("top-p", "nan", "finite number"),
        ("max-tokens", "1.5", "valid integer"),
        ("max-tokens", "99999999999", "less than or equal to 4294967295"),
    ],
)
async def test_bounds_come_from_the_model(name: str, text: str, expected: str) -> None:
    app = SidebarApp()
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        field(app, name).value = text
        await pilot.pause()
        assert field(app, name).value == text
        assert app.sidebar.to_params() is None
        assert expected in (error_text(app, name) or "")


async def test_budget_select() -> None:
    app = SidebarApp()
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        select = app.query_one("#sampling-image-token-budget", Select)
        assert select.value is Select.NULL
        select.value = 560
        await pilot.pause()
        assert app.sidebar.to_params() == SamplingParams(image_token_budget=560)
        assert app.changed[-1].params.image_token_budget == 560
        select.clear()
        await pilot.pause()
        assert app.sidebar.to_params() == SamplingParams()


async def test_budget_select_by_keyboard() -> None:
    app = SidebarApp()
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        app.query_one("#sampling-image-token-budget", Select).focus()
        await pilot.press("enter", "down", "down", "enter")
        await pilot.pause()
        assert app.sidebar.to_params() == SamplingParams(image_token_budget=140)


async def test_a_budget_the_daemon_rejects_is_kept_and_flagged() -> None:
    app = SidebarApp()
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        app.sidebar.load(SamplingParams(image_token_budget=999), "")
        await pilot.pause()
        select = app.query_one("#sampling-image-token-budget", Select)
        assert select.value == 999
        assert app.sidebar.to_params() is None
        assert "999 is not accepted" in app.sidebar.errors()["image_token_budget"]
        select.value = 280
        await pilot.pause()
        assert app.sidebar.to_params() == SamplingParams(image_token_budget=280)
        assert app.sidebar.errors() == {}


async def test_reset_clears_fields_but_keeps_the_grammar() -> None:
    params = SamplingParams(
        temperature=0.1, top_p=0.5, top_k=3, max_tokens=9, image_token_budget=70
    )
    app = SidebarApp(params, 'root ::= "kept"')
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        field(app, "top-k").value = "oops"
        await pilot.pause()
        assert app.sidebar.to_params() is None
        app.query_one("#sampling-reset").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.sidebar.to_params() == SamplingParams()
        assert app.sidebar.errors() == {}
        assert error_text(app, "top-k") is None
        assert app.sidebar.grammar == 'root ::= "kept"'
        assert app.changed[-1].params == SamplingParams()
        assert app.changed[-1].grammar == 'root ::= "kept"'


async def test_reset_binding() -> None:
    app = SidebarApp(SamplingParams(top_k=5))
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        field(app, "temperature").focus()
        await pilot.press("alt+r")
        await pilot.pause()
        assert app.sidebar.to_params() == SamplingParams()
    ids = {binding.id for binding in SamplingSidebar.BINDINGS if isinstance(binding, Binding)}
    assert "sampling-reset" in ids


async def test_preview_shows_the_line_literally() -> None:
    app = SidebarApp()
    line = '{"id":"<id>","messages":[{"role":"user","content":"[bold]hi[/bold] \x1b[31mred"}]}'
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        app.sidebar.show_preview(line)
        await pilot.pause()
        preview = app.query_one("#sampling-preview", Static)
        rendered = preview.render()
        shown = rendered.plain if isinstance(rendered, Text) else str(rendered)
        assert "[bold]hi[/bold]" in shown  # markup stays literal
        assert "\x1b" not in shown  # the escape is made visible, not sent to the terminal
        assert "␛[31mred" in shown
        assert app.sidebar.preview == line


async def test_grammar_edits_announce_a_change_after_the_check() -> None:
    app = SidebarApp()
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        editor = app.query_one(GrammarEditor)
        editor.text_area.focus()
        await pilot.press(*'root ::= "a"')
        editor.flush_check()
        await pilot.pause()
        assert app.changed[-1].grammar == 'root ::= "a"'
        assert app.sidebar.grammar == 'root ::= "a"'


async def test_a_blank_grammar_is_not_sent() -> None:
    app = SidebarApp(grammar="  \n ")
    async with app.run_test(size=(44, 60)):
        assert app.sidebar.grammar == ""


async def test_set_grammar_is_an_undoable_change() -> None:
    app = SidebarApp(grammar='root ::= "old"')
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        app.sidebar.set_grammar('root ::= "new"')
        await pilot.pause()
        assert app.changed[-1].grammar == 'root ::= "new"'
        editor = app.query_one(GrammarEditor)
        editor.text_area.focus()
        await pilot.press("ctrl+z")
        assert app.sidebar.grammar == 'root ::= "old"'


async def test_a_preview_given_before_mount_is_shown() -> None:
    sidebar = SamplingSidebar(id="sidebar")
    sidebar.show_preview('{"id":"early"}')

    class EarlyApp(App[None]):
        def compose(self) -> ComposeResult:
            yield sidebar

    async with EarlyApp().run_test(size=(44, 60)) as pilot:
        await pilot.pause()
        assert '{"id":"early"}' in str(sidebar.query_one("#sampling-preview", Static).render())


async def test_the_system_prompt_shows_its_first_line_literally() -> None:
    sidebar = SamplingSidebar(id="sidebar")
    sidebar.show_system_prompt("[bold]Be brief.[/bold]\nSecond line")

    class EarlyApp(App[None]):
        def compose(self) -> ComposeResult:
            yield sidebar

    async with EarlyApp().run_test(size=(44, 60)) as pilot:
        await pilot.pause()
        shown = sidebar.query_one("#sampling-system-prompt", Static)
        assert str(shown.render()) == "2 lines: [bold]Be brief.[/bold]"
        sidebar.show_system_prompt("One line\r\n")
        await pilot.pause()
        assert str(shown.render()) == "One line"
        sidebar.show_system_prompt("")
        await pilot.pause()
        assert "F4 sets one" in str(shown.render())


async def test_a_rejected_budget_given_before_mount_is_flagged_at_once() -> None:
    app = SidebarApp(SamplingParams(image_token_budget=100))
    async with app.run_test(size=(44, 60)) as pilot:
        await sidebar_ready(pilot)
        await pilot.pause()
        assert "100 is not accepted" in (error_text(app, "image-token-budget") or "")
        assert app.sidebar.to_params() is None
