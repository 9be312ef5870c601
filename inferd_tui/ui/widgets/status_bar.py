"""One line at the top: the daemon's state on the left, a short extra text on the right."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

if TYPE_CHECKING:
    from inferd_tui.daemon_state import DaemonState


class DaemonStatusBar(Horizontal):
    """Shows :meth:`DaemonState.summary` coloured by kind (class ``-<kind>``), plus extra text.

    Cheap to update on every state change: labels are only touched when their text changes.
    """

    DEFAULT_CSS = """
    DaemonStatusBar { dock: top; height: 1; background: $panel; }
    DaemonStatusBar > .status-summary {
        width: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; color: $text-muted;
    }
    DaemonStatusBar > .status-extra {
        width: auto; max-width: 50%; padding: 0 1; color: $text-muted;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    DaemonStatusBar.-ready > .status-summary { color: $success; }
    DaemonStatusBar.-starting > .status-summary,
    DaemonStatusBar.-loading > .status-summary,
    DaemonStatusBar.-restarting > .status-summary { color: $accent; }
    DaemonStatusBar.-draining > .status-summary,
    DaemonStatusBar.-admin_unavailable > .status-summary,
    DaemonStatusBar.-unknown_status > .status-summary { color: $warning; }
    DaemonStatusBar.-disconnected > .status-summary,
    DaemonStatusBar.-v2_only > .status-summary { color: $error; text-style: bold; }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._summary = Label("◌ connecting to the daemon…", classes="status-summary")
        self._extra = Label("", classes="status-extra")
        self._summary_text = ""
        self._extra_text = ""
        self._kind = "connecting"
        self.add_class("-connecting")

    def compose(self) -> ComposeResult:
        yield self._summary
        yield self._extra

    @property
    def summary_text(self) -> str:
        return self._summary_text

    @property
    def extra_text(self) -> str:
        return self._extra_text

    def update_state(self, state: DaemonState) -> None:
        if state.kind != self._kind:
            self.remove_class(f"-{self._kind}")
            self._kind = state.kind
            self.add_class(f"-{self._kind}")
        summary = state.summary()
        if summary != self._summary_text:
            self._summary_text = summary
            # A Text object: daemon-supplied parts are never parsed as markup.
            self._summary.update(Text(summary))

    def set_extra(self, text: str) -> None:
        """Short text on the right, e.g. the socket path or "not saving"."""
        if text != self._extra_text:
            self._extra_text = text
            self._extra.update(Text(text))
