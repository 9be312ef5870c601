"""DaemonState: every transition, the first boot, download rate/ETA, summaries and markers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from inferd_tui.daemon_state import (
    RATE_WINDOW_SAMPLES,
    DaemonState,
    DownloadProgress,
)
from inferd_tui.proto import AdminEvent, parse_admin_event

GIB = 1024**3
MIB = 1024**2
SOCKET = "/run/user/1000/inferd/infer.sock"


@dataclass(frozen=True)
class Notice:
    """Stands in for ``client.AdminNotice`` (DaemonState only needs its shape)."""

    kind: str
    message: str = ""
    retry_in: float | None = None
    error: object | None = None


@dataclass
class TitledError:
    title: str


def event(**fields: Any) -> AdminEvent:
    raw = {"id": "admin", "type": "status", **fields}
    return parse_admin_event(json.dumps(raw).encode())


FIRST_BOOT = [
    b'{"id":"admin","status":"starting","type":"status"}',
    b'{"id":"admin","path":"/home/u/.inferd/models/gemma-4-e4b.gguf","phase":"checking_local","status":"loading_model","type":"status"}',
    b'{"downloaded_bytes":33554432,"id":"admin","phase":"download","source_url":"https://example.invalid/gemma-4-e4b.gguf","status":"loading_model","total_bytes":5126304928,"type":"status"}',
    b'{"id":"admin","path":"/home/u/.inferd/models/gemma-4-e4b.gguf","phase":"verify","status":"loading_model","type":"status"}',
    b'{"id":"admin","path":"/home/u/.inferd/models/gemma-4-e4b.gguf","phase":"mmap","status":"loading_model","type":"status"}',
    b'{"id":"admin","n_ctx":8192,"phase":"kv_cache","status":"loading_model","type":"status"}',
    b'{"accelerator":"cuda","audio":false,"backend":"gemma-4-e4b","embed":false,"gpu_layers":43,"id":"admin","status":"capabilities","thinking":true,"tools":false,"type":"status","v2":true,"vision":true}',
    b'{"id":"admin","status":"ready","type":"status"}',
]


def booted(now: float = 0.0) -> DaemonState:
    state = DaemonState().with_admin_notice(Notice("connected", "admin connected"), now)
    for line in FIRST_BOOT:
        state = state.with_admin_event(parse_admin_event(line), now)
    return state


def download(done: int, total: int | None = 5 * GIB, url: str = "https://x/m.gguf") -> AdminEvent:
    return event(
        status="loading_model",
        phase="download",
        downloaded_bytes=done,
        total_bytes=total,
        source_url=url,
    )


# --- the first boot, step by step --------------------------------------------------------


def test_nothing_known_is_connecting() -> None:
    state = DaemonState()
    assert state.kind == "connecting"
    assert not state.is_ready
    assert state.summary().startswith("◌ connecting")


def test_first_boot_sequence_walks_every_state() -> None:
    state = DaemonState().with_admin_notice(Notice("connected"), 0.0)
    kinds = [state.kind]
    summaries = []
    for now, line in enumerate(FIRST_BOOT, start=1):
        state = state.with_admin_event(parse_admin_event(line), float(now))
        kinds.append(state.kind)
        summaries.append(state.summary())
    assert kinds == [
        "connecting",
        "starting",
        "loading",
        "loading",
        "loading",
        "loading",
        "loading",
        "loading",  # capabilities don't change the status
        "ready",
    ]
    assert summaries[0].startswith("◌ starting")
    assert summaries[1] == "◐ loading · checking_local · checking the local model file"
    assert summaries[2] == "◐ loading · download 0% · 32.0 MiB of 4.8 GiB"
    assert summaries[3] == "◐ loading · verify · verifying the download (SHA-256)"
    assert summaries[4] == "◐ loading · mmap · loading the model"
    assert summaries[5] == "◐ loading · kv_cache · allocating the KV cache (n_ctx 8192)"
    assert summaries[7] == "● ready · gemma-4-e4b · cuda · 43 GPU layers"
    assert state.is_ready and state.ever_ready
    assert state.era == "0.2–0.3"
    assert (state.backend, state.accelerator, state.gpu_layers) == ("gemma-4-e4b", "cuda", 43)
    assert state.download is None  # only while downloading
    assert state.kind_since == float(len(FIRST_BOOT))


def test_ready_without_capabilities_is_a_0_1_daemon() -> None:
    state = DaemonState().with_admin_event(event(status="ready"), 1.0)
    assert state.kind == "ready"
    assert state.era == "0.1"
    assert state.summary() == "● ready"


def test_cpu_backend_shows_no_gpu_layers_and_counts_extra_backends() -> None:
    state = (
        DaemonState()
        .with_admin_event(
            event(status="capabilities", backend="mock", accelerator="cpu", gpu_layers=0), 0
        )
        .with_admin_event(event(status="capabilities", backend="embedder"), 0)
        .with_admin_event(event(status="ready"), 0)
    )
    assert state.summary() == "● ready · mock (+1 more) · cpu"
    assert state.backends == ("mock", "embedder")


def test_quarantine_and_unknown_phase_are_shown() -> None:
    state = DaemonState().with_admin_event(
        event(status="loading_model", phase="quarantine", path="/x", quarantine_path="/x.q"), 0
    )
    assert "checksum mismatch" in state.summary()
    state = state.with_admin_event(event(status="loading_model", phase="defragmenting"), 1)
    assert state.summary() == "◐ loading · defragmenting"
    state = state.with_admin_event(event(status="loading_model"), 2)
    assert state.summary() == "◐ loading · preparing the model"


# --- download progress -------------------------------------------------------------------


def test_download_rate_and_eta_from_a_fake_clock() -> None:
    state = DaemonState().with_admin_event(download(0), 100.0)
    assert state.download is not None
    assert state.download.rate_bytes_per_s is None  # one sample: no rate yet
    assert state.download.eta_s is None
    state = state.with_admin_event(download(100 * MIB), 101.0)
    state = state.with_admin_event(download(300 * MIB), 102.0)
    progress = state.download
    assert progress is not None
    # Averaged over the window: 300 MiB in 2 s.
    assert progress.rate_bytes_per_s == pytest.approx(150 * MIB)
    assert progress.eta_s == pytest.approx((5 * GIB - 300 * MIB) / (150 * MIB))
    assert progress.percent == pytest.approx(300 / 5120 * 100)
    assert progress.total_bytes == 5 * GIB
    assert progress.source_url == "https://x/m.gguf"
    assert (
        state.summary() == "◐ loading · download 5% · 300.0 MiB of 5.0 GiB · 150.0 MiB/s · ETA 32s"
    )


def test_download_rate_smooths_over_the_last_few_samples() -> None:
    state = DaemonState()
    now, done = 0.0, 0
    # A slow start (1 MiB/s) followed by a steady 10 MiB/s.
    for _ in range(5):
        state = state.with_admin_event(download(done), now)
        now, done = now + 1, done + MIB
    for _ in range(RATE_WINDOW_SAMPLES + 2):
        state = state.with_admin_event(download(done), now)
        now, done = now + 1, done + 10 * MIB
    assert len(state.download_samples) == RATE_WINDOW_SAMPLES
    assert state.download is not None
    assert state.download.rate_bytes_per_s == pytest.approx(10 * MIB)


def test_download_restarting_from_zero_resets_the_rate() -> None:
    state = DaemonState().with_admin_event(download(500 * MIB), 0.0)
    state = state.with_admin_event(download(600 * MIB), 1.0)
    state = state.with_admin_event(download(10 * MIB), 2.0)
    assert state.download is not None
    assert state.download.rate_bytes_per_s is None
    assert state.download_samples == ((2.0, 10 * MIB),)


def test_download_with_null_total_is_indeterminate() -> None:
    line = b'{"downloaded_bytes":1024,"id":"admin","phase":"download","source_url":"https://x","status":"loading_model","total_bytes":null,"type":"status"}'
    state = DaemonState().with_admin_event(parse_admin_event(line), 0.0)
    state = state.with_admin_event(download(1024 + 85 * MIB, total=None, url="https://x"), 1.0)
    progress = state.download
    assert progress is not None
    assert progress.indeterminate
    assert progress.total_bytes is None and progress.percent is None and progress.eta_s is None
    assert progress.rate_bytes_per_s == pytest.approx(85 * MIB)
    assert state.summary() == "◐ loading · download · 85.0 MiB of unknown size · 85.0 MiB/s"


def test_download_percent_is_floored_and_capped() -> None:
    progress = DownloadProgress(999, 1000, None, None, 99.9, "u")  # never rounds up to 100
    assert progress.describe() == "99% · 999 B of 1000 B"
    state = DaemonState().with_admin_event(download(2000, total=1000), 0)
    assert state.download is not None and state.download.percent == 100.0


def test_download_progress_is_dropped_after_the_download_phase() -> None:
    state = DaemonState().with_admin_event(download(MIB), 0)
    state = state.with_admin_event(event(status="loading_model", phase="verify", path="/m"), 1)
    assert state.download is None and state.download_samples == ()


def test_summary_example_from_the_design() -> None:
    total = 5126304928
    state = DaemonState().with_admin_event(download(0, total=total), 0.0)
    rate = 85.3 * MIB
    done = int(0.37 * total) + 1
    state = state.with_admin_event(download(done, total=total), done / rate)
    assert state.summary() == (
        "◐ loading · download 37% · 1.8 GiB of 4.8 GiB · 85.3 MiB/s · ETA 36s"
    )


# --- unknown statuses, v2-only, admin unavailable ------------------------------------------


def test_unknown_status_is_shown_verbatim() -> None:
    line = b'{"extra_key":42,"id":"admin","status":"future_state","type":"status"}'
    state = booted().with_admin_event(parse_admin_event(line), 5.0)
    assert state.kind == "unknown_status"
    assert state.status == "future_state"
    assert "future_state" in state.summary()
    assert not state.is_ready


def test_unknown_status_hostile_text_is_made_safe() -> None:
    state = DaemonState().with_admin_event(event(status="\x1b[2Jboom\n[bold]x", phase="\x07"), 0)
    summary = state.summary()
    assert "\x1b" not in summary and "\x07" not in summary and "\n" not in summary
    assert "[bold]x" in summary


def test_a_0_4_daemon_is_served_and_ready_names_its_releases_and_wire() -> None:
    state = DaemonState().with_admin_notice(Notice("connected"), 0)
    state = state.with_admin_event(
        event(status="capabilities", backend="gemma", v2=True, wire_version=1), 1
    )
    assert state.era == "0.4+"
    assert state.wire_version == 1
    state = state.with_admin_event(event(status="ready"), 2).with_inference_connected(SOCKET, 3)
    assert state.kind == "ready" and state.is_ready and state.accepts_requests
    assert state.summary() == "● ready · gemma"
    state = state.with_wire("v2", "inferd 0.4 or later", 4)
    assert state.summary() == "● ready · gemma · inferd 0.4 or later · v2"
    refused = state.with_wire_problem(SOCKET, "--wire v1 was asked for, but …\x1b[2J", 5)
    assert refused.summary() == "✖ --wire v1 was asked for, but …␛[2J"
    assert not refused.accepts_requests
    # A new admin connection may be another daemon: its wire is not known until chosen.
    assert state.with_admin_notice(Notice("connected"), 5).wire is None
    # A daemon replaced by an older release: the status says so once re-chosen.
    assert state.with_wire("v1", "inferd 0.3", 5).summary() == "● ready · gemma · inferd 0.3 · v1"


def test_permission_denied_notice_means_admin_unavailable() -> None:
    notice = Notice(
        "permission_denied",
        "admin socket /run/admin.sock: permission denied (mode 0600…); retrying in 5 s",
        5.0,
        TitledError("permission denied"),
    )
    state = DaemonState().with_admin_notice(notice, 0.0)
    assert state.kind == "admin_unavailable"
    assert state.admin_problem == "permission denied"
    assert state.summary() == (
        "⚠ admin unavailable (permission denied) · using the inference socket only"
    )
    assert not state.is_ready
    retrying = state.with_inference_retry(SOCKET, 1.6, "no daemon", 1.0)
    assert retrying.summary().endswith(f"· {SOCKET} · retrying in 1.6 s")
    connected = retrying.with_inference_connected(SOCKET, 2.0)
    assert connected.kind == "admin_unavailable"
    assert connected.is_ready and connected.ever_ready
    assert connected.summary().endswith("· connected")


def test_unavailable_notice_uses_the_error_title_or_message() -> None:
    titled = Notice("unavailable", "admin unavailable: …", 5.0, TitledError("bad address"))
    assert DaemonState().with_admin_notice(titled, 0).admin_problem == "bad address"
    untitled = Notice("unavailable", "no admin socket configured")
    state = DaemonState().with_admin_notice(untitled, 0)
    assert state.summary().startswith("⚠ admin unavailable (no admin socket configured)")


def test_admin_recovering_from_permission_denied() -> None:
    state = DaemonState().with_admin_notice(Notice("permission_denied", "x", 5.0), 0)
    state = state.with_admin_notice(Notice("connected"), 5).with_admin_event(
        event(status="ready"), 5
    )
    assert state.kind == "ready"
    assert state.admin_problem is None


# --- inference socket (Pattern A) ---------------------------------------------------------


def test_inference_retry_shows_the_address_and_the_next_retry() -> None:
    state = DaemonState().with_inference_retry(SOCKET, 1.6, "no daemon at the socket", 10.0)
    assert state.kind == "disconnected"
    assert state.summary() == f"○ disconnected · {SOCKET} · retrying in 1.6 s"
    assert state.retry_remaining(10.5) == pytest.approx(1.1)
    assert state.retry_remaining(20.0) == 0.0
    assert DaemonState().retry_remaining(0) is None


def test_inference_connected_without_admin_is_ready() -> None:
    state = DaemonState().with_inference_retry(SOCKET, 0.1, "refused", 0)
    state = state.with_inference_connected(SOCKET, 1)
    assert state.kind == "ready" and state.is_ready
    assert state.inference_error is None and state.inference_retry_in is None
    assert state.summary() == f"● ready · {SOCKET}"


def test_inference_lost_without_retry_shows_the_reason() -> None:
    state = DaemonState().with_inference_connected(SOCKET, 0)
    state = state.with_inference_lost(SOCKET, "daemon closed the connection", 1)
    assert state.kind == "disconnected"
    assert state.summary() == f"○ disconnected · {SOCKET} · daemon closed the connection"


def test_admin_state_wins_over_the_inference_socket() -> None:
    state = booted().with_inference_lost(SOCKET, "daemon not serving", 1)
    assert state.kind == "ready"  # admin says ready; the dialer will reconnect
    state = state.with_admin_event(event(status="restarting", phase="mmap", path="/m"), 2)
    state = state.with_inference_retry(SOCKET, 0.4, "refused", 3)
    assert state.kind == "restarting"
    assert state.summary() == "◐ restarting · mmap · loading the model"


# --- admin notices ------------------------------------------------------------------------


def test_admin_retrying_before_anything_is_disconnected() -> None:
    notice = Notice("retrying", "admin unavailable (no socket); retrying in 0.2 s", 0.2)
    state = DaemonState().with_admin_notice(notice, 0)
    assert state.kind == "disconnected"
    assert state.admin_retry_in == 0.2
    assert state.summary() == "○ disconnected · admin unavailable (no socket); retrying in 0.2 s"


def test_admin_eof_disconnects_and_distrusts_the_inference_socket() -> None:
    state = booted().with_inference_connected(SOCKET, 1)
    lost = state.with_admin_notice(Notice("disconnected", "admin disconnected", 0.1), 2)
    assert lost.kind == "disconnected"
    assert not lost.inference_connected
    # Further retries keep it "disconnected" rather than "retrying a fresh start".
    again = lost.with_admin_notice(Notice("retrying", "retrying", 0.2), 3)
    assert again.admin_link == "disconnected" and again.kind == "disconnected"


def test_malformed_notice_changes_nothing_but_the_clock() -> None:
    state = booted()
    after = state.with_admin_notice(Notice("malformed", "skipped a line"), 9.0)
    assert after.kind == "ready" and after.updated_at == 9.0
    assert after.capabilities == state.capabilities


def test_reconnect_resets_capabilities() -> None:
    state = booted()
    assert len(state.capabilities) == 1
    state = state.with_admin_notice(Notice("disconnected", "eof", 0.1), 1)
    state = state.with_admin_notice(Notice("connected", "admin connected"), 2)
    assert state.capabilities == ()
    assert state.admin_event is None
    assert state.era == "0.1"
    state = state.with_admin_event(
        event(status="capabilities", backend="other", accelerator="metal"), 3
    )
    state = state.with_admin_event(event(status="ready"), 3)
    assert state.backends == ("other",)
    assert state.summary() == "● ready · other · metal"


def test_reconnect_mid_download_restarts_the_rate_window() -> None:
    state = DaemonState().with_admin_event(download(MIB), 0).with_admin_event(download(2 * MIB), 1)
    state = state.with_admin_notice(Notice("disconnected", "eof", 0.1), 2)
    assert state.download is None
    state = state.with_admin_notice(Notice("connected"), 3).with_admin_event(download(5 * MIB), 3)
    assert state.download_samples == ((3, 5 * MIB),)


# --- lifecycle markers ----------------------------------------------------------------------


def test_lifecycle_markers_tie_restarts_and_draining_to_the_conversation() -> None:
    ready = booted()
    restarting = ready.with_admin_event(event(status="restarting", phase="mmap", path="/m"), 1)
    assert restarting.lifecycle_marker(ready) == "daemon restarting (mmap)"
    kv = restarting.with_admin_event(event(status="restarting", phase="kv_cache", n_ctx=1), 2)
    assert kv.lifecycle_marker(restarting) is None  # one marker per restart, not per phase
    again = kv.with_admin_event(event(status="ready"), 3)
    assert again.lifecycle_marker(kv) == "daemon ready again"
    draining = again.with_admin_event(event(status="draining"), 4)
    assert draining.lifecycle_marker(again) == "daemon draining"
    gone = draining.with_admin_notice(Notice("disconnected", "eof", 0.1), 5)
    assert gone.lifecycle_marker(draining) == "daemon disconnected"
    bare = ready.with_admin_event(event(status="restarting"), 1)
    assert bare.lifecycle_marker(ready) == "daemon restarting"


def test_no_markers_during_the_first_boot() -> None:
    state = DaemonState().with_inference_retry(SOCKET, 0.1, "refused", 0)
    for line in FIRST_BOOT:
        following = state.with_admin_event(parse_admin_event(line), 1)
        assert following.lifecycle_marker(state) is None
        state = following


def test_a_0_4_daemon_gets_no_marker_of_its_own() -> None:
    ready = booted()
    reconnected = ready.with_admin_notice(Notice("connected"), 1)
    v2 = reconnected.with_admin_event(event(status="capabilities", wire_version=1), 2)
    assert v2.lifecycle_marker(reconnected) is None


def test_states_are_immutable_values() -> None:
    state = DaemonState()
    with pytest.raises(AttributeError):
        state.admin_link = "connected"  # type: ignore[misc]
    assert DaemonState() == DaemonState()
