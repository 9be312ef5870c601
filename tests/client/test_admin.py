"""The admin subscription (§8): events, unknown keys, reconnect with notices, malformed
lines, permission denied, and the one-shot snapshot reader; daemon eras (§9)."""

from __future__ import annotations

import contextlib
import json
from collections import deque
from pathlib import Path

import anyio
import anyio.abc
import anyio.lowlevel
import pytest
from client_helpers import ScriptStream, ServerConn, serve

from inferd_tui.client import (
    AdminEvent,
    AdminNotice,
    ConnectError,
    ConnectTimeout,
    UnexpectedEof,
    daemon_era,
    read_admin_state,
    watch_admin,
)
from inferd_tui.proto import encode_admin_event

pytestmark = pytest.mark.anyio

ADMIN = Path("/x/admin.sock")


def admin(**fields: object) -> bytes:
    return encode_admin_event({"id": "admin", "type": "status", **fields})


STARTING = admin(status="starting")
READY = admin(status="ready")
DRAINING = admin(status="draining")
CAPS = admin(
    status="capabilities",
    backend="mock",
    v2=False,
    vision=False,
    audio=False,
    tools=False,
    thinking=False,
    embed=False,
    accelerator="cpu",
    gpu_layers=0,
)

SPEC_VECTORS = [
    b'{"downloaded_bytes":1024,"id":"admin","phase":"download","source_url":"https://x",'
    b'"status":"loading_model","total_bytes":null,"type":"status"}',
    b'{"actual_sha256":"bbbb","expected_sha256":"aaaa","id":"admin","path":"/tmp/x.gguf",'
    b'"phase":"quarantine","quarantine_path":"/tmp/x.gguf.quarantine",'
    b'"status":"loading_model","type":"status"}',
    b'{"id":"admin","path":"/x.gguf","phase":"mmap","status":"restarting","type":"status"}',
    b'{"id":"admin","status":"draining","type":"status"}',
    b'{"extra_key":42,"id":"admin","status":"future_state","type":"status"}',
]


class Dialer:
    """A ``connect`` callable: each entry is a list of chunks (a connection that delivers
    them, then EOF) or a ConnectError to raise."""

    def __init__(self, *attempts: list[bytes] | ConnectError) -> None:
        self.attempts = deque(attempts)
        self.streams: list[ScriptStream] = []

    async def __call__(self) -> anyio.abc.ByteStream:
        attempt = (
            self.attempts.popleft()
            if self.attempts
            else ConnectError("no daemon", address=str(ADMIN), transient=True)
        )
        if isinstance(attempt, ConnectError):
            raise attempt
        stream = ScriptStream(attempt)
        self.streams.append(stream)
        return stream


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await anyio.lowlevel.checkpoint()


async def take(n: int, **kwargs: object) -> list[AdminEvent | AdminNotice]:
    items: list[AdminEvent | AdminNotice] = []
    async with contextlib.aclosing(watch_admin(ADMIN, **kwargs)) as stream:  # type: ignore[arg-type]
        async for item in stream:
            items.append(item)
            if len(items) == n:
                break
    return items


def describe(items: list[AdminEvent | AdminNotice]) -> list[str]:
    return [
        f"notice:{item.kind}" if isinstance(item, AdminNotice) else f"event:{item.status}"
        for item in items
    ]


async def test_events_over_a_real_socket_with_unknown_keys(short_tmp: Path) -> None:
    path = short_tmp / "admin.sock"

    async def boot(conn: ServerConn) -> None:
        await conn.send(STARTING + b"".join(line + b"\n" for line in SPEC_VECTORS))
        await conn.wait_eof()

    async with serve([boot], path=path) as server:
        items: list[AdminEvent | AdminNotice] = []
        async with contextlib.aclosing(watch_admin(path)) as stream:
            async for item in stream:
                items.append(item)
                if len(items) == 7:
                    break
        with anyio.fail_after(5):
            await server.connections[0].saw_eof.wait()  # closing the iterator closed it
    assert describe(items) == [
        "notice:connected",
        "event:starting",
        "event:loading_model",
        "event:loading_model",
        "event:restarting",
        "event:draining",
        "event:future_state",
    ]
    download, quarantine, restarting = items[2], items[3], items[4]
    assert isinstance(download, AdminEvent)
    assert (download.phase, download.downloaded_bytes, download.total_bytes) == (
        "download",
        1024,
        None,
    )
    assert isinstance(quarantine, AdminEvent)
    assert quarantine.quarantine_path == "/tmp/x.gguf.quarantine"
    assert isinstance(restarting, AdminEvent)
    assert restarting.phase == "mmap"
    future = items[6]
    assert isinstance(future, AdminEvent)
    assert future.extra_keys == {"extra_key": 42}


async def test_reconnects_after_eof_and_gets_a_fresh_snapshot() -> None:
    sleeps = Sleeps()
    dial = Dialer([STARTING], [CAPS + READY])  # first connection dropped (restart / lag)
    items = await take(7, connect=dial, sleep=sleeps)
    assert describe(items) == [
        "notice:connected",
        "event:starting",
        "notice:disconnected",
        "notice:connected",
        "event:capabilities",
        "event:ready",
        "notice:disconnected",
    ]
    notice = items[2]
    assert isinstance(notice, AdminNotice)
    assert notice.message == "admin disconnected, retrying in 0.1 s"
    assert notice.retry_in == pytest.approx(0.1)
    assert sleeps.calls == pytest.approx([0.1])
    assert all(stream.closed for stream in dial.streams)


async def test_a_daemon_that_closes_at_once_is_retried_with_growing_backoff() -> None:
    sleeps = Sleeps()
    dial = Dialer([], [], [], [READY])  # accepted, then closed before any event
    items = await take(9, connect=dial, sleep=sleeps)
    assert describe(items) == [
        *["notice:connected", "notice:disconnected"] * 3,
        "notice:connected",
        "event:ready",
        "notice:disconnected",
    ]
    # Backoff grows while connections end empty; an event resets it.
    assert sleeps.calls == pytest.approx([0.1, 0.2, 0.4])
    last = items[-1]
    assert isinstance(last, AdminNotice)
    assert last.retry_in == pytest.approx(0.1)


async def test_retries_with_backoff_while_the_daemon_is_away() -> None:
    sleeps = Sleeps()
    gone = ConnectError("No daemon at /x/admin.sock", address=str(ADMIN), transient=True)
    dial = Dialer(gone, gone, gone, [READY])
    items = await take(5, connect=dial, sleep=sleeps, backoff_initial=0.5, backoff_max=1.0)
    assert describe(items) == [
        "notice:retrying",
        "notice:retrying",
        "notice:retrying",
        "notice:connected",
        "event:ready",
    ]
    assert [n.retry_in for n in items[:3] if isinstance(n, AdminNotice)] == [0.5, 1.0, 1.0]
    first = items[0]
    assert isinstance(first, AdminNotice)
    assert first.error is gone
    assert "retrying in 0.5 s" in first.message


async def test_permission_denied_is_reported_and_retried_slowly() -> None:
    sleeps = Sleeps()
    denied = ConnectError(
        "Permission denied on /x/admin.sock",
        title="permission denied",
        address=str(ADMIN),
        transient=False,
    )
    items = await take(2, connect=Dialer(denied, denied), sleep=sleeps, backoff_max=5.0)
    assert describe(items) == ["notice:permission_denied", "notice:permission_denied"]
    first = items[0]
    assert isinstance(first, AdminNotice)
    assert first.message.startswith("admin socket /x/admin.sock: permission denied, retrying in")
    assert first.message.endswith("(mode 0600, owned by the daemon's user)")
    assert first.retry_in == 5.0
    assert sleeps.calls == [5.0]


async def test_malformed_line_is_reported_and_skipped() -> None:
    dial = Dialer([STARTING + b"{not json\n" + b"[1,2]\n" + b"\n" + READY])
    items = await take(5, connect=dial, sleep=Sleeps())
    assert describe(items) == [
        "notice:connected",
        "event:starting",
        "notice:malformed",
        "notice:malformed",
        "event:ready",
    ]
    notice = items[2]
    assert isinstance(notice, AdminNotice)
    assert "not JSON" in notice.message
    assert str(ADMIN) in notice.message


async def test_without_reconnect_it_ends_at_eof_after_draining() -> None:
    dial = Dialer([CAPS + READY + DRAINING])
    items: list[AdminEvent | AdminNotice] = []
    async with contextlib.aclosing(watch_admin(ADMIN, reconnect=False, connect=dial)) as stream:
        async for item in stream:
            items.append(item)
    assert describe(items) == [
        "notice:connected",
        "event:capabilities",
        "event:ready",
        "event:draining",
    ]


async def test_without_reconnect_a_missing_socket_raises(short_tmp: Path) -> None:
    with pytest.raises(ConnectError) as caught:
        await _first(short_tmp / "admin.sock")
    assert caught.value.transient
    assert "No admin socket at" in caught.value.hint


async def _first(path: Path) -> AdminEvent | AdminNotice:
    async with contextlib.aclosing(watch_admin(path, reconnect=False)) as stream:
        async for item in stream:
            return item
    raise AssertionError("no item")


async def test_read_admin_state_of_a_ready_daemon() -> None:
    snapshot = await read_admin_state(ADMIN, connect=Dialer([CAPS + READY]))
    assert snapshot.state.status == "ready"
    assert snapshot.ready
    assert [c.backend for c in snapshot.capabilities] == ["mock"]
    assert snapshot.era == "0.2–0.3"


async def test_read_admin_state_mid_download() -> None:
    snapshot = await read_admin_state(ADMIN, connect=Dialer([SPEC_VECTORS[0] + b"\n"]))
    assert snapshot.state.phase == "download"
    assert not snapshot.ready
    assert snapshot.capabilities == ()


async def test_read_admin_state_eof_before_state() -> None:
    with pytest.raises(UnexpectedEof, match="closed before sending"):
        await read_admin_state(ADMIN, connect=Dialer([CAPS]))


async def test_read_admin_state_times_out(short_tmp: Path) -> None:
    path = short_tmp / "admin.sock"

    async def silent(conn: ServerConn) -> None:
        await conn.wait_eof()

    async with serve([silent], path=path):
        with pytest.raises(ConnectTimeout, match="sent no state"):
            await read_admin_state(path, timeout=0.05)


def _event(line: bytes) -> AdminEvent:
    return AdminEvent.model_validate(json.loads(line))


def test_daemon_eras() -> None:
    caps = _event(CAPS)
    v4 = _event(admin(status="capabilities", backend="m", wire_version=2))
    ready = _event(READY)
    assert daemon_era([ready]) == "0.1"
    assert daemon_era([caps, ready]) == "0.2–0.3"
    assert daemon_era([caps, v4, ready]) == "0.4+"
