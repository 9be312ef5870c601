"""Admin events as one human-readable line each, and download rate/ETA (pure).

Every daemon-supplied value goes through :func:`~inferd_tui.headless._console.safe`;
unknown statuses, phases and keys are shown as ``key=value``, never dropped (§8).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inferd_tui.headless._console import safe
from inferd_tui.humanize import human_bytes, human_duration, human_rate
from inferd_tui.proto.models import AdminEvent, AdminStatus, LoadPhase

#: Weight of the newest sample in the smoothed download rate.
RATE_SMOOTHING = 0.3

_CAPABILITY_FLAGS = ("v2", "vision", "audio", "tools", "thinking", "embed", "rerank")
# Keys each known rendering already shows (the rest are printed as key=value).
_SHOWN_BY_PHASE: dict[str, frozenset[str]] = {
    LoadPhase.CHECKING_LOCAL: frozenset({"path"}),
    LoadPhase.DOWNLOAD: frozenset({"downloaded_bytes", "total_bytes", "source_url"}),
    LoadPhase.VERIFY: frozenset({"path"}),
    LoadPhase.QUARANTINE: frozenset(
        {"path", "expected_sha256", "actual_sha256", "quarantine_path"}
    ),
    LoadPhase.MMAP: frozenset({"path"}),
    LoadPhase.KV_CACHE: frozenset({"n_ctx"}),
}
_CAPABILITY_KEYS = frozenset(
    {
        *_CAPABILITY_FLAGS,
        "backend",
        "accelerator",
        "gpu_layers",
        "device_name",
        "vram_total_bytes",
        "wire_version",
        "audio_sample_rate",
    }
)


@dataclass
class DownloadMeter:
    """A smoothed download rate and ETA from successive download frames.

    The caller passes the time each frame arrived (any monotonic clock, seconds).
    A frame whose count went backwards (a restarted download) starts afresh.
    """

    _last_time: float | None = None
    _last_bytes: int = 0
    rate: float | None = None

    def reset(self) -> None:
        self._last_time, self._last_bytes, self.rate = None, 0, None

    def update(
        self, now: float, downloaded: int, total: int | None
    ) -> tuple[float | None, float | None]:
        """(bytes per second, seconds left) after this frame; ``None`` when not yet known."""
        if self._last_time is None or downloaded < self._last_bytes:
            self.reset()
            self._last_time, self._last_bytes = now, downloaded
            return None, None
        elapsed = now - self._last_time
        if elapsed > 0 and downloaded > self._last_bytes:
            sample = (downloaded - self._last_bytes) / elapsed
            self.rate = (
                sample
                if self.rate is None
                else RATE_SMOOTHING * sample + (1 - RATE_SMOOTHING) * self.rate
            )
            self._last_time, self._last_bytes = now, downloaded
        eta = None
        if total is not None and self.rate:
            eta = max(total - downloaded, 0) / self.rate
        return self.rate, eta

    def observe(self, event: AdminEvent, now: float) -> tuple[float | None, float | None]:
        """Feed any event: download frames update the meter, anything else resets it."""
        if event.phase != LoadPhase.DOWNLOAD or event.downloaded_bytes is None:
            self.reset()
            return None, None
        return self.update(now, event.downloaded_bytes, event.total_bytes)


def _extras(event: AdminEvent, shown: frozenset[str]) -> list[str]:
    details = event.details().items()
    return [f"{safe(key)}={safe(value)}" for key, value in details if key not in shown]


def describe_download(
    event: AdminEvent, rate: float | None = None, eta: float | None = None
) -> str:
    """``1.2 GiB / 4.8 GiB 25% 85.0 MiB/s ETA 42s`` (parts unknown so far are left out)."""
    downloaded = event.downloaded_bytes or 0
    total = event.total_bytes
    if total:
        parts = [f"{human_bytes(downloaded)} / {human_bytes(total)}"]
        parts.append(f"{min(downloaded * 100 // total, 100)}%")
    else:
        parts = [f"{human_bytes(downloaded)} (total size unknown)"]
    if rate is not None:
        parts.append(human_rate(rate))
    if eta is not None:
        parts.append(f"ETA {human_duration(eta)}")
    return " ".join(parts)


def describe_capabilities(event: AdminEvent) -> str:
    parts = [f"backend={safe(event.backend or '?')}"]
    if event.accelerator is not None:
        parts.append(f"accelerator={safe(event.accelerator)}")
    if event.gpu_layers is not None:
        parts.append(f"gpu_layers={event.gpu_layers}")
    if event.device_name:
        parts.append(f"device={safe(event.device_name)!r}")
    if event.vram_total_bytes is not None:
        parts.append(f"vram={human_bytes(event.vram_total_bytes)}")
    features = [name for name in _CAPABILITY_FLAGS if getattr(event, name) is True]
    parts.append(f"features={','.join(features) or 'none'}")
    if event.audio_sample_rate is not None:
        parts.append(f"audio_sample_rate={event.audio_sample_rate}")
    if event.announces_v2_only:
        parts.append(f"wire_version={safe(event.wire_version)}")
    parts.extend(_extras(event, _CAPABILITY_KEYS))
    return " ".join(parts)


def describe_event(
    event: AdminEvent, *, rate: float | None = None, eta: float | None = None
) -> str:
    """One line: the status, then the phase and its details, then any unknown keys."""
    status = safe(event.status or "(no status)")
    if event.is_capabilities:
        return f"{status} {describe_capabilities(event)}"
    if event.phase is None:
        return " ".join([status, *_extras(event, frozenset())])
    phase = event.phase
    shown = _SHOWN_BY_PHASE.get(phase)
    if shown is None:
        return " ".join([status, safe(phase), *_extras(event, frozenset())])
    if phase == LoadPhase.DOWNLOAD:
        body = describe_download(event, rate, eta)
    elif phase == LoadPhase.QUARANTINE:
        body = (
            f"{safe(event.path or '?')}: checksum mismatch (expected "
            f"{safe(event.expected_sha256 or '?')}, got {safe(event.actual_sha256 or '?')}); "
            f"moved to {safe(event.quarantine_path or '?')}"
        )
    elif phase == LoadPhase.KV_CACHE:
        body = f"n_ctx {event.n_ctx}" if event.n_ctx is not None else "n_ctx ?"
    else:
        body = safe(event.path) if event.path is not None else ""
    return " ".join(part for part in [status, safe(phase), body, *_extras(event, shown)] if part)


def raw_event(event: AdminEvent) -> dict[str, Any]:
    """The event as the daemon sent it (keys it sent, including unknown and invalid ones)."""
    received: dict[str, Any] = event.model_dump(
        mode="json", exclude_unset=True, exclude={"invalid_keys"}
    )
    received.update(event.invalid_keys)
    return dict(sorted(received.items()))


def is_ready(event: AdminEvent) -> bool:
    return event.status == AdminStatus.READY
