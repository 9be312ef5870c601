"""The admin socket and the daemon's lifecycle: boot scripts, snapshot, lag, drain, restart."""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
from pathlib import Path
from typing import Any

import anyio
import pytest
from mockd_wire import Wire, config, request

from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.mock_daemon.boot import DOWNLOAD_STEP_BYTES, boot_steps

pytestmark = pytest.mark.anyio

STARTING = {"id": "admin", "status": "starting", "type": "status"}
READY = {"id": "admin", "status": "ready", "type": "status"}
DRAINING = {"id": "admin", "status": "draining", "type": "status"}
MOCK_CAPABILITIES = {
    "accelerator": "cpu",
    "audio": False,
    "backend": "mock",
    "embed": False,
    "gpu_layers": 0,
    "id": "admin",
    "status": "capabilities",
    "thinking": False,
    "tools": False,
    "type": "status",
    "v2": False,
    "vision": False,
}


async def admin_frame(wire: Wire) -> dict[str, Any] | None:
    """One admin frame, checking it is written compact with sorted keys (§8)."""
    line = await wire.raw_line()
    if line is None:
        return None
    frame = json.loads(line)
    assert line == json.dumps(frame, sort_keys=True, separators=(",", ":")).encode()
    assert isinstance(frame, dict)
    return frame


async def frames_until(wire: Wire, status: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        frame = await admin_frame(wire)
        assert frame is not None, f"EOF while waiting for {status!r} after {frames}"
        frames.append(frame)
        if frame["status"] == status:
            return frames


async def test_instant_boot_sequence(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, autoboot=False)) as daemon:
        assert daemon.admin_path is not None
        assert daemon.socket_path is not None
        async with await Wire.unix(daemon.admin_path) as admin:
            assert await admin_frame(admin) == STARTING  # the snapshot: admin bound first
            assert not daemon.socket_path.exists()
            daemon.begin_boot()
            frames = await frames_until(admin, "ready")
            assert frames == [
                {
                    "id": "admin",
                    "path": "(mock)",
                    "phase": "checking_local",
                    "status": "loading_model",
                    "type": "status",
                },
                MOCK_CAPABILITIES,
                READY,
            ]
            await daemon.wait_ready()
            assert daemon.socket_path.exists()


async def test_first_boot_sequence(sock_dir: Path) -> None:
    total = 3 * DOWNLOAD_STEP_BYTES + 12345
    cfg = config(sock_dir, boot="first-boot", download_total_bytes=total, autoboot=False)
    async with MockDaemon.start(cfg) as daemon:
        assert daemon.admin_path is not None
        async with await Wire.unix(daemon.admin_path) as admin:
            assert await admin_frame(admin) == STARTING
            daemon.begin_boot()
            frames = await frames_until(admin, "ready")
    steps = [(frame["status"], frame.get("phase")) for frame in frames]
    assert steps == [
        ("loading_model", "checking_local"),
        *[("loading_model", "download")] * 5,
        ("loading_model", "verify"),
        ("loading_model", "mmap"),
        ("loading_model", "kv_cache"),
        ("capabilities", None),
        ("ready", None),
    ]
    downloads = [frame for frame in frames if frame.get("phase") == "download"]
    assert [frame["downloaded_bytes"] for frame in downloads] == [
        0,
        DOWNLOAD_STEP_BYTES,
        2 * DOWNLOAD_STEP_BYTES,
        3 * DOWNLOAD_STEP_BYTES,
        total,
    ]
    assert all(frame["total_bytes"] == total for frame in downloads)
    assert all(frame["source_url"].startswith("https://") for frame in downloads)
    assert frames[0]["path"].endswith(".gguf")
    assert frames[-3]["n_ctx"] == 8192
    assert frames[-2]["accelerator"] == "cuda"


def test_first_boot_default_pacing_is_visible() -> None:
    """By default each phase (capabilities too) is held ≥ 100 ms and the download takes a
    few seconds."""
    steps = boot_steps(MockConfig(boot="first-boot"))
    downloads = [step for step in steps if step.event.get("phase") == "download"]
    others = [step for step in steps if step.event.get("phase") != "download"]
    assert others[-1].event["status"] == "capabilities"
    assert all(step.hold_s >= 0.1 for step in others)
    assert 2 <= sum(step.hold_s for step in downloads) <= 10
    assert downloads[-1].event["total_bytes"] > 4 * 10**9
    assert len(downloads) > 100


async def test_unknown_download_total(sock_dir: Path) -> None:
    cfg = config(
        sock_dir,
        boot="first-boot",
        download_total_bytes=100,
        download_total_known=False,
        autoboot=False,
    )
    async with MockDaemon.start(cfg) as daemon:
        assert daemon.admin_path is not None
        async with await Wire.unix(daemon.admin_path) as admin:
            assert await admin_frame(admin) == STARTING
            daemon.begin_boot()
            frames = await frames_until(admin, "ready")
    downloads = [frame for frame in frames if frame.get("phase") == "download"]
    assert downloads
    assert all(frame["total_bytes"] is None for frame in downloads)


async def test_late_subscriber_gets_capabilities_then_ready(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        assert daemon.admin_path is not None
        async with await Wire.unix(daemon.admin_path) as admin:
            assert await admin_frame(admin) == MOCK_CAPABILITIES
            assert await admin_frame(admin) == READY
            daemon.publish({"status": "future_state", "extra_key": 42})
            assert await admin_frame(admin) == {
                "extra_key": 42,
                "id": "admin",
                "status": "future_state",
                "type": "status",
            }


async def test_snapshot_mid_download_is_the_latest_download_frame(sock_dir: Path) -> None:
    # A download so slow that the next progress frame is seconds away.
    cfg = config(sock_dir, boot="first-boot", download_duration_s=1000.0)
    async with MockDaemon.start(cfg) as daemon:
        assert daemon.admin_path is not None
        async with await Wire.unix(daemon.admin_path) as first:
            frames = await frames_until(first, "loading_model")  # snapshot
            while frames[-1].get("phase") != "download":
                frame = await admin_frame(first)
                assert frame is not None
                frames.append(frame)
            latest = frames[-1]
            async with await Wire.unix(daemon.admin_path) as late:
                assert await admin_frame(late) == latest
            assert daemon.admin_snapshot == latest


async def test_lag_drop_and_fresh_snapshot(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        assert daemon.admin_path is not None
        async with await Wire.unix(daemon.admin_path) as laggard:
            await daemon.wait_until(lambda d: d.admin_clients == 1)
            # 300 events at once, without yielding: the laggard falls > 256 behind.
            for index in range(300):
                daemon.publish({"status": "flood", "seq": index})
            seen = 0
            while await admin_frame(laggard) is not None:
                seen += 1
            assert seen < 300 + 2  # it saw EOF before the end of the flood
            assert daemon.admin_clients_dropped == 1
        async with await Wire.unix(daemon.admin_path) as fresh:
            assert await admin_frame(fresh) == MOCK_CAPABILITIES
            assert await admin_frame(fresh) == {
                "id": "admin",
                "seq": 299,
                "status": "flood",
                "type": "status",
            }


async def test_lag_drop_of_a_subscriber_that_does_not_read(sock_dir: Path) -> None:
    """Events trickle out (the daemon yields between them) to a client that never reads:
    once its socket buffer is full, its queue grows past the limit and it is dropped."""
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        assert daemon.admin_path is not None
        async with (
            await Wire.unix(daemon.admin_path) as reader,
            await Wire.unix(daemon.admin_path) as sleeper,
        ):
            await daemon.wait_until(lambda d: d.admin_clients == 2)
            padding = "p" * 4096
            published = 0
            with anyio.fail_after(5):
                while daemon.admin_clients_dropped == 0:
                    daemon.publish({"status": "flood", "seq": published, "padding": padding})
                    published += 1
                    frame = await admin_frame(reader)  # the healthy client keeps up
                    while frame is not None and frame.get("seq") != published - 1:
                        frame = await admin_frame(reader)
            assert daemon.admin_clients == 1  # the reader is still connected
            count = 0
            while await admin_frame(sleeper) is not None:
                count += 1
            assert count < published


async def test_draining_then_eof_on_shutdown(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        assert daemon.admin_path is not None
        assert daemon.socket_path is not None
        async with (
            await Wire.unix(daemon.admin_path) as admin,
            await Wire.unix(daemon.socket_path) as idle,
        ):
            await frames_until(admin, "ready")
            await daemon.shutdown()
            assert await admin_frame(admin) == DRAINING
            await admin.expect_eof()
            await idle.expect_eof()
        assert not daemon.socket_path.exists()
        assert not daemon.admin_path.exists()
        assert daemon.state == "draining"


async def test_context_exit_drains_too(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        assert daemon.admin_path is not None
        admin = await Wire.unix(daemon.admin_path)
        await frames_until(admin, "ready")
    async with admin:
        assert await admin_frame(admin) == DRAINING
        await admin.expect_eof()


async def test_restart_sequence(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, phase_hold_s=0.02)) as daemon:
        await daemon.wait_ready()
        assert daemon.admin_path is not None
        assert daemon.socket_path is not None
        async with await Wire.unix(daemon.admin_path) as admin, anyio.create_task_group() as tg:
            await frames_until(admin, "ready")
            tg.start_soon(daemon.restart)
            first = await admin_frame(admin)
            assert first == {
                "id": "admin",
                "path": "(mock)",
                "phase": "checking_local",
                "status": "restarting",
                "type": "status",
            }
            await daemon.wait_until(lambda d: not d.ready.is_set())
            assert not daemon.socket_path.exists()  # inference socket closed while restarting
            frames = await frames_until(admin, "ready")
            assert [(frame["status"], frame.get("phase")) for frame in frames] == [
                ("restarting", "mmap"),
                ("restarting", "kv_cache"),
                ("ready", None),
            ]
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("after-restart"))
            assert (await wire.answer())[-1]["type"] == "done"


async def test_socket_modes(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir)) as daemon:
        await daemon.wait_ready()
        assert daemon.admin_path is not None
        assert daemon.socket_path is not None
        assert stat.S_IMODE(os.stat(daemon.admin_path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(daemon.socket_path).st_mode) == 0o660


def _stale_socket(path: Path) -> None:
    """A socket file nobody listens on, as a crash leaves behind."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.fspath(path))
    sock.close()


async def test_stale_socket_files_are_replaced(sock_dir: Path) -> None:
    cfg = config(sock_dir)
    assert cfg.socket_path is not None
    assert cfg.admin_path is not None
    _stale_socket(cfg.socket_path)
    _stale_socket(cfg.admin_path)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("fresh"))
            assert (await wire.answer())[-1]["type"] == "done"


async def test_live_socket_and_regular_file_are_not_replaced(sock_dir: Path) -> None:
    cfg = config(sock_dir)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        with pytest.raises(OSError, match="another daemon") as caught:
            async with MockDaemon.start(cfg):
                pass
        assert caught.value.errno == errno.EADDRINUSE
    other = sock_dir / "not-a-socket"
    other.write_text("keep me")
    with pytest.raises(FileExistsError):
        async with MockDaemon.start(config(sock_dir, admin_path=other)):
            pass
    assert other.read_text() == "keep me"


async def test_bind_delay(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, bind_delay_s=0.3)) as daemon:
        assert daemon.admin_path is not None
        assert daemon.socket_path is not None
        async with await Wire.unix(daemon.admin_path) as admin:
            await frames_until(admin, "ready")
            assert not daemon.socket_path.exists()  # ready is published before the bind
            with pytest.raises(FileNotFoundError):
                await anyio.connect_unix(daemon.socket_path)
            await daemon.wait_ready()
            async with await Wire.unix(daemon.socket_path) as wire:
                await wire.send(request("late"))
                assert (await wire.answer())[-1]["type"] == "done"


async def test_era_0_1_has_no_capabilities(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, era="0.1", autoboot=False)) as daemon:
        assert daemon.admin_path is not None
        async with await Wire.unix(daemon.admin_path) as admin:
            assert await admin_frame(admin) == STARTING
            daemon.begin_boot()
            frames = await frames_until(admin, "ready")
        assert [frame["status"] for frame in frames] == ["loading_model", "ready"]
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("v1"))
            assert (await wire.answer())[-1]["type"] == "done"


async def test_era_0_4_announces_wire_version_1_and_serves_no_v1(sock_dir: Path) -> None:
    socket_path = sock_dir / "inferd.sock"
    async with MockDaemon.start(config(sock_dir, era="0.4", socket_path=socket_path)) as daemon:
        await daemon.wait_ready()
        assert daemon.admin_path is not None
        async with await Wire.unix(daemon.admin_path) as admin:
            capabilities = await admin_frame(admin)
            assert await admin_frame(admin) == READY
        assert capabilities is not None
        assert capabilities["status"] == "capabilities"
        assert capabilities["wire_version"] == 1  # always 1 so far (protocol-v2.md §1)
        assert capabilities["v2"] is True
        assert sorted(os.listdir(sock_dir)) == ["admin.sock", "inferd.sock"]
        async with await Wire.unix(socket_path) as wire:
            # A v1 line is read as a length prefix and an unknown frame-type byte (§9).
            await wire.send(request("v1-line"))
            message = "malformed frame: unknown frame-type byte 0x22"
            reply = json.dumps(
                {"type": "error", "id": "", "code": "invalid_request", "message": message},
                separators=(",", ":"),
            ).encode()
            with anyio.fail_after(5):
                received = b""
                while True:
                    try:
                        received += await wire.stream.receive()
                    except anyio.EndOfStream:
                        break
            assert received == b"\x6b\x01" + reply  # no newline, then EOF


async def test_default_paths_are_a_private_temp_dir() -> None:
    async with MockDaemon.start(MockConfig()) as daemon:
        await daemon.wait_ready()
        assert daemon.socket_path is not None
        assert daemon.admin_path is not None
        assert daemon.socket_path.parent == daemon.admin_path.parent
        runtime_dir = daemon.socket_path.parent
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("tmp"))
            assert (await wire.answer())[-1]["type"] == "done"
    assert not runtime_dir.exists()


async def test_an_error_in_the_body_propagates_as_itself(sock_dir: Path) -> None:
    async def body() -> None:
        async with MockDaemon.start(config(sock_dir)) as daemon:
            await daemon.wait_ready()
            raise LookupError("from the body")

    with pytest.raises(LookupError, match="from the body"):
        await body()
    assert not (sock_dir / "infer.sock").exists()
