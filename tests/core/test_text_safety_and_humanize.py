from __future__ import annotations

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
