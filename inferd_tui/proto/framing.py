"""NDJSON framing, sans-I/O (protocol §3), and the parsers on top of it.

:class:`LineDecoder` takes bytes in any chunking and returns complete lines; it checks
the 64 MiB cap *before* growing its buffer. The ``parse_*`` functions turn one line into
a model; ``decode_request`` / ``request_problem`` mirror the daemon's two kinds of
rejection (§4) for the stand-in daemon and for checking a request before it is sent.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, TypeAdapter, ValidationError

from inferd_tui.proto.constants import MAX_FRAME_BYTES, VALID_IMAGE_TOKEN_BUDGETS
from inferd_tui.proto.errors import FrameTooLarge, MalformedFrame
from inferd_tui.proto.models import (
    AdminEvent,
    DoneFrame,
    ErrorFrame,
    Request,
    ResponseFrame,
    Role,
    StatusFrame,
    TokenFrame,
    UnknownFrame,
)
from inferd_tui.text_safety import without_lone_surrogates

_NEWLINE = b"\n"
_CR = b"\r"


class LineDecoder:
    """Split a byte stream into lines; tolerant of CRLF and any chunking.

    Raises :class:`FrameTooLarge` as soon as a line (excluding its ``\\n``) would exceed
    ``max_frame_bytes``; the decoder must then be discarded with its connection.
    """

    __slots__ = ("_buffer", "max_frame_bytes")

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self.max_frame_bytes = max_frame_bytes

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished line."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return the lines it completed (without ``\\n`` or a final ``\\r``)."""
        limit = self.max_frame_bytes
        buffer = self._buffer
        if _NEWLINE not in data:
            if len(buffer) + len(data) > limit:
                raise FrameTooLarge(len(buffer) + len(data), limit)
            buffer += data
            return []
        lines = data.split(_NEWLINE)
        tail = lines.pop()
        if buffer:
            if len(buffer) + len(lines[0]) > limit:
                raise FrameTooLarge(len(buffer) + len(lines[0]), limit)
            buffer += lines[0]
            lines[0] = bytes(buffer)
            buffer.clear()
        if len(data) > limit:  # only a chunk this big can hold an oversized line
            for line in lines:
                if len(line) > limit:
                    raise FrameTooLarge(len(line), limit)
        if len(tail) > limit:
            raise FrameTooLarge(len(tail), limit)
        buffer += tail
        return [line[:-1] if line.endswith(_CR) else line for line in lines]

    def finish(self) -> bytes | None:
        """At EOF: the unterminated final line, if any (the daemon accepts one, §3)."""
        if not self._buffer:
            return None
        line = bytes(self._buffer)
        self._buffer.clear()
        return line[:-1] if line.endswith(_CR) else line


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: A ``\\uD800``–``\\uDFFF`` escape: valid UTF-8 cannot hold a surrogate, so only an
#: escape can put one (alone, unpaired) in a decoded string.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def encode_line(obj: dict[str, Any], *, sort_keys: bool = False) -> bytes:
    """One compact JSON line, UTF-8, ``\\n``-terminated (§3).

    A lone surrogate (which UTF-8 cannot carry and the daemon would reject) is replaced
    by U+FFFD rather than failing the whole frame.
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    try:
        return text.encode("utf-8") + _NEWLINE
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8") + _NEWLINE


def encode_request(request: Request) -> bytes:
    return encode_line(request.wire_dict())


def encode_auth(key: str) -> bytes:
    """The TCP auth line (§7). The result holds the secret: never log it."""
    return encode_line({"type": "auth", "key": key})


# --- responses (client side) -----------------------------------------------------------

_KNOWN_RESPONSE_TYPES = frozenset({"token", "done", "error", "status"})


def _response_tag(value: Any) -> str:
    frame_type = value.get("type") if isinstance(value, dict) else None
    return frame_type if frame_type in _KNOWN_RESPONSE_TYPES else "unknown"


_KnownFrame = Annotated[
    Annotated[TokenFrame, Tag("token")]
    | Annotated[DoneFrame, Tag("done")]
    | Annotated[ErrorFrame, Tag("error")]
    | Annotated[StatusFrame, Tag("status")]
    | Annotated[dict[str, Any], Tag("unknown")],
    Discriminator(_response_tag),
]
_response_adapter: TypeAdapter[Any] = TypeAdapter(_KnownFrame, config=ConfigDict(defer_build=True))


def _describe(line: bytes) -> str:
    shown = line[:80].decode("utf-8", "replace")
    return shown + ("…" if len(line) > 80 else "")


def parse_response(line: bytes) -> ResponseFrame:
    """One line from the inference socket → a frame model.

    An unknown ``type`` becomes :class:`UnknownFrame` (kept, non-terminal). Anything that
    is not a JSON object with the fields its ``type`` needs raises :class:`MalformedFrame`.
    A lone surrogate escape (valid JSON, but no text; a real daemon never sends one) is
    read as U+FFFD, so one bad character does not cost the whole answer.
    """
    try:
        frame = _response_adapter.validate_json(line)
    except ValidationError as exc:
        if not _SURROGATE_ESCAPE.search(line):
            raise _not_a_frame(line, exc) from exc
        # The fast parser refuses lone surrogates outright; json keeps them to replace.
        try:
            frame = _response_adapter.validate_python(without_lone_surrogates(json.loads(line)))
        except ValidationError as still_bad:  # what else is wrong with it
            raise _not_a_frame(line, still_bad) from still_bad
        except (ValueError, RecursionError) as not_json:
            raise _not_a_frame(line, exc) from not_json
    if isinstance(frame, dict):
        return UnknownFrame(type=str(frame.get("type", "")), raw=frame)
    result: ResponseFrame = frame
    return result


def _not_a_frame(line: bytes, exc: ValidationError) -> MalformedFrame:
    return MalformedFrame(
        f"the daemon sent a line that is not a protocol v1 frame: {_describe(line)!r} "
        f"({_first_error(exc)})",
        line=line,
    )


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function"))
    return f"{where}: {error['msg']}" if where else error["msg"]


# --- admin events ----------------------------------------------------------------------


def parse_admin_event(line: bytes) -> AdminEvent:
    """One admin line → :class:`AdminEvent`. Unknown statuses, phases and keys are kept;
    a known key with an unexpected type is moved to ``invalid_keys`` instead of failing;
    a lone surrogate escape becomes U+FFFD (such a string could not even be printed)."""
    try:
        raw = json.loads(line)
    # RecursionError: nesting deeper than the parser follows. Still just one bad line.
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedFrame(
            f"the admin socket sent a line that is not JSON: {_describe(line)!r}", line=line
        ) from exc
    if not isinstance(raw, dict):
        raise MalformedFrame(
            f"the admin socket sent a line that is not a JSON object: {_describe(line)!r}",
            line=line,
        )
    if _SURROGATE_ESCAPE.search(line):  # U+FFFD for a lone surrogate, as in responses
        raw = without_lone_surrogates(raw)
    try:
        return AdminEvent.model_validate(raw)
    except ValidationError as exc:
        bad_keys = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        invalid = {key: raw.pop(key) for key in bad_keys if key in raw}
        try:
            return AdminEvent.model_validate({**raw, "invalid_keys": invalid})
        except ValidationError as still_bad:  # pragma: no cover - only envelope keys left
            raise MalformedFrame(
                f"the admin socket sent an unreadable event: {_describe(line)!r}", line=line
            ) from still_bad


def encode_admin_event(event: dict[str, Any]) -> bytes:
    """Admin frames are written with keys in alphabetical order, like the daemon (§8)."""
    return encode_line(event, sort_keys=True)


# --- requests (daemon side) ------------------------------------------------------------


class RequestDecodeError(ValueError):
    """The daemon's *decode failure* (§4): answered with ``id:""`` and a close."""


class _StrictRequest(BaseModel):
    """The shape the daemon's decoder accepts: strict types, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", defer_build=True)

    id: str = ""
    messages: list[dict[str, Any]]
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    stream: bool | None = None
    image_token_budget: int | None = None
    grammar: str | None = None


_ROLES = frozenset(role.value for role in Role)
_U32_FIELDS = ("top_k", "max_tokens", "image_token_budget")
_NUMBER_FIELDS = ("temperature", "top_p", *_U32_FIELDS)
#: More digits than any finite number a float can hold.
_MAX_NUMBER_DIGITS = 309
#: The fields the daemon's structs declare: serde refuses one given twice, and a lone
#: surrogate in any string it reads; it skips unknown fields without looking inside.
_REQUEST_FIELDS = frozenset(_StrictRequest.model_fields)
_MESSAGE_FIELDS = frozenset({"role", "content"})


class _NotSerdeJson(ValueError):
    """Text Python's ``json`` accepts but serde_json (the daemon's parser) rejects."""


class _OutOfRange:
    """A number too large for serde_json: an error in a field the daemon reads, but fine
    in an unknown one (serde skips those without converting their numbers)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text if len(text) <= 20 else f"{text[:20]}… ({len(text):,} digits)"


class _JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers the keys given more than once."""

    __slots__ = ("repeated",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.repeated: frozenset[str] = frozenset()
        if len(self) != len(pairs):
            counts = Counter(key for key, _ in pairs)
            self.repeated = frozenset(key for key, count in counts.items() if count > 1)


def _reject_constant(name: str) -> Any:
    raise _NotSerdeJson(f"{name} is not a JSON value")


def _float_or_out_of_range(text: str) -> float | _OutOfRange:
    value = float(text)
    return _OutOfRange(text) if math.isinf(value) else value


def _int_or_out_of_range(text: str) -> int | _OutOfRange:
    # Checked before int(), which refuses over 4,300 digits with a plain ValueError.
    return _OutOfRange(text) if len(text.lstrip("-")) > _MAX_NUMBER_DIGITS else int(text)


def _load_json(line: bytes) -> Any:
    """``json.loads`` that refuses what serde_json refuses: ``NaN``/``Infinity``, and
    nesting deeper than Python's parser can follow.

    The daemon skips an unknown field however deeply it nests; Python's recursive parser
    cannot, so such a line is a decode error here (the one place the stand-in is stricter).
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestDecodeError(f"decode: invalid UTF-8 at byte {exc.start}") from exc
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_float_or_out_of_range,
            parse_int=_int_or_out_of_range,
            object_pairs_hook=_JsonObject,
        )
    except json.JSONDecodeError as exc:
        raise RequestDecodeError(
            f"decode: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except _NotSerdeJson as exc:
        raise RequestDecodeError(f"decode: {exc}") from exc
    except RecursionError as exc:
        raise RequestDecodeError("decode: recursion limit exceeded") from exc


def _check_no_repeats(obj: _JsonObject, fields: frozenset[str], where: str = "") -> None:
    repeated = sorted(obj.repeated & fields)
    if repeated:
        raise RequestDecodeError(f"decode: duplicate field `{repeated[0]}`{where}")


def _check_no_lone_surrogates(raw: _JsonObject, messages: list[_JsonObject]) -> None:
    """What a ``\\ud800`` escape decodes to: fatal in every key and every string field
    the daemon reads (an unknown role is refused already)."""
    texts = [(key, f"key {json.dumps(key)}") for key in raw]
    texts += [(raw[name], f"`{name}`") for name in ("id", "grammar") if name in raw]
    for index, message in enumerate(messages):
        texts += [(key, f"messages[{index}] key {json.dumps(key)}") for key in message]
        texts.append((message["content"], f"messages[{index}].content"))
    for text, where in texts:
        if _LONE_SURROGATE.search(text):
            raise RequestDecodeError(f"decode: lone surrogate escape in {where}")


def decode_request(line: bytes) -> Request:
    """Decode a request line exactly as strictly as the daemon does.

    Raises :class:`RequestDecodeError` with a ``decode: …`` message for every rejection
    listed in §11 (not JSON, blank, BOM, two objects on a line, wrong types, unknown or
    miscased role, array content, missing/null ``messages``, null ``id``/``grammar``,
    negative integers), and for what serde_json refuses but Python's ``json`` accepts:
    ``NaN``/``Infinity``; in the fields the daemon reads, numbers out of range, lone
    surrogate escapes, and a field given twice.
    """
    if line.startswith(b"\xef\xbb\xbf"):
        raise RequestDecodeError("decode: unexpected byte-order mark at line 1 column 1")
    if not line.strip():
        raise RequestDecodeError("decode: EOF while parsing a value at line 1 column 0")
    raw = _load_json(line)
    if not isinstance(raw, _JsonObject):  # every JSON object decodes to one
        raise RequestDecodeError("decode: invalid type: expected a JSON object")
    _check_no_repeats(raw, _REQUEST_FIELDS)
    for name in _NUMBER_FIELDS:
        value = raw.get(name)
        if isinstance(value, _OutOfRange):
            raise RequestDecodeError(f"decode: number out of range: {value.text} for `{name}`")
    for never_null in ("id", "grammar", "messages"):
        if never_null in raw and raw[never_null] is None:
            raise RequestDecodeError(
                f"decode: invalid type: null, expected a string for `{never_null}`"
                if never_null != "messages"
                else "decode: invalid type: null, expected a sequence"
            )
    try:
        shaped = _StrictRequest.model_validate(raw)
    except ValidationError as exc:
        raise RequestDecodeError(f"decode: {_first_error(exc)}") from exc
    for field in _U32_FIELDS:
        value = getattr(shaped, field)
        if value is not None and not 0 <= value < 2**32:
            raise RequestDecodeError(
                f"decode: invalid value: integer `{value}`, expected u32 for `{field}`"
            )
    # The objects as parsed: the model's copies forget which keys were repeated.
    raw_messages: list[_JsonObject] = raw["messages"]
    messages = []
    for index, message in enumerate(raw_messages):
        _check_no_repeats(message, _MESSAGE_FIELDS, f" in messages[{index}]")
        role, content = message.get("role"), message.get("content")
        if not isinstance(role, str) or role not in _ROLES:
            raise RequestDecodeError(
                f"decode: messages[{index}].role: unknown variant {json.dumps(role)}, "
                'expected one of "system", "user", "assistant"'
            )
        if not isinstance(content, str):
            raise RequestDecodeError(
                f"decode: messages[{index}].content: invalid type, expected a string"
            )
        messages.append({"role": role, "content": content})
    if _SURROGATE_ESCAPE.search(line):  # only an escape can make a lone surrogate
        _check_no_lone_surrogates(raw, raw_messages)
    return Request.model_validate({**shaped.model_dump(), "messages": messages})


def request_problem(request: Request) -> str | None:
    """The daemon's *validation failure* message for ``request`` (§4), or ``None``.

    The daemon answers these with the request's id and keeps the connection open.
    """
    if not request.messages:
        return "invalid request: messages must not be empty"
    budget = request.image_token_budget
    if budget is not None and budget not in VALID_IMAGE_TOKEN_BUDGETS:
        allowed = ", ".join(str(value) for value in VALID_IMAGE_TOKEN_BUDGETS)
        return f"invalid request: image_token_budget {budget} not in [{allowed}]"
    return None
