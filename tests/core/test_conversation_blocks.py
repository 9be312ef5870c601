"""Answers keep every block (text, thinking, tool calls); the dialogue becomes content blocks."""

from __future__ import annotations

from inferd_tui.conversation import AttachmentRef, Conversation, TurnState
from inferd_tui.proto import SamplingParams
from inferd_tui.proto.chat import (
    Finished,
    ImageAttachment,
    ImageBlock,
    TextBlock,
    TextDelta,
    ThinkingDelta,
    TokenUsage,
    ToolCall,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
)
from inferd_tui.request_options import RequestOptions

TOOL = ToolSpec(name="get_weather", description="Weather.", input_schema={"type": "object"})


def answered_with_a_tool_call() -> Conversation:
    conversation = Conversation(system_prompt="be brief")
    conversation.add_user("weather in Dublin?")
    request = conversation.to_chat_request(RequestOptions(tools=(TOOL,)), request_id="r1")
    answer = conversation.begin_answer(request, now=1.0)
    conversation.apply(answer, ThinkingDelta("the user wants "), now=1.1)
    conversation.apply(answer, ThinkingDelta("weather"), now=1.2)
    conversation.apply(answer, ToolCall("tc-1", "get_weather", {"city": "Dublin"}), now=1.3)
    conversation.apply(
        answer,
        Finished("tool_use", "tool_use", TokenUsage(12, 3), backend="demo"),
        now=1.4,
    )
    return conversation


def test_blocks_are_kept_on_the_answer() -> None:
    answer = answered_with_a_tool_call().turns[-1]
    assert answer.state is TurnState.COMPLETE
    assert answer.thinking == "the user wants weather"
    assert answer.thinking_deltas == 2
    assert answer.tool_calls[0].name == "get_weather"
    assert (answer.stop_reason, answer.stop_kind) == ("tool_use", "tool_use")
    assert answer.request_params["tools"][0]["name"] == "get_weather"
    assert answer.first_token_at == 1.1


def test_tool_result_is_sent_paired_with_its_call() -> None:
    conversation = answered_with_a_tool_call()
    conversation.add_tool_result("tc-1", "sunny, 21C")
    request = conversation.to_chat_request(RequestOptions(tools=(TOOL,)), request_id="r2")
    system, prompt, answer, result = request.messages
    assert system.plain_text == "be brief"
    assert prompt.content == (TextBlock(text="weather in Dublin?"),)
    assert answer.content == (
        ToolUseBlock(tool_call_id="tc-1", name="get_weather", input={"city": "Dublin"}),
    )
    assert result.content == (
        ToolResultBlock(tool_call_id="tc-1", content=(TextBlock(text="sunny, 21C"),)),
    )


def test_thinking_is_not_sent_back_and_v1_stop_reasons_normalise() -> None:
    conversation = Conversation()
    conversation.add_user("hi")
    answer = conversation.begin_answer(
        conversation.to_request(SamplingParams(), request_id="q"), now=0
    )
    conversation.apply(answer, TextDelta("hello"), now=0.1)
    conversation.apply(answer, Finished("max_tokens", "length", TokenUsage(1, 1)), now=0.2)
    assert answer.stop_kind == "max_tokens"
    conversation.add_user("again")
    messages = conversation.to_chat_request(RequestOptions()).messages
    assert [m.plain_text for m in messages] == ["hi", "hello", "again"]


def test_attachments_follow_the_prompt_in_order_with_their_bytes() -> None:
    conversation = Conversation()
    turn = conversation.add_user("what is this?")
    turn.attachments.append(AttachmentRef("image", "a.png", "ab" * 32, 3, width=1, height=1))
    loaded = []

    def load(ref: AttachmentRef, attachment_id: str) -> ImageAttachment:
        loaded.append(ref.name)
        return ImageAttachment(
            id=attachment_id, width=ref.width, height=ref.height, data=b"\x01\x02\x03"
        )

    request = conversation.to_chat_request(RequestOptions(), load_attachment=load)
    assert request.messages[0].content[1] == ImageBlock(attachment_id="img-1")
    assert request.attachments[0].data == b"\x01\x02\x03"
    assert loaded == ["a.png"]
