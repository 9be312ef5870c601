"""A copy of an answer is its text: never its thinking or its tool calls."""

from __future__ import annotations

from inferd_tui.conversation import Conversation
from inferd_tui.proto.chat import Finished, TextDelta, ThinkingDelta, TokenUsage, ToolCall
from inferd_tui.request_options import RequestOptions
from inferd_tui.ui.copying import copy_of_turn


def test_copying_an_answer_copies_only_its_text() -> None:
    conversation = Conversation()
    conversation.add_user("weather?")
    request = conversation.to_chat_request(RequestOptions(), request_id="r")
    answer = conversation.begin_answer(request, now=0.0)
    conversation.apply(answer, ThinkingDelta("secret reasoning\x1b[2J"), now=0.1)
    conversation.apply(answer, TextDelta("Let me check.\n\n```json\n{}\n```"), now=0.2)
    conversation.apply(answer, ToolCall("tc-1", "get_weather", {"city": "Dublin"}), now=0.3)
    conversation.apply(answer, Finished("tool_use", "tool_use", TokenUsage(1, 1)), now=0.4)
    copied = copy_of_turn(answer, 2, None)
    assert copied.text == "Let me check.\n\n```json\n{}\n```"
    assert copy_of_turn(answer, 2, 1).text == "{}"  # code blocks of the text only
