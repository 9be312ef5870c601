"""The first frame the terminal gets is the usable chat screen, prompt included.

Pilot runs the app headless, and a headless app writes nothing; this driver reads input
like Textual's headless driver but takes the app's frames as a terminal would, so the test
sees exactly what was written, in order.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import anyio
import pytest
from textual.drivers.headless_driver import HeadlessDriver
from textual.pilot import Pilot

from inferd_tui.client import resolve_endpoints
from inferd_tui.ui.app import AppConfig, InferdApp

pytestmark = pytest.mark.anyio


class RecordingTerminal(HeadlessDriver):
    #: Every write of the one app a test runs (the app makes its driver itself).
    writes: ClassVar[list[str]] = []

    @property
    def is_headless(self) -> bool:
        return False  # so the app renders its frames to this driver

    def write(self, data: str) -> None:
        RecordingTerminal.writes.append(data)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_the_first_frame_written_holds_the_prompt(tmp_path: Path) -> None:
    RecordingTerminal.writes = []
    resolution = resolve_endpoints(
        socket=tmp_path / "infer.sock", admin=tmp_path / "admin.sock", env={}
    )
    app = InferdApp(AppConfig(resolution=resolution, autostart=False))
    app.driver_class = RecordingTerminal

    async def drive(pilot: Pilot[None]) -> None:
        with anyio.fail_after(10):
            while not app.first_frame_shown:
                await pilot.pause()
        app.exit()

    await app.run_async(headless=False, size=(140, 42), auto_pilot=drive)
    frames = [data for data in RecordingTerminal.writes if "No messages yet" in data]
    assert frames, "the chat screen was never drawn"
    # The first frame that shows the screen shows the prompt too (the placeholder's first
    # letter is under the cursor, so look for the rest).
    assert "sk something" in frames[0]
