"""Attachments: how long preparing a phone-sized photo and a minute of audio takes.

A 4,000 × 3,000 JPEG (smooth gradients plus sensor-like noise, quality 90, ≈ 4.4 MB) is
scaled to 2,048 × 1,536 RGB; a 60 s stereo 44.1 kHz WAV becomes mono f32 at 16 kHz. Prints
the first call and the median of the rest.
Target: the photo within 0.5 s on the 2-core dev machine.

Run: .venv/bin/python benchmarks/attachments.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RUNS = 7


def make_photo(path: Path) -> None:
    import numpy as np
    from PIL import Image

    rows, columns = np.mgrid[0:3000, 0:4000]
    rng = np.random.default_rng(0)
    channels = [columns / 4000 * 255, rows / 3000 * 255, (columns + rows) % 256]
    pixels = np.stack(channels, axis=-1) + rng.normal(0, 12, (3000, 4000, 3))
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)


def make_clip(path: Path) -> None:
    import numpy as np
    import soundfile

    t = np.arange(60 * 44_100) / 44_100
    tone = 0.4 * np.sin(2 * np.pi * 440 * t)
    soundfile.write(path, np.stack([tone, tone * 0.8], axis=1), 44_100)


def timed(label: str, call: Callable[[], str]) -> None:
    durations = []
    description = ""
    for _ in range(RUNS):
        started = time.perf_counter()
        description = call()
        durations.append(time.perf_counter() - started)
    print(
        f"{label}: first {durations[0] * 1000:.0f} ms, median of the next {RUNS - 1} "
        f"{statistics.median(durations[1:]) * 1000:.0f} ms — {description}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        photo, clip = Path(directory) / "photo.jpg", Path(directory) / "clip.wav"
        # Making the fixtures imports numpy and Pillow already: "first" is decode warm-up,
        # not import time (benchmarks/startup.py covers imports).
        make_photo(photo)
        make_clip(clip)
        from inferd_tui.client.attachments import prepare_audio, prepare_image

        print(f"photo.jpg {photo.stat().st_size:,} bytes, clip.wav {clip.stat().st_size:,} bytes")
        timed("image 4,000×3,000 JPEG", lambda: prepare_image(photo).describe())
        timed("audio 60 s stereo WAV", lambda: prepare_audio(clip, sample_rate=16_000).describe())


if __name__ == "__main__":
    main()
