from __future__ import annotations

import pytest

from inferd_tui.conversation import Conversation, TurnState, code_blocks
from inferd_tui.proto import (
    DoneFrame,
    ErrorFrame,
    Role,
    SamplingParams,
    StatusFrame,
    TokenFrame,
    UnknownFrame,
    Usage,
)


def _answer(conversation: Conversation, *tokens: str) -> None:
    request = conversation.to_request(SamplingParams(), request_id="r")
    turn = conversation.begin_answer(request, now=10.0)
    for offset, token in enumerate(tokens):
        conversation.apply(turn, TokenFrame(id="r", content=token), now=10.5 + offset)
    conversation.apply(
        turn,
        DoneFrame(
            id="r",
            content="".join(tokens),
            usage=Usage(prompt_tokens=4, completion_tokens=len(tokens)),
            stop_reason="end",
            backend="mock",
        ),
        now=10.5 + len(tokens),
    )


def test_frames_fold_into_a_complete_turn_with_timings() -> None:
    conversation = Conversation(system_prompt="be brief")
    conversation.add_user("hello")
    _answer(conversation, "alpha ", "beta ", "gamma")
    turn = conversation.turns[-1]
    assert turn.state is TurnState.COMPLETE
    assert turn.content == "alpha beta gamma"
    assert (turn.prompt_tokens, turn.completion_tokens, turn.backend) == (4, 3, "mock")
    assert turn.time_to_first_token == pytest.approx(0.5)
    assert turn.tokens_per_second == pytest.approx(2 / 3)


def test_status_and_unknown_frames_change_nothing() -> None:
    conversation = Conversation()
    conversation.add_user("hi")
    turn = conversation.begin_answer(conversation.to_request(SamplingParams()), now=0)
    revision = turn.revision
    conversation.apply(turn, StatusFrame(status="ready"), now=1)
    conversation.apply(turn, UnknownFrame(type="x", raw={}), now=1)
    assert (turn.content, turn.revision, turn.state) == ("", revision, TurnState.STREAMING)


def test_error_frame_keeps_partial_text() -> None:
    conversation = Conversation()
    conversation.add_user("hi")
    turn = conversation.begin_answer(conversation.to_request(SamplingParams()), now=0)
    conversation.apply(turn, TokenFrame(content="part"), now=1)
    conversation.apply(
        turn, ErrorFrame(code="backend_unavailable", message="backend ended stream"), now=2
    )
    assert (turn.state, turn.content, turn.error_code) == (
        TurnState.ERROR,
        "part",
        "backend_unavailable",
    )


def test_fail_marks_interrupted_or_cancelled_and_rejects_other_states() -> None:
    conversation = Conversation()
    turn = conversation.begin_answer(conversation.to_request(SamplingParams()), now=0)
    conversation.fail(turn, TurnState.CANCELLED, now=1)
    assert turn.failed
    with pytest.raises(ValueError, match="not a failure state"):
        conversation.fail(turn, TurnState.COMPLETE, now=1)


def test_messages_exclude_failed_answers_and_markers() -> None:
    conversation = Conversation(system_prompt="sys")
    conversation.add_user("one")
    _answer(conversation, "ok")
    conversation.add_marker("daemon restarting")
    conversation.add_user("two")
    failed = conversation.begin_answer(conversation.to_request(SamplingParams()), now=0)
    conversation.fail(failed, TurnState.INTERRUPTED, now=1)
    roles = [(m.role, m.content) for m in conversation.messages()]
    assert roles == [
        (Role.SYSTEM, "sys"),
        (Role.USER, "one"),
        (Role.ASSISTANT, "ok"),
        (Role.USER, "two"),
    ]


def test_request_carries_params_grammar_and_is_recorded_on_the_turn() -> None:
    conversation = Conversation()
    conversation.add_user("hi")
    request = conversation.to_request(
        SamplingParams(temperature=0.2), grammar='root ::= "y"', request_id="q"
    )
    assert request.wire_dict()["temperature"] == 0.2
    turn = conversation.begin_answer(request, now=0)
    assert turn.request_params == {"id": "q", "temperature": 0.2, "grammar": 'root ::= "y"'}
    assert turn.grammar == 'root ::= "y"'


def test_truncate_for_regenerate() -> None:
    conversation = Conversation()
    conversation.add_user("a")
    _answer(conversation, "x")
    index = conversation.last_user_index()
    assert index == 0
    removed = conversation.truncate(1)
    assert [t.role for t in removed] == ["assistant"]
    assert len(conversation.turns) == 1


def test_code_blocks_are_extracted_in_order_including_an_unclosed_one() -> None:
    text = "intro\n```python\nprint(1)\n```\ntext\n~~~\nraw\n~~~\n```sh\nls"
    blocks = code_blocks(text)
    assert [(b.language, b.code) for b in blocks] == [
        ("python", "print(1)"),
        ("", "raw"),
        ("sh", "ls"),
    ]
