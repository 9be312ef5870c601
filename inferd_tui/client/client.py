"""The inference client: ``Client.generate()`` and Pattern A readiness (protocol §2, §4–§7).

One request at a time per :class:`Client` (a second concurrent ``generate`` raises
``RuntimeError``: use one ``Client`` per concurrent generation, like one connection per
generation on the wire). The connection is kept between requests and dialled again,
transparently, after the daemon or this client closed it: a decode error, EOF, a
cancel, or any error mid-request.

Every frame must echo the request's id (§5); an error frame may carry ``""``, the id of
the daemon's decode error. A frame for any other id is a :class:`ProtocolError`. Bytes
after the terminal frame belong to no request: the answer stands, but the connection is
closed, so the next request starts on a fresh one instead of reading them as its own.

Cancelling a generation is closing the connection (§6): cancel the consuming task, or
close the iterator early (``aclose()``, or ``break`` inside ``contextlib.aclosing``).
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import ByteStream

from inferd_tui.client.endpoints import Endpoint, EndpointResolution
from inferd_tui.client.transport import StreamFactory, connect
from inferd_tui.client.wire import WireChoice, WireSetting, choose_wire
from inferd_tui.proto.capability import DaemonProfile, Problem, request_problems
from inferd_tui.proto.chat import (
    AnswerEvent,
    ChatRequest,
    Failed,
    Finished,
    TextDelta,
    ThinkingDelta,
)
from inferd_tui.proto.constants import MAX_FRAME_BYTES
from inferd_tui.proto.eras import ANY_ERA, WIRE_TITLE, Wire
from inferd_tui.proto.errors import (
    AuthRejected,
    ConnectError,
    ConnectTimeout,
    DaemonError,
    FrameTooLarge,
    InvalidRequest,
    MalformedFrame,
    ProtocolError,
    UnexpectedEof,
    UnsupportedByDaemon,
)
from inferd_tui.proto.framing import (
    LineDecoder,
    encode_auth,
    encode_request,
    parse_response,
    request_problem,
)
from inferd_tui.proto.lp import FrameDecoder
from inferd_tui.proto.models import DoneFrame, ErrorFrame, Request, ResponseFrame, TokenFrame
from inferd_tui.proto.v1_wire import from_v1_frame, to_v1_request
from inferd_tui.proto.v2_wire import (
    encode_lp_request,
    encode_ndjson_request,
    ndjson_request_size,
)
from inferd_tui.proto.v2_wire import parse_response as parse_v2_response

#: Read size: large chunks split in bulk are several times faster than ``receive_until``.
CHUNK_SIZE = 262_144
BACKOFF_INITIAL_S = 0.1
BACKOFF_MAX_S = 5.0
DEFAULT_READY_TIMEOUT_S = 30.0

# What a broken or closed connection looks like from ``receive``/``send``.
_CLOSED = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)


# --- Pattern A --------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryNotice:
    """A transient failure while waiting for the daemon; the next attempt is in ``delay_s``."""

    attempt: int
    delay_s: float
    error: ConnectError
    deadline_in_s: float

    @property
    def message(self) -> str:
        return f"{self.error.title}; retrying in {self.delay_s:.1f} s"


def backoff_delays(
    initial: float = BACKOFF_INITIAL_S, cap: float = BACKOFF_MAX_S
) -> Iterator[float]:
    """100 ms doubling, capped at 5 s: 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5, 5, … (§2)."""
    delay = initial
    while True:
        yield delay
        delay = min(delay * 2, cap)


async def dial_and_wait_ready(
    connect: Callable[[], Awaitable[ByteStream]],
    *,
    timeout: float = DEFAULT_READY_TIMEOUT_S,  # noqa: ASYNC109 - a deadline, not a cancel scope
    address: str,
    clock: Callable[[], float] = anyio.current_time,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> ByteStream:
    """Dial until connected (Pattern A, §2): a successful connect is the ready signal.

    Only transient :class:`ConnectError`s are retried, with :func:`backoff_delays`; a
    permanent one is raised at once. Past ``timeout`` seconds raises :class:`ConnectTimeout`
    naming ``address``, the time waited and the last error. The last sleep is shortened so
    one final attempt happens at the deadline.
    """
    started = clock()
    deadline = started + timeout
    delays = backoff_delays()
    for attempt in itertools.count(1):
        try:
            return await connect()
        except ConnectError as exc:
            if not exc.transient:
                raise
            last_error = exc
        remaining = deadline - clock()
        if remaining <= 0:
            waited = clock() - started
            raise ConnectTimeout(
                f"The daemon at {address} was not ready after {waited:.1f} s "
                f"({attempt} attempts; last error: {last_error.hint}). A first boot that "
                "downloads a model can take much longer: wait longer, or watch its "
                "progress on the admin socket.",
                address=address,
                waited_s=waited,
                last_error=str(last_error),
            ) from last_error
        delay = min(next(delays), remaining)
        if on_retry is not None:
            on_retry(RetryNotice(attempt, delay, last_error, remaining))
        await sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


# --- the client -------------------------------------------------------------------------


class _Connection:
    """One open connection and the read state that belongs to it."""

    __slots__ = (
        "auth_pending",
        "auth_sent",
        "decoder",
        "frame_decoder",
        "frames",
        "requests",
        "stream",
    )

    def __init__(self, stream: ByteStream, *, auth_line: bytes | None) -> None:
        self.stream = stream
        self.decoder = LineDecoder()
        #: The 0.4+ wire's decoder; only that wire reads with it.
        self.frame_decoder = FrameDecoder()
        #: Sent together with the first request, in one write.
        self.auth_pending = auth_line
        self.auth_sent = False
        self.frames = 0
        self.requests = 0


class _Claim:
    """A request's hold on its :class:`Client`, and a weak handle on its generator: once
    that is gone (dropped without ``aclose()``) nobody can be reading the answer."""

    __slots__ = ("frames",)

    def __init__(self) -> None:
        self.frames: weakref.ref[AsyncGenerator[Any, None]] | None = None

    @property
    def abandoned(self) -> bool:
        return self.frames is not None and self.frames() is None


class Client:
    """An inferd client for every wire: v1 NDJSON (Unix socket or TCP), v2 NDJSON
    (0.2–0.3 ``infer.v2.sock``) and the 0.4+ length-prefixed v2 wire.

    :meth:`chat` takes a wire-neutral :class:`ChatRequest` and yields answer events on any
    wire; :meth:`generate` is the v1 wire's own frames (v1 only). ``profile`` says which
    wire to speak and what the daemon can take (from :func:`choose_wire`, or
    :meth:`connect`); without one the client speaks v1 and checks nothing era-specific.

    ``async with Client(endpoint) as client:`` closes the connection on exit. Requests are
    sent lazily: nothing connects until :meth:`generate`, :meth:`complete` or
    :meth:`wait_ready`. ``api_key`` is only sent over TCP, as the first line of every new
    connection; ``api_key_env`` is the variable it came from, named (never the key) when
    the daemon rejects it. ``stream_factory`` replaces the real socket (tests, custom
    transports).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        api_key: str | None = None,
        stream_factory: StreamFactory | None = None,
        api_key_env: str = "INFERD_API_KEY",
        profile: DaemonProfile | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.profile = profile or DaemonProfile("v1", ANY_ERA)
        self.api_key_env = api_key_env
        self._auth_line = encode_auth(api_key) if api_key and endpoint.kind == "tcp" else None
        self._factory: StreamFactory = stream_factory or self._dial
        self._conn: _Connection | None = None
        self._busy: _Claim | None = None
        self._id_prefix = f"tui-{secrets.token_hex(4)}"
        self._ids = itertools.count(1)

    def __repr__(self) -> str:  # the key stays out of reprs and logs
        return f"Client({self.endpoint.display!r}, connected={self.connected})"

    @classmethod
    def from_resolution(
        cls,
        resolution: EndpointResolution,
        *,
        stream_factory: StreamFactory | None = None,
        choice: WireChoice | None = None,
    ) -> Client:
        """A client for ``resolution``; with ``choice`` (from :func:`choose_wire`), on the
        endpoint and wire it chose."""
        return cls(
            choice.endpoint if choice is not None else resolution.inference,
            api_key=resolution.api_key,
            stream_factory=stream_factory,
            api_key_env=resolution.api_key_env,
            profile=choice.profile if choice is not None else None,
        )

    @classmethod
    async def connect(
        cls,
        resolution: EndpointResolution,
        *,
        wire: WireSetting = "auto",
        stream_factory: StreamFactory | None = None,
    ) -> Client:
        """Choose the wire from the daemon itself (:func:`choose_wire`), then a client for
        it. Nothing is dialled for generation until the first request."""
        choice = await choose_wire(resolution, wire=wire)
        client = cls.from_resolution(resolution, stream_factory=stream_factory, choice=choice)
        client.wire_choice = choice
        return client

    #: How the wire was chosen, when :meth:`connect` chose it.
    wire_choice: WireChoice | None = None
    #: Called with every response payload exactly as received (a v1 or v2 NDJSON line,
    #: an LP frame's JSON), before it is parsed: ``ask --json`` prints them.
    tap: Callable[[bytes], None] | None = None

    @property
    def wire(self) -> Wire:
        return self.profile.wire

    async def _dial(self) -> ByteStream:
        return await connect(self.endpoint)

    @property
    def address(self) -> str:
        return self.endpoint.display

    @property
    def connected(self) -> bool:
        """Whether a connection is open (it may still have been closed by the daemon)."""
        return self._conn is not None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection, if any. The client stays usable: the next request redials."""
        await self._discard()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # Closing must finish even in a cancelled task: that close *is* the cancel.
            with anyio.CancelScope(shield=True), contextlib.suppress(*_CLOSED):
                await conn.stream.aclose()

    async def _connection(self) -> _Connection:
        if self._conn is None:
            self._conn = _Connection(await self._factory(), auth_line=self._auth_line)
        return self._conn

    def new_request_id(self) -> str:
        return f"{self._id_prefix}-{next(self._ids)}"

    async def wait_ready(
        self,
        timeout: float = DEFAULT_READY_TIMEOUT_S,  # noqa: ASYNC109 - a deadline, not a cancel scope
        *,
        on_retry: Callable[[RetryNotice], None] | None = None,
        clock: Callable[[], float] = anyio.current_time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        """Dial with Pattern A and keep the connection for the first request."""
        if self._conn is not None:
            return
        stream = await dial_and_wait_ready(
            self._factory,
            timeout=timeout,
            address=self.address,
            clock=clock,
            sleep=sleep,
            on_retry=on_retry,
        )
        if self._conn is None:
            self._conn = _Connection(stream, auth_line=self._auth_line)
        else:  # someone else connected meanwhile
            with anyio.CancelScope(shield=True), contextlib.suppress(*_CLOSED):
                await stream.aclose()

    def _release(self, owner: _Claim) -> None:
        if self._busy is owner:
            self._busy = None

    def generate(self, request: Request) -> AsyncGenerator[ResponseFrame, None]:
        """Send ``request`` and yield its frames, ending with the terminal one.

        Token, status and unknown frames are yielded as they arrive; the terminal
        ``done`` or ``error`` frame is yielded last (an error frame is not raised).
        A request without an id gets a unique one. Raises :class:`InvalidRequest` (nothing
        sent), :class:`ConnectError`, :class:`UnexpectedEof` (with the partial text),
        :class:`AuthRejected`, or a :class:`ProtocolError` (also for a frame that echoes
        another request's id); after any of them, and after a cancel or an early close,
        the connection is closed and the next request redials.

        Leave early with ``contextlib.aclosing`` (or ``aclose()``) so the connection is
        closed at once. A generator left with a plain ``break`` and dropped is closed
        later by the event loop; a new ``generate()`` meanwhile takes its place (closing
        its connection) rather than wait. One still referenced, and so possibly still
        being read, makes a second ``generate()`` raise ``RuntimeError``.
        """
        claim = _Claim()
        frames = self._generate(request, claim)
        claim.frames = weakref.ref(frames)
        return frames

    async def _generate(
        self,
        request: Request,
        claim: _Claim,
        convert: Callable[[ResponseFrame], Any] | None = None,
    ) -> AsyncGenerator[Any, None]:
        """The v1 wire's frames, or what ``convert`` makes of each (``chat()``'s events)."""
        if self.wire != "v1":
            raise InvalidRequest(
                f"generate() sends protocol v1 frames, but this daemon speaks "
                f"{WIRE_TITLE[self.wire]}: use chat() (the request was not sent)"
            )
        problem = request_problem(request)
        if problem is not None:
            raise InvalidRequest(f"{problem} (the request was not sent)")
        await self._claim(claim)
        owner = claim
        if not request.id:
            request = request.model_copy(update={"id": self.new_request_id()})
        request_id = request.id
        request_line = encode_request(request)
        parts: list[str] = []
        completed = False
        conn: _Connection | None = None
        try:
            # A reused connection may have been closed by the daemon while idle (restart):
            # if it ends before a single frame of this request, redial once.
            for attempt in (1, 2):
                conn = await self._connection()
                reused = conn.requests > 0
                stream = conn.stream
                try:
                    if conn.auth_pending is not None:
                        await stream.send(conn.auth_pending + request_line)
                        conn.auth_pending, conn.auth_sent = None, True
                    else:
                        await stream.send(request_line)
                except _CLOSED as exc:
                    await self._discard()
                    if reused and attempt == 1:
                        continue
                    # Nothing went out, not even the key: no sign of a rejected key.
                    raise UnexpectedEof(
                        f"the daemon at {self.address} closed the connection before the "
                        "request could be sent; retry in a moment",
                        request_id=request_id,
                    ) from exc
                conn.requests += 1
                receive = stream.receive
                feed = conn.decoder.feed
                lines: list[bytes] = []
                at_eof = False
                cut_short = False
                got_frame = False
                while True:
                    line_iter = iter(lines)
                    for line in line_iter:
                        if not line:
                            continue
                        if self.tap is not None:
                            self.tap(line)
                        try:
                            frame = parse_response(line)
                        except MalformedFrame:
                            if not at_eof:
                                raise
                            # An unterminated last line that is no frame: the daemon died
                            # mid-write. That is an interrupted answer, not garbage.
                            cut_short = True
                            break
                        conn.frames += 1
                        got_frame = True
                        if type(frame) is TokenFrame:
                            if frame.id != request_id:
                                raise self._stray_frame(frame, request_id)
                            parts.append(frame.content)
                        elif type(frame) is DoneFrame or type(frame) is ErrorFrame:
                            # "" is the id of the daemon's decode error, sent with no request.
                            if frame.id != request_id and (type(frame) is DoneFrame or frame.id):
                                raise self._stray_frame(frame, request_id)
                            completed = True
                            trailing = any(line_iter) or conn.decoder.buffered > 0
                            if trailing or _daemon_closes_after(frame):
                                await self._discard()
                            self._release(owner)
                            yield frame if convert is None else convert(frame)
                            return
                        yield frame if convert is None else convert(frame)
                    if at_eof:
                        break
                    try:
                        chunk = await receive(CHUNK_SIZE)
                    except _CLOSED:
                        tail = conn.decoder.finish()
                        lines = [tail] if tail else []
                        at_eof = True
                    else:
                        lines = feed(chunk)
                await self._discard()
                if not got_frame and reused and attempt == 1:
                    continue
                raise self._closed_error(conn, request.id, parts, cut_short=cut_short)
        # The decoder cannot know where its bytes came from: name the daemon here.
        except FrameTooLarge as exc:
            raise FrameTooLarge(exc.size, exc.limit, address=self.address) from exc
        except MalformedFrame as exc:
            raise MalformedFrame(exc.hint, line=exc.line, address=self.address) from exc
        finally:
            # Only this request's connection: an abandoned generator is finalized after a
            # newer request may have dialled its own.
            if not completed and conn is self._conn:
                await self._discard()
            self._release(owner)

    # --- every wire ---------------------------------------------------------------------

    def check(self, request: ChatRequest) -> list[Problem]:
        """What this daemon cannot take in ``request`` (errors) or may ignore (notes)."""
        return request_problems(request, self.profile)

    def chat(self, request: ChatRequest) -> AsyncGenerator[AnswerEvent, None]:
        """Send ``request`` on this daemon's wire and yield its answer events, ending with
        the terminal :class:`Finished` or :class:`Failed` (yielded, not raised).

        Refused before anything is sent, with :class:`UnsupportedByDaemon` naming the field
        and the release that has it, when the wire or release cannot carry a field
        (:meth:`check`; notes do not refuse). Otherwise raises as :meth:`generate` does;
        after any error, a cancel or an early close the connection is closed and the next
        request redials.
        """
        for problem in self.check(request):
            if problem.severity == "error":
                raise UnsupportedByDaemon(
                    f"{problem.message} (the request was not sent)", field=problem.field
                )
        if not request.id:
            request = request.with_id(self.new_request_id())
        claim = _Claim()
        # One generator, not one wrapping another: each layer costs about a microsecond
        # per frame, a fifth of the whole budget at 200,000 frames/s.
        events: AsyncGenerator[AnswerEvent, None] = (
            self._generate(to_v1_request(request), claim, from_v1_frame)
            if self.wire == "v1"
            else self._chat_v2(request, claim)
        )
        claim.frames = weakref.ref(events)
        return events

    def _encode_v2(self, request: ChatRequest) -> list[bytes]:
        if self.wire == "v2":
            return encode_lp_request(request)
        if ndjson_request_size(request) > MAX_FRAME_BYTES:
            raise InvalidRequest(
                f"the request is {ndjson_request_size(request):,} bytes as one v2 NDJSON line, "
                f"past the {MAX_FRAME_BYTES:,}-byte line cap (attachments travel inline as "
                "base64 on inferd 0.2–0.3): send fewer or smaller attachments (the request "
                "was not sent)"
            )
        return [encode_ndjson_request(request)]

    async def _chat_v2(
        self, request: ChatRequest, claim: _Claim
    ) -> AsyncGenerator[AnswerEvent, None]:
        """The v2 wires: one request in flight, frames until the terminal one (§5, §6)."""
        if self.endpoint.kind == "tcp":
            raise InvalidRequest(
                f"inferd-tui speaks v2 over Unix sockets only, not TCP ({self.address})"
            )
        await self._claim(claim)
        owner = claim
        request_id = request.id
        outgoing = self._encode_v2(request)
        length_prefixed = self.wire == "v2"
        protocol = WIRE_TITLE[self.wire]
        parts: list[str] = []
        completed = False
        conn: _Connection | None = None
        try:
            for attempt in (1, 2):
                conn = await self._connection()
                reused = conn.requests > 0
                stream = conn.stream
                try:
                    for chunk in outgoing:
                        await stream.send(chunk)
                except _CLOSED as exc:
                    await self._discard()
                    if reused and attempt == 1:
                        continue
                    raise UnexpectedEof(
                        f"the daemon at {self.address} closed the connection before the "
                        "request could be sent; retry in a moment",
                        request_id=request_id,
                    ) from exc
                conn.requests += 1
                got_frame = False
                cut_short = False
                at_eof = False
                payloads: list[bytes] = []
                while True:
                    payload_iter = iter(payloads)
                    for payload in payload_iter:
                        if not payload:
                            continue
                        if self.tap is not None:
                            self.tap(payload)
                        try:
                            event = parse_v2_response(payload, protocol=protocol)
                        except MalformedFrame:
                            if not at_eof or length_prefixed:
                                raise
                            cut_short = True  # an unterminated last line: died mid-write
                            break
                        conn.frames += 1
                        got_frame = True
                        if isinstance(event, TextDelta | ThinkingDelta):
                            if event.request_id != request_id:
                                raise self._stray_event(event, request_id)
                            if isinstance(event, TextDelta):
                                parts.append(event.text)
                        elif isinstance(event, Finished | Failed):
                            # "" is the id of a decode error, sent before any request.
                            if event.request_id != request_id and (
                                isinstance(event, Finished) or event.request_id
                            ):
                                raise self._stray_event(event, request_id)
                            completed = True
                            trailing = any(payload_iter) or self._buffered(conn) > 0
                            if trailing or _v2_daemon_closes_after(event):
                                await self._discard()
                            self._release(owner)
                            yield event
                            return
                        elif event.request_id and event.request_id != request_id:
                            raise self._stray_event(event, request_id)
                        yield event
                    if at_eof:
                        break
                    try:
                        chunk = await stream.receive(CHUNK_SIZE)
                    except _CLOSED:
                        at_eof = True
                        if length_prefixed:
                            try:
                                conn.frame_decoder.finish()
                            except MalformedFrame:
                                cut_short = True
                            payloads = []
                        else:
                            tail = conn.decoder.finish()
                            payloads = [tail] if tail else []
                    else:
                        payloads = self._payloads(conn, chunk)
                await self._discard()
                if not got_frame and reused and attempt == 1:
                    continue
                raise self._closed_error(conn, request_id, parts, cut_short=cut_short)
        except FrameTooLarge as exc:
            raise FrameTooLarge(exc.size, exc.limit, address=self.address, unit=exc.unit) from exc
        except MalformedFrame as exc:
            raise MalformedFrame(
                exc.hint, line=exc.line, address=self.address, protocol=exc.protocol
            ) from exc
        finally:
            if not completed and conn is self._conn:
                await self._discard()
            self._release(owner)

    def _payloads(self, conn: _Connection, chunk: bytes) -> list[bytes]:
        """The JSON payloads ``chunk`` completed; a BLOB from the daemon is a protocol error
        (§2: the daemon only ever sends JSON frames)."""
        if self.wire != "v2":
            return conn.decoder.feed(chunk)
        return conn.frame_decoder.feed_json(chunk)

    def _buffered(self, conn: _Connection) -> int:
        return conn.frame_decoder.buffered if self.wire == "v2" else conn.decoder.buffered

    def _stray_event(self, event: AnswerEvent, request_id: str) -> ProtocolError:
        return ProtocolError(
            f"the daemon at {self.address} sent a {type(event).__name__} for request "
            f"{_shown(event.request_id)} while answering {_shown(request_id)}; the connection "
            "was closed and the next request starts on a new one",
            address=self.address,
            title="frame for another request",
        )

    async def _claim(self, claim: _Claim) -> None:
        if self._busy is not None and self._busy is not claim:
            if not self._busy.abandoned:
                raise RuntimeError(
                    "this Client is already running a request: one request at a time per "
                    "Client; use another Client for a concurrent generation"
                )
            await self._discard()  # the abandoned request's connection: cancel it
        self._busy = claim

    async def complete_chat(self, request: ChatRequest) -> tuple[list[AnswerEvent], Finished]:
        """Collect a whole answer on any wire; an error frame raises :class:`DaemonError`."""
        events: list[AnswerEvent] = []
        parts: list[str] = []
        async with contextlib.aclosing(self.chat(request)) as stream:
            async for event in stream:
                if type(event) is Finished:
                    return events, event
                if type(event) is Failed:
                    raise DaemonError(
                        event.code,
                        event.message,
                        request_id=event.request_id,
                        partial_text="".join(parts),
                        address=self.address,
                    )
                if type(event) is TextDelta:
                    parts.append(event.text)
                events.append(event)
        raise AssertionError("chat() ended without a terminal event")  # pragma: no cover

    def _stray_frame(
        self, frame: TokenFrame | DoneFrame | ErrorFrame, request_id: str
    ) -> ProtocolError:
        return ProtocolError(
            f"the daemon at {self.address} sent a {frame.type} frame for request "
            f"{_shown(frame.id)} while answering {_shown(request_id)}; the connection was "
            "closed and the next request starts on a new one",
            address=self.address,
            title="frame for another request",
        )

    def _closed_error(
        self, conn: _Connection, request_id: str, parts: list[str], *, cut_short: bool = False
    ) -> UnexpectedEof | AuthRejected:
        """EOF after the request went out. Over TCP with not a byte back, §7's silent close:
        a key that was sent was wrong, or the daemon wants one and none is configured."""
        if conn.frames == 0 and self.endpoint.kind == "tcp" and not cut_short:
            if conn.auth_sent:
                hint = (
                    f"the daemon at {self.address} closed the connection: wrong or missing "
                    f"API key? (key from ${self.api_key_env})"
                )
            else:
                hint = (
                    f"the daemon at {self.address} closed the connection: missing API key? "
                    f"(set ${self.api_key_env} if the daemon was started with one)"
                )
            return AuthRejected(hint, address=self.address)
        partial = "".join(parts)
        received = f" after {len(partial):,} characters" if partial else ""
        where = " in the middle of a frame" if cut_short else ""
        return UnexpectedEof(
            f"the daemon closed the connection{where} before the answer finished{received} "
            f"({self.address}); the partial text is kept",
            partial_text=partial,
            request_id=request_id,
        )

    async def complete(self, request: Request) -> DoneFrame:
        """Collect a whole answer; an error frame raises :class:`DaemonError`."""
        parts: list[str] = []
        async with contextlib.aclosing(self.generate(request)) as frames:
            async for frame in frames:
                if type(frame) is TokenFrame:
                    parts.append(frame.content)
                elif type(frame) is DoneFrame:
                    return frame
                elif type(frame) is ErrorFrame:
                    raise DaemonError(
                        str(frame.code),
                        frame.message,
                        request_id=frame.id,
                        partial_text="".join(parts),
                        address=self.address,
                    )
        raise AssertionError("generate() ended without a terminal frame")  # pragma: no cover


#: Messages of v2 errors after which the daemon closes the connection (§6's table); resolve,
#: admission and backend errors keep it open.
_V2_CLOSING_PREFIXES = ("decode:", "malformed frame:", "invalid request: request declares")
_V2_CLOSING_CODES = frozenset({"frame_too_large", "wire_version_unsupported"})


def _v2_daemon_closes_after(event: AnswerEvent) -> bool:
    if type(event) is not Failed:
        return False
    return (
        not event.request_id
        or event.code in _V2_CLOSING_CODES
        or event.message.startswith(_V2_CLOSING_PREFIXES)
    )


def _daemon_closes_after(frame: DoneFrame | ErrorFrame) -> bool:
    """A decode error (id "") and frame_too_large end the connection on the daemon's side."""
    return type(frame) is ErrorFrame and (not frame.id or frame.code == "frame_too_large")


def _shown(request_id: str) -> str:
    """An id for a message: quoted, and cut short (the daemon's is untrusted)."""
    return repr(request_id if len(request_id) <= 40 else request_id[:40] + "…")
