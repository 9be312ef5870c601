"""The admin events panel and the daemon status bar, driven through a tiny harness app."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, Label, ProgressBar

from inferd_tui.daemon_state import DaemonState
from inferd_tui.proto import AdminEvent, parse_admin_event
from inferd_tui.ui.widgets import admin_panel
from inferd_tui.ui.widgets.admin_panel import (
    FLUSH_SLICE,
    MAX_LINE_CHARS,
    AdminLog,
    AdminPanel,
    format_event,
    format_value,
)
from inferd_tui.ui.widgets.status_bar import DaemonStatusBar

pytestmark = pytest.mark.anyio

T0 = datetime(2025, 1, 1, 12, 0, 0)
TOTAL = 5126304928


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Notice:
    """The shape of ``client.AdminNotice``."""

    kind: str
    message: str
    retry_in: float | None = None
    error: object | None = None


class PanelApp(App[None]):
    def __init__(self, tail_limit: int = 5000) -> None:
        super().__init__()
        self.tail_limit = tail_limit

    def compose(self) -> ComposeResult:
        yield DaemonStatusBar(id="status")
        yield AdminPanel(id="admin", tail_limit=self.tail_limit)


def admin(**fields: Any) -> AdminEvent:
    return parse_admin_event(json.dumps({"id": "admin", "type": "status", **fields}).encode())


def download(done: int, total: int | None = TOTAL) -> AdminEvent:
    return admin(
        status="loading_model",
        phase="download",
        downloaded_bytes=done,
        total_bytes=total,
        source_url="https://example.invalid/gemma.gguf",
    )


class Feeder:
    """Folds events into a DaemonState and hands both to the panel, one second apart."""

    def __init__(self, panel: AdminPanel) -> None:
        self.panel = panel
        self.state = DaemonState()
        self.seconds = 0

    def event(self, event: AdminEvent) -> None:
        self.state = self.state.with_admin_event(event, float(self.seconds))
        self.panel.add_event(event, received_at=self.at(), state=self.state)
        self.seconds += 1

    def notice(self, notice: Notice, *, with_state: bool = True) -> None:
        self.state = self.state.with_admin_notice(notice, float(self.seconds))
        state = self.state if with_state else None
        self.panel.add_notice(notice, received_at=self.at(), state=state)
        self.seconds += 1

    def at(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds)


def rendered(log: AdminLog) -> list[str]:
    return [
        "".join(segment.text for segment in log.render_line(y)).rstrip()
        for y in range(log.size.height)
    ]


async def ready(pilot: Pilot[None]) -> None:
    """The panel mounts its parts just after the first frame."""
    with anyio.fail_after(10):
        while not pilot.app.query_one(AdminPanel).ready:
            await pilot.pause()


async def settle(app: PanelApp, panel: AdminPanel) -> None:
    """Write what the panel buffered now, rather than waiting for its timer."""
    panel.flush()
    await app.workers.wait_for_complete()  # Log measures line widths in a worker


# --- formatting -------------------------------------------------------------------------


async def test_events_appear_as_timestamped_lines_with_sizes_humanised() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        feed = Feeder(panel)
        feed.event(admin(status="starting"))
        feed.event(download(33554432))
        feed.event(admin(status="loading_model", phase="kv_cache", n_ctx=8192))
        feed.event(
            admin(
                status="capabilities",
                backend="gemma-4-e4b",
                accelerator="cuda",
                gpu_layers=43,
                vision=True,
                audio=False,
                vram_total_bytes=8 * 1024**3,
            )
        )
        feed.event(admin(status="ready"))
        await settle(app, panel)
        await pilot.pause()
        assert panel.lines == [
            "12:00:00 starting",
            "12:00:01 loading_model download downloaded_bytes=32.0 MiB"
            " source_url=https://example.invalid/gemma.gguf total_bytes=4.8 GiB",
            "12:00:02 loading_model kv_cache n_ctx=8192",
            "12:00:03 capabilities accelerator=cuda audio=false backend=gemma-4-e4b"
            " gpu_layers=43 vision=true vram_total_bytes=8.0 GiB",
            "12:00:04 ready",
        ]
        log = panel.query_one(AdminLog)
        assert list(log.lines) == panel.lines
        assert rendered(log)[:5] == panel.lines
        assert app.query_one("#admin-count", Label).content == "5 lines"


class PrefedApp(App[None]):
    """Events reach the panel before it is mounted (the app's watcher starts early)."""

    def compose(self) -> ComposeResult:
        panel = AdminPanel()
        feed = Feeder(panel)
        feed.event(download(1024))
        feed.event(admin(status="ready"))
        yield panel


async def test_events_added_before_mount_are_shown() -> None:
    app = PrefedApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        await pilot.pause()
        await app.workers.wait_for_complete()
        panel = app.query_one(AdminPanel)
        assert len(panel.lines) == 2
        assert list(panel.query_one(AdminLog).lines) == panel.lines
        assert app.query_one("#admin-count", Label).content == "2 lines"
        assert not panel.query_one("#admin-download").has_class("-visible")


async def test_unknown_statuses_and_keys_are_shown_verbatim() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        line = b'{"extra_key":42,"id":"admin","nested":{"a":[1,null]},"status":"future_state","type":"status"}'
        Feeder(panel).event(parse_admin_event(line))
        # A known key with the wrong type is kept verbatim too.
        Feeder(panel).event(admin(status="loading_model", phase="warp", total_bytes="lots"))
        assert panel.lines == [
            '12:00:00 future_state extra_key=42 nested={"a": [1, null]}',
            "12:00:00 loading_model warp total_bytes=lots",
        ]


def test_value_formatting() -> None:
    assert format_value("downloaded_bytes", 1024) == "1.0 KiB"
    assert format_value("downloaded_bytes", -1) == "-1"
    assert format_value("downloaded_bytes", True) == "true"
    assert format_value("total_bytes", None) == "null"
    assert format_value("n_ctx", 8192) == "8192"
    assert format_value("ratio", 0.5) == "0.5"
    assert format_value("list", ["a", 1]) == '["a", 1]'


async def test_notices_are_styled_apart_from_events() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        feed = Feeder(panel)
        feed.event(admin(status="ready"))
        feed.notice(Notice("disconnected", "admin disconnected, retrying in 2 s", 2.0))
        await settle(app, panel)
        await pilot.pause()
        assert panel.lines[1] == "12:00:01 ⚑ admin disconnected, retrying in 2 s"
        log = panel.query_one(AdminLog)
        event_style = next(iter(log.render_line(0))).style
        notice_style = next(iter(log.render_line(1))).style
        assert notice_style is not None and event_style is not None
        assert notice_style != event_style
        assert notice_style.italic


# --- hostile daemons --------------------------------------------------------------------


async def test_hostile_admin_fields_are_shown_safely() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        feed = Feeder(panel)
        hostile = {
            "id": "admin",
            "type": "status",
            "status": "\x1b[2Jwiped",
            "phase": "[bold]markup[/bold]",
            "path": "\x1b]52;c;aGVsbG8=\x07",
            "note\x1b[31m": "surrogate \ud800 here",
            "multi": "line one\nline two\r",
            "huge": "A" * 1_000_000,
        }
        feed.event(parse_admin_event(json.dumps(hostile).encode()))
        feed.notice(Notice("malformed", "skipped \x1b[5m[red]bad[/red] line\x07"))
        await settle(app, panel)
        await pilot.pause()

        event_line, notice_line = panel.lines
        for line in panel.lines:
            assert not any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in line)
            assert not any(0xD800 <= ord(char) <= 0xDFFF for char in line)
        assert event_line.startswith("12:00:00 ␛[2Jwiped [bold]markup[/bold] ")
        assert "path=␛]52;c;aGVsbG8=␇" in event_line
        assert "note␛[31m=surrogate \ufffd here" in event_line
        assert "multi=line one⏎line two␍" in event_line
        assert "huge=" + "A" * 100 in event_line
        assert len(event_line) <= MAX_LINE_CHARS
        assert "chars)" in format_event(parse_admin_event(json.dumps(hostile).encode()), T0)
        assert notice_line == "12:00:01 ⚑ skipped ␛[5m[red]bad[/red] line␇"

        screen = "\n".join(rendered(panel.query_one(AdminLog)))
        assert "\x1b" not in screen and "\x07" not in screen
        assert "[bold]markup[/bold]" in screen  # markup stays literal
        assert "[red]bad[/red]" in screen

        # The status bar shows the unknown status through the same filter.
        bar = app.query_one(DaemonStatusBar)
        bar.update_state(feed.state)
        await pilot.pause()
        svg = app.export_screenshot()
        assert "\x1b" not in bar.summary_text
        assert "␛[2Jwiped" in bar.summary_text
        assert "[bold]markup[/bold]" in bar.summary_text
        assert "markup[/bold]" in svg


# --- follow, filter, clear, tail limit --------------------------------------------------


async def test_filter_narrows_and_restores_with_a_count() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        feed = Feeder(panel)
        for event in (
            admin(status="starting"),
            download(10),
            download(20),
            admin(status="ready"),
            admin(status="draining"),
        ):
            feed.event(event)
        await settle(app, panel)
        log = panel.query_one(AdminLog)
        log.focus()
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"DOWNLOAD")  # case-insensitive
        await settle(app, panel)
        await pilot.pause()
        assert panel.filter_text == "download"
        assert len(log.lines) == 2 and all("download" in line for line in log.lines)
        assert app.query_one("#admin-count", Label).content == "2 of 5 lines"

        # New lines that match are shown, others retained but hidden.
        feed.event(download(30))
        feed.event(admin(status="ready"))
        await settle(app, panel)
        assert len(log.lines) == 3
        assert app.query_one("#admin-count", Label).content == "3 of 7 lines"

        await pilot.press("enter")  # back to the log
        assert log.has_focus
        app.query_one(Input).value = ""
        await pilot.pause()
        await settle(app, panel)
        assert list(log.lines) == panel.lines and len(log.lines) == 7
        assert app.query_one("#admin-count", Label).content == "7 lines"


async def test_filter_count_follows_lines_leaving_the_tail() -> None:
    app = PanelApp(tail_limit=3)
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        feed = Feeder(panel)
        panel.set_filter("ready")
        for event in (admin(status="ready"), admin(status="starting"), admin(status="ready")):
            feed.event(event)
        await settle(app, panel)
        log = panel.query_one(AdminLog)
        assert app.query_one("#admin-count", Label).content == "2 of 3 lines"
        assert len(log.lines) == 2
        feed.event(admin(status="draining"))  # pushes the first "ready" out
        await settle(app, panel)
        assert app.query_one("#admin-count", Label).content == "1 of 3 lines"
        assert list(log.lines) == ["12:00:02 ready"]
        feed.event(admin(status="starting"))
        feed.event(admin(status="starting"))
        await settle(app, panel)
        assert app.query_one("#admin-count", Label).content == "0 of 3 lines"
        assert log.line_count == 0


async def test_clear_forgets_every_line() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        feed = Feeder(panel)
        for _ in range(10):
            feed.event(admin(status="ready"))
        await settle(app, panel)
        log = panel.query_one(AdminLog)
        log.focus()
        await pilot.press("x")
        await pilot.pause()
        assert panel.lines == [] and log.line_count == 0
        assert app.query_one("#admin-count", Label).content == "0 lines"
        feed.event(admin(status="draining"))
        await settle(app, panel)
        assert panel.lines == ["12:00:10 draining"] and list(log.lines) == panel.lines


async def test_follow_toggle() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        log = panel.query_one(AdminLog)
        feed = Feeder(panel)
        for _ in range(100):
            feed.event(admin(status="ready"))
        await settle(app, panel)
        await pilot.pause()
        assert log.is_vertical_scroll_end
        log.focus()
        await pilot.press("f")
        assert not panel.follow and not log.auto_scroll
        assert app.query_one("#admin-follow-state", Label).content == "paused"
        log.scroll_home(animate=False)
        for _ in range(50):
            feed.event(admin(status="ready"))
        await settle(app, panel)
        await pilot.pause()
        assert log.scroll_y == 0  # stays where the user put it
        await pilot.press("f")
        await pilot.pause()
        assert panel.follow and log.is_vertical_scroll_end
        assert app.query_one("#admin-follow-state", Label).content == "following"


async def test_tail_limit_bounds_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    formatted: list[AdminEvent] = []

    def counting_format_event(event: AdminEvent, received_at: datetime) -> str:
        formatted.append(event)
        return format_event(event, received_at)

    monkeypatch.setattr(admin_panel, "format_event", counting_format_event)
    app = PanelApp(tail_limit=1000)
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        state = DaemonState()
        for index in range(20_000):
            panel.add_event(admin(status="ready", n=index), received_at=T0, state=state)
        await settle(app, panel)
        assert len(panel.lines) == 1000
        assert panel.lines[0].endswith("n=19000") and panel.lines[-1].endswith("n=19999")
        assert panel.query_one(AdminLog).line_count == 1000
        assert len(formatted) == 1000  # lines that fell out of the tail were never formatted


def test_tail_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="tail_limit"):
        AdminPanel(tail_limit=0)


# --- download progress ------------------------------------------------------------------


async def test_download_progress_determinate_then_hidden() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        row = panel.query_one("#admin-download")
        assert not row.display or not row.has_class("-visible")
        feed = Feeder(panel)
        feed.event(download(0))
        done = TOTAL * 37 // 100 + 1
        feed.event(download(done))
        await settle(app, panel)
        await pilot.pause()
        assert row.has_class("-visible") and row.display
        bar = panel.query_one(ProgressBar)
        assert bar.total == TOTAL and bar.progress == done
        label = str(panel.query_one("#admin-download-label", Label).content)
        assert label.startswith("download 37% · 1.8 GiB of 4.8 GiB · 1.8 GiB/s · ETA 2s")
        assert "https://example.invalid/gemma.gguf" in label

        feed.event(admin(status="loading_model", phase="verify", path="/m.gguf"))
        await settle(app, panel)
        await pilot.pause()
        assert not row.has_class("-visible") and not row.display


async def test_download_progress_indeterminate_when_total_is_null() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        feed = Feeder(panel)
        feed.event(download(1024, total=None))
        await settle(app, panel)
        await pilot.pause()
        assert panel.query_one("#admin-download").has_class("-visible")
        assert panel.query_one(ProgressBar).total is None
        label = str(panel.query_one("#admin-download-label", Label).content)
        assert label.startswith("download 1.0 KiB of unknown size")


async def test_disconnect_notice_without_state_hides_the_progress() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        feed = Feeder(panel)
        feed.event(download(1024))
        await settle(app, panel)
        assert panel.query_one("#admin-download").has_class("-visible")
        feed.notice(Notice("disconnected", "admin disconnected"), with_state=False)
        await settle(app, panel)
        assert not panel.query_one("#admin-download").has_class("-visible")


# --- floods -----------------------------------------------------------------------------


async def test_a_flood_of_100k_events_is_absorbed_in_batches_and_keys_still_work() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        log = panel.query_one(AdminLog)
        writes: list[int] = []
        write_lines = log.write_lines

        def counting_write_lines(lines: Any, scroll_end: bool | None = None) -> AdminLog:
            batch = list(lines)
            writes.append(len(batch))
            return write_lines(batch, scroll_end)

        log.write_lines = counting_write_lines  # type: ignore[method-assign]
        state = DaemonState().with_admin_event(download(1, total=None), 0.0)
        events = [download(index, total=None) for index in range(100)]
        for chunk in range(100):
            for index in range(1000):
                panel.add_event(events[index % 100], received_at=T0, state=state)
            if chunk % 10 == 0:
                await pilot.pause()  # let the loop breathe, as a socket reader would
        assert len(panel.lines) == 5000
        log.focus()
        await pilot.press("f")  # the UI still answers keys
        assert not panel.follow
        await settle(app, panel)
        await pilot.pause()
        assert log.line_count == 5000
        assert len(writes) < 50, "the log must be written in batches, not per event"
        assert sum(writes) <= 100_000


class BigBatchApp(App[None]):
    """A batch of 3 slices and a bit reaches the panel before it is mounted."""

    COUNT = 3 * FLUSH_SLICE + 10

    def compose(self) -> ComposeResult:
        panel = AdminPanel()
        state = DaemonState()
        for index in range(self.COUNT):
            panel.add_event(admin(status="ready", n=index), received_at=T0, state=state)
        yield panel


async def test_a_big_batch_is_written_a_slice_at_a_time_and_completely(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A timed flush writes at most FLUSH_SLICE lines per loop turn (keys are answered in
    between), and in the end every line is in the Log, in order."""
    writes: list[int] = []
    write_lines = AdminLog.write_lines

    def counting_write_lines(log: AdminLog, lines: Any, scroll_end: bool | None = None) -> Any:
        batch = list(lines)
        writes.append(len(batch))
        return write_lines(log, batch, scroll_end)

    monkeypatch.setattr(AdminLog, "write_lines", counting_write_lines)
    app = BigBatchApp()
    count = BigBatchApp.COUNT
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        log = panel.query_one(AdminLog)
        for _ in range(20):  # one slice per turn of the loop; no timer is involved
            if log.line_count == count:
                break
            await pilot.pause()
        assert writes == [FLUSH_SLICE, FLUSH_SLICE, FLUSH_SLICE, 10]
        assert log.lines[0].endswith("n=0") and log.lines[-1].endswith(f"n={count - 1}")
        assert app.query_one("#admin-count", Label).content == f"{count} lines"


# --- status bar -------------------------------------------------------------------------


async def test_status_bar_shows_the_summary_coloured_by_kind_and_extra_text() -> None:
    app = PanelApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await ready(pilot)
        bar = app.query_one(DaemonStatusBar)
        kinds = [bar.kind]
        assert bar.summary_text.startswith("◌ connecting")
        state = DaemonState().with_inference_retry("/run/infer.sock", 1.6, "no daemon", 0)
        bar.update_state(state)
        bar.set_extra("/run/infer.sock · not saving")
        await pilot.pause()
        kinds.append(bar.kind)
        assert bar.summary_text == "○ disconnected · /run/infer.sock · retrying in 1.6 s"
        assert bar.extra_text == "/run/infer.sock · not saving"
        line = bar_line(bar)
        assert line.startswith("○ disconnected · /run/infer.sock · retrying in 1.6 s")
        assert line.rstrip().endswith(" not saving")
        assert line.count("/run/infer.sock") == 1  # the summary names it; not said twice
        disconnected_colour = bar.render().style
        connected = state.with_inference_connected("/run/infer.sock", 1)
        bar.update_state(connected)
        await pilot.pause()
        kinds.append(bar.kind)
        assert kinds == ["connecting", "disconnected", "ready"]
        assert bar_line(bar).startswith("● ready · /run/infer.sock")
        assert bar.render().style != disconnected_colour
        assert bar.region.height == 1 and bar.region.y == 0


def bar_line(bar: DaemonStatusBar) -> str:
    return "".join(segment.text for segment in bar.render_line(0)).strip()


async def test_status_bar_gives_the_summary_room_first_on_a_narrow_screen() -> None:
    app = PanelApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        bar = app.query_one(DaemonStatusBar)
        state = DaemonState().with_inference_retry("/run/user/1000/inferd/infer.sock", 1.6, "x", 0)
        bar.update_state(state)
        bar.set_extra("/run/user/1000/inferd/infer.sock · not saving (--no-save)")
        await pilot.pause()
        line = bar_line(bar)
        assert line == "○ disconnected · /run/user/1000/inferd/infer.sock · retrying in 1.6 s"
        # Less than MIN_EXTRA_CELLS left: the extra text gives way entirely; with more
        # room it is cut, and says so.
        bar.update_state(DaemonState().with_inference_retry("/run/infer.sock", 1.6, "x", 0))
        await pilot.pause()
        line = bar_line(bar)
        assert line.startswith("○ disconnected · /run/infer.sock · retrying in 1.6 s  /run/user")
        assert line.endswith("…") and len(line) <= 78
        bar.set_extra("x" * 200)
        bar.update_state(state.with_inference_lost("/a/very/long/path/" * 5, "y" * 80, 1))
        await pilot.pause()
        line = bar_line(bar)
        assert line.endswith("…") and "x" not in line and len(line) <= 80


async def test_fits_at_80x24() -> None:
    app = PanelApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        panel = app.query_one(AdminPanel)
        feed = Feeder(panel)
        feed.event(download(0))
        feed.event(download(TOTAL // 3))
        bar = app.query_one(DaemonStatusBar)
        bar.update_state(feed.state)
        bar.set_extra("/run/user/1000/inferd/infer.sock · not saving")
        await settle(app, panel)
        await pilot.pause()
        screen = app.screen.region
        for widget in (bar, panel, panel.query_one("#admin-filter"), panel.query_one(AdminLog)):
            assert screen.contains_region(widget.region), widget
        assert panel.query_one("#admin-count").region.right <= 80
        assert panel.query_one(AdminLog).region.height >= 5
