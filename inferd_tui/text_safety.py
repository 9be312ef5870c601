"""Make untrusted text (model output, error messages, admin fields) safe to display.

Nothing the daemon sends may reach the terminal raw: C0/C1 control characters (ESC, which
starts ANSI and OSC sequences, BEL, backspace, carriage return…) are replaced by visible
Unicode "control pictures" or ``\\xNN``, bidi overrides by ``\\uNNNN``, and lone
surrogates by U+FFFD. Rich markup is a separate concern: callers build ``rich.text.Text``
objects (never markup strings), so ``[bold]`` stays literal. Pure: used by the UI and by
the headless commands.
"""

from __future__ import annotations

import re
from typing import Any

#: Unsafe on a terminal beyond the C0 controls: DEL, C1 controls, lone surrogates, and the
#: bidi embedding, override and isolate controls, which can reorder what a line appears to
#: say (a path, an error message) on a bidi-aware terminal. A regex character-class body.
UNSAFE_BEYOND_C0 = "\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069"
# Every C0 control except tab and newline, and the rest above.
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f{UNSAFE_BEYOND_C0}]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (U+241B ␛ for ESC)
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    if code > 0xFF:
        return f"\\u{code:04x}"  # a bidi control, shown as its escape
    return f"\\x{code:02x}"


def sanitize(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every control character made visible and lone surrogates replaced.

    Tabs are kept (they render as spaces); newlines are kept unless ``keep_newlines`` is
    false, in which case they become ``⏎`` (for one-line fields such as log lines).
    """
    if _UNSAFE.search(text) is not None:
        text = _UNSAFE.sub(_visible, text)
    if not keep_newlines and "\n" in text:
        text = text.replace("\n", "\u23ce")
    return text


def for_clipboard(text: str) -> tuple[str, int]:
    """``text`` without what :func:`sanitize` makes visible (control characters other than
    tab and newline, bidi controls, lone surrogates), and how many were left out: pasted
    into a shell, ESC ``[201~`` would end bracketed paste and run what follows as typed
    commands, and a bidi override makes code read otherwise than it runs. CRLF line ends
    become LF without counting."""
    return _UNSAFE.subn("", text.replace("\r\n", "\n"))


def clip(text: str, limit: int) -> tuple[str, int]:
    """At most ``limit`` characters of ``text`` and how many were left out."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def without_lone_surrogates(value: Any) -> Any:
    """``value`` (a string, or JSON-shaped lists and dicts of them, keys too) with each
    lone surrogate replaced by U+FFFD. A JSON ``\\ud800`` escape decodes to one, and no
    UTF-8 text, socket or database can carry it (``json.loads`` already joined the valid
    pairs)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_lone_surrogates(k): without_lone_surrogates(v) for k, v in value.items()}
    return value
