"""The transport seam: open a byte stream to the daemon, translating ``OSError`` once.

Everything above this module sees only :class:`anyio.abc.ByteStream` and the error
hierarchy; tests hand the client any byte stream through a :data:`StreamFactory`.

Unix sockets use :class:`UnixSocketStream`, a small byte stream over a non-blocking
socket and ``anyio.wait_readable``. anyio 4.16's own Unix stream on asyncio wakes a
reader with ``Future.set_result`` from an ``add_reader`` callback; when the reading task
is cancelled in the same loop iteration that data arrives (a user cancelling while tokens
stream in: the normal way to stop a generation), asyncio reports an ``InvalidStateError``
"Exception in callback". ``anyio.wait_readable`` tolerates that race.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import stat
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeAlias

import anyio
import anyio.lowlevel
from anyio.abc import ByteStream, SocketAttribute

from inferd_tui.client.endpoints import Endpoint
from inferd_tui.proto.errors import ConnectError

StreamFactory: TypeAlias = Callable[[], Awaitable[ByteStream]]

Surface = Literal["inference", "admin"]

#: A TCP connect that hangs (a black-holed host) counts as "timed out": transient.
DEFAULT_CONNECT_TIMEOUT = 10.0

# §2's transient list is refused, not found, timed out and address not available; the
# two others are deliberate additions.
_TRANSIENT = frozenset(
    {
        errno.ENOENT,  # no socket file yet (daemon not started, or not bound yet)
        errno.ECONNREFUSED,  # stale socket file, or nothing listening on the port
        errno.ETIMEDOUT,
        errno.EADDRNOTAVAIL,
        # Beyond §2: a Unix listener's backlog is full. The daemon is there and busy
        # accepting; waiting is exactly what helps, failing at once would not.
        errno.EAGAIN,
        # Beyond §2: a connect can only be reset by a listener that vanished mid-handshake
        # (a daemon restarting or stopping): refused a moment later, so the same verdict.
        errno.ECONNRESET,
    }
)
_PERMISSION = frozenset({errno.EACCES, errno.EPERM})
_MALFORMED = frozenset({errno.ENOTDIR, errno.ENOTSOCK, errno.ENAMETOOLONG, errno.EINVAL})

_DEMO_HINT = "Try `inferd-tui --demo`."


def _root_errno(exc: OSError) -> int | None:
    """anyio's ``connect_tcp`` wraps per-address failures: dig out the first errno."""
    if exc.errno is not None:
        return exc.errno
    cause = exc.__cause__
    if isinstance(cause, OSError):
        return _root_errno(cause)
    if isinstance(cause, BaseExceptionGroup):
        for inner in cause.exceptions:
            if isinstance(inner, OSError) and (code := _root_errno(inner)) is not None:
                return code
    return None


def translate_os_error(
    exc: BaseException, *, endpoint: Endpoint, surface: Surface = "inference"
) -> ConnectError:
    """Map a failure to connect to a :class:`ConnectError` a user can act on.

    Not found / refused / timed out / address not available are transient (Pattern A
    waits them out); permission denied, a malformed address and anything else are not.
    """
    where = endpoint.display
    if isinstance(exc, TimeoutError):
        return ConnectError(
            f"Timed out connecting to {where} — is the daemon overloaded or the host unreachable?",
            title="connection timed out",
            address=where,
            transient=True,
        )
    if isinstance(exc, socket.gaierror):
        return ConnectError(
            f"Cannot resolve the host in {where} ({exc.strerror or exc}) — check the address.",
            title="unknown host",
            address=where,
            transient=False,
        )
    code = _root_errno(exc) if isinstance(exc, OSError) else None
    unix = endpoint.kind == "unix"
    if code == errno.ENOENT:
        hint = (
            f"No daemon at {where} — is inferd running? {_DEMO_HINT}"
            if surface == "inference"
            else f"No admin socket at {where} — is inferd running? {_DEMO_HINT}"
        )
        return ConnectError(hint, title="no daemon", address=where, transient=True)
    if code == errno.ECONNREFUSED:
        if unix:
            hint = (
                f"Nothing is listening on {where} (a stale socket file, or the daemon is "
                f"still loading) — is inferd running? {_DEMO_HINT}"
            )
        else:
            hint = (
                f"Connection refused at {where} — is inferd running with TCP enabled "
                "(INFERD_TCP) on that address?"
            )
        return ConnectError(hint, title="connection refused", address=where, transient=True)
    if code in _PERMISSION:
        if surface == "admin":
            hint = (
                f"Permission denied on {where} — the admin socket is mode 0600, owned by "
                "the daemon's user; run as that user."
            )
        elif unix:
            hint = (
                f"Permission denied on {where} — the socket is mode 0660; add your user "
                "to the daemon's group (then log in again)."
            )
        else:
            hint = f"Permission denied connecting to {where} — a firewall or policy blocks it."
        return ConnectError(hint, title="permission denied", address=where, transient=False)
    if code in _TRANSIENT:
        reason = (
            exc.strerror if isinstance(exc, OSError) and exc.strerror else errno.errorcode[code]
        )
        return ConnectError(
            f"Could not connect to {where} ({reason}) — the daemon may be starting; retry.",
            address=where,
            transient=True,
        )
    detail = str(exc) or type(exc).__name__
    if code in _MALFORMED or (unix and "too long" in detail):
        return ConnectError(
            f"{where} is not a usable socket address ({detail}) — check --socket / "
            "INFERD_UDS (Unix socket paths are limited to 107 bytes).",
            title="bad address",
            address=where,
            transient=False,
        )
    return ConnectError(f"Could not connect to {where}: {detail}", address=where, transient=False)


class UnixSocketStream(ByteStream):
    """A connected, non-blocking ``AF_UNIX`` stream socket as an anyio byte stream."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._socket = sock
        self._closed = False

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {
            SocketAttribute.raw_socket: lambda: self._socket,
            SocketAttribute.family: lambda: self._socket.family,
            SocketAttribute.remote_address: lambda: self._socket.getpeername(),
        }

    async def receive(self, max_bytes: int = 65536) -> bytes:
        # Always a cancel point, even when data is waiting: a consumer that never blocks
        # must still be cancellable.
        await anyio.lowlevel.checkpoint()
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                data = self._socket.recv(max_bytes)
            except BlockingIOError:
                await anyio.wait_readable(self._socket)
            except OSError as exc:
                if self._closed:
                    raise anyio.ClosedResourceError from None
                raise anyio.BrokenResourceError from exc
            else:
                if not data:
                    raise anyio.EndOfStream
                return data

    async def send(self, item: bytes) -> None:
        await anyio.lowlevel.checkpoint()
        view = memoryview(item)
        while view:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                sent = self._socket.send(view)
            except BlockingIOError:
                await anyio.wait_writable(self._socket)
            except OSError as exc:
                if self._closed:
                    raise anyio.ClosedResourceError from None
                raise anyio.BrokenResourceError from exc
            else:
                view = view[sent:]

    async def send_eof(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_WR)

    async def aclose(self) -> None:
        # Synchronous on purpose: closing is how a generation is cancelled, and it must
        # happen even in a cancelled task.
        if not self._closed:
            self._closed = True
            anyio.notify_closing(self._socket)  # wakes a reader blocked in another task
            self._socket.close()


async def connect_unix_socket(path: Path) -> UnixSocketStream:
    """Connect to a Unix stream socket (raises ``OSError``)."""
    await anyio.lowlevel.checkpoint()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        while True:
            try:
                sock.connect(str(path))
            except BlockingIOError:  # the listener's backlog is full: wait and retry
                await anyio.wait_writable(sock)
            else:
                return UnixSocketStream(sock)
    except BaseException:
        sock.close()
        raise


_FILE_KINDS = {stat.S_IFREG: "a regular file", stat.S_IFDIR: "a directory"}


def _not_a_socket(path: Path, surface: Surface) -> ConnectError | None:
    """If something other than a socket is at ``path``, the permanent error that says so.

    Connecting to a regular file or a directory fails with ECONNREFUSED on Linux, which
    would otherwise read as a stale socket file and be retried until the deadline. The
    check follows symlinks, as connect does (a link to a socket is fine).
    """
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):  # ValueError: a NUL byte, which no path can hold
        return None  # nothing there, or nothing we may see: the errno tells the rest
    if stat.S_ISSOCK(mode):
        return None
    what = _FILE_KINDS.get(stat.S_IFMT(mode), "a file of another kind")
    flags = "--socket / INFERD_UDS" if surface == "inference" else "--admin / INFERD_ADMIN_ADDR"
    return ConnectError(
        f"{path} is {what}, not a socket — point {flags} at the daemon's socket, or "
        "remove what is there if a daemon should create it.",
        title="not a socket",
        address=str(path),
        transient=False,
    )


async def connect(
    endpoint: Endpoint,
    *,
    surface: Surface = "inference",
    timeout: float = DEFAULT_CONNECT_TIMEOUT,  # noqa: ASYNC109 - a deadline, not a cancel scope
) -> ByteStream:
    """Open one connection to ``endpoint``; failures become :class:`ConnectError`."""
    try:
        with anyio.fail_after(timeout):
            if endpoint.kind == "unix":
                if endpoint.path is None:
                    raise ValueError("a unix endpoint needs a path")
                return await connect_unix_socket(endpoint.path)
            if endpoint.host is None or endpoint.port is None:
                raise ValueError("a tcp endpoint needs a host and a port")
            return await anyio.connect_tcp(endpoint.host, endpoint.port)
    except (OSError, TimeoutError) as exc:
        if endpoint.path is not None and (wrong := _not_a_socket(endpoint.path, surface)):
            raise wrong from exc
        raise translate_os_error(exc, endpoint=endpoint, surface=surface) from exc


async def connect_admin(
    path: Path,
    *,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,  # noqa: ASYNC109 - per-attempt connect bound
) -> ByteStream:
    """Open the admin socket (local only)."""
    return await connect(Endpoint.unix(path), surface="admin", timeout=timeout)
