"""``inferd-tui ask``: one question, the answer streamed to stdout as it arrives, on any
wire (the wire is chosen from the daemon itself; ``--wire`` overrides).

Exit status: 0 done (a tool call too); 2 unreachable, not ready within ``--wait``,
authentication rejected, or ``--wire`` asks for what the daemon cannot speak; 3 invalid
request (checked locally: sampling bounds, the image budget, a grammar that fails the
check, an attachment that cannot be read or decoded, a schema or tools that are not valid,
a field this daemon's wire or release cannot take — or refused by the daemon with
``invalid_request``); 4 any other daemon error, or the connection closed mid-answer (the
partial answer stays on stdout); 5 ``queue_full`` after the retries; 6 the finished answer
does not validate against ``--schema`` (it is still printed); 130 Ctrl-C.

stdout gets only the answer text, and one JSON object per tool call
(``{"tool_call_id","name","input"}``); with ``--json`` it gets every response frame as
received instead. Thinking, notes, usage and the stop reason go to stderr (thinking dimmed
on a terminal, or dropped with ``--no-thinking-output``). On a terminal the answer's
control characters are made visible (a model cannot drive your terminal); into a pipe it
passes unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import json
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
    EndpointResolution,
    IncompatibleDaemon,
    InferdError,
    InvalidRequest,
    ProtocolError,
    RetryNotice,
    UnexpectedEof,
    path_state,
    read_admin_state,
)
from inferd_tui.client.attachments import DEFAULT_MAX_SIDE
from inferd_tui.client.wire import WireSetting, choose_wire
from inferd_tui.headless._console import (
    EXIT_BAD_ANSWER,
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
from inferd_tui.proto.chat import (
    AudioAttachment,
    AudioBlock,
    ChatMessage,
    ChatRequest,
    ContentBlock,
    Failed,
    Finished,
    ImageAttachment,
    ImageBlock,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolSpec,
)
from inferd_tui.proto.errors import next_step
from inferd_tui.proto.framing import request_problem
from inferd_tui.proto.models import U32_MAX, AdminStatus, Message, Request, Role, SamplingParams
from inferd_tui.runtime import Runtime
from inferd_tui.settings import Settings
from inferd_tui.structured import answer_problem, schema_problems
from inferd_tui.text_safety import sanitize

#: Pauses before each retry of a ``queue_full`` answer (then exit 5).
QUEUE_FULL_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
#: How long the era check may take on the admin socket before giving up on it.
ERA_CHECK_TIMEOUT_S = 1.0

Sleep = Callable[[float], Awaitable[None]]


class _QueueFull(Exception):
    def __init__(self, event: Failed, payload: bytes = b"") -> None:
        super().__init__(event.message)
        self.event = event
        self.payload = payload


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
    settings = runtime.loaded.settings
    wait = args.wait if args.wait is not None else settings.ready_timeout_s
    async with demo_daemon(runtime, boot="instant"):
        return await ask(
            built,
            runtime.resolution,
            console,
            as_json=args.json,
            wait=wait,
            wire=settings.wire,
            release=settings.daemon_release,
        )


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


@dataclass(frozen=True)
class AskPlan:
    """What ``ask`` will send: the request (attachments are read once the daemon's audio
    rate is known) and how to show the answer."""

    request: ChatRequest
    attachments: tuple[tuple[str, Path], ...] = ()
    thinking_output: bool = True
    max_image_side: int = DEFAULT_MAX_SIDE


def _json_file(path_text: str, what: str) -> Any | Problem:
    path = Path(path_text).expanduser()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return Problem(
            EXIT_INVALID_REQUEST, (f"ask: cannot read the {what} {path}: {exc.strerror}",)
        )
    except (UnicodeDecodeError, ValueError) as exc:
        return Problem(EXIT_INVALID_REQUEST, (f"ask: the {what} {path} is not JSON: {exc}",))


def _schema(path_text: str | None) -> dict[str, Any] | Problem | None:
    """The JSON schema of ``--schema``, checked against its meta-schema."""
    if path_text is None:
        return None
    loaded = _json_file(path_text, "schema")
    if isinstance(loaded, Problem):
        return loaded
    if not isinstance(loaded, dict):
        return Problem(EXIT_INVALID_REQUEST, (f"ask: the schema {path_text} is not a JSON object",))
    problems = schema_problems(loaded)
    if problems:
        return Problem(
            EXIT_INVALID_REQUEST,
            tuple(f"ask: the schema {path_text}: {problem}" for problem in problems),
        )
    return loaded


def _tools(path_text: str | None) -> tuple[ToolSpec, ...] | Problem:
    """``--tools``: a JSON array of ``{"name","description","input_schema"}``, names unique."""
    if path_text is None:
        return ()
    loaded = _json_file(path_text, "tools file")
    if isinstance(loaded, Problem):
        return loaded
    where = f"ask: the tools file {path_text}"
    if not isinstance(loaded, list) or not loaded:
        return Problem(EXIT_INVALID_REQUEST, (f"{where} must hold a non-empty JSON array",))
    tools: list[ToolSpec] = []
    problems: list[str] = []
    for index, item in enumerate(loaded):
        if not isinstance(item, dict):
            problems.append(f"{where}: tool {index} is not an object")
            continue
        missing = [key for key in ("name", "description", "input_schema") if key not in item]
        if missing:
            problems.append(f"{where}: tool {index} has no {', '.join(missing)}")
            continue
        try:
            tool = ToolSpec.model_validate(item)
        except ValueError as exc:
            problems.append(f"{where}: tool {index}: {str(exc).splitlines()[-1].strip()}")
            continue
        problems += [
            f"{where}: tool {tool.name!r} input_schema: {problem}"
            for problem in schema_problems(tool.input_schema)
        ]
        tools.append(tool)
    names = [tool.name for tool in tools]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(f"{where}: tool names must be unique: {', '.join(repeated)}")
    if problems:
        return Problem(EXIT_INVALID_REQUEST, tuple(problems))
    return tuple(tools)


def build_request(
    args: argparse.Namespace, settings: Settings, console: Console
) -> AskPlan | Problem:
    """What to send, or why not (exit 2 for usage, 3 for an invalid request)."""
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
    schema = _schema(getattr(args, "schema", None))
    if isinstance(schema, Problem):
        return schema
    tools = _tools(getattr(args, "tools", None))
    if isinstance(tools, Problem):
        return tools
    tool_choice = getattr(args, "tool_choice", None)
    system = args.system if args.system is not None else settings.system_prompt
    messages = [ChatMessage.text(Role.SYSTEM, system)] if system else []
    messages.append(ChatMessage.text(Role.USER, prompt))
    request = ChatRequest(
        messages=tuple(messages),
        sampling=SamplingParams(**fields),
        grammar=source or None,
        response_schema=schema,
        thinking=True if getattr(args, "thinking", False) else None,
        tools=tools,
        tool_choice=tool_choice,
    )
    if fields.get("image_token_budget") is not None:
        problem = request_problem(Request(messages=[Message(role=Role.USER, content="")], **fields))
        if problem is not None:
            return Problem(EXIT_INVALID_REQUEST, (f"ask: {problem} (not sent)",))
    attachments = tuple(
        (kind, Path(path).expanduser()) for kind, path in getattr(args, "attachments", None) or ()
    )
    for _, path in attachments:
        if path_state(path) != "exists":
            return Problem(EXIT_INVALID_REQUEST, (f"ask: no file {path} to attach (not sent)",))
    return AskPlan(
        request,
        attachments,
        thinking_output=not getattr(args, "no_thinking_output", False),
        max_image_side=settings.max_image_side,
    )


#: What ask's user can do instead, for a field this daemon cannot take.
_THE_WAY_THERE = {
    "grammar": " — give a JSON schema with --schema FILE instead of --grammar",
    "image_token_budget": " — drop --image-token-budget",
}


# --- attachments -----------------------------------------------------------------------

#: The rate audio is resampled to when the daemon does not advertise one (before 0.6.2).
FALLBACK_AUDIO_RATE = 16_000


def _prepare(
    plan: AskPlan, audio_rate: int | None, console: Console
) -> tuple[ImageAttachment | AudioAttachment, ...]:
    """Decode every attachment (Pillow, soundfile); runs in a worker thread."""
    from inferd_tui.client.attachments import prepare_audio, prepare_image

    prepared: list[ImageAttachment | AudioAttachment] = []
    counts = {"image": 0, "audio": 0}
    for kind, path in plan.attachments:
        counts[kind] += 1
        attachment_id = f"{'img' if kind == 'image' else 'aud'}-{counts[kind]}"
        if kind == "image":
            image = prepare_image(path, max_side=plan.max_image_side)
            if image.scaled:
                console.note(f"ask: {image.describe()} (scaled to fit)")
            prepared.append(
                ImageAttachment(
                    id=attachment_id, width=image.width, height=image.height, data=image.rgb
                )
            )
        else:
            audio = prepare_audio(path, sample_rate=audio_rate or FALLBACK_AUDIO_RATE)
            prepared.append(
                AudioAttachment(
                    id=attachment_id, sample_rate=audio.sample_rate, data=audio.pcm_f32le
                )
            )
    return tuple(prepared)


def _with_attachments(
    request: ChatRequest, attachments: tuple[ImageAttachment | AudioAttachment, ...]
) -> ChatRequest:
    """The prompt's blocks followed by one block per attachment, in the order given."""
    if not attachments:
        return request
    blocks: list[ContentBlock] = []
    for attachment in attachments:
        if isinstance(attachment, ImageAttachment):
            blocks.append(ImageBlock(attachment_id=attachment.id))
        else:
            blocks.append(AudioBlock(attachment_id=attachment.id))
    *earlier, prompt = request.messages
    prompt = prompt.model_copy(update={"content": (*prompt.content, *blocks)})
    return request.model_copy(update={"messages": (*earlier, prompt), "attachments": attachments})


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


#: States in which waiting longer can help: the daemon is on its way to `ready`.
_ON_ITS_WAY = frozenset({AdminStatus.STARTING, AdminStatus.LOADING_MODEL, AdminStatus.RESTARTING})


async def _still_loading(resolution: EndpointResolution) -> str | None:
    """After a wait ran out: the admin socket's word on a daemon that is on its way up."""
    snapshot = await _admin_snapshot(resolution)
    if snapshot is None or snapshot.state.status not in _ON_ITS_WAY:
        return None
    return describe_event(snapshot.state)


async def ask(
    plan: AskPlan | ChatRequest,
    resolution: EndpointResolution,
    console: Console,
    *,
    as_json: bool,
    wait: float,
    wire: WireSetting = "auto",
    release: str | None = None,
    queue_full_delays: Sequence[float] | None = None,
    sleep: Sleep = anyio.sleep,
) -> int:
    if isinstance(plan, ChatRequest):
        plan = AskPlan(plan)
    try:
        # A loading daemon sends its capabilities only before `ready`: wait for them.
        choice = await choose_wire(
            resolution, wire=wire, admin_timeout=max(wait, 0.5), release=release
        )
    except IncompatibleDaemon as exc:
        console.note(f"ask: {exc.hint}")
        return EXIT_UNREACHABLE
    request = plan.request
    if plan.attachments:
        from inferd_tui.client.attachments import AttachmentError

        try:
            prepared = await anyio.to_thread.run_sync(
                _prepare, plan, choice.profile.audio_sample_rate, console
            )
        except AttachmentError as exc:
            console.note(f"ask: {exc.hint} (not sent)")
            return EXIT_INVALID_REQUEST
        request = _with_attachments(request, prepared)
    delays = QUEUE_FULL_DELAYS if queue_full_delays is None else tuple(queue_full_delays)

    def waiting(notice: RetryNotice) -> None:
        console.status(f"waiting for the daemon… (retrying in {notice.delay_s:.1f} s)")

    async with Client.from_resolution(resolution, choice=choice) as client:
        refused = False
        for problem in client.check(request):
            refused = refused or problem.severity == "error"
            prefix = "ask: " if problem.severity == "error" else "ask: note: "
            way = _THE_WAY_THERE.get(problem.field, "")
            console.note(f"{prefix}{problem.message}{way}")
        if refused:
            console.note(f"ask: not sent ({choice.describe()})")
            return EXIT_INVALID_REQUEST
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
                return await _stream(client, request, plan, console, as_json=as_json)
            except _QueueFull as exc:
                if attempt == len(delays):
                    if as_json and exc.payload:
                        console.line(exc.payload.decode("utf-8", "replace"))
                    console.note(
                        f"ask: the daemon's queue is still full after {len(delays)} "
                        f"retr{'ies' if len(delays) != 1 else 'y'}: {safe(exc.event.message)}"
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


async def _stream(
    client: Client, request: ChatRequest, plan: AskPlan, console: Console, *, as_json: bool
) -> int:
    started = anyio.current_time()
    show = (lambda text: sanitize(text)) if console.out_tty else (lambda text: text)
    streamed = False
    parts: list[str] = []
    thinking_open = False
    # --json: each frame as received, printed once its event is known (a queue_full
    # that will be retried is not printed; only the last one is).
    received: list[bytes] = []
    if as_json:
        client.tap = received.append

    def end_thinking() -> None:
        nonlocal thinking_open
        if thinking_open:
            console.note(_DIM_END if console.err_tty else "")
            thinking_open = False

    try:
        async with contextlib.aclosing(client.chat(request)) as events:
            async for event in events:
                if isinstance(event, Failed) and event.code == "queue_full" and not streamed:
                    raise _QueueFull(event, b"".join(received))
                for payload in received:
                    console.line(payload.decode("utf-8", "replace"))
                received.clear()
                if isinstance(event, TextDelta):
                    streamed = True
                    end_thinking()
                    parts.append(event.text)
                    if not as_json:
                        console.write(show(event.text))
                elif isinstance(event, ThinkingDelta):
                    streamed = True
                    if plan.thinking_output and not as_json:
                        thinking_open = _write_thinking(console, event.text, thinking_open)
                elif isinstance(event, ToolCall):
                    streamed = True
                    end_thinking()
                    if not as_json:
                        console.end_line()
                        console.json(
                            {
                                "tool_call_id": event.tool_call_id,
                                "name": event.name,
                                "input": event.input,
                            }
                        )
                elif isinstance(event, Finished):
                    end_thinking()
                    console.end_line()
                    console.note(_summary(event, anyio.current_time() - started))
                    return _check_answer(request, event, "".join(parts), console)
                elif isinstance(event, Failed):
                    end_thinking()
                    console.end_line()
                    console.note(
                        f"ask: daemon error ({safe(event.code)}): {safe(event.message)}"
                        f" — {next_step(event.code)}"
                    )
                    if event.code == "invalid_request":
                        return EXIT_INVALID_REQUEST
                    return EXIT_DAEMON_ERROR
    except AuthRejected as exc:
        console.note(f"ask: {exc.title}: {exc.hint}")
        return EXIT_UNREACHABLE
    except InvalidRequest as exc:
        console.note(f"ask: {exc.hint}")
        return EXIT_INVALID_REQUEST
    except UnexpectedEof as exc:
        end_thinking()
        console.end_line()
        console.note(f"ask: {exc.title}: {exc.hint}")
        return EXIT_DAEMON_ERROR
    except ConnectError as exc:
        console.note(f"ask: {exc.title}: {exc.hint}")
        return EXIT_UNREACHABLE
    except ProtocolError as exc:
        end_thinking()
        console.end_line()
        console.note(f"ask: {exc.title}: {exc.hint}")
        return EXIT_DAEMON_ERROR
    finally:
        client.tap = None
    console.end_line()
    console.note("ask: the answer ended without a terminal frame")
    return EXIT_DAEMON_ERROR


_DIM = "\x1b[2m"
_DIM_END = "\x1b[0m"


def _write_thinking(console: Console, text: str, is_open: bool) -> bool:
    """Thinking goes to stderr, dimmed on a terminal, never into stdout's answer."""
    shown = sanitize(text) if console.err_tty else text
    with contextlib.suppress(OSError, ValueError):
        console.clear_status()
        if not is_open and console.err_tty:
            console.err.write(_DIM)
        console.err.write(shown)
        console.err.flush()
    return True


def _check_answer(request: ChatRequest, done: Finished, text: str, console: Console) -> int:
    """A schema-constrained answer is validated: exit 6 when it does not fit."""
    if done.stop_reason == "tool_use":
        console.note("ask: stop reason tool_use: answer the call and ask again")
    if done.tool_choice_unsatisfied:
        console.note("ask: tool_choice was required, but the model made no tool call")
    if request.response_schema is None or done.stop_reason == "tool_use":
        return EXIT_OK
    if done.stop_reason == "max_tokens":
        console.note("ask: ◌ the answer stopped early (max tokens); not checked against the schema")
        return EXIT_OK
    problem = answer_problem(request.response_schema, text)
    if problem is None:
        console.note("ask: ✓ the answer matches the schema")
        return EXIT_OK
    console.note(f"ask: ✗ the answer does not match the schema: {problem}")
    return EXIT_BAD_ANSWER


def _summary(done: Finished, elapsed: float) -> str:
    usage = done.usage
    parts = [
        f"stop: {safe(done.raw_stop_reason)}",
        f"tokens: {usage.input_tokens} prompt + {usage.output_tokens} completion",
    ]
    if done.backend:
        parts.append(f"backend: {safe(done.backend)}")
    timing = f"{elapsed:.2f} s"
    if elapsed > 0 and usage.output_tokens:
        timing += f" ({usage.output_tokens / elapsed:.1f} tokens/s)"
    parts.append(timing)
    return "-- " + " · ".join(parts) + " --"
