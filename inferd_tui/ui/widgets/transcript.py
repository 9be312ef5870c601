"""The conversation transcript: one virtualised Line-API view for every turn.

Finished turns are not widgets: each turn is cut into stable Markdown blocks
(:mod:`inferd_tui.ui.markdown_blocks`), each rendered once per width with Rich and cached
as strips; ``render_line`` only touches the lines on screen. The streaming answer is the
same kind of entry whose open tail block is re-rendered when it is flushed (about 10 times
a second, :meth:`TranscriptView.turn_streamed`), so streaming costs O(new text) and a
finished answer looks exactly as it did while it streamed. Turns that were never on screen
get an estimated height until they are first drawn, so a conversation of thousands of
turns opens at once.

An answer's other blocks are drawn around its text: its thinking above it (dimmed; open
while the answer streams, folded to one line once it is done, unfolded with one key) and
its tool calls under it (the tool's name, the call id and the pretty-printed input). A
user turn that answers a tool call is headed as that tool's result. Thinking is cached
line by line like the text's blocks, so streaming it costs O(new text) too.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from inferd_tui.conversation import (
    AttachmentRef,
    ToolCallRecord,
    Turn,
    TurnState,
    open_tool_calls,
)
from inferd_tui.proto import ErrorCode
from inferd_tui.proto.errors import next_step
from inferd_tui.text_safety import clip, sanitize
from inferd_tui.ui.bindings import bindings_for, key_display
from inferd_tui.ui.markdown_blocks import Block, BlockSplitter, CodeChunk, MarkdownBlock

GUTTER = 2
#: A streaming answer is redrawn at most this often: tokens come far faster than a
#: terminal (or a reader) needs frames.
STREAM_FLUSH_INTERVAL_S = 0.1
#: Width of a sent image's thumbnail in the transcript, in cells.
THUMBNAIL_CELLS = 16
#: Characters of one block shown on screen; the whole text is kept (and copied).
BLOCK_DISPLAY_LIMIT = 100_000
#: A tool call's pretty-printed input is shown up to this many lines and characters (a
#: 1 MB input must not become 40,000 lines on screen); the whole input is kept.
TOOL_INPUT_LINES = 200
TOOL_INPUT_CHARS = 20_000
#: Tool names and call ids are one-line labels; a hostile one is cut to this length.
LABEL_LIMIT = 120
#: Characters of the thinking looked at for the one-line preview of a folded block.
THINKING_PREVIEW_CHARS = 400


#: Error codes the daemon sends (§5); the turn's footer says what to do about each.
DAEMON_ERROR_CODES = frozenset(code.value for code in ErrorCode)


@dataclass
class _Entry:
    turn: Turn
    splitter: BlockSplitter = field(default_factory=BlockSplitter)
    # Rendered committed blocks for one width (width, strips per block).
    block_width: int = -1
    block_strips: list[list[Strip]] = field(default_factory=list)
    # The whole entry's lines for one key (width, revision, selected, note).
    lines_key: tuple[object, ...] | None = None
    lines: list[Strip] = field(default_factory=list)
    finished_split: bool = False
    # The estimated height until the turn is first rendered, for one key (width,
    # revision, length, state): a full relayout visits every turn, so it must be cheap.
    estimate_key: tuple[object, ...] | None = None
    estimate: int = 0
    # The thinking's whole lines rendered for one width: ``thinking_head`` is the text they
    # came from (a retry that starts the thinking over is noticed), the open last line is
    # rendered on every flush.
    thinking_width: int = -1
    thinking_head: str = ""
    thinking_strips: list[Strip] = field(default_factory=list)
    # Each tool call's input: pretty-printed once, rendered once per width.
    tool_texts: list[tuple[str, str | None]] = field(default_factory=list)
    tool_width: int = -1
    tool_strips: list[list[Strip]] = field(default_factory=list)

    def blocks_for(self, text: str, final: bool) -> tuple[list[Block], list[Block]]:
        """(committed, open tail) blocks of the turn's current text."""
        if final:
            if not self.finished_split:
                self.splitter.finish(text)
                self.finished_split = True
            return self.splitter.committed, []
        self.splitter.feed(text)
        return self.splitter.committed, self.splitter.tail(text)


class TranscriptView(ScrollView, can_focus=True):
    """All turns of a conversation, virtualised, with keyboard selection."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "transcript--user",
        "transcript--assistant",
        "transcript--meta",
        "transcript--error",
        "transcript--warning",
        "transcript--marker",
        "transcript--selected",
        "transcript--code-header",
        "transcript--success",
        "transcript--thinking",
        "transcript--tool",
    }

    DEFAULT_CSS = """
    TranscriptView {
        background: $surface;
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }
    TranscriptView:focus { background-tint: $foreground 3%; }
    TranscriptView > .transcript--user { color: $primary; text-style: bold; }
    TranscriptView > .transcript--assistant { color: $secondary; text-style: bold; }
    TranscriptView > .transcript--meta { color: $text-muted; }
    TranscriptView > .transcript--error { color: $error; }
    TranscriptView > .transcript--warning { color: $warning; }
    TranscriptView > .transcript--success { color: $success; }
    TranscriptView > .transcript--marker { color: $text-muted; text-style: italic; }
    TranscriptView > .transcript--selected { color: $accent; background: $accent 15%; }
    TranscriptView > .transcript--code-header { color: $text-muted; }
    TranscriptView > .transcript--thinking { color: $text-muted; text-style: italic dim; }
    TranscriptView > .transcript--tool { color: $secondary; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("transcript")

    following: reactive[bool] = reactive(True)
    selected: reactive[int | None] = reactive(None)

    class FollowChanged(Message):
        def __init__(self, following: bool, new_text_below: bool) -> None:
            super().__init__()
            self.following = following
            self.new_text_below = new_text_below

    @dataclass
    class CopyRequested(Message):
        turn: Turn
        code_block: int | None  # 1-based code block number, or None for the whole turn

    @dataclass
    class EditRequested(Message):
        turn: Turn

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._entries: list[_Entry] = []
        self._by_key: dict[int, _Entry] = {}
        self._index: dict[int, int] = {}  # turn key → position in _entries
        self._offsets: list[int] = [0]  # first line of each entry, plus the total
        self._layout_width = -1
        self._relayout_pending = False
        self._new_text_below = False
        self._streamed: Turn | None = None  # a streaming turn waiting for its flush
        self._stream_flush_pending = False
        self._notes: dict[int, str] = {}
        # Thinking blocks the user folded or unfolded (turn key → shown); the rest follow
        # the default: open while streaming, folded once done.
        self._thinking_open: dict[int, bool] = {}
        self._answered: set[str] = set()  # tool call ids a user turn answers
        self._call_names: dict[str, str] = {}  # tool call id → the tool's name
        self._last_answer = -1  # position of the last assistant turn
        self.code_theme = "ansi_dark"
        self.empty_state = self.EMPTY_STATE
        # Attachments: thumbnails (PIL images) by sha256, handed down by the screen.
        self._thumbnails: dict[str, Any] = {}

    # --- attributes down --------------------------------------------------------------

    @property
    def turns(self) -> list[Turn]:
        return [entry.turn for entry in self._entries]

    def sync(self, turns: list[Turn]) -> None:
        """Show exactly ``turns`` (in order), keeping caches for turns already shown."""
        entries = []
        for turn in turns:
            entry = self._by_key.get(turn.key)
            if entry is None or entry.turn is not turn:
                entry = _Entry(turn)
            entries.append(entry)
        self._entries = entries
        self._by_key = {entry.turn.key: entry for entry in entries}
        self._index = {entry.turn.key: index for index, entry in enumerate(entries)}
        if self.selected is not None and self.selected >= len(entries):
            self.selected = None
        self._notes = {k: v for k, v in self._notes.items() if k in self._by_key}
        self._thinking_open = {k: v for k, v in self._thinking_open.items() if k in self._by_key}
        self._answered = {t.tool_result_for for t in turns if t.tool_result_for is not None}
        self._call_names = {
            call.tool_call_id: call.name for turn in turns for call in turn.tool_calls
        }
        self._last_answer = next(
            (i for i in range(len(turns) - 1, -1, -1) if turns[i].role == "assistant"), -1
        )
        self._relayout(news=True)

    def turn_changed(self, turn: Turn) -> None:
        """``turn``'s text or state changed: re-render it (cheaply) and keep following."""
        if turn is self._streamed and turn.state is not TurnState.STREAMING:
            self._streamed = None  # ended (cancelled, failed): its pending flush is moot
        entry = self._by_key.get(turn.key)
        if entry is None:
            return
        entry.lines_key = None
        # Only this turn's height changed: the turns above it keep their offsets, so a
        # flush of the live answer costs O(1) turns, not O(conversation).
        self._relayout(start=self._index[turn.key], news=True)

    def turn_streamed(self, turn: Turn) -> None:
        """More of ``turn`` arrived while it streams: batched into one redraw per
        ``STREAM_FLUSH_INTERVAL_S``. Its last frame (any state but streaming) is drawn at
        once, so the finished answer is on screen as soon as it ends."""
        if turn.state is not TurnState.STREAMING:
            self._streamed = None
            self.turn_changed(turn)
            return
        self._streamed = turn
        if not self._stream_flush_pending:
            self._stream_flush_pending = True
            self.set_timer(STREAM_FLUSH_INTERVAL_S, self._flush_streamed)

    def _flush_streamed(self) -> None:
        self._stream_flush_pending = False
        if self._streamed is not None:
            self.turn_changed(self._streamed)

    def set_note(self, turn: Turn, note: str | None) -> None:
        """A transient line under a turn (e.g. "queue full — retrying in 3 s")."""
        if note:
            self._notes[turn.key] = note
        else:
            self._notes.pop(turn.key, None)
        self.turn_changed(turn)

    # --- attachments (sent images and audio under the user's prompt) ---------------------

    def set_thumbnail(self, sha256: str, image: Any) -> None:
        """The picture for the sent image ``sha256``: the turns showing it are redrawn."""
        self._thumbnails[sha256] = image
        first: int | None = None
        for index, entry in enumerate(self._entries):
            if any(ref.sha256 == sha256 for ref in entry.turn.attachments):
                entry.lines_key = None
                first = index if first is None else first
        if first is not None:
            self._relayout(start=first)

    def has_thumbnail(self, sha256: str) -> bool:
        return sha256 in self._thumbnails

    def _attachment_lines(
        self, refs: list[AttachmentRef], console: Console, options: ConsoleOptions
    ) -> list[Strip]:
        lines: list[Strip] = []
        meta = self._style("transcript--meta")
        for ref in refs:
            name = sanitize(ref.name, keep_newlines=False)
            if ref.kind == "image":
                size = f"{ref.width:,}×{ref.height:,}"
                if (ref.original_width, ref.original_height) not in (
                    (0, 0),
                    (ref.width, ref.height),
                ):
                    size = f"{ref.original_width:,}×{ref.original_height:,} → {size}"
                label = Text("▣ ", style=meta)
                label.append(name, style="bold")
                label.append(f" · {size} · {ref.size:,} bytes", style=meta)
                lines += self._plain_lines(label, console, options)
                image = self._thumbnails.get(ref.sha256)
                if image is not None:
                    from inferd_tui.ui.thumbnails import halfcell_renderable

                    lines += self._plain_lines(
                        halfcell_renderable(image, THUMBNAIL_CELLS), console, options
                    )
            else:
                minutes, seconds = divmod(max(ref.duration_s, 0.0), 60)
                label = Text("♪ ", style=meta)
                label.append(name, style="bold")
                label.append(
                    f" · {int(minutes)}:{seconds:04.1f} · {ref.sample_rate:,} Hz · "
                    f"{ref.size:,} bytes",
                    style=meta,
                )
                lines += self._plain_lines(label, console, options)
        return lines

    def set_code_theme(self, dark: bool) -> None:
        theme = "ansi_dark" if dark else "ansi_light"
        if theme != self.code_theme:
            self.code_theme = theme
            for entry in self._entries:
                entry.block_width = -1
                entry.lines_key = None
            self._relayout()

    def selected_turn(self) -> Turn | None:
        if self.selected is None or not 0 <= self.selected < len(self._entries):
            return None
        return self._entries[self.selected].turn

    def select_turn(self, turn: Turn) -> None:
        for index, entry in enumerate(self._entries):
            if entry.turn is turn:
                self.selected = index
                return

    # --- layout -----------------------------------------------------------------------

    @property
    def _content_width(self) -> int:
        return max(self.scrollable_content_region.width, GUTTER + 10)

    def _relayout(self, start: int = 0, *, news: bool = False) -> None:
        """Recompute the offsets of the turns from ``start`` on (all of them by default,
        and always after a width change). ``news``: turns or text changed, so a reader
        who scrolled away is told there is new text below (a re-wrap or a height estimate
        made exact is not news)."""
        width = self._content_width
        if width != self._layout_width:
            self._layout_width = width
            start = 0
        if start > 0 and len(self._offsets) == len(self._entries) + 1:
            offsets = self._offsets[: start + 1]
        else:
            start, offsets = 0, [0]
        total = offsets[-1]
        for index in range(start, len(self._entries)):
            total += self._entry_height(self._entries[index], index, width)
            offsets.append(total)
        self._offsets = offsets
        self.virtual_size = Size(width, total)
        if self.following:
            self._pin_to_end()
        elif news and not self._new_text_below:
            self._new_text_below = True
            self.post_message(self.FollowChanged(False, True))
        self.refresh()

    def _pin_to_end(self) -> None:
        # Set directly: scroll_end() is a no-op until the scrollbars have been laid out.
        self.scroll_target_y = self.scroll_y = self.max_scroll_y

    def _entry_height(self, entry: _Entry, index: int, width: int) -> int:
        if entry.lines_key is not None and entry.lines_key[0] == width:
            return len(entry.lines)
        on_screen_soon = entry.turn.state is TurnState.STREAMING or index >= len(self._entries) - 3
        if on_screen_soon:
            return len(self._entry_lines(entry, index, width))
        turn = entry.turn
        key = (width, turn.revision, len(turn.content), turn.state)
        if entry.estimate_key != key:
            entry.estimate = _estimate_height(turn, width)
            entry.estimate_key = key
        return entry.estimate

    def on_resize(self) -> None:
        self._relayout()

    def _schedule_relayout(self) -> None:
        if not self._relayout_pending:
            self._relayout_pending = True

            def run() -> None:
                self._relayout_pending = False
                self._relayout()

            self.call_later(run)

    # --- rendering --------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        if not self._entries:
            return self._empty_state_line(y)
        scroll_x, scroll_y = self.scroll_offset
        line_number = scroll_y + y
        width = self.size.width
        base = self.rich_style
        index = bisect_right(self._offsets, line_number) - 1
        if not 0 <= index < len(self._entries):
            return Strip.blank(width, base)
        entry = self._entries[index]
        content_width = self._content_width
        estimated = entry.lines_key is None or entry.lines_key[0] != content_width
        lines = self._entry_lines(entry, index, content_width)
        if estimated and len(lines) != self._offsets[index + 1] - self._offsets[index]:
            self._schedule_relayout()
        offset = line_number - self._offsets[index]
        if offset >= len(lines):
            return Strip.blank(width, base)
        # Every segment gets a style: Textual's NO_COLOR filter cannot handle style=None.
        return lines[offset].crop_extend(scroll_x, scroll_x + width, base).apply_style(base)

    EMPTY_STATE: tuple[str, ...] = (
        "",
        "No messages yet.",
        "",
        "Type below and press Enter; Ctrl+J adds a newline.",
        "F1 lists every key · Ctrl+P finds any action.",
        "Ctrl+L opens saved conversations · Ctrl+G the grammar workbench.",
    )  # each line fits 80 columns

    def _empty_state_line(self, y: int) -> Strip:
        width = self.size.width
        if y >= len(self.empty_state):
            return Strip.blank(width, self.rich_style)
        text = Text(self.empty_state[y], style=self._style("transcript--meta"))
        text.truncate(max(width - GUTTER, 1), overflow="ellipsis")
        line = Strip([Segment(" " * GUTTER), *text.render(self.app.console)])
        return line.extend_cell_length(width, self.rich_style).apply_style(self.rich_style)

    def _entry_lines(self, entry: _Entry, index: int, width: int) -> list[Strip]:
        turn = entry.turn
        key = (
            width,
            turn.revision,
            len(turn.content),
            turn.state,
            index == self.selected,
            self._notes.get(turn.key),
            self.code_theme,
            self._thinking_shown(turn),
            self._calls_state(index),
        )
        if entry.lines_key == key:
            return entry.lines
        entry.lines = self._render_entry(entry, index, width)
        entry.lines_key = key
        return entry.lines

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _render_entry(self, entry: _Entry, index: int, width: int) -> list[Strip]:
        turn = entry.turn
        selected = index == self.selected
        body_width = max(width - GUTTER, 10)
        console = self.app.console
        options = console.options.update(width=body_width, height=None, highlight=False)
        if turn.role == "marker":
            label = Text(f"── {sanitize(turn.content, keep_newlines=False)} ──")
            label.stylize(self._style("transcript--marker"))
            strips = self._plain_lines(label, console, options)
            return [*self._with_gutter(strips, selected, "transcript--marker"), Strip.blank(width)]

        role_class = "transcript--user" if turn.role == "user" else "transcript--assistant"
        lines: list[Strip] = []
        lines += self._plain_lines(self._header(turn, index), console, options)
        if turn.thinking:
            lines += self._thinking_lines(entry, console, options)
        if turn.role == "user":
            body = Text(sanitize(clip(turn.content, BLOCK_DISPLAY_LIMIT)[0]))
            lines += self._plain_lines(body, console, options)
            if turn.attachments:
                lines += self._attachment_lines(turn.attachments, console, options)
        else:
            final = turn.state is not TurnState.STREAMING
            committed, tail = entry.blocks_for(turn.content, final)
            if entry.block_width != body_width:
                entry.block_width = body_width
                entry.block_strips = []
            while len(entry.block_strips) < len(committed):
                block = committed[len(entry.block_strips)]
                entry.block_strips.append(self._render_block(block, console, options))
            for strips in entry.block_strips:
                lines += strips
            for block in tail:
                lines += self._render_block(block, console, options)
            if turn.tool_calls:
                lines += self._tool_call_lines(entry, self._open_calls(index), console, options)
        # A note (a retry countdown) stands in for the footer: the turn is not over yet.
        note = self._notes.get(turn.key)
        if note:
            text = Text(
                sanitize(note, keep_newlines=False), style=self._style("transcript--warning")
            )
            lines += self._plain_lines(text, console, options)
        else:
            footer = self._footer(turn, self._open_calls(index))
            if footer is not None:
                lines += self._plain_lines(footer, console, options)
        return [*self._with_gutter(lines, selected, role_class), Strip.blank(width)]

    def _with_gutter(self, lines: list[Strip], selected: bool, role_class: str) -> list[Strip]:
        if selected:
            gutter = Segment("┃ ", self._style("transcript--selected"))
        else:
            gutter = Segment("▍ ", self._style(role_class))
        return [Strip([gutter, *line], line.cell_length + GUTTER) for line in lines]

    @staticmethod
    def _plain_lines(
        renderable: RenderableType, console: Console, options: ConsoleOptions
    ) -> list[Strip]:
        return [Strip(line) for line in console.render_lines(renderable, options, pad=False)]

    def _render_block(self, block: Block, console: Console, options: ConsoleOptions) -> list[Strip]:
        # Imported on first use: the Markdown parser and Pygments are not needed to draw
        # the first (empty) screen, and together they cost ~30 ms of start-up.
        from rich.syntax import Syntax

        from inferd_tui.ui.widgets.safe_markdown import SafeMarkdown

        shown, hidden = clip(block.text, BLOCK_DISPLAY_LIMIT)
        shown = sanitize(shown)
        strips: list[Strip] = []
        if isinstance(block, MarkdownBlock):
            strips = _trim_blank_lines(
                self._plain_lines(SafeMarkdown(shown, code_theme=self.code_theme), console, options)
            )
            strips.append(Strip.blank(0))
        elif isinstance(block, CodeChunk):
            if block.first:
                # The number is the key that copies it once its turn is selected (Ctrl+T).
                header = Text(
                    f"╭─ {block.language or 'code'} · block {block.block_number} ",
                    style=self._style("transcript--code-header"),
                )
                strips += self._plain_lines(header, console, options)
            syntax = Syntax(
                shown,
                block.language or "text",
                theme=self.code_theme,
                word_wrap=True,
                padding=(0, 1),
                background_color="default",
            )
            strips += self._plain_lines(syntax, console, options)
            if block.last:
                strips.append(Strip.blank(0))
        if hidden:
            notice = Text(
                f"… {hidden:,} more characters not shown (y copies the whole turn)",
                style=self._style("transcript--warning"),
            )
            strips += self._plain_lines(notice, console, options)
        return strips

    def _header(self, turn: Turn, index: int) -> Text:
        if turn.role == "user" and turn.tool_result_for is not None:
            # Not a prompt: what the person playing the tool answered to its call.
            call_id = _label(turn.tool_result_for)
            name = self._call_names.get(turn.tool_result_for)
            header = Text("Tool result", style=self._style("transcript--user"))
            header.append(" for ", style=self._style("transcript--meta"))
            if name is not None:
                header.append(_label(name), style=self._style("transcript--tool"))
                header.append(f" ({call_id})", style=self._style("transcript--meta"))
            else:
                header.append(f"call {call_id}", style=self._style("transcript--meta"))
        elif turn.role == "user":
            header = Text("You", style=self._style("transcript--user"))
        else:
            header = Text("Assistant", style=self._style("transcript--assistant"))
            if turn.state is TurnState.STREAMING:
                header.append("  streaming…", style=self._style("transcript--meta"))
        header.append(f"  #{index + 1}", style=self._style("transcript--meta"))
        return header

    def _footer(self, turn: Turn, open_calls: list[ToolCallRecord]) -> Text | None:
        meta = self._style("transcript--meta")
        if turn.role == "user":
            if turn.state is TurnState.QUEUED:
                return Text(
                    "◷ queued — sent when the daemon is ready · Esc withdraws it",
                    style=self._style("transcript--warning"),
                )
            return None
        if turn.state is TurnState.STREAMING:
            return None
        if turn.state is TurnState.COMPLETE:
            parts = [sanitize(turn.stop_reason or "end", keep_newlines=False)]
            if turn.prompt_tokens is not None:
                parts.append(
                    f"{turn.prompt_tokens} prompt + {turn.completion_tokens} completion tokens"
                )
            if turn.backend:
                parts.append(sanitize(turn.backend, keep_newlines=False))
            if turn.time_to_first_token is not None:
                parts.append(f"first token {turn.time_to_first_token:.2f} s")
            if turn.tokens_per_second is not None:
                parts.append(f"{turn.tokens_per_second:.1f} tok/s")
            text = Text(" · ".join(parts), style=meta)
        elif turn.state is TurnState.CANCELLED:
            kept = " — the partial answer is kept" if turn.content else " before any text arrived"
            text = Text(f"■ cancelled{kept}", style=self._style("transcript--warning"))
        elif turn.state is TurnState.INTERRUPTED:
            reason = (
                turn.error_message or "the daemon closed the connection before the answer finished"
            )
            text = Text(
                f"⚠ interrupted — {sanitize(reason, keep_newlines=False)}",
                style=self._style("transcript--warning"),
            )
        else:
            code = sanitize(turn.error_code or "error", keep_newlines=False)
            message = sanitize(turn.error_message or "", keep_newlines=False)
            text = Text(f"✖ {code}: {message}", style=self._style("transcript--error"))
            if turn.error_code in DAEMON_ERROR_CODES:  # the daemon's own codes (§5)
                text.append(f" — {next_step(turn.error_code)}", style=meta)
        if turn.grammar and turn.state is TurnState.COMPLETE:
            if turn.grammar_match is True:
                text.append("  ✓ matches the grammar", style=self._style("transcript--success"))
            elif turn.grammar_match is False and turn.grammar_match_offset == len(turn.content):
                # Every character fits: the grammar wanted more when the text ended.
                why = "cut off by max tokens" if turn.stop_reason == "length" else "incomplete"
                text.append(
                    f"  ◌ fits the grammar so far, {why}",
                    style=self._style("transcript--warning"),
                )
            elif turn.grammar_match is False:
                where = turn.grammar_match_offset
                text.append(
                    f"  ✗ leaves the grammar at offset {where}",
                    style=self._style("transcript--error"),
                )
        if turn.state is TurnState.COMPLETE:
            self._schema_mark(turn, text)
            self._tool_notes(turn, open_calls, text)
        return text

    def _schema_mark(self, turn: Turn, text: Text) -> None:
        """✓/✗/◌ for an answer generated under a JSON schema, as for a grammar."""
        if turn.response_schema is None:
            return
        if turn.schema_match is True:
            text.append("  ✓ matches the schema", style=self._style("transcript--success"))
        elif turn.schema_match is False:
            problem = _label(turn.schema_problem or "does not match the schema", limit=300)
            text.append(f"  ✗ {problem}", style=self._style("transcript--error"))
        elif turn.stop_kind == "max_tokens":
            text.append(
                "  ◌ stopped early (max tokens); not checked",
                style=self._style("transcript--warning"),
            )

    def _tool_notes(self, turn: Turn, open_calls: list[ToolCallRecord], text: Text) -> None:
        """Lines under the usage line: a stop to call a tool, and what to do about it."""
        warning = self._style("transcript--warning")
        if turn.tool_choice_unsatisfied:
            text.append("\n⚠ tool_choice was required but no tool was called", style=warning)
        if not open_calls and turn.stop_kind != "tool_use":
            return
        calls = turn.tool_calls
        if open_calls:
            key = key_display(self.app, "answer-tool-call")
            if len(calls) == 1:
                note = f"stopped to call a tool — press {key} to answer it"
            else:
                call = open_calls[0]
                position = calls.index(call) + 1
                note = (
                    f"stopped to call {len(calls)} tools — press {key} to answer "
                    f"{_label(call.name)} (call {position} of {len(calls)})"
                )
            text.append(f"\n⚙ {note}", style=warning)
        elif not calls:
            text.append("\n⚙ stopped to call a tool, but no call arrived", style=warning)
        elif all(call.tool_call_id in self._answered for call in calls):
            text.append(
                "\n⚙ stopped to call a tool — answered below", style=self._style("transcript--meta")
            )
        else:
            text.append("\n⚙ stopped to call a tool", style=self._style("transcript--meta"))

    # --- thinking and tool calls ------------------------------------------------------

    def _thinking_shown(self, turn: Turn) -> bool:
        """Whether ``turn``'s thinking is unfolded: the user's choice, or else while it
        streams (folded to one line once the answer is done)."""
        if not turn.thinking:
            return False
        return self._thinking_open.get(turn.key, turn.state is TurnState.STREAMING)

    def _open_calls(self, index: int) -> list[ToolCallRecord]:
        """The calls of the answer at ``index`` still waiting for a result (only the last
        answer's can be: once something else follows, they are left behind)."""
        if index != self._last_answer or not self._entries[index].turn.tool_calls:
            return []
        return open_tool_calls([entry.turn for entry in self._entries[index:]])

    def _calls_state(self, index: int) -> tuple[object, ...]:
        """What a turn's tool blocks and footer show that other turns decide."""
        turn = self._entries[index].turn
        if not turn.tool_calls:
            return ()
        answered = tuple(call.tool_call_id in self._answered for call in turn.tool_calls)
        return answered, len(self._open_calls(index))

    def _thinking_lines(
        self, entry: _Entry, console: Console, options: ConsoleOptions
    ) -> list[Strip]:
        turn = entry.turn
        meta = self._style("transcript--meta") + Style(dim=True)  # the label, dimmed too
        style = self._style("transcript--thinking")
        deltas = turn.thinking_deltas
        count = f"{deltas:,} delta{'s' * (deltas != 1)}" if deltas else ""
        size = f"{len(turn.thinking):,} characters"
        key = key_display(self.app, "toggle-thinking")
        if not self._thinking_shown(turn):
            # One line: the label and the start of the thinking, cut with an ellipsis.
            label = Text(
                f"▸ Thinking ({', '.join(filter(None, (count, size)))} · {key} unfolds) ",
                style=meta,
            )
            start = " ".join(turn.thinking[:THINKING_PREVIEW_CHARS].split())
            label.append(sanitize(start, keep_newlines=False), style=style)
            if len(turn.thinking) > THINKING_PREVIEW_CHARS:
                label.append("…", style=style)
            label.truncate(options.max_width, overflow="ellipsis")
            return [
                self._plain_lines(label, console, options.update(no_wrap=True))[0],
                Strip.blank(0),
            ]
        if turn.state is TurnState.STREAMING and not (turn.content or turn.tool_calls):
            label = Text(f"▾ Thinking… ({count or size})", style=meta)  # still thinking
        else:
            label = Text(
                f"▾ Thinking ({', '.join(filter(None, (count, size)))} · {key} folds)", style=meta
            )
        lines = self._plain_lines(label, console, options)
        shown, hidden = clip(turn.thinking, BLOCK_DISPLAY_LIMIT)
        inner = options.update(width=max(options.max_width - 2, 8))
        rule = Segment("┊ ", meta)
        if entry.thinking_width != inner.max_width or not shown.startswith(entry.thinking_head):
            entry.thinking_width = inner.max_width
            entry.thinking_head = ""
            entry.thinking_strips = []
        # Whole lines are final: render the new ones once; the open last line every time.
        end = shown.rfind("\n") + 1
        consumed = len(entry.thinking_head)
        if end > consumed:
            for line in shown[consumed : end - 1].split("\n"):
                entry.thinking_strips += self._plain_lines(
                    Text(sanitize(line), style=style), console, inner
                )
            entry.thinking_head = shown[:end]
        body = entry.thinking_strips
        tail = shown[end:]
        if tail:
            body = body + self._plain_lines(Text(sanitize(tail), style=style), console, inner)
        lines += [Strip([rule, *line], line.cell_length + 2) for line in body]
        if hidden:
            notice = Text(
                f"… {hidden:,} more characters of thinking not shown",
                style=self._style("transcript--warning"),
            )
            lines += self._plain_lines(notice, console, options)
        lines.append(Strip.blank(0))
        return lines

    def _tool_call_lines(
        self,
        entry: _Entry,
        open_calls: list[ToolCallRecord],
        console: Console,
        options: ConsoleOptions,
    ) -> list[Strip]:
        """Each tool call: a header (tool, call id, whether it is answered) over its
        input, pretty-printed and highlighted as JSON, cut at :data:`TOOL_INPUT_LINES`."""
        from rich.syntax import Syntax

        turn = entry.turn
        header_style = self._style("transcript--code-header")
        if entry.tool_width != options.max_width:
            entry.tool_width = options.max_width
            entry.tool_strips = []
        waiting = {call.tool_call_id for call in open_calls}
        lines: list[Strip] = []
        for number, call in enumerate(turn.tool_calls):
            if len(entry.tool_texts) <= number:
                entry.tool_texts.append(tool_input_text(call.input))
            if len(entry.tool_strips) <= number:
                pretty, more = entry.tool_texts[number]
                syntax = Syntax(
                    pretty,
                    "json",
                    theme=self.code_theme,
                    word_wrap=True,
                    padding=(0, 1),
                    background_color="default",
                )
                strips = self._plain_lines(syntax, console, options)
                if more:
                    notice = Text(more, style=self._style("transcript--warning"))
                    strips += self._plain_lines(notice, console, options)
                entry.tool_strips.append(strips)
            header = Text("╭─ tool call ", style=header_style)
            header.append(_label(call.name), style=self._style("transcript--tool"))
            header.append(f" · {_label(call.tool_call_id)}", style=header_style)
            if call.tool_call_id in self._answered:
                header.append(" · answered", style=header_style)
            elif call.tool_call_id in waiting:
                header.append(" · waiting for a result", style=self._style("transcript--warning"))
            lines += self._plain_lines(header, console, options)
            lines += entry.tool_strips[number]
            lines.append(Strip.blank(0))
        return lines

    # --- follow mode ------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_bottom = new_value >= self.max_scroll_y - 1
        if at_bottom and not self.following:
            self.following = True
        elif not at_bottom and new_value < old_value and self.following:
            self.following = False

    def watch_following(self, following: bool) -> None:
        if following:
            self._new_text_below = False
        self.post_message(self.FollowChanged(following, self._new_text_below))

    def watch_selected(self, old: int | None, new: int | None) -> None:
        self.refresh()
        if new is None or not 0 <= new < len(self._entries):
            return
        top, bottom = self._offsets[new], self._offsets[new + 1]
        height = self.scrollable_content_region.height
        if top < self.scroll_y or bottom > self.scroll_y + height:
            self.following = False
            self.scroll_to(y=top if bottom - top > height else bottom - height, animate=False)

    # --- actions ----------------------------------------------------------------------

    def action_follow(self) -> None:
        self.following = True
        self.selected = None
        self._pin_to_end()

    def action_scroll_top(self) -> None:
        self.following = False
        self.scroll_home(animate=False)

    def _selectable(self) -> list[int]:
        return [i for i, e in enumerate(self._entries) if e.turn.role != "marker"]

    def action_select_previous(self) -> None:
        choices = self._selectable()
        if not choices:
            return
        if self.selected is None:
            self.selected = choices[-1]
        else:
            earlier = [i for i in choices if i < self.selected]
            self.selected = earlier[-1] if earlier else choices[0]

    def action_select_next(self) -> None:
        choices = self._selectable()
        if not choices:
            return
        if self.selected is None:
            self.selected = choices[-1]
            return
        later = [i for i in choices if i > self.selected]
        if later:
            self.selected = later[0]
        else:
            self.action_follow()

    def _target(self) -> Turn | None:
        """The selected turn, or else the last answer."""
        selected = self.selected_turn()
        if selected is not None:
            return selected
        for entry in reversed(self._entries):
            if entry.turn.role == "assistant":
                return entry.turn
        return None

    def action_copy_turn(self) -> None:
        turn = self._target()
        if turn is not None:
            self.post_message(self.CopyRequested(turn, None))

    def action_copy_code(self) -> None:
        turn = self._target()
        if turn is not None:
            self.post_message(self.CopyRequested(turn, 1))

    def on_key(self, event: events.Key) -> None:
        # 1–9 copy that code block of the selected turn (or of the last answer).
        key = event.character
        if key and key in "123456789":
            turn = self._target()
            if turn is not None:
                event.stop()
                self.post_message(self.CopyRequested(turn, int(key)))

    def action_toggle_thinking(self) -> None:
        """Unfold or fold the thinking of the selected answer, or else of the latest answer
        that has some."""
        index = self.selected
        if (
            index is None
            or not 0 <= index < len(self._entries)
            or not (self._entries[index].turn.thinking)
        ):
            index = next(
                (
                    i
                    for i in range(len(self._entries) - 1, -1, -1)
                    if self._entries[i].turn.role == "assistant" and self._entries[i].turn.thinking
                ),
                None,
            )
        if index is None:
            self.app.bell()
            self.notify("No answer here has any thinking to show.", timeout=3)
            return
        turn = self._entries[index].turn
        shown = not self._thinking_shown(turn)
        self._thinking_open[turn.key] = shown
        self._entries[index].lines_key = None
        self._relayout(start=index)  # not news: nothing new arrived
        top = self._offsets[index]
        if shown and top < self.scroll_y:
            # Unfolded above the reader (or at the end while following): show its start.
            self.following = False
            self.scroll_to(y=top, animate=False)

    def action_edit_turn(self) -> None:
        turn = self.selected_turn()
        if turn is not None and turn.role == "user":
            self.post_message(self.EditRequested(turn))
        else:
            self.app.bell()
            self.notify("Select one of your turns (↑/↓) to edit and resend it.", timeout=3)


def _trim_blank_lines(strips: list[Strip]) -> list[Strip]:
    """Rich pads some elements (headings, tables) with empty lines; blocks are separated
    by exactly one, added by the caller."""

    def blank(strip: Strip) -> bool:
        return not strip.text.strip()

    start, end = 0, len(strips)
    while start < end and blank(strips[start]):
        start += 1
    while end > start and blank(strips[end - 1]):
        end -= 1
    return strips[start:end]


def tool_input_text(value: Any) -> tuple[str, str | None]:
    """A tool call's input as shown: pretty-printed JSON, cut to :data:`TOOL_INPUT_LINES`
    lines and :data:`TOOL_INPUT_CHARS` characters, control characters made visible; and
    what was left out, if anything."""
    try:
        pretty = json.dumps(value, indent=2, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):  # not JSON-shaped (a recursive value): still shown
        pretty = repr(value)
    parts = pretty.split("\n", TOOL_INPUT_LINES)  # never splits a 1 MB input in full
    more_lines = 0
    if len(parts) > TOOL_INPUT_LINES:
        more_lines = parts[-1].count("\n") + 1
        pretty = "\n".join(parts[:TOOL_INPUT_LINES])
    shown, more_chars = clip(pretty, TOOL_INPUT_CHARS)
    left_out = [f"{more_lines:,} more lines"] if more_lines else []
    if more_chars:
        left_out.append(f"{more_chars:,} more characters")
    more = f"… {' and '.join(left_out)} of the input not shown" if left_out else None
    return sanitize(shown), more


def _label(text: str, *, limit: int = LABEL_LIMIT) -> str:
    """Untrusted text for a one-line label: visible controls, no newlines, cut short."""
    shown, hidden = clip(text, limit)
    return sanitize(shown, keep_newlines=False) + ("…" if hidden else "")


def _estimate_height(turn: Turn, width: int) -> int:
    """A cheap guess of a turn's height until it is rendered (header, body, footer, gap)."""
    if turn.role == "marker":
        return 2
    body_width = max(width - GUTTER, 10)
    body = 0
    fences = 0
    for line in turn.content[:BLOCK_DISPLAY_LIMIT].split("\n"):
        body += max(1, math.ceil(len(line) / body_width))
        if line.lstrip().startswith(("```", "~~~")):
            fences += 1
    footer = 0 if turn.role == "user" and turn.state is not TurnState.QUEUED else 1
    blocks = (2 if turn.thinking else 0) + 4 * len(turn.tool_calls)
    # Each attachment's line, and an image's thumbnail (about 3:4, in half-blocks).
    attached = sum(
        1 + (THUMBNAIL_CELLS * 3 // 8 if ref.kind == "image" else 0) for ref in turn.attachments
    )
    return 1 + body + fences + blocks + attached + footer + 1
