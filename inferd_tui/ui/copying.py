"""What a copy of a turn (or one of its code blocks) puts on the clipboard, and says.

Pure: the screen hands the copy to the terminal and shows the notice.
"""

from __future__ import annotations

from dataclasses import dataclass

from inferd_tui.conversation import Turn, code_blocks
from inferd_tui.text_safety import for_clipboard


@dataclass(frozen=True)
class Copy:
    """``text`` to copy (``None``: nothing, and ``notice`` says why) and the notice."""

    text: str | None
    notice: str


def copy_of_turn(turn: Turn, number: int, code_block: int | None) -> Copy:
    """Turn #``number`` whole, or its ``code_block``-th fenced code block (1-based),
    with control characters left out so a paste stays a paste."""
    if code_block is None:
        text, dropped = for_clipboard(turn.content)
        return Copy(text, f"Copied turn #{number} ({len(text):,} characters{_dropped(dropped)}).")
    blocks = code_blocks(turn.content)
    if not blocks:
        return Copy(None, f"Turn #{number} has no code blocks.")
    if code_block > len(blocks):
        count = "1 code block" if len(blocks) == 1 else f"{len(blocks)} code blocks"
        return Copy(None, f"Turn #{number} has only {count}.")
    block = blocks[code_block - 1]
    code, dropped = for_clipboard(block.code)
    language = f" {block.language}" if block.language else ""
    return Copy(
        code,
        f"Copied{language} code block {code_block} of turn #{number} "
        f"({len(code.splitlines())} lines{_dropped(dropped)}).",
    )


def _dropped(count: int) -> str:
    """For a copy notice: the control characters a copy left out, if any."""
    if not count:
        return ""
    return f"; {count} control character{'s' * (count != 1)} left out"
