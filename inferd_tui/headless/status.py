"""``inferd-tui status``: the daemon's state in one line (or one JSON object).

Exit status:

* 0 — ready: the admin snapshot says ``ready`` (a v1 daemon); or the admin socket cannot
  be reached but the inference socket accepts a connection, which *is* the ready signal
  (protocol §2, Pattern A) — a note says admin was unavailable.
* 1 — reachable but not ready (starting, loading, restarting, draining, unknown states).
* 2 — unreachable (the reason and the paths tried are printed).

Once the daemon has said what it is, the line (and ``--json``'s ``era``/``wire``) names its
release range, the wire inferd-tui speaks to it and where, and every backend's capabilities.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

import anyio

from inferd_tui.client import (
    AdminSnapshot,
    ConnectError,
    EndpointResolution,
    InferdError,
    connect,
    read_admin_state,
)
from inferd_tui.client.wire import WireChoice, WireSetting, choose_wire
from inferd_tui.headless._console import (
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_UNREACHABLE,
    Console,
    demo_daemon,
    safe,
)
from inferd_tui.headless.events import describe_capabilities, describe_event, raw_event
from inferd_tui.proto.eras import eras_from_capabilities
from inferd_tui.runtime import Runtime

ADMIN_TIMEOUT_S = 5.0
PROBE_TIMEOUT_S = 5.0


async def main(args: argparse.Namespace, runtime: Runtime, console: Console) -> int:
    async with demo_daemon(runtime, boot="instant"):
        return await report_status(
            runtime.resolution,
            console,
            as_json=args.json,
            wire=runtime.loaded.settings.wire,
            release=runtime.loaded.settings.daemon_release,
        )


async def probe_inference(resolution: EndpointResolution) -> ConnectError | None:
    """One connection attempt to the inference socket (closed at once); the error, if any."""
    try:
        stream = await connect(resolution.inference, timeout=PROBE_TIMEOUT_S)
    except ConnectError as exc:
        return exc
    with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        await stream.aclose()
    return None


async def report_status(
    resolution: EndpointResolution,
    console: Console,
    *,
    as_json: bool,
    wire: WireSetting = "auto",
    release: str | None = None,
) -> int:
    admin = resolution.admin
    paths = {"admin": str(admin) if admin else None, "inference": resolution.inference.display}
    admin_error: InferdError
    if admin is None:
        admin_error = ConnectError(
            "no admin socket path is known on this platform", address="", transient=False
        )
    else:
        try:
            snapshot = await read_admin_state(admin, ADMIN_TIMEOUT_S)
        except InferdError as exc:
            admin_error = exc
        else:
            choice: WireChoice | None = None
            with contextlib.suppress(InferdError):
                choice = await choose_wire(resolution, wire=wire, release=release)
            return _report_snapshot(snapshot, choice, paths, console, as_json=as_json)

    # Admin is unavailable: a connection to the inference socket is the ready signal.
    inference_error = await probe_inference(resolution)
    if inference_error is None:
        note = f"admin socket unavailable ({admin_error.hint})"
        if as_json:
            console.json(
                {
                    "reachable": True,
                    "ready": True,
                    "state": "ready",
                    "phase": None,
                    "details": {},
                    "capabilities": [],
                    "era": None,
                    "v1": True,
                    "source": "inference",
                    "note": note,
                    "paths": paths,
                }
            )
        else:
            console.line(
                f"ready (the inference socket {paths['inference']} accepts connections; {note})"
            )
        return EXIT_OK

    if as_json:
        console.json(
            {
                "reachable": False,
                "ready": False,
                "state": None,
                "phase": None,
                "details": {},
                "capabilities": [],
                "era": None,
                "v1": None,
                "source": None,
                "error": {"admin": admin_error.hint, "inference": inference_error.hint},
                "paths": paths,
            }
        )
    else:
        console.line(f"unreachable: admin socket: {admin_error.hint}")
        console.line(f"  inference socket: {inference_error.hint}")
    return EXIT_UNREACHABLE


def _report_snapshot(
    snapshot: AdminSnapshot,
    choice: WireChoice | None,
    paths: dict[str, Any],
    console: Console,
    *,
    as_json: bool,
) -> int:
    state = snapshot.state
    ready = snapshot.ready
    # Capabilities come before `ready`: before that the era is not known yet.
    known = ready or bool(snapshot.capabilities)
    eras = (
        eras_from_capabilities([event.details() for event in snapshot.capabilities])
        if known
        else None
    )
    code = EXIT_OK if ready else EXIT_NOT_READY
    wire = choice.wire if choice is not None and eras is not None else None
    if wire is not None and choice is not None:
        eras = choice.eras  # narrowed by a stated daemon release, when there is one
    if as_json:
        console.json(
            {
                "reachable": True,
                "ready": ready,
                "state": state.status,
                "phase": state.phase,
                "details": state.details(),
                "capabilities": [raw_event(event) for event in snapshot.capabilities],
                "era": eras.short if eras is not None else None,
                "wire": wire,
                "v1": None if eras is None else eras.any("v1"),
                "source": "admin",
                "paths": {**paths, "generation": choice.endpoint.display if choice else None},
            }
        )
        return code
    line = describe_event(state)
    extras = []
    if eras is not None:
        extras.append(eras.describe())
    if choice is not None and wire is not None:
        extras.append(f"wire {wire} on {safe(choice.endpoint.display)}")
    extras.extend(describe_capabilities(event) for event in snapshot.capabilities)
    if extras:
        line += " (" + "; ".join(extras) + ")"
    console.line(f"{line} — admin {safe(paths['admin'])}")
    return code
