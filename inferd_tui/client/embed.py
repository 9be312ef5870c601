"""Embed and rerank clients for their NDJSON sockets (protocol-v2.md §8). anyio only.

::

    async with EmbedClient.from_resolution(resolve_endpoints()) as client:
        result = await client.embed(["hello", "world"], task="similarity")
        print(result.dimensions, result.embeddings[0][:4])

One connection per client, kept between requests (the surfaces answer each request with
one terminal frame and read the next) and dialled again after the daemon closed it: a
decode error or ``frame_too_large`` (which the daemon follows with a close), EOF, any
error or cancel mid-request. A reused connection that turns out closed before a byte of
the answer is redialled once, transparently (embed and rerank have no side effects).
Concurrent calls on one client take turns: one request in flight per connection.

Errors are the project's one tree: :class:`InvalidRequest` (checked before sending, with
the daemon's own rules and words; nothing sent), :class:`ConnectError` (no socket: its
hint names the path and the daemon flag that serves it), :class:`DaemonError` (an error
frame: ``code`` and ``message`` as the daemon sent them), :class:`UnexpectedEof`,
:class:`MalformedFrame` / :class:`FrameTooLarge` (the connection is closed), and a
:class:`ProtocolError` for an answer to another request's id.

Where the sockets are: ``infer.embed.sock`` / ``infer.rerank.sock`` beside the generation
socket (:func:`embed_socket_path`, :func:`rerank_socket_path`).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar

import anyio
from anyio.abc import ByteStream

from inferd_tui.client.endpoints import Endpoint, EndpointResolution
from inferd_tui.client.transport import StreamFactory, connect
from inferd_tui.proto.constants import MAX_FRAME_BYTES
from inferd_tui.proto.embed_rerank import (
    EmbedRequest,
    EmbedResponse,
    EmbedTask,
    RerankRequest,
    RerankResponse,
    RerankScore,
    embed_request_problem,
    encode_embed_request,
    encode_rerank_request,
    parse_embed_response,
    parse_rerank_response,
    rerank_request_problem,
)
from inferd_tui.proto.eras import EMBED_SOCKET_NAME, RERANK_SOCKET_NAME
from inferd_tui.proto.errors import (
    ConnectError,
    DaemonError,
    FrameTooLarge,
    InvalidRequest,
    MalformedFrame,
    ProtocolError,
    UnexpectedEof,
)
from inferd_tui.proto.framing import LineDecoder
from inferd_tui.proto.models import U32_MAX, ErrorFrame, UnknownFrame

Surface = Literal["embed", "rerank"]

#: Read size, as for generation.
CHUNK_SIZE = 262_144

_CLOSED = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)

#: What serves each surface, for the hint when its socket is missing.
_SERVED_BY: dict[Surface, str] = {
    "embed": "inferd 0.2 or later started with --embed",
    "rerank": "inferd 0.6.2 or later started with --rerank",
}


# --- where the sockets are (pure) ----------------------------------------------------------


def _beside_generation(resolution: EndpointResolution, name: str) -> Path | None:
    """``name`` in the directory of the resolved generation socket.

    Over TCP there is no generation socket file: the admin socket's directory is the
    daemon's run directory, where every socket of one daemon lives.
    """
    inference = resolution.inference
    if inference.kind == "unix" and inference.path is not None:
        return inference.path.parent / name
    if resolution.admin is not None:
        return resolution.admin.parent / name
    return None


def embed_socket_path(
    resolution: EndpointResolution, override: str | Path | None = None
) -> Path | None:
    """``override`` if given (flag or config), else ``infer.embed.sock`` beside the
    generation socket; None only when neither socket has a local directory."""
    if override is not None:
        return Path(override).expanduser()
    return _beside_generation(resolution, EMBED_SOCKET_NAME)


def rerank_socket_path(
    resolution: EndpointResolution, override: str | Path | None = None
) -> Path | None:
    """As :func:`embed_socket_path`, for ``infer.rerank.sock``."""
    if override is not None:
        return Path(override).expanduser()
    return _beside_generation(resolution, RERANK_SOCKET_NAME)


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbedResult:
    """One vector per input, in input order, and the daemon's whole answer in ``raw``."""

    embeddings: list[list[float]]
    dimensions: int
    model: str
    input_tokens: int
    backend: str
    request_id: str
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_frame(cls, frame: EmbedResponse, raw: dict[str, Any]) -> EmbedResult:
        return cls(
            embeddings=frame.embeddings,
            dimensions=frame.dimensions,
            model=frame.model,
            input_tokens=frame.usage.input_tokens,
            backend=frame.backend,
            request_id=frame.id,
            raw=raw,
        )


@dataclass(frozen=True)
class RerankResult:
    """Scored documents by score descending (``index`` points into the documents sent),
    and the daemon's whole answer in ``raw``."""

    results: list[RerankScore]
    model: str
    input_tokens: int
    backend: str
    request_id: str
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_frame(cls, frame: RerankResponse, raw: dict[str, Any]) -> RerankResult:
        return cls(
            results=frame.results,
            model=frame.model,
            input_tokens=frame.usage.input_tokens,
            backend=frame.backend,
            request_id=frame.id,
            raw=raw,
        )


# --- the clients ---------------------------------------------------------------------------

_Answer = TypeVar("_Answer", EmbedResponse, RerankResponse)


class _Connection:
    __slots__ = ("decoder", "requests", "stream")

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.decoder = LineDecoder()
        self.requests = 0


class _EofBeforeAnswer(Exception):
    """EOF with not a byte of the answer: ``cut_short`` when a partial line was left."""

    def __init__(self, *, cut_short: bool) -> None:
        super().__init__()
        self.cut_short = cut_short


class _SurfaceClient(Generic[_Answer]):
    """One NDJSON request/answer surface over a reusable connection."""

    surface: Surface

    def __init__(
        self, endpoint: Endpoint | str | Path, *, stream_factory: StreamFactory | None = None
    ) -> None:
        self.endpoint = endpoint if isinstance(endpoint, Endpoint) else Endpoint.unix(endpoint)
        self._factory: StreamFactory = stream_factory or self._dial
        self._conn: _Connection | None = None
        self._lock = anyio.Lock()
        self._id_prefix = f"tui-{self.surface}-{secrets.token_hex(4)}"
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address!r}, connected={self.connected})"

    @classmethod
    def from_resolution(
        cls,
        resolution: EndpointResolution,
        *,
        socket: str | Path | None = None,
        stream_factory: StreamFactory | None = None,
    ) -> Self:
        """The client for this surface's socket: ``socket`` (flag or config) if given,
        else beside the generation socket."""
        find = embed_socket_path if cls.surface == "embed" else rerank_socket_path
        path = find(resolution, socket)
        if path is None:  # pragma: no cover - the admin path is always resolved
            raise ValueError(f"no directory to find the {cls.surface} socket in: give its path")
        return cls(path, stream_factory=stream_factory)

    @property
    def address(self) -> str:
        return self.endpoint.display

    @property
    def connected(self) -> bool:
        """Whether a connection is open (the daemon may have closed it since)."""
        return self._conn is not None

    def new_request_id(self) -> str:
        return f"{self._id_prefix}-{next(self._ids)}"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection; the client stays usable (the next request redials)."""
        await self._discard()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with anyio.CancelScope(shield=True), contextlib.suppress(*_CLOSED):
                await conn.stream.aclose()

    async def _dial(self) -> ByteStream:
        try:
            return await connect(self.endpoint)
        except ConnectError as exc:
            if self.endpoint.kind == "unix" and _root_errno(exc) == errno.ENOENT:
                raise ConnectError(
                    f"No {self.surface} socket at {self.address} — it is served by "
                    f"{_SERVED_BY[self.surface]}, beside its generation socket "
                    f"(or point --{self.surface}-socket at it).",
                    title=f"no {self.surface} socket",
                    address=exc.address,
                    transient=exc.transient,  # the daemon may still be loading
                ) from exc
            raise

    async def _exchange(
        self, line: bytes, request_id: str, parse: Callable[[bytes], tuple[Any, dict[str, Any]]]
    ) -> tuple[_Answer, dict[str, Any]]:
        """Send one request line; return its answer frame (an error frame raises)."""
        if len(line) - 1 > MAX_FRAME_BYTES:
            raise InvalidRequest(
                f"the {self.surface} request is {len(line) - 1:,} bytes, over the daemon's "
                f"{MAX_FRAME_BYTES:,}-byte line cap; send fewer or shorter texts "
                "(the request was not sent)"
            )
        async with self._lock:
            for attempt in (1, 2):
                if self._conn is None:
                    self._conn = _Connection(await self._factory())
                conn = self._conn
                reused = conn.requests > 0
                try:
                    await conn.stream.send(line)
                    conn.requests += 1
                    return await self._read_answer(conn, request_id, parse)
                except _CLOSED as exc:  # the send failed: nothing was answered
                    await self._discard()
                    if reused and attempt == 1:
                        continue
                    raise UnexpectedEof(
                        f"the daemon at {self.address} closed the connection before the "
                        "request could be sent; retry in a moment",
                        request_id=request_id,
                    ) from exc
                except _EofBeforeAnswer as exc:
                    await self._discard()
                    if reused and attempt == 1 and not exc.cut_short:
                        continue
                    where = " in the middle of a frame" if exc.cut_short else ""
                    raise UnexpectedEof(
                        f"the daemon at {self.address} closed the connection{where} before "
                        f"answering the {self.surface} request; retry in a moment",
                        request_id=request_id,
                    ) from None
                except FrameTooLarge as exc:
                    await self._discard()
                    raise FrameTooLarge(
                        exc.size, exc.limit, address=self.address, unit="frame"
                    ) from exc
                except MalformedFrame as exc:
                    await self._discard()
                    raise MalformedFrame(
                        exc.hint, line=exc.line, address=self.address, protocol=exc.protocol
                    ) from exc
                except DaemonError:
                    raise  # the connection was discarded already if the daemon closes it
                except BaseException:  # a cancel, a stray frame: the connection is spent
                    await self._discard()
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read_answer(
        self,
        conn: _Connection,
        request_id: str,
        parse: Callable[[bytes], tuple[Any, dict[str, Any]]],
    ) -> tuple[_Answer, dict[str, Any]]:
        at_eof = False
        while not at_eof:
            try:
                lines = conn.decoder.feed(await conn.stream.receive(CHUNK_SIZE))
            except _CLOSED:
                # The daemon accepts an unterminated last line (§3); so does this client.
                at_eof = True
                tail = conn.decoder.finish()
                lines = [tail] if tail is not None else []
            for index, line in enumerate(lines):
                if not line:
                    continue
                try:
                    frame, raw = parse(line)
                except MalformedFrame:
                    if at_eof:  # the daemon died mid-write: an interrupted answer
                        raise _EofBeforeAnswer(cut_short=True) from None
                    raise
                if isinstance(frame, UnknownFrame):
                    continue  # a frame type from a later release: not the answer
                if frame.id != request_id and not (isinstance(frame, ErrorFrame) and not frame.id):
                    raise ProtocolError(
                        f"the daemon at {self.address} answered request {_shown(frame.id)} "
                        f"while this client waited for {_shown(request_id)}; the connection "
                        "was closed and the next request starts on a new one",
                        address=self.address,
                        title="frame for another request",
                    )
                leftover = index + 1 < len(lines) or conn.decoder.buffered > 0
                if isinstance(frame, ErrorFrame):
                    # "" is the id of a decode error; it and frame_too_large end the
                    # connection on the daemon's side.
                    if leftover or at_eof or not frame.id or frame.code == "frame_too_large":
                        await self._discard()
                    raise DaemonError(
                        str(frame.code), frame.message, request_id=frame.id, address=self.address
                    )
                if leftover or at_eof:  # bytes that belong to no request: start afresh
                    await self._discard()
                answer: _Answer = frame
                return answer, raw
        raise _EofBeforeAnswer(cut_short=False)


class EmbedClient(_SurfaceClient[EmbedResponse]):
    """Embeddings from ``infer.embed.sock`` (inferd 0.2+ started with ``--embed``)."""

    surface: Surface = "embed"

    async def embed(
        self,
        texts: Sequence[str],
        *,
        dimensions: int | None = None,
        task: EmbedTask | str | None = None,
        request_id: str | None = None,
    ) -> EmbedResult:
        """One vector per text. Raises :class:`InvalidRequest` before sending for what
        every daemon refuses (no texts, an empty text, an unknown task, ``dimensions``
        outside u32); :class:`DaemonError` for the daemon's refusal (``invalid_request``
        for a ``dimensions`` the model lacks, ``queue_full``, ``embed_unsupported``…)."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        if dimensions is not None and not 0 <= dimensions <= U32_MAX:
            raise InvalidRequest(f"dimensions {dimensions} is not a u32 (the request was not sent)")
        request = EmbedRequest(
            id=request_id or self.new_request_id(),
            input=list(texts),
            dimensions=dimensions,
            task=task,
        )
        problem = embed_request_problem(request)
        if problem is not None:
            raise InvalidRequest(f"{problem} (the request was not sent)")
        frame, raw = await self._exchange(
            encode_embed_request(request), request.id, parse_embed_response
        )
        return EmbedResult.from_frame(frame, raw)


class RerankClient(_SurfaceClient[RerankResponse]):
    """Reranking from ``infer.rerank.sock`` (inferd 0.6.2+ started with ``--rerank``)."""

    surface: Surface = "rerank"

    async def rerank(
        self,
        query: str,
        documents: Sequence[str],
        *,
        top_n: int | None = None,
        request_id: str | None = None,
    ) -> RerankResult:
        """``documents`` scored against ``query``, by score descending, at most ``top_n``.

        Raises :class:`InvalidRequest` before sending for an empty query or document, no
        documents, more than 256 documents or 8 MiB of text, ``top_n`` 0 or outside u32.
        """
        if isinstance(documents, str):
            raise TypeError("rerank() takes a sequence of documents, not one string")
        if top_n is not None and not 0 <= top_n <= U32_MAX:
            raise InvalidRequest(f"top_n {top_n} is not a u32 (the request was not sent)")
        request = RerankRequest(
            id=request_id or self.new_request_id(),
            query=query,
            documents=list(documents),
            top_n=top_n,
        )
        problem = rerank_request_problem(request)
        if problem is not None:
            raise InvalidRequest(f"{problem} (the request was not sent)")
        frame, raw = await self._exchange(
            encode_rerank_request(request), request.id, parse_rerank_response
        )
        return RerankResult.from_frame(frame, raw)


def _root_errno(exc: BaseException) -> int | None:
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno is not None:
            return cause.errno
        cause = cause.__cause__
    return None


def _shown(request_id: str) -> str:
    return repr(request_id if len(request_id) <= 40 else request_id[:40] + "…")
