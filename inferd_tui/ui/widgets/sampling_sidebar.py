"""The sampling sidebar: a form that round-trips a frozen ``RequestOptions``.

``load_options(options)`` sets the widgets; ``to_options()`` returns validated
``RequestOptions`` (or None while a field is invalid). The older pair ``load(params,
grammar)`` / ``to_params()`` (+ ``grammar``) round-trips the sampling fields and the grammar
alone. Bounds live in the model: each field's validator hands the text to ``SamplingParams``
and shows pydantic's verdict under the field. An empty field means "daemon default" and is
not sent; invalid text is never dropped or reset.

The form follows the daemon (``set_profile``): v1 daemons get today's fields (sampling,
image budget, a GBNF grammar); 0.4+ daemons the sampling fields, a thinking switch, a JSON
schema and tools (:mod:`inferd_tui.ui.widgets.request_features`, mounted on first need).
A field the daemon lacks is hidden or disabled with the reason in one line; its text stays,
so switching daemons loses nothing, but it is not sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Final

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from inferd_tui.proto import DAEMON_DEFAULTS, VALID_IMAGE_TOKEN_BUDGETS, SamplingParams
from inferd_tui.proto.capability import DaemonProfile
from inferd_tui.proto.chat import ToolSpec
from inferd_tui.request_options import (
    FieldOffer,
    OptionField,
    RequestOptions,
    is_unconstrained,
    offered_fields,
)
from inferd_tui.text_safety import clip, sanitize
from inferd_tui.ui.bindings import bindings_for, key_display
from inferd_tui.ui.widgets.feature_values import FeatureValues

if TYPE_CHECKING:
    from inferd_tui.ui.widgets.grammar_editor import GrammarEditor
    from inferd_tui.ui.widgets.request_features import RequestFeatures

#: The text fields of the form: (model field, label).
TEXT_FIELDS: tuple[tuple[str, str], ...] = (
    ("temperature", "Temperature"),
    ("top_p", "Top-p"),
    ("top_k", "Top-k"),
    ("max_tokens", "Max tokens"),
)
BUDGET_FIELD: Final = "image_token_budget"


_NO_FEATURES = FeatureValues()

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
    SamplingSidebar .field-reason { color: $text-muted; text-style: italic; height: auto; }
    SamplingSidebar #sampling-reset { margin: 1 0 0 0; }
    SamplingSidebar #sampling-system-prompt { width: 1fr; height: 1; }
    SamplingSidebar #sampling-preview {
        height: auto; padding: 0 1; color: $text-muted; background: $boost;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("sampling-sidebar")

    @dataclass
    class Changed(Message):
        """The form is valid after a change: these params and grammar go with the next send.

        ``options`` is everything the next request carries (``to_options()``), for the
        daemon the sidebar was last told about.
        """

        params: SamplingParams
        grammar: str
        sidebar: SamplingSidebar | None = field(default=None, repr=False)
        options: RequestOptions | None = None

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
        mount_later: bool = False,
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
        # True once the fields are mounted (after the first frame; see ``compose``).
        self._ready = False
        self._mount_later = mount_later
        self._mounting = False
        self._system_prompt = ""
        self._profile: DaemonProfile | None = None
        self._offers: dict[OptionField, FieldOffer] = offered_fields(None)
        self._features: RequestFeatures | None = None
        #: What the post-v1 fields hold until their block is mounted (first v2 daemon).
        self._feature_values: FeatureValues | None = None
        self._last_announced: object = None

    def compose(self) -> ComposeResult:
        # The fields are mounted by ``mount_fields``, after the first frame: they are a
        # third of the chat screen's widgets, and the prompt need not wait for them. Until
        # then every method works on what it was given (``_ready`` is False).
        return iter(())

    def _fields(self) -> list[Widget]:
        # Here, not at the top: the editor brings the grammar engine and TextArea's
        # highlighting, which the first frame does not show.
        from inferd_tui.ui.widgets.grammar_editor import GrammarEditor

        fields: list[Widget] = [Static("Sampling", classes="sidebar-heading")]
        for name, label in TEXT_FIELDS:
            dom_id = f"sampling-{name.replace('_', '-')}"
            field_input = Input(
                placeholder=f"{DAEMON_DEFAULTS[name]} (daemon default)",
                validators=[ModelFieldValidator(name)],
                valid_empty=True,
                validate_on=("changed", "submitted", "blur"),
                id=dom_id,
                compact=True,
                tooltip=f"{label}. Empty: the daemon's default "
                f"({DAEMON_DEFAULTS[name]}) applies and the field is not sent.",
            )
            fields += [
                Horizontal(
                    Label(label, classes="field-label", id=f"{dom_id}-label"),
                    field_input,
                    classes="field-row",
                ),
                Static("", classes="field-error", id=f"{dom_id}-error"),
            ]
        budget = Select(
            self._budget_options(None),
            prompt="none (not sent)",
            allow_blank=True,
            compact=True,
            id="sampling-image-token-budget",
            tooltip="Image token budget: none (not sent) or one the daemon accepts.",
        )
        fields += [
            Horizontal(
                Label("Image budget", classes="field-label"),
                budget,
                classes="field-row",
                id="sampling-image-token-budget-row",
            ),
            Static("", classes="field-error", id="sampling-image-token-budget-error"),
            Button(
                "Reset to defaults",
                id="sampling-reset",
                compact=True,
                tooltip="Empty the sampling fields and the image budget, so the daemon's "
                "defaults apply. The grammar stays (clear it in the grammar editor).",
            ),
            Horizontal(
                Label("System", classes="field-label"),
                Static(self._system_prompt_text(), id="sampling-system-prompt"),
                classes="field-row",
            ),
            Static("Grammar (GBNF)", classes="sidebar-heading", id="sampling-grammar-heading"),
            Static("", classes="field-reason", id="sampling-grammar-reason"),
            GrammarEditor(self._initial[1], id="sampling-grammar", compact=True),
            Static("Request preview", classes="sidebar-heading"),
            Static(Text("", no_wrap=False), id="sampling-preview"),
        ]
        for widget in fields:
            if widget.has_class("field-error", "field-reason"):
                widget.display = False
        return fields

    def on_mount(self) -> None:
        if not self._mount_later:  # otherwise the owner calls mount_fields()
            self.call_after_refresh(self.mount_fields)

    async def mount_fields(self) -> None:
        """Mount the form (once); the chat screen calls this after the first frame has
        been written, when made with ``mount_later=True``."""
        if self._mounting:
            return
        self._mounting = True
        await self.mount_all(self._fields())
        self._ready = True
        params, grammar = self._initial
        self._apply(params, grammar)
        if self._profile is not None:
            self._lay_out()
        if self._preview:
            self.show_preview(self._preview)
        self.show_system_prompt(self._system_prompt)

    # -- public API -----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once the fields are mounted (just after the first frame)."""
        return self._ready

    @property
    def grammar(self) -> str:
        """The grammar to send; "" (unconstrained) when the editor is blank or the daemon
        takes no grammar (its text is kept: :attr:`grammar_source`)."""
        if not self._offers["grammar"].enabled:
            return ""
        source = self.grammar_source
        return "" if is_unconstrained(source) else source

    @property
    def grammar_source(self) -> str:
        """The grammar as typed, sent or not."""
        return self.grammar_editor.source if self._ready else self._initial[1]

    @property
    def profile(self) -> DaemonProfile | None:
        """The daemon the form was last laid out for (None: not known yet; v1 fields)."""
        return self._profile

    @property
    def offers(self) -> dict[OptionField, FieldOffer]:
        """Which fields are shown and enabled now, with the reason for the others."""
        return dict(self._offers)

    def set_profile(self, profile: DaemonProfile | None) -> None:
        """Lay the form out for this daemon: show what it takes, disable (with the reason)
        or hide the rest. Nothing typed is lost. Posts ``Changed`` (or ``Invalid``) when
        mounted, since what the next request carries may have changed."""
        self._profile = profile
        self._offers = offered_fields(profile)
        if not self._ready:
            return
        self._lay_out()
        self._refresh_errors()
        self._announce()

    def load_options(self, options: RequestOptions) -> None:
        """Show every field of ``options`` (hidden fields too, so a later daemon sends
        them); does not post ``Changed`` (the caller knows)."""
        self.load(options.sampling, options.grammar)
        values = _feature_values(options)
        if self._features is None:
            self._feature_values = values
            if values != _NO_FEATURES and self._ready and self._needs_features():
                self._lay_out()
        else:
            self._features.load(values)
        if self._ready:
            self._refresh_errors()

    def to_options(self) -> RequestOptions | None:
        """What the next request carries on this daemon, or None while a field it takes is
        invalid. Fields it does not take are left out (``grammar`` is "" on 0.4+, the
        schema None on v1), whatever they hold."""
        values = self._values()
        if values is None or self._option_errors():
            return None
        offers = self._offers
        features = self._current_features()
        schema: dict[str, Any] | None = None
        tools: tuple[ToolSpec, ...] = ()
        if offers["response_schema"].enabled and self._features is not None:
            schema = self._features.schema_editor.schema
        if offers["tools"].enabled and self._features is not None:
            tools = self._features.tools_editor.tools or ()
        try:
            return RequestOptions(
                sampling=SamplingParams(**values),
                grammar=self.grammar,
                response_schema=schema,
                thinking=features.thinking if offers["thinking"].enabled else None,
                tools=tools,
                tool_choice=features.tool_choice if offers["tool_choice"].enabled else None,
            )
        except ValidationError:
            return None

    @property
    def schema_source(self) -> str:
        """The JSON schema as typed, sent or not (the workbench opens with it)."""
        return self._current_features().schema_text

    def set_schema(self, text: str) -> None:
        """Replace the JSON schema as a user edit would (Ctrl+Z in its editor undoes it);
        posts ``Changed`` once it has been checked, if the form is valid."""
        if self._features is not None:
            self._features.schema_editor.set_source(text, undoable=True)
        else:
            self._feature_values = replace(self._current_features(), schema_text=text)

    @property
    def features(self) -> RequestFeatures | None:
        """The thinking/schema/tools block, once a daemon that takes them was seen."""
        return self._features

    @property
    def grammar_editor(self) -> GrammarEditor:
        from inferd_tui.ui.widgets.grammar_editor import GrammarEditor

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
        """Field name → message, for every invalid field the daemon takes."""
        if not self._ready:
            return {}
        problems: dict[str, str] = {}
        for name, _ in TEXT_FIELDS:
            _, problem = parse_field(name, self._input(name).value)
            if problem is not None:
                problems[name] = problem
        if self._budget_error is not None and self._offers[BUDGET_FIELD].enabled:
            problems[BUDGET_FIELD] = self._budget_error
        problems.update(self._option_errors())
        return problems

    def _option_errors(self) -> dict[str, str]:
        """Problems of the schema, tools and tool_choice fields the daemon takes."""
        if self._features is None:
            return {}
        offers = self._offers
        problems: dict[str, str] = {}
        schema_check = self._features.schema_editor.current()
        tools_check = self._features.tools_editor.current()
        if offers["response_schema"].enabled and not schema_check.ok:
            count = len(schema_check.diagnostics)
            problems["response_schema"] = f"the JSON schema has {count} problem{'s' * (count != 1)}"
        if offers["tools"].enabled and not tools_check.ok:
            count = len(tools_check.diagnostics)
            problems["tools"] = f"the tools have {count} problem{'s' * (count != 1)}"
        if offers["tool_choice"].enabled and self._features.tool_choice is not None:
            if offers["tools"].enabled and tools_check.ok and not tools_check.value:
                problems["tool_choice"] = "tool_choice needs at least one tool"
            elif offers["response_schema"].enabled and schema_check.value is not None:
                problems["tool_choice"] = "tool_choice cannot be combined with a JSON schema"
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
        if not self._ready:
            self._initial = (SamplingParams(), self._initial[1])
            self._announce()
            return
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

    # -- laying out for a daemon ----------------------------------------------------------

    def _needs_features(self) -> bool:
        return any(self._offers[name].shown for name in _FEATURE_NAMES)

    def _current_features(self) -> FeatureValues:
        if self._features is not None:
            return self._features.values()
        return self._feature_values or _NO_FEATURES

    def _lay_out(self) -> None:
        """Show, disable or hide each field as ``self._offers`` says."""
        offers = self._offers
        budget = offers[BUDGET_FIELD]
        self.query_one("#sampling-image-token-budget-row").display = budget.shown
        self._budget_select.disabled = not budget.enabled
        grammar = offers["grammar"]
        self.query_one("#sampling-grammar-heading").display = grammar.shown
        # Like the JSON editors, a grammar the daemon cannot take folds to its heading and
        # the reason: the text is kept (a v1 daemon later gets it) but not sent.
        self.grammar_editor.display = grammar.shown and grammar.enabled
        reason = self.query_one("#sampling-grammar-reason", Static)
        note = grammar.reason
        if note and not is_unconstrained(self.grammar_source):
            note += " (your grammar is kept, not sent)"
        reason.update(Text(note))
        reason.display = grammar.shown and not grammar.enabled and bool(note)
        if self._features is None and self._needs_features():
            # Imported here: a v1 session never loads the JSON editors (start-up).
            from inferd_tui.ui.widgets.request_features import RequestFeatures

            self._features = RequestFeatures(
                self._feature_values or _NO_FEATURES, id="sampling-features"
            )
            self._feature_values = None
            self.mount(self._features, before="#sampling-grammar-heading")
            self._features.call_after_refresh(self._lay_out_features)
        else:
            self._lay_out_features()

    def _lay_out_features(self) -> None:
        if self._features is not None and self._features.is_mounted:
            self._features.apply_offers(self._offers)
            self._features.show_errors(self.errors())

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
        budget_offered = self._offers[BUDGET_FIELD].enabled
        if not self._ready:
            values = self._initial[0].model_dump()
            if not budget_offered:
                values[BUDGET_FIELD] = None
            return values
        values = {}
        for name, _ in TEXT_FIELDS:
            value, problem = parse_field(name, self._input(name).value)
            if problem is not None:
                return None
            values[name] = value
        if not budget_offered:
            values[BUDGET_FIELD] = None  # kept in the select, not sent
            return values
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
        if self._features is not None:
            self._features.show_errors(problems)

    def _announce(self) -> None:
        problems = self.errors()
        params = self.to_params()
        options = self.to_options()
        if problems or params is None or options is None:
            self._last_announced = problems
            self.post_message(self.Invalid(problems, self))
            return
        self._announced_grammar = self.grammar
        self._last_announced = options
        self.post_message(self.Changed(params, self.grammar, self, options=options))

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

    def on_grammar_editor_checked(self, event: GrammarEditor.Checked) -> None:
        # The editor checks after typing stops, so this is already debounced.
        if self.grammar != self._announced_grammar:
            self._announce()

    def on_json_editor_checked(self, event: Message) -> None:
        # The schema and tools editors check after typing stops (debounced already);
        # announce only when what would be sent, or its problems, changed.
        event.stop()
        self._refresh_errors()
        problems = self.errors()
        now: object = problems if problems else self.to_options()
        if now != self._last_announced:
            self._announce()

    @on(Select.Changed, "#sampling-thinking, #sampling-tool-choice")
    def _feature_choice_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._refresh_errors()
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


_FEATURE_NAMES: tuple[OptionField, ...] = ("thinking", "response_schema", "tools", "tool_choice")


def _feature_values(options: RequestOptions) -> FeatureValues:
    """The texts and choices the post-v1 fields show for ``options``."""
    schema = options.response_schema
    tools = [tool.model_dump(mode="json") for tool in options.tools]
    return FeatureValues(
        thinking=options.thinking,
        schema_text=json.dumps(schema, indent=2, ensure_ascii=False) if schema is not None else "",
        tools_text=json.dumps(tools, indent=2, ensure_ascii=False) if tools else "",
        tool_choice=options.tool_choice,
    )
