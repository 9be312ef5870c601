"""Pilot tests for the conversation list, search, export/import, history search and presets.

Each test pushes one screen over a real store on a temporary file, drives it with keys
and checks both what the screen shows and what the store holds afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable, Input, OptionList, Static

from inferd_tui.store import Preset, Store, StoreUnavailable
from inferd_tui.ui.screens.conversations import (
    HIGHLIGHT_STYLE,
    ConversationsScreen,
    default_export_stem,
    highlighted,
    slug,
)
from inferd_tui.ui.screens.dialogs import (
    ConfirmDialog,
    ExportDialog,
    TextInputDialog,
    expand_path,
    with_suffix_for,
)
from inferd_tui.ui.screens.history_search import HistorySearchScreen, match_line, merge_history
from inferd_tui.ui.screens.presets import PresetDraft, PresetsScreen

HOSTILE_TITLE = "[bold]Hostile[/bold] \x1b[31mred"


class TickingClock:
    """Each call one second later, so "most recently updated" is never a tie."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "db.sqlite3", clock=TickingClock()) as opened:
        rust = opened.create_conversation("Rust lifetimes", params={"temperature": 0.2})
        opened.add_turn(rust.id, "user", "How do borrow lifetimes work?")
        opened.add_turn(
            rust.id,
            "assistant",
            "Lifetimes describe how long a reference stays valid.",
            request_params={"temperature": 0.2},
        )
        bread = opened.create_conversation("Sourdough bread")
        opened.add_turn(bread.id, "user", "Give me a sourdough recipe")
        opened.add_turn(bread.id, "assistant", "Mix flour, water and salt; fold; bake hot.")
        hostile = opened.create_conversation(HOSTILE_TITLE)
        opened.add_turn(hostile.id, "user", "hello \x1b]0;pwned\x07 lifetimes")
        yield opened


class Harness(App[None]):
    """Pushes one screen on mount and records what it dismisses with and every notify."""

    def __init__(self, make_screen: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make_screen = make_screen
        self.results: list[Any] = []
        self.notices: list[tuple[str, str, str]] = []

    def on_mount(self) -> None:
        self.push_screen(self._make_screen(), self.results.append)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        self.notices.append((severity, title, message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def errors(self) -> list[str]:
        return [
            f"{title}: {message}"
            for severity, title, message in self.notices
            if severity == "error"
        ]


def leftover_temporaries(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir() if path.name.startswith(".")]


def titles(screen: ConversationsScreen) -> list[str]:
    table: DataTable[Text] = screen.query_one("#conversation-table", DataTable)
    return [table.get_row_at(row)[0].plain for row in range(table.row_count)]


def static_text(screen: Screen[Any], selector: str) -> str:
    content = screen.query_one(selector, Static).content
    return content.plain if isinstance(content, Text) else str(content)


async def set_input(pilot: Any, screen: Screen[Any], selector: str, value: str) -> None:
    screen.query_one(selector, Input).value = value
    await pilot.pause()


# --------------------------------------------------------------------------- pure helpers


def test_highlighted_keeps_spans_around_replaced_controls() -> None:
    from inferd_tui.store import HighlightedText

    text = highlighted(HighlightedText("a\x9bb match c", ((4, 9),)))
    # \x9b becomes the four characters "\x9b" shown literally; the span follows the word.
    assert text.plain == "a\\x9bb match c"
    styled = [
        text.plain[span.start : span.end] for span in text.spans if span.style == HIGHLIGHT_STYLE
    ]
    assert styled == ["match"]


def test_slug_and_default_export_path(store: Store) -> None:
    assert slug("Rust lifetimes: a guide!") == "rust-lifetimes-a-guide"
    assert slug("日本語") == "conversation"
    record = store.list_conversations()[-1]
    assert default_export_stem(record) == f"~/inferd-{record.id}-rust-lifetimes"


def test_export_path_helpers() -> None:
    assert expand_path("  ~/out.md ") == Path.home() / "out.md"
    assert with_suffix_for("~/a.md", "json") == "~/a.json"
    assert with_suffix_for("~/a.JSON", "markdown") == "~/a.md"
    assert with_suffix_for("~/notes.txt", "json") == "~/notes.txt"


def test_history_merge_and_match_line() -> None:
    assert merge_history(["a", "b", "a2"], ["stored", "b"]) == ["a2", "b", "a", "stored"]
    line = match_line("Git REBASE\nhelp [red]", "rebase")
    assert line.plain == "Git REBASE⏎help [red]"
    assert [line.plain[s.start : s.end] for s in line.spans] == ["REBASE"]


# --------------------------------------------------------------------------- list


@pytest.mark.anyio
async def test_list_shows_conversations_newest_first_as_plain_text(store: Store) -> None:
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        shown = titles(screen)
        assert shown[1:] == ["Sourdough bread", "Rust lifetimes"]
        # Markup stays literal and ESC is made visible.
        assert shown[0] == "[bold]Hostile[/bold] ␛[31mred"
        assert "3 conversations" in static_text(screen, "#list-note")
        assert "1 turn" in static_text(screen, "#conversation-detail")
        assert not screen.query_one("#not-saving").display
        await pilot.press("down", "enter")
        await pilot.pause()
    rust_or_bread = store.list_conversations()[1]
    assert app.results == [rust_or_bread.id]


@pytest.mark.anyio
async def test_list_fits_a_small_terminal(store: Store) -> None:
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#conversation-table", DataTable)
        assert table.region.height >= 5
        # Titles are cut to the box: no sideways scrolling.
        assert table.virtual_size.width <= table.scrollable_content_region.width
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


@pytest.mark.anyio
async def test_a_long_list_is_limited_and_says_so(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("inferd_tui.ui.screens.conversations.LIST_LIMIT", 2)
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        assert len(titles(screen)) == 2
        assert "The 2 most recently updated conversations" in static_text(screen, "#list-note")


@pytest.mark.anyio
async def test_degraded_store_says_it_is_not_saving() -> None:
    memory = Store.memory()
    memory.degraded = StoreUnavailable("locked", "Conversation history in use", "another one", None)
    memory.create_conversation("kept in memory")
    app = Harness(lambda: ConversationsScreen(memory))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        assert screen.query_one("#not-saving").display
        assert static_text(screen, "#not-saving").startswith(
            "not saving: Conversation history in use"
        )
        assert titles(screen) == ["kept in memory"]


@pytest.mark.anyio
async def test_rename(store: Store) -> None:
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextInputDialog)
        assert dialog.query_one(Input).value == "Rust lifetimes"
        await set_input(pilot, dialog, "#dialog-input", "Borrowing, explained")
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        assert titles(screen)[0] == "Borrowing, explained"
        assert screen.query_one("#conversation-table", DataTable).cursor_row == 0
    assert "Borrowing, explained" in [record.title for record in store.list_conversations()]
    assert "Rust lifetimes" not in [record.title for record in store.list_conversations()]


@pytest.mark.anyio
async def test_delete_asks_first_and_cancel_keeps_it(store: Store) -> None:
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("down", "d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        # Cancel is focused: a stray Enter deletes nothing.
        await pilot.press("enter")
        await pilot.pause()
        assert len(store.list_conversations()) == 3
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert len(store.list_conversations()) == 3
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        assert titles(screen)[1:] == ["Rust lifetimes"]
    assert [record.title for record in store.list_conversations()][1:] == ["Rust lifetimes"]


# --------------------------------------------------------------------------- search


@pytest.mark.anyio
async def test_search_highlights_hits_and_enter_opens_at_the_turn(store: Store) -> None:
    rust = next(r for r in store.list_conversations() if r.title == "Rust lifetimes")
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await pilot.press(*"valid")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        hits = screen.query_one("#search-hits", OptionList)
        assert hits.display
        assert not screen.query_one("#conversation-table").display
        assert hits.option_count == 1
        prompt = hits.get_option_at_index(0).prompt
        assert isinstance(prompt, Text)
        assert prompt.plain.startswith("Rust lifetimes  assistant · turn 2")
        marked = [prompt.plain[s.start : s.end] for s in prompt.spans if s.style == HIGHLIGHT_STYLE]
        assert marked == ["valid"]
        assert "1 matching turn" in static_text(screen, "#list-note")
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [rust.id]
    assert screen.opened_turn_position == 1


@pytest.mark.anyio
async def test_search_arrows_choose_among_hits_and_escape_clears(store: Store) -> None:
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"lifetimes")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        hits = screen.query_one("#search-hits", OptionList)
        assert hits.option_count == 3
        for index in range(hits.option_count):
            prompt = hits.get_option_at_index(index).prompt
            assert isinstance(prompt, Text)
            assert "\x1b" not in prompt.plain and "\x07" not in prompt.plain
        await pilot.press("down")
        await pilot.pause()
        assert hits.highlighted == 1
        await pilot.press("escape")
        await pilot.pause()
        assert screen.query_one("#conversation-table").display
        assert screen.search_input.value == ""
        await pilot.press("slash", *"zzzz")
        await pilot.pause()
        assert hits.option_count == 0
        assert "No turn matches" in static_text(screen, "#list-note")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
    assert app.results == []


# --------------------------------------------------------------------------- export / import


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", ["markdown", "json"])
async def test_export_writes_the_store_export(store: Store, tmp_path: Path, fmt: str) -> None:
    rust = next(r for r in store.list_conversations() if r.title == "Rust lifetimes")
    target = tmp_path / ("out.json" if fmt == "json" else "out.md")
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        path_input = dialog.query_one("#export-path", Input)
        assert path_input.value == f"~/inferd-{rust.id}-rust-lifetimes.md"
        if fmt == "json":
            await pilot.press("ctrl+t")
            await pilot.pause()
            assert path_input.value.endswith("rust-lifetimes.json")
            assert dialog.format == "json"
            await pilot.press("Z")  # typing after the switch appends, never garbles
            assert path_input.value.endswith("rust-lifetimes.jsonZ")
        await set_input(pilot, dialog, "#export-path", str(target))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConversationsScreen)
    expected = store.export_json(rust.id) if fmt == "json" else store.export_markdown(rust.id)
    assert target.read_text(encoding="utf-8") == expected
    assert app.errors() == []
    assert leftover_temporaries(tmp_path) == []


@pytest.mark.anyio
async def test_export_never_overwrites_without_asking(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "keep.md"
    target.write_text("precious", encoding="utf-8")
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        await set_input(pilot, app.screen, "#export-path", str(target))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert target.read_text(encoding="utf-8") == "precious"
        dialog = app.screen  # back in the dialog, the path still there, to pick another
        assert isinstance(dialog, ExportDialog)
        assert dialog.query_one("#export-path", Input).value == str(target)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    first = store.list_conversations()[0]
    assert target.read_text(encoding="utf-8") == store.export_markdown(first.id)


@pytest.mark.anyio
async def test_export_to_an_unwritable_path_keeps_the_dialog_with_the_reason(
    store: Store, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    target = blocker / "out.md"
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        await set_input(pilot, app.screen, "#export-path", str(target))
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen  # the dialog stays, with the path typed and the reason
        assert isinstance(dialog, ExportDialog)
        assert dialog.query_one("#export-path", Input).value == str(target)
        error = static_text(dialog, "#dialog-error")
    assert error.startswith("Couldn't write")
    assert str(target) in error
    assert "not a folder" in error or "Not a directory" in error


@pytest.mark.anyio
async def test_import_json_round_trip_adds_a_conversation(store: Store, tmp_path: Path) -> None:
    rust = next(r for r in store.list_conversations() if r.title == "Rust lifetimes")
    source = tmp_path / "rust.json"
    source.write_text(store.export_json(rust.id), encoding="utf-8")
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextInputDialog)
        await set_input(pilot, dialog, "#dialog-input", str(source))
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        assert len(titles(screen)) == 4
        table = screen.query_one("#conversation-table", DataTable)
        assert table.get_row_at(table.cursor_row)[0].plain == "Rust lifetimes"
    assert app.errors() == []
    imported = [
        r for r in store.list_conversations() if r.title == "Rust lifetimes" and r.id != rust.id
    ]
    [copy] = imported
    original = json.loads(store.export_json(rust.id))
    again = json.loads(store.export_json(copy.id))
    assert again["turns"] == original["turns"]
    assert any("Imported “Rust lifetimes” (2 turns)" in message for _, _, message in app.notices)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"format": "something-else"}', "not an inferd-tui JSON export"),
        (b"\xff\xfe not utf-8", "not UTF-8 text"),
        (None, "Couldn't read"),
    ],
)
async def test_import_bad_input_says_why(
    store: Store, tmp_path: Path, content: bytes | None, expected: str
) -> None:
    source = tmp_path / "bad.json"
    if content is not None:
        source.write_bytes(content)
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await set_input(pilot, app.screen, "#dialog-input", str(source))
        await pilot.press("enter")
        await pilot.pause()
    [error] = app.errors()
    assert error.startswith("Import failed:")
    assert expected in error
    assert len(store.list_conversations()) == 3


# --------------------------------------------------------------------------- prompt history


@pytest.mark.anyio
async def test_history_search_filters_and_returns_the_chosen_prompt(store: Store) -> None:
    store.add_prompt("stored: explain git rebase --onto")
    store.add_prompt("stored: sourdough hydration")
    session = ["stored: sourdough hydration", "git rebase interactive", "newest \x1b[1m prompt"]
    app = Harness(lambda: HistorySearchScreen(store, session))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HistorySearchScreen)
        matches = screen.query_one("#history-matches", OptionList)

        def shown() -> list[str]:
            return [
                str(getattr(matches.get_option_at_index(i).prompt, "plain", ""))
                for i in range(matches.option_count)
            ]

        assert shown() == [
            "newest ␛[1m prompt",
            "git rebase interactive",
            "stored: sourdough hydration",
            "stored: explain git rebase --onto",
        ]
        await pilot.press(*"REBASE git")
        await pilot.pause()
        assert shown() == ["git rebase interactive", "stored: explain git rebase --onto"]
        assert static_text(screen, "#history-note").startswith("2 of 4 prompts, newest first")
        await pilot.press(*" --onto")
        await pilot.pause()
        assert static_text(screen, "#history-note").startswith("1 of 4 prompts, newest first")
        await pilot.press(*["backspace"] * 7)
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
    assert app.results == ["stored: explain git rebase --onto"]


@pytest.mark.anyio
async def test_history_search_escape_and_no_match(store: Store) -> None:
    app = Harness(lambda: HistorySearchScreen(store, ["alpha", "beta"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"gamma")
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#history-matches", OptionList).option_count == 0
        assert "No earlier prompt" in static_text(screen, "#history-note")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


# --------------------------------------------------------------------------- presets


CURRENT = PresetDraft(
    params={"temperature": 0.7, "top_k": 40}, grammar="", system_prompt="Be brief."
)


def test_preset_draft_satisfies_the_store_protocol() -> None:
    from inferd_tui.store import preset_diff

    other = Preset("p", {"temperature": 0.2}, 'root ::= "x"', "Be brief.")
    assert preset_diff(CURRENT, other) == [
        "temperature: 0.7 → 0.2",
        "top_k: 40 → default",
        "grammar: none → 1 line",
    ]


@pytest.mark.anyio
async def test_presets_save_current_setup(store: Store) -> None:
    app = Harness(lambda: PresetsScreen(store, CURRENT))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert "No presets yet" in static_text(screen, "#presets-note")
        await pilot.press("s")
        await pilot.pause()
        await set_input(pilot, app.screen, "#dialog-input", "  warm  ")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        table = screen.query_one("#preset-table", DataTable)
        assert table.row_count == 1
        assert table.get_row_at(0)[0].plain == "warm"
        assert "nothing" in static_text(screen, "#preset-diff")
    assert store.presets() == [Preset("warm", {"temperature": 0.7, "top_k": 40}, "", "Be brief.")]


@pytest.mark.anyio
async def test_presets_apply_shows_the_diff_then_dismisses_with_the_preset(store: Store) -> None:
    precise = store.save_preset(
        "precise", {"temperature": 0.1}, 'root ::= "yes" | "no"', "Be brief."
    )
    store.save_preset("another", {"temperature": 0.7, "top_k": 40}, "", "Be brief.")
    app = Harness(lambda: PresetsScreen(store, CURRENT))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press("down")
        await pilot.pause()
        assert "temperature: 0.7 → 0.1" in static_text(screen, "#preset-diff")
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        body = dialog.query_one("#confirm-body Static", Static).content
        assert isinstance(body, Text)
        assert body.plain.splitlines() == [
            "temperature: 0.7 → 0.1",
            "top_k: 40 → default",
            "grammar: none → 1 line",
        ]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.results == [precise]


@pytest.mark.anyio
async def test_presets_delete_with_confirmation(store: Store) -> None:
    store.save_preset("doomed", {"temperature": 1.5})
    store.save_preset("kept", {})
    app = Harness(lambda: PresetsScreen(store, CURRENT))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert [p.name for p in store.presets()] == ["doomed", "kept"]
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        table = app.screen.query_one("#preset-table", DataTable)
        assert table.row_count == 1
        await pilot.press("escape")
        await pilot.pause()
    assert [p.name for p in store.presets()] == ["kept"]
    assert app.results == [None]


@pytest.mark.anyio
async def test_export_dialog_can_embed_attachments_and_import_restores_them(
    store: Store, tmp_path: Path
) -> None:
    from textual.widgets import Checkbox

    rust = next(r for r in store.list_conversations() if r.title == "Rust lifetimes")
    rgb = bytes(range(256)) * 3
    sha = store.put_attachment(rust.id, rgb)
    target = tmp_path / "with-attachments.json"
    app = Harness(lambda: ConversationsScreen(store))
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        checkbox = dialog.query_one("#export-attachments", Checkbox)
        assert checkbox.disabled  # Markdown names attachments; only JSON embeds them
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not checkbox.disabled
        checkbox.value = True
        await set_input(pilot, dialog, "#export-path", str(target))
        await pilot.press("enter")
        await pilot.pause()
    document = json.loads(target.read_text(encoding="utf-8"))
    assert [item["sha256"] for item in document["attachments"]] == [sha]
    with Store.open(tmp_path / "elsewhere" / "db.sqlite3") as other:
        new_id = other.import_json(target.read_text(encoding="utf-8"))
        assert other.attachment(sha, len(rgb)) == rgb
        assert other.attachment_uses(new_id) == [(sha, len(rgb))]
