"""The stand-in daemon: admin and inference sockets, admission, boot, restart, drain."""

from __future__ import annotations

import contextlib
import errno
import functools
import hmac
import json
import logging
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import ByteStream, Listener, SocketAttribute, SocketListener, TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream

from inferd_tui.client.transport import UnixSocketStream
from inferd_tui.mock_daemon.admin import AdminHub
from inferd_tui.mock_daemon.backends import Fail, Plan, plan_for
from inferd_tui.mock_daemon.boot import Step, boot_steps, restart_steps, status_event
from inferd_tui.mock_daemon.config import MockConfig, check_unix_path
from inferd_tui.mock_daemon.connection import (
    FRAME_TOO_LARGE_MESSAGE,
    LineReader,
    Reader,
    discard_until_eof,
    linger_close,
    peer_hung_up,
)
from inferd_tui.mock_daemon.embed_rerank import EmbedRerankServer
from inferd_tui.mock_daemon.v2_server import converse_lp, converse_v2_ndjson
from inferd_tui.proto import (
    MAX_FRAME_BYTES,
    FrameTooLarge,
    Request,
    RequestDecodeError,
    decode_request,
    encode_line,
    request_problem,
)
from inferd_tui.proto.eras import (
    EMBED_SOCKET_NAME,
    LP_SOCKET_NAME,
    RERANK_SOCKET_NAME,
    V1_SOCKET_NAME,
    V2_NDJSON_SOCKET_NAME,
    features,
)
from inferd_tui.proto.v2_request import V2Request

INFERENCE_MODE = 0o660
ADMIN_MODE = 0o600

_log = logging.getLogger(__name__)


def _prepare_unix_path(path: Path) -> None:
    """Make the directory; refuse to replace a non-socket or a live daemon's socket.

    A socket file nobody listens on (left by a crash) is stale: the bind replaces it.
    """
    check_unix_path(path)  # again: the v2 socket's path is derived and may be longer
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise FileExistsError(errno.EEXIST, "exists and is not a socket; not replacing it", path)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.setblocking(False)
    try:
        probe.connect(os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return  # stale
    except OSError:
        pass
    finally:
        probe.close()
    raise OSError(errno.EADDRINUSE, "another daemon is serving this socket", str(path))


class _UnixListener:
    """Accepts Unix connections as :class:`UnixSocketStream`s.

    anyio 4's asyncio Unix stream logs an ``InvalidStateError`` when a reader is
    cancelled in the same loop step that data arrives — exactly what a hang-up watcher
    does while tokens stream — so the daemon serves with the client's own stream class.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        self._closed = False

    @classmethod
    def bind(cls, path: Path, mode: int) -> _UnixListener:
        # _prepare_unix_path has checked that a socket file left here is stale.
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(path.lstat().st_mode):
                path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(path))
            os.chmod(path, mode)
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return cls(sock)

    async def accept(self) -> UnixSocketStream:
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                connection, _ = self._socket.accept()
            except BlockingIOError:
                try:
                    await anyio.wait_readable(self._socket)
                except (anyio.ClosedResourceError, OSError):
                    raise anyio.ClosedResourceError from None
                continue
            except OSError:
                if self._closed:
                    raise anyio.ClosedResourceError from None
                raise
            return UnixSocketStream(connection)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            anyio.notify_closing(self._socket)
            self._socket.close()


@dataclass
class _Bound:
    """A listening socket, the scope of its accept loop, and the file to remove."""

    listener: Listener[Any] | _UnixListener
    scope: anyio.CancelScope
    path: Path | None = None
    inode: int | None = None

    async def close(self) -> None:
        self.scope.cancel()
        with contextlib.suppress(OSError, anyio.BrokenResourceError):
            await self.listener.aclose()
        if self.path is not None:
            with contextlib.suppress(OSError):
                if os.lstat(self.path).st_ino == self.inode:
                    os.unlink(self.path)


class MockDaemon:
    """A protocol-faithful inferd v1 daemon; use ``async with MockDaemon.start(config)``.

    Addresses: ``socket_path`` (the generation socket: v1 NDJSON up to era 0.3, the
    length-prefixed v2 wire from 0.4), ``admin_path``, ``tcp_address``, ``v2_socket_path``
    (``infer.v2.sock``, eras 0.2–0.3 with ``v2_ndjson``). ``ready`` is set when the
    inference sockets are bound (a fresh Event after each :meth:`restart`); ``state`` is
    the latest admin status.

    Counters, for tests (await any condition on them with :meth:`wait_until`, never a
    sleep): ``connections_accepted``, ``open_connections``, ``admin_connections_accepted``,
    ``admin_clients``, ``admin_clients_dropped``, ``admin_events_published``,
    ``requests_seen`` (lines taken as requests), ``completed_requests`` (``done`` sent),
    ``failed_requests`` (terminal ``error`` from the backend), ``rejected_requests``
    (decode/validation/too large), ``queue_full_rejections``, ``cancelled_requests``
    (client disconnected first), ``auth_failures``, ``queued_generations``,
    ``active_generations``.
    """

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.socket_path = config.socket_path
        self.admin_path = config.admin_path
        self.tcp_address: tuple[str, int] | None = None
        self.v2_socket_path: Path | None = None
        self.ready = anyio.Event()
        self.stopped = anyio.Event()
        self.state = "starting"
        # Counters (read them; they change only on the daemon's event loop).
        self.connections_accepted = 0
        self.open_connections = 0
        self.admin_connections_accepted = 0
        self.admin_clients = 0
        self.requests_seen = 0
        self.completed_requests = 0
        self.failed_requests = 0
        self.rejected_requests = 0
        self.queue_full_rejections = 0
        self.cancelled_requests = 0
        #: The last v2 request that reached a backend, with its attachments' bytes: tests
        #: compare what arrived with what was meant to be sent.
        self.last_v2_request: V2Request | None = None
        self.auth_failures = 0
        self.queued_generations = 0
        self.active_generations = 0
        self._admitted = 0
        self._permits = anyio.Semaphore(config.active_permits)
        self._hub = AdminHub(config.lag_limit)
        self._changed = anyio.Event()
        self._boot_gate = anyio.Event()
        self._restart_lock = anyio.Lock()
        self._task_group: TaskGroup | None = None
        self._admin_bound: _Bound | None = None
        self._inference_bound: list[_Bound] = []
        self._connection_scopes: set[anyio.CancelScope] = set()
        self._boot_scope = anyio.CancelScope()
        self._temp_dir: Path | None = None
        self._shutting_down = False
        if config.autoboot:
            self._boot_gate.set()
        self._hub.publish(status_event("starting"))

    # --- lifecycle ---------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, config: MockConfig) -> AsyncIterator[MockDaemon]:
        """Bind admin (``starting``), boot in the background, yield; drain on exit."""
        daemon = cls(config)
        try:
            daemon._resolve_paths()
            async with anyio.create_task_group() as task_group:
                daemon._task_group = task_group
                await daemon._bind_admin()
                task_group.start_soon(daemon._boot)
                try:
                    yield daemon
                finally:
                    with anyio.CancelScope(shield=True):
                        await daemon.shutdown()
                    task_group.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # One failure (usually the caller's own, from the body): raise it as itself.
            if len(group.exceptions) == 1 and not isinstance(
                group.exceptions[0], BaseExceptionGroup
            ):
                raise group.exceptions[0] from None
            raise
        finally:
            if daemon._temp_dir is not None:
                shutil.rmtree(daemon._temp_dir, ignore_errors=True)

    def _resolve_paths(self) -> None:
        if self.socket_path is None and self.config.tcp is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="inferd-mock-", dir="/tmp"))
            leaf = LP_SOCKET_NAME if features(self.config.era).length_prefixed else V1_SOCKET_NAME
            self.socket_path = self._temp_dir / leaf
            if self.admin_path is None:
                self.admin_path = self._temp_dir / "admin.sock"
        # Fail here, with a plain exception, rather than later inside the task group.
        for path in (self.socket_path, self.admin_path):
            if path is not None:
                _prepare_unix_path(path)

    async def wait_ready(self) -> None:
        """Until the inference socket is bound (after ``ready`` + ``bind_delay_s``)."""
        while not self.ready.is_set():
            await self.ready.wait()

    def begin_boot(self) -> None:
        """Let the boot script run (only needed with ``autoboot=False``)."""
        self._boot_gate.set()

    async def wait_until(self, predicate: Callable[[MockDaemon], bool]) -> None:
        """Until ``predicate(self)`` holds; re-checked whenever a counter changes."""
        while True:
            changed = self._changed
            if predicate(self):
                return
            await changed.wait()

    def notify_waiters(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def publish(self, event: dict[str, Any]) -> None:
        """Broadcast an admin event (``id``/``type`` filled in); it becomes the snapshot."""
        sent = self._hub.publish(event)
        status = sent.get("status")
        if isinstance(status, str) and status != "capabilities":
            self.state = status
        self.notify_waiters()

    @property
    def admin_events_published(self) -> int:
        return self._hub.published

    @property
    def admin_clients_dropped(self) -> int:
        return self._hub.dropped

    @property
    def admin_snapshot(self) -> dict[str, Any]:
        """The latest state event (what a new admin client gets after capabilities)."""
        return dict(self._hub.latest_event)

    async def _play(self, steps: list[Step]) -> None:
        for step in steps:
            self.publish(step.event)
            if step.hold_s > 0:
                await anyio.sleep(step.hold_s)

    async def _boot(self) -> None:
        with self._boot_scope:
            await self._boot_gate.wait()
            await self._play(boot_steps(self.config))
            await self._go_ready()

    async def _go_ready(self) -> None:
        self.publish(status_event("ready"))
        if self.config.bind_delay_s > 0:
            await anyio.sleep(self.config.bind_delay_s)
        await self._bind_inference()

    async def restart(self) -> None:
        """``restarting`` with phases; the inference socket is closed, re-bound, ``ready``."""
        async with self._restart_lock:
            await self.wait_ready()
            if self._shutting_down:
                return
            steps = restart_steps(self.config)
            self.publish(steps[0].event)
            await self._close_inference()
            self.ready = anyio.Event()
            self.notify_waiters()
            if steps[0].hold_s > 0:
                await anyio.sleep(steps[0].hold_s)
            await self._play(steps[1:])
            await self._go_ready()

    async def shutdown(self) -> None:
        """``draining`` on admin, stop serving, then EOF to every admin client.

        Shielded (it is bounded by ``drain_timeout_s``), so it completes even when the
        caller is being cancelled; later calls wait for the first one.
        """
        if self._shutting_down:
            await self.stopped.wait()
            return
        self._shutting_down = True
        with anyio.CancelScope(shield=True):
            self._boot_scope.cancel()
            self.publish(status_event("draining"))
            await self._close_inference()
            for scope in list(self._connection_scopes):
                scope.cancel()
            if self._admin_bound is not None:
                await self._admin_bound.close()
            self._hub.close_all()
            with anyio.move_on_after(self.config.drain_timeout_s):
                await self.wait_until(lambda daemon: daemon.admin_clients == 0)
            for client in list(self._hub.clients):
                client.scope.cancel()
            await self.wait_until(lambda d: d.admin_clients == 0 and d.open_connections == 0)
            self.stopped.set()

    # --- binding -----------------------------------------------------------------------

    async def _serve(
        self,
        listener: SocketListener | _UnixListener,
        handler: Callable[[Any], Any],
        *,
        task_status: TaskStatus[anyio.CancelScope],
    ) -> None:
        assert self._task_group is not None
        with anyio.CancelScope() as scope:
            task_status.started(scope)
            while True:
                try:
                    stream = await listener.accept()
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return
                self._task_group.start_soon(self._serve_connection, handler, stream)

    @staticmethod
    async def _serve_connection(handler: Callable[[Any], Any], stream: ByteStream) -> None:
        """One connection's failure is that connection's alone: log it and move on.

        Handlers run in the daemon's task group, where an escaping exception would cancel
        every other connection and the daemon itself. Each handler closes its own stream
        (``async with stream``) on the way out.
        """
        try:
            await handler(stream)
        except Exception:
            _log.exception("a connection handler failed; that connection was closed")

    async def _listen(
        self,
        listener: SocketListener | _UnixListener,
        handler: Callable[[Any], Any],
        path: Path | None = None,
    ) -> _Bound:
        assert self._task_group is not None
        scope: anyio.CancelScope = await self._task_group.start(self._serve, listener, handler)
        inode = os.lstat(path).st_ino if path is not None else None
        return _Bound(listener, scope, path, inode)

    async def _bind_unix(self, path: Path, mode: int, handler: Callable[[Any], Any]) -> _Bound:
        _prepare_unix_path(path)
        listener = _UnixListener.bind(path, mode)
        return await self._listen(listener, handler, path)

    async def _bind_admin(self) -> None:
        if self.admin_path is not None:
            self._admin_bound = await self._bind_unix(
                self.admin_path, ADMIN_MODE, self._handle_admin
            )

    async def _bind_inference(self) -> None:
        if self._shutting_down:
            return
        # The generation socket: v1 NDJSON up to 0.3; from 0.4 v1 is gone and the same
        # socket speaks the length-prefixed v2 wire (protocol-v2.md §1).
        lp = features(self.config.era).length_prefixed
        if self.socket_path is not None:
            handler = self._handle_lp if lp else self._handle_unix
            self._inference_bound.append(
                await self._bind_unix(self.socket_path, INFERENCE_MODE, handler)
            )
        # --- v2 NDJSON beside it (0.2–0.3 with --v2) ---
        if self.config.v2_ndjson and self.socket_path is not None:
            self.v2_socket_path = self.socket_path.with_name(V2_NDJSON_SOCKET_NAME)
            self._inference_bound.append(
                await self._bind_unix(self.v2_socket_path, INFERENCE_MODE, self._handle_v2_ndjson)
            )
        if self.config.tcp is not None:
            host, port = self.config.tcp
            if self.tcp_address is not None:
                port = self.tcp_address[1]  # a restart re-binds the same port
            multi = await anyio.create_tcp_listener(local_host=host, local_port=port)
            self.tcp_address = (host, multi.extra(SocketAttribute.local_port))
            for listener in multi.listeners:
                assert isinstance(listener, SocketListener)
                tcp_handler = self._handle_lp_tcp if lp else self._handle_tcp
                self._inference_bound.append(await self._listen(listener, tcp_handler))
        await self._bind_embed_rerank()
        self.ready.set()
        self.notify_waiters()

    async def _close_inference(self) -> None:
        bound, self._inference_bound = self._inference_bound, []
        for item in bound:
            await item.close()

    # --- embed and rerank (protocol-v2 §8; the handlers are in embed_rerank.py) ---------

    @property
    def embed_socket_path(self) -> Path | None:
        """``infer.embed.sock`` beside the generation socket, when ``config.embed``."""
        if not self.config.embed or self.socket_path is None:
            return None
        return self.socket_path.with_name(EMBED_SOCKET_NAME)

    @property
    def rerank_socket_path(self) -> Path | None:
        """``infer.rerank.sock`` beside the generation socket, when ``config.rerank``."""
        if not self.config.rerank or self.socket_path is None:
            return None
        return self.socket_path.with_name(RERANK_SOCKET_NAME)

    @functools.cached_property
    def embed_rerank(self) -> EmbedRerankServer:
        """The embed/rerank handlers and their counters."""
        return EmbedRerankServer(
            admitted=self.admitted, track=self._tracked_connection, notify=self.notify_waiters
        )

    async def _bind_embed_rerank(self) -> None:
        """Bound with the generation socket, and in its list: closed with it on restart
        and shutdown (a real daemon binds every surface once its backend is ready)."""
        for path, handler in (
            (self.embed_socket_path, self.embed_rerank.handle_embed),
            (self.rerank_socket_path, self.embed_rerank.handle_rerank),
        ):
            if path is not None:
                self._inference_bound.append(await self._bind_unix(path, INFERENCE_MODE, handler))

    @contextlib.asynccontextmanager
    async def admitted(self) -> AsyncIterator[bool]:
        """One place in the daemon-wide pool (§6: generation, embed and rerank share it).

        Yields False at once, holding nothing, when ``active_permits + queue_depth`` are
        taken (the caller answers ``queue_full``); else waits for a permit and yields True.
        The ``queued_generations``/``active_generations`` counters count these too.
        """
        if self._admitted >= self.config.active_permits + self.config.queue_depth:
            self.queue_full_rejections += 1
            self.notify_waiters()
            yield False
            return
        self._admitted += 1
        self.queued_generations += 1
        self.notify_waiters()
        queued = True
        try:
            async with self._permits:
                self.queued_generations -= 1
                queued = False
                self.active_generations += 1
                self.notify_waiters()
                try:
                    yield True
                finally:
                    self.active_generations -= 1
        finally:
            if queued:
                self.queued_generations -= 1
            self._admitted -= 1
            self.notify_waiters()

    @contextlib.contextmanager
    def _tracked_connection(self) -> Iterator[anyio.CancelScope]:
        """Counts an open connection; shutdown cancels the scope and waits for the count."""
        self.open_connections += 1
        scope = anyio.CancelScope()
        self._connection_scopes.add(scope)
        self.notify_waiters()
        try:
            yield scope
        finally:
            self._connection_scopes.discard(scope)
            self.open_connections -= 1
            self.notify_waiters()

    # --- admin connections -------------------------------------------------------------

    async def _handle_admin(self, stream: ByteStream) -> None:
        client = self._hub.subscribe()
        self.admin_connections_accepted += 1
        self.admin_clients += 1
        self.notify_waiters()
        try:
            with client.scope:
                async with stream, anyio.create_task_group() as task_group:
                    task_group.start_soon(self._watch_admin_peer, stream, task_group.cancel_scope)
                    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                        await self._pump_admin(stream, client.receive_stream)
                    task_group.cancel_scope.cancel()
        finally:
            self._hub.unsubscribe(client)
            self.admin_clients -= 1
            self.notify_waiters()

    @staticmethod
    async def _pump_admin(stream: ByteStream, queue: MemoryObjectReceiveStream[bytes]) -> None:
        async for data in queue:
            batch = [data]
            while len(batch) < 256:
                try:
                    batch.append(queue.receive_nowait())
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
            await stream.send(b"".join(batch))

    @staticmethod
    async def _watch_admin_peer(stream: ByteStream, scope: anyio.CancelScope) -> None:
        """Admin is write-only; reading tells us when the client has gone away."""
        if await discard_until_eof(stream) or peer_hung_up(stream):
            scope.cancel()

    # --- inference connections ---------------------------------------------------------

    async def _handle_unix(self, stream: ByteStream) -> None:
        await self._handle_inference(stream, lambda: self._converse(stream, over_tcp=False))

    async def _handle_tcp(self, stream: ByteStream) -> None:
        await self._handle_inference(stream, lambda: self._converse(stream, over_tcp=True))

    # --- the v2 wires (v2_server) ---
    async def _handle_lp(self, stream: ByteStream) -> None:
        await self._handle_inference(stream, lambda: converse_lp(self, stream, over_tcp=False))

    async def _handle_lp_tcp(self, stream: ByteStream) -> None:
        await self._handle_inference(stream, lambda: converse_lp(self, stream, over_tcp=True))

    async def _handle_v2_ndjson(self, stream: ByteStream) -> None:
        await self._handle_inference(
            stream, lambda: converse_v2_ndjson(self, stream, LineReader(stream))
        )

    async def _handle_inference(
        self, stream: ByteStream, converse: Callable[[], Awaitable[None]]
    ) -> None:
        self.connections_accepted += 1
        self.open_connections += 1
        self.notify_waiters()
        scope = anyio.CancelScope()
        self._connection_scopes.add(scope)
        try:
            with scope:
                async with stream:
                    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                        await converse()
        finally:
            self._connection_scopes.discard(scope)
            self.open_connections -= 1
            self.notify_waiters()

    async def _converse(self, stream: ByteStream, *, over_tcp: bool) -> None:
        reader = LineReader(stream)
        key = self.config.api_key
        if over_tcp and key is not None and not await self._authenticate(reader, key):
            self.auth_failures += 1
            self.notify_waiters()
            await linger_close(reader.stream)
            return
        while True:
            try:
                line = await reader.next_line()
            except FrameTooLarge:
                self.rejected_requests += 1
                await self._send_error(stream, "", "frame_too_large", FRAME_TOO_LARGE_MESSAGE)
                await linger_close(reader.stream)
                return
            if line is None:
                return
            self.requests_seen += 1
            self.notify_waiters()
            try:
                request = decode_request(line)
            except RequestDecodeError as exc:
                self.rejected_requests += 1
                await self._send_error(stream, "", "invalid_request", str(exc))
                await linger_close(reader.stream)
                return
            problem = request_problem(request)
            if problem is not None:
                self.rejected_requests += 1
                await self._send_error(stream, request.id, "invalid_request", problem)
                continue
            if not await self._run_request(stream, reader, request):
                return

    @staticmethod
    async def _authenticate(reader: LineReader, api_key: str) -> bool:
        try:
            line = await reader.next_line()
        except FrameTooLarge:
            return False
        if line is None:
            return False
        try:
            frame = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            return False
        if not isinstance(frame, dict) or frame.get("type") != "auth":
            return False
        key = frame.get("key")
        if not isinstance(key, str):
            return False
        return hmac.compare_digest(key.encode("utf-8"), api_key.encode("utf-8"))

    @staticmethod
    async def _send_error(stream: ByteStream, request_id: str, code: str, message: str) -> None:
        await stream.send(
            encode_line({"type": "error", "id": request_id, "code": code, "message": message})
        )

    async def _run_request(self, stream: ByteStream, reader: LineReader, request: Request) -> bool:
        """Admit, stream the v1 plan, watch for a disconnect. False: close the connection."""
        plan = plan_for(self.config, request)
        frames, terminal = _v1_frames(plan, request.id)
        return await self.admit_and_stream(
            stream,
            reader,
            request.id,
            frames=frames,
            delays=plan.delays,
            terminal=terminal,
            admitted=plan.admitted,
            encode=encode_line,
        )

    async def admit_and_stream(
        self,
        stream: ByteStream,
        reader: Reader,
        request_id: str,
        *,
        frames: list[dict[str, Any]],
        delays: list[float],
        terminal: dict[str, Any],
        admitted: bool,
        encode: Callable[[dict[str, Any]], bytes],
    ) -> bool:
        """Admit (or ``queue_full``), stream ``frames`` then ``terminal`` while watching
        for a disconnect (the cancel, §6). Any wire: ``encode`` makes the bytes. False:
        the client went away, close the connection.

        Not ``admitted``: the terminal error is the whole answer, given at once outside
        the pool (the demo's ``busy`` trigger).
        """
        if not admitted:
            await stream.send(encode(terminal))
            return True
        if self._admitted >= self.config.active_permits + self.config.queue_depth:
            self.queue_full_rejections += 1
            self.notify_waiters()
            await stream.send(encode(_error(request_id, "queue_full", "queue full")))
            return True
        self._admitted += 1
        self.queued_generations += 1
        self.notify_waiters()
        queued = True
        finished = False
        try:
            async with anyio.create_task_group() as task_group:

                async def watch() -> None:
                    await self._watch_for_hangup(reader)
                    if reader.broken or peer_hung_up(stream):
                        task_group.cancel_scope.cancel()  # cancel = disconnect (§6)

                task_group.start_soon(watch)
                async with self._permits:
                    self.queued_generations -= 1
                    queued = False
                    self.active_generations += 1
                    self.notify_waiters()
                    try:
                        finished = await self._stream_frames(
                            stream, frames, delays, terminal, encode
                        )
                    finally:
                        self.active_generations -= 1
                task_group.cancel_scope.cancel()
        finally:
            if queued:
                self.queued_generations -= 1
            self._admitted -= 1
            if not finished:
                self.cancelled_requests += 1
            self.notify_waiters()
        return finished

    @staticmethod
    async def _watch_for_hangup(reader: Reader) -> None:
        """Keep reading while a request runs, so a closed client is noticed at once.

        Lines that arrive meanwhile wait their turn (strictly sequential, §5). If too
        much piles up, stop reading: the next write will notice a dead client instead.
        """
        while not reader.exhausted and reader.pending_bytes + reader.decoder.buffered < (
            2 * MAX_FRAME_BYTES
        ):
            await reader.fill()
        if not reader.eof:
            await anyio.sleep_forever()

    async def _stream_frames(
        self,
        stream: ByteStream,
        frames: list[dict[str, Any]],
        delays: list[float],
        terminal: dict[str, Any],
        encode: Callable[[dict[str, Any]], bytes],
    ) -> bool:
        """Send the frames then the terminal frame; False if the client went away."""
        try:
            for frame, delay in zip(frames, delays, strict=True):
                if delay > 0:
                    await anyio.sleep(delay)
                await stream.send(encode(frame))
            await stream.send(encode(terminal))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            return False
        if terminal.get("type") == "done":
            self.completed_requests += 1
        else:
            self.failed_requests += 1
        return True


def _error(request_id: str, code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "id": request_id, "code": code, "message": message}


def _v1_frames(plan: Plan, request_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """v1 ``token`` frames and the terminal frame (``done`` repeats the whole text)."""
    frames = [{"type": "token", "id": request_id, "content": token} for token in plan.tokens]
    ending = plan.ending
    if isinstance(ending, Fail):
        return frames, _error(request_id, ending.code, ending.message)
    done: dict[str, Any] = {
        "type": "done",
        "id": request_id,
        "content": "".join(plan.tokens),
        "usage": {"prompt_tokens": ending.prompt_tokens, "completion_tokens": len(plan.tokens)},
        "stop_reason": ending.stop_reason,
        "backend": ending.backend,
    }
    return frames, done
