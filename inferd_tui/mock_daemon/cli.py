"""``inferd-tui mock-daemon``: run the stand-in daemon as a process.

Registration is argparse glue only; the daemon (and anyio) is imported when the
command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from inferd_tui.proto.eras import features

if TYPE_CHECKING:
    from inferd_tui.mock_daemon.config import MockConfig
    from inferd_tui.mock_daemon.daemon import MockDaemon


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "mock-daemon",
        help="run a stand-in inferd daemon (mock or demo backend) for tests and demos",
        description=(
            "A protocol-faithful stand-in for an inferd daemon of any release (--era). "
            "Without --socket or --tcp it serves from a fresh temporary directory and prints "
            "the paths, so you can run `inferd-tui --socket … --admin …` against it. "
            "SIGINT/SIGTERM: draining, then EOF, exit 0."
        ),
    )
    parser.add_argument(
        "--socket",
        metavar="PATH",
        type=Path,
        help="the generation socket: v1 NDJSON up to --era 0.3, length-prefixed v2 from 0.4 "
        "(default: infer.sock / inferd.sock in a temporary directory)",
    )
    parser.add_argument(
        "--admin",
        metavar="PATH",
        type=Path,
        help=(
            "admin socket path (default: admin.sock beside --socket, where inferd-tui looks "
            "for it; with --tcp alone, no admin socket)"
        ),
    )
    parser.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        type=_host_port,
        help="also serve on loopback TCP (up to --era 0.4; inferd 0.5 removed TCP)",
    )
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="environment variable holding the API key required on TCP (never a flag value)",
    )
    parser.add_argument(
        "--tokens", metavar="TOKEN", nargs="+", help="the mock backend's tape (one frame each)"
    )
    parser.add_argument(
        "--token-delay-ms",
        metavar="N",
        type=_non_negative(float),
        default=0.0,
        help="delay before each token of the mock backend (the demo backend paces itself: "
        "see --demo-tokens-per-s)",
    )
    parser.add_argument(
        "--demo-tokens-per-s",
        metavar="N",
        type=_positive(float),
        default=None,
        help="the demo backend's average rate (default: 60)",
    )
    parser.add_argument("--active-permits", metavar="N", type=_positive_int, default=1)
    parser.add_argument("--queue-depth", metavar="N", type=_non_negative(int), default=10)
    parser.add_argument("--boot", choices=("instant", "first-boot"), default="instant")
    parser.add_argument("--bind-delay-ms", metavar="N", type=_non_negative(float), default=0.0)
    parser.add_argument("--backend", choices=("mock", "demo"), default="mock")
    # --- eras and the v2 wires ---
    parser.add_argument(
        "--era",
        choices=ERA_CHOICES,
        default="0.3",
        help="the inferd release to play (0.5 means 0.5.1, 0.6 means 0.6.2; default 0.3): "
        "its sockets, capabilities keys, request fields, limits and errors",
    )
    parser.add_argument(
        "--v2",
        action="store_true",
        help="also serve v2 NDJSON on infer.v2.sock beside --socket (--era 0.2 and 0.3 only)",
    )
    for name, what in (
        ("vision", "images"),
        ("audio", "audio"),
        ("tools", "tools"),
        ("thinking", "the thinking switch"),
    ):
        parser.add_argument(
            f"--{name}",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=f"whether the backend advertises and takes {what} (default: the demo "
            "backend everything its era can carry, the mock backend nothing)",
        )
    parser.add_argument(
        "--audio-sample-rate",
        metavar="HZ",
        type=_positive_int,
        default=16_000,
        help="the backend's audio_sample_rate (default 16000)",
    )
    parser.add_argument(
        "--tape",
        metavar="FILE",
        type=Path,
        help="the mock backend's v2 answer: NDJSON, one response block a line "
        '({"type":"text"|"thinking","delta":…} or {"type":"tool_use","tool_call_id":…,'
        '"name":…,"input":…})',
    )
    parser.add_argument(
        "--error-before-stream",
        metavar="CODE:MESSAGE",
        type=_code_message,
        help="answer every request with this error frame instead of tokens",
    )
    parser.add_argument("--drop-after", metavar="N", type=_non_negative(int))
    # --- embed and rerank (protocol-v2 §8) ---------------------------------------------
    parser.add_argument(
        "--embed",
        action="store_true",
        help="also serve embeddings on infer.embed.sock beside the socket (era 0.2+)",
    )
    parser.add_argument(
        "--rerank",
        action="store_true",
        help="also serve reranking on infer.rerank.sock beside the socket (era 0.6+)",
    )
    parser.set_defaults(func=run)


#: The releases --era plays (proto.eras.ERAS, spelled out so --help needs no import).
ERA_CHOICES = ("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.8")


def read_tape(path: Path) -> tuple[dict[str, Any], ...]:
    """The response blocks of a tape file; ValueError (one line) when it is not one."""
    import json

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the tape {path}: {exc}") from None
    blocks: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            block = json.loads(line)
        except ValueError:
            raise ValueError(f"{path} line {number}: not JSON") from None
        if not isinstance(block, dict):
            raise ValueError(f"{path} line {number}: expected a JSON object")
        blocks.append(block)
    return tuple(blocks)


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def _code_message(value: str) -> tuple[str, str]:
    code, sep, message = value.partition(":")
    if not sep or not code:
        raise argparse.ArgumentTypeError(f"expected CODE:MESSAGE, got {value!r}")
    return code, message


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _positive(kind: type[float]) -> Any:
    def convert(value: str) -> float:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
        if not number > 0 or number == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
        return number

    return convert


def _non_negative(kind: type[int] | type[float]) -> Any:
    def convert(value: str) -> int | float:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
        if number < 0:
            raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
        return number

    return convert


def config_from_args(args: argparse.Namespace) -> MockConfig:
    """Build the config; raises ValueError with a one-line message on a bad combination
    (a socket path too long for AF_UNIX among them)."""
    from inferd_tui.client.endpoints import ADMIN_SOCKET_NAME
    from inferd_tui.mock_daemon.config import MockConfig

    api_key: str | None = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env) or None
        if api_key is None:
            raise ValueError(f"environment variable {args.api_key_env} is not set or empty")
        if args.tcp is None:
            raise ValueError("--api-key-env applies to TCP only; add --tcp HOST:PORT")
    admin = args.admin
    if admin is None and args.socket is not None:
        # Beside the inference socket, like a real daemon's run directory; a client given
        # only --socket looks there (client.endpoints).
        admin = args.socket.parent / ADMIN_SOCKET_NAME
    fields: dict[str, Any] = {
        "socket_path": args.socket,
        "admin_path": admin,
        "tcp": args.tcp,
        "api_key": api_key,
        "token_delay_s": args.token_delay_ms / 1000,
        "active_permits": args.active_permits,
        "queue_depth": args.queue_depth,
        "boot": args.boot,
        "bind_delay_s": args.bind_delay_ms / 1000,
        "backend": args.backend,
        "era": args.era,
        "error_before_stream": args.error_before_stream,
        "drop_after": args.drop_after,
        "v2_ndjson": args.v2,
        "vision": args.vision,
        "audio": args.audio,
        "tools": args.tools,
        "thinking": args.thinking,
        "audio_sample_rate": args.audio_sample_rate,
    }
    if args.tape is not None:
        fields["tape"] = read_tape(args.tape)
    # embed and rerank: MockConfig refuses them before the era that has them.
    fields["embed"] = args.embed
    fields["rerank"] = args.rerank
    if args.tokens:
        fields["tokens"] = tuple(args.tokens)
    if args.demo_tokens_per_s is not None:
        fields["demo_tokens_per_s"] = args.demo_tokens_per_s
    return MockConfig(**fields)


def describe(daemon: MockDaemon) -> str:
    """The line printed at start: where to point ``inferd-tui``."""
    from inferd_tui.proto.eras import V2_NDJSON_SOCKET_NAME

    era = features(daemon.config.era)
    inference: list[str] = []
    if daemon.socket_path is not None:
        wire = "length-prefixed v2" if era.length_prefixed else "v1"
        inference.append(f"{daemon.socket_path} ({wire})")
        if daemon.config.v2_ndjson:
            v2_path = daemon.v2_socket_path or daemon.socket_path.with_name(V2_NDJSON_SOCKET_NAME)
            inference.append(f"{v2_path} (v2 NDJSON)")
    if daemon.config.tcp is not None:
        host, port = daemon.tcp_address or daemon.config.tcp
        inference.append(f"tcp {host}:{port or '(port picked when ready)'}")
    admin = str(daemon.admin_path) if daemon.admin_path is not None else "(none)"
    line = f"inferd {era.release}: inference: {' and '.join(inference) or '(none)'}, admin: {admin}"
    # embed and rerank sockets, when served
    for name, path in (("embed", daemon.embed_socket_path), ("rerank", daemon.rerank_socket_path)):
        if path is not None:
            line += f", {name}: {path}"
    return line


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"inferd-tui mock-daemon: error: {exc}", file=sys.stderr)
        return 2
    import anyio

    try:
        return anyio.run(serve, config, sys.stdout)
    except OSError as exc:
        print(f"inferd-tui mock-daemon: error: {exc}", file=sys.stderr)
        return 1


async def serve(config: MockConfig, out: TextIO) -> int:
    """Run until SIGINT/SIGTERM, then drain (``draining`` + EOF) and return 0."""
    import signal

    import anyio

    from inferd_tui.mock_daemon.daemon import MockDaemon

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with MockDaemon.start(config) as daemon, anyio.create_task_group() as tasks:

            async def announce_ready() -> None:
                await daemon.wait_ready()
                say(f"ready: {describe(daemon)}")

            say(describe(daemon))
            tasks.start_soon(announce_ready)
            async for signum in signals:
                say(f"{signal.Signals(signum).name}: draining")
                break
            tasks.cancel_scope.cancel()
        # Leaving the daemon's context published `draining`, then EOF to admin clients.
    say("stopped")
    return 0
