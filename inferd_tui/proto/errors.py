"""The one error hierarchy of inferd-tui's core.

::

    InferdError                      every failure a caller of the core can see
    ├── ConnectError                 could not reach the daemon (transport)
    │   └── IncompatibleDaemon       the daemon is there but speaks only protocol v2
    ├── ConnectTimeout               gave up waiting for the daemon to become ready
    ├── ProtocolError                the bytes on the wire are not protocol v1
    │   ├── FrameTooLarge            a line exceeds MAX_FRAME_BYTES
    │   └── MalformedFrame           a line is not a valid frame
    ├── UnexpectedEof                the daemon closed the connection mid-answer
    ├── AuthRejected                 silent close right after the TCP auth line
    ├── DaemonError                  an ``error`` frame (code + message)
    └── InvalidRequest               the request would be rejected; not sent

Every error carries a short ``title`` and a ``hint``: a sentence the user can act on,
naming the path or address involved. ``str(error)`` is ``"title: hint"``.
Low-level exceptions (``OSError``, anyio's) are translated once, at the transport seam.
"""

from __future__ import annotations


class InferdError(Exception):
    """Base class: a failure with a short title and an actionable sentence."""

    title: str = "inferd error"

    def __init__(self, hint: str, *, title: str | None = None) -> None:
        if title is not None:
            self.title = title
        self.hint = hint
        super().__init__(f"{self.title}: {hint}")


class ConnectError(InferdError):
    """The daemon could not be reached at ``address``.

    ``transient`` says whether waiting may help (refused, not found, timed out) or not
    (permission denied, malformed address): Pattern A retries only transient failures.
    """

    title = "cannot connect"

    def __init__(
        self, hint: str, *, address: str, transient: bool, title: str | None = None
    ) -> None:
        super().__init__(hint, title=title)
        self.address = address
        self.transient = transient


class IncompatibleDaemon(ConnectError):
    """The daemon announced a wire version other than v1 (daemon 0.4+)."""

    title = "daemon speaks only protocol v2"

    def __init__(self, hint: str, *, address: str, wire_version: object) -> None:
        super().__init__(hint, address=address, transient=False)
        self.wire_version = wire_version


class ConnectTimeout(InferdError, TimeoutError):
    """Waited ``waited_s`` seconds for the daemon at ``address`` without success.

    Also a builtin ``TimeoutError``, so generic handlers catch it.
    """

    title = "daemon not ready"

    def __init__(self, hint: str, *, address: str, waited_s: float, last_error: str) -> None:
        super().__init__(hint)
        self.address = address
        self.waited_s = waited_s
        self.last_error = last_error


class ProtocolError(InferdError):
    """The peer sent something that is not protocol v1; the connection is closed."""

    title = "protocol error"


class FrameTooLarge(ProtocolError):
    title = "frame too large"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"a line of more than {limit:,} bytes arrived (at least {size:,} so far); "
            "the connection was closed"
        )
        self.size = size
        self.limit = limit


class MalformedFrame(ProtocolError):
    title = "malformed frame"

    def __init__(self, hint: str, *, line: bytes = b"") -> None:
        super().__init__(hint)
        self.line = line


class UnexpectedEof(InferdError):
    """EOF before the terminal frame; ``partial_text`` is what had streamed so far."""

    title = "answer interrupted"

    def __init__(self, hint: str, *, partial_text: str = "", request_id: str = "") -> None:
        super().__init__(hint)
        self.partial_text = partial_text
        self.request_id = request_id


class AuthRejected(InferdError):
    title = "authentication failed"

    def __init__(self, hint: str, *, address: str) -> None:
        super().__init__(hint)
        self.address = address


class DaemonError(InferdError):
    """The daemon answered with an ``error`` frame."""

    title = "daemon error"

    def __init__(
        self, code: str, message: str, *, request_id: str = "", partial_text: str = ""
    ) -> None:
        super().__init__(message, title=f"daemon error ({code})")
        self.code = code
        self.message = message
        self.request_id = request_id
        self.partial_text = partial_text

    @property
    def retryable(self) -> bool:
        """Whether resending the same request may succeed (protocol §5)."""
        return self.code in {"queue_full", "backend_unavailable", "internal"}


class InvalidRequest(InferdError):
    """The request would be rejected by the daemon; it was not sent."""

    title = "invalid request"
