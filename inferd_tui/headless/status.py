"""``inferd-tui status``: the daemon's state in one line (or one JSON object).

Exit status:

* 0 — ready: the admin snapshot says ``ready`` (a v1 daemon); or the admin socket cannot
  be reached but the inference socket accepts a connection, which *is* the ready signal
  (protocol §2, Pattern A) — a note says admin was unavailable.
* 1 — reachable but not ready (starting, loading, restarting, draining, unknown states).
* 2 — unreachable (the reason and the paths tried are printed), or a daemon 0.4+ whose
  capabilities carry ``wire_version``: it no longer serves protocol v1, so waiting will not
  help a v1 client (unlike exit 1).
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
from inferd_tui.headless._console import (
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_UNREACHABLE,
    Console,
    demo_daemon,
    safe,
)
from inferd_tui.headless.events import describe_capabilities, describe_event, raw_event
from inferd_tui.runtime import Runtime

ADMIN_TIMEOUT_S = 5.0
PROBE_TIMEOUT_S = 5.0


async def main(args: argparse.Namespace, runtime: Runtime, console: Console) -> int:
    async with demo_daemon(runtime, boot="instant"):
        return await report_status(runtime.resolution, console, as_json=args.json)


async def probe_inference(resolution: EndpointResolution) -> ConnectError | None:
    """One connection attempt to the inference socket (closed at once); the error, if any."""
    try:
        stream = await connect(resolution.inference, timeout=PROBE_TIMEOUT_S)
    except ConnectError as exc:
        return exc
    with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        await stream.aclose()
    return None


async def report_status(resolution: EndpointResolution, console: Console, *, as_json: bool) -> int:
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
            return _report_snapshot(snapshot, paths, console, as_json=as_json)

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
    snapshot: AdminSnapshot, paths: dict[str, Any], console: Console, *, as_json: bool
) -> int:
    state = snapshot.state
    ready = snapshot.ready
    # Capabilities come before `ready`: before that the era is not known yet.
    era = snapshot.era if ready or snapshot.capabilities else None
    v1_gone = era == "0.4+"
    code = EXIT_UNREACHABLE if v1_gone else EXIT_OK if ready else EXIT_NOT_READY
    if as_json:
        console.json(
            {
                "reachable": True,
                "ready": code == EXIT_OK,
                "state": state.status,
                "phase": state.phase,
                "details": state.details(),
                "capabilities": [raw_event(event) for event in snapshot.capabilities],
                "era": era,
                "v1": None if era is None else not v1_gone,
                "source": "admin",
                "paths": paths,
            }
        )
        return code
    line = describe_event(state)
    extras = []
    if era is not None and not v1_gone:  # for 0.4+ the capabilities say it already
        extras.append(f"daemon {era}")
    extras.extend(describe_capabilities(event) for event in snapshot.capabilities)
    if extras:
        line += " (" + "; ".join(extras) + ")"
    if v1_gone:  # never a line starting "ready" that a script could take for usable
        line = f"v1 unavailable: daemon {line}"
    console.line(f"{line} — admin {safe(paths['admin'])}")
    if v1_gone:
        wire = next((e.wire_version for e in snapshot.capabilities if e.announces_v2_only), None)
        console.line(
            f"protocol v1 is gone: this daemon is inferd 0.4 or later (wire_version "
            f"{safe(wire)}) and no longer serves v1 on {paths['inference']}; use an inferd "
            "0.3.x daemon, or a client that speaks v2"
        )
    return code
