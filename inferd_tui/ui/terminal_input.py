"""Alt+Enter from terminals that send it as ESC CR (xterm, tmux, GNOME Terminal, …).

Textual 8.2.8's input parser only adds ``alt+`` to one-character key names, so ESC CR
arrives as a plain ``enter`` and Alt+Enter would send the prompt instead of adding a
newline. This parser restores the modifier for that one sequence; every other sequence
is parsed exactly as Textual does. Terminals with the kitty keyboard protocol report
Alt+Enter as its own key already and never reach this path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from textual import events
from textual._xterm_parser import XTermParser


class AltEnterParser(XTermParser):
    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        # The parser re-reads an unrecognised ESC sequence one character at a time with
        # alt=True; CR is the character Enter sends.
        if alt and sequence == "\r":
            yield events.Key("alt+enter", None)
            return
        yield from super()._sequence_to_key_events(sequence, alt)


@contextmanager
def alt_enter_parser() -> Iterator[None]:
    """While the app runs, the Linux terminal driver reads keys with :class:`AltEnterParser`.

    The driver builds its parser from this module-level name when its input thread starts
    (a test checks that it still does); the original is put back afterwards. The one cost:
    Esc then Enter within Textual's escape delay (0.1 s) reads as Alt+Enter.
    """
    from textual.drivers import linux_driver

    original = linux_driver.XTermParser
    linux_driver.XTermParser = AltEnterParser  # type: ignore[misc]
    try:
        yield
    finally:
        linux_driver.XTermParser = original  # type: ignore[misc]
