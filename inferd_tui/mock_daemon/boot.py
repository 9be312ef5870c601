"""Admin event scripts: boot (instant / first boot), restart, capabilities (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from inferd_tui.mock_daemon.config import MockConfig
from inferd_tui.proto import ADMIN_FRAME_ID
from inferd_tui.proto.eras import features

#: The real daemon reports download progress every 32 MiB (or 5 s).
DOWNLOAD_STEP_BYTES = 32 * 1024 * 1024

MODEL_PATH = str(PurePosixPath("/home/user/.inferd/models/gemma-4-e4b.gguf"))
SOURCE_URL = "https://example.invalid/gemma-4-e4b.gguf"
#: The path the real ``mock`` backend reports while "checking" its model.
MOCK_MODEL_PATH = "(mock)"


def status_event(status: str, **details: Any) -> dict[str, Any]:
    return {"id": ADMIN_FRAME_ID, "type": "status", "status": status, **details}


@dataclass(frozen=True)
class Step:
    """One admin event, then a pause of ``hold_s`` before the next step."""

    event: dict[str, Any]
    hold_s: float = 0.0


def capabilities_event(config: MockConfig) -> dict[str, Any] | None:
    """The one ``capabilities`` frame of this daemon's backend, or None for era 0.1."""
    if config.era == "0.1":
        return None
    details: dict[str, Any] = {
        "backend": config.backend,
        "v2": features(config.era).length_prefixed,
        "vision": False,
        "audio": False,
        "tools": False,
        "thinking": False,
        "embed": False,
        "accelerator": "cpu",
        "gpu_layers": 0,
    }
    if config.boot == "first-boot":
        # A GPU machine that just downloaded a model: gives the status view more to show.
        details.update(
            accelerator="cuda",
            gpu_layers=43,
            thinking=True,
            device_name="NVIDIA GeForce RTX 4070 (simulated)",
            vram_total_bytes=12_878_086_144,
        )
    if features(config.era).length_prefixed:
        details["wire_version"] = 2
    return status_event("capabilities", **details)


def download_steps(config: MockConfig, status: str = "loading_model") -> list[Step]:
    """Progress frames from 0 to the total in 32 MiB steps, spread over the duration."""
    total = config.download_total_bytes
    marks = [*range(0, total, DOWNLOAD_STEP_BYTES), total]
    hold = config.download_duration_s / max(len(marks) - 1, 1)
    return [
        Step(
            status_event(
                status,
                phase="download",
                downloaded_bytes=downloaded,
                total_bytes=total if config.download_total_known else None,
                source_url=SOURCE_URL,
            ),
            hold,
        )
        for downloaded in marks
    ]


def boot_steps(config: MockConfig) -> list[Step]:
    """Everything published between ``starting`` and ``ready`` (both excluded)."""
    steps: list[Step]
    if config.boot == "instant":
        steps = [Step(status_event("loading_model", phase="checking_local", path=MOCK_MODEL_PATH))]
    else:
        hold = config.phase_hold_s
        steps = [
            Step(status_event("loading_model", phase="checking_local", path=MODEL_PATH), hold),
            *download_steps(config),
            Step(status_event("loading_model", phase="verify", path=MODEL_PATH), hold),
            Step(status_event("loading_model", phase="mmap", path=MODEL_PATH), hold),
            Step(status_event("loading_model", phase="kv_cache", n_ctx=config.n_ctx), hold),
        ]
    capabilities = capabilities_event(config)
    if capabilities is not None:
        # Held like the phases before it, so a watcher sees it before `ready` arrives.
        steps.append(Step(capabilities, 0.0 if config.boot == "instant" else config.phase_hold_s))
    return steps


def restart_steps(config: MockConfig) -> list[Step]:
    """``restarting`` with the loading phases (the model is already on disk)."""
    path = MOCK_MODEL_PATH if config.boot == "instant" else MODEL_PATH
    hold = config.phase_hold_s
    return [
        Step(status_event("restarting", phase="checking_local", path=path), hold),
        Step(status_event("restarting", phase="mmap", path=path), hold),
        Step(status_event("restarting", phase="kv_cache", n_ctx=config.n_ctx), hold),
    ]
