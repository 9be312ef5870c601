"""Wire types and framing of every inferd wire. Pure: no sockets, no anyio, no Textual.

v1 frames and NDJSON framing (``models``, ``framing``); the wire-neutral vocabulary
(``chat``); eras (``eras``); request checks (``capability``); the v2 shapes (``v2_wire``)
and length-prefixed framing (``lp``).
"""

from typing import TYPE_CHECKING

from inferd_tui._lazy import lazy_exports

if TYPE_CHECKING:
    from inferd_tui.proto.constants import (
        ADMIN_FRAME_ID,
        DEFAULT_MAX_TOKENS,
        DEFAULT_TEMPERATURE,
        DEFAULT_TOP_K,
        DEFAULT_TOP_P,
        MAX_FRAME_BYTES,
        VALID_IMAGE_TOKEN_BUDGETS,
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
    from inferd_tui.proto.framing import (
        LineDecoder,
        RequestDecodeError,
        decode_request,
        encode_admin_event,
        encode_auth,
        encode_line,
        encode_request,
        parse_admin_event,
        parse_response,
        request_problem,
    )
    from inferd_tui.proto.models import (
        DAEMON_DEFAULTS,
        AdminEvent,
        AdminStatus,
        DoneFrame,
        ErrorCode,
        ErrorFrame,
        LoadPhase,
        Message,
        Request,
        ResponseFrame,
        Role,
        SamplingParams,
        StatusFrame,
        StopReason,
        TerminalFrame,
        TokenFrame,
        UnknownFrame,
        Usage,
        is_terminal,
    )

__all__ = [
    "ADMIN_FRAME_ID",
    "DAEMON_DEFAULTS",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_TEMPERATURE",
    "DEFAULT_TOP_K",
    "DEFAULT_TOP_P",
    "MAX_FRAME_BYTES",
    "VALID_IMAGE_TOKEN_BUDGETS",
    "AdminEvent",
    "AdminStatus",
    "AuthRejected",
    "ConnectError",
    "ConnectTimeout",
    "DaemonError",
    "DoneFrame",
    "ErrorCode",
    "ErrorFrame",
    "FrameTooLarge",
    "IncompatibleDaemon",
    "InferdError",
    "InvalidRequest",
    "LineDecoder",
    "LoadPhase",
    "MalformedFrame",
    "Message",
    "ProtocolError",
    "Request",
    "RequestDecodeError",
    "ResponseFrame",
    "Role",
    "SamplingParams",
    "StatusFrame",
    "StopReason",
    "TerminalFrame",
    "TokenFrame",
    "UnexpectedEof",
    "UnknownFrame",
    "Usage",
    "decode_request",
    "encode_admin_event",
    "encode_auth",
    "encode_line",
    "encode_request",
    "is_terminal",
    "parse_admin_event",
    "parse_response",
    "request_problem",
]

# Each name loads its own submodule on first use (see inferd_tui._lazy).
if not TYPE_CHECKING:  # a misspelt name stays an error for type checkers
    __getattr__, __dir__ = lazy_exports(__name__)
