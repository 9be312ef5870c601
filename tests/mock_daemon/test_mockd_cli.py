"""`inferd-tui mock-daemon` as a real process, and its argument parsing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from anyio.abc import ByteReceiveStream
from mockd_wire import Wire, request

from inferd_tui.cli import build_parser, main
from inferd_tui.mock_daemon.cli import config_from_args
from inferd_tui.mock_daemon.config import MockConfig
from inferd_tui.proto import LineDecoder


class _Lines:
    def __init__(self, stream: ByteReceiveStream) -> None:
        self.stream = stream
        self.decoder = LineDecoder()
        self.lines: list[bytes] = []

    async def next(self) -> str:
        while not self.lines:
            self.lines.extend(self.decoder.feed(await self.stream.receive()))
        return self.lines.pop(0).decode()


@pytest.mark.anyio
async def test_process_serves_then_drains_on_sigterm(sock_dir: Path) -> None:
    socket_path, admin_path = sock_dir / "infer.sock", sock_dir / "admin.sock"
    command = [
        sys.executable,
        "-m",
        "inferd_tui",
        "mock-daemon",
        "--socket",
        str(socket_path),
        "--admin",
        str(admin_path),
        "--tokens",
        "alpha ",
        "beta",
    ]
    process = await anyio.open_process(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        out = _Lines(process.stdout)
        with anyio.fail_after(20):
            first = await out.next()
            assert first == f"inferd 0.3: inference: {socket_path} (v1), admin: {admin_path}"
            assert (await out.next()).startswith("ready")
            async with await Wire.unix(admin_path) as admin:
                assert (await admin.frame() or {}).get("status") == "capabilities"
                assert (await admin.frame() or {}).get("status") == "ready"
                async with await Wire.unix(socket_path) as wire:
                    await wire.send(request("cli-1"))
                    frames = await wire.answer()
                assert frames[-1]["content"] == "alpha beta"
                process.send_signal(signal.SIGTERM)
                assert await admin.frame() == {
                    "id": "admin",
                    "status": "draining",
                    "type": "status",
                }
                await admin.expect_eof()
            assert await process.wait() == 0
            assert not socket_path.exists()
            assert not admin_path.exists()
    finally:
        if process.returncode is None:
            process.kill()
            with anyio.move_on_after(5, shield=True):
                await process.wait()
        await process.aclose()


def test_bad_flag_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["mock-daemon", "--tcp", "nonsense"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "HOST:PORT" in err


def test_a_socket_path_too_long_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    too_long = "/tmp/" + "x" * 120 + "/infer.sock"
    assert main(["mock-daemon", "--socket", too_long]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith("inferd-tui mock-daemon: error: socket path is too long for AF_UNIX")


def test_admin_socket_defaults_to_beside_the_inference_socket(sock_dir: Path) -> None:
    def admin_for(*flags: str) -> Path | None:
        return config_from_args(build_parser().parse_args(["mock-daemon", *flags])).admin_path

    assert admin_for("--socket", str(sock_dir / "infer.sock")) == sock_dir / "admin.sock"
    explicit = sock_dir / "other/a.sock"
    assert admin_for("--socket", str(sock_dir / "i.sock"), "--admin", str(explicit)) == explicit
    assert admin_for("--tcp", "127.0.0.1:0") is None


def test_demo_rate_flag(sock_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def config(*flags: str) -> MockConfig:
        argv = ["mock-daemon", "--socket", str(sock_dir / "i.sock"), *flags]
        return config_from_args(build_parser().parse_args(argv))

    assert config("--backend", "demo", "--demo-tokens-per-s", "150").demo_tokens_per_s == 150
    assert config("--backend", "demo").demo_tokens_per_s == MockConfig().demo_tokens_per_s
    with pytest.raises(SystemExit):
        config("--demo-tokens-per-s", "0")
    assert "must be a positive number" in capsys.readouterr().err


def test_api_key_comes_from_the_named_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOCKD_TEST_KEY", "super-secret")
    args = build_parser().parse_args(
        [
            "mock-daemon",
            "--tcp",
            "127.0.0.1:0",
            "--api-key-env",
            "MOCKD_TEST_KEY",
            "--token-delay-ms",
            "25",
            "--error-before-stream",
            "backend_unavailable:backend not ready",
            "--era",
            "0.1",
        ]
    )
    config = config_from_args(args)
    assert config.api_key == "super-secret"
    assert "super-secret" not in repr(config)
    assert config.tcp == ("127.0.0.1", 0)
    assert config.token_delay_s == pytest.approx(0.025)
    assert config.error_before_stream == ("backend_unavailable", "backend not ready")
    assert config.era == "0.1"
    monkeypatch.delenv("MOCKD_TEST_KEY")
    with pytest.raises(ValueError, match="MOCKD_TEST_KEY"):
        config_from_args(args)
    assert "MOCKD_TEST_KEY" not in os.environ
