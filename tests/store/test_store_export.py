"""Export to Markdown and JSON; import JSON back; never a key."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inferd_tui.store import EXPORT_FORMAT, ImportFormatError, Store, StoreError
from inferd_tui.store.json_format import EXPORT_VERSION


def make_conversation(store: Store) -> int:
    conversation = store.create_conversation(
        "Grammar test",
        system_prompt="Answer in JSON.",
        params={"temperature": 0.2, "top_p": 0.9, "top_k": 20, "max_tokens": 64},
        grammar='root ::= "{" "}"',
    )
    store.add_turn(conversation.id, "system", "Answer in JSON.")
    store.add_turn(conversation.id, "user", "Give me ```an``` object")
    answer = store.add_turn(
        conversation.id,
        "assistant",
        "",
        state="streaming",
        request_params={
            "temperature": 0.2,
            "top_p": 0.9,
            "top_k": 20,
            "max_tokens": 64,
            "image_token_budget": 280,
            "grammar": 'root ::= "{" "}"',
        },
    )
    store.finish_turn(
        answer.id,
        content="{}",
        state="complete",
        prompt_tokens=15,
        completion_tokens=2,
        stop_reason="end",
        backend="mock",
        time_to_first_token_s=0.125,
        tokens_per_s=80.0,
        grammar_match=True,
        grammar_match_offset=None,
    )
    store.add_turn(conversation.id, "marker", "parameters changed")
    failed = store.add_turn(conversation.id, "assistant", "", state="streaming")
    store.finish_turn(
        failed.id, content="par", state="error", error_code="internal", error_message="boom"
    )
    return conversation.id


def test_json_round_trip_is_exact(store: Store) -> None:
    conversation_id = make_conversation(store)
    exported = store.export_json(conversation_id)
    imported_id = store.import_json(exported)
    assert imported_id != conversation_id
    assert store.export_json(imported_id) == exported
    assert [t.position for t in store.turns(imported_id)] == [0, 1, 2, 3, 4]


def test_round_trip_into_another_store(store: Store) -> None:
    exported = store.export_json(make_conversation(store))
    with Store.memory() as other:
        new_id = other.import_json(exported)
        assert other.export_json(new_id) == exported
        assert other.search("object")[0].conversation_id == new_id


def test_json_carries_format_and_exact_request_params(store: Store) -> None:
    document = json.loads(store.export_json(make_conversation(store)))
    assert document["format"] == EXPORT_FORMAT
    assert document["version"] == EXPORT_VERSION == 2
    answer = document["turns"][2]
    assert answer["request_params"] == {
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 20,
        "max_tokens": 64,
        "image_token_budget": 280,
        "grammar": 'root ::= "{" "}"',
    }
    assert answer["grammar_match"] is True
    assert (answer["prompt_tokens"], answer["completion_tokens"]) == (15, 2)
    assert "id" not in answer


def test_key_like_fields_never_reach_an_export(store: Store) -> None:
    conversation = store.create_conversation(params={"temperature": 1.0, "api_key": "sk-LEAK"})
    store.add_turn(
        conversation.id,
        "assistant",
        "hi",
        request_params={"top_k": 1, "key": "sk-LEAK", "auth": {"key": "sk-LEAK"}},
    )
    exported = store.export_json(conversation.id)
    markdown = store.export_markdown(conversation.id)
    assert "sk-LEAK" not in exported
    assert "sk-LEAK" not in markdown
    assert json.loads(exported)["turns"][0]["request_params"] == {"top_k": 1}


def test_import_drops_unknown_request_fields(store: Store) -> None:
    document = json.loads(store.export_json(make_conversation(store)))
    document["conversation"]["params"]["api_key"] = "sk-LEAK"
    document["turns"][2]["request_params"]["key"] = "sk-LEAK"
    new_id = store.import_json(json.dumps(document))
    assert "sk-LEAK" not in store.export_json(new_id)


def test_imported_streaming_turn_becomes_interrupted(store: Store) -> None:
    document = json.loads(store.export_json(make_conversation(store)))
    document["turns"][2]["state"] = "streaming"
    new_id = store.import_json(json.dumps(document))
    assert store.turns(new_id)[2].state == "interrupted"


def test_import_replaces_lone_surrogates_and_keeps_real_pairs(store: Store) -> None:
    document = json.loads(store.export_json(make_conversation(store)))
    document["turns"][0]["content"] = "S\ud800 ok \U0001f600"
    text = json.dumps(document)  # ensure_ascii: "\ud800" and the pair "\ud83d\ude00"
    new_id = store.import_json(text)
    assert store.turns(new_id)[0].content == "S\ufffd ok \U0001f600"


def test_markdown_export_shows_control_characters_instead_of_replaying_them(
    store: Store,
) -> None:
    conversation = store.create_conversation("hostile")
    store.add_turn(conversation.id, "assistant", "red\x1b[31m\x9b2J\ttab")
    markdown = store.export_markdown(conversation.id)
    assert "\x1b" not in markdown and "\x9b" not in markdown
    assert "red␛[31m\\x9b2J\ttab" in markdown


def test_markdown_export_says_how_an_answer_relates_to_its_grammar(store: Store) -> None:
    conversation = store.create_conversation("grammar")
    for content, match, offset in (("yes", True, None), ("ye", False, 2), ("yo", False, 1)):
        turn = store.add_turn(conversation.id, "assistant", content)
        store.finish_turn(
            turn.id,
            content=content,
            state="complete",
            grammar_match=match,
            grammar_match_offset=offset,
        )
    markdown = store.export_markdown(conversation.id)
    assert "matches grammar" in markdown
    assert "fits the grammar so far, incomplete" in markdown
    assert "leaves the grammar at offset 1" in markdown


def test_markdown_export(store: Store) -> None:
    markdown = store.export_markdown(make_conversation(store))
    assert markdown.startswith("# Grammar test\n")
    assert "temperature 0.2, top_p 0.9, top_k 20, max_tokens 64" in markdown
    assert "## System prompt\n\nAnswer in JSON." in markdown
    assert '```gbnf\nroot ::= "{" "}"\n```' in markdown
    assert "## User\n\nGive me ```an``` object" in markdown
    assert "## Assistant\n\n{}\n" in markdown
    assert "stop: end" in markdown
    assert "matches grammar" in markdown
    assert "> *parameters changed*" in markdown
    assert "error internal: boom" in markdown


def valid_document(store: Store) -> dict[str, Any]:
    return dict(json.loads(store.export_json(make_conversation(store))))


def mutate(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("format",), "something-else", "format: expected"),
        (("version",), 99, "version: this export is version 99"),
        (("version",), "1", "version: expected an integer"),
        (("conversation",), [], "conversation: expected an object"),
        (("conversation", "title"), 5, "conversation.title: expected a string"),
        (("conversation", "params"), "hot", "conversation.params: expected an object"),
        (("conversation", "params", "top_k"), "many", "conversation.params.top_k: expected int"),
        (("turns",), {}, "turns: expected a list"),
        (("turns", 0), "hi", "turns[0]: expected an object"),
        (("turns", 1, "role"), "bot", "turns[1].role: expected one of user, assistant"),
        (("turns", 1, "state"), "done", "turns[1].state: expected one of complete"),
        (("turns", 1, "content"), None, "turns[1].content: expected a string"),
        (("turns", 2, "prompt_tokens"), True, "turns[2].prompt_tokens: expected int"),
        (("turns", 2, "tokens_per_s"), "fast", "turns[2].tokens_per_s: expected int or float"),
        (("turns", 2, "created_at"), "yesterday", "turns[2].created_at: expected an ISO 8601"),
        (("turns", 2, "request_params", "grammar"), 1, "request_params.grammar: expected a str"),
    ],
)
def test_import_rejects_bad_documents_clearly(
    store: Store, path: tuple[Any, ...], value: Any, message: str
) -> None:
    document = mutate(valid_document(store), path, value)
    before = len(store.list_conversations())
    with pytest.raises(ImportFormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
        store.import_json(json.dumps(document))
    assert len(store.list_conversations()) == before  # nothing half-imported


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", "null", "{}", "[" * 100_000])
def test_import_rejects_non_exports(store: Store, text: str) -> None:
    with pytest.raises(StoreError):
        store.import_json(text)
