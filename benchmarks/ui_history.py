"""A conversation with 1,000 finished turns: how fast it shows, what it costs to stream
into it, and memory (issue 3, benchmark 3).

In-process: ``MockDaemon`` + ``InferdApp.run_test(size=(140, 42))``, with the cyclic
collector handled as ``inferd-tui`` handles it (paused until the first frame, then the
start-up objects frozen; a large conversation settles it once drawn).

1. Display: 1,000 turns (500 prompts, 500 Markdown answers of 60–600 tokens, a third
   of them with code blocks and tables) are stored, then opened as the conversation list
   opens one; timed from ``ChatScreen.load_conversation`` (reading the store included) to
   the first painted frame (after ``await pilot.pause()``). Target ≤ 1 s.
2. Streaming cost: a ~1,000-token answer at ~150 tokens/s (the daemon's own token delay)
   is sent with Enter into that conversation and, in a fresh app, into an empty one;
   process CPU time (``time.process_time``) from the first token to the finished answer
   on screen (Enter → first token, where the whole conversation is encoded, is printed
   beside it). Target: with history within 20% of without.
3. Memory: peak RSS (``ru_maxrss``) of the whole process. Target < 250 MB.

A PASS/MISS line per target (worst run); exit 1 on a MISS.
Run: .venv/bin/python benchmarks/ui_history.py
"""

from __future__ import annotations

import asyncio
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ui_streaming import _sentence, answer_tokens, markdown_answer

from inferd_tui.client import resolve_endpoints
from inferd_tui.conversation import Conversation, Turn, TurnState
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.persistence import ConversationSaver
from inferd_tui.ui import collector
from inferd_tui.ui.app import AppConfig, InferdApp
from inferd_tui.ui.screens.chat import ChatScreen

TURNS = 1_000
STREAM_TOKENS = 1_000
RATE = 150.0
DISPLAY_TARGET_S = 1.0
CPU_RATIO_TARGET = 1.2
RSS_TARGET_MB = 250
RUNS = 2
SIZE = (140, 42)


def history(count: int) -> list[Turn]:
    """``count`` finished turns: a prompt, then a complete answer with usage, alternately."""
    rng = random.Random(1000)
    turns: list[Turn] = []
    for index in range(count // 2):
        prompt = _sentence(rng, rng.randint(5, 30)).replace(".", "?")
        turns.append(Turn(role="user", content=prompt))
        if index % 3 == 0:
            answer = markdown_answer(index, rng.randint(150, 600))
        else:
            paragraphs = [
                " ".join(_sentence(rng, rng.randint(6, 16)) for _ in range(rng.randint(2, 5)))
                for _ in range(rng.randint(1, 3))
            ]
            bullets = [f"- {_sentence(rng, rng.randint(3, 9))}" for _ in range(rng.randint(0, 5))]
            answer = "\n\n".join([*paragraphs, "\n".join(bullets)]).strip()
        completion = len(answer.split())
        turns.append(
            Turn(
                role="assistant",
                content=answer,
                state=TurnState.COMPLETE,
                prompt_tokens=40 + index * 3,
                completion_tokens=completion,
                stop_reason="end",
                backend="mock",
                started_at=0.0,
                first_token_at=0.2,
                finished_at=0.2 + completion / 40,
                tokens_received=completion,
            )
        )
    return turns


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def stream_one(directory: Path, tokens: list[str], turns: list[Turn] | None) -> dict:
    """One app against the daemon: optionally load ``turns``, then stream one answer."""
    result: dict[str, float] = {}
    resolution = resolve_endpoints(
        socket=directory / "infer.sock", admin=directory / "admin.sock", env={}
    )
    # As the launcher does: no automatic collection until the first frame, then the
    # start-up objects are frozen (inferd_tui.ui.collector).
    collector.pause()
    app = InferdApp(AppConfig(resolution=resolution))
    async with app.run_test(size=SIZE) as pilot:
        while not app.inference_ready:
            await pilot.pause(0.01)
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await pilot.pause()
        if turns is not None:
            # Stored first, then opened the way the conversation list opens it.
            conversation = Conversation()
            saver = ConversationSaver(app.config.store)
            for turn in turns:
                conversation.turns.append(turn)
                saver.save_turn(conversation, turn)
                if turn.role == "assistant":
                    saver.finish(turn)  # its usage and stop reason
            assert conversation.store_id is not None
            started = time.perf_counter()
            screen.load_conversation(conversation.store_id)
            await pilot.pause()
            result["display_s"] = time.perf_counter() - started
            result["rss_after_display_mb"] = peak_rss_mb()
            await pilot.pause()  # the collector settles after the conversation is drawn
        screen.prompt.focus()
        screen.prompt.set_prompt("One more long answer, please")
        await pilot.pause()
        before = len(screen.conversation.turns)
        # CPU time when the first frame reaches the transcript's stream batching (wrapped
        # on the instance; the app's code is unchanged).
        first_frame: list[float] = []
        transcript = screen.transcript
        turn_streamed = transcript.turn_streamed

        def timed_turn_streamed(turn: Turn) -> None:
            if not first_frame:
                first_frame.append(time.process_time())
            turn_streamed(turn)

        transcript.turn_streamed = timed_turn_streamed  # type: ignore[method-assign]
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        await pilot.press("enter")
        while not (  # noqa: ASYNC110 - polling the app's state is the measurement
            len(screen.conversation.turns) == before + 2
            and screen.conversation.turns[-1].state is not TurnState.STREAMING
            and screen._live is None
        ):
            # Not pilot.pause(): it forces a repaint each call, which the app would not do.
            await asyncio.sleep(0.05)
        await pilot.pause()
        cpu_after = time.process_time()
        result["cpu_s"] = cpu_after - first_frame[0]  # first token → answer on screen
        result["send_cpu_s"] = first_frame[0] - cpu_before  # Enter → first token
        result["wall_s"] = time.perf_counter() - wall_before
        answer = screen.conversation.turns[-1]
        assert answer.tokens_received == len(tokens), answer.tokens_received
        assert answer.state is TurnState.COMPLETE
        screen_text = "\n".join(
            screen.transcript.render_line(y).text for y in range(screen.transcript.size.height)
        )
        assert "completion tokens" in screen_text, screen_text
    return result


async def run_once(tokens: list[str], turns: list[Turn]) -> dict[str, float]:
    directory = Path(tempfile.mkdtemp(prefix="bhi-", dir="/tmp"))
    try:
        config = MockConfig(
            socket_path=directory / "infer.sock",
            admin_path=directory / "admin.sock",
            tokens=tuple(tokens),
            token_delay_s=1 / RATE,
        )
        async with MockDaemon.start(config):
            empty = await stream_one(directory, tokens, None)
            full = await stream_one(directory, tokens, list(turns))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return {
        "display_s": full["display_s"],
        "cpu_empty_s": empty["cpu_s"],
        "cpu_history_s": full["cpu_s"],
        "send_cpu_empty_s": empty["send_cpu_s"],
        "send_cpu_history_s": full["send_cpu_s"],
        "wall_empty_s": empty["wall_s"],
        "wall_history_s": full["wall_s"],
        "rss_after_display_mb": full["rss_after_display_mb"],
        "peak_rss_mb": peak_rss_mb(),
    }


async def main() -> int:
    turns = history(TURNS)
    tokens = answer_tokens(seed=7, count=STREAM_TOKENS)
    characters = sum(len(turn.content) for turn in turns)
    blocks = sum(turn.content.count("```") // 2 for turn in turns)
    print(
        f"history: {len(turns):,} turns, {characters:,} characters, {blocks} code blocks; "
        f"streamed answer {len(tokens):,} tokens at ~{RATE:g} tok/s; {SIZE[0]}×{SIZE[1]}"
    )
    displays: list[float] = []
    ratios: list[float] = []
    peaks: list[float] = []
    for number in range(1, RUNS + 1):
        result = await run_once(tokens, turns)
        ratio = result["cpu_history_s"] / result["cpu_empty_s"]
        display_ok = result["display_s"] <= DISPLAY_TARGET_S
        cpu_ok = ratio <= CPU_RATIO_TARGET
        rss_ok = result["peak_rss_mb"] < RSS_TARGET_MB
        displays.append(result["display_s"])
        ratios.append(ratio)
        peaks.append(result["peak_rss_mb"])
        print(
            f"run {number}: displayed {TURNS:,} turns in {result['display_s'] * 1000:.0f} ms "
            f"(target ≤ {DISPLAY_TARGET_S * 1000:.0f} ms) {'ok' if display_ok else 'missed'} · "
            f"streaming CPU {result['cpu_history_s']:.2f} s with history vs "
            f"{result['cpu_empty_s']:.2f} s empty (over {result['wall_history_s']:.1f} / "
            f"{result['wall_empty_s']:.1f} s) → ×{ratio:.2f} (target ≤ ×{CPU_RATIO_TARGET:g}) "
            f"{'ok' if cpu_ok else 'missed'} (before the first token: "
            f"{result['send_cpu_history_s'] * 1000:.0f} ms vs "
            f"{result['send_cpu_empty_s'] * 1000:.0f} ms)\n       peak RSS "
            f"{result['peak_rss_mb']:.0f} MB "
            f"({result['rss_after_display_mb']:.0f} MB after display; target < "
            f"{RSS_TARGET_MB} MB) {'ok' if rss_ok else 'missed'}"
        )
    display_ok = max(displays) <= DISPLAY_TARGET_S
    cpu_ok = max(ratios) <= CPU_RATIO_TARGET
    rss_ok = max(peaks) < RSS_TARGET_MB
    print(
        f"{'PASS' if display_ok else 'MISS'}: {TURNS:,} turns displayed in "
        f"{max(displays) * 1000:.0f} ms, worst run (target ≤ {DISPLAY_TARGET_S * 1000:.0f} ms)"
    )
    print(
        f"{'PASS' if cpu_ok else 'MISS'}: streaming CPU with history ÷ without, worst run "
        f"×{max(ratios):.2f} (target ≤ ×{CPU_RATIO_TARGET:g})"
    )
    print(
        f"{'PASS' if rss_ok else 'MISS'}: peak RSS {max(peaks):.0f} MB "
        f"(target < {RSS_TARGET_MB} MB)"
    )
    return 0 if display_ok and cpu_ok and rss_ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
