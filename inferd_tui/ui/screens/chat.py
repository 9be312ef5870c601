"""The main screen: transcript, prompt, sampling sidebar and admin-events panel.

Attributes down, messages up: the screen calls methods on its widgets, and hands what
the user asks for to its :class:`~inferd_tui.session.ChatSession`, which owns the
conversation and the generation flow. Its bases hold the rest: what the session reports
(:mod:`~inferd_tui.ui.screens.chat_reports`), attachments
(:mod:`~inferd_tui.ui.screens.chat_attachments`) and the dialogs
(:mod:`~inferd_tui.ui.screens.chat_dialogs`). This module is the layout, the keys, and
what they ask of the session.
"""

from __future__ import annotations

import contextlib
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Static

from inferd_tui.proto import SamplingParams
from inferd_tui.ui.bindings import CHAT_COMMANDS, bindings_for
from inferd_tui.ui.copying import copy_of_turn
from inferd_tui.ui.screens.chat_reports import ChatReports
from inferd_tui.ui.widgets.admin_panel import AdminPanel
from inferd_tui.ui.widgets.attachment_bar import AttachmentBar
from inferd_tui.ui.widgets.key_footer import KeyFooter
from inferd_tui.ui.widgets.prompt import PromptInput
from inferd_tui.ui.widgets.sampling_sidebar import SamplingSidebar
from inferd_tui.ui.widgets.status_bar import DaemonStatusBar
from inferd_tui.ui.widgets.transcript import TranscriptView

if TYPE_CHECKING:
    from inferd_tui.client import Client
    from inferd_tui.request_options import RequestOptions
    from inferd_tui.ui.shared import AdminItem, AppConfig

PREVIEW_DEBOUNCE_S = 0.15

INVALID_FIELDS_PREVIEW = "Nothing can be sent until the highlighted sampling fields are fixed."


class ChatScreen(ChatReports):
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("chat")

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
        self.address = config.resolution.inference.display
        self.thumbnails = {}
        self._deferred_done = False  # after_first_frame has run
        self._layout_overridden: set[str] = set()
        self._preview_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield DaemonStatusBar(id="status")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield TranscriptView(id="transcript")
                yield Static(id="new-text")
                yield Static(id="banner")
                yield AttachmentBar(id="attachments")
                yield PromptInput(id="prompt")
            yield SamplingSidebar(id="sidebar", mount_later=True)
        yield AdminPanel(id="admin", tail_limit=self.config.admin_tail_limit, mount_later=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.watch(self.app, "daemon_state", self._on_daemon_state)
        self.watch(self.app, "theme", self._on_theme)
        if self.config.initial_prompt:
            self.prompt.set_prompt(self.config.initial_prompt)
        if self.config.demo is not None:
            from inferd_tui.mock_daemon.demo_hints import demo_hints

            # What to try on the release the demo plays (thinking, a tool, a schema; or a
            # grammar on a v1 daemon).
            self.transcript.empty_state = (
                *TranscriptView.EMPTY_STATE,
                "",
                *demo_hints(self.config.demo.era),
            )
        # Now, not later: a prompt sent before the first frame goes out with these.
        with contextlib.suppress(ValueError):
            self.sidebar.load(SamplingParams(**self.config.sampling), "")
        self.prompt.focus()
        # This screen is first rendered inside Textual's start-up batch, which writes
        # nothing to the terminal, and the prompt is not drawn again until something
        # changes it: a frame later than the rest. Drawn again after that render, the
        # prompt is in the first frame the terminal gets.
        self.call_after_refresh(self.prompt.refresh)
        self._update_extra()
        self._apply_responsive_layout()
        if self.host.first_frame_shown:
            self.call_later(self.after_first_frame)

    def after_first_frame(self) -> None:
        """The app calls this once the first frame is on the terminal: the side panels'
        parts, and what needs the session (prompt history, the sampling defaults, the
        preview), load now. (Pressed before, Up finds no earlier prompt yet.)"""
        if self._deferred_done or not self.is_mounted:
            return  # not mounted yet: on_mount calls this again
        self._deferred_done = True
        self.sidebar.call_later(self.sidebar.mount_fields)
        self.admin_panel.call_later(self.admin_panel.mount_parts)
        self.prompt.prompt_history = self.session.recent_prompts(500)
        self._show_profile()
        self._update_extra()
        self._update_preview()

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

    def on_resize(self) -> None:
        self._apply_responsive_layout()

    def _apply_responsive_layout(self) -> None:
        """Small terminals get the conversation; F2/F3 bring the panels back."""
        width, height = self.app.size
        if "sidebar" not in self._layout_overridden:
            self.set_class(width < 110, "-hide-sidebar")
        if "admin" not in self._layout_overridden:
            self.set_class(height < 30, "-hide-admin")

    # --- daemon state -----------------------------------------------------------------

    def _on_daemon_state(self) -> None:
        self.status_bar.update_state(self.host.daemon_state)
        if self._session is not None:  # none yet: nothing can be queued
            self._session.daemon_changed()

    def on_client_changed(self, client: Client) -> None:
        """The app chose another wire (the daemon is another release): answer through
        ``client`` from now on, and show what this daemon takes."""
        self.session.client = client
        self.address = client.address
        self._show_profile()
        self._update_extra()
        self._update_preview()

    def _show_profile(self) -> None:
        self.sidebar.set_profile(self.session.profile)
        # Chips the daemon cannot take are marked (and said) before anything is sent.
        self.set_daemon_profile(self.session.profile)

    def on_admin_item(self, item: AdminItem) -> None:
        if item.event is not None:
            self.admin_panel.add_event(item.event, received_at=item.received_at, state=item.state)
        elif item.notice is not None:
            self.admin_panel.add_notice(item.notice, received_at=item.received_at, state=item.state)
        marker = item.state.lifecycle_marker(item.previous)
        if marker:
            self.session.add_marker(f"{marker} · {item.received_at:%H:%M:%S}")

    # --- sending, cancelling, editing -------------------------------------------------

    @on(PromptInput.Submitted)
    def _on_submitted(self, message: PromptInput.Submitted) -> None:
        # A prompt that is only the path of an image or audio file: attach it instead?
        if not self.session.busy and self.offer_attach_instead(message.text, then_send=True):
            return
        self.send_text_anyway(message.text)

    def send_text_anyway(self, text: str) -> None:
        if self.session.busy:
            self.notify(
                "An answer is still coming. Esc stops it; your prompt stays in the box.",
                severity="warning",
                timeout=4,
            )
            return
        options = self.sidebar_options()
        if options is None:
            self.notify(
                "Fix the highlighted sampling fields first; your prompt stays in the box.",
                severity="error",
            )
            return
        attachment_problem = self.attachment_send_problem()
        if attachment_problem is not None:
            self.notify(attachment_problem, severity="error", timeout=8)
            return
        self.confirm_grammar_then(options.grammar, partial(self._send, text, options))

    def _send(self, text: str, options: RequestOptions) -> None:
        self.prompt.remember(text)
        self.prompt.set_prompt("")
        self.transcript.action_follow()
        self.session.send(text, options, attachments=self.take_attachments())
        self._update_preview()

    def action_cancel(self) -> None:
        if self.session.busy:
            self.session.cancel()
        elif self.session.editing is not None:
            self.session.stop_editing()
            self.notify("Edit cancelled.", timeout=2)
        elif self.focused is not self.prompt:
            self.prompt.focus()

    @on(TranscriptView.EditRequested)
    def _on_edit_requested(self, message: TranscriptView.EditRequested) -> None:
        if self.session.live is not None:
            self.notify("Wait for the answer or stop it (Esc) before editing.", severity="warning")
            return
        self.prompt.set_prompt(message.turn.content)
        self.restore_attachments(message.turn.attachments)
        self.session.edit(message.turn)
        self.prompt.focus()

    def action_regenerate(self) -> None:
        if self.session.busy:
            self.notify("An answer is still coming; Esc stops it.", severity="warning")
            return
        if not self.session.can_regenerate():
            self.notify("Nothing to regenerate yet.", timeout=3)
            return
        options = self.sidebar_options()
        if options is None:
            self.notify("Fix the highlighted sampling fields first.", severity="error")
            return
        self.session.regenerate(options)

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
        self.admin_panel.focus_log()

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
        turns = self.conversation.turns
        number = turns.index(message.turn) + 1 if message.turn in turns else 0
        copy = copy_of_turn(message.turn, number, message.code_block)
        if copy.text is None:
            self.notify(copy.notice, severity="warning", timeout=3)
            return
        self.app.copy_to_clipboard(copy.text)
        self.notify(copy.notice, timeout=3)

    # --- sidebar and preview ----------------------------------------------------------

    @on(SamplingSidebar.Changed)
    def _on_sampling_changed(self) -> None:
        self._update_preview()
        # Read back from the sidebar: it is the one place that knows every option it sets.
        options = self.sidebar_options()
        if options is not None:
            self.session.save_settings(options)

    @on(SamplingSidebar.Invalid)
    def _on_sampling_invalid(self) -> None:
        self._update_preview()

    def _update_preview(self) -> None:
        """The exact request the next send will write on this daemon's wire (the API key
        never appears in it)."""
        if not self._deferred_done:
            return  # a key typed before the first frame; after_first_frame shows it
        self.sidebar.show_system_prompt(self.conversation.system_prompt)
        options = self.sidebar_options()
        if options is None:  # a guess at the request would mislead: nothing can be sent yet
            self.sidebar.show_preview(INVALID_FIELDS_PREVIEW)
            return
        next_text = self.prompt.text or "…your prompt…"
        self.sidebar.show_preview(
            self.session.next_request_line(
                options, next_text, attachments=self.pending_attachment_refs()
            )
        )

    @on(PromptInput.Changed)
    def _on_prompt_changed(self) -> None:
        # Debounced: the preview encodes the whole conversation, which can be long.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DEBOUNCE_S, self._update_preview)

    # --- thinking ---------------------------------------------------------------------

    def action_toggle_thinking(self) -> None:
        self.transcript.action_toggle_thinking()

    # --- command palette --------------------------------------------------------------

    def palette_commands(self) -> list[SystemCommand]:
        return [
            SystemCommand(command.title, command.help, partial(self.run_action, command.action))
            for command in CHAT_COMMANDS
        ]

    def action_send(self) -> None:
        self.prompt.action_submit()

    def action_copy_code(self) -> None:
        self.transcript.action_copy_code()
