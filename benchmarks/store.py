"""Store benchmark: load a 1,000-turn conversation; full-text search over 10,000 turns.

Prints numbers and targets, a PASS/MISS line each (issue 5, item 10); exit 1 on a MISS.
Run: .venv/bin/python benchmarks/store.py
"""

from __future__ import annotations

import functools
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from inferd_tui.store import Store

LOAD_TARGET_S = 1.0
SEARCH_TARGET_S = 0.100
WORDS = tuple(
    [
        "the",
        "model",
        "answers",
        "questions",
        "about",
        "rust",
        "python",
        "grammar",
        "tokens",
        "sockets",
        "daemon",
        "stream",
        "latency",
        "memory",
        "parser",
        "json",
        "schema",
        "harbour",
        "quantum",
        "recipe",
        "garden",
        "bicycle",
        "compiler",
        "kernel",
        "window",
        "terminal",
        "keyboard",
        "history",
        "search",
        "export",
        "preset",
        "sampling",
    ]
)
RARE_WORD = "lighthouse"  # in about one turn in 500


def paragraph(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."
    return text + f" {RARE_WORD}." if rng.random() < 1 / 500 else text


def fill(store: Store, conversations: int, turns_each: int, rng: random.Random) -> int:
    last_id = 0
    for number in range(conversations):
        conversation = store.create_conversation(f"Conversation {number}")
        last_id = conversation.id

        # One transaction per conversation (the store's own plumbing): built in seconds.
        def insert(conn: sqlite3.Connection, conversation_id: int = conversation.id) -> None:
            for position in range(turns_each):
                role = "user" if position % 2 == 0 else "assistant"
                words = 20 if role == "user" else 150
                conn.execute(
                    "INSERT INTO turns (conversation_id, position, role, content, state,"
                    " request_params, prompt_tokens, completion_tokens, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, 'complete', ?, 12, 150, ?, ?)",
                    (
                        conversation_id,
                        position,
                        role,
                        paragraph(rng, words),
                        None if role == "user" else '{"temperature": 0.7}',
                        time.time(),
                        time.time(),
                    ),
                )

        store._write(insert)
    return last_id


def best_of(repeats: int, action: Callable[[], object]) -> tuple[float, float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings), statistics.median(timings)


def report(name: str, seconds: float, median: float, target: float) -> bool:
    verdict = "PASS" if median <= target else "MISS"
    print(
        f"{verdict}: {name:<48} best {seconds * 1000:8.1f} ms  median {median * 1000:8.1f} ms"
        f"  (target ≤ {target * 1000:.0f} ms)"
    )
    return median <= target


def main() -> int:
    rng = random.Random(5)
    ok = True
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.sqlite3"
        with Store.open(path) as store:
            big_id = fill(store, 1, 1000, rng)
            fill(store, 9, 1000, rng)  # 10,000 turns in all
        size_mb = path.stat().st_size / 1e6
        print(f"database: 10 conversations × 1,000 turns, {size_mb:.1f} MB")

        def open_and_load() -> None:
            with Store.open(path) as store:
                store.list_conversations()
                turns = store.turns(big_id)
                assert len(turns) == 1000

        ok &= report(
            "open + list + load a 1,000-turn conversation",
            *best_of(5, open_and_load),
            LOAD_TARGET_S,
        )

        with Store.open(path) as store:
            queries = {
                "search a rare word": RARE_WORD,
                "search a common word (every turn)": "the",
                "search two terms + prefix": "quantum harb",
                "search no match": "zzzzzz",
            }
            for name, query in queries.items():
                hits = store.search(query, limit=50)
                best, median = best_of(10, functools.partial(store.search, query, limit=50))
                ok &= report(f"{name} → {len(hits)} hits", best, median, SEARCH_TARGET_S)

            conversation = store.create_conversation("checkpoint")
            turn = store.add_turn(conversation.id, "assistant", "", state="streaming")
            text = paragraph(rng, 1500)
            best, median = best_of(20, lambda: store.checkpoint_turn(turn.id, text))
            ok &= report("checkpoint a 1,500-word streaming turn", best, median, 0.050)
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
