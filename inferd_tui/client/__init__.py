"""Async client for the inferd daemon, protocol v1 (anyio; never imports Textual or Rich).

Stream a reply with no terminal::

    from contextlib import aclosing

    import anyio
    from inferd_tui.client import Client, Message, Request, TokenFrame, resolve_endpoints

    async def main() -> None:
        async with Client.from_resolution(resolve_endpoints()) as client:
            await client.wait_ready(timeout=30)
            request = Request(messages=[Message(role="user", content="Hello!")])
            # aclosing: leaving the loop early (break, an exception) closes the
            # connection at once, which is how the daemon learns to stop (§6).
            async with aclosing(client.generate(request)) as frames:
                async for frame in frames:
                    if isinstance(frame, TokenFrame):
                        print(frame.content, end="", flush=True)
            print()

    anyio.run(main)

Errors all derive from :class:`InferdError`; each has a ``title`` and an actionable ``hint``.
"""

from inferd_tui.client.admin import AdminNotice, AdminSnapshot, read_admin_state, watch_admin
from inferd_tui.client.client import (
    BACKOFF_INITIAL_S,
    BACKOFF_MAX_S,
    CHUNK_SIZE,
    DEFAULT_READY_TIMEOUT_S,
    Client,
    RetryNotice,
    backoff_delays,
    dial_and_wait_ready,
)
from inferd_tui.client.embed import (
    EmbedClient,
    EmbedResult,
    RerankClient,
    RerankResult,
    embed_socket_path,
    rerank_socket_path,
)
from inferd_tui.client.endpoints import (
    Candidate,
    Endpoint,
    EndpointResolution,
    PathState,
    path_state,
    resolve_endpoints,
)
from inferd_tui.client.era import DaemonEra, check_era, daemon_era, ensure_v1
from inferd_tui.client.transport import (
    StreamFactory,
    connect,
    connect_admin,
    translate_os_error,
)
from inferd_tui.proto.errors import (
    AuthRejected,
    ConnectError,
    ConnectTimeout,
    DaemonError,
    FrameTooLarge,
    IncompatibleDaemon,
    InferdError,
    InvalidRequest,
    MalformedFrame,
    ProtocolError,
    UnexpectedEof,
)
from inferd_tui.proto.models import (
    AdminEvent,
    DoneFrame,
    ErrorFrame,
    Message,
    Request,
    ResponseFrame,
    Role,
    SamplingParams,
    StatusFrame,
    TokenFrame,
    UnknownFrame,
    Usage,
)

__all__ = [
    "BACKOFF_INITIAL_S",
    "BACKOFF_MAX_S",
    "CHUNK_SIZE",
    "DEFAULT_READY_TIMEOUT_S",
    "AdminEvent",
    "AdminNotice",
    "AdminSnapshot",
    "AuthRejected",
    "Candidate",
    "Client",
    "ConnectError",
    "ConnectTimeout",
    "DaemonEra",
    "DaemonError",
    "DoneFrame",
    "EmbedClient",
    "EmbedResult",
    "Endpoint",
    "EndpointResolution",
    "ErrorFrame",
    "FrameTooLarge",
    "IncompatibleDaemon",
    "InferdError",
    "InvalidRequest",
    "MalformedFrame",
    "Message",
    "PathState",
    "ProtocolError",
    "Request",
    "RerankClient",
    "RerankResult",
    "ResponseFrame",
    "RetryNotice",
    "Role",
    "SamplingParams",
    "StatusFrame",
    "StreamFactory",
    "TokenFrame",
    "UnexpectedEof",
    "UnknownFrame",
    "Usage",
    "backoff_delays",
    "check_era",
    "connect",
    "connect_admin",
    "daemon_era",
    "dial_and_wait_ready",
    "embed_socket_path",
    "ensure_v1",
    "path_state",
    "read_admin_state",
    "rerank_socket_path",
    "resolve_endpoints",
    "translate_os_error",
    "watch_admin",
]
