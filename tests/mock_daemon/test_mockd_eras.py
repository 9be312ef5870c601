"""Each release the stand-in plays: its socket files, capabilities keys, and what it refuses
to be started as (protocol-v2.md §1)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pytest
from mockd_lp import LPWire, lp_request
from mockd_wire import Wire, config, request

from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.mock_daemon.boot import capabilities_event
from inferd_tui.mock_daemon.cli import config_from_args, register, run
from inferd_tui.proto.eras import ERAS

BASE_KEYS = {
    "accelerator",
    "audio",
    "backend",
    "embed",
    "gpu_layers",
    "id",
    "status",
    "thinking",
    "tools",
    "type",
    "v2",
    "vision",
}
DEVICE = {"device_name": "Test GPU", "vram_total_bytes": 8 << 30}


@pytest.mark.parametrize(
    ("era", "extra"),
    [
        ("0.2", set()),
        ("0.3", {"device_name", "vram_total_bytes"}),
        ("0.4", {"device_name", "vram_total_bytes", "wire_version"}),
        ("0.5", {"device_name", "vram_total_bytes", "wire_version"}),
        ("0.6", {"device_name", "vram_total_bytes", "wire_version", "audio_sample_rate"}),
        ("0.8", {"device_name", "vram_total_bytes", "wire_version", "audio_sample_rate"}),
    ],
)
def test_capabilities_keys_per_era(era: str, extra: set[str]) -> None:
    event = capabilities_event(MockConfig(era=era, audio=True, **DEVICE))  # type: ignore[arg-type]
    assert event is not None
    assert set(event) == BASE_KEYS | extra
    if "wire_version" in extra:
        assert event["wire_version"] == 1
    if "audio_sample_rate" in extra:
        assert event["audio_sample_rate"] == 16000
    assert "rerank" not in event  # omitted when false (0.6.2+)


def test_no_capabilities_before_0_2_and_no_device_keys_without_a_device() -> None:
    assert capabilities_event(MockConfig(era="0.1")) is None
    event = capabilities_event(MockConfig(era="0.8"))
    assert event is not None
    assert set(event) == BASE_KEYS | {"wire_version"}  # no audio: no audio_sample_rate
    assert [event[key] for key in ("vision", "audio", "tools", "thinking")] == [False] * 4


@pytest.mark.parametrize(
    ("era", "thinking"), [("0.2", False), ("0.4", False), ("0.5", True), ("0.8", True)]
)
def test_the_demo_advertises_what_its_era_carries(era: str, thinking: bool) -> None:
    event = capabilities_event(MockConfig(era=era, backend="demo"))  # type: ignore[arg-type]
    assert event is not None
    assert (event["vision"], event["audio"], event["tools"]) == (True, True, True)
    assert event["thinking"] is thinking
    assert event["v2"] is (era >= "0.4")


def test_v2_key_follows_the_v2_ndjson_socket() -> None:
    event = capabilities_event(MockConfig(era="0.3", v2_ndjson=True))
    assert event is not None and event["v2"] is True


@pytest.mark.anyio
@pytest.mark.parametrize("era", ERAS)
async def test_socket_files_per_era(era: str) -> None:
    async with MockDaemon.start(MockConfig(era=era)) as daemon:  # type: ignore[arg-type]
        await daemon.wait_ready()
        assert daemon.socket_path is not None
        leaves = sorted(os.listdir(daemon.socket_path.parent))
        lp = era >= "0.4"
        assert leaves == ["admin.sock", "inferd.sock" if lp else "infer.sock"]
        if lp:
            async with await LPWire.unix(daemon.socket_path) as wire:
                await wire.send_json(lp_request("e"))
                assert (await wire.answer())[-1]["stop_reason"] == "end_turn"
        else:
            async with await Wire.unix(daemon.socket_path) as wire:
                await wire.send(request("e"))
                assert (await wire.answer())[-1]["stop_reason"] == "end"


@pytest.mark.anyio
@pytest.mark.parametrize("era", ["0.2", "0.3"])
async def test_v2_ndjson_socket_beside_the_v1_one(sock_dir: Path, era: str) -> None:
    async with MockDaemon.start(config(sock_dir, era=era, v2_ndjson=True)) as daemon:
        await daemon.wait_ready()
        assert sorted(os.listdir(sock_dir)) == ["admin.sock", "infer.sock", "infer.v2.sock"]
    assert os.listdir(sock_dir) == []  # all removed on shutdown


@pytest.mark.anyio
async def test_restart_rebinds_every_socket(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, era="0.3", v2_ndjson=True)) as daemon:
        await daemon.wait_ready()
        await daemon.restart()
        await daemon.wait_ready()
        assert sorted(os.listdir(sock_dir)) == ["admin.sock", "infer.sock", "infer.v2.sock"]


@pytest.mark.parametrize("era", ["0.1", "0.4", "0.5", "0.6", "0.8"])
def test_v2_ndjson_only_in_0_2_and_0_3(era: str) -> None:
    with pytest.raises(ValueError, match=r"--v2 .* only in inferd 0\.2–0\.3"):
        MockConfig(era=era, v2_ndjson=True)  # type: ignore[arg-type]


@pytest.mark.parametrize("era", ["0.5", "0.6", "0.8"])
def test_no_tcp_from_0_5(era: str) -> None:
    with pytest.raises(ValueError, match="no TCP listener"):
        MockConfig(era=era, tcp=("127.0.0.1", 0))  # type: ignore[arg-type]


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="inferd-tui")
    register(parser.add_subparsers())
    return parser.parse_args(["mock-daemon", *argv])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--era", "0.5", "--tcp", "127.0.0.1:0"], "inferd 0.5.1 has no TCP listener"),
        (["--era", "0.8", "--v2"], "--v2 (infer.v2.sock) exists only in inferd 0.2–0.3"),
        (["--era", "0.1", "--v2"], "--v2 (infer.v2.sock) exists only in inferd 0.2–0.3"),
    ],
)
def test_cli_refusals_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(_parse(*argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"inferd-tui mock-daemon: error: {message}")
    assert err.count("\n") == 1


def test_cli_knobs_and_tape(tmp_path: Path) -> None:
    tape = tmp_path / "tape.ndjson"
    tape.write_text(
        '{"type":"thinking","delta":"hmm"}\n\n'
        '{"type":"tool_use","tool_call_id":"tc-1","name":"f","input":{}}\n',
        encoding="utf-8",
    )
    args = _parse(
        "--era",
        "0.6",
        "--vision",
        "--no-tools",
        "--audio-sample-rate",
        "24000",
        "--tape",
        str(tape),
    )
    cfg = config_from_args(args)
    assert (cfg.era, cfg.vision, cfg.tools, cfg.audio, cfg.audio_sample_rate) == (
        "0.6",
        True,
        False,
        None,
        24000,
    )
    assert [block["type"] for block in cfg.tape] == ["thinking", "tool_use"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "line 1: not JSON"),
        ('{"type":"image"}\n', "tape line 1: unknown block type 'image'"),
        ('{"type":"text"}\n', "tape line 1: a text block needs a delta"),
    ],
)
def test_a_bad_tape_is_a_usage_error(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = tmp_path / "tape.ndjson"
    tape.write_text(content, encoding="utf-8")
    assert run(_parse("--tape", str(tape))) == 2
    assert message in capsys.readouterr().err


def test_help_names_every_era(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse("--help")
    out: Any = capsys.readouterr().out
    assert "{0.1,0.2,0.3,0.4,0.5,0.6,0.8}" in out
    assert "infer.v2.sock" in out


@pytest.mark.anyio
async def test_0_4_keeps_tcp_and_it_speaks_the_length_prefixed_wire(sock_dir: Path) -> None:
    import anyio

    from inferd_tui.proto.lp import encode_json_frame

    cfg = config(
        sock_dir,
        era="0.4",
        socket_path=sock_dir / "inferd.sock",
        tcp=("127.0.0.1", 0),
        api_key="k",
    )
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        assert daemon.tcp_address is not None
        wire = LPWire(await anyio.connect_tcp(*daemon.tcp_address))
        async with wire:
            await wire.send(encode_json_frame({"type": "auth", "key": "k"}))
            await wire.send_json(lp_request("tcp"))
            assert (await wire.answer())[-1]["type"] == "done"
        wrong = LPWire(await anyio.connect_tcp(*daemon.tcp_address))
        async with wrong:
            await wrong.send(encode_json_frame({"type": "auth", "key": "nope"}))
            await wrong.expect_eof()  # a silent close, as v1's TCP (§7)
        await daemon.wait_until(lambda d: d.auth_failures == 1)
