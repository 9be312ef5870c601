"""Daemon-side reading of a v2 request (protocol-v2.md §3, §6, §7), for the stand-in. Pure.

The v1 counterpart is :func:`inferd_tui.proto.framing.decode_request` /
:func:`~inferd_tui.proto.framing.request_problem`. A v2 daemon refuses a request at one of
several stages (§6), each with its own code, id and connection rule:

- **decode** (:func:`decode_v2_request`): not JSON, a missing or mistyped field, a bad role,
  a tool missing a key, an object ``tool_choice`` → :class:`RequestDecodeError`
  (``decode: …``): ``id ""``, the connection closes.
- **version** (:func:`wire_version_refusal`, length-prefixed wire only): ``wire_version`` ≠ 1
  (a missing one reads as 0) → ``wire_version_unsupported``, the id, closes.
- **blobs** (:func:`attachment_count_refusal`): more than 32 attachments (0.6.1+), closes.
- **resolve** (:func:`resolve_problem`): ``invalid request: …``, the id, stays open.
- **backend** (:func:`backend_refusal`): what the backend cannot render (0.8's unpaired
  ``tool_result``, ``response_format`` with ``tool_choice``, wrong audio rate, video),
  the id, stays open.

Fields a release does not have are unknown keys to it and ignored (§3): ``wire_version``
on the NDJSON wire, ``response_format`` before 0.5, ``thinking`` before 0.5.1,
``tool_choice`` before 0.8.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field, replace
from typing import Any, Final

from inferd_tui.proto.eras import MAX_ATTACHMENTS, WIRE_VERSION, Era, features
from inferd_tui.proto.framing import RequestDecodeError, _JsonObject, _load_json, _OutOfRange

__all__ = [
    "AttachmentDecl",
    "BackendLimits",
    "Refusal",
    "RequestDecodeError",
    "ToolDecl",
    "V2Request",
    "attachment_count_refusal",
    "backend_refusal",
    "decode_v2_request",
    "resolve_problem",
    "wire_version_refusal",
]

_ROLES: Final = ("system", "user", "assistant")
#: Block types a v2 daemon decodes; any other ``type`` is kept and refused at resolve.
_KNOWN_BLOCKS: Final = frozenset({"text", "image", "audio", "video", "tool_use", "tool_result"})
_ATTACHMENT_BLOCKS: Final = frozenset({"image", "audio", "video"})
_KNOWN_KINDS: Final = frozenset({"image", "audio", "video"})
TOOL_CHOICES: Final = ("auto", "required", "none")
_U32_MAX: Final = 2**32 - 1


@dataclass(frozen=True)
class AttachmentDecl:
    """One declared attachment; ``data`` is its bytes once they arrived (inline on the
    NDJSON wire, as a BLOB on the length-prefixed one)."""

    kind: str
    id: str
    width: int = 0
    height: int = 0
    sample_rate: int = 0
    data: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ToolDecl:
    name: str
    description: str
    input_schema: Any


@dataclass(frozen=True)
class V2Request:
    """A decoded request. ``messages`` keep their blocks as JSON objects (checked shapes):
    a stand-in backend reads them directly, unknown block types included until resolve."""

    id: str
    messages: tuple[dict[str, Any], ...]
    wire_version: int = 0
    attachments: tuple[AttachmentDecl, ...] = ()
    tools: tuple[ToolDecl, ...] = ()
    tool_choice: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    response_schema: Any = None
    has_response_format: bool = False
    thinking: bool | None = None

    def with_data(self, data: dict[str, bytes]) -> V2Request:
        """The request with each attachment's bytes (by id) filled in."""
        return replace(
            self,
            attachments=tuple(
                replace(item, data=data.get(item.id, item.data)) for item in self.attachments
            ),
        )

    def blocks(self) -> list[tuple[int, int, dict[str, Any]]]:
        """``(message index, block index, block)`` for every top-level block."""
        return [
            (m, b, block)
            for m, message in enumerate(self.messages)
            for b, block in enumerate(message["content"])
        ]


@dataclass(frozen=True)
class Refusal:
    """An error frame the daemon sends: ``close`` says whether the connection ends."""

    code: str
    message: str
    close: bool = False


# --- decode -----------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{json.dumps(value)}`"
    if isinstance(value, int | float | _OutOfRange):
        return "a number"
    if isinstance(value, str):
        return f"string {json.dumps(value)[:40]}"
    if isinstance(value, list):
        return "a sequence"
    return "a map"


def _fail(message: str) -> RequestDecodeError:
    return RequestDecodeError(f"decode: {message}")


def _wrong_type(value: Any, expected: str, where: str) -> RequestDecodeError:
    return _fail(f"invalid type: {_json_type(value)}, expected {expected} for `{where}`")


def _missing(key: str, where: str) -> RequestDecodeError:
    return _fail(f"missing field `{key}` in `{where}`" if where else f"missing field `{key}`")


def _get_str(obj: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    if key not in obj:
        if required:
            raise _missing(key, where)
        return ""
    value = obj[key]
    if not isinstance(value, str):
        raise _wrong_type(value, "a string", f"{where}.{key}" if where else key)
    return value


def _get_u32(obj: dict[str, Any], key: str, where: str, *, required: bool) -> int | None:
    value = obj.get(key)
    path = f"{where}.{key}" if where else key
    if value is None:
        if key in obj and required:
            raise _wrong_type(value, "u32", path)
        if required:
            raise _missing(key, where)
        return None
    if isinstance(value, _OutOfRange):
        raise _fail(f"number out of range: {value.text} for `{path}`")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(value, "u32", path)
    if not 0 <= value <= _U32_MAX:
        raise _fail(f"invalid value: integer `{value}`, expected u32 for `{path}`")
    return value


def _get_f64(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, _OutOfRange):
        raise _fail(f"number out of range: {value.text} for `{key}`")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong_type(value, "f64", key)
    return float(value)


def _get_bool(obj: dict[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _wrong_type(value, "a boolean", key)


def _get_list(obj: dict[str, Any], key: str, *, required: bool) -> list[Any]:
    if key not in obj:
        if required:
            raise _fail(f"missing field `{key}`")
        return []
    value = obj[key]
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise _wrong_type(value, "a sequence", key)
    return value


def _decode_block(value: Any, where: str, *, nested: bool = False) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong_type(value, "a content block", where)
    kind = value.get("type")
    if "type" not in value:
        raise _fail(f"missing field `type` in `{where}`")
    if not isinstance(kind, str):
        raise _wrong_type(kind, "a string", f"{where}.type")
    if kind not in _KNOWN_BLOCKS:
        return dict(value)  # kept: resolve refuses it (`… uses unknown content-block type`)
    if kind == "text":
        return {"type": "text", "text": _get_str(value, "text", where)}
    if kind in _ATTACHMENT_BLOCKS:
        return {"type": kind, "attachment_id": _get_str(value, "attachment_id", where)}
    if kind == "tool_use":
        if nested:
            raise _fail(f"`{where}`: a tool_result holds text, image or audio blocks")
        return {
            "type": "tool_use",
            "tool_call_id": _get_str(value, "tool_call_id", where),
            "name": _get_str(value, "name", where),
            "input": value.get("input"),
        }
    # tool_result
    if nested:
        raise _fail(f"`{where}`: a tool_result cannot hold another tool_result")
    content = value.get("content", [])
    if content is None:
        content = []
    if not isinstance(content, list):
        raise _wrong_type(content, "a sequence", f"{where}.content")
    return {
        "type": "tool_result",
        "tool_call_id": _get_str(value, "tool_call_id", where),
        "content": [
            _decode_block(item, f"{where}.content[{index}]", nested=True)
            for index, item in enumerate(content)
        ],
    }


def _decode_message(value: Any, index: int) -> dict[str, Any]:
    where = f"messages[{index}]"
    if not isinstance(value, dict):
        raise _wrong_type(value, "a message", where)
    if "role" not in value:
        raise _fail(f"missing field `role` in `{where}`")
    role = value["role"]
    if not isinstance(role, str) or role not in _ROLES:
        raise _fail(
            f"{where}.role: unknown variant {json.dumps(role)}, "
            'expected one of "system", "user", "assistant"'
        )
    if "content" not in value:
        raise _fail(f"missing field `content` in `{where}`")
    content = value["content"]
    if not isinstance(content, list):
        raise _wrong_type(content, "a sequence of content blocks", f"{where}.content")
    return {
        "role": role,
        "content": [
            _decode_block(block, f"{where}.content[{b}]") for b, block in enumerate(content)
        ],
    }


def _decode_attachment(value: Any, index: int, *, inline: bool) -> AttachmentDecl:
    where = f"attachments[{index}]"
    if not isinstance(value, dict):
        raise _wrong_type(value, "an attachment", where)
    kind = _get_str(value, "kind", where)
    attachment_id = _get_str(value, "id", where, required=kind in _KNOWN_KINDS)
    data: bytes | None = None
    if inline and kind in _KNOWN_KINDS:
        text = _get_str(value, "bytes", where)
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _fail(f"`{where}.bytes` is not standard base64 with padding") from exc
    if kind == "image":
        return AttachmentDecl(
            "image",
            attachment_id,
            width=_get_u32(value, "width", where, required=True) or 0,
            height=_get_u32(value, "height", where, required=True) or 0,
            data=data,
        )
    if kind == "audio":
        rate = _get_u32(value, "sample_rate", where, required=True) or 0
        return AttachmentDecl("audio", attachment_id, sample_rate=rate, data=data)
    return AttachmentDecl(kind, attachment_id, data=data)


def _decode_tool(value: Any, index: int) -> ToolDecl:
    where = f"tools[{index}]"
    if not isinstance(value, dict):
        raise _wrong_type(value, "a tool", where)
    name = _get_str(value, "name", where)
    description = _get_str(value, "description", where)
    if "input_schema" not in value:
        raise _fail(f"missing field `input_schema` in `{where}`")
    return ToolDecl(name, description, value["input_schema"])


def decode_v2_request(payload: bytes, *, era: Era, length_prefixed: bool) -> V2Request:
    """Decode one request exactly as strictly as a daemon of ``era`` does (decode stage).

    ``length_prefixed``: the 0.4+ wire (``wire_version`` read, bytes as BLOBs); else the
    0.2–0.3 NDJSON wire (bytes inline as base64, ``bytes`` required on each attachment).
    Raises :class:`RequestDecodeError` (``decode: …``; answered with ``id ""``, then close).
    """
    era_features = features(era)
    if payload.startswith(b"\xef\xbb\xbf"):
        raise _fail("unexpected byte-order mark at line 1 column 1")
    if not payload.strip():
        raise _fail("EOF while parsing a value at line 1 column 0")
    raw = _load_json(payload)
    if not isinstance(raw, _JsonObject):
        raise _fail(f"invalid type: {_json_type(raw)}, expected a request object")
    if raw.repeated:
        raise _fail(f"duplicate field `{sorted(raw.repeated)[0]}`")
    if "id" in raw and raw["id"] is None:
        raise _wrong_type(None, "a string", "id")
    request_id = _get_str(raw, "id", "", required=False)
    if "messages" in raw and raw["messages"] is None:
        raise _wrong_type(None, "a sequence", "messages")
    messages = tuple(
        _decode_message(value, index)
        for index, value in enumerate(_get_list(raw, "messages", required=True))
    )
    wire_version = 0
    if length_prefixed:
        # serde's default: a missing wire_version reads as 0 (and is then refused).
        wire_version = _get_u32(raw, "wire_version", "", required=False) or 0
    attachments = tuple(
        _decode_attachment(value, index, inline=not length_prefixed)
        for index, value in enumerate(_get_list(raw, "attachments", required=False))
    )
    tools = tuple(
        _decode_tool(value, index)
        for index, value in enumerate(_get_list(raw, "tools", required=False))
    )
    tool_choice: str | None = None
    if era_features.tool_choice and raw.get("tool_choice") is not None:
        value = raw["tool_choice"]
        if not isinstance(value, str):
            raise _wrong_type(value, "a string", "tool_choice")
        tool_choice = value
    response_schema: Any = None
    has_response_format = False
    if era_features.response_format and length_prefixed and raw.get("response_format") is not None:
        response_format = raw["response_format"]
        if not isinstance(response_format, dict):
            raise _wrong_type(response_format, "a response format", "response_format")
        if response_format.get("type") != "json_schema":
            raise _fail(
                f"response_format.type: unknown variant {json.dumps(response_format.get('type'))},"
                ' expected "json_schema"'
            )
        if "schema" not in response_format:
            raise _fail("missing field `schema` in `response_format`")
        response_schema, has_response_format = response_format["schema"], True
    thinking = _get_bool(raw, "thinking") if era_features.thinking and length_prefixed else None
    _get_bool(raw, "stream")  # read (and type-checked) by serde, used by no code
    return V2Request(
        id=request_id,
        messages=messages,
        wire_version=wire_version,
        attachments=attachments,
        tools=tools,
        tool_choice=tool_choice,
        temperature=_get_f64(raw, "temperature"),
        top_p=_get_f64(raw, "top_p"),
        top_k=_get_u32(raw, "top_k", "", required=False),
        max_tokens=_get_u32(raw, "max_tokens", "", required=False),
        response_schema=response_schema,
        has_response_format=has_response_format,
        thinking=thinking,
    )


# --- version and blob stages (length-prefixed wire) -----------------------------------


def wire_version_refusal(request: V2Request) -> Refusal | None:
    if request.wire_version == WIRE_VERSION:
        return None
    return Refusal(
        "wire_version_unsupported",
        f"unsupported wire_version {request.wire_version}: this daemon speaks wire_version "
        f"{WIRE_VERSION}",
        close=True,
    )


def attachment_count_refusal(request: V2Request, era: Era) -> Refusal | None:
    count = len(request.attachments)
    if not features(era).attachment_limits or count <= MAX_ATTACHMENTS:
        return None
    return Refusal(
        "invalid_request",
        f"invalid request: request declares {count} attachments; at most {MAX_ATTACHMENTS} allowed",
        close=True,
    )


# --- resolve ----------------------------------------------------------------------------


def _an(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def resolve_problem(request: V2Request, era: Era) -> str | None:
    """The ``invalid request: …`` message for the first resolve failure, or None.

    Answered with the request's id; the connection stays open (§6).
    """
    if not request.messages:
        return "invalid request: messages must not be empty"
    for index, message in enumerate(request.messages):
        if not message["content"]:
            return f"invalid request: messages[{index}] has empty content"
    kinds: dict[str, str] = {}
    for index, attachment in enumerate(request.attachments):
        if attachment.kind not in _KNOWN_KINDS:
            return (
                f"invalid request: attachments[{index}] has unknown kind "
                f"{json.dumps(attachment.kind)}"
            )
        if not attachment.id:
            return f"invalid request: attachments[{index}] has an empty id"
        if attachment.id in kinds:
            return f"invalid request: duplicate attachment id {json.dumps(attachment.id)}"
        kinds[attachment.id] = attachment.kind
    for m, b, block in request.blocks():
        where = f"messages[{m}].content[{b}]"
        inner = [(where, block)]
        if block["type"] == "tool_result":
            inner += [(f"{where}.content[{i}]", item) for i, item in enumerate(block["content"])]
        for place, item in inner:
            kind = item["type"]
            if kind not in _KNOWN_BLOCKS:
                return (
                    f"invalid request: {place} uses unknown content-block type {json.dumps(kind)}"
                )
            if kind in _ATTACHMENT_BLOCKS:
                ref = item["attachment_id"]
                if ref not in kinds:
                    return (
                        f"invalid request: {place} references unknown attachment {json.dumps(ref)}"
                    )
                if kinds[ref] != kind:
                    return (
                        f"invalid request: {place} is {_an(kind)} block but attachment "
                        f"{json.dumps(ref)} is {_an(kinds[ref])}"
                    )
    names: set[str] = set()
    for tool in request.tools:
        if tool.name in names:
            return f"invalid request: duplicate tool name {json.dumps(tool.name)}"
        names.add(tool.name)
    if features(era).tool_choice and request.tool_choice is not None:
        if request.tool_choice not in TOOL_CHOICES:
            return (
                f"invalid request: unknown tool_choice {json.dumps(request.tool_choice)}; "
                "expected auto, required or none"
            )
        if not request.tools:
            return "invalid request: tool_choice needs a non-empty tools list"
    return None


# --- backend ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BackendLimits:
    """What the serving backend takes (its admin ``capabilities``)."""

    vision: bool = False
    audio: bool = False
    audio_sample_rate: int = 16_000


def backend_refusal(request: V2Request, era: Era, backend: BackendLimits) -> Refusal | None:
    """What the backend refuses to render (§6's ``backend`` row); the connection stays
    open. Checked after admission, as the daemon hands the request to the backend."""
    if features(era).tool_choice:
        if request.tool_choice is not None and request.has_response_format:
            return Refusal(
                "invalid_request", "render: response_format cannot be combined with tool_choice"
            )
        calls = {
            block["tool_call_id"] for _, _, block in request.blocks() if block["type"] == "tool_use"
        }
        for m, b, block in request.blocks():
            if block["type"] == "tool_result" and block["tool_call_id"] not in calls:
                return Refusal(
                    "invalid_request",
                    f"render: tool_result {json.dumps(block['tool_call_id'])} in "
                    f"messages[{m}].content[{b}] pairs with no tool_use in this request",
                )
    for attachment in request.attachments:
        name = json.dumps(attachment.id)
        if attachment.kind == "video":
            return Refusal("invalid_request", "attachment: video attachments are not supported")
        if attachment.kind == "image":
            if not backend.vision:
                return Refusal(
                    "attachment_unsupported", "attachment: this backend does not take images"
                )
            expected = attachment.width * attachment.height * 3
            size = len(attachment.data or b"")
            if size != expected:
                return Refusal(
                    "invalid_request",
                    f"attachment: image {name} is {attachment.width}x{attachment.height} RGB "
                    f"({expected} bytes), but {size} bytes arrived",
                )
        if attachment.kind == "audio":
            if not backend.audio:
                return Refusal(
                    "attachment_unsupported", "attachment: this backend does not take audio"
                )
            if attachment.sample_rate != backend.audio_sample_rate:
                return Refusal(
                    "invalid_request",
                    f"attachment: audio {name} is {attachment.sample_rate} Hz; this backend "
                    f"takes {backend.audio_sample_rate} Hz (the daemon does not resample)",
                )
            if len(attachment.data or b"") % 4:
                return Refusal(
                    "invalid_request",
                    f"attachment: audio {name} is not whole f32 samples "
                    f"({len(attachment.data or b'')} bytes)",
                )
    return None
