"""The transport seam: OSError → ConnectError once, transient vs permanent, and messages
that name the path and say what to do."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from inferd_tui.client import ConnectError, Endpoint, connect, connect_admin, translate_os_error
from inferd_tui.client import transport as transport_module
from inferd_tui.client.transport import UnixSocketStream

pytestmark = pytest.mark.anyio

UNIX = Endpoint.unix("/x/infer.sock")
TCP = Endpoint.tcp("127.0.0.1", 47321)


async def test_missing_socket_is_transient_and_says_so(short_tmp: Path) -> None:
    path = short_tmp / "infer.sock"
    with pytest.raises(ConnectError) as caught:
        await connect(Endpoint.unix(path))
    error = caught.value
    assert error.transient
    assert error.title == "no daemon"
    assert error.address == str(path)
    assert str(error) == (
        f"no daemon: No daemon at {path} — is inferd running? Try `inferd-tui --demo`."
    )
    assert isinstance(error.__cause__, FileNotFoundError)


async def test_stale_socket_file_is_refused_and_transient(short_tmp: Path) -> None:
    path = short_tmp / "infer.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))  # bound, never listening: what a crashed daemon leaves behind
    try:
        with pytest.raises(ConnectError) as caught:
            await connect(Endpoint.unix(path))
    finally:
        sock.close()
    assert caught.value.transient
    assert caught.value.title == "connection refused"
    assert "stale socket file" in caught.value.hint


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        pytest.param(lambda path: path.write_text("not a socket"), "a regular file", id="file"),
        pytest.param(lambda path: path.mkdir(), "a directory", id="directory"),
    ],
)
async def test_something_else_at_the_socket_path_is_permanent(
    short_tmp: Path, make: Callable[[Path], object], kind: str
) -> None:
    path = short_tmp / "infer.sock"
    make(path)  # connecting to either gives ECONNREFUSED, like a stale socket file
    with pytest.raises(ConnectError) as caught:
        await connect(Endpoint.unix(path))
    assert not caught.value.transient
    assert caught.value.title == "not a socket"
    assert caught.value.hint.startswith(f"{path} is {kind}, not a socket")
    assert "--socket / INFERD_UDS" in caught.value.hint
    with pytest.raises(ConnectError) as admin:
        await connect_admin(path)
    assert "--admin / INFERD_ADMIN_ADDR" in admin.value.hint


async def test_a_path_with_a_nul_byte_is_a_connect_error(short_tmp: Path) -> None:
    with pytest.raises(ConnectError):  # not a ValueError escaping the transport seam
        await connect(Endpoint.unix(short_tmp / "in\x00fer.sock"))


async def test_a_symlink_to_a_stale_socket_is_still_transient(short_tmp: Path) -> None:
    target = short_tmp / "real.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(target))
    (short_tmp / "infer.sock").symlink_to(target)
    try:
        with pytest.raises(ConnectError) as caught:
            await connect(Endpoint.unix(short_tmp / "infer.sock"))
    finally:
        sock.close()
    assert caught.value.transient


@pytest.mark.skipif(os.geteuid() == 0, reason="root bypasses file permissions")
async def test_real_permission_denied(short_tmp: Path) -> None:  # pragma: no cover - root CI
    path = short_tmp / "infer.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.listen()
    path.chmod(0)
    try:
        with pytest.raises(ConnectError) as caught:
            await connect(Endpoint.unix(path))
    finally:
        sock.close()
    assert not caught.value.transient


async def test_permission_denied_is_permanent_and_actionable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def denied(path: Path) -> UnixSocketStream:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(transport_module, "connect_unix_socket", denied)
    with pytest.raises(ConnectError) as caught:
        await connect(UNIX)
    assert not caught.value.transient
    assert caught.value.hint == (
        "Permission denied on /x/infer.sock — the socket is mode 0660; add your user to "
        "the daemon's group (then log in again)."
    )
    with pytest.raises(ConnectError) as admin:
        await connect_admin(Path("/x/admin.sock"))
    assert "/x/admin.sock" in admin.value.hint
    assert "0600" in admin.value.hint


async def test_path_too_long_is_a_permanent_bad_address(short_tmp: Path) -> None:
    with pytest.raises(ConnectError) as caught:
        await connect(Endpoint.unix(short_tmp / ("x" * 200)))
    assert not caught.value.transient
    assert caught.value.title == "bad address"


async def test_tcp_refused_is_transient() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(ConnectError) as caught:
        await connect(Endpoint.tcp("127.0.0.1", port))
    assert caught.value.transient
    assert caught.value.title == "connection refused"
    assert f"127.0.0.1:{port}" in caught.value.hint


@pytest.mark.parametrize(
    ("exc", "transient", "title"),
    [
        (FileNotFoundError(errno.ENOENT, "No such file"), True, "no daemon"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), True, "connection refused"),
        (OSError(errno.ETIMEDOUT, "timed out"), True, "connection timed out"),
        (OSError(errno.EADDRNOTAVAIL, "not available"), True, "cannot connect"),
        (OSError(errno.EAGAIN, "try again"), True, "cannot connect"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), True, "cannot connect"),
        (TimeoutError(), True, "connection timed out"),
        (PermissionError(errno.EPERM, "not permitted"), False, "permission denied"),
        (NotADirectoryError(errno.ENOTDIR, "not a dir"), False, "bad address"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), False, "unknown host"),
        (OSError(errno.EIO, "I/O error"), False, "cannot connect"),
    ],
)
def test_translation_table(exc: BaseException, transient: bool, title: str) -> None:
    error = translate_os_error(exc, endpoint=TCP)
    assert (error.transient, error.title) == (transient, title)
    assert "127.0.0.1:47321" in error.hint


def test_anyio_wrapped_tcp_failure_is_unwrapped() -> None:
    wrapped = OSError("All connection attempts failed")
    wrapped.__cause__ = ExceptionGroup(
        "multiple connection attempts failed",
        [ConnectionRefusedError(errno.ECONNREFUSED, "refused")],
    )
    error = translate_os_error(wrapped, endpoint=TCP)
    assert error.transient
    assert error.title == "connection refused"


async def test_cancelled_reader_racing_incoming_data_is_clean() -> None:
    """Cancel a receive in the same loop iteration its data arrives: no asyncio
    'Exception in callback … InvalidStateError' (the anyio 4.16 Unix stream has one)."""
    for _ in range(20):
        left, right = socket.socketpair()
        stream = UnixSocketStream(left)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(stream.receive)
                await anyio.wait_all_tasks_blocked()
                right.send(b"token")
                # One loop iteration: the selector queues the reader's wake-up, and this
                # task runs first and cancels the reader before that wake-up runs.
                await anyio.lowlevel.checkpoint()
                tg.cancel_scope.cancel()
        finally:
            await stream.aclose()
            right.close()


async def test_unix_stream_close_wakes_a_blocked_reader() -> None:
    left, right = socket.socketpair()
    stream = UnixSocketStream(left)

    async def receive_while_closed() -> None:
        async with anyio.create_task_group() as tg:

            async def close_soon() -> None:
                await anyio.wait_all_tasks_blocked()
                await stream.aclose()

            tg.start_soon(close_soon)
            with pytest.raises(anyio.ClosedResourceError):
                await stream.receive()

    try:
        await receive_while_closed()
    finally:
        right.close()
