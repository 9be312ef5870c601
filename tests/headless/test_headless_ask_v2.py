"""``ask`` on today's daemons: images, audio, schemas, thinking, tools, and the refusals,
against the stand-in at eras 0.3, 0.4, 0.5, 0.6 and 0.8 (issue: headless on v2)."""

from __future__ import annotations

import json
import os
import struct
import sys
import zlib
from pathlib import Path

import anyio
import pytest
from headless_helpers import daemon_config, endpoint_flags, invoke, make_console, running

from inferd_tui.mock_daemon import MockDaemon

pytestmark = pytest.mark.anyio

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
SENTIMENT = {
    "type": "object",
    "properties": {"sentiment": {"enum": ["positive", "negative"]}},
    "required": ["sentiment"],
}


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


def gradient_png(path: Path, width: int = 40, height: int = 30) -> Path:
    from PIL import Image

    image = Image.new("RGB", (width, height))
    image.putdata([(x * 6, y * 8, 200) for y in range(height) for x in range(width)])
    image.save(path)
    return path


def tone_wav(path: Path, seconds: float = 0.5, rate: int = 44_100) -> Path:
    import numpy as np
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 220 * t)], axis=1)
    soundfile.write(path, 0.5 * stereo, rate)
    return path


def bomb_png(path: Path, side: int = 20_000) -> Path:
    """Only a header and a first chunk: enough for Pillow to read the size, and refuse."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (side + 1) * 4)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat))
    return path


async def ask_at(
    short_tmp: Path, era: str, *args: str, backend: str = "demo", **config: object
) -> tuple[int, str, str, MockDaemon]:
    async with running(daemon_config(short_tmp, era=era, backend=backend, **config)) as daemon:
        await daemon.wait_ready()
        result = await invoke(["ask", *endpoint_flags(short_tmp), *args])
    return result.code, result.out, result.err, daemon


# --- images -----------------------------------------------------------------------------


async def test_image_reaches_the_daemon_as_the_rgb_pillow_decodes(short_tmp: Path) -> None:
    from PIL import Image

    image = gradient_png(short_tmp / "gradient.png")
    code, out, err, daemon = await ask_at(short_tmp, "0.8", "--image", str(image), "what colour?")
    assert code == 0, err
    assert "40×30 pixels (3,600 bytes of RGB arrived)" in out
    request = daemon.last_v2_request
    assert request is not None
    (attachment,) = request.attachments
    assert attachment.data == Image.open(image).convert("RGB").tobytes()
    # The image block follows the prompt text.
    assert [block["type"] for block in request.messages[-1]["content"]] == ["text", "image"]


async def test_image_and_audio_keep_their_order(short_tmp: Path) -> None:
    image, audio = gradient_png(short_tmp / "a.png"), tone_wav(short_tmp / "b.wav")
    code, out, err, daemon = await ask_at(
        short_tmp, "0.8", "--audio", str(audio), "--image", str(image), "describe"
    )
    assert code == 0, err
    assert "lasts 0.50 s" in out
    request = daemon.last_v2_request
    assert request is not None
    assert [a.kind for a in request.attachments] == ["audio", "image"]
    assert request.attachments[0].sample_rate == 16_000  # the backend's audio_sample_rate
    assert len(request.attachments[0].data or b"") == 8_000 * 4


async def test_image_to_a_v1_daemon_is_refused_before_sending(short_tmp: Path) -> None:
    image = gradient_png(short_tmp / "g.png")
    code, out, err, daemon = await ask_at(short_tmp, "0.3", "--image", str(image), "colour?")
    assert code == 3
    assert out == ""
    assert "images and audio need protocol v2" in err
    assert daemon.requests_seen == 0


async def test_image_to_a_backend_without_vision_is_refused(short_tmp: Path) -> None:
    image = gradient_png(short_tmp / "g.png")
    code, _, err, daemon = await ask_at(
        short_tmp, "0.6", "--image", str(image), "x", backend="mock"
    )
    assert code == 3
    assert "vision false" in err
    assert daemon.requests_seen == 0


async def test_a_decompression_bomb_is_refused_without_decoding(short_tmp: Path) -> None:
    bomb = bomb_png(short_tmp / "bomb.png")
    code, _, err, daemon = await ask_at(short_tmp, "0.8", "--image", str(bomb), "x")
    assert code == 3
    assert "20,000" in err
    assert daemon.requests_seen == 0


async def test_an_unreadable_image_is_refused(short_tmp: Path) -> None:
    fake = short_tmp / "notes.png"
    fake.write_text("not an image")
    code, _, err, _ = await ask_at(short_tmp, "0.8", "--image", str(fake), "x")
    assert code == 3
    assert "notes.png" in err
    missing = await invoke(["ask", *endpoint_flags(short_tmp), "--image", "/nope.png", "x"])
    assert missing.code == 3
    assert "no file /nope.png" in missing.err


# --- schemas ------------------------------------------------------------------------------


async def test_schema_answer_is_validated(short_tmp: Path) -> None:
    schema = write_json(short_tmp / "s.json", SENTIMENT)
    code, out, err, _ = await ask_at(short_tmp, "0.5", "--schema", str(schema), "rate: great")
    assert code == 0, err
    assert json.loads(out)["sentiment"] in {"positive", "negative"}
    assert "✓ the answer matches the schema" in err


async def test_an_answer_that_does_not_match_exits_6_and_is_still_printed(short_tmp: Path) -> None:
    schema = write_json(short_tmp / "s.json", SENTIMENT)
    tape = ({"type": "text", "delta": '{"sentiment": "meh"}'},)
    code, out, err, _ = await ask_at(
        short_tmp, "0.8", "--schema", str(schema), "x", backend="mock", tape=tape
    )
    assert code == 6
    assert out == '{"sentiment": "meh"}\n'
    assert "✗ the answer does not match the schema: $.sentiment: 'meh' is not one of" in err


async def test_an_invalid_schema_is_refused_with_its_path(short_tmp: Path) -> None:
    schema = write_json(short_tmp / "s.json", {"type": "object", "required": "sentiment"})
    code, _, err, daemon = await ask_at(short_tmp, "0.8", "--schema", str(schema), "x")
    assert code == 3
    assert "$.required: 'sentiment' is not of type 'array'" in err
    assert daemon.requests_seen == 0


@pytest.mark.parametrize(("era", "release"), [("0.3", []), ("0.4", ["--daemon-release", "0.4.2"])])
async def test_schema_before_05_is_refused(short_tmp: Path, era: str, release: list[str]) -> None:
    schema = write_json(short_tmp / "s.json", SENTIMENT)
    code, _, err, daemon = await ask_at(short_tmp, era, *release, "--schema", str(schema), "x")
    assert code == 3
    assert "needs inferd 0.5 or later" in err
    assert daemon.requests_seen == 0


async def test_schema_to_a_daemon_of_unknown_release_is_sent_with_a_note(short_tmp: Path) -> None:
    """0.4 and 0.8 look alike on the admin socket: the schema goes, the user is told a
    0.4 ignores it, and the answer is still checked (a 0.4 daemon's prose fails: exit 6)."""
    schema = write_json(short_tmp / "s.json", SENTIMENT)
    code, _, err, daemon = await ask_at(short_tmp, "0.4", "--schema", str(schema), "x")
    assert "note: a JSON schema (response_format) is sent, but inferd releases before 0.5" in err
    assert daemon.requests_seen == 1
    assert code == 6


async def test_grammar_on_a_daemon_without_v1_names_schema(short_tmp: Path) -> None:
    grammar = short_tmp / "yes.gbnf"
    grammar.write_text('root ::= "yes" | "no"\n')
    code, _, err, daemon = await ask_at(short_tmp, "0.5", "--grammar", str(grammar), "x")
    assert code == 3
    assert "GBNF grammars are v1 only" in err
    assert "--schema" in err
    assert daemon.requests_seen == 0


# --- thinking -------------------------------------------------------------------------------


async def test_thinking_goes_to_stderr_not_stdout(short_tmp: Path) -> None:
    code, out, err, _ = await ask_at(short_tmp, "0.5", "--thinking", "why is the sky blue?")
    assert code == 0, err
    assert "The user is asking about" in err
    assert "The user is asking about" not in out
    assert out.strip()


async def test_thinking_dimmed_on_a_terminal_and_droppable(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, era="0.8", backend="demo")) as daemon:
        await daemon.wait_ready()
        console = make_console(err_tty=True)
        tty = await invoke(["ask", *endpoint_flags(short_tmp), "--thinking", "hi there"], console)
        dropped = await invoke(
            ["ask", *endpoint_flags(short_tmp), "--thinking", "--no-thinking-output", "hi there"]
        )
    assert tty.code == 0
    assert "\x1b[2mThe user is asking about" in tty.err
    assert dropped.code == 0
    assert "The user is asking about" not in dropped.err + dropped.out


async def test_thinking_on_04_is_refused(short_tmp: Path) -> None:
    code, _, err, _ = await ask_at(short_tmp, "0.4", "--daemon-release", "0.4", "--thinking", "x")
    assert code == 3
    assert "the thinking switch needs inferd 0.5.1 or later" in err
    # Without the release, the 0.4 backend's own capabilities refuse it.
    code, _, err, _ = await ask_at(short_tmp, "0.4", "--thinking", "x")
    assert code == 3
    assert "capabilities: thinking false" in err


# --- tools ------------------------------------------------------------------------------


async def test_a_tool_call_prints_one_json_object_and_exits_0(short_tmp: Path) -> None:
    tools = write_json(short_tmp / "tools.json", [WEATHER_TOOL])
    code, out, err, _ = await ask_at(
        short_tmp, "0.8", "--tools", str(tools), "--tool-choice", "required", "weather in Dublin?"
    )
    assert code == 0, err
    (line,) = out.splitlines()
    call = json.loads(line)
    assert set(call) == {"tool_call_id", "name", "input"}
    assert call["name"] == "get_weather"
    assert call["input"]["city"] == "Dublin"
    assert "stop: tool_use" in err


async def test_tools_on_06_work_but_tool_choice_needs_08(short_tmp: Path) -> None:
    tools = write_json(short_tmp / "tools.json", [WEATHER_TOOL])
    code, out, err, _ = await ask_at(short_tmp, "0.6", "--tools", str(tools), "weather in Oslo?")
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["name"] == "get_weather"
    code, _, err, _ = await ask_at(
        short_tmp,
        "0.6",
        "--daemon-release",
        "0.6.2",
        "--tools",
        str(tools),
        "--tool-choice",
        "auto",
        "weather?",
    )
    assert code == 3
    assert "tool_choice needs inferd 0.8 or later" in err


@pytest.mark.parametrize(
    ("tools", "words"),
    [
        ([WEATHER_TOOL, WEATHER_TOOL], "tool names must be unique: get_weather"),
        ([{"name": "x", "description": "y"}], "tool 0 has no input_schema"),
        ({"name": "x"}, "must hold a non-empty JSON array"),
        ([{**WEATHER_TOOL, "input_schema": {"type": "strin"}}], "input_schema: $.type:"),
    ],
)
async def test_malformed_tools_are_refused(short_tmp: Path, tools: object, words: str) -> None:
    path = write_json(short_tmp / "tools.json", tools)
    result = await invoke(["ask", *endpoint_flags(short_tmp), "--tools", str(path), "x"])
    assert result.code == 3
    assert words in result.err


async def test_tools_to_a_v1_daemon_are_refused(short_tmp: Path) -> None:
    tools = write_json(short_tmp / "tools.json", [WEATHER_TOOL])
    code, _, err, _ = await ask_at(short_tmp, "0.3", "--tools", str(tools), "x")
    assert code == 3
    assert "tools need protocol v2" in err


# --- --json ------------------------------------------------------------------------------


async def test_json_prints_the_daemons_frames_as_received(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, era="0.8", tokens=("Hello", " there"))) as daemon:
        await daemon.wait_ready()
        result = await invoke(["ask", "--json", *endpoint_flags(short_tmp), "hi"])
    assert result.code == 0
    frames = result.json_lines()
    assert [frame["type"] for frame in frames] == ["frame", "frame", "done"]
    assert frames[0]["block"] == {"type": "text", "delta": "Hello"}
    assert frames[-1]["usage"] == {"input_tokens": 0, "output_tokens": 2}
    assert frames[-1]["stop_reason"] == "end_turn"


# --- a real process --------------------------------------------------------------------------


async def test_ask_image_as_a_process(short_tmp: Path) -> None:
    from PIL import Image

    image = gradient_png(short_tmp / "g.png", 17, 9)
    async with running(daemon_config(short_tmp, era="0.8", backend="demo")) as daemon:
        await daemon.wait_ready()
        with anyio.fail_after(60):
            done = await anyio.run_process(
                [
                    sys.executable,
                    "-m",
                    "inferd_tui",
                    "ask",
                    *endpoint_flags(short_tmp),
                    "--image",
                    str(image),
                    "what is it?",
                ],
                env=dict(os.environ),
                check=False,
            )
    assert done.returncode == 0, done.stderr.decode()
    assert b"17\xc3\x979 pixels" in done.stdout
    request = daemon.last_v2_request
    assert request is not None
    assert request.attachments[0].data == Image.open(image).convert("RGB").tobytes()
