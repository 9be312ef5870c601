"""Small modal dialogs shared by the list screens: confirm, one-line text input, export path.

Every piece of text shown here that came from a user or a file is a ``rich.text.Text`` built
from sanitized plain text, never a markup string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from inferd_tui.text_safety import sanitize
from inferd_tui.ui.bindings import bindings_for

ExportFormat = Literal["markdown", "json"]
EXPORT_SUFFIXES: dict[ExportFormat, str] = {"markdown": ".md", "json": ".json"}

_DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 76; max-width: 95%; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} .dialog-title {{ text-style: bold; margin-bottom: 1; }}
{name} .dialog-hint {{ color: $text-muted; }}
{name} .dialog-buttons {{ height: auto; align-horizontal: right; margin-top: 1; }}
{name} .dialog-buttons Button {{ margin-left: 1; }}
"""


def plain(text: str, *, one_line: bool = False, style: str = "") -> Text:
    """Untrusted text as a ``Text``: controls made visible, never parsed as markup."""
    return Text(sanitize(text, keep_newlines=not one_line), style=style)


class ConfirmDialog(ModalScreen[bool]):
    """Ask a yes/no question; dismisses True only on an explicit confirmation.

    ``lines`` are shown as plain text (each one sanitized). ``danger`` colours the confirm
    button red and focuses Cancel first, so a stray Enter never deletes anything.
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("confirm-dialog")

    DEFAULT_CSS = (
        _DIALOG_CSS.format(name="ConfirmDialog")
        + """
    ConfirmDialog #confirm-body { height: auto; max-height: 20; }
    """
    )

    def __init__(
        self,
        title: str,
        lines: Sequence[str | Text] = (),
        *,
        confirm_label: str = "Yes",
        cancel_label: str = "Cancel",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._lines = list(lines)
        self._confirm_label = confirm_label
        self._cancel_label = cancel_label
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self._title, one_line=True), classes="dialog-title")
            if self._lines:
                body = Text("\n").join(
                    line if isinstance(line, Text) else plain(line) for line in self._lines
                )
                with VerticalScroll(id="confirm-body"):
                    yield Static(body)
            yield Static(
                Text(f"y {self._confirm_label.lower()} · n or Esc cancels"),
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    self._confirm_label,
                    id="confirm",
                    variant="error" if self._danger else "primary",
                )
                yield Button(self._cancel_label, id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel" if self._danger else "#confirm", Button).focus()

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_switch_button(self) -> None:
        self.focus_next(Button)

    @on(Button.Pressed)
    def _on_button(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")


class TextInputDialog(ModalScreen[str | None]):
    """One line of text (a new title, a preset name, a file path). Enter saves, Esc cancels.

    Empty (whitespace-only) input is refused in place unless ``allow_empty``.
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("text-dialog")

    DEFAULT_CSS = (
        _DIALOG_CSS.format(name="TextInputDialog")
        + """
    TextInputDialog #dialog-error { color: $error; height: auto; }
    """
    )

    def __init__(
        self,
        title: str,
        value: str = "",
        *,
        hint: str = "Enter saves · Esc cancels",
        placeholder: str = "",
        allow_empty: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._hint = hint
        self._placeholder = placeholder
        self._allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self._title, one_line=True), classes="dialog-title")
            yield Input(
                sanitize(self._value, keep_newlines=False),
                placeholder=self._placeholder,
                id="dialog-input",
            )
            yield Static("", id="dialog-error")
            yield Static(Text(self._hint), classes="dialog-hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one(Input))

    @on(Input.Submitted)
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip() and not self._allow_empty:
            self.query_one("#dialog-error", Static).update(Text("Type something, or Esc."))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class ExportChoice:
    path: Path
    format: ExportFormat
    #: JSON only: embed each attachment's bytes (base64), so the file is complete.
    with_attachments: bool = False


def with_suffix_for(path_text: str, fmt: ExportFormat) -> str:
    """Swap a trailing .md / .json for the one of ``fmt``; any other name is left alone."""
    for suffix in EXPORT_SUFFIXES.values():
        if path_text.lower().endswith(suffix):
            return path_text[: -len(suffix)] + EXPORT_SUFFIXES[fmt]
    return path_text


def expand_path(path_text: str) -> Path:
    """What the user typed as a path: ``~`` expanded, made absolute against the working
    directory (so the messages about it say exactly where it is)."""
    return Path(path_text.strip()).expanduser().absolute()


class ExportDialog(ModalScreen[ExportChoice | None]):
    """Where to write an export, and as Markdown or JSON. Enter exports, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("export-dialog")

    DEFAULT_CSS = (
        _DIALOG_CSS.format(name="ExportDialog")
        + """
    ExportDialog RadioSet { layout: horizontal; height: auto; border: none; padding: 0; }
    ExportDialog #dialog-error { color: $error; height: auto; }
    """
    )

    def __init__(
        self,
        title: str,
        default_stem: str,
        fmt: ExportFormat = "markdown",
        *,
        path_text: str | None = None,
        error: str | None = None,
        with_attachments: bool = False,
    ) -> None:
        """``path_text`` and ``error``: shown again after a failed attempt, so the path
        typed is not lost and the reason stands next to it."""
        super().__init__()
        self._with_attachments = with_attachments
        self._title = title
        self._path_text = path_text or default_stem + EXPORT_SUFFIXES[fmt]
        self._format: ExportFormat = fmt
        self._error = error

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self._title, one_line=True), classes="dialog-title")
            with RadioSet(id="export-format"):
                yield RadioButton(
                    "Markdown (readable)", id="format-markdown", value=self._format == "markdown"
                )
                yield RadioButton(
                    "JSON (exact, re-importable)", id="format-json", value=self._format == "json"
                )
            yield Checkbox(
                "Embed attachments (JSON: images and audio as base64, so the file is complete)",
                self._with_attachments,
                id="export-attachments",
                disabled=self._format != "json",
            )
            yield Input(sanitize(self._path_text, keep_newlines=False), id="export-path")
            yield Static(plain(self._error or "", one_line=True), id="dialog-error")
            yield Static(
                Text("Enter exports · Ctrl+T switches Markdown/JSON · Esc cancels"),
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        self.set_focus(self.query_one(Input))

    @property
    def format(self) -> ExportFormat:
        return self._format

    def _set_format(self, fmt: ExportFormat) -> None:
        if fmt == self._format:
            return
        self._format = fmt
        path_input = self.query_one("#export-path", Input)
        path_input.value = with_suffix_for(path_input.value, fmt)
        path_input.cursor_position = len(path_input.value)  # drop a selection of the old value
        button = self.query_one(f"#format-{fmt}", RadioButton)
        if not button.value:
            button.value = True
        self.query_one("#export-attachments", Checkbox).disabled = fmt != "json"

    @on(RadioSet.Changed)
    def _on_format_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self._set_format("json" if event.pressed.id == "format-json" else "markdown")

    def action_toggle_format(self) -> None:
        self._set_format("json" if self._format == "markdown" else "markdown")

    @on(Input.Submitted)
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.query_one("#dialog-error", Static).update(Text("Type a file path, or Esc."))
            return
        embed = self.query_one("#export-attachments", Checkbox).value
        self.dismiss(
            ExportChoice(expand_path(event.value), self._format, embed and self._format == "json")
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
