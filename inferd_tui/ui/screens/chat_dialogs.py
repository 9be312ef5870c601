"""The chat screen's ways out: the dialogs it opens and leaving its conversation.

:class:`ChatDialogs` is the first of the chat screen's bases (then
:class:`~inferd_tui.ui.screens.chat_attachments.ChatAttachments` and
:class:`~inferd_tui.ui.screens.chat_reports.ChatReports`, then
:class:`~inferd_tui.ui.screens.chat.ChatScreen` itself). It holds what happens around the
other screens — the system prompt, the grammar workbench, the conversation list, prompt
history search, presets, a tool call's result and sending a grammar that does not check —
and the rule for leaving a conversation while an answer is coming (ask, stop it, then
leave). It also names the chat screen's widgets and its host app, which every layer uses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from textual.screen import Screen

from inferd_tui.conversation import Conversation
from inferd_tui.proto import SamplingParams
from inferd_tui.request_options import RequestOptions, is_unconstrained
from inferd_tui.ui.widgets.admin_panel import AdminPanel
from inferd_tui.ui.widgets.prompt import PromptInput
from inferd_tui.ui.widgets.sampling_sidebar import SamplingSidebar
from inferd_tui.ui.widgets.status_bar import DaemonStatusBar
from inferd_tui.ui.widgets.transcript import TranscriptView

if TYPE_CHECKING:
    from inferd_tui.session import ChatSession
    from inferd_tui.store import Preset
    from inferd_tui.ui.screens.tool_result import ToolAnswered
    from inferd_tui.ui.shared import AppConfig, ChatHost


class ChatDialogs(Screen[None]):
    config: AppConfig

    @property
    def session(self) -> ChatSession:
        """The conversation and its generation flow (:class:`ChatReports` makes it)."""
        raise NotImplementedError

    @property
    def conversation(self) -> Conversation:
        return self.session.conversation

    @conversation.setter
    def conversation(self, conversation: Conversation) -> None:
        self.session.conversation = conversation

    def _update_preview(self) -> None:
        """Show the line the next send would write (the chat screen renders it)."""
        raise NotImplementedError

    def sidebar_options(self) -> RequestOptions | None:
        """What the sidebar sets for the next request (only the fields this daemon takes),
        or None while one of them is invalid."""
        return self.sidebar.to_options()

    def load_sidebar(self, options: RequestOptions) -> None:
        self.sidebar.load_options(options)

    @property
    def host(self) -> ChatHost:
        """The app, as far as the chat screen needs it."""
        return cast("ChatHost", self.app)

    # --- widgets ----------------------------------------------------------------------

    @property
    def transcript(self) -> TranscriptView:
        return self.query_one("#transcript", TranscriptView)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one("#prompt", PromptInput)

    @property
    def sidebar(self) -> SamplingSidebar:
        return self.query_one("#sidebar", SamplingSidebar)

    @property
    def admin_panel(self) -> AdminPanel:
        return self.query_one("#admin", AdminPanel)

    @property
    def status_bar(self) -> DaemonStatusBar:
        return self.query_one("#status", DaemonStatusBar)

    # --- leaving this conversation ----------------------------------------------------

    def action_new_conversation(self) -> None:
        def start() -> None:
            self._start_new_conversation()
            self.notify("New conversation.", timeout=2)

        self._after_stopping_the_answer(start)

    def _after_stopping_the_answer(self, then: Callable[[], None]) -> None:
        """Run ``then``, which leaves this conversation; ask first if an answer is coming."""
        if self.session.live is None:
            then()
            return
        from inferd_tui.ui.screens.dialogs import ConfirmDialog

        def answered(stop: bool | None) -> None:
            if stop:
                self._stop_answer_then(then)

        self.app.push_screen(
            ConfirmDialog(
                "An answer is still coming. Stop it and leave this conversation?",
                ["The partial answer stays in this conversation, marked cancelled."],
                confirm_label="Stop and leave",
            ),
            answered,
        )

    def _stop_answer_then(self, then: Callable[[], None]) -> None:
        """Stop the running answer; ``then`` runs once it is saved as cancelled."""

        def after_the_answer() -> None:
            self.call_later(then)  # from this screen's queue, not the answer's worker

        self.session.stop_answer(after_the_answer)

    def _start_new_conversation(self) -> None:
        self.session.new_conversation()
        self.prompt.focus()
        self._update_preview()

    def load_conversation(self, conversation_id: int) -> None:
        """Open a stored conversation (from the conversation list or a search hit)."""
        options = self.session.open(conversation_id)
        with contextlib.suppress(ValueError):
            self.load_sidebar(options)
        self.transcript.action_follow()
        self._update_preview()

    def action_edit_system_prompt(self) -> None:
        from inferd_tui.ui.screens.system_prompt import SystemPromptScreen

        def done(text: str | None) -> None:
            if text is None:
                return
            self.session.set_system_prompt(text)
            # The sidebar's settings, as shown: session.options is only what the last send used.
            self.session.save_settings(self.sidebar_options() or self.session.options)
            self._update_preview()
            self.notify(
                "System prompt set." if text.strip() else "System prompt cleared.", timeout=2
            )

        self.app.push_screen(SystemPromptScreen(self.conversation.system_prompt), done)

    def action_grammar(self) -> None:
        from inferd_tui.ui.screens.grammar_screen import GrammarScreen

        def done(grammar: str | None) -> None:
            if grammar is not None:
                # Like a user edit: undoable, checked, and saved with the conversation.
                self.sidebar.set_grammar(grammar)
                self._update_preview()

        sidebar = self.sidebar
        workbench = GrammarScreen(
            sidebar.grammar_source,
            schema=sidebar.schema_source,
            on_schema=sidebar.set_schema,
            mode="schema" if sidebar.offers["response_schema"].enabled else "gbnf",
        )
        self.app.push_screen(workbench, done)

    def action_conversations(self) -> None:
        from inferd_tui.ui.screens.conversations import ConversationsScreen

        screen = ConversationsScreen(self.config.store)

        def done(conversation_id: int | None) -> None:
            def open_it() -> None:
                if conversation_id is None:
                    return
                if conversation_id != self.conversation.store_id:
                    self.load_conversation(conversation_id)
                position = screen.opened_turn_position
                if position is not None:  # opened from a search hit: show that turn
                    self._select_stored_position(position)

            if self.session.was_deleted():
                self._stop_answer_then(lambda: self._replace_deleted_conversation(open_it))
            elif conversation_id is None or conversation_id == self.conversation.store_id:
                open_it()  # this conversation: nothing to leave
            else:
                self._after_stopping_the_answer(open_it)

        self.app.push_screen(screen, done)

    def _replace_deleted_conversation(self, then: Callable[[], None]) -> None:
        """The conversation on screen was deleted from the list: start a new one, so that
        what comes next is saved (saving into the deleted one would fail silently)."""
        self._start_new_conversation()
        self.notify("The open conversation was deleted; this is a new one.", timeout=5)
        then()

    def _select_stored_position(self, position: int) -> None:
        turn = self.session.turn_at_stored_position(position)
        if turn is not None:
            # Shown selected, but typing still goes to the prompt (Ctrl+T acts on it).
            self.transcript.select_turn(turn)
            self.prompt.focus()

    def action_history_search(self) -> None:
        from inferd_tui.ui.screens.history_search import HistorySearchScreen

        def done(text: str | None) -> None:
            if text is not None:
                self.prompt.set_prompt(text)
            self.prompt.focus()

        self.app.push_screen(
            HistorySearchScreen(self.config.store, self.prompt.prompt_history), done
        )

    def action_presets(self) -> None:
        from inferd_tui.ui.screens.presets import PresetDraft, PresetsScreen

        current = PresetDraft(
            (self.sidebar.to_params() or SamplingParams()).wire_fields(),
            self.sidebar.grammar,
            self.conversation.system_prompt,
        )

        def done(preset: Preset | None) -> None:
            if preset is None:
                return
            try:
                params = SamplingParams(**preset.params)
            except ValueError as exc:
                self.notify(f"Preset {preset.name!r} has invalid values: {exc}", severity="error")
                return
            # A preset holds sampling fields and a grammar; the other options stay as set.
            shown = self.sidebar_options() or self.session.options
            options = shown.model_copy(update={"sampling": params, "grammar": preset.grammar})
            self.sidebar.load(params, preset.grammar)
            self.session.set_system_prompt(preset.system_prompt)
            self.session.save_settings(options)
            self._update_preview()
            self.notify(f"Applied preset {preset.name!r}.", timeout=3)

        self.app.push_screen(PresetsScreen(self.config.store, current), done)

    # --- before sending ---------------------------------------------------------------

    def confirm_grammar_then(self, grammar: str, send: Callable[[], None]) -> None:
        """``send``, at once unless ``grammar`` does not check: then only if the user
        says to send it anyway."""
        if not is_unconstrained(grammar):
            from inferd_tui.grammar import check

            result = check(grammar)
            if not result.ok:
                from inferd_tui.ui.screens.confirm_invalid_grammar import ConfirmInvalidGrammar

                def confirmed(send_anyway: bool | None) -> None:
                    if send_anyway:
                        send()

                self.app.push_screen(ConfirmInvalidGrammar(grammar, result), confirmed)
                return
        send()

    # --- tool calls -------------------------------------------------------------------

    def action_answer_tool_call(self, text: str = "") -> None:
        """Ask for the result of the last answer's first call still waiting for one
        (``text``: what was typed for it before, shown again)."""
        if self.session.busy:
            self.notify("An answer is still coming; Esc stops it.", severity="warning")
            return
        calls = self.conversation.open_tool_calls()
        if not calls:
            self.notify("The last answer has no tool call waiting for a result.", timeout=3)
            return
        if not text and self.sidebar_options() is None:
            # Before the dialog, not after: a result typed there could not be sent.
            self.notify("Fix the highlighted sampling fields first.", severity="error")
            return
        from inferd_tui.ui.screens.tool_result import ToolResultScreen

        answer = next(t for t in reversed(self.conversation.turns) if t.role == "assistant")
        call = calls[0]
        position = answer.tool_calls.index(call) + 1

        def closed(answered: ToolAnswered | None) -> None:
            if answered is not None:
                # Once the dialog is gone: the next open call may open another one.
                self.call_later(self._answer_tool_call, answered.tool_call_id, answered.text)

        dialog = ToolResultScreen(call, position, len(answer.tool_calls), text=text)
        self.app.push_screen(dialog, closed)

    def _answer_tool_call(self, tool_call_id: str, text: str) -> None:
        """Send ``text`` as the call's result; the session asks for the next answer once
        every call of the answer has one, so the next open call is asked for at once."""
        options = self.sidebar_options()
        if options is None:
            self.notify(
                "Fix the highlighted sampling fields first; the result you typed is kept.",
                severity="error",
            )
            self.action_answer_tool_call(text)  # the dialog again, with the text in it
            return
        self.session.answer_tool_call(tool_call_id, text, options)
        self._update_preview()
        if not self.session.busy and self.conversation.open_tool_calls():
            self.action_answer_tool_call()
