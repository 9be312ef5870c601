"""Wire types of protocol v1 (pydantic models; no I/O).

Forward compatible by design: unknown response ``type``s, error codes, stop reasons,
admin statuses, phases and keys are kept and exposed, never fatal (protocol §5, §8).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from inferd_tui.proto.constants import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_K,
    DEFAULT_TOP_P,
)

U32_MAX = 2**32 - 1


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class StopReason(StrEnum):
    END = "end"
    LENGTH = "length"
    CANCELLED = "cancelled"
    ERROR = "error"


class ErrorCode(StrEnum):
    QUEUE_FULL = "queue_full"
    BACKEND_UNAVAILABLE = "backend_unavailable"
    INVALID_REQUEST = "invalid_request"
    FRAME_TOO_LARGE = "frame_too_large"
    INTERNAL = "internal"


class AdminStatus(StrEnum):
    STARTING = "starting"
    LOADING_MODEL = "loading_model"
    CAPABILITIES = "capabilities"
    READY = "ready"
    RESTARTING = "restarting"
    DRAINING = "draining"


class LoadPhase(StrEnum):
    CHECKING_LOCAL = "checking_local"
    DOWNLOAD = "download"
    VERIFY = "verify"
    QUARANTINE = "quarantine"
    MMAP = "mmap"
    KV_CACHE = "kv_cache"


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    role: Role
    content: str


class SamplingParams(BaseModel):
    """The sampling fields a user may set; ``None`` means "daemon default, not sent".

    Bounds mirror what the daemon's decoder accepts (u32 for the integer fields); the
    budget's allowed values are checked by :func:`request_problem`, like the daemon does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    temperature: float | None = Field(default=None, allow_inf_nan=False)
    top_p: float | None = Field(default=None, allow_inf_nan=False)
    top_k: int | None = Field(default=None, ge=0, le=U32_MAX)
    max_tokens: int | None = Field(default=None, ge=0, le=U32_MAX)
    image_token_budget: int | None = Field(default=None, ge=0, le=U32_MAX)

    def wire_fields(self) -> dict[str, Any]:
        """Only the fields the user set, as they go on the wire."""
        return self.model_dump(exclude_none=True)


#: Daemon defaults, for placeholders.
DAEMON_DEFAULTS: dict[str, float | int] = {
    "temperature": DEFAULT_TEMPERATURE,
    "top_p": DEFAULT_TOP_P,
    "top_k": DEFAULT_TOP_K,
    "max_tokens": DEFAULT_MAX_TOKENS,
}


class Request(BaseModel):
    """A generation request. ``None`` fields are omitted on the wire."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    id: str = ""
    messages: list[Message]
    temperature: float | None = Field(default=None, allow_inf_nan=False)
    top_p: float | None = Field(default=None, allow_inf_nan=False)
    top_k: int | None = Field(default=None, ge=0, le=U32_MAX)
    max_tokens: int | None = Field(default=None, ge=0, le=U32_MAX)
    stream: bool | None = None
    image_token_budget: int | None = Field(default=None, ge=0, le=U32_MAX)
    grammar: str | None = None

    @classmethod
    def build(
        cls,
        messages: list[Message],
        params: SamplingParams | None = None,
        *,
        id: str = "",
        grammar: str = "",
    ) -> Request:
        """A request from a conversation, the user's sampling params and a grammar.

        An empty grammar is not sent (the daemon's default is unconstrained).
        """
        fields = params.wire_fields() if params else {}
        return cls(id=id, messages=messages, grammar=grammar or None, **fields)

    def wire_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0


class TokenFrame(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    type: Literal["token"] = "token"
    id: str = ""
    content: str


class DoneFrame(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    type: Literal["done"] = "done"
    id: str = ""
    content: str = ""
    usage: Usage = Usage()
    # An unknown stop reason is kept as its string.
    stop_reason: StopReason | str = StopReason.END
    backend: str = ""


class ErrorFrame(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    type: Literal["error"] = "error"
    id: str = ""
    # An unknown code is kept as its string.
    code: ErrorCode | str
    message: str = ""


class StatusFrame(BaseModel):
    """Listed by the spec for the inference socket; real daemons don't send it."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    type: Literal["status"] = "status"
    id: str = ""
    status: str = ""


class UnknownFrame(BaseModel):
    """A frame whose ``type`` this client does not know; non-terminal, logged and skipped."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    type: str
    raw: dict[str, Any]


ResponseFrame = TokenFrame | DoneFrame | ErrorFrame | StatusFrame | UnknownFrame
TerminalFrame = DoneFrame | ErrorFrame


def is_terminal(frame: ResponseFrame) -> bool:
    return isinstance(frame, DoneFrame | ErrorFrame)


# Admin keys that describe the frame itself rather than the state it reports.
_ADMIN_ENVELOPE_KEYS = frozenset({"id", "type", "status", "phase"})


class AdminEvent(BaseModel):
    """One admin frame, flat (protocol §8). Unknown keys are kept (``extra``).

    ``status`` and ``phase`` are plain strings so unknown values survive; compare them
    with :class:`AdminStatus` / :class:`LoadPhase` members (they are ``str``s).
    Known detail keys with an unexpected type are kept verbatim in ``invalid_keys``
    rather than failing the whole event.
    """

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    id: str = "admin"
    type: str = "status"
    status: str = ""
    phase: str | None = None
    # loading_model / restarting details
    path: str | None = None
    downloaded_bytes: int | None = None
    total_bytes: int | None = None
    source_url: str | None = None
    n_ctx: int | None = None
    expected_sha256: str | None = None
    actual_sha256: str | None = None
    quarantine_path: str | None = None
    # capabilities
    backend: str | None = None
    v2: bool | None = None
    vision: bool | None = None
    audio: bool | None = None
    tools: bool | None = None
    thinking: bool | None = None
    embed: bool | None = None
    accelerator: str | None = None
    gpu_layers: int | None = None
    device_name: str | None = None
    vram_total_bytes: int | None = None
    wire_version: Any = None
    audio_sample_rate: int | None = None
    rerank: bool | None = None
    invalid_keys: dict[str, Any] = Field(default_factory=dict, exclude=True)

    def details(self) -> dict[str, Any]:
        """Every key except the envelope (id, type, status, phase), as received."""
        received = self.model_dump(exclude_unset=True, exclude={"invalid_keys"})
        received.update(self.invalid_keys)
        return {k: v for k, v in sorted(received.items()) if k not in _ADMIN_ENVELOPE_KEYS}

    @property
    def extra_keys(self) -> dict[str, Any]:
        """Keys this client does not know."""
        return dict(self.model_extra or {})

    @property
    def is_capabilities(self) -> bool:
        return self.status == AdminStatus.CAPABILITIES

    @property
    def announces_v2_only(self) -> bool:
        """A ``capabilities`` frame with ``wire_version``: daemon 0.4+, v1 gone (§9)."""
        return self.is_capabilities and "wire_version" in (self.model_fields_set or set())
