"""Prepare image and audio files for the v2 wire's attachment BLOBs (protocol-v2 §3–§4).

The daemon takes no file formats: an image attachment is ``width*height*3`` bytes of
interleaved 8-bit RGB, an audio attachment is mono little-endian f32 PCM at the backend's
``audio_sample_rate``. This module turns a user's file into those bytes::

    image = prepare_image("photo.jpg")           # PreparedImage: width, height, rgb
    audio = prepare_audio("memo.wav", sample_rate=16_000)  # PreparedAudio: pcm_f32le

Every refusal is one :class:`AttachmentError` whose hint is a sentence naming the file.
Memory stays bounded on hostile input: the pixel count is checked from the header before
any pixel is decoded, the result always fits one 64 MiB BLOB, and audio is decoded and
resampled block by block against the same cap.

Pillow, numpy, soundfile and soxr are imported inside the functions only, so importing this
module (and the client with it) costs nothing until a file is attached. The work is
synchronous and CPU-bound: async callers run it in a worker thread
(``anyio.to_thread.run_sync``).
"""

from __future__ import annotations

import os
import stat
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from inferd_tui.proto.errors import InferdError

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = [
    "AUDIO_SUFFIXES",
    "IMAGE_SUFFIXES",
    "MAX_BLOB_BYTES",
    "AttachmentError",
    "PreparedAudio",
    "PreparedImage",
    "fit_within",
    "pixel_limit",
    "prepare_audio",
    "prepare_image",
    "sniff_kind",
]

#: The v2 wire's cap on one BLOB frame (protocol-v2 §2, §4): exactly 64 MiB is allowed.
MAX_BLOB_BYTES = 64 * 1024 * 1024

#: Default long-side limit for images: vision encoders resample to far less anyway, and a
#: 2,048 px image is 12 MiB of RGB instead of a phone photo's 36+ MiB.
DEFAULT_MAX_SIDE = 2048

#: For a file picker's filter. Content decides, not the suffix: see :func:`sniff_kind`.
IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".gif"}
)
AUDIO_SUFFIXES: frozenset[str] = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".opus"})

# Pillow's MAX_IMAGE_PIXELS default (1 GiB / 4 / 3). Used when a host program has set
# Pillow's global to None: attachments stay protected whatever the global says.
_PILLOW_DEFAULT_MAX_PIXELS = 89_478_485

_IMAGE_FORMAT_NAMES = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "GIF": "GIF"}
_AUDIO_FORMAT_NAMES = {"WAV": "WAV", "WAVEX": "WAV", "RF64": "WAV", "FLAC": "FLAC", "OGG": "OGG"}
_ACCEPTED_IMAGES = "use PNG, JPEG, WebP or GIF"
_ACCEPTED_AUDIO = "use WAV, FLAC or OGG (Vorbis or Opus)"

# Enough for every signature below (the longest reaches offset 12).
_SNIFF_BYTES = 32

# One image decodes at a time: warnings.catch_warnings() swaps process-global filters, so
# two threads inside it could restore each other's; and a full-size decode is the one large
# allocation here, so serialising it also bounds memory when several files are attached.
_IMAGE_DECODE_LOCK = threading.Lock()

# Frames decoded per block: 64 Ki frames of 8-channel f32 is 2 MiB, whatever the clip length.
_AUDIO_BLOCK_FRAMES = 65_536


class AttachmentError(InferdError):
    """A file cannot be attached; ``hint`` is one sentence naming ``path``."""

    title = "cannot attach"

    def __init__(self, hint: str, *, path: Path, title: str | None = None) -> None:
        super().__init__(hint, title=title)
        self.path = path


@dataclass(frozen=True)
class PreparedImage:
    """An image decoded to the wire's RGB: ``len(rgb) == width * height * 3``.

    ``original_width``/``original_height`` are the upright size (after EXIF orientation),
    so the UI can say how much it was scaled.
    """

    path: Path
    name: str
    source_format: str
    original_width: int
    original_height: int
    width: int
    height: int
    # Megabytes: kept out of repr so a log line or traceback does not print them.
    rgb: bytes = field(repr=False)

    @property
    def scaled(self) -> bool:
        return (self.width, self.height) != (self.original_width, self.original_height)

    @property
    def wire_bytes(self) -> int:
        """Bytes of the BLOB frame's payload."""
        return len(self.rgb)

    def describe(self) -> str:
        """``photo.jpg 4,000×3,000 → 2,048×1,536, 9,437,184 bytes``."""
        sent = f"{self.width:,}×{self.height:,}"
        if self.scaled:
            sent = f"{self.original_width:,}×{self.original_height:,} → {sent}"
        return f"{self.name} {sent}, {self.wire_bytes:,} bytes"


@dataclass(frozen=True)
class PreparedAudio:
    """A clip decoded to mono little-endian f32 PCM at ``sample_rate``."""

    path: Path
    name: str
    source_format: str
    original_rate: int
    channels: int
    sample_rate: int
    duration_s: float
    pcm_f32le: bytes = field(repr=False)

    @property
    def samples(self) -> int:
        return len(self.pcm_f32le) // 4

    @property
    def wire_bytes(self) -> int:
        """Bytes of the BLOB frame's payload."""
        return len(self.pcm_f32le)

    def describe(self) -> str:
        """``memo.wav 0:12.5, 44,100 Hz stereo → 16,000 Hz mono, 800,000 bytes``."""
        layout = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return (
            f"{self.name} {_clock(self.duration_s)}, {self.original_rate:,} Hz {layout} → "
            f"{self.sample_rate:,} Hz mono, {self.wire_bytes:,} bytes"
        )


# --------------------------------------------------------------------------- pure helpers


def fit_within(width: int, height: int, max_side: int, max_bytes: int) -> tuple[int, int]:
    """The largest size with the image's aspect ratio within both bounds; never larger.

    ``max_side`` bounds the long side (0: no bound); ``max_bytes`` bounds ``w * h * 3``.
    The short side is rounded from the long side, so the aspect ratio holds to within one
    pixel, and the answer is symmetric: swapping width and height swaps the result (an
    EXIF-rotated photo gets the same treatment either way).
    """
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}×{height}")
    if max_side < 0:
        raise ValueError(f"max_side must be 0 (no limit) or positive, got {max_side}")
    if max_bytes < 3:
        raise ValueError(f"max_bytes must hold at least one RGB pixel, got {max_bytes}")
    long_side, short_side = max(width, height), min(width, height)

    def short_for(long_px: int) -> int:
        # Integer rounding of short_side * long_px / long_side: exact for huge sizes too.
        return max(1, (2 * short_side * long_px + long_side) // (2 * long_side))

    budget = max_bytes // 3
    target = long_side if max_side == 0 else min(long_side, max_side)
    if target * short_for(target) > budget:
        # The pixel count grows with the long side: binary-search the largest long side
        # whose rounded size fits (a few dozen steps even for extreme aspect ratios).
        low, high = 1, target
        while low < high:
            middle = (low + high + 1) // 2
            if middle * short_for(middle) <= budget:
                low = middle
            else:
                high = middle - 1
        target = low
    fitted = (target, short_for(target))
    return fitted if width >= height else (fitted[1], fitted[0])


def pixel_limit() -> int:
    """Pixels past which an image is refused unread: where Pillow itself refuses a bomb.

    Pillow raises ``DecompressionBombError`` past ``2 * Image.MAX_IMAGE_PIXELS``
    (178,956,970 by default). Read at call time so a host's own setting is honoured, but
    never unlimited: attachments are untrusted files.
    """
    from PIL import Image

    return 2 * (Image.MAX_IMAGE_PIXELS or _PILLOW_DEFAULT_MAX_PIXELS)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


def _duration_words(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


# --------------------------------------------------------------------------- sniffing


def _image_signature(head: bytes) -> str | None:
    """The accepted image format the first bytes announce (Pillow's format name)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _audio_signature(head: bytes) -> str | None:
    """The accepted audio container the first bytes announce."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "WAV"
    if head.startswith(b"fLaC"):
        return "FLAC"
    if head.startswith(b"OggS"):
        return "OGG"
    return None


def _other_audio_name(head: bytes) -> str | None:
    """Names common audio formats that are refused, so the refusal can say which."""
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "MP3"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"M4B", b"mp4", b"iso"):
        return "MP4/M4A"
    return None


def sniff_kind(path: str | os.PathLike[str]) -> Literal["image", "audio"] | None:
    """Whether ``path`` holds an attachable image or audio file, from its first bytes.

    Cheap (one stat, one small read) and never raises: ``None`` for anything else, a
    missing file, a directory or an unreadable one. Decides whether a pasted path becomes
    an attachment; :func:`prepare_image`/:func:`prepare_audio` still validate it fully.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except (OSError, ValueError):
        return None
    if _image_signature(head):
        return "image"
    if _audio_signature(head):
        return "audio"
    return None


# --------------------------------------------------------------------------- file access


def _open_checked(path: Path) -> IO[bytes]:
    """Open a regular, non-empty file for reading, or refuse it in one sentence.

    The stat comes first so a FIFO or device (which could block or never end) is never
    opened, and a directory gets its own wording.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise AttachmentError(f"{path} does not exist", path=path) from exc
    except NotADirectoryError as exc:
        raise AttachmentError(
            f"{path} does not exist (a part of the path is a file)", path=path
        ) from exc
    except PermissionError as exc:
        raise AttachmentError(
            f"{path} cannot be read: permission denied on its directory", path=path
        ) from exc
    except (OSError, ValueError) as exc:
        raise AttachmentError(f"{path} cannot be read: {_reason(exc)}", path=path) from exc
    if stat.S_ISDIR(info.st_mode):
        raise AttachmentError(f"{path} is a directory, not a file", path=path)
    if not stat.S_ISREG(info.st_mode):
        raise AttachmentError(f"{path} is not a regular file (a device, pipe or socket)", path=path)
    if info.st_size == 0:
        raise AttachmentError(f"{path} is empty (0 bytes)", path=path)
    try:
        return open(path, "rb")
    except PermissionError as exc:
        raise AttachmentError(f"{path} cannot be read: permission denied", path=path) from exc
    except OSError as exc:
        raise AttachmentError(f"{path} cannot be read: {_reason(exc)}", path=path) from exc


def _reason(exc: BaseException) -> str:
    """A short reason from a low-level exception, for the end of a sentence."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    text = str(exc).strip().rstrip(".")
    return text or type(exc).__name__


# --------------------------------------------------------------------------- images


def _image_factory(fmt: str) -> Callable[[IO[bytes]], PILImage.Image]:
    """The Pillow plugin class that parses a ``fmt`` header.

    Used instead of ``Image.open``: ``Image.open`` raises ``DecompressionBombError``
    without returning the image, so the refusal could not name the size. The plugins read
    only the header here (decoding waits for ``load()``).
    """
    from PIL import GifImagePlugin, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

    factories: dict[str, Callable[[IO[bytes]], PILImage.Image]] = {
        "PNG": PngImagePlugin.PngImageFile,
        # The plain JPEG class, not jpeg_factory: a camera's MPO (multi-picture JPEG) is
        # read as its first, primary picture and not refused as "MPO".
        "JPEG": JpegImagePlugin.JpegImageFile,
        "GIF": GifImagePlugin.GifImageFile,
        "WEBP": WebPImagePlugin.WebPImageFile,
    }
    return factories[fmt]


def _other_image_name(fh: IO[bytes]) -> str | None:
    """The format name Pillow gives a file that is not one of the accepted four."""
    from PIL import Image

    fh.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(fh) as im:
                return str(im.format) if im.format else None
    except Exception:
        # Naming the format is a courtesy: any failure just means "not an image".
        return None


def _bomb_refusal(path: Path, width: int, height: int, limit: int) -> AttachmentError:
    megapixels = width * height / 1_000_000
    return AttachmentError(
        f"{path}: {width:,} × {height:,} px ({megapixels:,.0f} MP) is past the {limit:,}-pixel "
        "decompression-bomb limit; nothing was decoded",
        path=path,
        title="image too large",
    )


def _to_rgb_or_l(im: PILImage.Image) -> PILImage.Image:
    """The decoded image as 8-bit "RGB" or "L": alpha composited over white, CMYK through
    its ICC profile when it has one, 16-bit grey scaled (Pillow's own conversion clips it).
    """
    from PIL import Image

    mode = im.mode
    if mode in ("RGB", "L"):
        # A colour-key transparency (PNG tRNS on RGB/L) still needs compositing.
        if "transparency" not in im.info:
            return im
        im = im.convert("RGBA")
    elif mode == "1":
        return im.convert("L")
    elif mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        return _sixteen_bit_to_l(im)
    elif mode == "CMYK":
        return _cmyk_to_rgb(im)
    elif mode in ("P", "PA", "LA", "La", "RGBA", "RGBa"):
        im = im.convert("RGBA")
    else:
        # RGBX, YCbCr, LAB, HSV, F: Pillow's conversions are right for these.
        return im.convert("RGB")
    # Alpha over white: the daemon takes no alpha, and white is how viewers show it.
    background = Image.new("RGB", im.size, (255, 255, 255))
    background.paste(im, mask=im.getchannel("A"))
    return background


def _sixteen_bit_to_l(im: PILImage.Image) -> PILImage.Image:
    import numpy as np
    from PIL import Image

    values = np.asarray(im, dtype=np.float32)
    # 65,535 → 255: divide by 257 (0x101), the exact 16 → 8 bit map.
    eight_bit = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
    return Image.fromarray(eight_bit)


def _cmyk_to_rgb(im: PILImage.Image) -> PILImage.Image:
    icc = im.info.get("icc_profile")
    if icc:
        try:
            import io

            from PIL import ImageCms

            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                im, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
        except Exception:
            # A broken or unsupported profile: Pillow's plain conversion is still usable.
            pass
    return im.convert("RGB")


def prepare_image(
    path: str | os.PathLike[str], *, max_side: int = DEFAULT_MAX_SIDE
) -> PreparedImage:
    """Decode a PNG, JPEG, WebP or GIF (first frame) to upright 8-bit RGB for the wire.

    The long side is scaled down to ``max_side`` (0: never for that reason), and always so
    that ``width * height * 3`` fits :data:`MAX_BLOB_BYTES`. The format is sniffed from the
    content, not the suffix. Raises :class:`AttachmentError` with one sentence naming the
    file for anything else: a bomb-sized header (refused before decoding), a truncated or
    corrupt file, another format, an empty, missing or unreadable file, a directory.
    """
    from PIL import Image

    if max_side < 0:
        raise ValueError(f"max_side must be 0 (no limit) or positive, got {max_side}")
    file_path = Path(path)
    with _IMAGE_DECODE_LOCK, _open_checked(file_path) as fh:
        head = fh.read(_SNIFF_BYTES)
        fmt = _image_signature(head)
        if fmt is None:
            other = _other_image_name(fh)
            if other is not None:
                raise AttachmentError(
                    f"{file_path}: {other} is not an image format inferd-tui attaches; "
                    f"{_ACCEPTED_IMAGES}",
                    path=file_path,
                )
            raise AttachmentError(
                f"{file_path} is not an image (its content is not PNG, JPEG, WebP or GIF)",
                path=file_path,
            )
        fh.seek(0)
        limit = pixel_limit()
        try:
            # Pillow warns (GIF frames can grow the canvas) before it refuses: a warning
            # here is a refusal too, and must not print over the terminal UI.
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im = _image_factory(fmt)(fh)
                return _decode_image(im, file_path, max_side, limit)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            # Only a size found while decoding gets here (a GIF frame growing the canvas):
            # Pillow warns past half the limit, and that is the number to name then.
            passed = limit if isinstance(exc, Image.DecompressionBombError) else limit // 2
            raise AttachmentError(
                f"{file_path}: Pillow stopped decoding it as a possible decompression bomb "
                f"(its frames grow past the {passed:,}-pixel limit)",
                path=file_path,
                title="image too large",
            ) from exc
        except AttachmentError:
            raise
        except MemoryError as exc:
            raise AttachmentError(
                f"{file_path} is too large to decode in the memory available", path=file_path
            ) from exc
        except Exception as exc:
            # Hostile bytes reach Pillow's decoders, which fail in many types: OSError
            # ("image file is truncated"), SyntaxError ("not a PNG file"), struct.error,
            # ValueError, EOFError. All of them mean the same thing to the user.
            raise AttachmentError(
                f"{file_path} is truncated or corrupt: Pillow could not decode it as "
                f"{_IMAGE_FORMAT_NAMES[fmt]} ({_reason(exc)})",
                path=file_path,
            ) from exc


def _decode_image(
    im: PILImage.Image,
    path: Path,
    max_side: int,
    limit: int,
) -> PreparedImage:
    """Check the header's size, decode (reduced when scaling), normalise and scale."""
    from PIL import Image, ImageOps

    # Defence in depth: the sniffed class decided the format, the plugin must agree.
    if im.format not in _IMAGE_FORMAT_NAMES:
        raise AttachmentError(
            f"{path}: {im.format} is not an image format inferd-tui attaches; {_ACCEPTED_IMAGES}",
            path=path,
        )
    source_format = _IMAGE_FORMAT_NAMES[im.format]
    stored_width, stored_height = im.size
    if stored_width * stored_height > limit:
        raise _bomb_refusal(path, stored_width, stored_height, limit)
    # fit_within is symmetric, so the target computed on the stored (pre-rotation) size is
    # the upright target transposed.
    target = fit_within(stored_width, stored_height, max_side, MAX_BLOB_BYTES)
    if target != (stored_width, stored_height) and im.format == "JPEG":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale while staying at least twice the
        # target (as Image.thumbnail does), so the final LANCZOS pass still has detail.
        im.draft("RGB", (target[0] * 2, target[1] * 2))
    im.load()
    # Upright before anything else; in place, so no copy of the full-size image is made.
    before = im.size
    ImageOps.exif_transpose(im, in_place=True)
    rotated = im.size != before
    original_width, original_height = (
        (stored_height, stored_width) if rotated else (stored_width, stored_height)
    )
    final_size = (target[1], target[0]) if rotated else target
    normalised = _to_rgb_or_l(im)
    if normalised.size != final_size:
        normalised = normalised.resize(final_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if normalised.mode != "RGB":
        normalised = normalised.convert("RGB")
    rgb = normalised.tobytes()
    width, height = normalised.size
    return PreparedImage(
        path=path,
        name=path.name,
        source_format=source_format,
        original_width=original_width,
        original_height=original_height,
        width=width,
        height=height,
        rgb=rgb,
    )


# --------------------------------------------------------------------------- audio


def prepare_audio(path: str | os.PathLike[str], *, sample_rate: int) -> PreparedAudio:
    """Decode WAV, FLAC or OGG (Vorbis, Opus) to mono f32 PCM at ``sample_rate``.

    ``sample_rate`` is the backend's ``audio_sample_rate`` (the daemon does not
    resample). Channels are averaged; the clip is read and resampled in blocks, and
    refused before decoding when its samples at ``sample_rate`` would pass the 64 MiB BLOB
    cap. Raises :class:`AttachmentError` naming the file for anything it cannot attach.
    """
    import numpy as np
    import soundfile  # type: ignore[import-untyped]
    import soxr  # type: ignore[import-untyped]

    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    file_path = Path(path)
    with _open_checked(file_path) as fh:
        head = fh.read(_SNIFF_BYTES)
        container = _audio_signature(head)
        if container is None:
            other = _other_audio_name(head) or (
                _IMAGE_FORMAT_NAMES.get(_image_signature(head) or "")
            )
            if other is not None:
                raise AttachmentError(
                    f"{file_path}: {other} is not an audio format inferd-tui attaches; "
                    f"{_ACCEPTED_AUDIO}",
                    path=file_path,
                )
            raise AttachmentError(
                f"{file_path} is not audio (its content is not WAV, FLAC or OGG)",
                path=file_path,
            )
        fh.seek(0)
        try:
            sound = soundfile.SoundFile(fh)
        except (RuntimeError, ValueError, TypeError, OSError) as exc:
            # LibsndfileError is a RuntimeError: a header libsndfile cannot parse.
            raise AttachmentError(
                f"{file_path} is truncated or corrupt: it could not be decoded as {container} "
                f"audio ({_reason(exc)})",
                path=file_path,
            ) from exc
        with sound:
            source_format = _AUDIO_FORMAT_NAMES.get(str(sound.format))
            if source_format is None:
                raise AttachmentError(
                    f"{file_path}: {sound.format} is not an audio format inferd-tui attaches; "
                    f"{_ACCEPTED_AUDIO}",
                    path=file_path,
                )
            original_rate = int(sound.samplerate)
            channels = int(sound.channels)
            frames = int(sound.frames)
            # Samples after resampling, rounded up: the size of the BLOB to come.
            max_samples = MAX_BLOB_BYTES // 4
            expected = -(-frames * sample_rate // original_rate)
            if expected > max_samples:
                raise AttachmentError(
                    f"{file_path} lasts {_duration_words(frames / original_rate)}; at "
                    f"{sample_rate:,} Hz its mono f32 samples would take {expected * 4:,} bytes, "
                    f"past the 64 MiB attachment cap (at most "
                    f"{_duration_words(max_samples / sample_rate)} at this rate); nothing was "
                    "decoded",
                    path=file_path,
                    title="audio too long",
                )
            resampler = (
                soxr.ResampleStream(original_rate, sample_rate, 1, dtype="float32")
                if original_rate != sample_rate
                else None
            )
            chunks: list[Any] = []
            decoded_frames = 0
            produced = 0
            try:
                for block in sound.blocks(
                    blocksize=_AUDIO_BLOCK_FRAMES, dtype="float32", always_2d=True
                ):
                    decoded_frames += len(block)
                    mono = block.mean(axis=1, dtype=np.float32)
                    out = mono if resampler is None else resampler.resample_chunk(mono)
                    produced += len(out)
                    # A header can understate the length: keep the cap while decoding.
                    if produced > max_samples:
                        raise AttachmentError(
                            f"{file_path} decodes to more than the 64 MiB attachment cap "
                            f"(at most {_duration_words(max_samples / sample_rate)} at "
                            f"{sample_rate:,} Hz)",
                            path=file_path,
                            title="audio too long",
                        )
                    chunks.append(out)
                if resampler is not None:
                    chunks.append(resampler.resample_chunk(np.zeros(0, np.float32), last=True))
            except AttachmentError:
                raise
            except (RuntimeError, ValueError, TypeError, OSError) as exc:
                raise AttachmentError(
                    f"{file_path} is truncated or corrupt: decoding it as {container} audio "
                    f"failed ({_reason(exc)})",
                    path=file_path,
                ) from exc
    if decoded_frames == 0:
        raise AttachmentError(f"{file_path} contains no audio samples", path=file_path)
    pcm = np.concatenate(chunks).astype("<f4", copy=False)[:max_samples]
    return PreparedAudio(
        path=file_path,
        name=file_path.name,
        source_format=source_format,
        original_rate=original_rate,
        channels=channels,
        sample_rate=sample_rate,
        duration_s=decoded_frames / original_rate,
        pcm_f32le=pcm.tobytes(),
    )
