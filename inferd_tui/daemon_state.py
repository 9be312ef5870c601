"""Everything the app knows about the daemon, folded into one immutable value.

The admin watcher (Pattern B) and the inference dialer (Pattern A) each report what they
see; :class:`DaemonState` folds those reports with pure ``with_*`` methods that take the
current monotonic time and return a new state. The UI renders :meth:`DaemonState.summary`
in its status bar and asks :meth:`DaemonState.lifecycle_marker` whether a change deserves
a line in the conversation.

How the visible ``kind`` is chosen, first match wins:

1. the admin socket is connected and has reported a status → that status
   (``starting``, ``loading``, ``ready``, ``restarting``, ``draining``, ``unknown_status``);
2. the admin socket refuses us for good (permission denied, …) → ``admin_unavailable``
   (the app falls back to Pattern A on the inference socket);
3. the inference socket is connected → ``ready``;
4. a connection was tried or lost → ``disconnected``;
5. otherwise → ``connecting``.

Every release is served (the client speaks each wire): which one the daemon is, and the
wire spoken, come from the app's choice of wire (:meth:`DaemonState.with_wire`) and are
shown beside ``ready``.

Pure: no Textual, no Rich, no I/O (only :mod:`inferd_tui.proto` and pure helpers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any, Literal, NamedTuple, Protocol, TypeAlias

from inferd_tui.humanize import human_bytes, human_duration, human_rate
from inferd_tui.proto.models import AdminEvent, AdminStatus, LoadPhase
from inferd_tui.text_safety import sanitize

StateKind: TypeAlias = Literal[
    "connecting",
    "disconnected",
    "starting",
    "loading",
    "ready",
    "restarting",
    "draining",
    "admin_unavailable",
    "unknown_status",
]

DaemonEra: TypeAlias = Literal["0.1", "0.2–0.3", "0.4+"]

#: How the admin connection itself is doing (from the watcher's notices).
AdminLink: TypeAlias = Literal["unknown", "connected", "retrying", "disconnected", "unavailable"]

#: Download rate is averaged over this many most recent progress frames (the daemon
#: sends one every 32 MiB or 5 s, so this smooths over roughly the last half minute).
RATE_WINDOW_SAMPLES = 6

#: How each wire is named in the status bar (proto.eras.Wire values).
WIRE_SHORT: dict[str, str] = {"v1": "v1", "v2-ndjson": "v2 NDJSON", "v2": "v2"}

_PHASE_HINTS: dict[str, str] = {
    LoadPhase.CHECKING_LOCAL: "checking the local model file",
    LoadPhase.VERIFY: "verifying the download (SHA-256)",
    LoadPhase.QUARANTINE: "checksum mismatch: the file was moved aside",
    LoadPhase.MMAP: "loading the model",
    LoadPhase.KV_CACHE: "allocating the KV cache",
}

_STATUS_KINDS: dict[str, StateKind] = {
    AdminStatus.STARTING: "starting",
    AdminStatus.LOADING_MODEL: "loading",
    AdminStatus.READY: "ready",
    AdminStatus.RESTARTING: "restarting",
    AdminStatus.DRAINING: "draining",
}


class AdminNoticeLike(Protocol):
    """What the admin watcher says about its connection (``client.AdminNotice``).

    Structural, so this module does not depend on the client package.
    """

    @property
    def kind(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def retry_in(self) -> float | None: ...

    @property
    def error(self) -> object | None: ...


class DownloadProgress(NamedTuple):
    """The model download as of the latest ``download`` frame.

    ``total_bytes`` (and so ``percent`` and ``eta_s``) is ``None`` when the daemon does not
    know the size: show an indeterminate bar. ``rate_bytes_per_s`` needs two frames.
    A named tuple rather than a frozen dataclass: one is built per download frame, and
    frozen dataclasses are slow to construct.
    """

    downloaded_bytes: int
    total_bytes: int | None
    rate_bytes_per_s: float | None
    eta_s: float | None
    percent: float | None
    source_url: str

    @property
    def indeterminate(self) -> bool:
        return self.percent is None

    def describe(self) -> str:
        """``"37% · 1.9 GiB of 4.8 GiB · 85.3 MiB/s · ETA 35s"`` (parts omitted when unknown)."""
        parts: list[str] = []
        if self.percent is not None and self.total_bytes is not None:
            # Whole percent by integer arithmetic: 37.0 must not show as 36 through float error.
            whole = min(self.downloaded_bytes * 100 // max(self.total_bytes, 1), 100)
            parts.append(f"{whole}%")
            parts.append(f"{human_bytes(self.downloaded_bytes)} of {human_bytes(self.total_bytes)}")
        else:
            parts.append(f"{human_bytes(self.downloaded_bytes)} of unknown size")
        if self.rate_bytes_per_s is not None:
            parts.append(human_rate(self.rate_bytes_per_s))
        if self.eta_s is not None:
            parts.append(f"ETA {human_duration(self.eta_s)}")
        return " · ".join(parts)


def _download_progress(
    event: AdminEvent, samples: tuple[tuple[float, int], ...]
) -> DownloadProgress:
    downloaded = event.downloaded_bytes or 0
    total = event.total_bytes if event.total_bytes is not None and event.total_bytes > 0 else None
    rate: float | None = None
    if len(samples) >= 2:
        (first_at, first_bytes), (last_at, last_bytes) = samples[0], samples[-1]
        if last_at > first_at:
            rate = max(last_bytes - first_bytes, 0) / (last_at - first_at)
    percent = min(downloaded / total * 100, 100.0) if total is not None else None
    eta: float | None = None
    if total is not None and rate:
        eta = max(total - downloaded, 0) / rate
    return DownloadProgress(
        downloaded_bytes=downloaded,
        total_bytes=total,
        rate_bytes_per_s=rate,
        eta_s=eta,
        percent=percent,
        source_url=event.source_url or "",
    )


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def _shown(value: object) -> str:
    """A daemon-supplied value as one safe line of text."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return sanitize(text, keep_newlines=False)


@dataclass(frozen=True)
class DaemonState:
    """What the app knows about the daemon; every ``with_*`` returns a new state."""

    # --- admin socket (Pattern B) ---
    admin_link: AdminLink = "unknown"
    #: The latest admin status event (not ``capabilities``) since the last (re)connect.
    admin_event: AdminEvent | None = None
    #: Why the admin socket is unusable ("permission denied", …) or the latest notice text.
    admin_problem: str | None = None
    admin_retry_in: float | None = None
    #: ``capabilities`` frames seen since the last (re)connect of the admin socket.
    capabilities: tuple[AdminEvent, ...] = ()
    download: DownloadProgress | None = None
    #: (monotonic time, downloaded bytes) of the latest download frames, for the rate.
    download_samples: tuple[tuple[float, int], ...] = ()
    # --- inference socket (Pattern A) ---
    inference_address: str | None = None
    inference_connected: bool = False
    inference_retry_in: float | None = None
    inference_retry_at: float | None = None
    inference_error: str | None = None
    # --- the wire chosen for this daemon (client.wire.choose_wire) ---
    #: ``v1``, ``v2-ndjson`` or ``v2``; None until chosen.
    wire: str | None = None
    #: The releases the daemon may be, as a user reads them ("inferd 0.4 or later").
    releases: str | None = None
    #: Why no wire can be spoken (``--wire v1`` on a 0.4+ daemon): shown instead of ready.
    wire_problem: str | None = None
    # --- bookkeeping ---
    #: Whether the daemon was ready at some point (so a later ``ready`` is "ready again").
    ever_ready: bool = False
    updated_at: float = 0.0
    #: When ``kind`` last changed (monotonic seconds).
    kind_since: float = 0.0

    # --- derived ----------------------------------------------------------------------

    @cached_property
    def kind(self) -> StateKind:
        if self.admin_link == "connected" and self.admin_event is not None:
            return _STATUS_KINDS.get(self.admin_event.status, "unknown_status")
        if self.admin_link == "unavailable":
            return "admin_unavailable"
        if self.inference_connected:
            return "ready"
        if (
            self.inference_retry_in is not None
            or self.inference_error is not None
            or self.admin_link in ("retrying", "disconnected")
        ):
            return "disconnected"
        return "connecting"

    @property
    def status(self) -> str | None:
        """The latest admin status, verbatim (unknown ones included)."""
        return self.admin_event.status if self.admin_event is not None else None

    @property
    def phase(self) -> str | None:
        return self.admin_event.phase if self.admin_event is not None else None

    @property
    def accepts_requests(self) -> bool:
        """A request can go out now: the inference socket is connected (on any wire)."""
        return self.inference_connected

    @property
    def is_ready(self) -> bool:
        """The daemon serves (or is about to: ``ready`` comes just before the socket bind).

        Without the admin socket, a connected inference socket is the ready signal.
        """
        kind = self.kind
        return kind == "ready" or (kind == "admin_unavailable" and self.inference_connected)

    @property
    def era(self) -> DaemonEra:
        """Daemon release family per §9; meaningful once the snapshot has arrived."""
        era: DaemonEra = "0.1"
        for event in self.capabilities:
            if event.announces_v2_only:
                return "0.4+"
            era = "0.2–0.3"
        return era

    @property
    def backend(self) -> str | None:
        """The (first) backend's name, from ``capabilities``."""
        for event in self.capabilities:
            if event.backend is not None:
                return event.backend
        return None

    @property
    def backends(self) -> tuple[str, ...]:
        return tuple(event.backend for event in self.capabilities if event.backend is not None)

    @property
    def accelerator(self) -> str | None:
        for event in self.capabilities:
            if event.accelerator is not None:
                return event.accelerator
        return None

    @property
    def gpu_layers(self) -> int | None:
        for event in self.capabilities:
            if event.gpu_layers is not None:
                return event.gpu_layers
        return None

    @property
    def wire_version(self) -> object:
        for event in self.capabilities:
            if event.announces_v2_only:
                return event.wire_version
        return None

    def retry_remaining(self, now: float) -> float | None:
        """Seconds until the next inference dial, for a live countdown."""
        if self.inference_retry_at is None:
            return None
        return max(self.inference_retry_at - now, 0.0)

    # --- transitions ------------------------------------------------------------------

    def _evolve(self, now: float, **changes: Any) -> DaemonState:
        """A copy with ``changes`` applied and the bookkeeping fields brought up to date.

        Copies the instance dict instead of calling ``dataclasses.replace``: admin floods
        fold every event, and ``replace`` re-runs ``__init__`` over every field.
        """
        assert changes.keys() <= _FIELD_NAMES, changes.keys() - _FIELD_NAMES
        fields = dict(self.__dict__)
        fields.pop("kind", None)  # the cached property belongs to this state only
        fields.update(changes)
        draft = object.__new__(DaemonState)
        draft.__dict__.update(fields)
        kind = draft.kind
        fields = draft.__dict__
        fields["updated_at"] = now
        fields["kind_since"] = now if kind != self.kind else self.kind_since
        fields["ever_ready"] = self.ever_ready or draft.is_ready
        return draft

    def with_admin_event(self, event: AdminEvent, now: float) -> DaemonState:
        """Fold one admin frame. Any frame proves the admin socket is connected."""
        if event.is_capabilities:
            return self._evolve(
                now, admin_link="connected", capabilities=(*self.capabilities, event)
            )
        samples: tuple[tuple[float, int], ...] = ()
        download: DownloadProgress | None = None
        if event.phase == LoadPhase.DOWNLOAD and event.downloaded_bytes is not None:
            previous = self.download_samples
            same_download = (
                self.download is not None
                and self.download.source_url == (event.source_url or "")
                and previous
                and event.downloaded_bytes >= previous[-1][1]
            )
            kept = previous[-(RATE_WINDOW_SAMPLES - 1) :] if same_download else ()
            samples = (*kept, (now, event.downloaded_bytes))
            download = _download_progress(event, samples)
        return self._evolve(
            now,
            admin_link="connected",
            admin_event=event,
            admin_problem=None,
            admin_retry_in=None,
            download=download,
            download_samples=samples,
        )

    def with_admin_notice(self, notice: AdminNoticeLike, now: float) -> DaemonState:
        """Fold what the admin watcher says about its own connection."""
        kind = notice.kind
        if kind == "connected":
            # The daemon re-sends capabilities and a snapshot on every connection. It may be
            # another release than before: the wire is chosen again once it is ready.
            return self._evolve(
                now,
                admin_link="connected",
                admin_event=None,
                admin_problem=None,
                admin_retry_in=None,
                capabilities=(),
                download=None,
                download_samples=(),
                wire=None,
                releases=None,
                wire_problem=None,
            )
        if kind == "disconnected":
            # EOF: the daemon exited, crashed or dropped us; its inference socket is
            # not to be trusted until Pattern A connects again.
            return self._evolve(
                now,
                admin_link="disconnected",
                admin_problem=notice.message,
                admin_retry_in=notice.retry_in,
                inference_connected=False,
                download=None,
                download_samples=(),
            )
        if kind in ("permission_denied", "unavailable"):
            return self._evolve(
                now,
                admin_link="unavailable",
                admin_event=None,
                admin_problem=_admin_problem(notice),
                admin_retry_in=notice.retry_in,
                download=None,
                download_samples=(),
            )
        if kind == "retrying":
            link: AdminLink = "disconnected" if self.admin_link == "disconnected" else "retrying"
            return self._evolve(
                now,
                admin_link=link,
                admin_problem=notice.message,
                admin_retry_in=notice.retry_in,
            )
        # "malformed" and future kinds say nothing about the daemon's state.
        return self._evolve(now)

    def with_inference_retry(
        self, address: str, delay_s: float, error_text: str, now: float
    ) -> DaemonState:
        """Pattern A failed transiently at ``address``; the next dial is in ``delay_s``."""
        return self._evolve(
            now,
            inference_address=address,
            inference_connected=False,
            inference_retry_in=delay_s,
            inference_retry_at=now + delay_s,
            inference_error=error_text,
        )

    def with_inference_connected(self, address: str, now: float) -> DaemonState:
        return self._evolve(
            now,
            inference_address=address,
            inference_connected=True,
            inference_retry_in=None,
            inference_retry_at=None,
            inference_error=None,
        )

    def with_wire(self, wire: str, releases: str, now: float) -> DaemonState:
        """The wire chosen for this daemon, and the releases it may be."""
        return self._evolve(now, wire=wire, releases=releases, wire_problem=None)

    def with_wire_problem(self, address: str, problem: str, now: float) -> DaemonState:
        """No wire this client may speak reaches the daemon (the setting forbids its own)."""
        return self.with_inference_lost(address, problem, now)._evolve(
            now, wire=None, wire_problem=problem
        )

    def with_inference_lost(self, address: str, reason: str, now: float) -> DaemonState:
        """The inference socket is gone (or given up on) and no retry is scheduled."""
        return self._evolve(
            now,
            inference_address=address,
            inference_connected=False,
            inference_retry_in=None,
            inference_retry_at=None,
            inference_error=reason,
        )

    # --- presentation -----------------------------------------------------------------

    def summary(self) -> str:
        """One line for the status bar; daemon-supplied parts are made safe to show."""
        kind = self.kind
        if self.wire_problem is not None:
            return f"✖ {_shown(self.wire_problem)}"
        if kind == "ready":
            parts = ["● ready"]
            backends = self.backends
            if backends:
                more = f" (+{len(backends) - 1} more)" if len(backends) > 1 else ""
                parts.append(_shown(backends[0]) + more)
            if self.accelerator is not None:
                parts.append(_shown(self.accelerator))
            layers = self.gpu_layers
            if layers:
                parts.append(f"{layers} GPU layers")
            if self.admin_link != "connected" and self.inference_address is not None:
                parts.append(_shown(self.inference_address))
            if self.releases is not None:
                parts.append(self.releases)
            if self.wire is not None:
                parts.append(WIRE_SHORT.get(self.wire, self.wire))
            return " · ".join(parts)
        if kind == "loading":
            return f"◐ loading · {self._phase_text()}"
        if kind == "restarting":
            return f"◐ restarting · {self._phase_text()}"
        if kind == "starting":
            return "◌ starting · the daemon is up, no model work yet"
        if kind == "draining":
            return "◌ draining · the daemon is shutting down"
        if kind == "unknown_status":
            text = f"? daemon status “{_shown(self.status or '')}”"
            if self.phase is not None:
                text += f" · {_shown(self.phase)}"
            return text
        if kind == "admin_unavailable":
            text = (
                f"⚠ admin unavailable ({_shown(self.admin_problem or 'unknown reason')})"
                " · using the inference socket only"
            )
            if self.inference_connected:
                text += " · connected"
            elif self.inference_retry_in is not None and self.inference_address is not None:
                text += (
                    f" · {_shown(self.inference_address)}"
                    f" · retrying in {_seconds(self.inference_retry_in)}"
                )
            elif self.inference_error is not None:
                text += f" · {_shown(self.inference_error)}"
            return text
        if kind == "disconnected":
            parts = ["○ disconnected"]
            if self.inference_address is not None:
                parts.append(_shown(self.inference_address))
                if self.inference_retry_in is not None:
                    parts.append(f"retrying in {_seconds(self.inference_retry_in)}")
                elif self.inference_error is not None:
                    parts.append(_shown(self.inference_error))
            elif self.admin_problem is not None:
                parts.append(_shown(self.admin_problem))
            return " · ".join(parts)
        return "◌ connecting to the daemon…"

    def _phase_text(self) -> str:
        phase = self.phase
        if phase is None:
            return "preparing the model"
        if phase == LoadPhase.DOWNLOAD and self.download is not None:
            if self.download.indeterminate:
                return f"download · {self.download.describe()}"
            return f"download {self.download.describe()}"
        hint = _PHASE_HINTS.get(phase)
        text = _shown(phase) if hint is None else f"{phase} · {hint}"
        event = self.admin_event
        if phase == LoadPhase.KV_CACHE and event is not None and event.n_ctx is not None:
            text += f" (n_ctx {event.n_ctx})"
        return text

    def lifecycle_marker(self, previous: DaemonState) -> str | None:
        """A one-line conversation marker when this state starts a lifecycle change.

        ``self`` is the new state, ``previous`` the one before the transition. Only changes
        that may explain an odd answer get a marker: restarting, draining, losing the
        daemon after it was ready, being ready again.
        """
        kind, before = self.kind, previous.kind
        if kind == before:
            return None
        if kind == "restarting":
            phase = self.phase
            return f"daemon restarting ({_shown(phase)})" if phase else "daemon restarting"
        if kind == "draining":
            return "daemon draining"
        if kind == "disconnected" and previous.ever_ready:
            return "daemon disconnected"
        if kind == "ready" and previous.ever_ready:
            return "daemon ready again"
        return None


def _admin_problem(notice: AdminNoticeLike) -> str:
    if notice.kind == "permission_denied":
        return "permission denied"
    title = getattr(notice.error, "title", None)
    if isinstance(title, str) and title:
        return title
    return notice.message


_FIELD_NAMES = frozenset(field.name for field in fields(DaemonState))
