"""The Textual application: owns the daemon connection state; screens own conversations.

The app runs three long-lived workers (async, on Textual's own loop, never threads):
the in-process stand-in daemon for ``--demo``, the admin-socket watcher (Pattern B), and
the inference connector (Pattern A, restarted whenever the daemon announces ``ready``).
Everything they learn is folded into one reactive :class:`DaemonState`.

The connector first chooses the wire (:func:`~inferd_tui.client.wire.choose_wire`: v1,
v2 NDJSON or the 0.4+ length-prefixed wire), again on every ``ready``: a daemon may have
been replaced by another release. A new choice means a new :class:`Client`, handed to
every screen (``on_client_changed``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import anyio
from textual import work
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer

from inferd_tui.daemon_state import DaemonState
from inferd_tui.proto.models import AdminEvent, AdminStatus  # loaded with DaemonState anyway
from inferd_tui.text_safety import sanitize
from inferd_tui.ui import collector
from inferd_tui.ui.bindings import bindings_for
from inferd_tui.ui.shared import AdminItem, AppConfig

if TYPE_CHECKING:
    # Imported where used: the client, the wire's models and the admin watcher are needed
    # only once the workers start, after the first frame.
    from inferd_tui.client import AdminNotice, Client, RetryNotice
    from inferd_tui.client.wire import WireChoice

# AppConfig and AdminItem live in ui.shared (screens import them from there); callers
# that build the app keep importing them from here.
__all__ = ["AdminItem", "AppConfig", "InferdApp"]

#: Seconds after mounting when the app stops waiting for its first frame to be reported.
FIRST_FRAME_FALLBACK_S = 2.0


class InferdApp(App[None]):
    TITLE = "inferd-tui"
    CSS_PATH = "app.tcss"

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("app")
    #: The chat screen is the base of the app's one screen stack: it is composed while
    #: the app mounts, so the first frame drawn is the chat screen, and it cannot be
    #: popped (dialogs go over it).
    DEFAULT_MODE: ClassVar[str] = "chat"

    daemon_state: reactive[DaemonState] = reactive(DaemonState, always_update=True)

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        self._client: Client | None = None
        #: Set once the first frame is on the terminal (``_after_first_frame``); screens
        #: mounted later do their deferred work at once.
        self.first_frame_shown = False
        self._first_frame_fallback: Timer | None = None
        # Made on first use, after the first frame (anyio picks its backend then).
        self._demo_event: anyio.Event | None = None
        if config.theme:
            with contextlib.suppress(Exception):
                self.theme = config.theme
        if config.keymap:
            self.set_keymap(config.keymap)
        self.add_mode(self.DEFAULT_MODE, self._chat_screen)

    # --- lifecycle --------------------------------------------------------------------

    def _chat_screen(self) -> Screen[None]:
        from inferd_tui.ui.screens.chat import ChatScreen

        return ChatScreen(self.config)

    def on_mount(self) -> None:
        # Should Ready never come (Textual posts it only after laying out a screen of
        # some size), the app must still connect and fill its panels.
        self._first_frame_fallback = self.set_timer(FIRST_FRAME_FALLBACK_S, self._after_first_frame)

    def on_ready(self) -> None:
        # Textual posts Ready after its first layout, whose frame may still wait for the
        # start-up batch to end (it is then written by a callback queued on the screen,
        # in no fixed order with Ready): one refresh more and it is on the terminal.
        # (Before Ready, ``call_after_refresh`` callbacks can run before anything is
        # drawn.)
        if self._first_frame_fallback is not None:
            self._first_frame_fallback.stop()  # a slow first layout is no reason
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        """The first usable frame is on the terminal: what it does not show loads now."""
        if self.first_frame_shown:
            return
        self.first_frame_shown = True
        collector.resume()
        for screen in self.screen_stack:
            handler = getattr(screen, "after_first_frame", None)
            if handler is not None:
                handler()
        if self.config.autostart:
            # Not before: importing and starting the stand-in daemon, anyio's backend and
            # the first connection attempts would delay the first frame.
            self._start_workers()

    def _start_workers(self) -> None:
        if self.config.demo is not None:
            self._run_demo_daemon()
        else:
            self._demo_started().set()
        self._watch_admin()
        self._connect_inference()

    def _demo_started(self) -> anyio.Event:
        """Set once the stand-in daemon listens (at once without ``--demo``)."""
        if self._demo_event is None:
            self._demo_event = anyio.Event()
        return self._demo_event

    @property
    def client(self) -> Client:
        """The client of the wire in use: made on first use (after the first frame), and
        replaced when the daemon turns out to speak another wire (``_use_wire``)."""
        if self._client is None:
            from inferd_tui.client import Client

            self._client = Client.from_resolution(self.config.resolution)
        return self._client

    @client.setter
    def client(self, client: Client) -> None:
        self._client = client

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    @work(group="demo", exclusive=True, exit_on_error=False)
    async def _run_demo_daemon(self) -> None:
        from inferd_tui.mock_daemon import MockDaemon

        assert self.config.demo is not None
        try:
            async with MockDaemon.start(self.config.demo):
                self._demo_started().set()
                await anyio.sleep_forever()
        except Exception as exc:  # the demo must explain itself, not crash the app
            self._demo_started().set()
            self.notify(f"The demo daemon stopped: {exc}", severity="error", timeout=10)

    # --- admin (Pattern B) ------------------------------------------------------------

    @work(group="admin", exclusive=True, exit_on_error=False)
    async def _watch_admin(self) -> None:
        from inferd_tui.client import AdminNotice, watch_admin

        await self._demo_started().wait()
        admin_path = self.config.resolution.admin
        if admin_path is None:
            notice = AdminNotice("unavailable", "no admin socket configured")
            self.fold_admin_notice(notice)
            return
        async with contextlib.aclosing(watch_admin(Path(admin_path))) as items:
            async for item in items:
                if isinstance(item, AdminEvent):
                    self.fold_admin_event(item)
                else:
                    self.fold_admin_notice(item)

    def _now(self) -> float:
        return self.config.clock()

    def fold_admin_event(self, event: AdminEvent) -> None:
        previous = self.daemon_state
        state = previous.with_admin_event(event, self._now())
        self.daemon_state = state
        self.post_to_screens(AdminItem(event, None, self.config.wall_clock(), state, previous))
        if event.status == AdminStatus.READY and previous.kind != "ready":
            self._connect_inference()
        elif event.status in {
            AdminStatus.RESTARTING,
            AdminStatus.DRAINING,
            AdminStatus.STARTING,
        }:
            self._drop_inference()

    def fold_admin_notice(self, notice: AdminNotice) -> None:
        previous = self.daemon_state
        state = previous.with_admin_notice(notice, self._now())
        self.daemon_state = state
        self.post_to_screens(AdminItem(None, notice, self.config.wall_clock(), state, previous))
        if notice.kind == "disconnected":
            self._drop_inference()

    def post_to_screens(self, item: AdminItem) -> None:
        for screen in self.screen_stack:
            handler = getattr(screen, "on_admin_item", None)
            if handler is not None:
                handler(item)

    # --- inference (Pattern A) --------------------------------------------------------

    @property
    def inference_ready(self) -> bool:
        return self.daemon_state.accepts_requests

    @work(group="inference", exclusive=True, exit_on_error=False)
    async def _connect_inference(self) -> None:
        from inferd_tui.client.wire import choose_wire
        from inferd_tui.proto import IncompatibleDaemon, InferdError

        await self._demo_started().wait()
        try:
            choice = await choose_wire(
                self.config.resolution,
                wire=self.config.wire,
                release=self.config.daemon_release,
            )
        except IncompatibleDaemon as exc:  # --wire v1 on a 0.4+ daemon, or v2 on a 0.1
            self.daemon_state = self.daemon_state.with_wire_problem(
                self.client.address, exc.hint, self._now()
            )
            self.notify(exc.hint, title=exc.title, severity="error", timeout=15)
            return
        await self._use_wire(choice)
        address = self.client.address

        def on_retry(notice: RetryNotice) -> None:
            self.daemon_state = self.daemon_state.with_inference_retry(
                address, notice.delay_s, notice.error.hint, self._now()
            )

        try:
            await self.client.wait_ready(timeout=math.inf, on_retry=on_retry)
        except InferdError as exc:
            self.daemon_state = self.daemon_state.with_inference_lost(
                address, exc.hint, self._now()
            )
            return
        self.daemon_state = self.daemon_state.with_inference_connected(address, self._now())

    async def _use_wire(self, choice: WireChoice) -> None:
        """Speak ``choice``'s wire from now on: a new client when it differs from the one in
        use (the old one's idle connection is closed), handed to every screen."""
        from inferd_tui.client import Client

        self.daemon_state = self.daemon_state.with_wire(
            choice.wire, choice.eras.describe(), self._now()
        )
        current = self.client
        if current.endpoint == choice.endpoint and current.profile == choice.profile:
            return
        self.client = Client.from_resolution(self.config.resolution, choice=choice)
        self.client.wire_choice = choice
        for screen in self.screen_stack:
            handler = getattr(screen, "on_client_changed", None)
            if handler is not None:
                handler(self.client)
        await current.aclose()

    def _drop_inference(self) -> None:
        """The daemon is going away or reloading: forget the idle connection."""
        self.daemon_state = self.daemon_state.with_inference_lost(
            self.client.address, "daemon not serving", self._now()
        )
        self._close_client()

    @work(group="inference-close", exit_on_error=False)
    async def _close_client(self) -> None:
        await self.client.aclose()

    def inference_failed(self, reason: str) -> None:
        """A generation could not reach the daemon: show it and start waiting again."""
        self.daemon_state = self.daemon_state.with_inference_lost(
            self.client.address, reason, self._now()
        )
        self._connect_inference()

    # --- notifications ------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text: many carry a model's code-fence label, a
        preset or file name, or a daemon's message, which must never be read as markup
        (``[/]`` would crash the toast). ``markup`` is accepted and ignored."""
        super().notify(
            sanitize(message),
            title=sanitize(title, keep_newlines=False),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # --- commands and help ------------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands = getattr(screen, "palette_commands", None)
        if commands is not None:
            yield from commands()

    def action_help(self) -> None:
        from inferd_tui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
