"""The main screen: transcript, prompt, sampling sidebar and admin-events panel.

Attributes down, messages up: the screen calls methods on its widgets and folds their
messages into one :class:`Conversation`; the generation worker lives here, with the
widgets it drives.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import anyio
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from inferd_tui.client import IncompatibleDaemon
from inferd_tui.conversation import Conversation, Turn, TurnState, code_blocks
from inferd_tui.persistence import ConversationSaver
from inferd_tui.proto import (
    AuthRejected,
    ConnectError,
    DaemonError,
    InferdError,
    InvalidRequest,
    ProtocolError,
    SamplingParams,
    UnexpectedEof,
    encode_request,
)
from inferd_tui.text_safety import for_clipboard
from inferd_tui.ui.bindings import key_display
from inferd_tui.ui.widgets.admin_panel import AdminPanel
from inferd_tui.ui.widgets.prompt import PromptInput
from inferd_tui.ui.widgets.sampling_sidebar import SamplingSidebar
from inferd_tui.ui.widgets.status_bar import EXTRA_SEPARATOR, DaemonStatusBar
from inferd_tui.ui.widgets.transcript import TranscriptView

if TYPE_CHECKING:
    from inferd_tui.ui.app import AdminItem, AppConfig, InferdApp

FLUSH_INTERVAL_S = 0.1
PREVIEW_DEBOUNCE_S = 0.15
QUEUE_FULL_RETRIES = 5
#: An answer longer than this is not matched against its grammar in the UI thread.
GRAMMAR_MATCH_LIMIT = 50_000


INVALID_FIELDS_PREVIEW = "Nothing can be sent until the highlighted sampling fields are fixed."


class ChatScreen(Screen[None]):
    # The footer shows the few keys needed to chat (it must fit 80 columns); every
    # binding is on the F1 screen and every action in the command palette.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("f5", "regenerate", "Regenerate", id="regenerate"),
        Binding("ctrl+n", "new_conversation", "New chat", id="new-conversation", show=False),
        Binding("f4", "edit_system_prompt", "System prompt", id="system-prompt", show=False),
        Binding("ctrl+g", "grammar", "Grammar", id="grammar"),
        Binding("f2", "toggle_sidebar", "Sidebar", id="toggle-sidebar", show=False),
        Binding("f3", "toggle_admin", "Events", id="toggle-admin", show=False),
        Binding("ctrl+o", "focus_admin", "Focus events", id="focus-admin", show=False),
        Binding("ctrl+t", "focus_transcript", "Select turns", id="focus-transcript", show=False),
        # Not Ctrl+Y, F6 or F7: the prompt box uses them (redo, select line, select all).
        Binding("f9", "copy_answer", "Copy answer", id="copy-answer", show=False),
        Binding("ctrl+end", "follow", "Follow", id="follow", show=False),
        Binding("ctrl+l", "conversations", "Chats", id="conversations", show=False),
        Binding("ctrl+r", "history_search", "Search prompts", id="history-search", show=False),
        Binding("f8", "presets", "Presets", id="presets", show=False),
    ]

    DEFAULT_CSS = """
    ChatScreen { layout: vertical; }
    #body { height: 1fr; }
    #main { width: 1fr; }
    #transcript { height: 1fr; }
    #new-text {
        display: none; height: 1; background: $accent 30%; color: $text; text-align: center;
    }
    #new-text.visible { display: block; }
    #banner { display: none; height: auto; padding: 0 1; background: $warning 20%; }
    #banner.visible { display: block; }
    #sidebar { width: 44; border-left: vkey $panel-lighten-2; }
    #admin { height: 11; border-top: hkey $panel-lighten-2; }
    ChatScreen.-hide-sidebar #sidebar { display: none; }
    ChatScreen.-hide-admin #admin { display: none; }
    """

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        self.conversation = Conversation(system_prompt=config.system_prompt)
        self.saver = ConversationSaver(config.store)
        self._live: Turn | None = None
        self._queued: Turn | None = None
        self._editing: Turn | None = None
        #: What to do once the running answer has stopped (leaving the conversation).
        self._after_answer: Callable[[], None] | None = None
        self._flush_pending = False
        self._params = SamplingParams()
        self._grammar = ""
        self._layout_overridden: set[str] = set()
        self._preview_timer: Timer | None = None
        self._reported_store_problem: str | None = None

    @property
    def inferd_app(self) -> InferdApp:
        from inferd_tui.ui.app import InferdApp

        assert isinstance(self.app, InferdApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield DaemonStatusBar(id="status")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield TranscriptView(id="transcript")
                yield Static(id="new-text")
                yield Static(id="banner")
                yield PromptInput(id="prompt")
            yield SamplingSidebar(id="sidebar")
        yield AdminPanel(id="admin", tail_limit=self.config.admin_tail_limit)
        yield Footer()

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

    def on_mount(self) -> None:
        self.watch(self.app, "daemon_state", self._on_daemon_state)
        self.watch(self.app, "theme", self._on_theme)
        self.prompt.prompt_history = self._load_history()
        with contextlib.suppress(ValueError):
            self.sidebar.load(SamplingParams(**self.config.sampling), "")
        if self.config.initial_prompt:
            self.prompt.set_prompt(self.config.initial_prompt)
        if self.config.demo is not None:
            self.transcript.empty_state = (
                *TranscriptView.EMPTY_STATE,
                "",
                "This is the built-in stand-in daemon (--demo). Ask anything for a streamed",
                'Markdown answer; put "crash" in a prompt to see the daemon die mid-answer,',
                '"busy" to see queue_full retried with a countdown.',
            )
        self.prompt.focus()
        self._update_extra()
        self._update_preview()
        self._apply_responsive_layout()

    def on_key(self, event: events.Key) -> None:
        # Keys typed while the app starts are sent to the screen before the prompt has
        # focus, and arrive here unhandled: keep them. (A key the prompt saw never
        # arrives: it stops every character it inserts.)
        if self.focused not in (None, self.prompt) or "+" in event.key.replace("plus", ""):
            return  # another widget's key, or a modified one (alt+x): not type-ahead
        if event.is_printable and event.character:
            event.stop()
            self.prompt.focus()
            self.prompt.insert(event.character)

    def _on_theme(self) -> None:
        self.transcript.set_code_theme(self.app.current_theme.dark)

    def _load_history(self) -> list[str]:
        with contextlib.suppress(Exception):
            return list(reversed(self.config.store.prompt_history(500)))
        return []

    def on_resize(self) -> None:
        self._apply_responsive_layout()

    def _apply_responsive_layout(self) -> None:
        """Small terminals get the conversation; F2/F3 bring the panels back."""
        width, height = self.app.size
        if "sidebar" not in self._layout_overridden:
            self.set_class(width < 110, "-hide-sidebar")
        if "admin" not in self._layout_overridden:
            self.set_class(height < 30, "-hide-admin")

    def _update_extra(self) -> None:
        parts = [self.inferd_app.client.address]
        problem = self.saver.problem or self.config.store_problem
        if problem and problem != self._reported_store_problem:
            # Said once, when it happens: the conversation is kept in memory meanwhile.
            self._reported_store_problem = problem
            self.notify(
                f"Not saving: {problem}. This session stays in memory; nothing is lost "
                "while the app runs.",
                severity="warning",
                timeout=12,
            )
        if problem:
            parts.append("not saving")
        elif self.config.store.path is None:
            parts.append("not saving (--no-save)")
        self.status_bar.set_extra(EXTRA_SEPARATOR.join(parts))

    # --- daemon state -----------------------------------------------------------------

    def _on_daemon_state(self) -> None:
        state = self.inferd_app.daemon_state
        self.status_bar.update_state(state)
        if self._queued is not None and self.inferd_app.inference_ready and self._live is None:
            self._send_queued()

    def on_admin_item(self, item: AdminItem) -> None:
        if item.event is not None:
            self.admin_panel.add_event(item.event, received_at=item.received_at, state=item.state)
        elif item.notice is not None:
            self.admin_panel.add_notice(item.notice, received_at=item.received_at, state=item.state)
        marker = item.state.lifecycle_marker(item.previous)
        if marker and self.conversation.turns:
            turn = self.conversation.add_marker(f"{marker} · {item.received_at:%H:%M:%S}")
            self.saver.save_turn(self.conversation, turn)
            self.transcript.sync(self.conversation.turns)

    # --- sending ----------------------------------------------------------------------

    @on(PromptInput.Submitted)
    def _on_submitted(self, message: PromptInput.Submitted) -> None:
        if self._live is not None or self._queued is not None:
            self.notify(
                "An answer is still coming. Esc stops it; your prompt stays in the box.",
                severity="warning",
                timeout=4,
            )
            return
        params = self.sidebar.to_params()
        if params is None:
            self.notify(
                "Fix the highlighted sampling fields first; your prompt stays in the box.",
                severity="error",
            )
            return
        self._params, self._grammar = params, self.sidebar.grammar
        if self._grammar.strip():
            from inferd_tui.grammar import check

            result = check(self._grammar)
            if not result.ok:
                from inferd_tui.ui.screens.confirm_invalid_grammar import ConfirmInvalidGrammar

                def confirmed(send_anyway: bool | None) -> None:
                    if send_anyway:
                        self._send(message.text)

                self.app.push_screen(ConfirmInvalidGrammar(self._grammar, result), confirmed)
                return
        self._send(message.text)

    def _send(self, text: str) -> None:
        if self._editing is not None:
            index = self.conversation.turns.index(self._editing)
            removed = self.conversation.truncate(index)
            self.saver.truncate(self.conversation, removed)
            self._set_editing(None)
        self.prompt.remember(text)
        with contextlib.suppress(Exception):
            self.config.store.add_prompt(text)
        self.prompt.set_prompt("")
        ready = self.inferd_app.inference_ready
        turn = self.conversation.add_user(
            text, state=TurnState.COMPLETE if ready else TurnState.QUEUED
        )
        self.saver.save_turn(self.conversation, turn)
        # The settings this prompt goes out with, also for a conversation created just now
        # (its settings had nowhere to go before its first turn).
        self.saver.save_settings(self.conversation, self._params.wire_fields(), self._grammar)
        self.transcript.action_follow()
        self.transcript.sync(self.conversation.turns)
        if ready:
            self._generate()
        else:
            self._queued = turn
            self._set_banner(
                "Queued: the daemon is not ready yet. It goes out as soon as it is; "
                "Esc withdraws it."
            )
        self._update_preview()

    def _send_queued(self) -> None:
        turn, self._queued = self._queued, None
        if turn is None:
            return
        turn.state = TurnState.COMPLETE
        turn.touch()
        self._set_banner(None)
        self.transcript.turn_changed(turn)
        self._generate()

    @work(group="generation", exclusive=True, exit_on_error=False)
    async def _generate(self) -> None:
        app = self.inferd_app
        if app.daemon_state.kind == "v2_only":
            self._fail_without_answer("this daemon speaks only protocol v2 (inferd 0.4+)")
            return
        request = self.conversation.to_request(
            self._params, grammar=self._grammar, request_id=app.client.new_request_id()
        )
        clock = self.config.clock
        answer = self.conversation.begin_answer(request, now=clock())
        self._live = answer
        self.saver.save_turn(self.conversation, answer)
        self.transcript.sync(self.conversation.turns)
        attempt = 1
        try:
            while True:
                async with contextlib.aclosing(app.client.generate(request)) as frames:
                    async for frame in frames:
                        self.conversation.apply(answer, frame, now=clock())
                        self._schedule_flush()
                if not (answer.state is TurnState.ERROR and answer.error_code == "queue_full"):
                    break
                if attempt > QUEUE_FULL_RETRIES:
                    self.notify(
                        f"The daemon's queue stayed full after {QUEUE_FULL_RETRIES} retries; "
                        f"{key_display(self.app, 'regenerate')} tries again.",
                        severity="warning",
                        timeout=8,
                    )
                    break
                await self._count_down(answer, attempt)
                attempt += 1
                self._restart_answer(answer, clock())
            if answer.grammar and answer.state is TurnState.COMPLETE:
                self.transcript.turn_changed(answer)  # show the answer before checking it
                await self._check_grammar_match(answer)
        except anyio.get_cancelled_exc_class():
            self.conversation.fail(answer, TurnState.CANCELLED, now=clock())
            raise
        except UnexpectedEof as exc:
            self.conversation.fail(answer, TurnState.INTERRUPTED, now=clock(), message=exc.hint)
        except InvalidRequest as exc:
            self._record_error(answer, "invalid_request", exc.hint)
        except AuthRejected as exc:
            self._record_error(answer, "auth", exc.hint)
        except IncompatibleDaemon as exc:
            self._record_error(answer, "v2_only", exc.hint)
        except ConnectError as exc:
            self._record_error(answer, exc.title, exc.hint)
            app.inference_failed(exc.hint)
        except ProtocolError as exc:
            self._record_error(answer, exc.title, exc.hint)
        except DaemonError as exc:
            self._record_error(answer, exc.code, exc.message)
        except InferdError as exc:
            self._record_error(answer, exc.title, exc.hint)
        except Exception as exc:  # a bug must not leave the turn "streaming" forever
            self._record_error(answer, "internal", f"{type(exc).__name__}: {exc}")
        finally:
            self._finish_answer(answer)

    def _record_error(self, answer: Turn, code: str, message: str) -> None:
        self.conversation.fail(
            answer, TurnState.ERROR, now=self.config.clock(), code=code, message=message
        )

    def _restart_answer(self, answer: Turn, now: float) -> None:
        answer.state = TurnState.STREAMING
        answer.error_code = answer.error_message = None
        answer.content = ""
        answer.started_at, answer.first_token_at, answer.finished_at = now, None, None
        answer.touch()
        self.transcript.set_note(answer, None)

    async def _count_down(self, answer: Turn, attempt: int) -> None:
        """queue_full: wait with a visible countdown (1, 2, 4, 8, 8 s), then retry."""
        delay = min(2 ** (attempt - 1), 8)
        for remaining in range(delay, 0, -1):
            self.transcript.set_note(
                answer,
                f"queue full — retrying in {remaining} s "
                f"(retry {attempt} of {QUEUE_FULL_RETRIES}) · Esc stops",
            )
            await self.config.sleep(1)

    def _fail_without_answer(self, message: str) -> None:
        self.notify(message, severity="error", timeout=8)

    def _finish_answer(self, answer: Turn) -> None:
        self._live = None
        self.transcript.set_note(answer, None)
        self.transcript.turn_changed(answer)
        self.saver.finish(answer)
        if answer.state is TurnState.ERROR and answer.error_code == "invalid_request":
            self.notify(
                "The daemon rejected the request; it was not retried. Fix it and press "
                f"{key_display(self.app, 'regenerate')}.",
                severity="error",
                timeout=6,
            )
        if answer.failed and answer.state is not TurnState.CANCELLED and not self.prompt.text:
            # Put the prompt back so it can be fixed and resent (Enter replaces that turn).
            index = self.conversation.last_user_index()
            if index is not None:
                user_turn = self.conversation.turns[index]
                self.prompt.set_prompt(user_turn.content)
                self._set_editing(user_turn)
        self._update_extra()
        self._update_preview()  # the finished answer is now part of the next request
        if self._after_answer is not None:  # the user left this conversation mid-answer
            then, self._after_answer = self._after_answer, None
            self.call_later(then)

    async def _check_grammar_match(self, answer: Turn) -> None:
        """✓/✗ under a constrained answer. Matching is CPU work (tens of ms per KB), so it
        runs in a worker thread and the screen stays responsive."""
        if len(answer.content) > GRAMMAR_MATCH_LIMIT:
            return
        from inferd_tui.grammar import GrammarError, MatchResult, check, match

        def run() -> MatchResult | None:
            result = check(answer.grammar)
            if result.grammar is None or not result.ok:
                return None
            try:
                return match(result.grammar, answer.content)
            except GrammarError:  # e.g. <token> forms cannot be matched locally
                return None

        outcome = await anyio.to_thread.run_sync(run)
        if outcome is None:
            return
        answer.grammar_match = outcome.ok
        answer.grammar_match_offset = None if outcome.ok else outcome.offset
        answer.touch()

    def _schedule_flush(self) -> None:
        live = self._live
        if live is not None and live.state is not TurnState.STREAMING:
            self._flush()  # the terminal frame: settle the screen at once
            return
        if not self._flush_pending:
            self._flush_pending = True
            self.set_timer(FLUSH_INTERVAL_S, self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        live = self._live
        if live is not None:
            self.transcript.turn_changed(live)
            self.saver.checkpoint(live)

    # --- cancelling and editing -------------------------------------------------------

    def action_cancel(self) -> None:
        if self._live is not None:
            self.workers.cancel_group(self, "generation")
            return
        if self._queued is not None:
            turn, self._queued = self._queued, None
            removed = self.conversation.truncate(self.conversation.turns.index(turn))
            self.saver.truncate(self.conversation, removed)
            self.transcript.sync(self.conversation.turns)
            self._set_banner(None)
            if not self.prompt.text:
                self.prompt.set_prompt(turn.content)
            self.notify("Withdrawn: the prompt is back in the box.", timeout=3)
            return
        if self._editing is not None:
            self._set_editing(None)
            self.notify("Edit cancelled.", timeout=2)
            return
        if self.focused is not self.prompt:
            self.prompt.focus()

    def _set_editing(self, turn: Turn | None) -> None:
        self._editing = turn
        self._update_preview()
        if turn is None:
            self._set_banner(None)
        else:
            index = self.conversation.turns.index(turn) + 1
            self._set_banner(
                f"Editing turn #{index}: Enter resends from there "
                "(later turns are replaced) · Esc cancels"
            )

    def _set_banner(self, text: str | None) -> None:
        banner = self.query_one("#banner", Static)
        banner.update(Text(text or ""))
        banner.set_class(bool(text), "visible")

    @on(TranscriptView.EditRequested)
    def _on_edit_requested(self, message: TranscriptView.EditRequested) -> None:
        if self._live is not None:
            self.notify("Wait for the answer or stop it (Esc) before editing.", severity="warning")
            return
        self.prompt.set_prompt(message.turn.content)
        self._set_editing(message.turn)
        self.prompt.focus()

    def action_regenerate(self) -> None:
        if self._live is not None or self._queued is not None:
            self.notify("An answer is still coming; Esc stops it.", severity="warning")
            return
        index = self.conversation.last_user_index()
        if index is None:
            self.notify("Nothing to regenerate yet.", timeout=3)
            return
        params = self.sidebar.to_params()
        if params is None:
            self.notify("Fix the highlighted sampling fields first.", severity="error")
            return
        self._params, self._grammar = params, self.sidebar.grammar
        removed = self.conversation.truncate(index + 1)
        self.saver.truncate(self.conversation, removed)
        self._set_editing(None)
        self.transcript.sync(self.conversation.turns)
        if self.inferd_app.inference_ready:
            self._generate()
        else:
            turn = self.conversation.turns[index]
            turn.state = TurnState.QUEUED
            turn.touch()
            self._queued = turn
            self.transcript.sync(self.conversation.turns)
            self._set_banner("Queued: the daemon is not ready yet. Esc withdraws it.")

    def action_new_conversation(self) -> None:
        def start() -> None:
            self._start_new_conversation()
            self.notify("New conversation.", timeout=2)

        self._after_stopping_the_answer(start)

    def _after_stopping_the_answer(self, then: Callable[[], None]) -> None:
        """Run ``then``, which leaves this conversation; ask first if an answer is coming."""
        if self._live is None:
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
        """Stop the running answer, and run ``then`` once the answer is marked and saved as
        cancelled (the generation worker's cleanup runs after the cancel is delivered)."""
        if self._live is None:
            then()
            return
        self._after_answer = then
        self.workers.cancel_group(self, "generation")

    def _start_new_conversation(self) -> None:
        self._queued = None
        self._set_editing(None)
        self.conversation = Conversation(system_prompt=self.conversation.system_prompt)
        self.transcript.sync(self.conversation.turns)
        self.prompt.focus()
        self._update_preview()

    def load_conversation(self, conversation_id: int) -> None:
        """Open a stored conversation (from the conversation list or a search hit)."""
        self._queued = None
        self._set_editing(None)
        conversation, params, grammar = self.saver.load(conversation_id)
        self.conversation = conversation
        with contextlib.suppress(ValueError):
            self.sidebar.load(SamplingParams(**params), grammar)
        self.transcript.sync(conversation.turns)
        self.transcript.action_follow()
        self._update_preview()

    def action_edit_system_prompt(self) -> None:
        from inferd_tui.ui.screens.system_prompt import SystemPromptScreen

        def done(text: str | None) -> None:
            if text is None:
                return
            self.conversation.system_prompt = text
            # The sidebar's settings, as shown: _params is only what the last send used.
            params = self.sidebar.to_params() or self._params
            self.saver.save_settings(self.conversation, params.wire_fields(), self.sidebar.grammar)
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

        self.app.push_screen(GrammarScreen(self.sidebar.grammar), done)

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

            if self._open_conversation_was_deleted():
                self._stop_answer_then(lambda: self._replace_deleted_conversation(open_it))
            elif conversation_id is None or conversation_id == self.conversation.store_id:
                open_it()  # this conversation: nothing to leave
            else:
                self._after_stopping_the_answer(open_it)

        self.app.push_screen(screen, done)

    def _open_conversation_was_deleted(self) -> bool:
        from inferd_tui.store import NotFound, StoreError

        if self.conversation.store_id is None:
            return False
        try:
            self.config.store.get_conversation(self.conversation.store_id)
        except NotFound:
            return True
        except StoreError:  # a store that fails says so elsewhere; nothing was deleted
            return False
        return False

    def _replace_deleted_conversation(self, then: Callable[[], None]) -> None:
        """The conversation on screen was deleted from the list: start a new one, so that
        what comes next is saved (saving into the deleted one would fail silently)."""
        self._start_new_conversation()
        self.notify("The open conversation was deleted; this is a new one.", timeout=5)
        then()

    def _select_stored_position(self, position: int) -> None:
        stored = {turn.store_id: turn for turn in self.conversation.turns}
        for record in self.config.store.turns(self.conversation.store_id or 0):
            if record.position == position and record.id in stored:
                # Shown selected, but typing still goes to the prompt (Ctrl+T acts on it).
                self.transcript.select_turn(stored[record.id])
                self.prompt.focus()
                return

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
        from inferd_tui.store import Preset
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
            self.sidebar.load(params, preset.grammar)
            self.conversation.system_prompt = preset.system_prompt
            self.saver.save_settings(self.conversation, params.wire_fields(), preset.grammar)
            self._update_preview()
            self.notify(f"Applied preset {preset.name!r}.", timeout=3)

        self.app.push_screen(PresetsScreen(self.config.store, current), done)

    # --- panels, follow, copy ---------------------------------------------------------

    def action_toggle_sidebar(self) -> None:
        self._layout_overridden.add("sidebar")
        self.toggle_class("-hide-sidebar")

    def action_toggle_admin(self) -> None:
        self._layout_overridden.add("admin")
        self.toggle_class("-hide-admin")

    def action_focus_admin(self) -> None:
        """Show the admin panel if hidden and put the focus in its log (f, /, x work there)."""
        self._layout_overridden.add("admin")
        self.remove_class("-hide-admin")
        self.admin_panel.query_one("#admin-log").focus()

    def action_focus_transcript(self) -> None:
        self.transcript.focus()
        if self.transcript.selected is None:  # keep a turn already picked (a search hit)
            self.transcript.action_select_previous()

    def action_follow(self) -> None:
        self.transcript.action_follow()

    def action_copy_answer(self) -> None:
        self.transcript.action_copy_turn()

    @on(TranscriptView.FollowChanged)
    def _on_follow_changed(self, message: TranscriptView.FollowChanged) -> None:
        indicator = self.query_one("#new-text", Static)
        show = not message.following and message.new_text_below
        indicator.update(Text("↓ new text below — End (in the transcript) or Ctrl+End follows"))
        indicator.set_class(show, "visible")

    @on(TranscriptView.CopyRequested)
    def _on_copy_requested(self, message: TranscriptView.CopyRequested) -> None:
        turn = message.turn
        index = self.conversation.turns.index(turn) + 1 if turn in self.conversation.turns else 0
        if message.code_block is None:
            text, dropped = for_clipboard(turn.content)
            self.app.copy_to_clipboard(text)
            self.notify(
                f"Copied turn #{index} ({len(text):,} characters{_dropped(dropped)}).", timeout=3
            )
            return
        blocks = code_blocks(turn.content)
        if not blocks:
            self.notify(f"Turn #{index} has no code blocks.", severity="warning", timeout=3)
            return
        number = message.code_block
        if number > len(blocks):
            count = "1 code block" if len(blocks) == 1 else f"{len(blocks)} code blocks"
            self.notify(f"Turn #{index} has only {count}.", severity="warning", timeout=3)
            return
        block = blocks[number - 1]
        code, dropped = for_clipboard(block.code)
        self.app.copy_to_clipboard(code)
        language = f" {block.language}" if block.language else ""
        self.notify(
            f"Copied{language} code block {number} of turn #{index} "
            f"({len(code.splitlines())} lines{_dropped(dropped)}).",
            timeout=3,
        )

    # --- sidebar and preview ----------------------------------------------------------

    @on(SamplingSidebar.Changed)
    def _on_sampling_changed(self, message: SamplingSidebar.Changed) -> None:
        self._update_preview()
        self.saver.save_settings(self.conversation, message.params.wire_fields(), message.grammar)

    @on(SamplingSidebar.Invalid)
    def _on_sampling_invalid(self) -> None:
        self._update_preview()

    def _update_preview(self) -> None:
        """The exact line the next send will write (the API key never appears in it)."""
        self.sidebar.show_system_prompt(self.conversation.system_prompt)
        params = self.sidebar.to_params()
        if params is None:  # a guess at the line would mislead: nothing can be sent yet
            self.sidebar.show_preview(INVALID_FIELDS_PREVIEW)
            return
        turns = self.conversation.turns
        if self._editing is not None:  # Enter resends from the edited turn, dropping the rest
            turns = turns[: turns.index(self._editing)]
        draft = Conversation(system_prompt=self.conversation.system_prompt, turns=list(turns))
        next_text = self.prompt.text or "…your prompt…"
        draft.add_user(next_text)
        request = draft.to_request(params, grammar=self.sidebar.grammar, request_id="<id>")
        self.sidebar.show_preview(encode_request(request).decode("utf-8").rstrip("\n"))

    @on(PromptInput.Changed)
    def _on_prompt_changed(self) -> None:
        # Debounced: the preview encodes the whole conversation, which can be long.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DEBOUNCE_S, self._update_preview)

    # --- command palette --------------------------------------------------------------

    def palette_commands(self) -> list[SystemCommand]:
        entries = [
            ("Send prompt", "Send what is in the prompt box (Enter)", self.prompt.action_submit),
            (
                "Cancel generation",
                "Stop the answer being written; keeps the partial text (Esc)",
                self.action_cancel,
            ),
            (
                "Regenerate last answer",
                "Ask again from your last prompt (F5)",
                self.action_regenerate,
            ),
            (
                "New conversation",
                "Start over with an empty conversation (Ctrl+N)",
                self.action_new_conversation,
            ),
            (
                "Edit system prompt",
                "Set the system message sent with every request (F4)",
                self.action_edit_system_prompt,
            ),
            (
                "Grammar workbench",
                "Examples, samples, match tests, load/save .gbnf (Ctrl+G)",
                self.action_grammar,
            ),
            (
                "Conversations",
                "Open, rename, delete, search, export or import conversations (Ctrl+L)",
                self.action_conversations,
            ),
            (
                "Toggle sampling sidebar",
                "Show or hide the sampling parameters (F2)",
                self.action_toggle_sidebar,
            ),
            (
                "Toggle admin events",
                "Show or hide the daemon's lifecycle events (F3)",
                self.action_toggle_admin,
            ),
            (
                "Focus admin events",
                "Move into the events log: f follows, / filters, x clears (Ctrl+O)",
                self.action_focus_admin,
            ),
            (
                "Select turns",
                "Move into the transcript to select, copy and edit turns (Ctrl+T)",
                self.action_focus_transcript,
            ),
            (
                "Copy answer",
                "Copy the selected turn, or the last answer (F9)",
                self.action_copy_answer,
            ),
            (
                "Copy first code block",
                "Copy code block 1 of the selected turn or last answer",
                self.transcript.action_copy_code,
            ),
            (
                "Follow new text",
                "Scroll to the end and keep following (Ctrl+End)",
                self.action_follow,
            ),
            ("Help", "All keys and what they do (F1)", self.inferd_app.action_help),
        ]
        return [SystemCommand(title, help_text, callback) for title, help_text, callback in entries]


def _dropped(count: int) -> str:
    """For a copy notice: the control characters a copy left out, if any."""
    if not count:
        return ""
    return f"; {count} control character{'s' * (count != 1)} left out"
