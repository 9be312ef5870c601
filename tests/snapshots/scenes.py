"""Deterministic app states for snapshot tests and for scripts/screenshots.py.

The app runs with `autostart=False` (no daemon, no sockets, no timers of ours) and fixed
clocks; each scene feeds the state in directly — admin events, a conversation — so every
frame is the same on every machine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from textual.pilot import Pilot

from inferd_tui.client import AdminNotice, resolve_endpoints
from inferd_tui.conversation import Conversation, TurnState
from inferd_tui.proto import (
    DoneFrame,
    Request,
    SamplingParams,
    TokenFrame,
    Usage,
    parse_admin_event,
)
from inferd_tui.ui.app import AppConfig, InferdApp
from inferd_tui.ui.screens.chat import ChatScreen

SOCKET = Path("/run/user/1000/inferd/infer.sock")
ADMIN = Path("/run/user/1000/inferd/admin.sock")
MODEL = "/home/ada/.inferd/models/gemma-4-e4b.gguf"
GIB5 = 5_126_304_928


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_app() -> InferdApp:
    clock = FakeClock()
    config = AppConfig(
        resolution=resolve_endpoints(socket=SOCKET, admin=ADMIN, env={}),
        autostart=False,
        clock=clock,
        wall_clock=lambda: datetime(2026, 11, 22, 9, 30, 0),
    )
    app = InferdApp(config)
    app.fake_clock = clock  # type: ignore[attr-defined]
    return app


def admin(app: InferdApp, seconds: float = 0.0, **fields: Any) -> None:
    import json

    app.fake_clock.now += seconds  # type: ignore[attr-defined]
    line = json.dumps({"id": "admin", "type": "status", **fields}).encode()
    app.fold_admin_event(parse_admin_event(line))


def boot_until_download(app: InferdApp) -> None:
    app.fold_admin_notice(AdminNotice("connected", f"admin connected ({ADMIN})"))
    admin(app, status="starting")
    admin(app, 0.2, status="loading_model", phase="checking_local", path=MODEL)
    for step in range(1, 12):
        admin(
            app,
            1.0,
            status="loading_model",
            phase="download",
            downloaded_bytes=step * 180 * 1024 * 1024,
            total_bytes=GIB5,
            source_url="https://models.example.invalid/gemma-4-e4b.gguf",
        )


def boot_to_ready(app: InferdApp) -> None:
    boot_until_download(app)
    admin(app, 0.5, status="loading_model", phase="verify", path=MODEL)
    admin(app, 0.5, status="loading_model", phase="mmap", path=MODEL)
    admin(app, 0.5, status="loading_model", phase="kv_cache", n_ctx=8192)
    admin(
        app,
        0.1,
        status="capabilities",
        backend="gemma-4-e4b",
        accelerator="cuda",
        gpu_layers=43,
        v2=True,
        vision=True,
        audio=False,
        tools=False,
        thinking=True,
        embed=False,
    )
    admin(app, 0.1, status="ready")
    app.daemon_state = app.daemon_state.with_inference_connected(str(SOCKET), app.config.clock())


ANSWER = """## Unix sockets in short

A Unix domain socket is a local, file-addressed pipe between processes:

- **stream** sockets behave like TCP (ordered, reliable bytes);
- **datagram** sockets keep message boundaries;
- permissions come from the socket file's mode and owner.

```python
import socket

with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
    s.connect("/run/user/1000/inferd/infer.sock")
    s.sendall(b'{"messages":[{"role":"user","content":"hi"}]}\\n')
```

| family   | addressed by | crosses hosts |
|----------|--------------|---------------|
| AF_UNIX  | a file path  | no            |
| AF_INET  | IP and port  | yes           |
"""


def conversation_screen(app: InferdApp) -> ChatScreen:
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


def add_exchange(
    conversation: Conversation,
    prompt: str,
    answer: str,
    *,
    finish: str = "done",
    code: str | None = None,
    message: str | None = None,
) -> None:
    conversation.add_user(prompt)
    request = Request.build(conversation.messages(), SamplingParams(), id="tui-1")
    turn = conversation.begin_answer(request, now=10.0)
    conversation.apply(turn, TokenFrame(content=answer), now=10.35)
    if finish == "done":
        conversation.apply(
            turn,
            DoneFrame(
                content=answer,
                usage=Usage(prompt_tokens=31, completion_tokens=212),
                stop_reason="end",
                backend="llamacpp",
            ),
            now=14.6,
        )
    elif finish == "streaming":
        return
    else:
        conversation.fail(turn, TurnState(finish), now=12.0, code=code, message=message)


async def show(app: InferdApp, conversation: Conversation) -> None:
    screen = conversation_screen(app)
    screen.conversation = conversation
    screen.transcript.sync(conversation.turns)
    screen.transcript.action_follow()
    screen._update_preview()


Scene = Callable[[Pilot[None]], Awaitable[None]]


async def panels_ready(pilot: Pilot[None]) -> None:
    """The sidebar and the admin panel mount their parts just after the first frame."""
    screen = conversation_screen(pilot.app)  # type: ignore[arg-type]
    with anyio.fail_after(10):
        while not (screen.sidebar.ready and screen.admin_panel.ready):
            await pilot.pause()


async def settle(pilot: Pilot[None]) -> None:
    app = pilot.app
    await panels_ready(pilot)
    conversation_screen(app).prompt.cursor_blink = False  # type: ignore[arg-type]
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


# --- answers with blocks (thinking, tool calls), built from answer events ---------------

THINKING = (
    "The user asks how a Unix socket differs from TCP on one machine.\n"
    "They want the practical difference, not kernel internals.\n"
    "Points: addressed by a file path; permissions come from the file's mode; no network "
    "stack, so less overhead; cannot cross hosts.\n"
    "Keep it short and end with when to pick which."
)

THOUGHTFUL_ANSWER = (
    "A **Unix socket** is addressed by a file path and never leaves the machine, so the "
    "kernel skips the network stack; access is controlled by the socket file's owner and "
    "mode.\n\nPick TCP when the other side may move to another host; pick a Unix socket "
    "for local daemons such as `inferd`."
)


def add_thinking_exchange(conversation: Conversation, prompt: str) -> None:
    """A finished answer that thought first: one thinking delta per line, then the text."""
    from inferd_tui.proto.chat import Finished, TextDelta, ThinkingDelta, TokenUsage
    from inferd_tui.request_options import RequestOptions

    conversation.add_user(prompt)
    request = conversation.to_chat_request(RequestOptions(thinking=True), request_id="tui-2")
    turn = conversation.begin_answer(request, now=10.0)
    for line in THINKING.splitlines(keepends=True):
        conversation.apply(turn, ThinkingDelta(line), now=10.3)
    conversation.apply(turn, TextDelta(THOUGHTFUL_ANSWER), now=11.0)
    conversation.apply(
        turn, Finished("end_turn", "end_turn", TokenUsage(27, 118), "llamacpp"), now=13.4
    )


def add_tool_exchange(conversation: Conversation) -> None:
    """An answer that calls get_weather, the result typed for it, and the answer after."""
    from inferd_tui.proto.chat import Finished, TextDelta, ThinkingDelta, TokenUsage, ToolCall
    from inferd_tui.request_options import RequestOptions

    conversation.add_user("Should I cycle to work in Dublin tomorrow?")
    request = conversation.to_chat_request(RequestOptions(), request_id="tui-3")
    turn = conversation.begin_answer(request, now=20.0)
    conversation.apply(turn, ThinkingDelta("I need tomorrow's forecast for Dublin."), now=20.2)
    conversation.apply(turn, TextDelta("Let me check tomorrow's forecast."), now=20.4)
    conversation.apply(
        turn,
        ToolCall(
            "tc-7f3a",
            "get_weather",
            {"city": "Dublin", "country": "IE", "days": 1, "fields": ["rain_mm", "wind_kph"]},
        ),
        now=20.9,
    )
    conversation.apply(
        turn, Finished("tool_use", "tool_use", TokenUsage(64, 41), "llamacpp"), now=21.0
    )
    conversation.add_tool_result("tc-7f3a", '{"rain_mm": 0.4, "wind_kph": 18, "sky": "cloudy"}')
    request = conversation.to_chat_request(RequestOptions(), request_id="tui-4")
    turn = conversation.begin_answer(request, now=30.0)
    conversation.apply(
        turn,
        TextDelta(
            "Yes — tomorrow looks fine for cycling: cloudy with only **0.4 mm** of rain and "
            "a moderate 18 km/h wind. Take a light rain jacket just in case."
        ),
        now=30.3,
    )
    conversation.apply(
        turn, Finished("end_turn", "end_turn", TokenUsage(121, 38), "llamacpp"), now=31.2
    )
