"""Round trips of conversations, turns, prompt history and presets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from inferd_tui.store import (
    DEFAULT_TITLE,
    NotFound,
    Preset,
    Store,
    preset_diff,
    title_from_prompt,
)


def test_conversation_round_trip_survives_reopen(store: Store, db_path: Path) -> None:
    created = store.create_conversation(
        "Rust JSON",
        system_prompt="Be terse.",
        params={"temperature": 0.2, "top_k": 40},
        grammar='root ::= "yes" | "no"',
    )
    store.close()

    with Store.open(db_path) as reopened:
        loaded = reopened.get_conversation(created.id)
    assert loaded == created
    assert loaded.params == {"temperature": 0.2, "top_k": 40}


def test_list_is_most_recently_updated_first(store: Store) -> None:
    first = store.create_conversation("first")
    second = store.create_conversation("second")
    assert [c.title for c in store.list_conversations()] == ["second", "first"]

    store.add_turn(first.id, "user", "bump")
    assert [c.id for c in store.list_conversations()] == [first.id, second.id]
    assert [c.id for c in store.list_conversations(limit=1)] == [first.id]


def test_rename_set_fields_and_delete(store: Store) -> None:
    conversation = store.create_conversation()
    assert conversation.title == DEFAULT_TITLE
    store.rename_conversation(conversation.id, "Renamed")
    store.set_system_prompt(conversation.id, "You are a pirate.")
    store.set_params(conversation.id, {"top_p": 0.9, "max_tokens": None})
    store.set_grammar(conversation.id, "root ::= [a-z]+")
    loaded = store.get_conversation(conversation.id)
    assert (loaded.title, loaded.system_prompt, loaded.params, loaded.grammar) == (
        "Renamed",
        "You are a pirate.",
        {"top_p": 0.9},
        "root ::= [a-z]+",
    )

    store.add_turn(conversation.id, "user", "findable words")
    store.delete_conversation(conversation.id)
    assert store.list_conversations() == []
    assert store.turns(conversation.id) == []
    assert store.search("findable") == []
    with pytest.raises(NotFound):
        store.get_conversation(conversation.id)
    with pytest.raises(NotFound):
        store.rename_conversation(conversation.id, "x")
    with pytest.raises(NotFound):
        store.delete_conversation(conversation.id)


def test_turn_lifecycle_and_final_fields(store: Store) -> None:
    conversation = store.create_conversation()
    user = store.add_turn(conversation.id, "user", "Hello?")
    assistant = store.add_turn(
        conversation.id,
        "assistant",
        "",
        state="streaming",
        request_params={"temperature": 0.7, "grammar": "root ::= x", "stream": True},
    )
    assert (user.position, assistant.position) == (0, 1)
    assert assistant.request_params == {"temperature": 0.7, "grammar": "root ::= x"}

    store.checkpoint_turn(assistant.id, "Hel")
    assert store.get_turn(assistant.id).content == "Hel"

    finished = store.finish_turn(
        assistant.id,
        content="Hello!",
        state="complete",
        prompt_tokens=12,
        completion_tokens=3,
        stop_reason="end",
        backend="mock",
        time_to_first_token_s=0.05,
        tokens_per_s=42.5,
        grammar_match=False,
        grammar_match_offset=4,
    )
    assert finished.content == "Hello!"
    assert finished.state == "complete"
    assert (finished.prompt_tokens, finished.completion_tokens) == (12, 3)
    assert (finished.stop_reason, finished.backend) == ("end", "mock")
    assert (finished.time_to_first_token_s, finished.tokens_per_s) == (0.05, 42.5)
    assert (finished.grammar_match, finished.grammar_match_offset) == (False, 4)
    assert store.turns(conversation.id) == [user, finished]


def test_error_turn_keeps_partial_text_and_code(store: Store) -> None:
    conversation = store.create_conversation()
    turn = store.add_turn(conversation.id, "assistant", "", state="streaming")
    store.finish_turn(
        turn.id,
        content="partial",
        state="error",
        error_code="backend_unavailable",
        error_message="backend went away",
    )
    loaded = store.get_turn(turn.id)
    assert (loaded.content, loaded.state, loaded.error_code, loaded.error_message) == (
        "partial",
        "error",
        "backend_unavailable",
        "backend went away",
    )


def test_delete_turns_from_position(store: Store) -> None:
    conversation = store.create_conversation()
    for text in ("a", "b", "c"):
        store.add_turn(conversation.id, "user", text)
    assert store.delete_turns_from(conversation.id, 1) == 2
    assert [t.content for t in store.turns(conversation.id)] == ["a"]
    assert store.add_turn(conversation.id, "assistant", "d").position == 1


def test_add_turn_to_missing_conversation(store: Store) -> None:
    with pytest.raises(NotFound):
        store.add_turn(999, "user", "nobody home")


def test_bad_role_or_state_is_a_programming_error(store: Store) -> None:
    conversation = store.create_conversation()
    with pytest.raises(ValueError, match="role"):
        store.add_turn(conversation.id, "bot", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="state"):
        store.add_turn(conversation.id, "user", "x", state="done")  # type: ignore[arg-type]


def test_unknown_params_such_as_a_key_are_never_stored(store: Store) -> None:
    conversation = store.create_conversation(params={"temperature": 1.0, "api_key": "sk-secret"})
    turn = store.add_turn(
        conversation.id, "assistant", "x", request_params={"key": "sk-secret", "top_k": 3}
    )
    store.set_params(conversation.id, {"auth": "sk-secret", "top_p": 0.5})
    preset = store.save_preset("p", {"api_key": "sk-secret", "max_tokens": 5})
    assert store.get_turn(turn.id).request_params == {"top_k": 3}
    assert store.get_conversation(conversation.id).params == {"top_p": 0.5}
    assert preset.params == {"max_tokens": 5}
    store.close()
    assert b"sk-secret" not in Path(str(store.path)).read_bytes()


def test_prompt_history_dedups_consecutive_and_searches(store: Store, db_path: Path) -> None:
    for prompt in ("first", "second", "second", "  ", "first", "100% sure_thing"):
        store.add_prompt(prompt)
    assert store.prompt_history() == ["100% sure_thing", "first", "second", "first"]
    assert store.prompt_history(limit=2) == ["100% sure_thing", "first"]
    assert store.search_prompt_history("FIR") == ["first"]
    # LIKE wildcards typed by the user are literal.
    assert store.search_prompt_history("%") == ["100% sure_thing"]
    assert store.search_prompt_history("_") == ["100% sure_thing"]
    assert store.search_prompt_history("su_e") == []
    store.close()
    with Store.open(db_path) as reopened:
        assert reopened.prompt_history(limit=1) == ["100% sure_thing"]


def test_prompt_history_is_trimmed_to_its_limit(db_path: Path) -> None:
    with Store.open(db_path, history_limit=10) as store:
        for number in range(200):
            store.add_prompt(f"prompt {number}")
        history = store.prompt_history(limit=1000)
    assert history[0] == "prompt 199"
    assert len(history) < 200


def test_presets_save_replace_delete(store: Store) -> None:
    store.save_preset("precise", {"temperature": 0.1}, "root ::= x", "Be exact.")
    store.save_preset("creative", {"temperature": 1.3, "top_p": 0.98})
    store.save_preset("precise", {"temperature": 0.0})
    assert store.presets() == [
        Preset("creative", {"temperature": 1.3, "top_p": 0.98}, "", ""),
        Preset("precise", {"temperature": 0.0}, "", ""),
    ]
    store.delete_preset("creative")
    assert [p.name for p in store.presets()] == ["precise"]
    with pytest.raises(NotFound):
        store.delete_preset("creative")
    with pytest.raises(ValueError, match="name"):
        store.save_preset("  ", {})


def test_preset_diff_lists_every_change() -> None:
    current = Preset("current", {"temperature": 0.7, "max_tokens": 200}, "", "Be terse.")
    preset = Preset("json", {"temperature": 0.2, "top_k": 40}, 'root ::= "{" "}"\n', "")
    assert preset_diff(current, preset) == [
        "temperature: 0.7 → 0.2",
        "top_k: default → 40",
        "max_tokens: 200 → default",
        "system prompt: cleared",
        "grammar: none → 2 lines",
    ]
    assert preset_diff(preset, preset) == []


def test_preset_diff_accepts_a_conversation(store: Store) -> None:
    conversation = store.create_conversation(system_prompt="old", params={"top_p": 0.5})
    preset = Preset("p", {"top_p": 0.5}, "", "new prompt")
    assert preset_diff(conversation, preset) == ['system prompt: "old" → "new prompt"']


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("How do I parse JSON?", "How do I parse JSON?"),
        ("\n\n   first   line  \nsecond", "first line"),
        ("", DEFAULT_TITLE),
        ("   \n  ", DEFAULT_TITLE),
        (
            "Explain the difference between borrowing and ownership in Rust with examples please",
            "Explain the difference between borrowing and ownership in…",
        ),
        ("x" * 100, "x" * 59 + "…"),
        ("## Review this diff\n```diff", "Review this diff"),
        ("> quoted question", "quoted question"),
        ("- first bullet", "first bullet"),
        ("#hashtag stays", "#hashtag stays"),
        ("###", "###"),
    ],
)
def test_title_from_prompt(prompt: str, title: str) -> None:
    assert title_from_prompt(prompt) == title
    assert len(title_from_prompt(prompt)) <= 60


def test_memory_store_writes_nothing(tmp_path: Path, clock: Callable[[], float]) -> None:
    with Store.memory(clock=clock) as store:
        conversation = store.create_conversation("in memory")
        store.add_turn(conversation.id, "user", "hello world")
        assert store.in_memory
        assert store.degraded is None
        assert [hit.turn_id for hit in store.search("hello")] == [1]
    assert list(tmp_path.iterdir()) == []
