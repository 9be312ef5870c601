"""Ask before sending a grammar that has errors, and say what llama.cpp will do with it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from inferd_tui.grammar import CheckResult, check
from inferd_tui.text_safety import sanitize
from inferd_tui.ui.bindings import bindings_for

#: How many errors are shown with their source line and caret.
SHOWN_ERRORS = 3

CONSEQUENCE = (
    "llama.cpp will refuse this grammar: the daemon answers with an error (at best "
    "`expecting … at <rest of the grammar>`, with no line or column) and no text is generated."
)


class ConfirmInvalidGrammar(ModalScreen[bool]):
    """Lists the grammar's errors; dismisses True for "Send anyway", False for Cancel/Esc."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("invalid-grammar")

    DEFAULT_CSS = """
    ConfirmInvalidGrammar { align: center middle; }
    ConfirmInvalidGrammar > Vertical {
        width: 84; max-width: 95%; height: auto; max-height: 90%;
        border: thick $error; background: $surface; padding: 0 1;
    }
    ConfirmInvalidGrammar #invalid-grammar-title { text-style: bold; margin-bottom: 1; }
    ConfirmInvalidGrammar #invalid-grammar-errors { height: auto; max-height: 40vh; }
    ConfirmInvalidGrammar #invalid-grammar-consequence { margin-top: 1; }
    ConfirmInvalidGrammar #invalid-grammar-buttons {
        height: 1; align-horizontal: right; margin-top: 1;
    }
    ConfirmInvalidGrammar #invalid-grammar-buttons Button { margin-left: 2; }
    """

    def __init__(self, grammar: str, result: CheckResult | None = None) -> None:
        super().__init__()
        self.grammar = grammar
        self.result = result if result is not None else check(grammar)

    def compose(self) -> ComposeResult:
        errors = self.result.errors
        count = len(errors)
        with Vertical():
            yield Static(
                Text(f"This grammar has {count} error{'s' * (count != 1)}"),
                id="invalid-grammar-title",
            )
            with VerticalScroll(id="invalid-grammar-errors"):
                yield Static(self._errors_text(), id="invalid-grammar-list")
            yield Static(Text(CONSEQUENCE), id="invalid-grammar-consequence")
            with Horizontal(id="invalid-grammar-buttons"):
                yield Button("Send anyway ^S", id="send", variant="error", compact=True)
                yield Button("Cancel Esc", id="cancel", variant="primary", compact=True)

    def _errors_text(self) -> Text:
        errors = self.result.errors
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, diagnostic in enumerate(errors[:SHOWN_ERRORS]):
            if index:
                text.append("\n\n")
            # render() shows controls as \xNN already; sanitize is the belt to its braces.
            text.append(sanitize(diagnostic.render(self.grammar, filename="grammar")))
        rest = errors[SHOWN_ERRORS:]
        if rest:
            text.append("\n")
            for diagnostic in rest:
                message = sanitize(diagnostic.message, keep_newlines=False)
                text.append(f"\ngrammar:{diagnostic.line}:{diagnostic.column}: error: {message}")
        return text

    def on_mount(self) -> None:
        # Cancel has the focus, so a stray Enter never sends a request that will fail.
        self.query_one("#cancel", Button).focus()

    def action_send(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_switch_button(self) -> None:
        self.focus_next(Button)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "send")
