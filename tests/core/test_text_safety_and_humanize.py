from __future__ import annotations

import json

import pytest

from inferd_tui.humanize import human_bytes, human_duration, human_rate
from inferd_tui.text_safety import clip, sanitize


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred", "\u241b[31mred"),
        ("\x1b]52;c;SGVsbG8=\x07", "\u241b]52;c;SGVsbG8=\u2407"),
        ("over\rwrite", "over\u240dwrite"),
        ("c1\x9bcsi", "c1\\x9bcsi"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("[bold]not markup[/bold]", "[bold]not markup[/bold]"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("del\x7f", "del\u2421"),
        ("file\u202etxt.exe", "file\\u202etxt.exe"),  # a bidi override cannot reorder
        ("\u2066isolate\u2069", "\\u2066isolate\\u2069"),
        (
            "emoji \U0001f468\u200d\U0001f469 and \u05e9\u05dc\u05d5\u05dd",
            "emoji \U0001f468\u200d\U0001f469 and \u05e9\u05dc\u05d5\u05dd",
        ),
    ],
)
def test_sanitize_makes_control_characters_visible(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown


def test_sanitize_one_line_mode_and_clip() -> None:
    assert sanitize("a\nb", keep_newlines=False) == "a\u23ceb"
    assert clip("abcdef", 4) == ("abcd", 2)
    assert clip("ab", 4) == ("ab", 0)


def test_humanize() -> None:
    assert human_bytes(0) == "0 B"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(5_126_304_928) == "4.8 GiB"
    assert human_rate(33_554_432) == "32.0 MiB/s"
    assert human_duration(5.4) == "5s"
    assert human_duration(75) == "1m 15s"
    assert human_duration(3725) == "1h 02m"
    assert human_duration(float("nan")) == "?"


def test_json_lines_escape_what_json_dumps_leaves_raw() -> None:
    from inferd_tui.headless._console import to_json

    value = {"k": "c1\x9b2J del\x7f \u202eevil lone\ud800 ok \U0001f600"}
    line = to_json(value)
    assert line == '{"k":"c1\\u009b2J del\\u007f \\u202eevil lone\\ud800 ok \U0001f600"}'
    assert json.loads(line) == value


def test_clipboard_text_keeps_tabs_and_newlines_only() -> None:
    from inferd_tui.text_safety import for_clipboard

    assert for_clipboard("a\tb\nc\x1b[201~\x9b\x07\r") == ("a\tb\nc[201~", 4)
    assert for_clipboard("x = 1\r\nif ok\u202e:\r\n") == ("x = 1\nif ok:\n", 1)
    assert for_clipboard("plain [bold] 😀") == ("plain [bold] 😀", 0)
