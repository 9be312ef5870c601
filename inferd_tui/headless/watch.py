"""``inferd-tui watch``: every admin event as a timestamped line, or NDJSON.

Exit status: 0 after ``draining`` then EOF (a clean shutdown); 2 when the admin socket
cannot be reached or closes without ``draining`` (a crash, a failed start, or this client
dropped for lagging). With ``--follow`` it reconnects with backoff and never ends on its
own (Ctrl-C: 130); each gap is printed (text) or recorded as a
``{"type":"watch","event":"disconnected"|"reconnected",…}`` object (``--json``).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from inferd_tui.client import AdminNotice, ConnectError, watch_admin
from inferd_tui.headless._console import (
    EXIT_OK,
    EXIT_UNREACHABLE,
    Console,
    demo_daemon,
    safe,
)
from inferd_tui.headless.events import DownloadMeter, describe_event, raw_event
from inferd_tui.proto.eras import ERAS, WIRE_TITLE, Wire, eras_from_capabilities, features
from inferd_tui.proto.models import AdminStatus
from inferd_tui.runtime import Runtime

if TYPE_CHECKING:
    from inferd_tui.mock_daemon import MockDaemon

Clock = Callable[[], datetime]

#: How ``watch --demo`` configures the stand-in daemon: a whole first boot, which waits
#: for this client to subscribe before it starts.
DEMO_CONFIG: dict[str, Any] = {"boot": "first-boot", "autoboot": False}


LENGTH_PREFIXED_ERAS = frozenset(era for era in ERAS if features(era).length_prefixed)


def _now() -> datetime:
    return datetime.now().astimezone()


def text_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def json_time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


async def main(args: argparse.Namespace, runtime: Runtime, console: Console) -> int:
    # The demo shows a whole first boot: it waits for this client before booting and,
    # without --follow, shuts down (draining, EOF) once ready, so the command ends with 0.
    async with demo_daemon(runtime, wait_ready=False, **DEMO_CONFIG) as daemon:
        path = runtime.resolution.admin
        if daemon is None:
            return await watch(path, console, as_json=args.json, follow=args.follow)
        code = EXIT_OK
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(_drive_demo, daemon, not args.follow)
            code = await watch(path, console, as_json=args.json, follow=args.follow)
            task_group.cancel_scope.cancel()
        return code


async def _drive_demo(daemon: MockDaemon, shut_down: bool) -> None:
    await daemon.wait_until(lambda d: d.admin_clients > 0)
    daemon.begin_boot()
    if shut_down:
        await daemon.wait_ready()
        await daemon.shutdown()


async def watch(
    path: Path | None,
    console: Console,
    *,
    as_json: bool,
    follow: bool,
    clock: Clock = _now,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    if path is None:
        console.note("watch: no admin socket path is known on this platform; use --admin")
        return EXIT_UNREACHABLE
    meter = DownloadMeter()
    last_status: str | None = None
    gap_started: tuple[datetime, float] | None = None
    waiting_noted = False
    # What the capabilities say about the daemon, told once per connection.
    capabilities: list[dict[str, Any]] = []
    announced = False

    def announce(moment: datetime) -> None:
        eras = eras_from_capabilities(capabilities)
        wire: Wire = "v2" if eras.low in LENGTH_PREFIXED_ERAS else "v1"
        text = f"{eras.describe()}: inferd-tui speaks {WIRE_TITLE[wire]}"
        gap_line("daemon", moment, text, era=eras.short, wire=wire)

    def gap_line(event: str, moment: datetime, text: str, **fields: object) -> None:
        if as_json:
            console.json(
                {"type": "watch", "event": event, "received_at": json_time(moment), **fields}
            )
        else:
            console.line(f"{text_time(moment)} -- {text} --")

    async with contextlib.aclosing(watch_admin(path, reconnect=follow)) as items:
        try:
            async for item in items:
                moment = clock()
                if isinstance(item, AdminNotice):
                    if item.kind == "connected":
                        waiting_noted = False
                        capabilities, announced = [], False
                        if gap_started is not None:
                            started, started_mono = gap_started
                            gap = monotonic() - started_mono
                            gap_line(
                                "reconnected",
                                moment,
                                f"admin disconnected at {text_time(started)}, reconnected "
                                f"after {gap:.1f} s",
                                gap_s=round(gap, 3),
                                disconnected_at=json_time(started),
                            )
                            gap_started = None
                    elif item.kind == "disconnected":
                        gap_started = (moment, monotonic())
                        meter.reset()
                        gap_line(
                            "disconnected",
                            moment,
                            f"admin disconnected at {text_time(moment)}; reconnecting",
                        )
                    elif item.kind == "malformed":
                        console.note(f"watch: {safe(item.message)}")
                    elif not waiting_noted:  # retrying / permission_denied / unavailable
                        waiting_noted = True
                        console.note(f"watch: {safe(item.message)} (and so on until it answers)")
                    continue
                rate, eta = meter.observe(item, monotonic())
                last_status = item.status
                if item.is_capabilities:
                    capabilities.append(item.details())
                elif not announced and (capabilities or item.status == AdminStatus.READY):
                    announce(moment)
                    announced = True
                if as_json:
                    console.json({**raw_event(item), "received_at": json_time(moment)})
                else:
                    console.line(f"{text_time(moment)} {describe_event(item, rate=rate, eta=eta)}")
        except ConnectError as exc:  # only without --follow
            console.note(f"watch: cannot reach the admin socket {path}: {exc.hint}")
            return EXIT_UNREACHABLE
    if last_status == AdminStatus.DRAINING:
        return EXIT_OK
    console.note(
        f"watch: the admin socket {path} closed without `draining` (the daemon stopped or "
        "crashed, or dropped this client for falling behind); use --follow to reconnect"
    )
    return EXIT_UNREACHABLE
