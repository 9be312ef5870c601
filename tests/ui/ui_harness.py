"""What the UI tests share: waiting on a condition, and the sidebar in a harness app.

pytest puts this directory on ``sys.path`` (no ``__init__.py``), so tests import it by name.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from inferd_tui.proto import SamplingParams
from inferd_tui.ui.widgets.sampling_sidebar import SamplingSidebar


async def until(pilot: Pilot[None], predicate: Callable[[], bool], what: str) -> None:
    """Let the app run until ``predicate`` holds (at most 10 s, then fail naming ``what``)."""
    with anyio.fail_after(10, shield=False):
        while not predicate():
            await pilot.pause(0.01)
    assert predicate(), what


async def sidebar_ready(pilot: Pilot[None]) -> None:
    """The sidebar mounts its fields just after the first frame."""
    with anyio.fail_after(10):
        while not pilot.app.query_one(SamplingSidebar).ready:
            await pilot.pause()


class SidebarApp(App[None]):
    """The sampling sidebar alone, recording what it announces."""

    def __init__(self, params: SamplingParams | None = None, grammar: str = "") -> None:
        super().__init__()
        self.params = params
        self.grammar = grammar
        self.changed: list[SamplingSidebar.Changed] = []
        self.invalid: list[SamplingSidebar.Invalid] = []

    def compose(self) -> ComposeResult:
        yield SamplingSidebar(self.params, self.grammar, id="sidebar")

    def on_sampling_sidebar_changed(self, message: SamplingSidebar.Changed) -> None:
        self.changed.append(message)

    def on_sampling_sidebar_invalid(self, message: SamplingSidebar.Invalid) -> None:
        self.invalid.append(message)

    @property
    def sidebar(self) -> SamplingSidebar:
        return self.query_one(SamplingSidebar)
