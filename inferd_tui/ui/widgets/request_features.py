"""The sidebar's fields for daemons after v1: thinking, a JSON schema, tools, tool_choice.

Mounted by :class:`~inferd_tui.ui.widgets.sampling_sidebar.SamplingSidebar` the first time
a daemon offers one of them (so a v1 session never imports the JSON editors). Each field
is shown, shown disabled with the reason in one line, or hidden, as
:func:`inferd_tui.request_options.offered_fields` says; hiding or disabling never touches
what was typed, so switching daemons back and forth loses nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Select, Static

from inferd_tui.proto.chat import TOOL_CHOICES, ToolChoice
from inferd_tui.request_options import FieldOffer, OptionField
from inferd_tui.ui.widgets.feature_values import FeatureValues
from inferd_tui.ui.widgets.schema_editor import SchemaEditor, ToolsEditor

#: The fields this block shows, by their RequestOptions name.
FEATURE_FIELDS: tuple[OptionField, ...] = ("thinking", "response_schema", "tools", "tool_choice")


def dom_id(name: str) -> str:
    return f"sampling-{name.replace('_', '-')}"


class RequestFeatures(Vertical):
    """Thinking switch, structured output (JSON schema), tools and tool_choice."""

    DEFAULT_CSS = """
    RequestFeatures { height: auto; }
    RequestFeatures .field-row { height: 1; margin: 0; }
    RequestFeatures .field-label { width: 13; color: $text-muted; }
    RequestFeatures .field-row > Select { width: 1fr; }
    RequestFeatures .sidebar-heading { text-style: bold; margin: 1 0 0 0; }
    """

    #: Shown in the Thinking select for "not sent"; the daemon's default then applies.
    THINKING_BLANK: ClassVar[str] = "default (not sent)"

    def __init__(self, values: FeatureValues, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pending = values
        self._schema = SchemaEditor(
            values.schema_text, id="sampling-response-schema", compact=True, show_examples=True
        )
        self._tools = ToolsEditor(
            values.tools_text, id="sampling-tools", compact=True, show_examples=True
        )
        self._ready = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row", id="sampling-thinking-row"):
            yield Label("Thinking", classes="field-label")
            yield Select(
                [("on", True), ("off", False)],
                prompt=self.THINKING_BLANK,
                allow_blank=True,
                compact=True,
                id="sampling-thinking",
                tooltip="Ask the model to reason first (its thinking arrives as its own "
                "block). Blank: not sent, the daemon's default applies.",
            )
        yield Static("", classes="field-reason", id="sampling-thinking-reason")
        yield Static(
            "Structured output (JSON schema)",
            classes="sidebar-heading",
            id="sampling-response-schema-heading",
        )
        yield Static("", classes="field-reason", id="sampling-response-schema-reason")
        yield self._schema
        yield Static("Tools", classes="sidebar-heading", id="sampling-tools-heading")
        yield Static("", classes="field-reason", id="sampling-tools-reason")
        yield self._tools
        with Horizontal(classes="field-row", id="sampling-tool-choice-row"):
            yield Label("Tool choice", classes="field-label")
            yield Select(
                [(choice, choice) for choice in TOOL_CHOICES],
                prompt="not sent",
                allow_blank=True,
                compact=True,
                id="sampling-tool-choice",
                tooltip="auto: the model decides; required: it must call a tool; none: it "
                "must not. Blank: not sent.",
            )
        yield Static("", classes="field-reason", id="sampling-tool-choice-reason")
        yield Static("", classes="field-error", id="sampling-tool-choice-error")

    def on_mount(self) -> None:
        self._ready = True
        for error in self.query(".field-error"):
            error.display = False
        self._set_selects(self._pending.thinking, self._pending.tool_choice)

    # -- values ---------------------------------------------------------------------------

    @property
    def schema_editor(self) -> SchemaEditor:
        return self._schema

    @property
    def tools_editor(self) -> ToolsEditor:
        return self._tools

    @property
    def thinking(self) -> bool | None:
        if not self._ready:
            return self._pending.thinking
        value = self.query_one("#sampling-thinking", Select).value
        return value if isinstance(value, bool) else None

    @property
    def tool_choice(self) -> ToolChoice | None:
        if not self._ready:
            return self._pending.tool_choice
        value = self.query_one("#sampling-tool-choice", Select).value
        return value if value in TOOL_CHOICES else None

    def values(self) -> FeatureValues:
        return FeatureValues(
            self.thinking, self._schema.source, self._tools.source, self.tool_choice
        )

    def load(self, values: FeatureValues) -> None:
        """Show ``values`` (posts no Changed of its own; the editors re-check)."""
        self._pending = values
        if self._schema.source != values.schema_text:
            self._schema.set_source(values.schema_text)
        if self._tools.source != values.tools_text:
            self._tools.set_source(values.tools_text)
        if self._ready:
            self._set_selects(values.thinking, values.tool_choice)

    def _set_selects(self, thinking: bool | None, tool_choice: ToolChoice | None) -> None:
        with self.prevent(Select.Changed):
            for select_id, value in (
                ("#sampling-thinking", thinking),
                ("#sampling-tool-choice", tool_choice),
            ):
                select: Select[Any] = self.query_one(select_id, Select)
                if value is None:
                    select.clear()
                else:
                    select.value = value

    # -- what the daemon takes ------------------------------------------------------------

    def apply_offers(self, offers: dict[OptionField, FieldOffer]) -> None:
        """Show, disable (with the reason) or hide each field; the text stays either way."""
        for name in FEATURE_FIELDS:
            offer = offers[name]
            reason = self.query_one(f"#{dom_id(name)}-reason", Static)
            reason.update(Text(offer.reason))
            reason.display = offer.shown and not offer.enabled and bool(offer.reason)
            if name in ("thinking", "tool_choice"):
                self.query_one(f"#{dom_id(name)}-row").display = offer.shown
                self.query_one(f"#{dom_id(name)}", Select).disabled = not offer.enabled
            else:
                self.query_one(f"#{dom_id(name)}-heading").display = offer.shown
                # A disabled editor folds to its heading and reason: its text is kept but
                # not sent, and eight lines of it would only crowd the fields that are.
                editor = self._schema if name == "response_schema" else self._tools
                editor.display = offer.shown and offer.enabled
                if offer.shown and not offer.enabled and editor.source.strip():
                    reason.update(Text(f"{offer.reason} (your text is kept, not sent)"))
        self.display = any(offers[name].shown for name in FEATURE_FIELDS)

    def show_errors(self, problems: dict[str, str]) -> None:
        """Show the tool_choice problem under it (the editors show their own)."""
        if not self._ready:
            return
        error = self.query_one("#sampling-tool-choice-error", Static)
        problem = problems.get("tool_choice")
        error.update(Text(problem or ""))
        error.display = problem is not None
