"""The wire-neutral model: requests of content blocks, and answers as events.

Everything above ``proto`` speaks this vocabulary; each wire (v1 NDJSON, v2 NDJSON,
v2 length-prefixed) is an encoder/decoder pair that maps to and from it
(:mod:`inferd_tui.proto.v1_wire`, :mod:`inferd_tui.proto.v2_wire`). A request a wire cannot
carry is refused before sending by :func:`inferd_tui.proto.capability.request_problems`.

Answers are normalised: v1 ``prompt_tokens``/``completion_tokens`` and stop reasons
``end``/``length`` read as v2's ``input_tokens``/``output_tokens`` and
``end_turn``/``max_tokens``; the raw frame stays on every event (``raw``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from inferd_tui.proto.models import U32_MAX, Role, SamplingParams

# --- content blocks ---------------------------------------------------------------------


class TextBlock(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    type: Literal["text"] = "text"
    text: str


class ImageBlock(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    type: Literal["image"] = "image"
    attachment_id: str


class AudioBlock(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    type: Literal["audio"] = "audio"
    attachment_id: str


class ToolUseBlock(BaseModel):
    """A tool call the model made, replayed in a later request's assistant message."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    type: Literal["tool_use"] = "tool_use"
    tool_call_id: str
    name: str
    input: Any = None


ToolResultContent = Annotated[TextBlock | ImageBlock | AudioBlock, Field(discriminator="type")]


class ToolResultBlock(BaseModel):
    """The answer to a tool call, in a ``user`` message; pairs with a ``tool_use`` by id."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    type: Literal["tool_result"] = "tool_result"
    tool_call_id: str
    content: tuple[ToolResultContent, ...] = ()


ContentBlock = Annotated[
    TextBlock | ImageBlock | AudioBlock | ToolUseBlock | ToolResultBlock,
    Field(discriminator="type"),
]


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    role: Role
    content: tuple[ContentBlock, ...]

    @classmethod
    def text(cls, role: Role | str, text: str) -> ChatMessage:
        return cls(role=Role(role), content=(TextBlock(text=text),))

    @property
    def plain_text(self) -> str:
        """The text blocks joined: what a v1 message's ``content`` string carries."""
        return "".join(block.text for block in self.content if isinstance(block, TextBlock))


# --- attachments ------------------------------------------------------------------------


class ImageAttachment(BaseModel):
    """``width*height*3`` bytes of interleaved 8-bit RGB (protocol-v2.md §3)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    kind: Literal["image"] = "image"
    id: str
    width: int = Field(ge=0, le=U32_MAX)
    height: int = Field(ge=0, le=U32_MAX)
    data: bytes = Field(default=b"", repr=False)

    def descriptor(self) -> dict[str, Any]:
        return {"kind": "image", "id": self.id, "width": self.width, "height": self.height}


class AudioAttachment(BaseModel):
    """Mono little-endian f32 PCM at ``sample_rate`` (the backend's ``audio_sample_rate``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    kind: Literal["audio"] = "audio"
    id: str
    sample_rate: int = Field(ge=0, le=U32_MAX)
    data: bytes = Field(default=b"", repr=False)

    def descriptor(self) -> dict[str, Any]:
        return {"kind": "audio", "id": self.id, "sample_rate": self.sample_rate}


Attachment = Annotated[ImageAttachment | AudioAttachment, Field(discriminator="kind")]


# --- tools ------------------------------------------------------------------------------

ToolChoice = Literal["auto", "required", "none"]
TOOL_CHOICES: Final[tuple[ToolChoice, ...]] = ("auto", "required", "none")


class ToolSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str
    description: str
    input_schema: dict[str, Any]


# --- the request ------------------------------------------------------------------------


class ChatRequest(BaseModel):
    """One generation request in the vocabulary every wire shares.

    ``grammar`` is raw GBNF (v1 only); ``response_schema`` a JSON schema sent as
    ``response_format`` (0.5+); ``thinking`` the reasoning switch (0.5.1+); ``tools``
    and ``tool_choice`` (0.8+ for the choice). ``None``/empty means "not sent".
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: str = ""
    messages: tuple[ChatMessage, ...]
    attachments: tuple[Attachment, ...] = ()
    sampling: SamplingParams = SamplingParams()
    grammar: str | None = None
    response_schema: dict[str, Any] | None = None
    thinking: bool | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice | None = None

    def with_id(self, request_id: str) -> ChatRequest:
        return self.model_copy(update={"id": request_id})


# --- answer events ----------------------------------------------------------------------

#: Stop reasons above the wire (v2's names; v1's are mapped).
StopKind = Literal["end_turn", "max_tokens", "tool_use", "stop_sequence", "cancelled", "error"]
_V1_STOP_REASONS: Final = {"end": "end_turn", "length": "max_tokens"}


def normalise_stop_reason(raw: str) -> str:
    """v1 ``end``/``length`` → ``end_turn``/``max_tokens``; anything else unchanged."""
    return _V1_STOP_REASONS.get(raw, raw)


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    #: The usage object as the daemon sent it.
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    text: str
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A whole tool call (never split across frames)."""

    tool_call_id: str
    name: str
    input: Any
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class Finished:
    """The terminal ``done`` frame.

    ``stop_reason`` is normalised (:func:`normalise_stop_reason`); ``raw_stop_reason`` is
    the daemon's word. ``text`` is v1's ``done.content`` (v2 sends none: ``None``).
    """

    stop_reason: str
    raw_stop_reason: str
    usage: TokenUsage
    backend: str = ""
    tool_choice_unsatisfied: bool = False
    text: str | None = None
    request_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Failed:
    """The terminal ``error`` frame (the daemon's own code and words, untrusted)."""

    code: str
    message: str
    request_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class OtherFrame:
    """A frame or block this client does not know (non-terminal, kept and skippable)."""

    type: str
    raw: dict[str, Any]
    request_id: str = ""


AnswerEvent = TextDelta | ThinkingDelta | ToolCall | Finished | Failed | OtherFrame
TerminalEvent = Finished | Failed
