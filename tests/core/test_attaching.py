"""Refusals decided when a file is attached: what the daemon cannot take, which limit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from inferd_tui.attaching import (
    PendingAttachment,
    audio_rate_for,
    chip_problem,
    kind_problem,
    limit_problem,
    prepare_pending,
)
from inferd_tui.client.attachments import AttachmentError
from inferd_tui.conversation import AttachmentRef, Conversation
from inferd_tui.proto.capability import BackendCapabilities, DaemonProfile
from inferd_tui.proto.eras import EraRange

V08 = DaemonProfile(
    "v2",
    EraRange.exactly("0.8"),
    (BackendCapabilities(vision=True, audio=True, audio_sample_rate=16_000),),
)
NO_VISION = DaemonProfile("v2", EraRange.exactly("0.8"), (BackendCapabilities(vision=False),))
V1 = DaemonProfile("v1", EraRange.exactly("0.1"))
NDJSON = DaemonProfile("v2-ndjson", EraRange.exactly("0.3"))
V04 = DaemonProfile("v2", EraRange.exactly("0.4"))


def image(size: int = 3 * 16) -> PendingAttachment:
    return PendingAttachment(kind="image", name="a.png", data=b"\0" * size, width=4, height=4)


def test_kind_problems_name_the_capability_or_the_wire() -> None:
    assert kind_problem("image", V08) is None
    assert kind_problem("image", None) is None
    assert "capabilities: vision false" in (kind_problem("image", NO_VISION) or "")
    assert kind_problem("audio", NO_VISION) is None  # no frame says either way
    assert "protocol v1 only" in (kind_problem("audio", V1) or "")
    assert "takes 16,000 Hz" in (kind_problem("audio", V08, sample_rate=44_100) or "")
    assert audio_rate_for(V08) == 16_000
    assert audio_rate_for(None) == 16_000


def test_limits_count_what_the_conversation_already_sent() -> None:
    sent = [AttachmentRef("image", f"{n}.png", "0" * 64, 48) for n in range(31)]
    assert limit_problem(image(), [], sent, V08) is None
    problem = limit_problem(image(), [image()], sent, V08)
    assert problem is not None
    assert "at most 32 attachments (inferd 0.6.1+)" in problem
    assert "31 already in this conversation" in problem
    # 0.4 has no count limit.
    assert limit_problem(image(), [image()], sent, V04) is None


def test_total_and_frame_limits_are_named() -> None:
    big = PendingAttachment(kind="audio", name="a.wav", data=b"\0" * (60 << 20), sample_rate=1)
    assert "128 MiB" in (limit_problem(big, [big, big], [], V08) or "")
    assert limit_problem(big, [big, big], [], V04) is None
    huge = PendingAttachment(kind="audio", name="a.wav", data=b"\0" * ((64 << 20) + 4))
    assert "64 MiB" in (limit_problem(huge, [], [], V04) or "")
    assert "base64" in (limit_problem(big, [], [], NDJSON) or "")


def test_summary_says_size_scaling_and_bytes() -> None:
    scaled = PendingAttachment(
        kind="image",
        name="photo.jpg",
        data=b"\0" * (2048 * 1536 * 3),
        width=2048,
        height=1536,
        original_width=4000,
        original_height=3000,
    )
    assert scaled.summary() == "photo.jpg · 4,000×3,000 → 2,048×1,536 · 9,437,184 bytes"
    clip = PendingAttachment(
        kind="audio", name="memo.wav", data=b"\0" * 4 * 16_000, sample_rate=16_000, duration_s=1
    )
    assert clip.summary() == "memo.wav · 0:01.0 · 16,000 Hz · 64,000 bytes"
    assert (
        chip_problem(
            clip,
            DaemonProfile(
                "v2",
                EraRange.exactly("0.8"),
                (BackendCapabilities(audio=True, audio_sample_rate=24_000),),
            ),
        )
        is not None
    )
    ref = scaled.to_ref("ab" * 32)
    assert (ref.size, ref.width, ref.original_width) == (9_437_184, 2048, 4000)


def test_prepare_pending_sniffs_by_content(tmp_path: Path) -> None:
    png = tmp_path / "picture.dat"
    Image.new("RGB", (3, 2), (1, 2, 3)).save(png, format="PNG")
    prepared = prepare_pending(png, max_side=2048, audio_rate=16_000)
    assert (prepared.kind, prepared.data) == ("image", bytes([1, 2, 3]) * 6)
    wav = tmp_path / "memo.wav"
    soundfile.write(wav, np.zeros(8_000, dtype=np.float32), 8_000)
    clip = prepare_pending(wav, max_side=2048, audio_rate=16_000)
    assert (clip.kind, clip.sample_rate, clip.wire_bytes) == ("audio", 16_000, 64_000)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(AttachmentError, match=r"notes\.png"):
        prepare_pending(text, max_side=2048, audio_rate=16_000)
    mp3 = tmp_path / "song.mp3"
    mp3.write_bytes(b"ID3" + b"\0" * 64)
    with pytest.raises(AttachmentError, match=r"song\.mp3"):
        prepare_pending(mp3, max_side=2048, audio_rate=16_000)


def test_a_preview_checks_the_sizes_it_was_given_instead_of_missing_bytes() -> None:
    from inferd_tui.proto.capability import request_problems
    from inferd_tui.request_options import RequestOptions

    talk = Conversation()
    talk.add_user("look").attachments = [
        AttachmentRef("image", "a.png", "ab" * 32, 48, width=4, height=4)
    ]
    request = talk.to_chat_request(RequestOptions())  # no loader: no bytes
    assert any("not 0" in p.message for p in request_problems(request, V08))
    assert request_problems(request, V08, blob_sizes={"img-1": 48}) == []
    wrong = request_problems(request, V08, blob_sizes={"img-1": 47})
    assert [p.message for p in wrong] == ["img-1: 4×4 RGB is 48 bytes, not 47"]
