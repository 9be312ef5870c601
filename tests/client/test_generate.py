"""Client.generate() against scripted daemons: every §11 vector and every failure path of
§4–§7, each followed by a request that succeeds."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
from client_helpers import (
    TAPE_TOKENS,
    ScriptFactory,
    ScriptStream,
    ServerConn,
    frame,
    mock_tape,
    tape,
)

from inferd_tui.client import (
    AuthRejected,
    Client,
    DaemonError,
    DoneFrame,
    Endpoint,
    ErrorFrame,
    FrameTooLarge,
    InvalidRequest,
    MalformedFrame,
    Message,
    ProtocolError,
    Request,
    ResponseFrame,
    StatusFrame,
    TokenFrame,
    UnexpectedEof,
    UnknownFrame,
)
from inferd_tui.proto import MAX_FRAME_BYTES, encode_auth, encode_request

pytestmark = pytest.mark.anyio

Serve = Callable[..., Any]


def hello(request_id: str = "req-1") -> Request:
    return Request(id=request_id, messages=[Message(role="user", content="hello")])


async def collect(client: Client, request: Request) -> list[ResponseFrame]:
    async with contextlib.aclosing(client.generate(request)) as frames:
        return [frame async for frame in frames]


def unix_client(server: Any) -> Client:
    return Client(Endpoint.unix(server.path))


# --- happy path --------------------------------------------------------------------------


async def test_happy_path_tape(scripted_server: Serve) -> None:
    async with scripted_server(mock_tape) as server, unix_client(server) as client:
        frames = await collect(client, hello())
    assert [f.content for f in frames if isinstance(f, TokenFrame)] == list(TAPE_TOKENS)
    done = frames[-1]
    assert isinstance(done, DoneFrame)
    assert done.id == "req-1"
    assert done.content == "alpha beta gamma"
    assert done.usage.completion_tokens == 3
    assert done.stop_reason == "end"
    assert done.backend == "mock"
    assert server.lines == [b'{"id":"req-1","messages":[{"role":"user","content":"hello"}]}']


async def test_connection_is_reused_and_ids_are_assigned(scripted_server: Serve) -> None:
    async with scripted_server(mock_tape) as server, unix_client(server) as client:
        request = Request(messages=[Message(role="user", content="hi")])
        first = await client.complete(request)
        second = await client.complete(request)
    assert len(server.connections) == 1
    ids = [json.loads(line)["id"] for line in server.lines]
    assert all(ids)
    assert ids[0] != ids[1]
    assert (first.id, second.id) == tuple(ids)


@pytest.mark.parametrize(
    "wire",
    [
        {"id": "x", "messages": [{"role": "user", "content": "hi"}]},
        {
            "id": "abc123",
            "messages": [{"role": "user", "content": "hello"}],
            "temperature": 0.7,
            "top_k": 40,
            "max_tokens": 128,
            "stream": True,
            "image_token_budget": 280,
        },
        {"id": "g", "messages": [{"role": "user", "content": "hi"}], "grammar": 'root ::= "yes"'},
    ],
)
async def test_accepted_request_vectors_go_out_unchanged(
    scripted_server: Serve, wire: dict[str, Any]
) -> None:
    request = Request.model_validate(wire)
    async with scripted_server(mock_tape) as server, unix_client(server) as client:
        await client.complete(request)
    assert json.loads(server.lines[0]) == wire
    assert server.lines[0] + b"\n" == encode_request(request)


async def test_request_without_optional_fields_omits_them(scripted_server: Serve) -> None:
    request = Request.model_validate(
        {"id": "n", "messages": [{"role": "user", "content": "hi"}], "temperature": None}
    )
    async with scripted_server(mock_tape) as server, unix_client(server) as client:
        await client.complete(request)
    assert json.loads(server.lines[0]) == {
        "id": "n",
        "messages": [{"role": "user", "content": "hi"}],
    }


async def test_status_and_unknown_frames_are_yielded_not_terminal() -> None:
    factory = ScriptFactory(
        [
            frame(type="status", id="admin", status="ready")
            + frame(type="token", id="req-1", content="a", extra=1)
            + frame(type="thinking", id="req-1", content="hmm")
            + frame(type="done", id="req-1", content="a", future_key=True)
        ]
    )
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        frames = await collect(client, hello())
    assert [type(f) for f in frames] == [StatusFrame, TokenFrame, UnknownFrame, DoneFrame]
    unknown = frames[2]
    assert isinstance(unknown, UnknownFrame)
    assert unknown.type == "thinking"
    assert unknown.raw["content"] == "hmm"


# --- chunking ----------------------------------------------------------------------------


def _tape_bytes() -> bytes:
    return tape("req-1")


@pytest.mark.parametrize(
    "chunker",
    [
        pytest.param(lambda data: [data], id="all-in-one-chunk"),
        pytest.param(lambda data: [bytes([b]) for b in data], id="one-byte-chunks"),
        pytest.param(lambda data: [data[i : i + 7] for i in range(0, len(data), 7)], id="7-byte"),
        pytest.param(lambda data: data.splitlines(keepends=True), id="one-line-per-chunk"),
    ],
)
async def test_any_chunking_gives_the_same_frames(chunker: Callable[[bytes], list[bytes]]) -> None:
    factory = ScriptFactory(chunker(_tape_bytes()))
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        frames = await collect(client, hello())
    assert [f.content for f in frames if isinstance(f, TokenFrame | DoneFrame)] == [
        "alpha ",
        "beta ",
        "gamma",
        "alpha beta gamma",
    ]


async def test_crlf_and_unterminated_final_line_are_accepted() -> None:
    data = _tape_bytes().replace(b"\n", b"\r\n").rstrip(b"\r\n")
    factory = ScriptFactory([data])
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        frames = await collect(client, hello())
    assert isinstance(frames[-1], DoneFrame)
    assert frames[-1].content == "alpha beta gamma"


@pytest.mark.parametrize(
    "trailing",
    [
        pytest.param(tape("stale", ["STALE"]), id="whole-frames"),
        pytest.param(b'{"type":"tok', id="part-of-a-frame"),
    ],
)
async def test_bytes_after_the_terminal_frame_close_the_connection(trailing: bytes) -> None:
    factory = ScriptFactory([tape("req-1") + trailing], [tape("req-2", ["fresh"])])
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        first = await client.complete(hello("req-1"))
        assert factory.streams[0].closed
        second = await client.complete(hello("req-2"))
    # The answer stands; the stray bytes are never read as the next request's answer.
    assert (first.content, second.content) == ("alpha beta gamma", "fresh")
    assert len(factory.streams) == 2


@pytest.mark.parametrize(
    "stray",
    [
        pytest.param(frame(type="token", id="req-1", content="late"), id="token"),
        pytest.param(tape("req-1"), id="done"),
        pytest.param(
            frame(type="error", id="req-1", code="queue_full", message="queue full"), id="error"
        ),
    ],
)
async def test_a_frame_for_another_request_is_a_protocol_error(
    scripted_server: Serve, stray: bytes
) -> None:
    async def answers_then_strays(conn: ServerConn) -> None:
        await conn.readline()
        await conn.send(tape("req-1"))
        await conn.readline()
        await conn.send(stray)  # a late frame of req-1, read while req-2 waits
        await conn.wait_eof()

    async with (
        scripted_server(answers_then_strays, mock_tape) as server,
        unix_client(server) as client,
    ):
        await client.complete(hello("req-1"))
        with pytest.raises(ProtocolError) as caught:
            await client.complete(hello("req-2"))
        assert caught.value.title == "frame for another request"
        assert "'req-1'" in caught.value.hint
        assert "'req-2'" in caught.value.hint
        assert str(server.path) in caught.value.hint
        with anyio.fail_after(5):
            await server.connections[0].saw_eof.wait()
        assert (await client.complete(hello("req-3"))).content == "alpha beta gamma"


async def test_error_frame_with_the_empty_decode_error_id_is_accepted() -> None:
    decode_error = frame(type="error", id="", code="invalid_request", message="decode: x")
    factory = ScriptFactory([decode_error])
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        frames = await collect(client, hello())
    assert isinstance(frames[-1], ErrorFrame)
    assert frames[-1].id == ""


async def test_a_done_frame_without_the_request_id_is_a_protocol_error() -> None:
    factory = ScriptFactory([frame(type="done", id="", content="")])
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        with pytest.raises(ProtocolError):
            await client.complete(hello())
        assert factory.streams[0].closed


# --- error frames ------------------------------------------------------------------------


async def test_error_frame_is_yielded_and_connection_stays(scripted_server: Serve) -> None:
    async def queue_full_then_tape(conn: ServerConn) -> None:
        request = await conn.read_request()
        assert request is not None
        await conn.send(
            frame(type="error", id=request["id"], code="queue_full", message="queue full")
        )
        await mock_tape(conn)

    async with scripted_server(queue_full_then_tape) as server, unix_client(server) as client:
        frames = await collect(client, hello("q1"))
        assert len(frames) == 1
        error = frames[0]
        assert isinstance(error, ErrorFrame)
        assert (error.id, error.code, error.message) == ("q1", "queue_full", "queue full")
        assert (await client.complete(hello("q2"))).content == "alpha beta gamma"
    assert len(server.connections) == 1


async def test_complete_raises_daemon_error_with_partial_text(scripted_server: Serve) -> None:
    async def drop_after_two(conn: ServerConn) -> None:
        while (request := await conn.read_request()) is not None:
            rid = request["id"]
            await conn.send(
                frame(type="token", id=rid, content="alpha ")
                + frame(type="token", id=rid, content="beta ")
                + frame(
                    type="error",
                    id=rid,
                    code="backend_unavailable",
                    message="backend ended stream without terminal frame",
                )
            )

    async with scripted_server(drop_after_two) as server, unix_client(server) as client:
        with pytest.raises(DaemonError) as caught:
            await client.complete(hello())
    assert caught.value.code == "backend_unavailable"
    assert caught.value.message == "backend ended stream without terminal frame"
    assert caught.value.partial_text == "alpha beta "
    assert caught.value.request_id == "req-1"
    assert caught.value.retryable
    assert caught.value.address == str(server.path)
    assert str(server.path) in caught.value.hint
    assert "retry in a moment" in caught.value.hint


async def test_unknown_error_code_is_kept() -> None:
    factory = ScriptFactory([frame(type="error", id="req-1", code="brand_new", message="?")])
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        with pytest.raises(DaemonError) as caught:
            await client.complete(hello())
    assert caught.value.code == "brand_new"
    assert not caught.value.retryable


async def test_decode_error_closes_and_next_request_redials(scripted_server: Serve) -> None:
    async def decode_error(conn: ServerConn) -> None:
        await conn.readline()
        await conn.send(
            frame(type="error", id="", code="invalid_request", message="decode: expected value")
        )

    async with scripted_server(decode_error, mock_tape) as server, unix_client(server) as client:
        frames = await collect(client, hello())
        assert isinstance(frames[-1], ErrorFrame)
        assert frames[-1].id == ""
        assert not client.connected
        assert (await client.complete(hello("req-2"))).content == "alpha beta gamma"
    assert len(server.connections) == 2


async def test_daemon_frame_too_large_error_is_terminal_and_closes() -> None:
    too_large = frame(
        type="error",
        id="",
        code="frame_too_large",
        message="frame exceeds 67108864 byte cap",
    )
    factory = ScriptFactory([too_large], [_tape_bytes()])
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        frames = await collect(client, hello())
        assert isinstance(frames[-1], ErrorFrame)
        assert frames[-1].code == "frame_too_large"
        assert factory.streams[0].closed
        assert (await client.complete(hello())).content == "alpha beta gamma"


# --- EOF ---------------------------------------------------------------------------------


async def test_eof_mid_answer_keeps_partial_text_and_next_request_works(
    scripted_server: Serve,
) -> None:
    async def two_tokens_then_close(conn: ServerConn) -> None:
        await conn.readline()
        await conn.send(
            frame(type="token", id="req-1", content="alpha ")
            + frame(type="token", id="req-1", content="beta ")
        )

    async with (
        scripted_server(two_tokens_then_close, mock_tape) as server,
        unix_client(server) as client,
    ):
        seen: list[ResponseFrame] = []

        async def consume() -> None:
            async with contextlib.aclosing(client.generate(hello())) as frames:
                async for item in frames:
                    seen.append(item)

        with pytest.raises(UnexpectedEof) as caught:
            await consume()
        assert len(seen) == 2
        assert caught.value.partial_text == "alpha beta "
        assert caught.value.request_id == "req-1"
        assert "before the answer finished" in str(caught.value)
        assert (await client.complete(hello("req-2"))).content == "alpha beta gamma"
    assert len(server.connections) == 2


async def test_eof_in_the_middle_of_a_frame_keeps_the_partial_text(
    scripted_server: Serve,
) -> None:
    async def dies_mid_write(conn: ServerConn) -> None:
        await conn.readline()
        await conn.send(frame(type="token", id="req-1", content="part1 ") + b'{"type":"tok')

    async with scripted_server(dies_mid_write, mock_tape) as server, unix_client(server) as client:
        with pytest.raises(UnexpectedEof) as caught:
            await client.complete(hello())
        assert caught.value.partial_text == "part1 "
        assert "in the middle of a frame" in caught.value.hint
        assert str(server.path) in caught.value.hint
        assert (await client.complete(hello("req-2"))).content == "alpha beta gamma"


async def test_eof_in_the_middle_of_the_first_frame_over_tcp_is_not_auth(
    scripted_server: Serve,
) -> None:
    async def dies_mid_write(conn: ServerConn) -> None:
        await conn.readline()
        await conn.send(b'{"type":"token","id":"req-1","cont')

    async with scripted_server(dies_mid_write, tcp=True) as server:
        client = Client(Endpoint.tcp("127.0.0.1", server.port))
        with pytest.raises(UnexpectedEof) as caught:
            await client.complete(hello())
        await client.aclose()
    assert caught.value.partial_text == ""


async def test_eof_with_no_frames_on_a_fresh_unix_connection(scripted_server: Serve) -> None:
    async def close_at_once(conn: ServerConn) -> None:
        await conn.readline()

    async with scripted_server(close_at_once, mock_tape) as server, unix_client(server) as client:
        with pytest.raises(UnexpectedEof) as caught:
            await client.complete(hello())
        assert caught.value.partial_text == ""
        assert (await client.complete(hello())).content == "alpha beta gamma"


async def test_idle_connection_closed_by_daemon_is_redialled_transparently(
    scripted_server: Serve,
) -> None:
    async def one_answer_then_close(conn: ServerConn) -> None:
        request = await conn.read_request()
        assert request is not None
        await conn.send(tape(request["id"]))

    async with scripted_server(one_answer_then_close) as server, unix_client(server) as client:
        await client.complete(hello("a"))
        assert client.connected
        # The daemon has closed its side (restart, idle drop); the client doesn't know yet.
        assert (await client.complete(hello("b"))).content == "alpha beta gamma"
        assert (await client.complete(hello("c"))).content == "alpha beta gamma"
    assert len(server.connections) == 3


# --- malformed / oversized ---------------------------------------------------------------


async def test_malformed_frame_raises_protocol_error_and_next_request_works(
    scripted_server: Serve,
) -> None:
    async def garbage(conn: ServerConn) -> None:
        await conn.readline()
        await conn.send(frame(type="token", id="req-1", content="ok ") + b"{not json}\n")
        await conn.wait_eof()

    async with scripted_server(garbage, mock_tape) as server, unix_client(server) as client:
        with pytest.raises(MalformedFrame) as caught:
            await client.complete(hello())
        assert isinstance(caught.value, ProtocolError)
        assert caught.value.address == str(server.path)
        assert str(server.path) in caught.value.hint
        assert caught.value.line == b"{not json}"
        with anyio.fail_after(5):
            await server.connections[0].saw_eof.wait()
        assert (await client.complete(hello())).content == "alpha beta gamma"


async def test_token_frame_without_content_is_malformed() -> None:
    factory = ScriptFactory([frame(type="token", id="req-1")])
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        with pytest.raises(MalformedFrame):
            await client.complete(hello())
        assert factory.streams[0].closed


async def test_oversized_frame_raises_frame_too_large_and_closes() -> None:
    mib = b"x" * (1 << 20)
    chunks = [b'{"type":"token","id":"req-1","content":"'] + [mib] * 65
    factory = ScriptFactory(chunks, [_tape_bytes()])
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        with pytest.raises(FrameTooLarge) as caught:
            await client.complete(hello())
        assert caught.value.limit == MAX_FRAME_BYTES
        assert caught.value.address == "/x"
        assert "the daemon at /x" in caught.value.hint
        assert "max_tokens" in caught.value.hint
        assert factory.streams[0].closed
        assert (await client.complete(hello())).content == "alpha beta gamma"


# --- TCP auth (§7) -----------------------------------------------------------------------


def _auth_handler(key: str) -> Callable[[ServerConn], Any]:
    async def handler(conn: ServerConn) -> None:
        line = await conn.readline()
        if line is None or json.loads(line) != {"type": "auth", "key": key}:
            return  # silent close, zero frames
        await mock_tape(conn)

    return handler


async def test_auth_ok_sends_key_first_once_per_connection(scripted_server: Serve) -> None:
    async with scripted_server(_auth_handler("super-secret"), tcp=True) as server:
        endpoint = Endpoint.tcp("127.0.0.1", server.port)
        async with Client(endpoint, api_key="super-secret") as client:
            request = Request(id="auth-ok-1", messages=[Message(role="user", content="hi")])
            assert (await client.complete(request)).content == "alpha beta gamma"
            await client.complete(request)
            await client.aclose()
            await client.complete(request)
    auth = encode_auth("super-secret").rstrip(b"\n")
    assert server.connections[0].lines[0] == auth
    assert server.connections[0].lines.count(auth) == 1
    assert server.connections[1].lines[0] == auth


async def test_wrong_key_is_auth_rejected_naming_the_env_var_not_the_key(
    scripted_server: Serve,
) -> None:
    async with scripted_server(_auth_handler("super-secret"), tcp=True) as server:
        endpoint = Endpoint.tcp("127.0.0.1", server.port)
        client = Client(endpoint, api_key="WRONG", api_key_env="MY_KEY_VAR")
        async with client:
            with pytest.raises(AuthRejected) as caught:
                await client.complete(hello())
            assert not client.connected
    message = str(caught.value)
    assert "wrong or missing API key?" in message
    assert "$MY_KEY_VAR" in message
    assert "WRONG" not in message
    assert "WRONG" not in repr(client)
    assert server.connections[0].lines == [encode_auth("WRONG").rstrip(b"\n")]


async def test_missing_key_over_tcp_is_auth_rejected(scripted_server: Serve) -> None:
    async with scripted_server(_auth_handler("super-secret"), tcp=True) as server:
        client = Client(Endpoint.tcp("127.0.0.1", server.port))
        with pytest.raises(AuthRejected, match="missing API key"):
            await client.complete(hello())
        await client.aclose()


async def test_a_close_before_the_request_is_sent_is_not_an_auth_rejection() -> None:
    class ClosedAtOnce(ScriptStream):
        async def send(self, item: bytes) -> None:
            raise anyio.BrokenResourceError

    async def factory() -> anyio.abc.ByteStream:
        return ClosedAtOnce()

    client = Client(Endpoint.tcp("127.0.0.1", 1), api_key="k", stream_factory=factory)
    with pytest.raises(UnexpectedEof) as caught:
        await client.complete(hello())
    assert not isinstance(caught.value, AuthRejected)
    assert "before the request could be sent" in caught.value.hint
    assert "127.0.0.1:1" in caught.value.hint


async def test_key_is_never_sent_over_unix(scripted_server: Serve) -> None:
    async with scripted_server(mock_tape) as server:
        client = Client(Endpoint.unix(server.path), api_key="super-secret")
        await client.complete(hello())
        await client.aclose()
    assert all(b"super-secret" not in line for line in server.lines)


# --- cancellation (§6) -------------------------------------------------------------------


def _one_token_then_hold(conn_tokens: int = 1) -> Callable[[ServerConn], Any]:
    async def handler(conn: ServerConn) -> None:
        await conn.readline()
        for _ in range(conn_tokens):
            await conn.send(frame(type="token", id="req-1", content="alpha "))
        await conn.wait_eof()  # no terminal frame: only the client's close ends this

    return handler


async def test_cancelling_the_consumer_closes_the_connection_at_once(
    scripted_server: Serve,
) -> None:
    async with (
        scripted_server(_one_token_then_hold(), mock_tape) as server,
        unix_client(server) as client,
    ):
        got_token = anyio.Event()

        async def consume() -> None:
            async with contextlib.aclosing(client.generate(hello())) as frames:
                async for _ in frames:
                    got_token.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await got_token.wait()
            tg.cancel_scope.cancel()
        with anyio.fail_after(5):
            await server.connections[0].saw_eof.wait()
        assert not client.connected
        assert (await client.complete(hello())).content == "alpha beta gamma"
    assert len(server.connections) == 2


async def test_cancel_before_any_frame_closes_the_connection(scripted_server: Serve) -> None:
    async with (
        scripted_server(_one_token_then_hold(0), mock_tape) as server,
        unix_client(server) as client,
    ):
        with anyio.move_on_after(0.05):
            await client.complete(hello())
        with anyio.fail_after(5):
            await server.connections[0].saw_eof.wait()
        assert (await client.complete(hello())).content == "alpha beta gamma"


async def test_break_inside_aclosing_closes_the_connection(scripted_server: Serve) -> None:
    async with (
        scripted_server(_one_token_then_hold(), mock_tape) as server,
        unix_client(server) as client,
    ):
        async with contextlib.aclosing(client.generate(hello())) as frames:
            async for _ in frames:
                break
        with anyio.fail_after(5):
            await server.connections[0].saw_eof.wait()
        assert (await client.complete(hello())).content == "alpha beta gamma"


async def test_explicit_aclose_of_the_iterator_closes_the_connection(
    scripted_server: Serve,
) -> None:
    async with (
        scripted_server(_one_token_then_hold(), mock_tape) as server,
        unix_client(server) as client,
    ):
        frames = client.generate(hello())
        first = await frames.__anext__()
        assert isinstance(first, TokenFrame)
        await frames.aclose()
        with anyio.fail_after(5):
            await server.connections[0].saw_eof.wait()


async def test_leaving_the_client_closes_the_connection(scripted_server: Serve) -> None:
    async with scripted_server(mock_tape) as server:
        async with unix_client(server) as client:
            await client.complete(hello())
        with anyio.fail_after(5):
            await server.connections[0].saw_eof.wait()


# --- before sending ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (Request(id="e", messages=[]), "messages must not be empty"),
        (
            Request(id="b", messages=[Message(role="user", content="x")], image_token_budget=999),
            "image_token_budget 999 not in [70, 140, 280, 560, 1120]",
        ),
    ],
)
async def test_invalid_request_is_raised_without_sending(request_: Request, message: str) -> None:
    factory = ScriptFactory()
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        with pytest.raises(InvalidRequest) as caught:
            await client.complete(request_)
    assert message in str(caught.value)
    assert factory.streams == []


async def test_concurrent_generate_on_one_client_is_refused() -> None:
    factory = ScriptFactory([frame(type="token", id="req-1", content="a")], [_tape_bytes()])
    async with Client(Endpoint.unix("/x"), stream_factory=factory) as client:
        async with contextlib.aclosing(client.generate(hello())) as first:
            await first.__anext__()
            with pytest.raises(RuntimeError, match="one request at a time"):
                await client.complete(hello())
        # The first generation was closed early: the next one works on a new connection.
        assert (await client.complete(hello())).content == "alpha beta gamma"


async def test_generate_after_a_plain_break_takes_over_the_abandoned_request(
    scripted_server: Serve,
) -> None:
    async with (
        scripted_server(_one_token_then_hold(), mock_tape) as server,
        unix_client(server) as client,
    ):
        async for _ in client.generate(hello()):
            break  # no aclosing: the generator is dropped, to be closed by the loop later
        # At once, not after the loop got round to closing the abandoned generator.
        assert (await client.complete(hello("req-2"))).content == "alpha beta gamma"
        with anyio.fail_after(5):
            await server.connections[0].saw_eof.wait()  # the abandoned answer was cancelled
        await anyio.wait_all_tasks_blocked()  # the loop has finalized the old generator...
        assert client.connected  # ...without closing the new request's connection
        assert (await client.complete(hello("req-3"))).content == "alpha beta gamma"
    assert len(server.connections) == 2


async def test_wait_ready_keeps_the_connection_for_the_first_request(
    scripted_server: Serve,
) -> None:
    async with scripted_server(mock_tape) as server, unix_client(server) as client:
        await client.wait_ready(timeout=5)
        assert client.connected
        await client.complete(hello())
    assert len(server.connections) == 1


async def test_from_resolution_uses_the_resolved_endpoint_and_key(short_tmp: Path) -> None:
    from inferd_tui.client import resolve_endpoints

    resolution = resolve_endpoints(
        tcp="127.0.0.1:47321", env={"K": "s3cret", "HOME": str(short_tmp)}, api_key_env="K"
    )
    client = Client.from_resolution(resolution)
    assert client.endpoint == Endpoint.tcp("127.0.0.1", 47321)
    assert client.api_key_env == "K"
    assert "s3cret" not in repr(client)
    assert "s3cret" not in repr(resolution)
