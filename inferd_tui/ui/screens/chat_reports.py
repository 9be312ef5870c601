"""The chat screen's session, and what it reports.

:class:`ChatReports` sits between
:class:`~inferd_tui.ui.screens.chat_attachments.ChatAttachments` and
:class:`~inferd_tui.ui.screens.chat.ChatScreen`, its only subclass, which sets
:attr:`ChatReports.address` and renders the request preview (``_update_preview``). It makes
the screen's :class:`~inferd_tui.session.ChatSession`, which owns the conversation and the
generation flow and knows no widgets. The session reports each step as a plain event, and
:meth:`ChatReports._on_session_event` turns each into what the user sees: the transcript,
the banner over the prompt (queued, editing), notes under a turn (a retry's countdown),
notifications, and the status bar's word on saving. Each answer streams in a worker of this
screen, so leaving the screen cancels it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from inferd_tui.conversation import Conversation, Turn, TurnState
from inferd_tui.ui import collector
from inferd_tui.ui.bindings import key_display
from inferd_tui.ui.screens.chat_attachments import ChatAttachments
from inferd_tui.ui.widgets.status_bar import EXTRA_SEPARATOR

if TYPE_CHECKING:
    from inferd_tui.session import ChatSession, SessionEvent

#: A conversation opened with at least this many turns settles the collector (a full
#: collection, tens of milliseconds; not worth it for a short one).
SETTLE_MIN_TURNS = 100


class ChatReports(ChatAttachments):
    """Renders the session's events (see the module docstring)."""

    #: The daemon's address, first in the status bar's extra text.
    address: str

    def __init__(self) -> None:
        super().__init__()
        # Made on first use, just after the first frame: the session, the client and
        # the wire's models are not needed to draw the screen.
        self._session: ChatSession | None = None
        self._shown_conversation: Conversation | None = None
        self._left_settled = False  # whether the conversation shown was settled
        self._reported_store_problem: str | None = None

    @property
    def session(self) -> ChatSession:
        if self._session is None:
            from inferd_tui.attaching import attachment_loader
            from inferd_tui.session import ChatSession

            self._session = ChatSession(
                client=self.host.client,
                daemon_state=lambda: self.host.daemon_state,
                store=self.config.store,
                spawn=self._run_answer,
                on_event=self._on_session_event,
                system_prompt=self.config.system_prompt,
                clock=self.config.clock,
                sleep=self.config.sleep,
                # Attachments go out with the bytes kept in the store, checked against
                # their hash: a regenerate, an edit or a reopened conversation sends the
                # same bytes.
                load_attachment=attachment_loader(self.config.store),
            )
        return self._session

    def _run_answer(self, job: Callable[[], Awaitable[None]]) -> None:
        # A worker of this screen: leaving the screen cancels the answer.
        self.run_worker(job, group="generation", exit_on_error=False)

    @property
    def _live(self) -> Turn | None:
        """The answer being written (tests and benchmarks wait for it to end)."""
        return self.session.live

    def _on_session_event(self, event: SessionEvent) -> None:
        # Imported here, not at the top: the session loads after the first frame.
        from inferd_tui import session as reported

        turns = self.conversation.turns
        match event:
            case reported.TurnsChanged():
                self.transcript.sync(turns)
                self.provide_thumbnails()
                self._settle_if_opened()
            case reported.TurnChanged(turn):
                self.transcript.turn_changed(turn)
            case reported.PromptReleased(turn):
                self._set_banner(None)
                self.transcript.turn_changed(turn)
            case reported.AnswerStreamed(turn):
                self.transcript.turn_streamed(turn)
            case reported.RetryCountdown(turn, seconds_left, retry, retries):
                note = f"queue full — retrying in {seconds_left} s (retry {retry} of {retries})"
                self.transcript.set_note(turn, f"{note} · Esc stops")
            case reported.RetryStarted(turn):
                self.transcript.set_note(turn, None)
            case reported.RetriesExhausted(_, retries):
                self.notify(
                    f"The daemon's queue stayed full after {retries} retries; "
                    f"{key_display(self.app, 'regenerate')} tries again.",
                    severity="warning",
                    timeout=8,
                )
            case reported.AnswerFinished(turn, resend):
                self._show_finished(turn, resend)
            case reported.PromptQueued(_, regenerate):
                self.transcript.sync(turns)
                soon = "" if regenerate else "It goes out as soon as it is; "
                self._set_banner(f"Queued: the daemon is not ready yet. {soon}Esc withdraws it.")
            case reported.PromptWithdrawn(turn):
                self.transcript.sync(turns)
                self._set_banner(None)
                if not self.prompt.text:
                    self.prompt.set_prompt(turn.content)
                    self.restore_attachments(turn.attachments)
                self.notify("Withdrawn: the prompt is back in the box.", timeout=3)
            case reported.EditingChanged(turn):
                self._update_preview()
                self._set_banner(
                    None
                    if turn is None
                    else f"Editing turn #{turns.index(turn) + 1}: Enter resends from there "
                    "(later turns are replaced) · Esc cancels"
                )
            case reported.ConnectionLost(reason):
                self.host.inference_failed(reason)

    def _settle_if_opened(self) -> None:
        """Another conversation is shown: if it is large, settle the collector once it
        is drawn, so answers streamed into it do not pay for walking it (see
        :mod:`inferd_tui.ui.collector`); if the one left was settled, settle again so
        what it leaves behind is collected."""
        conversation = self.conversation
        if conversation is self._shown_conversation:
            return
        self._shown_conversation = conversation
        large = len(conversation.turns) >= SETTLE_MIN_TURNS
        if large or self._left_settled:
            self.call_after_refresh(collector.settle)
        self._left_settled = large

    def _show_finished(self, answer: Turn, resend: Turn | None) -> None:
        from inferd_tui.session import UNSUPPORTED

        self.transcript.set_note(answer, None)
        self.transcript.turn_changed(answer)
        if answer.state is TurnState.ERROR and answer.error_code == UNSUPPORTED:
            self.notify(
                f"Not sent: {answer.error_message or 'this daemon cannot take the request'}",
                severity="error",
                timeout=8,
            )
        elif answer.state is TurnState.ERROR and answer.error_code == "invalid_request":
            self.notify(
                "The daemon rejected the request; it was not retried. Fix it and press "
                f"{key_display(self.app, 'regenerate')}.",
                severity="error",
                timeout=6,
            )
        if resend is not None and not self.prompt.text:
            # Put the prompt back so it can be fixed and resent (Enter replaces that turn).
            self.prompt.set_prompt(resend.content)
            self.restore_attachments(resend.attachments)
            self.session.edit(resend)
        self._update_extra()
        self._update_preview()  # the finished answer is now part of the next request

    def _set_banner(self, text: str | None) -> None:
        banner = self.query_one("#banner", Static)
        banner.update(Text(text or ""))
        banner.set_class(bool(text), "visible")

    def _update_extra(self) -> None:
        """The status bar's extra text: the daemon's address, and whether this session
        is being saved (a problem saving is also said once, when it happens)."""
        parts = [self.address]
        saving_problem = self._session.saving_problem if self._session is not None else None
        problem = saving_problem or self.config.store_problem
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
