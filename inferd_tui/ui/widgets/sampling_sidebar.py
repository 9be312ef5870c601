"""The sampling sidebar: a form that round-trips a frozen ``SamplingParams``.

``load(params, grammar)`` sets the widgets; ``to_params()`` returns a validated
``SamplingParams`` (or None while a field is invalid). Bounds live in the model: each field's
validator hands the text to ``SamplingParams`` and shows pydantic's verdict under the field.
An empty field means "daemon default" and is not sent; invalid text is never dropped or reset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Select, Static

from inferd_tui.proto import DAEMON_DEFAULTS, VALID_IMAGE_TOKEN_BUDGETS, SamplingParams
from inferd_tui.text_safety import clip, sanitize
from inferd_tui.ui.bindings import bindings_for, key_display
from inferd_tui.ui.widgets.grammar_editor import GrammarEditor, is_unconstrained

#: The text fields of the form: (model field, label).
TEXT_FIELDS: tuple[tuple[str, str], ...] = (
    ("temperature", "Temperature"),
    ("top_p", "Top-p"),
    ("top_k", "Top-k"),
    ("max_tokens", "Max tokens"),
)
BUDGET_FIELD = "image_token_budget"

#: The preview shows at most this many characters of the request line.
PREVIEW_LIMIT = 20_000


def parse_field(name: str, text: str) -> tuple[Any, str | None]:
    """``(value, None)`` for valid text (None when empty), or ``(None, message)``.

    The model decides: the text goes through ``SamplingParams`` validation as is.
    """
    if not text.strip():
        return None, None
    try:
        params = SamplingParams.model_validate({name: text.strip()})
    except ValidationError as exc:
        return None, _friendly(exc)
    return getattr(params, name), None


def _friendly(exc: ValidationError) -> str:
    message = str(exc.errors()[0].get("msg", "invalid value"))
    message = message.replace("Input should be", "must be")
    message = message.replace(", unable to parse string as a number", "")
    message = message.replace(", unable to parse string as an integer", "")
    return message[0].upper() + message[1:] if message else "Invalid value"


def _budget_problem(value: int) -> str | None:
    if value in VALID_IMAGE_TOKEN_BUDGETS:
        return None
    allowed = ", ".join(str(v) for v in VALID_IMAGE_TOKEN_BUDGETS)
    return f"{value} is not accepted by the daemon: use none or one of {allowed}"


def format_value(value: float | int) -> str:
    """The text a field shows for ``value``; ``parse_field`` reads it back exactly."""
    # repr of a float is the shortest text that parses back to the same float.
    return repr(value) if isinstance(value, float) else str(value)


class ModelFieldValidator(Validator):
    """Validates one text field by handing it to ``SamplingParams``."""

    def __init__(self, field_name: str) -> None:
        super().__init__()
        self.field_name = field_name

    def validate(self, value: str) -> ValidationResult:
        _, problem = parse_field(self.field_name, value)
        return self.success() if problem is None else self.failure(problem, value)


class SamplingSidebar(VerticalScroll):
    """Sampling fields, image budget, the grammar editor, reset, and the request preview."""

    DEFAULT_CSS = """
    SamplingSidebar { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    SamplingSidebar .sidebar-heading { text-style: bold; margin: 1 0 0 0; }
    SamplingSidebar .field-row { height: 1; margin: 0; }
    SamplingSidebar .field-label { width: 13; color: $text-muted; }
    SamplingSidebar .field-row > Input, SamplingSidebar .field-row > Select { width: 1fr; }
    SamplingSidebar Input.-invalid { background: $error 25%; }
    SamplingSidebar .field-error { color: $text-error; height: auto; padding: 0 0 0 13; }
    SamplingSidebar #sampling-reset { margin: 1 0 0 0; }
    SamplingSidebar #sampling-system-prompt { width: 1fr; height: 1; }
    SamplingSidebar #sampling-preview {
        height: auto; padding: 0 1; color: $text-muted; background: $boost;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("sampling-sidebar")

    @dataclass
    class Changed(Message):
        """The form is valid after a change: these params and grammar go with the next send."""

        params: SamplingParams
        grammar: str
        sidebar: SamplingSidebar | None = field(default=None, repr=False)

        @property
        def control(self) -> SamplingSidebar | None:
            return self.sidebar

    @dataclass
    class Invalid(Message):
        """Some fields are invalid (field name → message); the next send cannot use them."""

        errors: dict[str, str]
        sidebar: SamplingSidebar | None = field(default=None, repr=False)

        @property
        def control(self) -> SamplingSidebar | None:
            return self.sidebar

    def __init__(
        self,
        params: SamplingParams | None = None,
        grammar: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._initial = (params or SamplingParams(), grammar)
        self._budget_error: str | None = None
        self._budget_extra: int | None = None
        self._announced_grammar = grammar if not is_unconstrained(grammar) else ""
        self._preview = ""
        # ``is_mounted`` only turns true after on_mount; the children exist from its start.
        self._ready = False
        self._system_prompt = ""

    def compose(self) -> ComposeResult:
        yield Static("Sampling", classes="sidebar-heading")
        for name, label in TEXT_FIELDS:
            dom_id = f"sampling-{name.replace('_', '-')}"
            with Horizontal(classes="field-row"):
                yield Label(label, classes="field-label", id=f"{dom_id}-label")
                yield Input(
                    placeholder=f"{DAEMON_DEFAULTS[name]} (daemon default)",
                    validators=[ModelFieldValidator(name)],
                    valid_empty=True,
                    validate_on=("changed", "submitted", "blur"),
                    id=dom_id,
                    compact=True,
                    tooltip=f"{label}. Empty: the daemon's default "
                    f"({DAEMON_DEFAULTS[name]}) applies and the field is not sent.",
                )
            yield Static("", classes="field-error", id=f"{dom_id}-error")
        with Horizontal(classes="field-row"):
            yield Label("Image budget", classes="field-label")
            yield Select(
                self._budget_options(None),
                prompt="none (not sent)",
                allow_blank=True,
                compact=True,
                id="sampling-image-token-budget",
                tooltip="Image token budget: none (not sent) or one the daemon accepts.",
            )
        yield Static("", classes="field-error", id="sampling-image-token-budget-error")
        yield Button(
            "Reset to defaults",
            id="sampling-reset",
            compact=True,
            tooltip="Empty the sampling fields and the image budget, so the daemon's "
            "defaults apply. The grammar stays (clear it in the grammar editor).",
        )
        with Horizontal(classes="field-row"):
            yield Label("System", classes="field-label")
            yield Static(self._system_prompt_text(), id="sampling-system-prompt")
        yield Static("Grammar (GBNF)", classes="sidebar-heading")
        yield GrammarEditor(self._initial[1], id="sampling-grammar", compact=True)
        yield Static("Request preview", classes="sidebar-heading")
        yield Static(Text("", no_wrap=False), id="sampling-preview")

    def on_mount(self) -> None:
        self._ready = True
        for error in self.query(".field-error"):
            error.display = False
        params, grammar = self._initial
        self._apply(params, grammar)
        if self._preview:
            self.show_preview(self._preview)
        self.show_system_prompt(self._system_prompt)

    # -- public API -----------------------------------------------------------------------

    @property
    def grammar(self) -> str:
        """The grammar to send; "" (unconstrained) when the editor is blank."""
        source = self.grammar_editor.source if self._ready else self._initial[1]
        return "" if is_unconstrained(source) else source

    @property
    def grammar_editor(self) -> GrammarEditor:
        return self.query_one("#sampling-grammar", GrammarEditor)

    def load(self, params: SamplingParams, grammar: str) -> None:
        """Show ``params`` and ``grammar``; does not post ``Changed`` (the caller knows)."""
        self._announced_grammar = "" if is_unconstrained(grammar) else grammar
        if not self._ready:
            self._initial = (params, grammar)
            return
        self._apply(params, grammar)

    def set_grammar(self, grammar: str) -> None:
        """Replace the grammar as a user edit would (Ctrl+Z in the editor undoes it); posts
        ``Changed`` once it has been checked, if the form is valid."""
        if not self._ready:
            self._initial = (self._initial[0], grammar)
            return
        self.grammar_editor.set_source(grammar, undoable=True)

    def to_params(self) -> SamplingParams | None:
        """The validated params, or None while any field is invalid."""
        values = self._values()
        if values is None:
            return None
        try:
            return SamplingParams(**values)
        except ValidationError:
            return None

    def errors(self) -> dict[str, str]:
        """Field name → message, for every invalid field."""
        if not self._ready:
            return {}
        problems: dict[str, str] = {}
        for name, _ in TEXT_FIELDS:
            _, problem = parse_field(name, self._input(name).value)
            if problem is not None:
                problems[name] = problem
        if self._budget_error is not None:
            problems[BUDGET_FIELD] = self._budget_error
        return problems

    def show_system_prompt(self, text: str) -> None:
        """Show the conversation's system prompt (its first line), so it is never a surprise."""
        self._system_prompt = text
        if self._ready:
            self.query_one("#sampling-system-prompt", Static).update(self._system_prompt_text())

    def _system_prompt_text(self) -> Text:
        lines = self._system_prompt.strip().splitlines()
        if not lines:
            edit_key = key_display(self.app, "system-prompt") if self._ready else "F4"
            return Text(f"none · {edit_key} sets one", style="dim")
        text = Text(no_wrap=True, overflow="ellipsis")
        if len(lines) > 1:  # first, so a long first line cannot push it out of view
            text.append(f"{len(lines)} lines: ", style="dim")
        text.append(sanitize(lines[0], keep_newlines=False))
        return text

    def show_preview(self, line: str) -> None:
        """Show the exact request line the next send will write (shown literally)."""
        self._preview = line
        if not self._ready:
            return
        shown, left_out = clip(line, PREVIEW_LIMIT)
        # Raw newlines only separate an LP frame from its BLOB lines (JSON escapes its own).
        text = Text(sanitize(shown), no_wrap=False, overflow="fold")
        if left_out:
            text.append(f" … ({left_out:,} more characters)", style="italic")
        self.query_one("#sampling-preview", Static).update(text)

    @property
    def preview(self) -> str:
        """The line last given to ``show_preview``."""
        return self._preview

    def reset(self) -> None:
        """Empty the sampling fields and the budget (the grammar stays); posts Changed."""
        with self.prevent(Input.Changed, Select.Changed):
            for name, _ in TEXT_FIELDS:
                self._input(name).value = ""
            self._set_budget(None)
        self._refresh_errors()
        self._announce()

    # -- internals ------------------------------------------------------------------------

    def _input(self, name: str) -> Input:
        return self.query_one(f"#sampling-{name.replace('_', '-')}", Input)

    @property
    def _budget_select(self) -> Select[int]:
        return self.query_one("#sampling-image-token-budget", Select)

    @staticmethod
    def _budget_options(extra: int | None) -> list[tuple[str, int]]:
        options = [(f"{value} tokens", value) for value in VALID_IMAGE_TOKEN_BUDGETS]
        if extra is not None and extra not in VALID_IMAGE_TOKEN_BUDGETS:
            options.append((f"{extra} (daemon rejects it)", extra))
        return options

    def _set_budget(self, value: int | None) -> None:
        select = self._budget_select
        extra = value if value is not None and value not in VALID_IMAGE_TOKEN_BUDGETS else None
        if extra != self._budget_extra:
            # A stored value the daemon would reject stays visible, flagged, rather than dropped.
            select.set_options(self._budget_options(extra))
            self._budget_extra = extra
        if value is None:
            select.clear()
        else:
            select.value = value
        self._budget_error = None if value is None else _budget_problem(value)

    def _apply(self, params: SamplingParams, grammar: str) -> None:
        with self.prevent(Input.Changed, Select.Changed):
            for name, _ in TEXT_FIELDS:
                value = getattr(params, name)
                self._input(name).value = "" if value is None else format_value(value)
            self._set_budget(params.image_token_budget)
        if self.grammar_editor.source != grammar:
            self.grammar_editor.set_source(grammar)
        self._refresh_errors()

    def _values(self) -> dict[str, Any] | None:
        if not self._ready:
            return self._initial[0].model_dump()
        values: dict[str, Any] = {}
        for name, _ in TEXT_FIELDS:
            value, problem = parse_field(name, self._input(name).value)
            if problem is not None:
                return None
            values[name] = value
        if self._budget_error is not None:
            return None
        budget = self._budget_select.value
        values[BUDGET_FIELD] = budget if isinstance(budget, int) else None
        return values

    def _refresh_errors(self) -> None:
        problems = self.errors()
        for name in (*(name for name, _ in TEXT_FIELDS), BUDGET_FIELD):
            error = self.query_one(f"#sampling-{name.replace('_', '-')}-error", Static)
            problem = problems.get(name)
            error.update(Text(problem or ""))
            error.display = problem is not None

    def _announce(self) -> None:
        problems = self.errors()
        params = self.to_params()
        if problems or params is None:
            self.post_message(self.Invalid(problems, self))
            return
        self._announced_grammar = self.grammar
        self.post_message(self.Changed(params, self.grammar, self))

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refresh_errors()
        self._announce()

    @on(Select.Changed, "#sampling-image-token-budget")
    def _budget_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value
        if not isinstance(value, int) or value in VALID_IMAGE_TOKEN_BUDGETS:
            with self.prevent(Select.Changed):
                self._set_budget(value if isinstance(value, int) else None)
        self._refresh_errors()
        self._announce()

    @on(GrammarEditor.Checked, "#sampling-grammar")
    def _grammar_checked(self, event: GrammarEditor.Checked) -> None:
        # The editor checks after typing stops, so this is already debounced.
        if self.grammar != self._announced_grammar:
            self._announce()

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        event.stop()

    @on(Button.Pressed, "#sampling-reset")
    def _reset_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_reset()

    def action_reset(self) -> None:
        self.reset()
        self.notify(
            "Sampling fields reset to the daemon's defaults (the grammar was kept).", timeout=3
        )
