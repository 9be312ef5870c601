"""Attachments waiting to go with the next prompt, and whether a daemon can take them. Pure.

A file becomes a :class:`PendingAttachment` once it is decoded (``client.attachments``,
in a worker thread): the exact bytes that will go on the wire plus what a chip shows. Every
refusal is decided here, when the file is attached, never when the prompt is sent:

- :func:`kind_problem` — the daemon cannot take images / audio at all (protocol v1, a
  backend advertising ``vision``/``audio`` false) or audio at this sample rate;
- :func:`limit_problem` — one more attachment would pass a wire limit (32 per request and
  128 MiB of BLOB bytes from 0.6.1, 64 MiB per BLOB frame always, a 64 MiB line with the
  bytes inline as base64 on the 0.2–0.3 NDJSON wire). A request carries every attachment
  of the conversation, so the ones already sent count too.

Each problem is one line naming the limit or the capability.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from inferd_tui.conversation import AttachmentRef
from inferd_tui.proto.capability import DaemonProfile
from inferd_tui.proto.chat import AudioAttachment, ImageAttachment
from inferd_tui.proto.constants import MAX_FRAME_BYTES
from inferd_tui.proto.eras import MAX_ATTACHMENTS, MAX_TOTAL_BLOB_BYTES

if TYPE_CHECKING:
    from inferd_tui.store import Store

AttachmentKind = Literal["image", "audio"]

#: The rate audio is prepared at when the daemon has not said (a common ASR rate).
DEFAULT_AUDIO_RATE = 16_000

_AUDIO_LIKE_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aiff", ".aif"}
)

_KIND_WORDS = {"image": "images", "audio": "audio"}


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


@dataclass(frozen=True)
class PendingAttachment:
    """A decoded file waiting for the next send: the wire bytes and what a chip says."""

    kind: AttachmentKind
    name: str
    # RGB (images) or mono f32le PCM (audio): exactly what goes in the BLOB frame.
    data: bytes = field(repr=False)
    width: int = 0
    height: int = 0
    original_width: int = 0
    original_height: int = 0
    sample_rate: int = 0
    duration_s: float = 0.0
    source: Path | None = None
    # Set once the bytes are kept in the store's blobs (in the worker that prepared them).
    sha256: str = ""

    @property
    def wire_bytes(self) -> int:
        return len(self.data)

    @property
    def scaled(self) -> bool:
        return self.kind == "image" and (self.width, self.height) != (
            self.original_width,
            self.original_height,
        )

    def measure(self) -> str:
        """``4,000×3,000 → 2,048×1,536`` or ``0:12.5 · 16,000 Hz``."""
        if self.kind == "image":
            sent = f"{self.width:,}×{self.height:,}"
            if self.scaled:
                return f"{self.original_width:,}×{self.original_height:,} → {sent}"
            return sent
        return f"{_clock(self.duration_s)} · {self.sample_rate:,} Hz"

    def summary(self) -> str:
        """One line for a chip: name, size or duration, and the bytes on the wire."""
        return f"{self.name} · {self.measure()} · {self.wire_bytes:,} bytes"

    def to_ref(self, sha256: str) -> AttachmentRef:
        """What the user turn keeps once the bytes are stored under ``sha256``."""
        return AttachmentRef(
            kind=self.kind,
            name=self.name,
            sha256=sha256,
            size=self.wire_bytes,
            width=self.width,
            height=self.height,
            original_width=self.original_width,
            original_height=self.original_height,
            sample_rate=self.sample_rate,
            duration_s=self.duration_s,
        )


def wire_attachment(
    ref: AttachmentRef, attachment_id: str, data: bytes
) -> ImageAttachment | AudioAttachment:
    """The request's attachment for ``ref`` with its bytes (``to_chat_request``'s loader)."""
    if ref.kind == "image":
        return ImageAttachment(id=attachment_id, width=ref.width, height=ref.height, data=data)
    return AudioAttachment(id=attachment_id, sample_rate=ref.sample_rate, data=data)


def attachment_loader(
    store: Store,
) -> Callable[[AttachmentRef, str], ImageAttachment | AudioAttachment]:
    """``Conversation.to_chat_request``'s ``load_attachment``: each attachment's bytes read
    back from the store and checked against their hash and size, so a regenerated, edited
    or reopened conversation sends exactly what was sent the first time. Raises
    ``AttachmentMissing`` when they are gone or damaged."""

    def load(ref: AttachmentRef, attachment_id: str) -> ImageAttachment | AudioAttachment:
        return wire_attachment(ref, attachment_id, store.attachment(ref.sha256, ref.size))

    return load


def audio_rate_for(profile: DaemonProfile | None) -> int:
    """The rate to prepare audio at: the backend's ``audio_sample_rate``, else 16 kHz."""
    rate = None if profile is None else profile.audio_sample_rate
    return rate or DEFAULT_AUDIO_RATE


def kind_problem(
    kind: AttachmentKind, profile: DaemonProfile | None, *, sample_rate: int | None = None
) -> str | None:
    """Why this daemon cannot take an attachment of ``kind`` (None: it can, or we can't
    tell yet — an unknown daemon is not a reason to refuse)."""
    if profile is None:
        return None
    what = _KIND_WORDS[kind]
    if profile.wire == "v1":
        return (
            f"{what} need protocol v2 (inferd 0.2 or later); this daemon "
            f"({profile.eras.describe()}) speaks protocol v1 only"
        )
    capability = "vision" if kind == "image" else "audio"
    if profile.any_backend(capability) is False:
        return f"this daemon's backend does not take {what} (capabilities: {capability} false)"
    if kind == "audio" and sample_rate is not None:
        rate = profile.audio_sample_rate
        if rate and sample_rate != rate:
            return (
                f"prepared at {sample_rate:,} Hz, but the backend takes {rate:,} Hz "
                "(the daemon does not resample): attach it again"
            )
    return None


def limit_problem(
    new: PendingAttachment,
    pending: Sequence[PendingAttachment],
    sent: Sequence[AttachmentRef],
    profile: DaemonProfile | None,
) -> str | None:
    """Why ``new`` cannot join ``pending`` (the conversation has already sent ``sent``):
    the first wire limit it would pass, named."""
    if new.wire_bytes > MAX_FRAME_BYTES:
        return (
            f"{new.wire_bytes:,} bytes is past the 64 MiB ({MAX_FRAME_BYTES:,} bytes) "
            "one attachment's BLOB frame can hold"
        )
    count = len(sent) + len(pending) + 1
    total = (
        sum(ref.size for ref in sent) + sum(item.wire_bytes for item in pending) + new.wire_bytes
    )
    sent_note = f" (counting the {len(sent)} already in this conversation)" if sent else ""
    # Unknown daemon: hold to the limits of the newest releases.
    limited = profile is None or profile.eras.any("attachment_limits")
    if limited and count > MAX_ATTACHMENTS:
        return (
            f"a request takes at most {MAX_ATTACHMENTS} attachments (inferd 0.6.1+); "
            f"this would be {count}{sent_note}"
        )
    if limited and total > MAX_TOTAL_BLOB_BYTES:
        return (
            f"a request takes at most 128 MiB ({MAX_TOTAL_BLOB_BYTES:,} bytes) of attachments "
            f"(inferd 0.6.1+); this would be {total:,}{sent_note}"
        )
    if profile is not None and profile.wire == "v2-ndjson":
        inline = 4 * ((total + 2) // 3)
        if inline > MAX_FRAME_BYTES:
            return (
                "the v2 NDJSON wire (inferd 0.2–0.3) sends attachments inline as base64 in one "
                f"64 MiB line; this would be {inline:,} bytes of base64{sent_note}"
            )
    return None


def chip_problem(item: PendingAttachment, profile: DaemonProfile | None) -> str | None:
    """Why an attachment already on a chip cannot go to ``profile``'s daemon (reconnect)."""
    return kind_problem(
        item.kind, profile, sample_rate=item.sample_rate if item.kind == "audio" else None
    )


def prepare_pending(path: str | Path, *, max_side: int, audio_rate: int) -> PendingAttachment:
    """Decode ``path`` (sniffed by content) for the wire. Synchronous and CPU-bound: run it
    in a worker thread. Raises ``AttachmentError`` with one sentence naming the file."""
    from inferd_tui.client.attachments import (
        AttachmentError,
        prepare_audio,
        prepare_image,
        sniff_kind,
    )

    file_path = Path(path)
    kind = sniff_kind(file_path)
    if kind == "image":
        image = prepare_image(file_path, max_side=max_side)
        return PendingAttachment(
            kind="image",
            name=image.name,
            data=image.rgb,
            width=image.width,
            height=image.height,
            original_width=image.original_width,
            original_height=image.original_height,
            source=file_path,
        )
    if kind == "audio":
        audio = prepare_audio(file_path, sample_rate=audio_rate)
        return PendingAttachment(
            kind="audio",
            name=audio.name,
            data=audio.pcm_f32le,
            sample_rate=audio.sample_rate,
            duration_s=audio.duration_s,
            source=file_path,
        )
    # Not an image or audio we take, by content: the decoder the name suggests says what
    # it is instead ("an MP3", "a BMP", "empty", "a directory").
    if file_path.suffix.lower() in _AUDIO_LIKE_SUFFIXES:
        prepare_audio(file_path, sample_rate=audio_rate)
    else:
        prepare_image(file_path, max_side=max_side)
    raise AttachmentError(  # pragma: no cover - the decoders above always refuse it
        f"{file_path} is neither an image nor audio inferd-tui can attach", path=file_path
    )
