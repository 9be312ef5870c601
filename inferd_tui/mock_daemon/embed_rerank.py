"""The stand-in's embed and rerank sockets (protocol-v2.md §8), and their mock backend.

Each connection is strictly sequential: read one NDJSON request, answer with one terminal
frame, read the next. A decode error gets ``id:""`` and a close; a resolve error (and the
mock backend's own refusal of a ``dimensions`` it cannot produce) gets the request's id
and the connection stays open; a line over 64 MiB gets ``frame_too_large`` and a close.
Every request takes a place in the daemon-wide admission pool, shared with generation
(§6): beyond capacity ``queue_full`` comes at once, within it a request waits silently.

The mock backend (what issue 11 asks of the stand-in):

- embed: one vector per input, ``d`` = ``dimensions`` or 8 components, component ``i``
  (from 0) = ``(i+1)/(d+1)``; ``input_tokens`` = the inputs' total UTF-8 bytes.
- rerank: a document's score is the share of the query's words (lowercased, split on
  whitespace) found among the document's words; sorted by score descending, ties in input
  order, cut to ``top_n``; ``input_tokens`` = the UTF-8 bytes of query + document summed
  over every pair (a real reranker encodes the query once per document).

Numbers go out as f32 would (``0.11111111``, not ``0.1111111119389534``), as the real
daemon's ``Vec<f32>`` serialises. ``model`` and ``backend`` are ``"mock"``.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Literal

import anyio
from anyio.abc import ByteStream

from inferd_tui.mock_daemon.connection import FRAME_TOO_LARGE_MESSAGE, LineReader, linger_close
from inferd_tui.proto.embed_rerank import (
    EmbedRequest,
    RerankRequest,
    decode_embed_request,
    decode_rerank_request,
    embed_request_problem,
    rerank_request_problem,
)
from inferd_tui.proto.errors import FrameTooLarge
from inferd_tui.proto.framing import RequestDecodeError, encode_line

Surface = Literal["embed", "rerank"]

MOCK_MODEL = "mock"
MOCK_BACKEND = "mock"
DEFAULT_DIMENSIONS = 8
#: The mock backend's largest vector: ``dimensions`` is a u32 on the wire, and a request
#: for four billion floats should be refused, as a real backend refuses a size it lacks.
MAX_MOCK_DIMENSIONS = 4096


# --- the mock backend (pure) -------------------------------------------------------------


def f32(value: float) -> float:
    """``value`` rounded to f32, with the fewest decimal digits that round-trip (as
    serde_json writes an ``f32``)."""
    (single,) = struct.unpack("<f", struct.pack("<f", value))
    for digits in range(1, 10):
        shortest = float(f"{single:.{digits}g}")
        if struct.unpack("<f", struct.pack("<f", shortest))[0] == single:
            return shortest
    return float(single)  # pragma: no cover - 9 significant digits always round-trip


def mock_vector(dimensions: int) -> list[float]:
    return [f32((i + 1) / (dimensions + 1)) for i in range(dimensions)]


def embed_answer(request: EmbedRequest) -> dict[str, Any]:
    """The mock backend's frame for a resolved embed request (success or refusal)."""
    dimensions = DEFAULT_DIMENSIONS if request.dimensions is None else request.dimensions
    if not 1 <= dimensions <= MAX_MOCK_DIMENSIONS:
        # A backend refusal: the message is the backend's own, without a prefix.
        return _error(
            request.id,
            "invalid_request",
            f"dimensions {dimensions} not supported by the mock backend "
            f"(1 to {MAX_MOCK_DIMENSIONS})",
        )
    vector = mock_vector(dimensions)
    return {
        "type": "embeddings",
        "id": request.id,
        "embeddings": [list(vector) for _ in request.input],
        "dimensions": dimensions,
        "model": MOCK_MODEL,
        "usage": {"input_tokens": sum(_utf8_len(text) for text in request.input)},
        "backend": MOCK_BACKEND,
    }


def word_share(query: str, document: str) -> float:
    """The share of the query's words (with repeats) that are among the document's."""
    query_words = query.lower().split()
    if not query_words:
        return 0.0
    document_words = set(document.lower().split())
    return sum(word in document_words for word in query_words) / len(query_words)


def rerank_answer(request: RerankRequest) -> dict[str, Any]:
    """The mock backend's frame for a resolved rerank request."""
    scored = [
        (index, f32(word_share(request.query, doc))) for index, doc in enumerate(request.documents)
    ]
    scored.sort(key=lambda pair: -pair[1])  # stable: ties keep input order
    if request.top_n is not None:
        scored = scored[: request.top_n]
    query_bytes = _utf8_len(request.query)
    return {
        "type": "rerank",
        "id": request.id,
        "results": [{"index": index, "score": score} for index, score in scored],
        "model": MOCK_MODEL,
        "usage": {"input_tokens": sum(query_bytes + _utf8_len(d) for d in request.documents)},
        "backend": MOCK_BACKEND,
    }


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _error(request_id: str, code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "id": request_id, "code": code, "message": message}


# --- the sockets -------------------------------------------------------------------------


class EmbedRerankServer:
    """Connection handlers for ``infer.embed.sock`` and ``infer.rerank.sock``.

    The daemon lends it three hooks: ``admitted()`` holds a place in its admission pool
    (yielding False, with nothing held, when the pool is full), ``track()`` counts an open
    connection and gives the cancel scope its shutdown cancels, ``notify()`` wakes
    ``MockDaemon.wait_until``. Counters, per surface, for tests: ``connections``,
    ``requests`` (lines taken as requests), ``answered`` (success frames), ``rejected``
    (decode, resolve, too large, refused by the backend), ``queue_full``.
    """

    def __init__(
        self,
        *,
        admitted: Callable[[], AbstractAsyncContextManager[bool]],
        track: Callable[[], AbstractContextManager[anyio.CancelScope]],
        notify: Callable[[], None],
    ) -> None:
        self._admitted = admitted
        self._track = track
        self._notify = notify
        self.connections: dict[Surface, int] = {"embed": 0, "rerank": 0}
        self.requests: dict[Surface, int] = {"embed": 0, "rerank": 0}
        self.answered: dict[Surface, int] = {"embed": 0, "rerank": 0}
        self.rejected: dict[Surface, int] = {"embed": 0, "rerank": 0}
        self.queue_full: dict[Surface, int] = {"embed": 0, "rerank": 0}

    async def handle_embed(self, stream: ByteStream) -> None:
        await self._handle(stream, "embed")

    async def handle_rerank(self, stream: ByteStream) -> None:
        await self._handle(stream, "rerank")

    def _count(self, counter: dict[Surface, int], surface: Surface) -> None:
        counter[surface] += 1
        self._notify()

    async def _handle(self, stream: ByteStream, surface: Surface) -> None:
        self._count(self.connections, surface)
        with self._track() as scope, scope:
            async with stream:
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await self._converse(stream, surface)

    async def _converse(self, stream: ByteStream, surface: Surface) -> None:
        reader = LineReader(stream)
        while True:
            try:
                line = await reader.next_line()
            except FrameTooLarge:
                self._count(self.rejected, surface)
                await stream.send(
                    encode_line(_error("", "frame_too_large", FRAME_TOO_LARGE_MESSAGE))
                )
                await linger_close(stream)
                return
            if line is None:
                return
            self._count(self.requests, surface)
            request: EmbedRequest | RerankRequest
            try:
                if surface == "embed":
                    request = decode_embed_request(line)
                else:
                    request = decode_rerank_request(line)
            except RequestDecodeError as exc:
                self._count(self.rejected, surface)
                await stream.send(encode_line(_error("", "invalid_request", str(exc))))
                await linger_close(stream)
                return
            if isinstance(request, EmbedRequest):
                problem = embed_request_problem(request)
            else:
                problem = rerank_request_problem(request)
            if problem is not None:
                self._count(self.rejected, surface)
                await stream.send(encode_line(_error(request.id, "invalid_request", problem)))
                continue
            async with self._admitted() as admitted:
                if not admitted:
                    self._count(self.queue_full, surface)
                    await stream.send(encode_line(_error(request.id, "queue_full", "queue full")))
                    continue
                if isinstance(request, EmbedRequest):
                    frame = embed_answer(request)
                else:
                    frame = rerank_answer(request)
                # Written while the place is held, as the daemon does.
                await stream.send(encode_line(frame))
            self._count(self.rejected if frame["type"] == "error" else self.answered, surface)
