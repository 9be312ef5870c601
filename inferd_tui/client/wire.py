"""Which wire a daemon speaks, and where (protocol-v2.md §9), decided from the daemon itself.

In order: the **admin socket** (capabilities with ``wire_version`` → 0.4+, length-prefixed
on ``inferd.sock``; capabilities without it → 0.2–0.3, v1 on ``infer.sock``; none once the
daemon is settled → 0.1), then the **socket files** in the run directory (``inferd.sock``
→ 0.4+, ``infer.sock`` → ≤ 0.3, a stale file skipped), then a **probe** of whatever socket
is there (``{}\\n``, two bytes back: ``{`` → NDJSON; a small byte then ``0x01`` → LP). The
result says which wire was chosen and why, for ``status`` and ``doctor``.

``wire="v1"``/``"v2"`` override the choice of wire (not where it is served): ``v2`` on a
0.2–0.3 daemon means the NDJSON v2 socket ``infer.v2.sock``.

Choices where the page is silent: ``auto`` picks v1 on 0.2–0.3 even when ``infer.v2.sock``
exists (v1 is what stock 0.2–0.3 clients speak, and carries grammars); v2 is one flag away.
A probe that gets no answer within ``probe_timeout`` is reported as an NDJSON socket that
waits for a newline (what the page says LP bytes on an NDJSON socket look like).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import anyio
from anyio.abc import ByteStream

from inferd_tui.client.admin import AdminNotice, watch_admin
from inferd_tui.client.endpoints import Endpoint, EndpointResolution, path_state
from inferd_tui.client.transport import connect
from inferd_tui.proto.capability import BackendCapabilities, DaemonProfile
from inferd_tui.proto.eras import (
    ANY_ERA,
    LP_SOCKET_NAME,
    RELEASE,
    V1_SOCKET_NAME,
    V2_NDJSON_SOCKET_NAME,
    WIRE_TITLE,
    EraRange,
    Wire,
    era_from_release,
    era_index,
    eras_from_capabilities,
)
from inferd_tui.proto.errors import ConnectError, IncompatibleDaemon, InferdError
from inferd_tui.proto.models import AdminEvent, AdminStatus

WireSetting = Literal["auto", "v1", "v2"]
WIRE_SETTINGS: tuple[WireSetting, ...] = ("auto", "v1", "v2")
DEFAULT_ADMIN_TIMEOUT_S = 2.0
DEFAULT_PROBE_TIMEOUT_S = 1.0

#: States after which no capabilities frame will come without a change of state.
_SETTLED = frozenset({AdminStatus.READY, AdminStatus.DRAINING})


@dataclass(frozen=True)
class AdminFindings:
    """What the admin socket said: the capabilities frames and the last state seen."""

    capabilities: tuple[AdminEvent, ...]
    state: AdminEvent | None
    settled: bool

    @property
    def eras(self) -> EraRange:
        # details() drops the envelope but keeps wire_version and every capability key.
        frames = [event.details() for event in self.capabilities]
        return eras_from_capabilities(frames, saw_any_frame=self.settled)

    @property
    def backends(self) -> tuple[BackendCapabilities, ...]:
        return tuple(BackendCapabilities.from_frame(event.details()) for event in self.capabilities)


async def read_admin_findings(
    path: Path,
    timeout: float = DEFAULT_ADMIN_TIMEOUT_S,  # noqa: ASYNC109 - a deadline
    *,
    connect_admin: Callable[[], Awaitable[ByteStream]] | None = None,
) -> AdminFindings:
    """Read admin frames until the daemon's kind is known: a capabilities frame followed by
    a state, or a settled state (``ready``/``draining``) with none. While it is starting or
    loading, capabilities come before ``ready``: keep reading until ``timeout``.

    Raises :class:`ConnectError` when the admin socket cannot be opened.
    """
    capabilities: list[AdminEvent] = []
    state: AdminEvent | None = None
    with anyio.move_on_after(timeout):
        async with contextlib.aclosing(
            watch_admin(path, reconnect=False, connect=connect_admin)
        ) as events:
            async for item in events:
                if isinstance(item, AdminNotice):
                    continue
                if item.is_capabilities:
                    capabilities.append(item)
                    continue
                state = item
                if capabilities or item.status in _SETTLED:
                    break
    settled = state is not None and (bool(capabilities) or state.status in _SETTLED)
    return AdminFindings(tuple(capabilities), state, settled)


@dataclass(frozen=True)
class WireChoice:
    """The wire to speak, where, and why (one sentence per step taken)."""

    wire: Wire
    endpoint: Endpoint
    eras: EraRange
    backends: tuple[BackendCapabilities, ...] = ()
    reasons: tuple[str, ...] = ()
    #: Other generation sockets seen (for status: a 0.3 daemon's ``infer.v2.sock``).
    also_available: tuple[tuple[Wire, Endpoint], ...] = field(default=())

    @property
    def profile(self) -> DaemonProfile:
        return DaemonProfile(self.wire, self.eras, self.backends)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def describe(self) -> str:
        return f"{WIRE_TITLE[self.wire]} on {self.endpoint.display} ({self.eras.describe()})"


def _leaf_endpoint(directory: Path, wire: Wire) -> Endpoint:
    leaf = {"v1": V1_SOCKET_NAME, "v2-ndjson": V2_NDJSON_SOCKET_NAME, "v2": LP_SOCKET_NAME}[wire]
    return Endpoint.unix(directory / leaf)


def _explicit(resolution: EndpointResolution) -> bool:
    """Whether the inference socket was given (flag, environment, config), not defaulted."""
    return any(
        candidate.chosen and candidate.source.startswith(("flag", "env", "config"))
        for candidate in resolution.inference_candidates
    )


def _narrow(eras: EraRange, release: str, reasons: list[str]) -> EraRange:
    """The stated release, when the daemon's own signals allow it."""
    stated = era_from_release(release)
    if era_index(eras.low) <= era_index(stated) <= era_index(eras.high):
        reasons.append(f"daemon_release {release}: inferd {RELEASE[stated]} as stated")
        return EraRange.exactly(stated)
    reasons.append(
        f"daemon_release {release} was ignored: the daemon itself says {eras.describe()}"
    )
    return eras


async def probe_wire(
    endpoint: Endpoint,
    timeout: float = DEFAULT_PROBE_TIMEOUT_S,  # noqa: ASYNC109 - a deadline
) -> Literal["ndjson", "lp", "silent", "closed"]:
    """§9's probe: ``{}\\n``, then two bytes. No generation starts and no admission slot is
    taken (an NDJSON daemon rejects ``{}`` as a decode error; an LP one as a bad type)."""
    stream = await connect(endpoint, timeout=timeout)
    received = b""
    try:
        with anyio.move_on_after(timeout):
            await stream.send(b"{}\n")
            while len(received) < 2:
                chunk = await stream.receive(2 - len(received))
                received += chunk
    except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
        pass
    finally:
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await stream.aclose()
    if received.startswith(b"{"):
        return "ndjson"
    if len(received) == 2 and received[0] < 0x80 and received[1] == 0x01:
        return "lp"
    if len(received) == 2 and received[0] >= 0x80:
        return "lp"  # a long error frame (varint of 2+ bytes); still length-prefixed
    return "silent" if not received else "closed"


async def choose_wire(
    resolution: EndpointResolution,
    *,
    wire: WireSetting = "auto",
    admin_timeout: float = DEFAULT_ADMIN_TIMEOUT_S,
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT_S,
    release: str | None = None,
) -> WireChoice:
    """Decide the wire and the generation endpoint for the daemon ``resolution`` names.

    ``release`` is the daemon's version when the user knows it (``daemon_release`` in the
    config, ``--daemon-release``): a daemon does not announce it, and the admin socket
    tells only a range (0.4 or later…), so without it a field only some releases of the
    range take is sent with a note rather than refused.

    Never raises for a daemon that is merely not up yet: with nothing to go on it returns
    the configured (or v1) wire on the resolved path with the reason "nothing to go on".
    Raises :class:`IncompatibleDaemon` when ``wire`` asks for what the daemon cannot speak.
    """
    reasons: list[str] = []
    inference = resolution.inference
    if inference.kind == "tcp":
        reasons.append("TCP endpoint: only protocol v1 is spoken over TCP by inferd-tui")
        if wire == "v2":
            raise IncompatibleDaemon(
                f"--wire v2 over TCP ({inference.display}) is not supported: use the daemon's "
                "Unix socket",
                address=inference.display,
                wire_version=None,
            )
        return WireChoice("v1", inference, EraRange("0.1", "0.4"), reasons=tuple(reasons))
    assert inference.path is not None
    explicit = _explicit(resolution)
    directory = inference.path.parent

    findings: AdminFindings | None = None
    if resolution.admin is not None:
        try:
            findings = await read_admin_findings(resolution.admin, admin_timeout)
        except InferdError as exc:
            reasons.append(f"admin socket {resolution.admin}: {exc.title}")
    eras = ANY_ERA
    backends: tuple[BackendCapabilities, ...] = ()
    detected: Wire | None = None
    if findings is not None and findings.settled:
        eras, backends = findings.eras, findings.backends
        if era_index(eras.low) >= era_index("0.4"):
            detected = "v2"
            reasons.append(
                f"admin capabilities carry wire_version → {eras.describe()}, which speaks the "
                "length-prefixed v2 wire only"
            )
        elif findings.capabilities:
            detected = "v1"
            reasons.append(f"admin capabilities without wire_version → {eras.describe()}")
        else:
            detected = "v1"
            reasons.append("admin sent no capabilities → inferd 0.1")
    elif findings is not None:
        state = findings.state.status if findings.state is not None else "nothing"
        reasons.append(f"admin socket: the daemon is {state}; no capabilities yet")

    if detected is None:
        detected, eras = await _from_files_or_probe(
            inference.path if explicit else None, directory, probe_timeout, reasons
        )

    if release is not None:
        eras = _narrow(eras, release, reasons)
    chosen: Wire = detected or "v1"
    if wire == "v1" and chosen == "v2":
        raise IncompatibleDaemon(
            f"--wire v1 was asked for, but the daemon is {eras.describe()}, which removed "
            f"protocol v1 (it serves {directory / LP_SOCKET_NAME}); drop --wire v1 or set wire = "
            '"auto"',
            address=str(resolution.admin or inference.display),
            wire_version=1,
        )
    if wire == "v2" and chosen == "v1":
        if era_index(eras.high) < era_index("0.2"):
            raise IncompatibleDaemon(
                f"--wire v2 was asked for, but the daemon is {eras.describe()}, which has no v2 "
                "socket; drop --wire v2",
                address=inference.display,
                wire_version=None,
            )
        chosen = "v2-ndjson"
        reasons.append("--wire v2: the 0.2–0.3 v2 NDJSON socket (the daemon needs --v2)")
        eras = EraRange(
            eras.low if era_index(eras.low) >= era_index("0.2") else "0.2",
            eras.high if era_index(eras.high) <= era_index("0.3") else "0.3",
        )
    elif wire != "auto":
        reasons.append(f"--wire {wire}")

    if explicit:
        endpoint = inference
        if chosen == "v2-ndjson" and inference.path.name == V1_SOCKET_NAME:
            endpoint = _leaf_endpoint(directory, "v2-ndjson")
        elif chosen == "v2" and inference.path.name == V1_SOCKET_NAME:
            # An old setting pointing at infer.sock, on a daemon that removed it.
            endpoint = _leaf_endpoint(directory, "v2")
            reasons.append(
                f"{inference.display} was given, but a 0.4+ daemon serves {endpoint.display} "
                "instead: using it (update --socket / INFERD_UDS)"
            )
    else:
        endpoint = _leaf_endpoint(directory, chosen)
    also: list[tuple[Wire, Endpoint]] = []
    if chosen == "v1" and path_state(directory / V2_NDJSON_SOCKET_NAME) == "exists":
        also.append(("v2-ndjson", _leaf_endpoint(directory, "v2-ndjson")))
    reasons.append(f"speaking {WIRE_TITLE[chosen]} on {endpoint.display}")
    return WireChoice(chosen, endpoint, eras, backends, tuple(reasons), tuple(also))


_BY_NAME: dict[str, tuple[Wire, EraRange]] = {
    LP_SOCKET_NAME: ("v2", EraRange("0.4", "0.8")),
    V1_SOCKET_NAME: ("v1", EraRange("0.1", "0.3")),
    V2_NDJSON_SOCKET_NAME: ("v2-ndjson", EraRange("0.2", "0.3")),
}


async def _answers(path: Path) -> ConnectError | None:
    """Whether something listens at ``path`` (connect and close; nothing is sent)."""
    try:
        stream = await connect(Endpoint.unix(path), timeout=DEFAULT_PROBE_TIMEOUT_S)
    except ConnectError as exc:
        return exc
    with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
        await stream.aclose()
    return None


async def _from_files_or_probe(
    explicit_path: Path | None, directory: Path, probe_timeout: float, reasons: list[str]
) -> tuple[Wire | None, EraRange]:
    """§9 steps 2 and 3: the socket files (skipping stale ones), then the probe of a
    socket whose name says nothing."""
    if explicit_path is not None:
        known = _BY_NAME.get(explicit_path.name)
        if known is not None:
            reasons.append(f"{explicit_path.name} is the socket name of {known[1].describe()}")
            return known
        if path_state(explicit_path) != "exists":
            reasons.append(f"{explicit_path} does not exist yet: nothing to go on")
            return None, ANY_ERA
        try:
            answer = await probe_wire(Endpoint.unix(explicit_path), probe_timeout)
        except ConnectError as exc:
            reasons.append(f"{explicit_path}: {exc.title} (a stale socket file?)")
            return None, ANY_ERA
        if answer == "lp":
            reasons.append(
                f"{explicit_path} answered the probe with a length-prefixed frame → inferd 0.4+"
            )
            return "v2", EraRange("0.4", "0.8")
        if answer == "ndjson":
            reasons.append(f"{explicit_path} answered the probe with an NDJSON line → inferd ≤ 0.3")
            return "v1", EraRange("0.1", "0.3")
        reasons.append(
            f"{explicit_path} did not answer the probe within {probe_timeout:g} s (an NDJSON "
            "socket waiting for a newline, or a busy daemon)"
            if answer == "silent"
            else f"{explicit_path} closed the connection without answering the probe"
        )
        return None, ANY_ERA
    for name in (LP_SOCKET_NAME, V1_SOCKET_NAME):
        path = directory / name
        if path_state(path) != "exists":
            continue
        failure = await _answers(path)
        if failure is not None:
            reasons.append(f"{path} exists but {failure.title}: a stale socket file, skipped")
            continue
        wire, eras = _BY_NAME[name]
        reasons.append(f"{path} is listening → {eras.describe()}")
        return wire, eras
    reasons.append("no generation socket yet: nothing to go on")
    return None, ANY_ERA
