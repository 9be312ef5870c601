"""Types the app and its screens share: the app's configuration, what the admin watcher
saw, and what a chat screen needs of the app it runs in.

Screens import these from here, never from :mod:`inferd_tui.ui.app`, so the app can
import its screens without a circle.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from inferd_tui.store import Store

if TYPE_CHECKING:
    from inferd_tui.client import AdminNotice, Client, EndpointResolution
    from inferd_tui.client.wire import WireSetting
    from inferd_tui.daemon_state import DaemonState
    from inferd_tui.mock_daemon import MockConfig
    from inferd_tui.proto import AdminEvent


@dataclass
class AppConfig:
    """Everything the app needs, built by :mod:`inferd_tui.ui.launch` (or by tests)."""

    resolution: EndpointResolution
    store: Store = field(default_factory=Store.memory)
    store_problem: str | None = None
    demo: MockConfig | None = None
    theme: str = "textual-dark"
    keymap: dict[str, str] = field(default_factory=dict)
    admin_tail_limit: int = 5000
    system_prompt: str = ""
    #: Default sampling fields for new conversations, as on the wire.
    sampling: dict[str, Any] = field(default_factory=dict)
    initial_prompt: str = ""
    #: Images are scaled so their long side is at most this many pixels (0: only to fit
    #: the 64 MiB BLOB cap); the settings' ``max_image_side``.
    max_image_side: int = 2048
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], datetime] = datetime.now
    #: Waits between queue_full retries (tests pass one that does not wait).
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    #: Which wire to speak: "auto" asks the daemon (protocol-v2.md §9); v1 / v2 force one.
    wire: WireSetting = "auto"
    #: The daemon's release when known (``daemon_release``): narrows what it is taken to
    #: accept, as for the headless commands.
    daemon_release: str | None = None
    #: Start the demo daemon, admin watcher and connector on mount. Snapshot tests turn
    #: this off and feed the state in themselves, so every frame is deterministic.
    autostart: bool = True


@dataclass
class AdminItem:
    """One thing the admin watcher saw, with the state before and after it."""

    event: AdminEvent | None
    notice: AdminNotice | None
    received_at: datetime
    state: DaemonState
    previous: DaemonState


class ChatHost(Protocol):
    """What the chat screen needs of the app it runs in (:class:`InferdApp` is one)."""

    @property
    def daemon_state(self) -> DaemonState: ...

    @property
    def client(self) -> Client:
        """The client of the wire in use (replaced when the daemon changes wire)."""
        ...

    @property
    def first_frame_shown(self) -> bool:
        """Whether the first frame has been written (what it need not show loads then)."""
        ...

    def inference_failed(self, reason: str) -> None:
        """A generation could not reach the daemon: show it and start waiting again."""
