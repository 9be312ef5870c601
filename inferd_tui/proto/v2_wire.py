"""The v2 request and response shapes (protocol-v2.md §3–§5, §7), for both v2 wires.

The 0.4+ length-prefixed wire sends the request as one JSON frame with ``wire_version``
and each attachment's bytes as a descriptor frame and a BLOB frame (§4); the 0.2–0.3
NDJSON wire sends one line with the bytes inline as base64 and no ``wire_version``.
Responses have the same JSON shape on both and decode to :mod:`inferd_tui.proto.chat`
events. Pure: no sockets.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, TypeAdapter, ValidationError
from pydantic_core import from_json

from inferd_tui.proto.chat import (
    AnswerEvent,
    ChatMessage,
    ChatRequest,
    Failed,
    Finished,
    OtherFrame,
    TextDelta,
    ThinkingDelta,
    TokenUsage,
    ToolCall,
    normalise_stop_reason,
)
from inferd_tui.proto.eras import WIRE_VERSION
from inferd_tui.proto.errors import MalformedFrame
from inferd_tui.proto.framing import encode_line
from inferd_tui.proto.lp import encode_blob_frame, encode_json_frame
from inferd_tui.text_safety import without_lone_surrogates

# --- requests ---------------------------------------------------------------------------


def message_dict(message: ChatMessage) -> dict[str, Any]:
    return {
        "role": message.role.value,
        "content": [block.model_dump(mode="json") for block in message.content],
    }


def request_dict(request: ChatRequest, *, length_prefixed: bool) -> dict[str, Any]:
    """The request object as it goes on a v2 wire (attachment bytes not included)."""
    body: dict[str, Any] = {}
    if length_prefixed:
        body["wire_version"] = WIRE_VERSION
    body["id"] = request.id
    body["messages"] = [message_dict(message) for message in request.messages]
    if request.attachments:
        body["attachments"] = [attachment.descriptor() for attachment in request.attachments]
    if request.tools:
        body["tools"] = [tool.model_dump(mode="json") for tool in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = request.tool_choice
    sampling = request.sampling.wire_fields()
    sampling.pop("image_token_budget", None)  # no v2 field takes it (§3)
    body.update(sampling)
    if request.response_schema is not None:
        body["response_format"] = {"type": "json_schema", "schema": request.response_schema}
    if request.thinking is not None:
        body["thinking"] = request.thinking
    return body


def encode_lp_request(request: ChatRequest) -> list[bytes]:
    """The frames of one request on the 0.4+ wire: the request, then for every attachment
    (in declared order) its ``attachment_blob`` descriptor and its BLOB (§4).

    Returned as separate byte strings so a 64 MiB BLOB is not copied into one buffer.
    """
    frames = [encode_json_frame(request_dict(request, length_prefixed=True))]
    for attachment in request.attachments:
        frames.append(
            encode_json_frame(
                {
                    "type": "attachment_blob",
                    "attachment_id": attachment.id,
                    "len": len(attachment.data),
                }
            )
        )
        frames.append(encode_blob_frame(attachment.data))
    return frames


def encode_ndjson_request(request: ChatRequest) -> bytes:
    """One line of the 0.2–0.3 ``infer.v2.sock`` wire: bytes inline as base64 (§7)."""
    body = request_dict(request, length_prefixed=False)
    if request.attachments:
        body["attachments"] = [
            {**attachment.descriptor(), "bytes": base64.b64encode(attachment.data).decode()}
            for attachment in request.attachments
        ]
    return encode_line(body)


def ndjson_request_size(request: ChatRequest) -> int:
    """The length of :func:`encode_ndjson_request`'s line without its ``\\n``, cheaply."""
    body = request_dict(request, length_prefixed=False)
    text_bytes = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    inline = sum(4 * ((len(a.data) + 2) // 3) + len(',"bytes":""') for a in request.attachments)
    return text_bytes + inline


# --- responses --------------------------------------------------------------------------


class _TextDelta(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    type: Literal["text"]
    delta: str


class _ThinkingDelta(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    type: Literal["thinking"]
    delta: str


class _ToolUse(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    type: Literal["tool_use"]
    tool_call_id: str
    name: str
    input: Any = None


_KNOWN_BLOCKS = frozenset({"text", "thinking", "tool_use"})


def _block_tag(value: Any) -> str:
    block_type = value.get("type") if isinstance(value, dict) else None
    return block_type if block_type in _KNOWN_BLOCKS else "unknown"


_Block = Annotated[
    Annotated[_TextDelta, Tag("text")]
    | Annotated[_ThinkingDelta, Tag("thinking")]
    | Annotated[_ToolUse, Tag("tool_use")]
    | Annotated[dict[str, Any], Tag("unknown")],
    Discriminator(_block_tag),
]


class _BlockFrame(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    type: Literal["frame"]
    id: str = ""
    block: _Block


class _Usage(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    input_tokens: int = 0
    output_tokens: int = 0


class _DoneFrame(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    type: Literal["done"]
    id: str = ""
    usage: _Usage = _Usage()
    stop_reason: str = "end_turn"
    backend: str = ""
    tool_choice_unsatisfied: bool = False


class _ErrorFrame(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    type: Literal["error"]
    id: str = ""
    code: str
    message: str = ""


_KNOWN_FRAMES = frozenset({"frame", "done", "error"})


def _frame_tag(value: Any) -> str:
    frame_type = value.get("type") if isinstance(value, dict) else None
    return frame_type if frame_type in _KNOWN_FRAMES else "unknown"


_Response = Annotated[
    Annotated[_BlockFrame, Tag("frame")]
    | Annotated[_DoneFrame, Tag("done")]
    | Annotated[_ErrorFrame, Tag("error")]
    | Annotated[dict[str, Any], Tag("unknown")],
    Discriminator(_frame_tag),
]
_response_adapter: TypeAdapter[Any] = TypeAdapter(_Response, config=ConfigDict(defer_build=True))


def _describe(data: bytes) -> str:
    shown = data[:80].decode("utf-8", "replace")
    return shown + ("…" if len(data) > 80 else "")


def _not_a_frame(data: bytes, exc: Exception, protocol: str) -> MalformedFrame:
    detail = ""
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"] if not str(part).startswith("func"))
        detail = f" ({where}: {error['msg']})" if where else f" ({error['msg']})"
    return MalformedFrame(
        f"the daemon sent something that is not a {protocol} frame: {_describe(data)!r}{detail}",
        line=data,
        protocol=protocol,
    )


def parse_response(data: bytes, *, protocol: str = "protocol v2") -> AnswerEvent:
    """One JSON payload (an LP frame's or an NDJSON line) → an answer event.

    Unknown frame or block types become :class:`OtherFrame`; a lone surrogate escape is
    read as U+FFFD; anything else that is not a frame raises :class:`MalformedFrame`.
    """
    # Fast path for the frames that make up nearly every answer: a text or thinking delta
    # (jiter's parse and a few type checks; 5x the validating path below).
    try:
        raw = from_json(data)
    except ValueError:
        raw = None
    if type(raw) is dict and raw.get("type") == "frame":
        block = raw.get("block")
        frame_id = raw.get("id", "")
        if type(block) is dict and type(frame_id) is str:
            delta = block.get("delta")
            if type(delta) is str:
                block_type = block.get("type")
                if block_type == "text":
                    return TextDelta(delta, frame_id)
                if block_type == "thinking":
                    return ThinkingDelta(delta, frame_id)
    return _parse_slowly(data, raw, protocol)


def _parse_slowly(data: bytes, raw: Any, protocol: str) -> AnswerEvent:
    try:
        frame = (
            _response_adapter.validate_json(data)
            if raw is None
            else _response_adapter.validate_python(raw)
        )
    except ValidationError as exc:
        try:
            loaded = without_lone_surrogates(json.loads(data))
            frame = _response_adapter.validate_python(loaded)
        except (ValidationError, ValueError, RecursionError, UnicodeDecodeError):
            raise _not_a_frame(data, exc, protocol) from exc
    frame_class = type(frame)
    if frame_class is _BlockFrame:
        block = frame.block
        block_class = type(block)
        if block_class is _TextDelta:
            return TextDelta(block.delta, frame.id)
        if block_class is _ThinkingDelta:
            return ThinkingDelta(block.delta, frame.id)
        if block_class is _ToolUse:
            return ToolCall(block.tool_call_id, block.name, block.input, frame.id)
        return OtherFrame(f"frame/{block.get('type', '')}", frame.model_dump(), frame.id)
    if frame_class is _DoneFrame:
        raw = frame.model_dump()
        usage = frame.usage
        return Finished(
            stop_reason=normalise_stop_reason(frame.stop_reason),
            raw_stop_reason=frame.stop_reason,
            usage=TokenUsage(usage.input_tokens, usage.output_tokens, raw["usage"]),
            backend=frame.backend,
            tool_choice_unsatisfied=frame.tool_choice_unsatisfied,
            request_id=frame.id,
            raw=raw,
        )
    if frame_class is _ErrorFrame:
        return Failed(frame.code, frame.message, frame.id, frame.model_dump())
    if not isinstance(frame, dict):  # pragma: no cover - the adapter's last branch
        raise _not_a_frame(data, ValueError("unexpected"), protocol)
    frame_id = frame.get("id")
    return OtherFrame(
        str(frame.get("type", "")), frame, frame_id if isinstance(frame_id, str) else ""
    )
