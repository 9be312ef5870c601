"""Admin flood: 100,000 admin events through the events panel in a headless app.

Events arrive in socket-sized chunks (the admin watcher yields between reads), each folded
into a DaemonState and handed to the panel, as the app does. Meanwhile a key is pressed
over and over to check the UI still answers. Prints the time to absorb the flood, key
latency, and memory (issue 3, benchmark 4: within 2 s, memory bounded; issue 12: the
slowest key press answered within 100 ms). One PASS/MISS line per target; exit 1 on a MISS.

Run: .venv/bin/python benchmarks/admin_flood.py
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import sys
import time
from datetime import datetime

from textual.app import App, ComposeResult
from textual.events import Key

from inferd_tui.daemon_state import DaemonState
from inferd_tui.proto import AdminEvent, parse_admin_event
from inferd_tui.ui.widgets.admin_panel import AdminLog, AdminPanel
from inferd_tui.ui.widgets.status_bar import DaemonStatusBar

EVENTS = 100_000
CHUNK = 256  # events per socket read
TAIL_LIMIT = 5000
ABSORB_TARGET_S = 2.0
KEY_LATENCY_TARGET_S = 0.1
KEY_INTERVAL_S = 0.05
TOTAL_BYTES = 5126304928


def make_events(count: int) -> list[AdminEvent]:
    """A realistic mix: mostly download progress, some phases, unknown keys and statuses."""
    events = []
    for index in range(count):
        kind = index % 10
        if kind < 7:
            raw = {
                "downloaded_bytes": index * 32 * 1024,
                "phase": "download",
                "source_url": "https://example.invalid/gemma-4-e4b.gguf",
                "status": "loading_model",
                "total_bytes": TOTAL_BYTES,
            }
        elif kind == 7:
            raw = {"phase": "mmap", "path": "/m/gemma-4-e4b.gguf", "status": "restarting"}
        elif kind == 8:
            raw = {"extra_key": index, "status": "future_state"}
        else:
            raw = {"status": "ready"}
        line = json.dumps({"id": "admin", "type": "status", **raw}, sort_keys=True)
        events.append(parse_admin_event(line.encode()))
    return events


def current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class FloodApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DaemonStatusBar()
        yield AdminPanel(tail_limit=TAIL_LIMIT)


async def flood(
    app: FloodApp, events: list[AdminEvent], done: asyncio.Event, spent: dict[str, float]
) -> float:
    """Feed every event like the admin worker does; returns seconds until all are shown."""
    panel = app.query_one(AdminPanel)
    bar = app.query_one(DaemonStatusBar)
    log = panel.query_one(AdminLog)
    state = DaemonState()
    clock = 0.0
    started = time.perf_counter()
    for start in range(0, len(events), CHUNK):
        chunk_started = time.perf_counter()
        for event in events[start : start + CHUNK]:
            clock += 0.001
            folded = time.perf_counter()
            state = state.with_admin_event(event, clock)
            added = time.perf_counter()
            panel.add_event(event, received_at=datetime.now(), state=state)
            spent["fold_s"] += added - folded
            spent["add_event_s"] += time.perf_counter() - added
        bar.update_state(state)
        spent["feeding_s"] += time.perf_counter() - chunk_started
        await asyncio.sleep(0)  # the next socket read
    # Absorbed = the last line is in the Log (written by the panel's batched flush).
    last = panel.lines[-1]
    while not log.lines or log.lines[-1] != last:  # noqa: ASYNC110 - polling is the measurement
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    done.set()
    return elapsed


async def run_once(events: list[AdminEvent]) -> dict[str, float]:
    app = FloodApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        panel = app.query_one(AdminPanel)
        log = panel.query_one(AdminLog)
        log.focus()
        writes = 0
        write_lines = log.write_lines

        def counting(lines: object, scroll_end: bool | None = None) -> AdminLog:
            nonlocal writes
            writes += 1
            return write_lines(lines, scroll_end)  # type: ignore[arg-type]

        log.write_lines = counting  # type: ignore[method-assign]
        rss_before = current_rss_mib()
        done = asyncio.Event()
        spent = {"fold_s": 0.0, "add_event_s": 0.0, "feeding_s": 0.0}
        worker = app.run_worker(flood(app, events, done, spent), exclusive=False)
        latencies: list[float] = []
        while not done.is_set():
            # pilot.press waits for an idle loop, which a flood never gives: post the key
            # and time how long until its action (toggling follow) has run.
            follow = panel.follow
            pressed = time.perf_counter()
            app.post_message(Key("f", "f"))
            while panel.follow == follow:  # noqa: ASYNC110 - polling is the measurement
                await asyncio.sleep(0.002)
            latencies.append(time.perf_counter() - pressed)
            await asyncio.sleep(KEY_INTERVAL_S)  # a fast typist, not a key storm
        await app.workers.wait_for_complete()
        absorb_s = worker.result
        assert absorb_s is not None
        assert len(panel.lines) == TAIL_LIMIT
        return {
            "absorb_s": absorb_s,
            "events_per_s": len(events) / absorb_s,
            "log_writes": writes,
            "key_presses": len(latencies),
            "key_p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
            "key_max_ms": max(latencies) * 1000 if latencies else 0.0,
            **spent,
            "rss_before_mib": rss_before,
            "rss_after_mib": current_rss_mib(),
        }


async def main() -> int:
    started = time.perf_counter()
    events = make_events(EVENTS)
    parse_s = time.perf_counter() - started
    print(f"parse {EVENTS:,} admin lines (not timed below): {parse_s:.2f} s")
    results = [await run_once(events) for _ in range(2)]
    for number, result in enumerate(results, start=1):
        print(
            f"run {number}: absorbed {EVENTS:,} events in {result['absorb_s']:.2f} s "
            f"({result['events_per_s']:,.0f}/s, target ≤ {ABSORB_TARGET_S:g} s) · "
            f"{result['log_writes']:.0f} Log writes · "
            f"{result['key_presses']:.0f} key presses answered during the flood, "
            f"p50 {result['key_p50_ms']:.0f} ms, max {result['key_max_ms']:.0f} ms · "
            f"RSS {result['rss_before_mib']:.0f} → {result['rss_after_mib']:.0f} MiB"
        )
        print(
            f"       of which DaemonState folds {result['fold_s']:.2f} s, "
            f"AdminPanel.add_event {result['add_event_s']:.2f} s, whole feeding loop "
            f"{result['feeding_s']:.2f} s; the rest is Textual (Log writes, repaints, keys)"
        )
    growth = results[1]["rss_after_mib"] - results[0]["rss_after_mib"]
    print(f"RSS growth from run 1 to run 2: {growth:+.1f} MiB (bounded: tail of {TAIL_LIMIT:,})")
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")
    worst = max(result["absorb_s"] for result in results)
    worst_key = max(result["key_max_ms"] for result in results) / 1000
    absorb_ok = worst <= ABSORB_TARGET_S
    key_ok = worst_key <= KEY_LATENCY_TARGET_S
    print(
        f"{'PASS' if absorb_ok else 'MISS'}: worst time to absorb {EVENTS:,} events "
        f"{worst:.2f} s (target ≤ {ABSORB_TARGET_S:g} s)"
    )
    print(
        f"{'PASS' if key_ok else 'MISS'}: slowest key press during the flood "
        f"{worst_key * 1000:.0f} ms (target ≤ {KEY_LATENCY_TARGET_S * 1000:.0f} ms)"
    )
    return 0 if absorb_ok and key_ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
