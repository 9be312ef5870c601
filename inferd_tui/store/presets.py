"""What applying a preset would change, in words (the preset screen's confirmation)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from inferd_tui.store.records import SAMPLING_FIELDS


class HasSamplingSetup(Protocol):
    """Anything carrying params, grammar and system prompt: a conversation or a preset."""

    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def grammar(self) -> str: ...
    @property
    def system_prompt(self) -> str: ...


def _describe_value(value: Any) -> str:
    return "default" if value is None else json.dumps(value)


def _describe_text(text: str, what: str) -> str:
    if not text:
        return "none"
    lines = text.count("\n") + 1
    if what == "grammar":
        return f"{lines} line{'s' if lines != 1 else ''}"
    first = " ".join(text.split())
    return json.dumps(first if len(first) <= 40 else first[:39] + "…")


def preset_diff(current: HasSamplingSetup, preset: HasSamplingSetup) -> list[str]:
    """What applying `preset` over `current` would change, one line per change.

    Applying a preset replaces the whole bundle: a field the preset leaves unset goes back
    to the daemon's default.
    """
    changes: list[str] = []
    for name in SAMPLING_FIELDS:
        before, after = current.params.get(name), preset.params.get(name)
        if before != after:
            changes.append(f"{name}: {_describe_value(before)} → {_describe_value(after)}")
    for label, before_text, after_text in (
        ("system prompt", current.system_prompt, preset.system_prompt),
        ("grammar", current.grammar, preset.grammar),
    ):
        if before_text == after_text:
            continue
        what = "grammar" if label == "grammar" else "text"
        if not after_text:
            changes.append(f"{label}: cleared")
        else:
            before_desc = _describe_text(before_text, what)
            changes.append(f"{label}: {before_desc} → {_describe_text(after_text, what)}")
    return changes
