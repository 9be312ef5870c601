"""The inference socket, from the daemon's side: every §11 vector and §4–§7 failure path."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import anyio
import pytest
from mockd_wire import HELLO, Wire, config, request

from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.mock_daemon import daemon as daemon_module
from inferd_tui.proto import MAX_FRAME_BYTES, Request

pytestmark = pytest.mark.anyio

TAPE = ("alpha ", "beta ", "gamma")


async def _served(daemon: MockDaemon, request_id: str = "ok") -> None:
    """A fresh connection gets a complete answer (the daemon still works)."""
    async with await Wire.unix(daemon.socket_path) as wire:
        await wire.send(request(request_id))
        frames = await wire.answer()
    assert frames[-1]["type"] == "done"
    assert frames[-1]["id"] == request_id


async def test_happy_path_tape_byte_for_byte(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, tokens=TAPE)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(b'{"id":"req-1","messages":[{"role":"user","content":"hello"}]}\n')
            lines = [await wire.raw_line() for _ in range(4)]
    assert lines == [
        b'{"type":"token","id":"req-1","content":"alpha "}',
        b'{"type":"token","id":"req-1","content":"beta "}',
        b'{"type":"token","id":"req-1","content":"gamma"}',
        b'{"type":"done","id":"req-1","content":"alpha beta gamma","usage":{"prompt_tokens":0,'
        b'"completion_tokens":3},"stop_reason":"end","backend":"mock"}',
    ]


ACCEPTED = [
    (b'{"id":"x","messages":[{"role":"user","content":"hi"}]}', "x"),
    (
        b'{"id":"abc123","messages":[{"role":"user","content":"hello"}],"temperature":0.7,'
        b'"top_k":40,"max_tokens":128,"stream":true,"image_token_budget":280}',
        "abc123",
    ),
    (b'{"id":"x","messages":[{"role":"user","content":"hi"}],"future_field":42}', "x"),
    (b'{"messages":[{"role":"user","content":"hi"}]}', ""),
    (
        b'{"id":"n","messages":[{"role":"user","content":"hi"}],"temperature":null,"stream":null}',
        "n",
    ),
    (
        b'{"id":"g","messages":[{"role":"user","content":"hi"}],'
        b'"grammar":"root ::= \\"yes\\" | \\"no\\""}',
        "g",
    ),
]


async def test_accepted_requests_all_on_one_connection(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            for line, request_id in ACCEPTED:
                await wire.send(line + b"\n")
                frames = await wire.answer()
                assert frames == [
                    {"type": "token", "id": request_id, "content": "mock-response"},
                    {
                        "type": "done",
                        "id": request_id,
                        "content": "mock-response",
                        "usage": {"prompt_tokens": 0, "completion_tokens": 1},
                        "stop_reason": "end",
                        "backend": "mock",
                    },
                ]
        assert daemon.completed_requests == len(ACCEPTED)


REJECTED_AND_CLOSED = {
    "not json": b"{ this is not json }",
    "empty line": b"",
    "whitespace line": b"   \t",
    "role tool": b'{"id":"r","messages":[{"role":"tool","content":"hi"}]}',
    "role User": b'{"id":"r","messages":[{"role":"User","content":"hi"}]}',
    "array content": b'{"id":"r","messages":[{"role":"user","content":[{"type":"text"}]}]}',
    "missing messages": b'{"id":"r"}',
    "null messages": b'{"id":"r","messages":null}',
    "numeric id": b'{"id":5,"messages":[{"role":"user","content":"hi"}]}',
    "null id": b'{"id":null,"messages":[{"role":"user","content":"hi"}]}',
    "negative top_k": b'{"id":"r","messages":[{"role":"user","content":"hi"}],"top_k":-1}',
    "string temperature": (
        b'{"id":"r","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}'
    ),
    "null grammar": b'{"id":"r","messages":[{"role":"user","content":"hi"}],"grammar":null}',
    "two objects": (
        b'{"id":"a","messages":[{"role":"user","content":"hi"}]}'
        b'{"id":"b","messages":[{"role":"user","content":"hi"}]}'
    ),
    "leading BOM": b'\xef\xbb\xbf{"id":"r","messages":[{"role":"user","content":"hi"}]}',
    # Python's json accepts these and serde_json does not; each one used to escape the
    # connection handler and take the whole daemon down.
    "NaN temperature": b'{"id":"r","messages":[{"role":"user","content":"hi"}],"temperature":NaN}',
    "Infinity temperature": (
        b'{"id":"r","messages":[{"role":"user","content":"hi"}],"temperature":Infinity}'
    ),
    "-Infinity top_p": b'{"id":"r","messages":[{"role":"user","content":"hi"}],"top_p":-Infinity}',
    "1e400 temperature": b'{"id":"r","messages":[{"role":"user","content":"hi"}],"temperature":1e400}',
    "5,000-digit integer": (
        b'{"id":"r","messages":[{"role":"user","content":"hi"}],"top_k":' + b"1" * 5000 + b"}"
    ),
    "100,000 nested arrays": (
        b'{"id":"r","messages":[{"role":"user","content":"hi"}],"x":'
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}"
    ),
    "lone surrogate escape": b'{"id":"r","messages":[{"role":"user","content":"\\ud800"}]}',
    "duplicate key": b'{"id":"r","id":"q","messages":[{"role":"user","content":"hi"}]}',
}


@pytest.mark.parametrize("line", REJECTED_AND_CLOSED.values(), ids=REJECTED_AND_CLOSED.keys())
async def test_decode_failure_answers_once_and_closes(sock_dir: Path, line: bytes) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            # A valid request after the bad line must never be answered: the daemon closed.
            await wire.send(line + b"\n" + HELLO)
            frame = await wire.frame()
            await wire.expect_eof()
            assert not wire.reset, "expected a clean EOF, not a connection reset"
        assert frame is not None
        assert set(frame) == {"type", "id", "code", "message"}
        assert frame["type"] == "error"
        assert frame["id"] == ""
        assert frame["code"] == "invalid_request"
        assert frame["message"].startswith("decode: ")
        assert daemon.completed_requests == 0
        await _served(daemon)


async def test_an_unexpected_handler_failure_closes_only_that_connection(
    sock_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_decode = daemon_module.decode_request

    def decode_or_break(line: bytes) -> Request:
        if b"break-me" in line:
            raise RuntimeError("a bug in the stand-in")
        return real_decode(line)

    monkeypatch.setattr(daemon_module, "decode_request", decode_or_break)
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as bystander:
            async with await Wire.unix(daemon.socket_path) as wire:
                await wire.send(request("x", content="break-me"))
                await wire.expect_eof()
            # Another connection, open all along, is still served, and so are new ones.
            await bystander.send(request("still-here"))
            assert (await bystander.answer())[-1]["id"] == "still-here"
        await _served(daemon)
    assert "a connection handler failed" in caplog.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"messages": []}, "invalid request: messages must not be empty"),
        (
            {"messages": [{"role": "user", "content": "hi"}], "image_token_budget": 999},
            "invalid request: image_token_budget 999 not in [70, 140, 280, 560, 1120]",
        ),
    ],
)
async def test_validation_failure_keeps_the_connection(
    sock_dir: Path, fields: dict[str, object], message: str
) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send((json.dumps({"id": "bad-1", **fields}) + "\n").encode())
            assert await wire.frame() == {
                "type": "error",
                "id": "bad-1",
                "code": "invalid_request",
                "message": message,
            }
            await wire.send(request("good-1"))
            frames = await wire.answer()
        assert frames[-1]["type"] == "done"
        assert frames[-1]["id"] == "good-1"


async def test_frame_too_large_without_newline(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        started = time.monotonic()
        async with await Wire.unix(daemon.socket_path) as wire:
            payload = b"x" * (MAX_FRAME_BYTES + 1)

            async def push() -> None:
                # The daemon stops reading and closes once over the cap: a broken pipe here.
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await wire.send(payload)

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(push)
                frame = await wire.frame()
                await wire.expect_eof()
            assert not wire.reset
        elapsed = time.monotonic() - started
        assert frame == {
            "type": "error",
            "id": "",
            "code": "frame_too_large",
            "message": "frame exceeds 67108864 byte cap",
        }
        assert elapsed < 5, f"reading a 64 MiB line took {elapsed:.1f} s"
        await _served(daemon)


async def test_line_of_exactly_the_cap_is_read(sock_dir: Path) -> None:
    """A 64 MiB line (the cap itself) is read as a line: here a decode error, not too large."""
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            prefix = b'{"id":"big","messages":[{"role":"user","content":"'
            suffix = b'"}],"x":1'  # missing the closing brace: a decode error after reading
            filler = b"a" * (MAX_FRAME_BYTES - len(prefix) - len(suffix))

            async def push() -> None:
                await wire.send(prefix + filler + suffix + b"\n")

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(push)
                frame = await wire.frame()
        assert frame is not None
        assert frame["code"] == "invalid_request"


async def test_crlf_is_accepted(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("crlf-1").rstrip(b"\n") + b"\r\n")
            assert (await wire.answer())[-1]["id"] == "crlf-1"
            await wire.send(request("crlf-2").rstrip(b"\n") + b"\r\n")
            assert (await wire.answer())[-1]["type"] == "done"


async def test_unterminated_final_line_is_accepted_and_half_close_does_not_cancel(
    sock_dir: Path,
) -> None:
    async with MockDaemon.start(config(sock_dir, tokens=TAPE, token_delay_s=0.01)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("last").rstrip(b"\n"))
            await wire.send_eof()
            frames = await wire.answer()
            await wire.expect_eof()
        assert [frame["type"] for frame in frames] == ["token"] * 3 + ["done"]
        assert frames[-1]["content"] == "alpha beta gamma"
        assert daemon.cancelled_requests == 0


async def test_requests_on_one_connection_are_sequential(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, tokens=TAPE, token_delay_s=0.005)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("first") + request("second"))  # pipelined in one write
            first = await wire.answer()
            second = await wire.answer()
    assert [frame["id"] for frame in first] == ["first"] * 4
    assert [frame["id"] for frame in second] == ["second"] * 4


async def test_chunked_request_bytes(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            for byte in request("chunks"):
                await wire.send(bytes([byte]))
            assert (await wire.answer())[-1]["id"] == "chunks"


async def test_error_before_stream_keeps_the_connection(sock_dir: Path) -> None:
    cfg = config(sock_dir, error_before_stream=("backend_unavailable", "backend not ready"))
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            for request_id in ("e1", "e2"):
                await wire.send(request(request_id))
                assert await wire.answer() == [
                    {
                        "type": "error",
                        "id": request_id,
                        "code": "backend_unavailable",
                        "message": "backend not ready",
                    }
                ]


async def test_drop_after_n_tokens(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, tokens=TAPE, drop_after=2)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("drop"))
            frames = await wire.answer()
            await wire.send(request("again"))
            assert (await wire.answer())[-1]["code"] == "backend_unavailable"
    assert frames == [
        {"type": "token", "id": "drop", "content": "alpha "},
        {"type": "token", "id": "drop", "content": "beta "},
        {
            "type": "error",
            "id": "drop",
            "code": "backend_unavailable",
            "message": "backend ended stream without terminal frame",
        },
    ]


# --- admission and cancellation (§6) ---------------------------------------------------

#: One token bigger than a socket buffer: a generation whose client is not reading stays
#: active (blocked writing) until the client reads. This holds the pool without timers.
BIG = "x" * (4 << 20)


async def test_queue_full_then_served_once_the_pool_drains(sock_dir: Path) -> None:
    cfg = config(sock_dir, tokens=(BIG,), active_permits=1, queue_depth=2)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        holders = [await Wire.unix(daemon.socket_path) for _ in range(3)]
        for index, holder in enumerate(holders):
            await holder.send(request(f"hold-{index}"))
        await daemon.wait_until(lambda d: d.active_generations == 1 and d.queued_generations == 2)
        async with await Wire.unix(daemon.socket_path) as extra:
            await extra.send(request("extra-1"))
            assert await extra.frame() == {
                "type": "error",
                "id": "extra-1",
                "code": "queue_full",
                "message": "queue full",
            }
            # Read the pool empty: every admitted request completes, in order of admission.
            for index, holder in enumerate(holders):
                frames = await holder.answer()
                assert frames[-1] == {
                    "type": "done",
                    "id": f"hold-{index}",
                    "content": BIG,
                    "usage": {"prompt_tokens": 0, "completion_tokens": 1},
                    "stop_reason": "end",
                    "backend": "mock",
                }
                await holder.stream.aclose()
            await daemon.wait_until(lambda d: d.active_generations + d.queued_generations == 0)
            await extra.send(request("extra-2"))  # same connection: queue_full kept it open
            assert (await extra.answer())[-1]["id"] == "extra-2"
        assert daemon.queue_full_rejections == 1


async def test_cancel_by_disconnect_releases_the_permit(sock_dir: Path) -> None:
    tokens = tuple(f"t{index} " for index in range(1000))
    cfg = config(sock_dir, tokens=tokens, token_delay_s=0.01, active_permits=1, queue_depth=0)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("cancel-me"))
            assert (await wire.frame()) == {"type": "token", "id": "cancel-me", "content": "t0 "}
        # Closing the connection is the cancel: the server notices at once (not after the
        # remaining ~10 s of tokens), frees the permit and sends no terminal frame.
        with anyio.fail_after(2):
            await daemon.wait_until(
                lambda d: d.cancelled_requests == 1 and d.active_generations == 0
            )
        assert daemon.completed_requests == 0
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("next"))
            # With no queue at all, a leaked permit would answer queue_full here.
            assert await wire.frame() == {"type": "token", "id": "next", "content": "t0 "}


async def test_cancel_while_queued(sock_dir: Path) -> None:
    cfg = config(sock_dir, tokens=(BIG,), active_permits=1, queue_depth=1)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as holder:
            await holder.send(request("hold"))
            await daemon.wait_until(lambda d: d.active_generations == 1)
            async with await Wire.unix(daemon.socket_path) as queued:
                await queued.send(request("queued"))
                await daemon.wait_until(lambda d: d.queued_generations == 1)
            await daemon.wait_until(lambda d: d.cancelled_requests == 1)
            assert daemon.queued_generations == 0
            assert (await holder.answer())[-1]["type"] == "done"


# --- TCP and the API key (§7) ----------------------------------------------------------


def _tcp_config(sock_dir: Path, **overrides: object) -> MockConfig:
    return config(
        sock_dir,
        tcp=("127.0.0.1", 0),
        api_key="super-secret",
        tokens=("ok",),
        **overrides,
    )


async def test_tcp_auth_ok(sock_dir: Path) -> None:
    async with MockDaemon.start(_tcp_config(sock_dir)) as daemon:
        await daemon.wait_ready()
        assert daemon.tcp_address is not None
        assert daemon.tcp_address[1] != 0
        async with await Wire.tcp(daemon.tcp_address) as wire:
            await wire.send(b'{"type":"auth","key":"super-secret"}\n')
            await wire.send(b'{"id":"auth-ok-1","messages":[{"role":"user","content":"hi"}]}\n')
            lines = [await wire.raw_line(), await wire.raw_line()]
        assert lines == [
            b'{"type":"token","id":"auth-ok-1","content":"ok"}',
            b'{"type":"done","id":"auth-ok-1","content":"ok","usage":{"prompt_tokens":0,'
            b'"completion_tokens":1},"stop_reason":"end","backend":"mock"}',
        ]


@pytest.mark.parametrize(
    "first_lines",
    [
        b'{"type":"auth","key":"WRONG"}\n',
        b'{"type":"auth","key":"WRONG"}\n' + HELLO,
        HELLO,  # missing: the first line must be the auth line
        b'{"type":"auth"}\n',
    ],
    ids=["wrong", "wrong-then-request", "missing", "no-key"],
)
async def test_tcp_auth_rejected_silently(sock_dir: Path, first_lines: bytes) -> None:
    async with MockDaemon.start(_tcp_config(sock_dir)) as daemon:
        await daemon.wait_ready()
        async with await Wire.tcp(daemon.tcp_address) as wire:
            await wire.send(first_lines)
            await wire.expect_eof()  # zero frames
            assert not wire.reset, "expected a clean EOF, not a connection reset"
        assert daemon.auth_failures == 1
        assert daemon.requests_seen == 0
        async with await Wire.tcp(daemon.tcp_address) as wire:
            await wire.send(b'{"type":"auth","key":"super-secret"}\n' + HELLO)
            assert (await wire.answer())[-1]["type"] == "done"


async def test_unix_socket_needs_no_key_and_tcp_decode_error_closes(sock_dir: Path) -> None:
    async with MockDaemon.start(_tcp_config(sock_dir)) as daemon:
        await daemon.wait_ready()
        await _served(daemon)
        async with await Wire.tcp(daemon.tcp_address) as wire:
            await wire.send(b'{"type":"auth","key":"super-secret"}\n{ nope }\n')
            frame = await wire.frame()
            await wire.expect_eof()
        assert frame is not None
        assert frame["code"] == "invalid_request"


async def test_tcp_without_key(sock_dir: Path) -> None:
    cfg = config(sock_dir, socket_path=None, tcp=("127.0.0.1", 0), tokens=TAPE)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        async with await Wire.tcp(daemon.tcp_address) as wire:
            await wire.send(request("plain"))
            assert (await wire.answer())[-1]["content"] == "alpha beta gamma"


def test_tcp_is_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        MockConfig(tcp=("0.0.0.0", 0))
