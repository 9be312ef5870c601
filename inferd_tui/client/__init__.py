"""Async client for the inferd daemon, every release since 0.1 (anyio; never imports
Textual or Rich).

Stream a reply with no terminal, on whatever wire the daemon speaks::

    from contextlib import aclosing

    import anyio
    from inferd_tui.client import ChatMessage, ChatRequest, Client, TextDelta, resolve_endpoints

    async def main() -> None:
        # connect() asks the daemon which wire it speaks (admin capabilities, socket
        # files, a probe); client.wire_choice.reasons says why.
        async with await Client.connect(resolve_endpoints()) as client:
            await client.wait_ready(timeout=30)
            request = ChatRequest(messages=(ChatMessage.text("user", "Hello!"),))
            # aclosing: leaving the loop early (break, an exception) closes the
            # connection at once, which is how the daemon learns to stop.
            async with aclosing(client.chat(request)) as events:
                async for event in events:
                    if isinstance(event, TextDelta):
                        print(event.text, end="", flush=True)
            print()

    anyio.run(main)

``Client.generate`` is protocol v1's own frames (v1 daemons only).

Errors all derive from :class:`InferdError`; each has a ``title`` and an actionable ``hint``.
"""

from typing import TYPE_CHECKING

from inferd_tui._lazy import lazy_exports

if TYPE_CHECKING:
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
    from inferd_tui.client.era import DaemonEra, daemon_era
    from inferd_tui.client.transport import (
        StreamFactory,
        connect,
        connect_admin,
        translate_os_error,
    )
    from inferd_tui.client.wire import WireChoice, WireSetting, choose_wire
    from inferd_tui.proto.capability import BackendCapabilities, DaemonProfile, Problem
    from inferd_tui.proto.chat import (
        AnswerEvent,
        AudioAttachment,
        AudioBlock,
        ChatMessage,
        ChatRequest,
        Failed,
        Finished,
        ImageAttachment,
        ImageBlock,
        OtherFrame,
        TextBlock,
        TextDelta,
        ThinkingDelta,
        TokenUsage,
        ToolCall,
        ToolResultBlock,
        ToolSpec,
        ToolUseBlock,
    )
    from inferd_tui.proto.eras import Era, EraRange, Wire
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
        UnsupportedByDaemon,
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
    "AnswerEvent",
    "AudioAttachment",
    "AudioBlock",
    "AuthRejected",
    "BackendCapabilities",
    "Candidate",
    "ChatMessage",
    "ChatRequest",
    "Client",
    "ConnectError",
    "ConnectTimeout",
    "DaemonEra",
    "DaemonError",
    "DaemonProfile",
    "DoneFrame",
    "EmbedClient",
    "EmbedResult",
    "Endpoint",
    "EndpointResolution",
    "Era",
    "EraRange",
    "ErrorFrame",
    "Failed",
    "Finished",
    "FrameTooLarge",
    "ImageAttachment",
    "ImageBlock",
    "IncompatibleDaemon",
    "InferdError",
    "InvalidRequest",
    "MalformedFrame",
    "Message",
    "OtherFrame",
    "PathState",
    "Problem",
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
    "TextBlock",
    "TextDelta",
    "ThinkingDelta",
    "TokenFrame",
    "TokenUsage",
    "ToolCall",
    "ToolResultBlock",
    "ToolSpec",
    "ToolUseBlock",
    "UnexpectedEof",
    "UnknownFrame",
    "UnsupportedByDaemon",
    "Usage",
    "Wire",
    "WireChoice",
    "WireSetting",
    "backoff_delays",
    "choose_wire",
    "connect",
    "connect_admin",
    "daemon_era",
    "dial_and_wait_ready",
    "embed_socket_path",
    "path_state",
    "read_admin_state",
    "rerank_socket_path",
    "resolve_endpoints",
    "translate_os_error",
    "watch_admin",
]

# Each name loads its own submodule on first use (see inferd_tui._lazy).
if not TYPE_CHECKING:  # a misspelt name stays an error for type checkers
    __getattr__, __dir__ = lazy_exports(__name__)
