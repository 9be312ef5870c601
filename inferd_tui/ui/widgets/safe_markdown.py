"""Rich Markdown for untrusted model output (the transcript imports it on first use)."""

from __future__ import annotations

from markdown_it import MarkdownIt
from rich.markdown import Markdown


class SafeMarkdown(Markdown):
    """Rich Markdown for untrusted text: raw HTML is shown as text, never dropped, and
    links are not turned into terminal hyperlinks (OSC 8) pointing who knows where."""

    def __init__(self, markup: str, *, code_theme: str) -> None:
        super().__init__(markup, code_theme=code_theme, hyperlinks=False)
        parser = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")
        self.parsed = parser.parse(markup)
