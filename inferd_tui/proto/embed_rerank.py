"""Embed and rerank on their NDJSON sockets (protocol-v2.md §8). Pure: no sockets.

Both surfaces frame like v1 (one compact JSON object per line, the 64 MiB line cap of
:class:`~inferd_tui.proto.framing.LineDecoder`), carry no ``wire_version``, answer each
request with exactly one terminal frame and keep the connection for the next request.

- Embed (0.2+, ``infer.embed.sock``): ``{"id","input":[str,…],"dimensions"?,"task"?}`` →
  ``{"type":"embeddings","id","embeddings":[[f32,…],…],"dimensions","model",
  "usage":{"input_tokens"},"backend"}``.
- Rerank (0.6.2+, ``infer.rerank.sock``): ``{"id","query","documents":[str,…],"top_n"?}``
  → ``{"type":"rerank","id","results":[{"index","score"},…],"model",
  "usage":{"input_tokens"},"backend"}``, results by score descending.

Failures are the v1 ``error`` frame (:class:`~inferd_tui.proto.models.ErrorFrame`), with
two more codes, ``embed_unsupported`` and ``rerank_unsupported``.

The daemon's two kinds of rejection, mirrored by ``decode_*_request`` (a *decode* error:
``decode: …``, id ``""``, connection closed) and ``*_request_problem`` (a *resolve*
error: ``invalid request: …``, the request's id, connection kept). The resolve checks and
their wording are the daemon's (``inferd-proto``'s ``EmbedRequest::resolve`` and
``RerankRequest::resolve``); clients run the same checks before sending.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
)

from inferd_tui.proto.errors import MalformedFrame

# The v1 decoder's serde_json-faithful JSON reading (NaN refused, repeated keys and
# out-of-range numbers remembered): these surfaces are read by the same serde_json.
from inferd_tui.proto.framing import (
    RequestDecodeError,
    _JsonObject,
    _load_json,
    _OutOfRange,
    encode_line,
)
from inferd_tui.proto.models import U32_MAX, ErrorFrame, UnknownFrame

#: A rerank request carries at most this many documents (each costs a forward pass).
MAX_RERANK_DOCUMENTS: Final = 256
#: …and at most this many UTF-8 bytes of query plus documents.
MAX_RERANK_TOTAL_BYTES: Final = 8 * 1024 * 1024

#: Error codes these surfaces add to §5's.
EMBED_UNSUPPORTED: Final = "embed_unsupported"
RERANK_UNSUPPORTED: Final = "rerank_unsupported"


class EmbedTask(StrEnum):
    """The task hints an embed request may carry; any other value is refused."""

    RETRIEVAL_QUERY = "retrieval_query"
    RETRIEVAL_DOCUMENT = "retrieval_document"
    SIMILARITY = "similarity"
    CLASSIFICATION = "classification"
    CLUSTERING = "clustering"
    QUESTION_ANSWERING = "question_answering"
    FACT_VERIFICATION = "fact_verification"
    CODE_RETRIEVAL_QUERY = "code_retrieval_query"


EMBED_TASKS: Final = tuple(task.value for task in EmbedTask)


# --- requests ---------------------------------------------------------------------------


class EmbedRequest(BaseModel):
    """An embed request. ``None`` fields are omitted on the wire; unknown keys are kept
    (a daemon ignores them). ``task`` keeps an unknown string so that the daemon side can
    refuse it as the real daemon does: a resolve error, not a decode error."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    id: str = ""
    input: list[str]
    dimensions: int | None = None
    task: EmbedTask | str | None = None

    def wire_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class RerankRequest(BaseModel):
    """A rerank request; ``top_n`` omitted means every document is returned."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    id: str = ""
    query: str
    documents: list[str]
    top_n: int | None = None

    def wire_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def encode_embed_request(request: EmbedRequest) -> bytes:
    return encode_line(request.wire_dict())


def encode_rerank_request(request: RerankRequest) -> bytes:
    return encode_line(request.wire_dict())


def embed_request_problem(request: EmbedRequest) -> str | None:
    """The daemon's resolve error for ``request`` (id echoed, connection kept), or None.

    ``dimensions`` is not checked here: each backend has its own supported set.
    """
    if not request.input:
        return "invalid request: input must not be empty"
    for index, text in enumerate(request.input):
        if not text:
            return f"invalid request: input[{index}] must not be empty"
    if request.task is not None and request.task not in EMBED_TASKS:
        return "invalid request: task uses an unknown variant"
    return None


def rerank_request_problem(request: RerankRequest) -> str | None:
    """The daemon's resolve error for ``request`` (id echoed, connection kept), or None.

    A ``top_n`` above the number of documents is fine: it means all of them.
    """
    if not request.query:
        return "invalid request: query must not be empty"
    documents = request.documents
    if not documents:
        return "invalid request: documents must not be empty"
    if len(documents) > MAX_RERANK_DOCUMENTS:
        return (
            f"invalid request: request carries {len(documents)} documents; "
            f"at most {MAX_RERANK_DOCUMENTS} allowed"
        )
    for index, document in enumerate(documents):
        if not document:
            return f"invalid request: documents[{index}] must not be empty"
    total = len(request.query.encode("utf-8", "surrogatepass"))
    total += sum(len(document.encode("utf-8", "surrogatepass")) for document in documents)
    if total > MAX_RERANK_TOTAL_BYTES:
        return (
            f"invalid request: request carries {total} bytes of query + documents; "
            f"at most {MAX_RERANK_TOTAL_BYTES} allowed"
        )
    if request.top_n == 0:
        return "invalid request: top_n must be greater than zero when set"
    return None


# --- requests, daemon side --------------------------------------------------------------

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _StrictEmbed(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", defer_build=True)

    id: str = ""
    input: list[str]
    dimensions: int | None = None
    task: str | None = None


class _StrictRerank(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", defer_build=True)

    id: str = ""
    query: str
    documents: list[str]
    top_n: int | None = None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _decode_object(
    line: bytes, shape: type[BaseModel], u32_fields: tuple[str, ...], never_null: tuple[str, ...]
) -> dict[str, Any]:
    """``line`` as serde_json reads it into the surface's struct, or RequestDecodeError."""
    if line.startswith(b"\xef\xbb\xbf"):
        raise RequestDecodeError("decode: unexpected byte-order mark at line 1 column 1")
    if not line.strip():
        raise RequestDecodeError("decode: EOF while parsing a value at line 1 column 0")
    raw = _load_json(line)
    if not isinstance(raw, _JsonObject):  # every JSON object decodes to one
        raise RequestDecodeError("decode: invalid type: expected a JSON object")
    fields = frozenset(shape.model_fields)
    repeated = sorted(raw.repeated & fields)
    if repeated:
        raise RequestDecodeError(f"decode: duplicate field `{repeated[0]}`")
    for name in u32_fields:
        value = raw.get(name)
        if isinstance(value, _OutOfRange):
            raise RequestDecodeError(f"decode: number out of range: {value.text} for `{name}`")
    for name in never_null:  # serde: a String or Vec field takes no null (an Option does)
        if name in raw and raw[name] is None:
            raise RequestDecodeError(f"decode: invalid type: null, expected `{name}`")
    try:
        shaped = shape.model_validate(raw)
    except ValidationError as exc:
        raise RequestDecodeError(f"decode: {_first_error(exc)}") from exc
    values = shaped.model_dump()
    for name in u32_fields:
        value = values[name]
        if value is not None and not 0 <= value <= U32_MAX:
            raise RequestDecodeError(
                f"decode: invalid value: integer `{value}`, expected u32 for `{name}`"
            )
    # serde_json refuses a lone surrogate escape in every string it reads into a String.
    for name, value in values.items():
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if isinstance(text, str) and _LONE_SURROGATE.search(text):
                raise RequestDecodeError(f"decode: lone surrogate escape in `{name}`")
    # Unknown keys are ignored by the daemon; kept here for whoever looks.
    extra = {key: value for key, value in raw.items() if key not in fields}
    return {**extra, **values}


def decode_embed_request(line: bytes) -> EmbedRequest:
    """An embed request line read as strictly as the daemon reads it.

    Raises :class:`RequestDecodeError` (``decode: …``) for what is not JSON, a missing or
    null ``input``/``id``, a non-string entry, a ``dimensions`` that is not a u32, a
    repeated field. An unknown ``task`` decodes (serde's ``Other``): refused at resolve.
    """
    values = _decode_object(line, _StrictEmbed, ("dimensions",), ("id", "input"))
    return EmbedRequest.model_validate(values)


def decode_rerank_request(line: bytes) -> RerankRequest:
    """A rerank request line read as strictly as the daemon reads it (see
    :func:`decode_embed_request`); ``top_n`` must be a u32."""
    values = _decode_object(line, _StrictRerank, ("top_n",), ("id", "query", "documents"))
    return RerankRequest.model_validate(values)


# --- responses --------------------------------------------------------------------------


class InputUsage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    input_tokens: int = 0


class EmbedResponse(BaseModel):
    """A successful embed answer: one vector per input, in input order."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    type: Literal["embeddings"] = "embeddings"
    id: str = ""
    embeddings: list[list[float]]
    dimensions: int
    model: str = ""
    usage: InputUsage = InputUsage()
    backend: str = ""


class RerankScore(BaseModel):
    """One scored document: its position in the request's ``documents``, its score
    (higher is more relevant; not normalised, not comparable across models)."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    index: int = Field(ge=0)
    score: float


class RerankResponse(BaseModel):
    """A successful rerank answer: ``results`` by score descending, cut to ``top_n``."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    type: Literal["rerank"] = "rerank"
    id: str = ""
    results: list[RerankScore]
    model: str = ""
    usage: InputUsage = InputUsage()
    backend: str = ""


EmbedFrame = EmbedResponse | ErrorFrame | UnknownFrame
RerankFrame = RerankResponse | ErrorFrame | UnknownFrame


def _tagger(success: str) -> Any:
    def tag(value: Any) -> str:
        frame_type = value.get("type") if isinstance(value, dict) else None
        return frame_type if frame_type in (success, "error") else "unknown"

    return tag


_embed_adapter: TypeAdapter[Any] = TypeAdapter(
    Annotated[
        Annotated[EmbedResponse, Tag("embeddings")]
        | Annotated[ErrorFrame, Tag("error")]
        | Annotated[dict[str, Any], Tag("unknown")],
        Discriminator(_tagger("embeddings")),
    ],
    config=ConfigDict(defer_build=True),
)
_rerank_adapter: TypeAdapter[Any] = TypeAdapter(
    Annotated[
        Annotated[RerankResponse, Tag("rerank")]
        | Annotated[ErrorFrame, Tag("error")]
        | Annotated[dict[str, Any], Tag("unknown")],
        Discriminator(_tagger("rerank")),
    ],
    config=ConfigDict(defer_build=True),
)


def _describe(line: bytes) -> str:
    shown = line[:80].decode("utf-8", "replace")
    return shown + ("…" if len(line) > 80 else "")


def _parse(line: bytes, adapter: TypeAdapter[Any], surface: str) -> tuple[Any, dict[str, Any]]:
    try:
        raw = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise MalformedFrame(
            f"the {surface} socket sent a line that is not JSON: {_describe(line)!r}",
            line=line,
            protocol=f"the {surface} protocol",
        ) from exc
    if not isinstance(raw, dict):
        raise MalformedFrame(
            f"the {surface} socket sent a line that is not a JSON object: {_describe(line)!r}",
            line=line,
            protocol=f"the {surface} protocol",
        )
    try:
        frame = adapter.validate_python(raw)
    except ValidationError as exc:
        raise MalformedFrame(
            f"the {surface} socket sent a frame this client cannot read: {_describe(line)!r} "
            f"({_first_error(exc)})",
            line=line,
            protocol=f"the {surface} protocol",
        ) from exc
    if isinstance(frame, dict):
        frame = UnknownFrame(type=str(frame.get("type", "")), raw=frame)
    return frame, raw


def parse_embed_response(line: bytes) -> tuple[EmbedFrame, dict[str, Any]]:
    """One line from the embed socket → (frame, the JSON object as received).

    An unknown ``type`` is an :class:`UnknownFrame` (not terminal: skip it); anything
    that is not a frame raises :class:`MalformedFrame`.
    """
    frame, raw = _parse(line, _embed_adapter, "embed")
    result: EmbedFrame = frame
    return result, raw


def parse_rerank_response(line: bytes) -> tuple[RerankFrame, dict[str, Any]]:
    """One line from the rerank socket → (frame, the JSON object as received)."""
    frame, raw = _parse(line, _rerank_adapter, "rerank")
    result: RerankFrame = frame
    return result, raw
