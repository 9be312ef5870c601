"""Full-text search: highlights as spans, and queries that must never raise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferd_tui.store import Store, fts_query


def highlighted(text: str, spans: tuple[tuple[int, int], ...]) -> list[str]:
    return [text[start:end] for start, end in spans]


@pytest.fixture
def filled(store: Store) -> Store:
    rust = store.create_conversation("Rust questions")
    store.add_turn(rust.id, "user", "How do I parse JSON in Rust?")
    store.add_turn(rust.id, "assistant", "Use serde_json: it parses JSON into typed structs.")
    cooking = store.create_conversation("Cooking")
    store.add_turn(cooking.id, "user", "Crème brûlée recipe, please")
    store.add_turn(cooking.id, "assistant", "[bold red]not markup[/] and \x1b[31mnot ANSI\x1b[0m")
    return store


def test_hits_carry_conversation_turn_and_highlight_spans(filled: Store) -> None:
    hits = filled.search("json")
    assert {(hit.conversation_title, hit.position) for hit in hits} == {
        ("Rust questions", 0),
        ("Rust questions", 1),
    }
    for hit in hits:
        words = highlighted(hit.snippet.text, hit.snippet.spans)
        assert words
        assert {word.lower() for word in words} == {"json"}
        assert "\x02" not in hit.snippet.text
        assert "\x03" not in hit.snippet.text


def test_last_term_is_a_prefix_and_all_terms_must_match(filled: Store) -> None:
    assert {hit.position for hit in filled.search("pars")} == {0, 1}
    assert [hit.position for hit in filled.search("typed stru")] == [1]
    assert filled.search("typed cooking") == []


def test_diacritics_and_case_are_folded(filled: Store) -> None:
    [hit] = filled.search("creme BRULEE")
    assert highlighted(hit.snippet.text, hit.snippet.spans) == ["Crème", "brûlée"]


def test_snippet_is_plain_text_even_when_content_looks_like_markup(filled: Store) -> None:
    [hit] = filled.search("markup")
    assert hit.snippet.text.startswith("[bold red]not markup[/]")
    assert highlighted(hit.snippet.text, hit.snippet.spans) == ["markup"]


def test_marker_characters_inside_content_do_not_break_spans(store: Store) -> None:
    conversation = store.create_conversation()
    store.add_turn(conversation.id, "user", "before \x02 needle \x03 after")
    [hit] = store.search("needle")
    assert hit.snippet.text == "before \x02 needle \x03 after"
    [(start, end)] = hit.snippet.spans
    assert hit.snippet.text[start:end] == "needle"


def test_long_content_gives_a_short_snippet(store: Store) -> None:
    conversation = store.create_conversation()
    text = " ".join(["filler"] * 500 + ["needle"] + ["filler"] * 500)
    store.add_turn(conversation.id, "assistant", text)
    [hit] = store.search("needle")
    assert len(hit.snippet.text) < 200
    assert highlighted(hit.snippet.text, hit.snippet.spans) == ["needle"]


def test_limit_and_checkpointed_text_is_searchable(store: Store) -> None:
    conversation = store.create_conversation()
    for number in range(20):
        store.add_turn(conversation.id, "user", f"apple number {number}")
    assert len(store.search("apple", limit=5)) == 5
    streaming = store.add_turn(conversation.id, "assistant", "", state="streaming")
    store.checkpoint_turn(streaming.id, "a zebra appears")
    assert [hit.turn_id for hit in store.search("zebra")] == [streaming.id]
    store.checkpoint_turn(streaming.id, "a giraffe appears")
    assert store.search("zebra") == []


HOSTILE_QUERIES = [
    "",
    "   ",
    '"',
    '""',
    "'",
    "*",
    "json*",
    "-json",
    "^json",
    "json:",
    "content:json",
    "NEAR(json rust)",
    "json AND",
    "OR",
    "NOT json",
    "(json",
    "json)",
    "{content}: json",
    "'); DROP TABLE turns; --",
    '"json',
    "\x00",
    "\ud800",
    "😀",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_queries_never_raise(filled: Store, query: str) -> None:
    filled.search(query)
    assert len(filled.search("json")) == 2  # and the index is still fine


def test_fts_syntax_in_a_query_is_searched_literally(filled: Store) -> None:
    assert {hit.position for hit in filled.search('"json')} == {0, 1}
    assert [hit.position for hit in filled.search("NOT markup")] == [1]
    assert fts_query("*** ---") is None
    assert fts_query('say "hi"') == '"say" """hi"""*'


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_is_a_safe_query(query: str) -> None:
    with Store.memory() as store:
        conversation = store.create_conversation()
        store.add_turn(conversation.id, "user", "some text to search")
        store.search(query)
