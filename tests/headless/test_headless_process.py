"""The commands as real processes: the runner's exit codes for Ctrl-C, a closed stdout,
and ``--demo`` end to end. The daemon runs in the test; every process is waited for."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from headless_helpers import daemon_config, endpoint_flags, running

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def spawn(argv: Sequence[str]) -> AsyncIterator[Process]:
    process = await anyio.open_process(
        [sys.executable, "-m", "inferd_tui", *argv], env=dict(os.environ)
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        with anyio.CancelScope(shield=True):
            await process.wait()
            await process.aclose()


async def read_until(process: Process, text: bytes) -> bytes:
    assert process.stdout is not None
    received = b""
    with anyio.fail_after(20):
        while text not in received:
            received += await process.stdout.receive()
    return received


async def run(argv: Sequence[str]) -> tuple[int, str, str]:
    with anyio.fail_after(30):
        done = await anyio.run_process(
            [sys.executable, "-m", "inferd_tui", *argv], env=dict(os.environ), check=False
        )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def test_ctrl_c_cancels_the_answer_and_exits_130(short_tmp: Path) -> None:
    tokens = ("first ", *("more ",) * 200)
    config = daemon_config(short_tmp, tokens=tokens, token_delay_s=0.05)
    async with running(config) as daemon:
        async with spawn(["ask", *endpoint_flags(short_tmp), "hello"]) as process:
            await read_until(process, b"first ")
            process.send_signal(signal.SIGINT)
            with anyio.fail_after(20):
                code = await process.wait()
            assert process.stderr is not None
            err = (await process.stderr.receive()).decode()
        with anyio.fail_after(5):
            await daemon.wait_until(lambda d: d.cancelled_requests == 1)
    assert code == 130
    assert "cancelled" in err
    assert "Traceback" not in err
    assert daemon.completed_requests == 0


async def test_closed_stdout_exits_quietly(short_tmp: Path) -> None:
    tokens = tuple(f"token{i} " for i in range(2000))
    config = daemon_config(short_tmp, tokens=tokens, token_delay_s=0.002)
    read_end, write_end = os.pipe()
    try:
        async with running(config) as daemon:
            process = await anyio.open_process(
                [sys.executable, "-m", "inferd_tui", "ask", *endpoint_flags(short_tmp), "hi"],
                env=dict(os.environ),
                stdout=write_end,
            )
            os.close(write_end)
            write_end = -1
            try:
                received = b""
                with anyio.fail_after(20):
                    while b"token0 " not in received:
                        received += await anyio.to_thread.run_sync(os.read, read_end, 65536)
                os.close(read_end)  # like `| head -c 10`
                read_end = -1
                with anyio.fail_after(20):
                    code = await process.wait()
                assert process.stderr is not None
                err = b""
                async for chunk in process.stderr:
                    err += chunk
            finally:
                if process.returncode is None:
                    process.kill()
                with anyio.CancelScope(shield=True):
                    await process.wait()
                    await process.aclose()
            with anyio.fail_after(5):
                await daemon.wait_until(lambda d: d.cancelled_requests == 1)
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    assert code == 0
    assert b"Traceback" not in err
    assert b"BrokenPipe" not in err
    assert daemon.completed_requests == 0


async def test_status_demo_as_a_process() -> None:
    code, out, err = await run(["status", "--demo", "--json"])
    assert code == 0, err
    assert json.loads(out)["state"] == "ready"


async def test_status_unreachable_as_a_process(short_tmp: Path) -> None:
    code, out, _ = await run([*endpoint_flags(short_tmp), "status"])
    assert code == 2
    assert str(short_tmp / "admin.sock") in out


async def test_usage_error_is_one_line(short_tmp: Path) -> None:
    code, _, err = await run(["status", "--config", str(short_tmp / "missing.toml")])
    assert code == 2
    assert err.startswith("inferd-tui status: error: ")
    assert len(err.strip().splitlines()) == 1


async def test_headless_imports_no_ui() -> None:
    probe = (
        "import sys, inferd_tui.cli, inferd_tui.headless.ask, inferd_tui.headless.doctor, "
        "inferd_tui.headless.status, inferd_tui.headless.watch; "
        "print(sorted(m for m in ('textual', 'rich') if m in sys.modules))"
    )
    done = await anyio.run_process([sys.executable, "-c", probe], env=dict(os.environ))
    assert done.stdout.decode().strip() == "[]"
