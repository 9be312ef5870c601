"""Wire throughput: 300,000 token frames through a real Unix socket → LineDecoder →
parse_response, via ``Client.generate``; printed beside a plain ``json.loads`` loop over
the same bytes. Target on a 2-core machine: ≥ 250,000 frames/s.

The 0.4+ length-prefixed wire: 300,000 text deltas through a real Unix socket →
FrameDecoder → answer events, via ``Client.chat``; targets ≥ 250,000 frames/s and within
20 % of the v1 figure (v1 through ``Client.chat`` too, so both pay for the same events).

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
from inferd_tui.proto.capability import DaemonProfile
from inferd_tui.proto.chat import ChatMessage, ChatRequest, Finished, TextDelta
from inferd_tui.proto.eras import EraRange, Wire
from inferd_tui.proto.lp import FrameDecoder, encode_json_frame
from inferd_tui.proto.v2_wire import parse_response as parse_v2

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


def build_lp_tape(n: int) -> bytes:
    frames = [
        encode_json_frame(
            {
                "type": "frame",
                "id": REQUEST_ID,
                "block": {"type": "text", "delta": f"tok{i % 1000} "},
            }
        )
        for i in range(n)
    ]
    frames.append(
        encode_json_frame(
            {
                "type": "done",
                "id": REQUEST_ID,
                "usage": {"input_tokens": 0, "output_tokens": n},
                "stop_reason": "end_turn",
                "backend": "mock",
            }
        )
    )
    return b"".join(frames)


def serve_in_thread(
    listener: socket.socket, tape: bytes, runs: int, *, length_prefixed: bool = False
) -> threading.Thread:
    """A blocking writer on its own thread (the daemon is another process in real life)."""

    def run() -> None:
        for _ in range(runs):
            conn, _ = listener.accept()
            with conn:
                received = conn.recv(65536)
                while not length_prefixed and b"\n" not in received:
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


async def through_chat(path: Path, wire: Wire) -> tuple[float, int]:
    request = ChatRequest(id=REQUEST_ID, messages=(ChatMessage.text("user", "bench"),))
    eras = EraRange("0.8", "0.8") if wire == "v2" else EraRange("0.3", "0.3")
    deltas = 0
    async with Client(Endpoint.unix(path), profile=DaemonProfile(wire, eras)) as client:
        await client.wait_ready(timeout=5)
        started = time.perf_counter()
        async with contextlib.aclosing(client.chat(request)) as events:
            async for event in events:
                if type(event) is TextDelta:
                    deltas += 1
                elif type(event) is Finished:
                    break
        elapsed = time.perf_counter() - started
    return elapsed, deltas


def socket_runs(tape: bytes, wire: Wire, *, via_chat: bool) -> list[float]:
    directory = Path(tempfile.mkdtemp(prefix="wire-", dir="/tmp"))
    path = directory / "bench.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    thread = serve_in_thread(listener, tape, RUNS, length_prefixed=wire == "v2")
    times = []
    try:
        for _ in range(RUNS):
            if via_chat:
                elapsed, count = anyio.run(through_chat, path, wire)
            else:
                elapsed, count = anyio.run(through_client, path)
            assert count == FRAMES, count
            times.append(elapsed)
    finally:
        thread.join(timeout=10)
        listener.close()
        path.unlink(missing_ok=True)
        directory.rmdir()
    return times


def lp_in_memory(tape: bytes) -> float:
    started = time.perf_counter()
    decoder = FrameDecoder()
    for start in range(0, len(tape), 262_144):
        for frame in decoder.feed(tape[start : start + 262_144]):
            parse_v2(frame.payload)
    return time.perf_counter() - started


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

    socket_times = socket_runs(tape, "v1", via_chat=False)
    v1_chat_times = socket_runs(tape, "v1", via_chat=True)
    lp_tape = build_lp_tape(FRAMES)
    lp_times = socket_runs(lp_tape, "v2", via_chat=True)

    rows = [
        ("socket → Client.generate", min(socket_times)),
        ("in memory: LineDecoder + parse_response", min(in_memory(tape) for _ in range(RUNS))),
        ("in memory: splitlines + json.loads", min(json_loads_loop(tape) for _ in range(RUNS))),
        ("v1: socket → Client.chat (events)", min(v1_chat_times)),
        ("LP: socket → Client.chat (events)", min(lp_times)),
        ("LP in memory: FrameDecoder + parse", min(lp_in_memory(lp_tape) for _ in range(RUNS))),
    ]
    for label, seconds in rows:
        print(
            f"  {label:<42} {frames / seconds:>12,.0f} frames/s  "
            f"{megabytes / seconds:>7.1f} MB/s  ({seconds:.3f} s)"
        )
    achieved = frames / min(socket_times)
    verdict = "PASS" if achieved >= TARGET_FPS else "MISS"
    print(f"{verdict}: {achieved:,.0f} frames/s through the client (target ≥ {TARGET_FPS:,})")
    lp_fps = frames / min(lp_times)
    v1_fps = frames / min(v1_chat_times)
    lp_verdict = "PASS" if lp_fps >= TARGET_FPS and lp_fps >= 0.8 * v1_fps else "MISS"
    print(
        f"{lp_verdict}: {lp_fps:,.0f} LP frames/s through Client.chat, {lp_fps / v1_fps:.0%} of "
        f"v1's {v1_fps:,.0f} (targets ≥ {TARGET_FPS:,} and ≥ 80 %)"
    )
    return 0 if verdict == lp_verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
