"""``inferd-tui ask``: one question, the answer streamed to stdout as it arrives.

Exit status: 0 done; 2 unreachable, not ready within ``--wait``, authentication rejected,
or a daemon 0.4+ (no protocol v1); 3 invalid request (checked locally: sampling bounds,
the image budget, a grammar that fails the check — or refused by the daemon with
``invalid_request``); 4 any other daemon error, or the connection closed mid-answer (the
partial answer stays on stdout); 5 ``queue_full`` after the retries; 130 Ctrl-C.

stdout gets only the answer (or, with ``--json``, every response frame as NDJSON); notes,
usage and the stop reason go to stderr. On a terminal the answer's control characters are
made visible (a model cannot drive your terminal); into a pipe it passes unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from inferd_tui.client import (
    AdminSnapshot,
    AuthRejected,
    Client,
    ConnectError,
    ConnectTimeout,
    DoneFrame,
    EndpointResolution,
    ErrorFrame,
    InferdError,
    InvalidRequest,
    Message,
    ProtocolError,
    Request,
    ResponseFrame,
    RetryNotice,
    TokenFrame,
    UnexpectedEof,
    UnknownFrame,
    path_state,
    read_admin_state,
)
from inferd_tui.headless._console import (
    EXIT_DAEMON_ERROR,
    EXIT_INVALID_REQUEST,
    EXIT_OK,
    EXIT_QUEUE_FULL,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Console,
    demo_daemon,
    safe,
)
from inferd_tui.headless.events import describe_event
from inferd_tui.proto.errors import next_step
from inferd_tui.proto.framing import request_problem
from inferd_tui.proto.models import U32_MAX, AdminStatus, Role
from inferd_tui.runtime import Runtime
from inferd_tui.settings import Settings
from inferd_tui.text_safety import sanitize

#: Pauses before each retry of a ``queue_full`` answer (then exit 5).
QUEUE_FULL_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
#: How long the era check may take on the admin socket before giving up on it.
ERA_CHECK_TIMEOUT_S = 1.0

Sleep = Callable[[float], Awaitable[None]]


class _QueueFull(Exception):
    def __init__(self, frame: ErrorFrame) -> None:
        super().__init__(frame.message)
        self.frame = frame


@dataclass(frozen=True)
class Problem:
    """A local reason not to send the request: an exit code and what to print."""

    code: int
    lines: tuple[str, ...]


async def main(args: argparse.Namespace, runtime: Runtime, console: Console) -> int:
    built = build_request(args, runtime.loaded.settings, console)
    if isinstance(built, Problem):
        for line in built.lines:
            console.note(line)
        return built.code
    wait = args.wait if args.wait is not None else runtime.loaded.settings.ready_timeout_s
    async with demo_daemon(runtime, boot="instant"):
        return await ask(built, runtime.resolution, console, as_json=args.json, wait=wait)


# --- building the request --------------------------------------------------------------


def _read_prompt(args: argparse.Namespace, console: Console) -> str | Problem:
    words: Sequence[str] = args.prompt or ()
    if list(words) == ["-"] or (not words and not console.stdin_tty):
        if console.stdin is None:
            return Problem(EXIT_USAGE, ("ask: no prompt given and no stdin to read",))
        text = console.stdin.read()
        if not text.strip():  # an empty pipe is a broken pipeline, not a question
            return Problem(EXIT_USAGE, ("ask: error: the prompt read from stdin is empty",))
        return text
    if not words or not " ".join(words).strip():
        return Problem(
            EXIT_USAGE,
            ("ask: error: give a prompt (ask 'why is the sky blue?'), or pipe one on stdin",),
        )
    return " ".join(words)


def _sampling(args: argparse.Namespace, settings: Settings) -> dict[str, Any] | Problem:
    fields: dict[str, Any] = settings.sampling.to_wire()
    for name in ("temperature", "top_p", "top_k", "max_tokens", "image_token_budget"):
        value = getattr(args, name)
        if value is not None:
            fields[name] = value
    problems = []
    for name in ("temperature", "top_p"):
        value = fields.get(name)
        if value is not None and (not math.isfinite(value) or value < 0):
            problems.append(f"--{name.replace('_', '-')} {value} must be a number ≥ 0")
    top_p = fields.get("top_p")
    if top_p is not None and math.isfinite(top_p) and top_p > 1:
        problems.append(f"--top-p {top_p} must be between 0 and 1")
    for name in ("top_k", "max_tokens", "image_token_budget"):
        value = fields.get(name)
        if value is not None and not 0 <= value <= U32_MAX:
            problems.append(f"--{name.replace('_', '-')} {value} must be between 0 and {U32_MAX}")
    if problems:
        return Problem(EXIT_INVALID_REQUEST, tuple(f"ask: invalid request: {p}" for p in problems))
    return fields


def _grammar(path_text: str | None) -> tuple[str, tuple[str, ...]] | Problem:
    """The grammar's source and its warnings, or the errors (printed like a compiler's)."""
    if path_text is None:
        return "", ()
    path = Path(path_text).expanduser()
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(EXIT_USAGE, (f"ask: error: cannot read the grammar {path}: {exc}",))
    from inferd_tui.grammar import check

    result = check(source)
    rendered = tuple(d.render(source, path_text) for d in result.diagnostics)
    if not result.ok:
        errors = sum(1 for d in result.diagnostics if d.level == "error")
        summary = f"ask: the grammar {path_text} has {errors} error{'s' * (errors != 1)}; not sent"
        return Problem(EXIT_INVALID_REQUEST, (*rendered, summary))
    return source, rendered


def build_request(
    args: argparse.Namespace, settings: Settings, console: Console
) -> Request | Problem:
    """The request to send, or why not (exit 2 for usage, 3 for an invalid request)."""
    prompt = _read_prompt(args, console)
    if isinstance(prompt, Problem):
        return prompt
    fields = _sampling(args, settings)
    if isinstance(fields, Problem):
        return fields
    grammar = _grammar(args.grammar)
    if isinstance(grammar, Problem):
        return grammar
    source, warnings = grammar
    for line in warnings:
        console.note(line)
    system = args.system if args.system is not None else settings.system_prompt
    messages = [Message(role=Role.SYSTEM, content=system)] if system else []
    messages.append(Message(role=Role.USER, content=prompt))
    request = Request(messages=messages, grammar=source or None, **fields)
    problem = request_problem(request)
    if problem is not None:
        return Problem(EXIT_INVALID_REQUEST, (f"ask: {problem} (not sent)",))
    return request


# --- talking to the daemon -------------------------------------------------------------


async def _admin_snapshot(resolution: EndpointResolution) -> AdminSnapshot | None:
    """The admin socket's current state if it answers at once, else None."""
    admin = resolution.admin
    if admin is None or path_state(admin) != "exists":
        return None
    try:
        return await read_admin_state(admin, ERA_CHECK_TIMEOUT_S)
    except InferdError:
        return None


async def _v1_gone(resolution: EndpointResolution) -> str | None:
    """If the admin socket answers at once and announces a 0.4+ daemon, say so."""
    snapshot = await _admin_snapshot(resolution)
    if snapshot is None or snapshot.era != "0.4+":
        return None
    return (
        f"ask: the daemon at {snapshot.path} is inferd 0.4 or later: protocol v1 is gone (it "
        "no longer serves v1 on infer.sock); use an inferd 0.3.x daemon or a v2 client"
    )


#: States in which waiting longer can help: the daemon is on its way to `ready`.
_ON_ITS_WAY = frozenset({AdminStatus.STARTING, AdminStatus.LOADING_MODEL, AdminStatus.RESTARTING})


async def _still_loading(resolution: EndpointResolution) -> str | None:
    """After a wait ran out: the admin socket's word on a daemon that is on its way up."""
    snapshot = await _admin_snapshot(resolution)
    if snapshot is None or snapshot.state.status not in _ON_ITS_WAY:
        return None
    return describe_event(snapshot.state)


def _frame_json(frame: ResponseFrame) -> dict[str, Any]:
    if isinstance(frame, UnknownFrame):
        return frame.raw
    return frame.model_dump(mode="json")


async def ask(
    request: Request,
    resolution: EndpointResolution,
    console: Console,
    *,
    as_json: bool,
    wait: float,
    queue_full_delays: Sequence[float] | None = None,
    sleep: Sleep = anyio.sleep,
) -> int:
    gone = await _v1_gone(resolution)
    if gone is not None:
        console.note(gone)
        return EXIT_UNREACHABLE
    delays = QUEUE_FULL_DELAYS if queue_full_delays is None else tuple(queue_full_delays)

    def waiting(notice: RetryNotice) -> None:
        console.status(f"waiting for the daemon… (retrying in {notice.delay_s:.1f} s)")

    async with Client.from_resolution(resolution) as client:
        try:
            await client.wait_ready(timeout=wait, on_retry=waiting)
        except (ConnectError, ConnectTimeout) as exc:
            timed_out = isinstance(exc, ConnectTimeout)
            still_loading = await _still_loading(resolution) if timed_out else None
            if still_loading is not None:
                console.note(
                    f"ask: the daemon is still loading after {wait:g} s ({still_loading}); "
                    "give it longer with --wait SECONDS"
                )
            else:
                console.note(f"ask: {exc.title}: {exc.hint}")
            return EXIT_UNREACHABLE
        finally:
            console.clear_status()
        for attempt in range(len(delays) + 1):
            try:
                return await _stream(client, request, console, as_json=as_json)
            except _QueueFull as exc:
                if attempt == len(delays):
                    if as_json:
                        console.json(_frame_json(exc.frame))
                    console.note(
                        f"ask: the daemon's queue is still full after {len(delays)} "
                        f"retr{'ies' if len(delays) != 1 else 'y'}: {safe(exc.frame.message)}"
                    )
                    return EXIT_QUEUE_FULL
                await _countdown(console, delays[attempt], attempt + 1, len(delays), sleep)
    raise AssertionError("unreachable")  # pragma: no cover


async def _countdown(
    console: Console, delay: float, retry: int, retries: int, sleep: Sleep
) -> None:
    what = f"the daemon's queue is full; retry {retry} of {retries}"
    if not console.err_tty:
        console.note(f"ask: {what} in {delay:.1f} s")
        await sleep(delay)
        return
    remaining = delay
    while remaining > 0:
        console.status(f"{what} in {math.ceil(remaining)} s…")
        step = min(1.0, remaining)
        await sleep(step)
        remaining -= step
    console.clear_status()


async def _stream(client: Client, request: Request, console: Console, *, as_json: bool) -> int:
    started = anyio.current_time()
    show = (lambda text: sanitize(text)) if console.out_tty else (lambda text: text)
    streamed = False
    try:
        async with contextlib.aclosing(client.generate(request)) as frames:
            async for frame in frames:
                if isinstance(frame, ErrorFrame) and frame.code == "queue_full" and not streamed:
                    raise _QueueFull(frame)
                if as_json:
                    console.json(_frame_json(frame))
                if isinstance(frame, TokenFrame):
                    streamed = True
                    if not as_json:
                        console.write(show(frame.content))
                elif isinstance(frame, DoneFrame):
                    console.end_line()
                    console.note(_summary(frame, anyio.current_time() - started))
                    return EXIT_OK
                elif isinstance(frame, ErrorFrame):
                    console.end_line()
                    console.note(
                        f"ask: daemon error ({safe(frame.code)}): {safe(frame.message)}"
                        f" — {next_step(frame.code)}"
                    )
                    if frame.code == "invalid_request":
                        return EXIT_INVALID_REQUEST
                    return EXIT_DAEMON_ERROR
    except AuthRejected as exc:
        console.note(f"ask: {exc.title}: {exc.hint}")
        return EXIT_UNREACHABLE
    except InvalidRequest as exc:
        console.note(f"ask: {exc.hint}")
        return EXIT_INVALID_REQUEST
    except UnexpectedEof as exc:
        console.end_line()
        console.note(f"ask: {exc.title}: {exc.hint}")
        return EXIT_DAEMON_ERROR
    except ConnectError as exc:
        console.note(f"ask: {exc.title}: {exc.hint}")
        return EXIT_UNREACHABLE
    except ProtocolError as exc:
        console.end_line()
        console.note(f"ask: {exc.title}: {exc.hint}")
        return EXIT_DAEMON_ERROR
    console.end_line()
    console.note("ask: the answer ended without a terminal frame")
    return EXIT_DAEMON_ERROR


def _summary(frame: DoneFrame, elapsed: float) -> str:
    usage = frame.usage
    parts = [
        f"stop: {safe(frame.stop_reason)}",
        f"tokens: {usage.prompt_tokens} prompt + {usage.completion_tokens} completion",
    ]
    if frame.backend:
        parts.append(f"backend: {safe(frame.backend)}")
    timing = f"{elapsed:.2f} s"
    if elapsed > 0 and usage.completion_tokens:
        timing += f" ({usage.completion_tokens / elapsed:.1f} tokens/s)"
    parts.append(timing)
    return "-- " + " · ".join(parts) + " --"
