"""Alt+Enter as terminals send it (ESC CR) reaches the app as alt+enter, not enter."""

from __future__ import annotations

import contextlib

from textual._parser import ParseError
from textual.drivers import linux_driver
from textual.drivers.linux_driver import LinuxDriver

from inferd_tui.ui.terminal_input import AltEnterParser, alt_enter_parser


def keys(data: str) -> list[str]:
    parser = AltEnterParser(debug=False)
    events = list(parser.feed(data))
    with contextlib.suppress(ParseError):  # end of input stands in for the escape delay
        events += list(parser.feed(""))
    return [event.key for event in events if hasattr(event, "key")]


def test_esc_cr_is_alt_enter() -> None:
    assert keys("\x1b\r") == ["alt+enter"]


def test_other_keys_parse_as_textual_parses_them() -> None:
    assert keys("\r") == ["enter"]
    assert keys("\n") == ["ctrl+j"]
    assert keys("\x1ba") == ["alt+a"]
    assert keys("\x1b") == ["escape"]
    assert keys("\x1b[13;3u") == ["alt+enter"]  # kitty keyboard protocol
    assert keys("\x1b[A") == ["up"]


def test_the_linux_driver_reads_it_while_the_app_runs() -> None:
    # The driver must still build its parser from the module-level name we replace.
    assert "XTermParser" in LinuxDriver.run_input_thread.__code__.co_names
    original = linux_driver.XTermParser
    with alt_enter_parser():
        assert linux_driver.XTermParser is AltEnterParser
    assert linux_driver.XTermParser is original
