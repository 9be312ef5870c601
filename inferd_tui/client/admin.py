"""The admin subscription (protocol §8): a read-only stream of daemon state events.

:func:`watch_admin` yields :class:`~inferd_tui.proto.AdminEvent`s and, between them,
:class:`AdminNotice`s about the connection itself, so a UI can show "admin disconnected,
retrying in 2 s". After a reconnect the daemon re-sends its capabilities and a snapshot of
the current state, so a consumer simply keeps folding events.

Policy: a transient failure (no socket yet, refused), or a connection closed before its
first event, is retried with backoff from ``backoff_initial`` doubling to ``backoff_max``
(reset once a connection delivers an event); permission denied and other permanent
failures keep being retried, but only every ``backoff_max`` seconds (a UI falls back to
Pattern A on the inference socket meanwhile). A malformed line is reported and skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeAlias

import anyio
from anyio.abc import ByteStream

from inferd_tui.client.era import DaemonEra, daemon_era
from inferd_tui.client.transport import connect_admin
from inferd_tui.proto.errors import (
    ConnectError,
    ConnectTimeout,
    FrameTooLarge,
    InferdError,
    MalformedFrame,
    UnexpectedEof,
)
from inferd_tui.proto.framing import LineDecoder, parse_admin_event
from inferd_tui.proto.models import AdminEvent, AdminStatus

NoticeKind: TypeAlias = Literal[
    "connected", "disconnected", "retrying", "permission_denied", "unavailable", "malformed"
]

_CLOSED = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)
_CHUNK = 65_536


@dataclass(frozen=True)
class AdminNotice:
    """Something about the admin connection itself (not a daemon event).

    ``retry_in`` is the delay before the next attempt, when one is scheduled. Consumers
    should show the latest notice (a status line) rather than log every retry.
    """

    kind: NoticeKind
    message: str
    retry_in: float | None = None
    error: InferdError | None = None


def _seconds(value: float) -> str:
    return f"{value:g} s" if value >= 1 else f"{value:.1f} s"


def _connect_failure_notice(exc: ConnectError, path: Path, delay: float) -> AdminNotice:
    # The delay comes first: a narrow log pane cuts the end of a long line.
    if exc.title == "permission denied":
        return AdminNotice(
            "permission_denied",
            f"admin socket {path}: permission denied, retrying in {_seconds(delay)} (mode "
            "0600, owned by the daemon's user)",
            delay,
            exc,
        )
    kind: NoticeKind = "retrying" if exc.transient else "unavailable"
    return AdminNotice(
        kind, f"admin unavailable, retrying in {_seconds(delay)}: {exc.hint}", delay, exc
    )


async def watch_admin(
    path: Path,
    *,
    reconnect: bool = True,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    backoff_initial: float = 0.1,
    backoff_max: float = 5.0,
    connect: Callable[[], Awaitable[ByteStream]] | None = None,
) -> AsyncGenerator[AdminEvent | AdminNotice, None]:
    """Subscribe to the admin socket at ``path``.

    Yields a ``connected`` notice on each connection, then the daemon's events. With
    ``reconnect=True`` (the default) it never ends on its own: EOF yields a
    ``disconnected`` notice and it dials again with backoff (``retrying``,
    ``permission_denied``, ``unavailable`` notices carry ``retry_in``). With
    ``reconnect=False`` it raises :class:`ConnectError` if it cannot connect and ends at
    EOF (a clean shutdown's last event is ``draining``). A malformed line yields a
    ``malformed`` notice and is skipped; an oversized one also drops the connection.
    Use it inside ``contextlib.aclosing`` so the socket is closed when you stop.
    """
    dial = connect or (lambda: connect_admin(path))
    delay = backoff_initial
    while True:
        try:
            stream = await dial()
        except ConnectError as exc:
            if not reconnect:
                raise
            wait = delay if exc.transient else backoff_max
            yield _connect_failure_notice(exc, path, wait)
            await sleep(wait)
            delay = min(delay * 2, backoff_max)
            continue

        yield AdminNotice("connected", f"admin connected ({path})")
        try:
            decoder = LineDecoder()
            at_eof = False
            while not at_eof:
                try:
                    lines = decoder.feed(await stream.receive(_CHUNK))
                except _CLOSED:
                    tail = decoder.finish()
                    lines, at_eof = ([tail] if tail else []), True
                except FrameTooLarge as exc:
                    yield AdminNotice("malformed", f"admin socket {path}: {exc.hint}", error=exc)
                    break
                for line in lines:
                    if not line.strip():
                        continue
                    try:
                        event = parse_admin_event(line)
                    except MalformedFrame as exc:
                        yield AdminNotice(
                            "malformed",
                            f"skipped a malformed line from the admin socket {path}: {exc.hint}",
                            error=exc,
                        )
                        continue
                    # Only a connection that delivers events is healthy: one that is
                    # accepted then closed at once must keep backing off.
                    delay = backoff_initial
                    yield event
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(*_CLOSED):
                await stream.aclose()

        if not reconnect:
            return
        yield AdminNotice(
            "disconnected", f"admin disconnected, retrying in {_seconds(delay)}", delay
        )
        await sleep(delay)
        delay = min(delay * 2, backoff_max)


@dataclass(frozen=True)
class AdminSnapshot:
    """What a freshly connected admin client learns: capabilities, then the current state."""

    path: Path
    state: AdminEvent
    capabilities: tuple[AdminEvent, ...] = field(default=())

    @property
    def era(self) -> DaemonEra:
        """Meaningful once the daemon is ready (capabilities are sent before ``ready``)."""
        return daemon_era(self.capabilities)

    @property
    def ready(self) -> bool:
        return self.state.status == AdminStatus.READY


async def read_admin_state(
    path: Path,
    timeout: float = 5.0,  # noqa: ASYNC109 - a deadline, not a cancel scope
    *,
    connect: Callable[[], Awaitable[ByteStream]] | None = None,
) -> AdminSnapshot:
    """Connect once, read the capabilities frames and the state snapshot, disconnect.

    Raises :class:`ConnectError` if the socket cannot be opened, :class:`UnexpectedEof`
    if it closes before the snapshot, :class:`ConnectTimeout` if none arrives in time.
    """
    capabilities: list[AdminEvent] = []
    with anyio.move_on_after(timeout):
        async with contextlib.aclosing(
            watch_admin(path, reconnect=False, connect=connect)
        ) as events:
            async for item in events:
                if isinstance(item, AdminNotice):
                    continue
                if item.is_capabilities:
                    capabilities.append(item)
                    continue
                return AdminSnapshot(path, item, tuple(capabilities))
        raise UnexpectedEof(
            f"the admin socket {path} closed before sending the daemon's state "
            "(a failed start, or a shutdown)"
        )
    raise ConnectTimeout(
        f"the admin socket {path} sent no state within {timeout:g} s",
        address=str(path),
        waited_s=timeout,
        last_error="no snapshot",
    )
