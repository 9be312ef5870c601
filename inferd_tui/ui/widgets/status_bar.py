"""One line at the top: the daemon's state on the left, a short extra text on the right."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    from inferd_tui.daemon_state import DaemonState, StateKind


MIN_EXTRA_CELLS = 8


EXTRA_SEPARATOR = " · "


class DaemonStatusBar(Widget):
    """Shows :meth:`DaemonState.summary`, coloured by kind, and a short extra text.

    Built for a state change per admin event: :meth:`update_state` only keeps the state
    and asks for a repaint; the summary is formatted when the line is drawn (at most once
    per frame). Colours are component classes, so a kind change restyles nothing.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-bar--ok",
        "status-bar--busy",
        "status-bar--warning",
        "status-bar--error",
        "status-bar--muted",
        "status-bar--extra",
    }

    DEFAULT_CSS = """
    DaemonStatusBar { dock: top; height: 1; background: $panel; padding: 0 1; }
    DaemonStatusBar > .status-bar--ok { color: $success; }
    DaemonStatusBar > .status-bar--busy { color: $accent; }
    DaemonStatusBar > .status-bar--warning { color: $warning; }
    DaemonStatusBar > .status-bar--error { color: $error; text-style: bold; }
    DaemonStatusBar > .status-bar--muted { color: $text-muted; }
    DaemonStatusBar > .status-bar--extra { color: $text-muted; }
    """

    KIND_COMPONENTS: ClassVar[dict[str, str]] = {
        "connecting": "status-bar--muted",
        "ready": "status-bar--ok",
        "starting": "status-bar--busy",
        "loading": "status-bar--busy",
        "restarting": "status-bar--busy",
        "draining": "status-bar--warning",
        "admin_unavailable": "status-bar--warning",
        "unknown_status": "status-bar--warning",
        "disconnected": "status-bar--error",
    }

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._state: DaemonState | None = None
        self._extra_text = ""

    @property
    def kind(self) -> StateKind:
        return self._state.kind if self._state is not None else "connecting"

    @property
    def summary_text(self) -> str:
        if self._state is None:
            return "◌ connecting to the daemon…"
        return self._state.summary()

    @property
    def extra_text(self) -> str:
        return self._extra_text

    def update_state(self, state: DaemonState) -> None:
        if state is not self._state:
            self._state = state
            self.refresh()

    def set_extra(self, text: str) -> None:
        """Short text on the right, e.g. the socket path or "not saving" (parts joined by
        :data:`EXTRA_SEPARATOR`)."""
        if text != self._extra_text:
            self._extra_text = text
            self.refresh()

    def render(self) -> Text:
        width = self.content_region.width or self.size.width
        style = self.get_component_rich_style(
            self.KIND_COMPONENTS.get(self.kind, "status-bar--muted")
        )
        # Text objects throughout: daemon-supplied parts are never parsed as markup.
        summary = Text(self.summary_text, style=style, no_wrap=True, overflow="ellipsis")
        # What the summary already says (the socket path while disconnected) is not repeated.
        extra = EXTRA_SEPARATOR.join(
            part
            for part in self._extra_text.split(EXTRA_SEPARATOR)
            if part and part not in summary.plain
        )
        if not extra:
            summary.truncate(width, overflow="ellipsis")
            return summary
        # The summary (the daemon's state) gets the room it needs first; the extra text
        # what is left, unless that is too little to be worth showing.
        extra_room = min(cell_len(extra), max(width - cell_len(summary.plain) - 2, 0))
        if extra_room < MIN_EXTRA_CELLS:
            extra_room = 0
        summary_room = max(width - extra_room - (2 if extra_room else 0), 0)
        summary.truncate(summary_room, overflow="ellipsis", pad=True)
        if extra_room:
            right = Text(extra, style=self.get_component_rich_style("status-bar--extra"))
            right.truncate(extra_room, overflow="ellipsis")
            summary.append("  ")
            summary.append_text(right)
        return summary
