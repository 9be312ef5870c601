"""Which tool calls wait for a result: the last answer's, in order, until answered."""

from __future__ import annotations

from inferd_tui.conversation import Conversation, TurnState
from inferd_tui.proto.chat import Finished, TextDelta, TokenUsage, ToolCall
from inferd_tui.request_options import RequestOptions


def answer_calling(conversation: Conversation, *call_ids: str, finish: bool = True) -> None:
    conversation.add_user("weather in Dublin and Cork?")
    request = conversation.to_chat_request(RequestOptions(), request_id="r")
    answer = conversation.begin_answer(request, now=1.0)
    for call_id in call_ids:
        conversation.apply(answer, ToolCall(call_id, "get_weather", {"id": call_id}), now=1.1)
    if finish:
        conversation.apply(answer, Finished("tool_use", "tool_use", TokenUsage(1, 1)), now=1.2)


def open_ids(conversation: Conversation) -> list[str]:
    return [call.tool_call_id for call in conversation.open_tool_calls()]


def test_calls_open_in_order_and_close_as_they_are_answered() -> None:
    conversation = Conversation()
    answer_calling(conversation, "tc-1", "tc-2")
    assert open_ids(conversation) == ["tc-1", "tc-2"]
    conversation.add_tool_result("tc-1", "sunny")
    assert open_ids(conversation) == ["tc-2"]
    conversation.add_tool_result("tc-2", "rain")
    assert open_ids(conversation) == []


def test_nothing_is_open_while_streaming_after_a_failure_or_once_the_user_moves_on() -> None:
    streaming = Conversation()
    answer_calling(streaming, "tc-1", finish=False)
    assert open_ids(streaming) == []

    failed = Conversation()
    answer_calling(failed, "tc-1", finish=False)
    failed.fail(failed.turns[-1], TurnState.CANCELLED, now=2.0)
    assert open_ids(failed) == []

    moved_on = Conversation()
    answer_calling(moved_on, "tc-1")
    moved_on.add_marker("daemon restarted")  # markers do not count
    assert open_ids(moved_on) == ["tc-1"]
    moved_on.add_user("never mind")
    assert open_ids(moved_on) == []


def test_a_later_answer_without_calls_closes_the_earlier_ones() -> None:
    conversation = Conversation()
    answer_calling(conversation, "tc-1")
    conversation.add_tool_result("tc-1", "sunny")
    request = conversation.to_chat_request(RequestOptions(), request_id="r2")
    answer = conversation.begin_answer(request, now=3.0)
    conversation.apply(answer, TextDelta("It is sunny."), now=3.1)
    conversation.apply(answer, Finished("end_turn", "end_turn", TokenUsage(1, 1)), now=3.2)
    assert open_ids(conversation) == []
