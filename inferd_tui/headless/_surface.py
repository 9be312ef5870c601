"""What ``embed`` and ``rerank`` share: reading texts, retrying a full queue, exit codes.

Exit codes, as ``ask`` maps them: 0 done; 2 a usage error, no socket for the surface (or
the daemon says it cannot serve it: ``embed_unsupported``/``rerank_unsupported``);
3 an invalid request (checked before sending, or the daemon's ``invalid_request``);
4 any other daemon error, a connection closed before the answer, or a protocol error;
5 ``queue_full`` after the retries; 130 Ctrl-C.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio

from inferd_tui.client import (
    ConnectError,
    DaemonError,
    InvalidRequest,
    ProtocolError,
    UnexpectedEof,
)
from inferd_tui.headless._console import (
    EXIT_DAEMON_ERROR,
    EXIT_INVALID_REQUEST,
    EXIT_QUEUE_FULL,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Console,
    safe,
)
from inferd_tui.proto.embed_rerank import EMBED_UNSUPPORTED, RERANK_UNSUPPORTED
from inferd_tui.proto.errors import next_step

#: Pauses before each retry of a ``queue_full`` answer (then exit 5), as for ``ask``.
QUEUE_FULL_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)

Sleep = Callable[[float], Awaitable[None]]
_Result = TypeVar("_Result")

_UNSUPPORTED = frozenset({EMBED_UNSUPPORTED, RERANK_UNSUPPORTED})


class Refused(Exception):
    """The command ends here: ``code`` is the exit status, the message is already shown."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def read_lines(console: Console, prog: str, what: str) -> list[str]:
    """One text per line of stdin; blank (empty or whitespace-only) lines are skipped.

    Lines split on ``\\n`` only (a form feed or U+2028 inside a text stays in it); a
    ``\\r`` before the ``\\n`` is dropped. Raises :class:`Refused` (exit 2) when stdin is
    a terminal or holds no text.
    """
    if console.stdin is None or console.stdin_tty:
        console.note(f"{prog}: error: pipe the {what} on stdin, one per line")
        raise Refused(EXIT_USAGE)
    lines = [line.removesuffix("\r") for line in console.stdin.read().split("\n")]
    texts = [line for line in lines if line.strip()]
    if not texts:
        console.note(f"{prog}: error: no {what} on stdin (blank lines are skipped)")
        raise Refused(EXIT_USAGE)
    return texts


async def with_retries(
    call: Callable[[], Awaitable[_Result]],
    console: Console,
    prog: str,
    *,
    delays: Sequence[float] | None = None,
    sleep: Sleep = anyio.sleep,
) -> _Result:
    """``call()``, retried after ``queue_full``; every failure becomes :class:`Refused`
    with one line on stderr that says what to do next."""
    delays = QUEUE_FULL_DELAYS if delays is None else tuple(delays)
    for attempt in range(len(delays) + 1):
        try:
            return await call()
        except DaemonError as exc:
            if exc.code == "queue_full" and attempt < len(delays):
                console.note(
                    f"{prog}: the daemon's queue is full; retry {attempt + 1} of "
                    f"{len(delays)} in {delays[attempt]:.1f} s"
                )
                await sleep(delays[attempt])
                continue
            raise Refused(_daemon_error(exc, console, prog, retries=len(delays))) from exc
        except InvalidRequest as exc:
            console.note(f"{prog}: {exc.hint}")
            raise Refused(EXIT_INVALID_REQUEST) from exc
        except ConnectError as exc:
            console.note(f"{prog}: {exc.title}: {exc.hint}")
            raise Refused(EXIT_UNREACHABLE) from exc
        except (UnexpectedEof, ProtocolError) as exc:
            console.note(f"{prog}: {exc.title}: {exc.hint}")
            raise Refused(EXIT_DAEMON_ERROR) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _daemon_error(exc: DaemonError, console: Console, prog: str, *, retries: int) -> int:
    code, message = safe(exc.code), safe(exc.message)
    if exc.code == "queue_full":
        console.note(f"{prog}: the daemon's queue is still full after {retries} retries: {message}")
        return EXIT_QUEUE_FULL
    if exc.code in _UNSUPPORTED:
        console.note(
            f"{prog}: daemon error ({code}): {message} — this daemon's backend cannot do it; "
            "use a model that supports it"
        )
        return EXIT_UNREACHABLE
    console.note(f"{prog}: daemon error ({code}): {message} — {next_step(exc.code)}")
    return EXIT_INVALID_REQUEST if exc.code == "invalid_request" else EXIT_DAEMON_ERROR
