"""Regenerate screenshots/*.svg from the app driving the built-in stand-in daemon.

Run with `make screenshots`. Each picture is taken from a live session: a first boot with
a download, a streamed answer, a grammar-constrained answer with its ✓ badge, and the
admin events panel after a daemon restart. Look at the SVGs before committing them.
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


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
