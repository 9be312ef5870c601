"""What v2 answers carry besides text — thinking, tool calls, tool results, attachment refs,
JSON-schema checks — and the conversation's request options: stored, exported, imported."""

from __future__ import annotations

import json

import pytest

from inferd_tui.store import ImportFormatError, Store

SCHEMA = {"type": "object", "required": ["city"]}
CALL = {"tool_call_id": "tc-1", "name": "get_weather", "input": {"city": "Dublin"}}
IMAGE = {
    "kind": "image",
    "name": "cat.png",
    "sha256": "ab" * 32,
    "size": 196_608,
    "width": 256,
    "height": 256,
    "original_width": 1024,
    "original_height": 1024,
    "sample_rate": 0,
    "duration_s": 0.0,
}
OPTIONS = {"thinking": True, "tool_choice": "auto", "response_schema": SCHEMA}


def make_v2_conversation(store: Store) -> int:
    conversation = store.create_conversation("Weather", params={"temperature": 0.5})
    store.set_options(conversation.id, OPTIONS)
    store.add_turn(conversation.id, "user", "What is this, and the weather?", attachments=[IMAGE])
    call = store.add_turn(conversation.id, "assistant", "", state="streaming")
    store.checkpoint_turn(call.id, "", "Let me look")
    store.finish_turn(
        call.id,
        content="",
        state="complete",
        stop_reason="tool_use",
        thinking="Let me look ```outside```.",
        tool_calls=[CALL],
    )
    store.add_turn(conversation.id, "user", "sunny, 21C", tool_result_for="tc-1")
    answer = store.add_turn(
        conversation.id, "assistant", "", state="streaming", response_schema=SCHEMA
    )
    store.finish_turn(
        answer.id,
        content='{"town": "Dublin"}',
        state="complete",
        stop_reason="end_turn",
        tool_choice_unsatisfied=True,
        schema_match=False,
        schema_problem="$: 'city' is a required property",
    )
    return conversation.id


def test_blocks_are_stored_with_their_turns(store: Store) -> None:
    conversation_id = make_v2_conversation(store)
    assert store.get_conversation(conversation_id).options == OPTIONS
    prompt, call, result, answer = store.turns(conversation_id)
    assert prompt.attachments == [IMAGE] and prompt.tool_result_for is None
    assert call.thinking == "Let me look ```outside```."
    assert call.tool_calls == [CALL]
    assert result.tool_result_for == "tc-1"
    assert answer.response_schema == SCHEMA
    assert (answer.schema_match, answer.schema_problem) == (
        False,
        "$: 'city' is a required property",
    )
    assert answer.tool_choice_unsatisfied is True
    assert (call.schema_match, call.response_schema, call.tool_choice_unsatisfied) == (
        None,
        None,
        False,
    )


def test_json_export_round_trips_the_blocks(store: Store) -> None:
    exported = store.export_json(make_v2_conversation(store))
    document = json.loads(exported)
    assert document["version"] == 2
    assert document["conversation"]["options"] == OPTIONS
    assert document["turns"][1]["tool_calls"] == [CALL]
    with Store.memory() as other:
        new_id = other.import_json(exported)
        assert other.export_json(new_id) == exported
        assert other.turns(new_id)[2].tool_result_for == "tc-1"


def test_a_version_1_export_still_imports(store: Store) -> None:
    document = json.loads(store.export_json(make_v2_conversation(store)))
    document["version"] = 1
    del document["conversation"]["options"]
    for turn in document["turns"]:
        for key in ("thinking", "tool_calls", "tool_result_for", "attachments"):
            turn.pop(key)
    new_id = store.import_json(json.dumps(document))
    turns = store.turns(new_id)
    assert [t.content for t in turns][-1] == '{"town": "Dublin"}'
    assert (turns[1].thinking, turns[1].tool_calls, turns[2].tool_result_for) == ("", [], None)
    assert store.get_conversation(new_id).options == {}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("turns", 1, "tool_calls"), {}, "turns[1].tool_calls: expected a list"),
        (("turns", 1, "tool_calls", 0, "name"), 3, "turns[1].tool_calls[0].name: expected a str"),
        (("turns", 0, "attachments", 0, "kind"), "video", "attachments[0].kind: expected image"),
        (("turns", 0, "attachments", 0, "size"), "big", "attachments[0].size: expected int"),
        (("turns", 3, "schema_match"), "yes", "turns[3].schema_match: expected bool"),
        (("turns", 3, "response_schema"), [], "turns[3].response_schema: expected an object"),
        (("conversation", "options"), "all", "conversation.options: expected an object"),
    ],
)
def test_import_rejects_bad_blocks_clearly(
    store: Store, path: tuple[object, ...], value: object, message: str
) -> None:
    document = json.loads(store.export_json(make_v2_conversation(store)))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ImportFormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
        store.import_json(json.dumps(document))


def test_markdown_carries_thinking_tool_calls_results_and_attachments(store: Store) -> None:
    markdown = store.export_markdown(make_v2_conversation(store))
    assert f"- Attached: image `cat.png`, 196,608 bytes, 256×256, sha256 `{'ab' * 32}`" in markdown
    # Untrusted thinking cannot close its fence.
    assert "**Thinking**\n\n````text\nLet me look ```outside```.\n````" in markdown
    assert '**Tool call** `get_weather` (`tc-1`)\n\n```json\n{\n  "city": "Dublin"\n}\n```' in (
        markdown
    )
    assert "## Tool result for `tc-1`\n\nsunny, 21C" in markdown
    assert "breaks its JSON schema: $: 'city' is a required property" in markdown
    assert "tool_choice required a tool call, but none came" in markdown
