"""Attachments: files → the v2 wire's RGB and f32 bytes; every bad file → one sentence.

All fixtures are made here with Pillow, numpy and soundfile: no binary files are committed.
"""

from __future__ import annotations

import errno
import io
import os
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from inferd_tui.client import attachments
from inferd_tui.client.attachments import (
    AUDIO_SUFFIXES,
    IMAGE_SUFFIXES,
    MAX_BLOB_BYTES,
    AttachmentError,
    PreparedAudio,
    PreparedImage,
    fit_within,
    pixel_limit,
    prepare_audio,
    prepare_image,
    sniff_kind,
)
from inferd_tui.proto.errors import InferdError

RED = (220, 30, 30)
BLUE = (30, 30, 220)


def noise_image(width: int, height: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    shape = (height, width, channels) if channels > 1 else (height, width)
    pixels = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    return Image.fromarray(pixels, mode=mode)


def pixel(prepared: PreparedImage, x: int, y: int) -> tuple[int, int, int]:
    offset = (y * prepared.width + x) * 3
    r, g, b = prepared.rgb[offset : offset + 3]
    return (r, g, b)


def assert_refused(path: Path, match: str, **kwargs: Any) -> AttachmentError:
    with pytest.raises(AttachmentError, match=match) as caught:
        prepare_image(path, **kwargs)
    error = caught.value
    assert error.path == path
    assert str(path) in error.hint, "the sentence names the file"
    assert "\n" not in error.hint
    return error


# --------------------------------------------------------------------------- images


@pytest.mark.parametrize(
    ("suffix", "save_args", "source_format"),
    [
        (".png", {}, "PNG"),
        (".webp", {"lossless": True}, "WebP"),
        (".gif", {}, "GIF"),
    ],
)
def test_lossless_formats_give_exactly_pillows_rgb(
    tmp_path: Path, suffix: str, save_args: dict[str, Any], source_format: str
) -> None:
    path = tmp_path / f"picture{suffix}"
    source = noise_image(97, 61)
    if suffix == ".gif":
        # GIF is palette-only: quantise first so the file holds exactly these colours.
        source = source.quantize(64).convert("RGB")
    source.save(path, **save_args)

    prepared = prepare_image(path)

    assert prepared.source_format == source_format
    assert (prepared.width, prepared.height) == (97, 61)
    assert not prepared.scaled
    with Image.open(path) as reference:
        assert prepared.rgb == reference.convert("RGB").tobytes()
    assert prepared.wire_bytes == 97 * 61 * 3 == len(prepared.rgb)


def test_jpeg_unscaled_matches_pillows_decode(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    noise_image(320, 200).save(path, quality=90)

    prepared = prepare_image(path)

    assert prepared.source_format == "JPEG"
    with Image.open(path) as reference:
        assert prepared.rgb == reference.convert("RGB").tobytes()
    assert prepared.describe() == "photo.jpg 320×200, 192,000 bytes"


def test_gif_gives_its_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (16, 8), RED), Image.new("RGB", (16, 8), BLUE)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)

    prepared = prepare_image(path)

    assert prepared.source_format == "GIF"
    assert set(zip(*[iter(prepared.rgb)] * 3, strict=True)) == {RED}


def test_alpha_is_composited_over_white(tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    image = Image.new("RGBA", (4, 1), (0, 0, 0, 0))
    image.putpixel((1, 0), (255, 0, 0, 255))
    image.putpixel((2, 0), (255, 0, 0, 128))
    image.putpixel((3, 0), (0, 0, 255, 0))  # colour under zero alpha must not show
    image.save(path)

    prepared = prepare_image(path)

    assert pixel(prepared, 0, 0) == (255, 255, 255)
    assert pixel(prepared, 1, 0) == (255, 0, 0)
    red, green, blue = pixel(prepared, 2, 0)
    assert red == 255
    assert abs(green - 127) <= 1 and abs(blue - 127) <= 1
    assert pixel(prepared, 3, 0) == (255, 255, 255)
    assert len(prepared.rgb) == 4 * 3, "no alpha channel on the wire"


@pytest.mark.parametrize("mode", ["LA", "P"])
def test_grey_alpha_and_palette_transparency_over_white(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"transparent-{mode}.png"
    if mode == "LA":
        image = Image.new("LA", (2, 1), (0, 0))
        image.putpixel((1, 0), (0, 255))
        image.save(path)
    else:
        image = Image.new("P", (2, 1), 0)
        image.putpalette([0, 0, 0, 200, 0, 0] + [0] * (254 * 3))
        image.putpixel((1, 0), 1)
        image.save(path, transparency=0)

    prepared = prepare_image(path)

    assert pixel(prepared, 0, 0) == (255, 255, 255)
    assert pixel(prepared, 1, 0) == ((0, 0, 0) if mode == "LA" else (200, 0, 0))


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    path = tmp_path / "depth.png"
    levels = np.array([[0, 257 * 64, 257 * 128, 65535]], dtype=np.uint16)
    Image.fromarray(levels).save(path)

    prepared = prepare_image(path)

    assert [pixel(prepared, x, 0) for x in range(4)] == [
        (0, 0, 0),
        (64, 64, 64),
        (128, 128, 128),
        (255, 255, 255),
    ]


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(path, quality=95)  # pure red ink

    prepared = prepare_image(path)

    red, green, blue = pixel(prepared, 4, 4)
    assert red > 200 and green < 60 and blue < 60
    assert len(prepared.rgb) == 8 * 8 * 3


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    """Stored 40×20 with red left, blue right; orientation 6 shows it rotated 90° clockwise:
    20 wide, 40 tall, red on top."""
    path = tmp_path / "phone.jpg"
    image = Image.new("RGB", (40, 20), RED)
    image.paste(BLUE, (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, exif=exif, quality=95)

    prepared = prepare_image(path)

    assert (prepared.width, prepared.height) == (20, 40)
    assert (prepared.original_width, prepared.original_height) == (20, 40)
    assert not prepared.scaled
    top, bottom = pixel(prepared, 10, 5), pixel(prepared, 10, 35)
    assert top[0] > 180 and top[2] < 80, top
    assert bottom[2] > 180 and bottom[0] < 80, bottom


def test_exif_orientation_with_scaling_reports_upright_sizes(tmp_path: Path) -> None:
    path = tmp_path / "tall.jpg"
    exif = Image.Exif()
    exif[0x0112] = 8
    Image.new("RGB", (3000, 1000), RED).save(path, exif=exif)

    prepared = prepare_image(path, max_side=600)

    assert (prepared.original_width, prepared.original_height) == (1000, 3000)
    assert (prepared.width, prepared.height) == (200, 600)
    assert prepared.describe() == "tall.jpg 1,000×3,000 → 200×600, 360,000 bytes"


def test_large_jpeg_scales_to_2048_on_the_long_side(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    noise_image(4000, 3000).resize((4000, 3000)).save(path, quality=85)

    started = time.perf_counter()
    prepared = prepare_image(path)
    elapsed = time.perf_counter() - started

    assert prepared.scaled
    assert (prepared.original_width, prepared.original_height) == (4000, 3000)
    assert (prepared.width, prepared.height) == (2048, 1536)
    assert len(prepared.rgb) == 2048 * 1536 * 3
    assert prepared.describe() == "photo.jpg 4,000×3,000 → 2,048×1,536, 9,437,184 bytes"
    # Target 0.5 s on the 2-core dev machine; the bound is loose for slow CI.
    assert elapsed < 3.0, elapsed


def test_jpeg_draft_decoding_keeps_the_picture(tmp_path: Path) -> None:
    """8,192 px wide takes libjpeg's reduced decode (1/2): the halves keep their colours."""
    path = tmp_path / "wide.jpg"
    image = Image.new("RGB", (8192, 2048), RED)
    image.paste(BLUE, (4096, 0, 8192, 2048))
    image.save(path, quality=90)

    prepared = prepare_image(path)

    assert (prepared.width, prepared.height) == (2048, 512)
    left, right = pixel(prepared, 100, 256), pixel(prepared, 1948, 256)
    assert left[0] > 180 and left[2] < 80
    assert right[2] > 180 and right[0] < 80


def test_max_side_zero_still_fits_the_blob_cap(tmp_path: Path) -> None:
    path = tmp_path / "flat.png"
    # Solid colour: 25 MP that compresses to a few kilobytes.
    Image.new("L", (5000, 5000), 90).save(path)

    prepared = prepare_image(path, max_side=0)

    assert prepared.scaled
    assert prepared.width == prepared.height
    assert prepared.width * prepared.height * 3 <= MAX_BLOB_BYTES
    assert len(prepared.rgb) == prepared.width * prepared.height * 3
    assert prepared.width == 4729, "the largest square under 64 MiB of RGB"
    assert pixel(prepared, 2000, 2000) == (90, 90, 90)


def test_max_side_zero_leaves_a_fitting_image_alone(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (3000, 100), BLUE).save(path)

    prepared = prepare_image(path, max_side=0)

    assert (prepared.width, prepared.height) == (3000, 100)
    assert not prepared.scaled


def test_negative_max_side_is_a_programming_error(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.new("RGB", (2, 2)).save(path)
    with pytest.raises(ValueError, match="max_side"):
        prepare_image(path, max_side=-1)


# --- the decompression bomb


def write_grey_png(path: Path, width: int, height: int) -> None:
    """A black grey-scale PNG written row by row, never holding the image in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    compressor = zlib.compressobj(1)
    row = b"\0" * (width + 1)  # filter byte 0, then the pixels
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    with path.open("wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.write(chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def bomb_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    started = time.perf_counter()
    write_grey_png(path, 20_000, 20_000)
    assert time.perf_counter() - started < 5.0
    assert path.stat().st_size < 2_000_000
    return path


def test_bomb_is_refused_from_its_header(bomb_png: Path) -> None:
    tracemalloc.start()
    try:
        started = time.perf_counter()
        error = assert_refused(bomb_png, "decompression-bomb")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert error.hint == (
        f"{bomb_png}: 20,000 × 20,000 px (400 MP) is past the 178,956,970-pixel "
        "decompression-bomb limit; nothing was decoded"
    )
    assert error.title == "image too large"
    assert peak < 10_000_000, peak
    assert elapsed < 1.0, elapsed


def test_bomb_refusal_keeps_the_process_small(bomb_png: Path) -> None:
    """tracemalloc does not see Pillow's C buffers: the child's peak RSS does (400 MB if
    the pixels were decoded). VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec,
    so a child of a big pytest process would inherit its parent's peak."""
    script = textwrap.dedent(
        f"""
        from inferd_tui.client.attachments import AttachmentError, prepare_image
        try:
            prepare_image({str(bomb_png)!r})
        except AttachmentError:
            pass
        else:
            raise SystemExit("not refused")
        status = open("/proc/self/status").read().splitlines()
        print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    peak_kib = int(result.stdout.strip())
    assert peak_kib < 150_000, f"peak RSS {peak_kib:,} KiB"


def test_pillow_global_limit_is_left_alone(bomb_png: Path) -> None:
    setting = Image.MAX_IMAGE_PIXELS
    assert setting == 89_478_485, "Pillow's default, which the bomb message relies on"
    assert_refused(bomb_png, "decompression-bomb")
    assert Image.MAX_IMAGE_PIXELS == setting  # noqa: SIM300 (the global is the subject)
    assert pixel_limit() == 2 * setting


def test_bomb_limit_follows_pillows_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "medium.png"
    Image.new("L", (300, 300)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)

    error = assert_refused(path, "300 × 300 px")

    assert "40,000-pixel decompression-bomb limit" in error.hint


def test_pillows_own_bomb_warning_becomes_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GIF whose first frame reaches past its canvas grows the canvas while decoding;
    Pillow checks that size itself, and its warning must refuse, not print."""
    path = tmp_path / "grows.gif"
    Image.new("P", (400, 10)).save(path)
    data = bytearray(path.read_bytes())
    # Shrink the logical screen to 10×10: the 400 px frame then widens the canvas.
    data[6:8] = (10).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    # Between MAX and 2 × MAX Pillow only warns; the header (10×10) is well under both.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2_000)

    error = assert_refused(path, "decompression bomb")
    assert "2,000-pixel" in error.hint, "names the limit Pillow's warning used"


# --- bad files


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_image_is_refused(tmp_path: Path, suffix: str) -> None:
    whole = tmp_path / f"whole{suffix}"
    noise_image(64, 64).save(whole)
    data = whole.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])

    assert_refused(cut, r"is truncated or corrupt: Pillow could not decode it as (PNG|JPEG)")


def test_header_only_png_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stub.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    assert_refused(path, "truncated or corrupt")


def test_png_bytes_named_jpg_are_read_as_png(tmp_path: Path) -> None:
    path = tmp_path / "actually-a-png.jpg"
    noise_image(10, 10).save(path, format="PNG")

    prepared = prepare_image(path)

    assert prepared.source_format == "PNG"
    assert prepared.rgb == noise_image(10, 10).tobytes()


def test_text_named_png_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("not a picture at all\n")
    assert_refused(path, "is not an image")


def test_other_image_formats_are_named_in_the_refusal(tmp_path: Path) -> None:
    path = tmp_path / "scan.bmp"
    noise_image(8, 8).save(path)
    error = assert_refused(path, "BMP is not an image format")
    assert error.hint.endswith(
        "BMP is not an image format inferd-tui attaches; use PNG, JPEG, WebP or GIF"
    )


def test_zero_length_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.touch()
    assert_refused(path, r"is empty \(0 bytes\)")


def test_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "folder.png"
    path.mkdir()
    assert_refused(path, "is a directory, not a file")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path / "gone.png", "does not exist")


def test_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    assert_refused(path, "is not a regular file")


def test_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Faked: the tests may run as root, whom file modes do not stop."""
    path = tmp_path / "secret.png"
    Image.new("RGB", (2, 2)).save(path)

    def denied(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied", str(file))

    monkeypatch.setattr(attachments, "open", denied, raising=False)
    assert_refused(path, "cannot be read: permission denied")


def test_repr_leaves_out_the_payload(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.new("RGB", (300, 300), RED).save(path)
    text = repr(prepare_image(path))
    assert "rgb" not in text and len(text) < 400
    assert "width=300" in text


def test_attachment_error_is_an_inferd_error(tmp_path: Path) -> None:
    error = assert_refused(tmp_path / "gone.png", "does not exist")
    assert isinstance(error, InferdError)
    assert str(error) == f"cannot attach: {tmp_path / 'gone.png'} does not exist"


# --------------------------------------------------------------------------- audio


def sine(seconds: float, rate: int, frequency: float = 440.0) -> np.ndarray[Any, Any]:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def test_stereo_wav_becomes_mono_at_the_backend_rate(tmp_path: Path) -> None:
    path = tmp_path / "memo.wav"
    tone = sine(2.0, 44_100)
    # Left and right differ: the mono mix is their average.
    soundfile.write(path, np.stack([tone, tone * 0.5], axis=1), 44_100, subtype="FLOAT")

    prepared = prepare_audio(path, sample_rate=16_000)

    assert isinstance(prepared, PreparedAudio)
    assert prepared.source_format == "WAV"
    assert (prepared.original_rate, prepared.channels, prepared.sample_rate) == (
        44_100,
        2,
        16_000,
    )
    assert prepared.duration_s == pytest.approx(2.0)
    assert abs(prepared.samples - 32_000) <= 1
    assert len(prepared.pcm_f32le) % 4 == 0
    pcm = np.frombuffer(prepared.pcm_f32le, dtype="<f4")
    rms = float(np.sqrt(np.mean(pcm[1000:-1000] ** 2)))
    assert rms == pytest.approx(0.375 / np.sqrt(2), rel=0.01)
    assert prepared.describe() == (
        f"memo.wav 0:02.0, 44,100 Hz stereo → 16,000 Hz mono, {prepared.wire_bytes:,} bytes"
    )


def test_flac_at_the_backend_rate_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "speech.flac"
    tone = sine(1.5, 16_000)
    soundfile.write(path, tone, 16_000, subtype="PCM_24")

    prepared = prepare_audio(path, sample_rate=16_000)

    assert prepared.source_format == "FLAC"
    reference, _ = soundfile.read(path, dtype="float32")
    np.testing.assert_array_equal(np.frombuffer(prepared.pcm_f32le, dtype="<f4"), reference)


@pytest.mark.parametrize("subtype", ["VORBIS", "OPUS"])
def test_ogg_is_decoded_and_resampled(tmp_path: Path, subtype: str) -> None:
    path = tmp_path / f"clip-{subtype.lower()}.ogg"
    soundfile.write(path, sine(1.0, 48_000), 48_000, format="OGG", subtype=subtype)

    prepared = prepare_audio(path, sample_rate=16_000)

    assert prepared.source_format == "OGG"
    assert prepared.duration_s == pytest.approx(1.0, abs=0.03)
    assert abs(prepared.samples - round(prepared.duration_s * 16_000)) <= 1
    pcm = np.frombuffer(prepared.pcm_f32le, dtype="<f4")
    rms = float(np.sqrt(np.mean(pcm[2000:-2000] ** 2)))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_audio_past_the_blob_cap_is_refused_before_decoding(tmp_path: Path) -> None:
    """1 s at 8 kHz asked for at 20 MHz is 80 MB of f32: over 64 MiB, cheaply."""
    path = tmp_path / "short.wav"
    soundfile.write(path, sine(1.0, 8_000), 8_000)

    with pytest.raises(AttachmentError, match="past the 64 MiB attachment cap") as caught:
        prepare_audio(path, sample_rate=20_000_000)

    assert str(path) in caught.value.hint
    assert "80,000,000 bytes" in caught.value.hint
    assert caught.value.title == "audio too long"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"just some text, not sound\n", "is not audio"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\0" * 64, "MP3 is not an audio format"),
        (b"fLaC" + b"\x13\x37" * 40, "truncated or corrupt"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\xff" * 24, "truncated or corrupt"),
    ],
)
def test_non_audio_is_refused(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "sound.wav"
    path.write_bytes(content)

    with pytest.raises(AttachmentError, match=match) as caught:
        prepare_audio(path, sample_rate=16_000)

    assert str(path) in caught.value.hint


def test_an_image_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "cover.png"
    Image.new("RGB", (2, 2)).save(path)
    with pytest.raises(AttachmentError, match="PNG is not an audio format"):
        prepare_audio(path, sample_rate=16_000)


def test_audio_file_problems_share_the_image_wording(tmp_path: Path) -> None:
    for path, match in [
        (tmp_path / "gone.wav", "does not exist"),
        (tmp_path, "is a directory"),
    ]:
        with pytest.raises(AttachmentError, match=match):
            prepare_audio(path, sample_rate=16_000)
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(AttachmentError, match="is empty"):
        prepare_audio(empty, sample_rate=16_000)


def test_wav_without_samples_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(0, dtype=np.float32), 16_000)
    with pytest.raises(AttachmentError, match="contains no audio samples"):
        prepare_audio(path, sample_rate=16_000)


def test_sample_rate_must_be_positive(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    soundfile.write(path, sine(0.1, 8_000), 8_000)
    with pytest.raises(ValueError, match="sample_rate"):
        prepare_audio(path, sample_rate=0)


# --------------------------------------------------------------------------- sniffing


def test_sniff_kind_reads_content_not_suffix(tmp_path: Path) -> None:
    def image_bytes(fmt: str) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (2, 2)).save(buffer, format=fmt)
        return buffer.getvalue()

    def audio_bytes(fmt: str) -> bytes:
        buffer = io.BytesIO()
        soundfile.write(buffer, sine(0.05, 8_000), 8_000, format=fmt)
        return buffer.getvalue()

    samples = {
        "a.png": image_bytes("PNG"),
        "b.txt": image_bytes("JPEG"),  # suffix lies; content wins
        "c.webp": image_bytes("WEBP"),
        "d.gif": image_bytes("GIF"),
        "e.wav": audio_bytes("WAV"),
        "f.flac": audio_bytes("FLAC"),
        "g.ogg": audio_bytes("OGG"),
        "h.bmp": image_bytes("BMP"),
        "i.png": b"plain text",
    }
    for name, data in samples.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "empty.wav").touch()
    (tmp_path / "folder.png").mkdir()

    kinds = {name: sniff_kind(tmp_path / name) for name in [*samples, "empty.wav", "folder.png"]}
    kinds["missing.png"] = sniff_kind(tmp_path / "missing.png")

    assert kinds == {
        "a.png": "image",
        "b.txt": "image",
        "c.webp": "image",
        "d.gif": "image",
        "e.wav": "audio",
        "f.flac": "audio",
        "g.ogg": "audio",
        "h.bmp": None,
        "i.png": None,
        "empty.wav": None,
        "folder.png": None,
        "missing.png": None,
    }


def test_suffix_sets_cover_the_accepted_formats() -> None:
    assert {".png", ".jpg", ".jpeg", ".webp", ".gif"} <= IMAGE_SUFFIXES
    assert {".wav", ".flac", ".ogg"} <= AUDIO_SUFFIXES
    assert all(suffix == suffix.lower() and suffix.startswith(".") for suffix in IMAGE_SUFFIXES)
    assert not IMAGE_SUFFIXES & AUDIO_SUFFIXES


# --------------------------------------------------------------------------- fit_within

sides = st.integers(min_value=1, max_value=200_000)
max_sides = st.one_of(st.just(0), st.integers(min_value=1, max_value=20_000))
max_bytes = st.integers(min_value=3, max_value=1 << 34)


@given(width=sides, height=sides, max_side=max_sides, limit=max_bytes)
def test_fit_within_respects_both_bounds_and_the_aspect_ratio(
    width: int, height: int, max_side: int, limit: int
) -> None:
    fitted_width, fitted_height = fit_within(width, height, max_side, limit)

    assert 1 <= fitted_width <= width and 1 <= fitted_height <= height, "never upsizes"
    if max_side:
        assert max(fitted_width, fitted_height) <= max_side
    assert fitted_width * fitted_height * 3 <= limit
    # The short side is the long side's proportional value, to within a pixel.
    if width >= height:
        assert abs(fitted_height - height * fitted_width / width) <= 1
    else:
        assert abs(fitted_width - width * fitted_height / height) <= 1


@given(width=sides, height=sides, max_side=max_sides, limit=max_bytes)
def test_fit_within_is_symmetric(width: int, height: int, max_side: int, limit: int) -> None:
    fitted_width, fitted_height = fit_within(width, height, max_side, limit)
    assert fit_within(height, width, max_side, limit) == (fitted_height, fitted_width)


@given(width=sides, height=sides)
def test_fit_within_leaves_a_fitting_size_alone(width: int, height: int) -> None:
    assert fit_within(width, height, 0, width * height * 3) == (width, height)
    assert fit_within(width, height, max(width, height), 1 << 40) == (width, height)


def test_fit_within_examples() -> None:
    assert fit_within(4000, 3000, 2048, MAX_BLOB_BYTES) == (2048, 1536)
    assert fit_within(3000, 4000, 2048, MAX_BLOB_BYTES) == (1536, 2048)
    assert fit_within(5000, 5000, 0, MAX_BLOB_BYTES) == (4729, 4729)
    assert fit_within(10_000, 1, 2048, MAX_BLOB_BYTES) == (2048, 1)
    with pytest.raises(ValueError, match="positive"):
        fit_within(0, 10, 2048, MAX_BLOB_BYTES)


# --------------------------------------------------------------------------- import cost


def test_importing_the_module_loads_no_decoder() -> None:
    script = (
        "import sys\n"
        "import inferd_tui.client.attachments\n"
        "heavy = {'PIL', 'numpy', 'soundfile', '_soundfile', 'soxr', 'cffi'}\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
