"""What a daemon can take: refuse a request before sending, naming the field and the
release that has it (protocol-v2.md §1, §3, §4, §6). Pure.

A daemon's exact release is rarely known (:class:`~inferd_tui.proto.eras.EraRange`): a
field is refused when no release in the range takes it; a field only some of them take
is sent, with a note that older releases of the range ignore it (daemons ignore unknown
keys), so nothing is dropped without the user being told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from inferd_tui.proto.chat import (
    AudioAttachment,
    AudioBlock,
    ChatRequest,
    ImageAttachment,
    ImageBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from inferd_tui.proto.constants import MAX_FRAME_BYTES
from inferd_tui.proto.eras import (
    ERAS,
    FEATURE_SINCE,
    MAX_ATTACHMENTS,
    MAX_TOTAL_BLOB_BYTES,
    RELEASE,
    EraRange,
    Wire,
    features,
)


@dataclass(frozen=True)
class BackendCapabilities:
    """One admin ``capabilities`` frame (one per backend since 0.3), as far as checks go."""

    backend: str = ""
    vision: bool | None = None
    audio: bool | None = None
    tools: bool | None = None
    thinking: bool | None = None
    embed: bool | None = None
    rerank: bool | None = None
    audio_sample_rate: int | None = None
    wire_version: Any = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> BackendCapabilities:
        def flag(name: str) -> bool | None:
            value = frame.get(name)
            return value if isinstance(value, bool) else None

        rate = frame.get("audio_sample_rate")
        backend = frame.get("backend")
        return cls(
            backend=backend if isinstance(backend, str) else "",
            vision=flag("vision"),
            audio=flag("audio"),
            tools=flag("tools"),
            thinking=flag("thinking"),
            embed=flag("embed"),
            rerank=flag("rerank") if "rerank" in frame else None,
            audio_sample_rate=rate
            if isinstance(rate, int) and not isinstance(rate, bool)
            else None,
            wire_version=frame.get("wire_version"),
            raw=dict(frame),
        )


@dataclass(frozen=True)
class DaemonProfile:
    """What the client knows about the daemon it talks to."""

    wire: Wire
    eras: EraRange
    backends: tuple[BackendCapabilities, ...] = ()

    def any_backend(self, name: str) -> bool | None:
        """True if any backend advertises ``name``; None if no frame says either way."""
        values = [getattr(backend, name) for backend in self.backends]
        known = [value for value in values if value is not None]
        return any(known) if known else None

    @property
    def audio_sample_rate(self) -> int | None:
        for backend in self.backends:
            if backend.audio_sample_rate:
                return backend.audio_sample_rate
        return None


@dataclass(frozen=True)
class Problem:
    """Why a request cannot go as it is (``error``), or what a daemon may ignore (``note``)."""

    field: str
    message: str
    severity: Literal["error", "note"] = "error"


def _first_release_with(feature: str) -> str:
    if feature in FEATURE_SINCE:
        return FEATURE_SINCE[feature]
    for era in ERAS:
        if getattr(features(era), feature):
            return RELEASE[era]
    return "?"  # pragma: no cover - every feature exists in some era


def _needs(eras: EraRange, wire: Wire, feature: str, field_name: str, what: str) -> Problem | None:
    """A refusal when no release of ``eras`` has ``feature`` on ``wire``; a note when only
    some do."""
    release = _first_release_with(feature)
    if wire != "v2" or not eras.any(feature):
        return Problem(
            field_name,
            f"{what} needs inferd {release} or later (the length-prefixed v2 wire); "
            f"this daemon is {eras.describe()} on {_wire_name(wire)}",
        )
    if not eras.all(feature):
        return Problem(
            field_name,
            f"{what} is sent, but inferd releases before {release} ignore it and this "
            f"daemon ({eras.describe()}) may be one of them",
            severity="note",
        )
    return None


def _wire_name(wire: Wire) -> str:
    return {"v1": "protocol v1", "v2-ndjson": "v2 NDJSON", "v2": "the v2 wire"}[wire]


def request_problems(
    request: ChatRequest,
    profile: DaemonProfile,
    *,
    blob_sizes: Mapping[str, int] | None = None,
) -> list[Problem]:
    """Every reason ``request`` cannot go to this daemon as it is, errors first.

    ``blob_sizes``: the byte count of each attachment (by id) whose bytes are not loaded
    (a preview), checked in place of ``len(data)``."""
    wire, eras = profile.wire, profile.eras
    problems: list[Problem] = []
    add = problems.append
    if not request.messages:
        add(Problem("messages", "a request needs at least one message"))
    for index, message in enumerate(request.messages):
        if not message.content:
            add(Problem("messages", f"message {index + 1} has no content blocks"))
    blocks = [block for message in request.messages for block in message.content]
    if wire == "v1":
        non_text = sorted({block.type for block in blocks if block.type != "text"})
        if non_text:
            add(
                Problem(
                    "messages",
                    f"{', '.join(non_text)} blocks need protocol v2 (inferd 0.2 or later); "
                    "protocol v1 carries text only",
                )
            )
        if request.attachments:
            add(
                Problem(
                    "attachments",
                    "images and audio need protocol v2 (inferd 0.2 or later); "
                    "this daemon speaks protocol v1 only",
                )
            )
        if request.tools:
            add(Problem("tools", "tools need protocol v2 (inferd 0.2 or later)"))
        for name, what, release in (
            ("response_schema", "a JSON schema (response_format)", "0.5"),
            ("thinking", "the thinking switch", "0.5.1"),
            ("tool_choice", "tool_choice", "0.8"),
        ):
            if getattr(request, name) is not None:
                add(
                    Problem(
                        name,
                        f"{what} needs inferd {release} or later; this daemon "
                        f"({eras.describe()}) speaks protocol v1",
                    )
                )
    else:
        if request.grammar:
            add(
                Problem(
                    "grammar",
                    "GBNF grammars are v1 only (inferd 0.1–0.3); inferd 0.5+ takes a JSON "
                    "schema (response_format) instead",
                )
            )
        if request.sampling.image_token_budget is not None:
            add(
                Problem(
                    "image_token_budget",
                    "image_token_budget is a v1 field (inferd 0.1–0.3); on 0.4+ the "
                    "daemon's operator sets it",
                )
            )
        for name, feature, what in (
            ("response_schema", "response_format", "a JSON schema (response_format)"),
            ("thinking", "thinking", "the thinking switch"),
            ("tool_choice", "tool_choice", "tool_choice"),
        ):
            if getattr(request, name) is not None:
                problem = _needs(eras, wire, feature, name, what)
                if problem is not None:
                    add(problem)
        problems.extend(_tool_problems(request, profile))
        problems.extend(_attachment_problems(request, profile, blob_sizes or {}))
    problems.sort(key=lambda problem: problem.severity != "error")
    return problems


def _tool_problems(request: ChatRequest, profile: DaemonProfile) -> list[Problem]:
    problems: list[Problem] = []
    names = [tool.name for tool in request.tools]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        problems.append(Problem("tools", f"tool names must be unique: {', '.join(duplicates)}"))
    if any(not name for name in names):
        problems.append(Problem("tools", "every tool needs a name"))
    if request.tool_choice is not None and not request.tools:
        problems.append(Problem("tool_choice", "tool_choice needs at least one tool"))
    if request.tool_choice is not None and request.response_schema is not None:
        problems.append(Problem("tool_choice", "tool_choice cannot be combined with a JSON schema"))
    if request.tools and profile.any_backend("tools") is False:
        problems.append(
            Problem(
                "tools", "this daemon's backend does not take tools (capabilities: tools false)"
            )
        )
    if request.thinking and profile.any_backend("thinking") is False:
        problems.append(
            Problem(
                "thinking",
                "this daemon's backend does not think (capabilities: thinking false)",
            )
        )
    # 0.8 refuses a tool_result that pairs with no tool_use in the same request.
    if profile.eras.any("tool_choice"):
        calls = {
            block.tool_call_id
            for message in request.messages
            for block in message.content
            if isinstance(block, ToolUseBlock)
        }
        for message in request.messages:
            for block in message.content:
                if isinstance(block, ToolResultBlock) and block.tool_call_id not in calls:
                    problems.append(
                        Problem(
                            "messages",
                            f"the tool result for {block.tool_call_id!r} answers no tool call "
                            "in this conversation (inferd 0.8 refuses an unpaired result)",
                        )
                    )
    return problems


def _attachment_problems(
    request: ChatRequest, profile: DaemonProfile, blob_sizes: Mapping[str, int]
) -> list[Problem]:
    def size(attachment: ImageAttachment | AudioAttachment) -> int:
        return blob_sizes.get(attachment.id, len(attachment.data))

    problems: list[Problem] = []
    add = problems.append
    attachments = request.attachments
    ids = [attachment.id for attachment in attachments]
    if any(not attachment_id for attachment_id in ids):
        add(Problem("attachments", "every attachment needs a non-empty id"))
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        add(Problem("attachments", f"attachment ids must be unique: {', '.join(repeated)}"))
    kinds = {attachment.id: attachment.kind for attachment in attachments}
    for message in request.messages:
        for block in message.content:
            if isinstance(block, ImageBlock | AudioBlock):
                kind = kinds.get(block.attachment_id)
                if kind is None:
                    add(Problem("messages", f"no attachment {block.attachment_id!r} to show"))
                elif kind != block.type:
                    add(
                        Problem(
                            "messages",
                            f"an {block.type} block names {block.attachment_id!r}, "
                            f"which is an {kind}",
                        )
                    )
    for attachment in attachments:
        if size(attachment) > MAX_FRAME_BYTES:
            add(
                Problem(
                    "attachments",
                    f"{attachment.id}: {size(attachment):,} bytes is past the 64 MiB "
                    f"({MAX_FRAME_BYTES:,} bytes) a BLOB frame can hold",
                )
            )
        if isinstance(attachment, ImageAttachment):
            expected = attachment.width * attachment.height * 3
            if size(attachment) != expected:
                add(
                    Problem(
                        "attachments",
                        f"{attachment.id}: {attachment.width}×{attachment.height} RGB is "
                        f"{expected:,} bytes, not {size(attachment):,}",
                    )
                )
            if profile.any_backend("vision") is False:
                add(
                    Problem(
                        "attachments",
                        "this daemon's backend does not take images (capabilities: vision false)",
                    )
                )
        elif isinstance(attachment, AudioAttachment):
            if size(attachment) % 4:
                add(Problem("attachments", f"{attachment.id}: f32 PCM must be whole samples"))
            if profile.any_backend("audio") is False:
                add(
                    Problem(
                        "attachments",
                        "this daemon's backend does not take audio (capabilities: audio false)",
                    )
                )
            rate = profile.audio_sample_rate
            if rate and attachment.sample_rate != rate:
                add(
                    Problem(
                        "attachments",
                        f"{attachment.id}: {attachment.sample_rate:,} Hz audio, but the backend "
                        f"takes {rate:,} Hz (the daemon does not resample)",
                    )
                )
    if profile.eras.all("attachment_limits"):
        if len(attachments) > MAX_ATTACHMENTS:
            add(
                Problem(
                    "attachments",
                    f"{len(attachments)} attachments; inferd 0.6.1+ takes at most "
                    f"{MAX_ATTACHMENTS} per request",
                )
            )
        total = sum(size(attachment) for attachment in attachments)
        if total > MAX_TOTAL_BLOB_BYTES:
            add(
                Problem(
                    "attachments",
                    f"{total:,} bytes of attachments; inferd 0.6.1+ takes at most 128 MiB "
                    f"({MAX_TOTAL_BLOB_BYTES:,} bytes) per request",
                )
            )
    return problems
