"""Wire throughput: 300,000 token frames through a real Unix socket → LineDecoder →
parse_response, via ``Client.generate``; printed beside a plain ``json.loads`` loop over
the same bytes. Target on a 2-core machine: ≥ 250,000 frames/s.

Run: ``.venv/bin/python benchmarks/wire.py`` (``make bench``). Exit status 1 on a MISS.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import anyio

from inferd_tui.client import Client, DoneFrame, Endpoint, Message, Request, TokenFrame
from inferd_tui.proto import LineDecoder, parse_response

FRAMES = 300_000
TARGET_FPS = 250_000
REQUEST_ID = "bench-1"
RUNS = 3


def build_tape(n: int) -> bytes:
    tokens = [f"tok{i % 1000} " for i in range(n)]
    lines = [
        json.dumps({"type": "token", "id": REQUEST_ID, "content": t}, separators=(",", ":"))
        for t in tokens
    ]
    done = {
        "type": "done",
        "id": REQUEST_ID,
        "content": "".join(tokens),
        "usage": {"prompt_tokens": 0, "completion_tokens": n},
        "stop_reason": "end",
        "backend": "mock",
    }
    lines.append(json.dumps(done, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def serve_in_thread(listener: socket.socket, tape: bytes, runs: int) -> threading.Thread:
    """A blocking writer on its own thread (the daemon is another process in real life)."""

    def run() -> None:
        for _ in range(runs):
            conn, _ = listener.accept()
            with conn:
                received = b""
                while b"\n" not in received:
                    received += conn.recv(65536)
                conn.sendall(tape)
                with contextlib.suppress(OSError):
                    while conn.recv(65536):
                        pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


async def through_client(path: Path) -> tuple[float, int]:
    request = Request(id=REQUEST_ID, messages=[Message(role="user", content="bench")])
    tokens = 0
    async with Client(Endpoint.unix(path)) as client:
        await client.wait_ready(timeout=5)
        started = time.perf_counter()
        async with contextlib.aclosing(client.generate(request)) as frames:
            async for frame in frames:
                if type(frame) is TokenFrame:
                    tokens += 1
                elif type(frame) is DoneFrame:
                    break
        elapsed = time.perf_counter() - started
    return elapsed, tokens


def in_memory(tape: bytes) -> float:
    started = time.perf_counter()
    decoder = LineDecoder()
    for start in range(0, len(tape), 262_144):
        for line in decoder.feed(tape[start : start + 262_144]):
            parse_response(line)
    return time.perf_counter() - started


def json_loads_loop(tape: bytes) -> float:
    started = time.perf_counter()
    for line in tape.splitlines():
        json.loads(line)
    return time.perf_counter() - started


def main() -> int:
    tape = build_tape(FRAMES)
    frames = FRAMES + 1
    megabytes = len(tape) / 1e6
    print(f"{FRAMES:,} token frames + done, {megabytes:.1f} MB, best of {RUNS} runs")

    directory = Path(tempfile.mkdtemp(prefix="wire-", dir="/tmp"))
    path = directory / "infer.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    thread = serve_in_thread(listener, tape, RUNS)
    socket_times = []
    try:
        for _ in range(RUNS):
            elapsed, tokens = anyio.run(through_client, path)
            assert tokens == FRAMES, tokens
            socket_times.append(elapsed)
    finally:
        thread.join(timeout=10)
        listener.close()
        path.unlink(missing_ok=True)
        directory.rmdir()

    rows = [
        ("socket → Client.generate", min(socket_times)),
        ("in memory: LineDecoder + parse_response", min(in_memory(tape) for _ in range(RUNS))),
        ("in memory: splitlines + json.loads", min(json_loads_loop(tape) for _ in range(RUNS))),
    ]
    for label, seconds in rows:
        print(
            f"  {label:<42} {frames / seconds:>12,.0f} frames/s  "
            f"{megabytes / seconds:>7.1f} MB/s  ({seconds:.3f} s)"
        )
    achieved = frames / min(socket_times)
    verdict = "PASS" if achieved >= TARGET_FPS else "MISS"
    print(f"{verdict}: {achieved:,.0f} frames/s through the client (target ≥ {TARGET_FPS:,})")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
