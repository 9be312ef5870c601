"""The one error hierarchy of inferd-tui's core.

::

    InferdError                      every failure a caller of the core can see
    ├── ConnectError                 could not reach the daemon (transport)
    │   └── IncompatibleDaemon       the daemon is there but not on the wire asked for
    ├── ConnectTimeout               gave up waiting for the daemon to become ready
    ├── ProtocolError                the bytes on the wire are not the wire's protocol
    │   ├── FrameTooLarge            a line or frame exceeds MAX_FRAME_BYTES
    │   └── MalformedFrame           a line or frame is not a valid frame
    ├── UnexpectedEof                the daemon closed the connection mid-answer
    ├── AuthRejected                 silent close right after the TCP auth line
    ├── DaemonError                  an ``error`` frame (code + message)
    └── InvalidRequest               the request would be rejected; not sent
        └── UnsupportedByDaemon      the daemon's wire or release cannot carry a field

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
    """The peer sent something that is not protocol v1; the connection is closed.

    ``address`` names the daemon once the client has attached it: the sans-I/O decoder
    that finds the problem does not know where the bytes came from.
    """

    title = "protocol error"

    def __init__(self, hint: str, *, address: str = "", title: str | None = None) -> None:
        super().__init__(hint, title=title)
        self.address = address


class FrameTooLarge(ProtocolError):
    title = "frame too large"

    def __init__(self, size: int, limit: int, *, address: str = "", unit: str = "line") -> None:
        arrived = f"a {unit} of more than {limit:,} bytes arrived (at least {size:,} so far)"
        if address and unit == "line":
            hint = (
                f"{arrived} from the daemon at {address}; the connection was closed. A done "
                "frame repeats the whole answer: ask for fewer tokens (max_tokens) and retry"
            )
        elif address:
            hint = f"{arrived} from the daemon at {address}; the connection was closed"
        else:
            hint = f"{arrived}; the connection was closed"
        super().__init__(hint, address=address)
        self.size = size
        self.limit = limit
        self.unit = unit


class MalformedFrame(ProtocolError):
    title = "malformed frame"

    def __init__(
        self, hint: str, *, line: bytes = b"", address: str = "", protocol: str = "protocol v1"
    ) -> None:
        if address:
            hint = (
                f"{hint}, from {address}; the connection was closed and the next request "
                f"redials. If it keeps happening, check that {address} is an inferd daemon "
                f"speaking {protocol}"
            )
        super().__init__(hint, address=address)
        self.line = line
        self.protocol = protocol


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


#: What a user can do about each error code (protocol §5).
_NEXT_STEP = {
    "queue_full": "the daemon is busy: retry in a moment",
    "backend_unavailable": "the model backend is not ready: retry in a moment",
    "invalid_request": "the daemon refused this request: do not resend it unchanged",
    "frame_too_large": "the request is over the 64 MiB cap: shorten the conversation",
    "internal": "the daemon failed: retry in a moment; if it persists, check the daemon's log",
}
_UNKNOWN_CODE_STEP = "an error code this client does not know: check the daemon's log"


def next_step(code: str) -> str:
    """What a user can do about a daemon error ``code`` (unknown codes included)."""
    return _NEXT_STEP.get(code, _UNKNOWN_CODE_STEP)


class DaemonError(InferdError):
    """The daemon answered with an ``error`` frame.

    ``code`` and ``message`` are the daemon's own (untrusted text); the ``hint`` adds the
    address and what to do next.
    """

    title = "daemon error"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        request_id: str = "",
        partial_text: str = "",
        address: str = "",
    ) -> None:
        daemon = f"the daemon at {address}" if address else "the daemon"
        step = next_step(code)
        super().__init__(f"{daemon} answered {message!r} — {step}", title=f"daemon error ({code})")
        self.code = code
        self.message = message
        self.request_id = request_id
        self.partial_text = partial_text
        self.address = address

    @property
    def retryable(self) -> bool:
        """Whether resending the same request may succeed (protocol §5)."""
        return self.code in {"queue_full", "backend_unavailable", "internal"}


class InvalidRequest(InferdError):
    """The request would be rejected by the daemon; it was not sent."""

    title = "invalid request"


class UnsupportedByDaemon(InvalidRequest):
    """A request field the connected daemon's wire or release cannot carry; not sent.

    ``field`` is the request field; the hint names the daemon release that has it.
    """

    title = "not supported by this daemon"

    def __init__(self, hint: str, *, field: str) -> None:
        super().__init__(hint)
        self.field = field
