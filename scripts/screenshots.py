"""Regenerate screenshots/*.svg from the app driving the built-in stand-in daemon.

Run with `make screenshots`. Each picture is taken from a live session: on an inferd 0.3
stand-in, a first boot with a download, a streamed answer, a grammar-constrained answer with
its ✓ badge, and the admin events panel after a daemon restart; on an inferd 0.8 one, an
answer that thinks first, a tool call answered by hand, and an answer checked against a
JSON schema, and an attached image with its chip and the answer about its bytes. Look at
the SVGs before committing them.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from inferd_tui.client import resolve_endpoints
from inferd_tui.conversation import TurnState
from inferd_tui.grammar import get_example
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.proto import SamplingParams
from inferd_tui.ui.app import AppConfig, InferdApp
from inferd_tui.ui.screens.chat import ChatScreen

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZE = (140, 42)


async def until(pilot: Pilot[None], predicate: Callable[[], bool], what: str) -> None:
    for _ in range(3000):
        if predicate():
            return
        await pilot.pause(0.01)
    raise SystemExit(f"screenshots: timed out waiting for {what}")


def chat(app: InferdApp) -> ChatScreen:
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


def save(app: InferdApp, name: str) -> None:
    app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    print(f"wrote screenshots/{name}.svg")


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="shots-", dir="/tmp"))
    socket_path, admin_path = directory / "infer.sock", directory / "admin.sock"
    daemon_config = MockConfig(
        socket_path=socket_path,
        admin_path=admin_path,
        boot="first-boot",
        backend="demo",
        download_duration_s=6.0,
        phase_hold_s=0.4,
        demo_tokens_per_s=80.0,
    )
    resolution = resolve_endpoints(socket=socket_path, admin=admin_path, env={})
    async with MockDaemon.start(daemon_config) as daemon:
        app = InferdApp(AppConfig(resolution=resolution))
        async with app.run_test(size=SIZE) as pilot:
            # 1. First boot: wait until the download is well under way.
            await until(
                pilot,
                lambda: (
                    (progress := app.daemon_state.download) is not None
                    and (progress.percent or 0) > 35
                ),
                "the download",
            )
            screen = chat(app)
            screen.prompt.set_prompt("How do Unix sockets work?")
            await pilot.pause(0.2)
            save(app, "first-boot")

            # 2. A streamed answer, caught mid-stream.
            await until(pilot, lambda: app.inference_ready, "ready")
            screen.prompt.focus()
            await pilot.press("enter")
            await until(
                pilot,
                lambda: (
                    screen.conversation.turns[-1].role == "assistant"
                    and "```" in screen.conversation.turns[-1].content
                    and len(screen.conversation.turns[-1].content) > 900
                ),
                "a long part of the answer",
            )
            save(app, "streaming")
            await until(pilot, lambda: screen._live is None, "the answer to finish")

            # 3. A grammar-constrained answer, checked against its grammar.
            grammar = get_example("json-person").source
            screen.sidebar.load(SamplingParams(temperature=0.3, max_tokens=200), grammar)
            screen.sidebar.grammar_editor.flush_check()
            screen.prompt.set_prompt("Make up a contact card for a new colleague.")
            screen.prompt.focus()
            await pilot.press("enter")
            await until(
                pilot,
                lambda: (
                    screen.conversation.turns[-1].role == "assistant"
                    and screen.conversation.turns[-1].state is TurnState.COMPLETE
                    and screen.conversation.turns[-1].grammar_match is not None
                ),
                "the constrained answer",
            )
            await pilot.pause(0.3)
            save(app, "grammar")

            # 4. The admin events panel after a restart (the marker lands in the chat too).
            await daemon.restart()
            await until(
                pilot,
                lambda: (
                    any(t.role == "marker" for t in screen.conversation.turns)
                    and app.inference_ready
                ),
                "the restart",
            )
            await pilot.press("ctrl+o")
            await pilot.pause(0.5)
            save(app, "admin-panel")

    await today(Path(tempfile.mkdtemp(prefix="shots8-", dir="/tmp")))


async def ask(
    pilot: Pilot[None], screen: ChatScreen, prompt: str, done: Callable[[], bool]
) -> None:
    screen.prompt.set_prompt(prompt)
    screen.prompt.focus()
    await pilot.press("enter")
    await until(pilot, lambda: screen.session.live is None and done(), f"the answer to {prompt!r}")
    await pilot.pause(0.3)


async def today(directory: Path) -> None:
    """The newest release: thinking, a tool call answered by hand, a schema-checked answer."""
    from inferd_tui.request_options import RequestOptions
    from inferd_tui.schema_examples import get_schema_example, load_tool_examples
    from inferd_tui.structured import check_tools_text
    from inferd_tui.ui.screens.tool_result import ToolResultScreen

    socket_path, admin_path = directory / "inferd.sock", directory / "admin.sock"
    config = MockConfig(
        socket_path=socket_path,
        admin_path=admin_path,
        era="0.8",
        backend="demo",
        demo_tokens_per_s=150.0,
    )
    resolution = resolve_endpoints(socket=socket_path, admin=admin_path, env={})
    async with MockDaemon.start(config):
        app = InferdApp(AppConfig(resolution=resolution))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            screen = chat(app)
            await pilot.press("f3")  # the events panel folded: more room for answers

            # 5. Thinking first, folded to one line once the answer is there.
            short = SamplingParams(max_tokens=90)  # the whole answer fits under its thinking
            screen.sidebar.load_options(RequestOptions(sampling=short, thinking=True))
            last = lambda: screen.conversation.turns[-1]  # noqa: E731
            await ask(pilot, screen, "Why is the sky blue?", lambda: bool(last().thinking))
            save(app, "v2-thinking")

            # 6. A tool call, answered by hand; the model carries on from the result.
            tools = check_tools_text(load_tool_examples()["weather"]).tools or ()
            screen.sidebar.load_options(RequestOptions(tools=tools))
            await ask(
                pilot,
                screen,
                "Should I cycle to work in Dublin tomorrow?",
                lambda: bool(last().tool_calls),
            )
            await pilot.press("ctrl+f")
            await until(pilot, lambda: isinstance(app.screen, ToolResultScreen), "the dialog")
            app.screen.query_one("TextArea").text = '{"sky": "cloudy", "rain_mm": 0.4}'  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await until(
                pilot,
                lambda: (
                    last().role == "assistant"
                    and not last().tool_calls
                    and screen.session.live is None
                    and bool(last().content)
                ),
                "the answer after the tool result",
            )
            await pilot.pause(0.3)
            save(app, "v2-tool-call")

            # 7. Structured output, checked against the schema.
            schema = get_schema_example("enum").schema
            screen.sidebar.load_options(RequestOptions(response_schema=schema))
            await ask(
                pilot,
                screen,
                "Rate this review: 'Fast, quiet, and it just works.'",
                lambda: last().schema_match is not None,
            )
            save(app, "v2-schema")

            # 8. An image attached: its chip above the prompt, then the answer about it.
            screen.sidebar.load_options(RequestOptions())
            screen.attach_path(sunset(directory / "sunset.png"))
            await until(pilot, lambda: bool(screen.attachment_bar.items), "the chip")
            await pilot.pause(0.5)
            save(app, "v2-attachment-chip")
            await ask(
                pilot,
                screen,
                "What colours are in this picture?",
                lambda: last().role == "assistant" and bool(last().content),
            )
            save(app, "v2-attachment")


def sunset(path: Path) -> Path:
    """A small gradient picture, made here (no binary files in the repository)."""
    from PIL import Image

    width, height = 320, 200
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            (250 - y // 2, 120 + x // 8 - y // 4, 60 + y // 2)
            for y in range(height)
            for x in range(width)
        ]
    )
    image.save(path)
    return path


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
