"""The footer of key hints, rebuilt only when the keys it shows change.

Textual's ``Footer`` rebuilds all of its key widgets whenever the screen's bindings may
have changed: each focus change and each mount. Most of those leave the shown keys as they
were (the prompt, the transcript and the sidebar's fields share the screen's keys), yet
each rebuild costs 13-15 ms on a 2-core machine, and three of them ran before the chat
screen's first frame. :class:`KeyFooter` compares what it would show with what it shows,
and rebuilds only on a difference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.screen import Screen


class KeyFooter(Footer):
    """A ``Footer`` that skips rebuilds which would show the same keys."""

    #: What the last rebuild showed; None until it showed the screen's keys.
    _shown: tuple[object, ...] | None = None
    #: What the rebuild already scheduled will show (a blur and a focus both signal).
    _scheduled: tuple[object, ...] | None = None

    def _what_it_shows(self, screen: Screen[object]) -> tuple[object, ...]:
        """Everything ``Footer.compose`` reads from the screen and the app."""
        app = self.app
        keys = tuple(
            (
                key,
                active.binding,
                active.enabled,
                active.tooltip,
                app.get_key_display(active.binding),
            )
            for key, active in screen.active_bindings.items()
            if active.binding.show or key == app.COMMAND_PALETTE_BINDING
        )
        return (keys, self.show_command_palette, app.ENABLE_COMMAND_PALETTE, self.compact)

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self._shown is not None and screen is self.screen:
            wanted = self._what_it_shows(screen)
            if wanted in (self._shown, self._scheduled):
                return
            # Footer schedules a rebuild only when the app has focus (textual is pinned).
            self._scheduled = wanted if self.app.app_focus and self.is_attached else None
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        # Footer composes nothing until the screen's bindings are ready; only what it
        # shows from then on is worth comparing.
        if self._bindings_ready:
            self._shown = self._what_it_shows(self.screen)
            self._scheduled = None
        return super().compose()
