"""Configuration of the stand-in daemon (frozen; every knob of protocol §10 and more)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from inferd_tui.proto.eras import ERAS, RELEASE, Era, features

BootScript = Literal["instant", "first-boot"]
BackendName = Literal["mock", "demo"]

__all__ = ["ERAS", "BackendName", "BootScript", "Era", "MockConfig"]

#: The size of the model a first boot "downloads" (a plausible 4-bit gguf).
DEFAULT_DOWNLOAD_BYTES = 5_126_304_928

_LOOPBACK_NAMES = frozenset({"localhost"})
#: Max path length of an AF_UNIX socket (sun_path is 108 bytes including the NUL).
UNIX_PATH_MAX = 107


def check_unix_path(path: Path) -> None:
    """ValueError, with a one-line message, for a path no Unix socket can be bound at."""
    if len(os.fsencode(path)) > UNIX_PATH_MAX:
        raise ValueError(f"socket path is too long for AF_UNIX (max {UNIX_PATH_MAX} bytes): {path}")


def is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True)
class MockConfig:
    """How the stand-in daemon behaves.

    Addresses: if neither ``socket_path`` nor ``tcp`` is given, the daemon serves from a
    private temporary directory (``infer.sock`` and, unless ``admin_path`` is given,
    ``admin.sock``) that it removes on exit. Otherwise ``None`` means "not served".

    - ``tcp``: ``(host, port)`` on loopback only; port 0 picks a free port.
    - ``api_key``: required as the first line on TCP connections (§7); ignored on Unix.
    - ``tokens`` / ``token_delay_s`` / ``error_before_stream`` / ``drop_after``: the mock
      backend's tape and knobs (§10). ``drop_after=N`` streams at most N tokens, then the
      ``backend_unavailable`` frame; it applies to the demo backend as well.
    - ``active_permits`` running + ``queue_depth`` waiting generations, daemon-wide (§6).
    - ``boot``: ``instant`` (the real mock's sequence) or ``first-boot`` (download, verify,
      mmap, kv_cache, each held ``phase_hold_s``; the download lasts ``download_duration_s``).
    - ``bind_delay_s``: gap between publishing ``ready`` and binding the inference socket.
    - ``era``: the release played (protocol-v2.md §1; ``0.5`` is 0.5.1, ``0.6`` is 0.6.2):
      up to 0.3 ``socket_path`` speaks v1 NDJSON, from 0.4 the length-prefixed v2 wire;
      capabilities from 0.2, ``device_name``/``vram_total_bytes`` from 0.3,
      ``wire_version: 1`` from 0.4, ``audio_sample_rate``/``rerank`` from 0.6; TCP up to 0.4.
    - ``v2_ndjson``: also serve v2 NDJSON on ``infer.v2.sock`` beside ``socket_path``
      (the ``--v2`` of 0.2–0.3 daemons; refused in other eras).
    - ``vision``/``audio``/``tools``/``thinking``: what the backend advertises and accepts;
      ``None`` is the backend's default (mock: nothing; demo: everything its era can do).
      ``audio_sample_rate`` is the rate audio attachments must have.
    - ``tape``: the mock backend's v2 answer as response blocks (``thinking``/``text``
      deltas, whole ``tool_use`` calls); empty means one ``text`` block per ``tokens`` entry.
    - ``autoboot``: when False the boot script waits for :meth:`MockDaemon.begin_boot`,
      so a test can subscribe to admin while the state is still ``starting``.
    """

    socket_path: Path | None = None
    admin_path: Path | None = None
    tcp: tuple[str, int] | None = None
    api_key: str | None = field(default=None, repr=False)
    tokens: tuple[str, ...] = ("mock-response",)
    token_delay_s: float = 0.0
    error_before_stream: tuple[str, str] | None = None
    drop_after: int | None = None
    active_permits: int = 1
    queue_depth: int = 10
    boot: BootScript = "instant"
    bind_delay_s: float = 0.0
    backend: BackendName = "mock"
    era: Era = "0.3"
    lag_limit: int = 256
    download_total_bytes: int = DEFAULT_DOWNLOAD_BYTES
    #: When False the download frames carry ``total_bytes: null`` (§8 allows it).
    download_total_known: bool = True
    download_duration_s: float = 3.0
    phase_hold_s: float = 0.3
    #: Demo backend speed (word-sized tokens per second, with a little seeded jitter).
    demo_tokens_per_s: float = 60.0
    n_ctx: int = 8192
    autoboot: bool = True
    #: How long shutdown waits for admin clients to take their last frames before EOF.
    drain_timeout_s: float = 2.0
    # --- eras and the v2 wires (protocol-v2.md) ---
    v2_ndjson: bool = False
    vision: bool | None = None
    audio: bool | None = None
    audio_sample_rate: int = 16_000
    tools: bool | None = None
    thinking: bool | None = None
    tape: tuple[dict[str, Any], ...] = ()
    device_name: str | None = None
    vram_total_bytes: int | None = None
    # --- embed and rerank (protocol-v2 §8; mock_daemon.embed_rerank) -------------------
    #: Serve ``infer.embed.sock`` (0.2+) / ``infer.rerank.sock`` (0.6+) beside the
    #: generation socket, bound and closed with it.
    embed: bool = False
    rerank: bool = False

    def __post_init__(self) -> None:
        for name in ("socket_path", "admin_path"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
            if value is not None:
                check_unix_path(getattr(self, name))
        if self.tcp is not None:
            host, port = self.tcp
            if not is_loopback(host):
                raise ValueError(f"TCP is loopback only; {host!r} is not a loopback address")
            if not 0 <= port <= 65535:
                raise ValueError(f"TCP port {port} is out of range")
        if self.api_key is not None and not self.api_key:
            raise ValueError("api_key must not be empty")
        if self.active_permits < 1:
            raise ValueError("active_permits must be at least 1")
        if self.queue_depth < 0:
            raise ValueError("queue_depth must not be negative")
        if self.lag_limit < 1:
            raise ValueError("lag_limit must be at least 1")
        if self.drop_after is not None and self.drop_after < 0:
            raise ValueError("drop_after must not be negative")
        if self.demo_tokens_per_s <= 0:
            raise ValueError("demo_tokens_per_s must be positive")
        if min(self.token_delay_s, self.bind_delay_s, self.phase_hold_s) < 0:
            raise ValueError("delays must not be negative")
        if self.download_duration_s < 0 or self.download_total_bytes < 0:
            raise ValueError("the download must have a non-negative size and duration")
        self._check_era()

    def _check_era(self) -> None:
        """Refuse what the release played never had, in one line (the CLI's usage error)."""
        if self.era not in ERAS:
            raise ValueError(f"unknown era {self.era!r}; one of {', '.join(ERAS)}")
        era = features(self.era)
        if self.v2_ndjson and not era.v2_ndjson:
            raise ValueError(
                f"--v2 (infer.v2.sock) exists only in inferd 0.2–0.3, not {era.release}"
                + ("; 0.4+ serves v2 on inferd.sock itself" if era.length_prefixed else "")
            )
        if self.tcp is not None and not era.tcp:
            raise ValueError(f"inferd {era.release} has no TCP listener (removed in 0.5.0)")
        if self.audio_sample_rate < 1:
            raise ValueError("audio_sample_rate must be positive")
        for index, block in enumerate(self.tape):
            problem = tape_block_problem(block)
            if problem is not None:
                raise ValueError(f"tape line {index + 1}: {problem}")
        if self.embed and not era.embed:
            raise ValueError(
                f"--embed needs era 0.2 or later (inferd 0.2 added infer.embed.sock); "
                f"this is era {self.era}"
            )
        if self.rerank and not era.rerank:
            raise ValueError(
                f"--rerank needs era 0.6 or later (inferd 0.6.2 added infer.rerank.sock); "
                f"this is era {self.era}"
            )

    @property
    def release(self) -> str:
        return RELEASE[self.era]

    @property
    def backend_features(self) -> BackendFeatures:
        """What the backend advertises and accepts: the knobs, else the backend's default.

        The demo backend can do everything its era can carry (images, audio and tools on
        v2 from 0.2; the thinking switch from 0.5.1); the mock backend nothing unless told.
        """
        demo = self.backend == "demo"
        era = features(self.era)

        def pick(knob: bool | None, default: bool) -> bool:
            return default if knob is None else knob

        return BackendFeatures(
            vision=pick(self.vision, demo),
            audio=pick(self.audio, demo),
            tools=pick(self.tools, demo),
            thinking=pick(self.thinking, demo and era.thinking),
            audio_sample_rate=self.audio_sample_rate,
        )


@dataclass(frozen=True)
class BackendFeatures:
    vision: bool
    audio: bool
    tools: bool
    thinking: bool
    audio_sample_rate: int


def tape_block_problem(block: object) -> str | None:
    """Why ``block`` is not a response block a tape can replay, or None."""
    if not isinstance(block, dict):
        return "expected a JSON object"
    kind = block.get("type")
    if kind in ("text", "thinking"):
        return None if isinstance(block.get("delta"), str) else f"a {kind} block needs a delta"
    if kind == "tool_use":
        if not isinstance(block.get("tool_call_id"), str) or not isinstance(block.get("name"), str):
            return "a tool_use block needs tool_call_id and name strings"
        return None
    return f"unknown block type {kind!r} (text, thinking or tool_use)"
