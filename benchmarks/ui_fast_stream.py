"""20,000 tokens as fast as the stand-in daemon sends them, into the real ChatScreen path.

In-process: ``MockDaemon`` (no token delay) + ``InferdApp.run_test(size=(140, 42))``; the
prompt is sent with Enter and the answer streams through the client, the generation worker
and its ~10 Hz flushes into the TranscriptView. Nothing in the app is changed: the
benchmark wraps the daemon's frame writes (time each token went out) and
``TranscriptView.turn_changed`` (time and tokens applied at each UI flush).

Reports (issue 3, benchmark 2): tokens applied to the screen per second over the first
10% and the last 10% of the tokens (target: last ≥ half of first, i.e. no quadratic
slowdown) and the worst lag between the daemon writing a token and the flush that first
shows it (target ≤ 0.5 s). A PASS/MISS line per target (worst run); exit 1 on a MISS.

Run: .venv/bin/python benchmarks/ui_fast_stream.py
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ui_streaming import answer_tokens

from inferd_tui.client import resolve_endpoints
from inferd_tui.conversation import Turn, TurnState
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.mock_daemon import daemon as daemon_module
from inferd_tui.ui.app import AppConfig, InferdApp
from inferd_tui.ui.screens.chat import ChatScreen
from inferd_tui.ui.widgets.transcript import TranscriptView

TOKENS = 20_000
RATIO_TARGET = 0.5
LAG_TARGET_S = 0.5
RUNS = 2
SIZE = (140, 42)


class Recorder:
    """Daemon send times per token, and (time, tokens shown) per UI flush."""

    def __init__(self) -> None:
        self.sent: list[float] = []
        self.flushes: list[tuple[float, int]] = []
        self.flush_costs: list[float] = []  # seconds spent in each turn_changed


def instrument(recorder: Recorder) -> None:
    original_frames = daemon_module.MockDaemon._stream_frames

    class TimedStream:
        def __init__(self, stream: Any) -> None:
            self.stream = stream

        async def send(self, data: bytes) -> None:
            await self.stream.send(data)
            if b'"type":"token"' in data or b'"type": "token"' in data:
                recorder.sent.append(time.perf_counter())

    async def timed(self: Any, stream: Any, *args: Any) -> bool:
        return bool(await original_frames(self, TimedStream(stream), *args))

    daemon_module.MockDaemon._stream_frames = timed  # type: ignore[method-assign]

    original_changed = TranscriptView.turn_changed

    def changed(self: TranscriptView, turn: Turn) -> None:
        started = time.perf_counter()
        original_changed(self, turn)
        if turn.role == "assistant":
            now = time.perf_counter()
            recorder.flushes.append((now, turn.tokens_received))
            recorder.flush_costs.append(now - started)

    TranscriptView.turn_changed = changed  # type: ignore[method-assign]


async def run_once(tokens: list[str], recorder: Recorder) -> dict[str, float]:
    recorder.sent.clear()
    recorder.flushes.clear()
    recorder.flush_costs.clear()
    directory = Path(tempfile.mkdtemp(prefix="bfs-", dir="/tmp"))
    try:
        config = MockConfig(
            socket_path=directory / "infer.sock",
            admin_path=directory / "admin.sock",
            tokens=tuple(tokens),
        )
        async with MockDaemon.start(config):
            resolution = resolve_endpoints(
                socket=directory / "infer.sock", admin=directory / "admin.sock", env={}
            )
            app = InferdApp(AppConfig(resolution=resolution))
            async with app.run_test(size=SIZE) as pilot:
                while not app.inference_ready:
                    await pilot.pause(0.01)
                screen = app.screen
                assert isinstance(screen, ChatScreen)
                screen.prompt.focus()
                screen.prompt.set_prompt("Stream as fast as you can")
                cpu_before = time.process_time()
                await pilot.press("enter")
                while not (  # noqa: ASYNC110 - polling the app's state is the measurement
                    screen.conversation.turns
                    and screen.conversation.turns[-1].role == "assistant"
                    and screen.conversation.turns[-1].state is not TurnState.STREAMING
                    and screen._live is None
                ):
                    # Not pilot.pause(): it forces a repaint each call, which the app
                    # would not do; the app paints when a flush asks for it.
                    await asyncio.sleep(0.02)
                await pilot.pause()
                cpu = time.process_time() - cpu_before
                turn = screen.conversation.turns[-1]
                assert turn.tokens_received == len(tokens), turn.tokens_received
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return analyse(len(tokens), recorder, cpu)


def analyse(n: int, recorder: Recorder, cpu: float) -> dict[str, float]:
    sent, flushes = recorder.sent, recorder.flushes
    assert len(sent) == n, (len(sent), n)
    times = [t for t, _ in flushes]
    counts = [c for _, c in flushes]
    # Lag: token i is first shown by the first flush whose count is > i.
    worst = 0.0
    worst_index = 0
    for index, sent_at in enumerate(sent):
        flush = bisect.bisect_right(counts, index)
        lag = times[flush] - sent_at
        if lag > worst:
            worst, worst_index = lag, index
    tenth = n // 10
    # First 10%: from the first token's send to the first flush showing ≥ 10% of them.
    first_flush = bisect.bisect_left(counts, tenth)
    first_rate = counts[first_flush] / (times[first_flush] - sent[0])
    # Last 10%: from the last flush showing ≤ 90% to the first showing them all.
    end = bisect.bisect_left(counts, n)
    start = max(bisect.bisect_right(counts, n - tenth) - 1, 0)
    last_rate = (counts[end] - counts[start]) / (times[end] - times[start])
    streaming = recorder.flush_costs[:end]  # the flushes before the answer was complete
    return {
        "first_rate": first_rate,
        "first_tokens": counts[first_flush],
        "last_rate": last_rate,
        "last_tokens": counts[end] - counts[start],
        "lag_s": worst,
        "lag_index": worst_index,
        "sending_s": sent[-1] - sent[0],
        "total_s": times[end] - sent[0],
        "flushes": len(flushes),
        "max_gap_s": max(b - a for a, b in itertools.pairwise(times[: end + 1])),
        "first_flush_ms": streaming[0] * 1000,
        "last_flush_ms": streaming[-1] * 1000,
        "final_flush_ms": recorder.flush_costs[end] * 1000,
        "cpu_s": cpu,
    }


async def main() -> int:
    tokens = answer_tokens(seed=20, count=TOKENS)
    text = "".join(tokens)
    print(
        f"answer: {len(tokens):,} tokens, {len(text):,} characters, "
        f"{text.count('```') // 2} code blocks; sent with no delay; {SIZE[0]}×{SIZE[1]}"
    )
    recorder = Recorder()
    instrument(recorder)
    ratios: list[float] = []
    lags: list[float] = []
    for number in range(1, RUNS + 1):
        result = await run_once(tokens, recorder)
        ratio = result["last_rate"] / result["first_rate"]
        ratio_ok = ratio >= RATIO_TARGET
        lag_ok = result["lag_s"] <= LAG_TARGET_S
        ratios.append(ratio)
        lags.append(result["lag_s"])
        print(
            f"run {number}: daemon wrote all tokens in {result['sending_s']:.2f} s, all on "
            f"screen after {result['total_s']:.2f} s ({result['flushes']:.0f} flushes, "
            f"{result['cpu_s']:.2f} s CPU, longest gap between flushes "
            f"{result['max_gap_s'] * 1000:.0f} ms; a streaming flush costs "
            f"{result['first_flush_ms']:.1f} ms first, {result['last_flush_ms']:.1f} ms last, "
            f"the final one {result['final_flush_ms']:.0f} ms)\n       first 10%: "
            f"{result['first_rate']:,.0f} tok/s "
            f"({result['first_tokens']:,.0f} tokens), last 10%: {result['last_rate']:,.0f} "
            f"tok/s ({result['last_tokens']:,.0f} tokens) → ratio {ratio:.2f} "
            f"(target ≥ {RATIO_TARGET:g}) {'ok' if ratio_ok else 'missed'} · max lag "
            f"{result['lag_s'] * 1000:.0f} ms at token {result['lag_index']:,.0f} "
            f"(target ≤ {LAG_TARGET_S * 1000:.0f} ms) {'ok' if lag_ok else 'missed'}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")
    worst_ratio, worst_lag = min(ratios), max(lags)
    ratio_ok, lag_ok = worst_ratio >= RATIO_TARGET, worst_lag <= LAG_TARGET_S
    print(
        f"{'PASS' if ratio_ok else 'MISS'}: tokens/s over the last 10% ÷ the first 10%, worst "
        f"run {worst_ratio:.2f} (target ≥ {RATIO_TARGET:g})"
    )
    print(
        f"{'PASS' if lag_ok else 'MISS'}: worst lag from the daemon's write to the screen "
        f"{worst_lag * 1000:.0f} ms (target ≤ {LAG_TARGET_S * 1000:.0f} ms)"
    )
    return 0 if ratio_ok and lag_ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
