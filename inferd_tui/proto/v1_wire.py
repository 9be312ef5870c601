"""The v1 wire in the wire-neutral vocabulary: a :class:`ChatRequest` as a v1 request, and
v1 response frames as answer events (protocol-v1.md §4–§5). Pure."""

from __future__ import annotations

from inferd_tui.proto.chat import (
    AnswerEvent,
    ChatRequest,
    Failed,
    Finished,
    OtherFrame,
    TextDelta,
    TokenUsage,
    normalise_stop_reason,
)
from inferd_tui.proto.models import (
    DoneFrame,
    ErrorFrame,
    Message,
    Request,
    ResponseFrame,
    TokenFrame,
    UnknownFrame,
)


def to_v1_request(request: ChatRequest) -> Request:
    """The v1 request carrying ``request``; only text blocks exist on v1, so callers check
    :func:`inferd_tui.proto.capability.request_problems` first."""
    messages = [
        Message(role=message.role, content=message.plain_text) for message in request.messages
    ]
    return Request.build(messages, request.sampling, id=request.id, grammar=request.grammar or "")


def from_v1_frame(frame: ResponseFrame) -> AnswerEvent:
    frame_class = type(frame)
    if frame_class is TokenFrame:
        assert isinstance(frame, TokenFrame)
        return TextDelta(frame.content, frame.id)
    if frame_class is DoneFrame:
        assert isinstance(frame, DoneFrame)
        raw = frame.model_dump(mode="json")
        stop = str(frame.stop_reason)
        return Finished(
            stop_reason=normalise_stop_reason(stop),
            raw_stop_reason=stop,
            usage=TokenUsage(
                frame.usage.prompt_tokens, frame.usage.completion_tokens, raw.get("usage", {})
            ),
            backend=frame.backend,
            text=frame.content,
            request_id=frame.id,
            raw=raw,
        )
    if frame_class is ErrorFrame:
        assert isinstance(frame, ErrorFrame)
        return Failed(str(frame.code), frame.message, frame.id, frame.model_dump(mode="json"))
    if isinstance(frame, UnknownFrame):
        raw_id = frame.raw.get("id")
        return OtherFrame(frame.type, frame.raw, raw_id if isinstance(raw_id, str) else "")
    return OtherFrame(frame.type, frame.model_dump(mode="json"), getattr(frame, "id", ""))
