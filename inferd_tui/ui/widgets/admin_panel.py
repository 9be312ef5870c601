"""The admin events panel: a live, filterable, bounded log of what the daemon reports.

Lines look like ``12:00:03 loading_model download downloaded_bytes=32.0 MiB …``: the time
the event arrived, status, phase, then every other key as ``key=value`` (sizes of
``*_bytes`` keys humanised; unknown statuses and keys verbatim). Notices about the admin
connection itself (``⚑ admin disconnected, retrying in 2 s``) are styled apart.

Built to absorb floods: ``add_event`` only formats a line and appends it to bounded
deques; the ``Log`` is written in batches, at most ``FLUSHES_PER_SECOND`` times a second.
Everything from the daemon goes through :func:`sanitize` and is written as plain text.
"""

from __future__ import annotations

import json
import time
from collections import deque
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import Input, Label, Log, ProgressBar

from inferd_tui.humanize import human_bytes
from inferd_tui.proto.models import AdminEvent
from inferd_tui.text_safety import clip, sanitize
from inferd_tui.ui.bindings import bindings_for

if TYPE_CHECKING:
    from inferd_tui.daemon_state import AdminNoticeLike, DaemonState

DEFAULT_TAIL_LIMIT = 5000
FLUSHES_PER_SECOND = 10
FLUSH_INTERVAL_S = 1 / FLUSHES_PER_SECOND
#: During a flood (a batch of at least FLOOD_BATCH lines) flush less often: each flush
#: rewrites up to a whole tail, most of which the next one pushes out again.
FLOOD_BATCH = 1000
FLOOD_FLUSH_INTERVAL_S = 0.25
#: A timed flush formats and writes at most this many lines per turn of the event loop:
#: a whole tail at once (~70 ms) made a key press during a flood wait for all of it.
FLUSH_SLICE = 1000
#: One hostile value must not cost megabytes per retained line.
MAX_VALUE_CHARS = 500
MAX_KEY_CHARS = 100
MAX_LINE_CHARS = 2000

NOTICE_MARK = "⚑"
#: The envelope, shown first (status, phase) or not at all (id, type when "status").
_NOT_DETAILS = frozenset({"id", "type", "status", "phase", "invalid_keys"})
#: Every line starts with ``HH:MM:SS `` so the kind of a line is found at this offset.
_BODY_OFFSET = 9


def _make_shown(text: str, limit: int) -> str:
    kept, dropped = clip(text, limit)  # clip first: sanitizing 1 MB to show 500 is waste
    safe = sanitize(kept, keep_newlines=False)
    return f"{safe}…(+{dropped:,} chars)" if dropped else safe


# Floods repeat the same statuses, phases, keys, paths and URLs: remember short ones.
_CACHED_UP_TO = 256
_shown_short = lru_cache(maxsize=4096)(_make_shown)


def _shown(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """One safe line of at most ``limit`` characters (plus a note of what was cut)."""
    if len(text) <= _CACHED_UP_TO:
        return _shown_short(text, limit)
    return _make_shown(text, limit)


def format_value(key: str, value: Any) -> str:
    """A detail value for a log line: sizes humanised, JSON spelling for the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int) and key.endswith("_bytes") and value >= 0:
        return human_bytes(value)
    if isinstance(value, str):
        return _shown(value)
    if isinstance(value, int | float):
        return str(value)
    return _shown(json.dumps(value, ensure_ascii=False, default=str))


def _detail_items(event: AdminEvent) -> list[tuple[str, Any]]:
    """What ``event.details()`` returns, without a ``model_dump`` per event (floods)."""
    extra = event.model_extra or {}
    items = [
        (key, extra[key] if key in extra else getattr(event, key))
        for key in event.model_fields_set
        if key not in _NOT_DETAILS
    ]
    if event.invalid_keys:
        items.extend(event.invalid_keys.items())
    items.sort(key=itemgetter(0))
    return items


def _clock_text(moment: datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"


def format_event(event: AdminEvent, received_at: datetime) -> str:
    """``HH:MM:SS status phase key=value …`` for one admin event."""
    parts = [_clock_text(received_at), _shown(event.status) if event.status else '""']
    if event.phase is not None:
        parts.append(_shown(event.phase))
    if event.type != "status":
        parts.append(f"type={_shown(event.type)}")
    for key, value in _detail_items(event):
        parts.append(f"{_shown(key, MAX_KEY_CHARS)}={format_value(key, value)}")
    line = " ".join(parts)
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 1] + "…"


def format_notice(notice: AdminNoticeLike, received_at: datetime) -> str:
    return f"{_clock_text(received_at)} {NOTICE_MARK} {_shown(notice.message, MAX_LINE_CHARS)}"


class _Entry:
    """One retained line, formatted when first needed: most of a flood never is, since
    only the newest ``tail_limit`` lines are kept. The event is dropped once formatted."""

    __slots__ = ("_received_at", "_source", "_text")

    def __init__(self, source: AdminEvent | AdminNoticeLike, received_at: datetime) -> None:
        self._source: AdminEvent | AdminNoticeLike | None = source
        self._received_at = received_at
        self._text: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            source = self._source
            if isinstance(source, AdminEvent):
                self._text = format_event(source, self._received_at)
            else:
                assert source is not None
                self._text = format_notice(source, self._received_at)
            self._source = None
        return self._text


class AdminLog(Log):
    """A ``Log`` that styles notice and capabilities lines (it has no per-line styles)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"admin-log--notice", "admin-log--capabilities"}
    DEFAULT_CSS = """
    AdminLog > .admin-log--notice { color: $warning; text-style: italic; }
    AdminLog > .admin-log--capabilities { color: $accent; }
    """

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        # Overrides Log's private per-line hook (textual is pinned) to add one style.
        line = self._lines[y]
        if line.startswith(NOTICE_MARK, _BODY_OFFSET):
            rich_style = rich_style + self.get_component_rich_style("admin-log--notice")
        elif line.startswith("capabilities", _BODY_OFFSET):
            rich_style = rich_style + self.get_component_rich_style("admin-log--capabilities")
        return super()._render_line_strip(y, rich_style)


class AdminPanel(Vertical):
    """Live admin events with follow, filter, clear, a tail limit and download progress.

    Attributes down: the owner calls :meth:`add_event` / :meth:`add_notice` with what the
    admin watcher saw, and the folded :class:`DaemonState` for the progress section.
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("admin-panel")

    DEFAULT_CSS = """
    AdminPanel { height: 12; }
    AdminPanel > #admin-toolbar { height: 1; }
    AdminPanel #admin-title { width: auto; padding: 0 1; text-style: bold; }
    AdminPanel #admin-follow-state { width: auto; padding: 0 1; color: $text-muted; }
    AdminPanel #admin-follow-state.-paused { color: $warning; }
    AdminPanel #admin-filter { width: 1fr; min-width: 10; }
    AdminPanel #admin-count { width: auto; padding: 0 1; color: $text-muted; }
    AdminPanel > #admin-download { height: 1; display: none; }
    AdminPanel > #admin-download.-visible { display: block; }
    AdminPanel #admin-progress { width: auto; padding: 0 1; }
    AdminPanel #admin-download-label { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    AdminPanel > AdminLog { height: 1fr; }
    """

    follow: reactive[bool] = reactive(True)
    """Scroll to new lines as they arrive."""

    def __init__(
        self,
        *,
        tail_limit: int = DEFAULT_TAIL_LIMIT,
        mount_later: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        if tail_limit < 1:
            raise ValueError(f"tail_limit must be at least 1, not {tail_limit}")
        self.tail_limit = tail_limit
        self._mount_later = mount_later
        self._mounting = False
        self._entries: deque[_Entry] = deque(maxlen=tail_limit)
        # Entries not yet written to the Log (a subset of the newest entries).
        self._pending: deque[_Entry] = deque(maxlen=tail_limit)
        # The batch a timed flush is writing slice by slice; older than every pending one.
        self._writing: deque[_Entry] = deque()
        self._filter = ""
        self._matching = 0  # retained lines that pass the filter (when there is one)
        self._rerender = False
        self._flush_scheduled = False
        self._last_flush = 0.0
        self._flush_interval = FLUSH_INTERVAL_S
        self._can_flush = False  # until mounted
        self._state: DaemonState | None = None
        self._state_changed = False
        self._log = AdminLog(max_lines=tail_limit, id="admin-log")
        self._filter_input = Input(placeholder="filter (/)", id="admin-filter", compact=True)
        self._follow_label = Label("following", id="admin-follow-state")
        self._count_text = "0 lines"
        self._count_label = Label(self._count_text, id="admin-count")
        self._progress = ProgressBar(id="admin-progress", show_percentage=False, show_eta=False)
        self._download_label = Label(id="admin-download-label")
        self._download_row = Horizontal(self._progress, self._download_label, id="admin-download")

    def compose(self) -> ComposeResult:
        # The parts are mounted by ``mount_parts``, so the first frame need not wait for
        # them; events that arrive before are kept and flushed then.
        return iter(())

    def on_mount(self) -> None:
        if not self._mount_later:  # otherwise the owner calls mount_parts()
            self.call_after_refresh(self.mount_parts)

    async def mount_parts(self) -> None:
        """Mount the toolbar and the log (once); the chat screen calls this after the
        first frame has been written, when made with ``mount_later=True``."""
        if self._mounting:
            return
        self._mounting = True
        toolbar = Horizontal(
            Label("Admin events", id="admin-title"),
            self._follow_label,
            self._filter_input,
            self._count_label,
            id="admin-toolbar",
        )
        await self.mount_all([toolbar, self._download_row, self._log])
        self._can_flush = True
        self._flush_scheduled = True
        self.call_later(self._timed_flush)

    # --- feeding ----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once the toolbar and the log are mounted (just after the first frame)."""
        return self._can_flush

    @property
    def lines(self) -> list[str]:
        """The retained formatted lines, oldest first (at most ``tail_limit``)."""
        return [entry.text for entry in self._entries]

    @property
    def filter_text(self) -> str:
        return self._filter

    def add_event(self, event: AdminEvent, *, received_at: datetime, state: DaemonState) -> None:
        """Record one admin event; ``state`` is the daemon state after folding it."""
        self._append(_Entry(event, received_at))
        if state is not self._state:
            self._state, self._state_changed = state, True

    def add_notice(
        self,
        notice: AdminNoticeLike,
        *,
        received_at: datetime,
        state: DaemonState | None = None,
    ) -> None:
        """Record a notice about the admin connection (styled apart from events).

        Pass ``state`` when you have it; without it a disconnect still hides the
        download progress (the numbers would go stale).
        """
        self._append(_Entry(notice, received_at))
        if state is not None:
            self._state, self._state_changed = state, True
        elif notice.kind != "malformed" and self._state is not None:
            self._state, self._state_changed = None, True

    def _append(self, entry: _Entry) -> None:
        self._entries.append(entry)
        self._pending.append(entry)
        self._schedule_flush()

    def clear(self) -> None:
        """Forget every retained line (the download progress stays)."""
        self._entries.clear()
        self._pending.clear()
        self._writing.clear()
        self._rerender = True
        self.flush()

    def set_filter(self, text: str) -> None:
        """Show only lines containing ``text`` (case-insensitive); empty shows all."""
        needle = text.lower()
        if needle == self._filter:
            return
        self._filter = needle
        self._rerender = True
        self.flush()

    # --- writing to the screen, in batches --------------------------------------------

    def _schedule_flush(self) -> None:
        if self._flush_scheduled or not self._can_flush:
            return
        self._flush_scheduled = True
        wait = self._flush_interval - (time.monotonic() - self._last_flush)
        if wait <= 0:
            self.call_later(self._timed_flush)
        else:
            self.set_timer(wait, self._timed_flush)

    def _timed_flush(self) -> None:
        if not self._rerender and (self._writing or len(self._pending) > FLUSH_SLICE):
            self._flush_in_slices()
            return
        self._flush_scheduled = False
        self.flush()

    def _flush_in_slices(self) -> None:
        """Write a big batch one slice per loop turn, so keys are answered in between.

        The batch is taken whole when the first slice is written; what arrives meanwhile
        waits for the next flush, a full interval after this one ends, so a flood still
        formats only the lines each flush keeps.
        """
        if not self._writing:
            flooding = len(self._pending) >= FLOOD_BATCH
            self._flush_interval = FLOOD_FLUSH_INTERVAL_S if flooding else FLUSH_INTERVAL_S
            self._writing, self._pending = self._pending, deque(maxlen=self.tail_limit)
        count = min(FLUSH_SLICE, len(self._writing))
        self._write_batch([self._writing.popleft().text for _ in range(count)])
        if self._writing:
            self.call_later(self._timed_flush)  # still scheduled: the next slice
            return
        self._flush_scheduled = False
        self._last_flush = time.monotonic()
        self._update_count()
        if self._state_changed:
            self._state_changed = False
            self._update_download()
        if self._pending:
            self._schedule_flush()

    def flush(self) -> None:
        """Write buffered lines and the latest progress to the screen now."""
        if not self._can_flush:
            return
        self._last_flush = time.monotonic()
        if self._rerender:
            self._rerender = False
            self._pending.clear()
            self._writing.clear()
            self._render_all()
        elif self._pending or self._writing:
            flooding = len(self._pending) >= FLOOD_BATCH
            self._flush_interval = FLOOD_FLUSH_INTERVAL_S if flooding else FLUSH_INTERVAL_S
            # A slice-by-slice write in progress goes first: its lines are the older ones.
            batch = [entry.text for entry in self._writing]
            batch += [entry.text for entry in self._pending]
            self._writing.clear()
            self._pending.clear()
            self._write_batch(batch)
        self._update_count()
        if self._state_changed:
            self._state_changed = False
            self._update_download()

    def _render_all(self) -> None:
        log, needle = self._log, self._filter
        lines = [entry.text for entry in self._entries]
        if needle:
            lines = [line for line in lines if needle in line.lower()]
            self._matching = len(lines)
        log.clear()
        log.max_lines = self.tail_limit
        log.write_lines(lines, self.follow)
        log.refresh()

    def _write_batch(self, batch: list[str]) -> None:
        log, needle = self._log, self._filter
        if not needle:
            log.write_lines(batch)  # the Log keeps the same tail as the entries
            return
        # Only matching lines reach the Log, so its own tail limit would keep matches the
        # entries have already dropped: cap it at the number of matches still retained.
        self._matching = sum(needle in entry.text.lower() for entry in self._entries)
        if self._matching == 0:
            log.clear()
            log.refresh()
            return
        log.max_lines = self._matching
        log.write_lines([line for line in batch if needle in line.lower()])

    def _update_count(self) -> None:
        total = len(self._entries)
        plural = "" if total == 1 else "s"
        text = (
            f"{self._matching} of {total} line{plural}" if self._filter else f"{total} line{plural}"
        )
        # The label is sized to its text, so each update re-lays out the screen; in a flood
        # the count sits at the tail limit and this keeps those layouts from every flush.
        if text != self._count_text:
            self._count_text = text
            self._count_label.update(text)

    def _update_download(self) -> None:
        download = self._state.download if self._state is not None else None
        shown = download is not None
        if shown != self._download_row.has_class("-visible"):
            self._download_row.set_class(shown, "-visible")
            if self.follow:
                # The log is a line shorter (or taller) now: keep its newest line in
                # view once it is laid out again.
                self._log.scroll_end(animate=False)
        if download is None:
            return
        if download.total_bytes is None:
            self._progress.update(total=None, progress=download.downloaded_bytes)
        else:
            self._progress.update(total=download.total_bytes, progress=download.downloaded_bytes)
        label = Text(f"download {download.describe()}")
        if download.source_url:
            label.append(f" · {_shown(download.source_url)}", style="dim")
        # One line in a row of fixed height and width: its size never depends on the text.
        self._download_label.update(label, layout=False)

    # --- follow, filter, clear --------------------------------------------------------

    def watch_follow(self, follow: bool) -> None:
        self._log.auto_scroll = follow
        if follow and self._log.is_mounted:
            self._log.scroll_end(animate=False)
        self._follow_label.update("following" if follow else "paused")
        self._follow_label.set_class(not follow, "-paused")

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow

    def action_focus_filter(self) -> None:
        self._filter_input.focus()

    def focus_log(self) -> None:
        """Put the focus in the log (once it is mounted, just after the first frame)."""
        if self._log.is_mounted:
            self._log.focus()

    def action_clear(self) -> None:
        self.clear()

    @on(Input.Changed, "#admin-filter")
    def _filter_changed(self, message: Input.Changed) -> None:
        message.stop()
        self.set_filter(message.value)

    @on(Input.Submitted, "#admin-filter")
    def _filter_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        self._log.focus()
