"""``inferd-tui doctor``: a punch list of everything between you and an answer.

Each check prints ``[ ok ]``, ``[warn]``, ``[FAIL]`` or ``[skip]`` (not run because an
earlier check failed), with details indented below and a ``hint:`` under each failure.
Exit status 0 when nothing failed, 1 otherwise. The API key's value is never printed,
only whether its variable is set.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import os
import pwd
import stat
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import anyio

from inferd_tui.client import (
    AdminSnapshot,
    Candidate,
    Client,
    ConnectError,
    DaemonError,
    EndpointResolution,
    IncompatibleDaemon,
    InferdError,
    connect,
    path_state,
    read_admin_state,
)
from inferd_tui.client.wire import WireChoice, WireSetting, choose_wire
from inferd_tui.headless._console import Console, demo_daemon, safe, to_json
from inferd_tui.headless.events import raw_event
from inferd_tui.proto.chat import ChatMessage, ChatRequest
from inferd_tui.proto.models import Role, SamplingParams
from inferd_tui.runtime import Runtime
from inferd_tui.settings import ConfigError, LoadedSettings, check_against_app

Mark = Literal["ok", "warn", "FAIL", "skip"]
_LABELS: dict[Mark, str] = {"ok": "[ ok ]", "warn": "[warn]", "FAIL": "[FAIL]", "skip": "[skip]"}
_INDENT = " " * 7

ADMIN_TIMEOUT_S = 5.0
ROUND_TRIP_TIMEOUT_S = 60.0
#: Sockets a 0.2–0.4 daemon may also have beside infer.sock (not protocol v1).
OTHER_SOCKETS = {
    "infer.v2.sock": "the v2 wire of a 0.2–0.3 daemon (not v1)",
    "infer.embed.sock": "embeddings (not v1)",
    "inferd.sock": "the v2 socket of a daemon 0.4+ (no v1)",
}


@dataclass
class Report:
    console: Console
    failures: int = 0
    warnings: int = 0

    def add(
        self,
        mark: Mark,
        title: str,
        *,
        details: Collection[str] = (),
        hint: str | None = None,
    ) -> None:
        self.failures += mark == "FAIL"
        self.warnings += mark == "warn"
        self.console.line(f"{_LABELS[mark]} {title}")
        for detail in details:
            self.console.line(f"{_INDENT}{detail}")
        if hint:
            self.console.line(f"{_INDENT}hint: {hint}")


@dataclass(frozen=True)
class Identity:
    """Who is asking: for judging socket permissions."""

    uid: int
    gids: frozenset[int]
    name: str
    #: Groups the user belongs to in /etc/group but this session does not have yet.
    pending_gids: frozenset[int] = field(default=frozenset())

    @classmethod
    def current(cls) -> Identity:
        uid = os.geteuid()
        gids = frozenset({os.getegid(), *os.getgroups()})
        name = _user_name(uid)
        pending: set[int] = set()
        with contextlib.suppress(OSError):
            pending = {g.gr_gid for g in grp.getgrall() if name in g.gr_mem} - gids
        return cls(uid, gids, name, frozenset(pending))


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def socket_access(st: os.stat_result, who: Identity) -> tuple[bool, str]:
    """Whether ``who`` may connect (connecting needs write permission on the socket)."""
    mode = stat.S_IMODE(st.st_mode)
    owner, group = _user_name(st.st_uid), _group_name(st.st_gid)
    if who.uid == 0:
        return True, "you are root"
    if st.st_uid == who.uid:
        return bool(mode & stat.S_IWUSR), f"you ({who.name}) own it"
    if st.st_gid in who.gids:
        return bool(mode & stat.S_IWGRP), f"you ({who.name}) are in its group {group}"
    return bool(mode & stat.S_IWOTH), (
        f"you ({who.name}) are neither its owner {owner} nor in its group {group}"
    )


def _candidate_lines(candidates: list[Candidate]) -> list[str]:
    lines = []
    for candidate in candidates:
        marker = "→" if candidate.chosen else " "
        if candidate.path is None:  # TCP: the address is in the reason
            lines.append(f"{marker} {candidate.source} — {candidate.reason}")
            continue
        state = path_state(candidate.path)  # now, not at resolution
        lines.append(
            f"{marker} {candidate.source}: {candidate.path} ({state}) — {candidate.reason}"
        )
    return lines


def check_socket_file(report: Report, label: str, path: Path, who: Identity) -> bool:
    """Exists, is a socket, and ``who`` may connect. True if all three."""
    try:
        st = path.stat()
    except FileNotFoundError:
        if label.startswith("admin"):
            hint = "is inferd running? (the daemon binds its admin socket first) — or try --demo"
        else:
            hint = (
                "is inferd running? (the inference socket appears only once the model is "
                "loaded; `inferd-tui watch` shows the progress) — or try --demo"
            )
        report.add("FAIL", f"{label}: {path} does not exist", hint=hint)
        return False
    except PermissionError:
        report.add(
            "FAIL",
            f"{label}: {path} cannot be examined (permission denied on its directory)",
            hint=f"check the permissions of {path.parent}",
        )
        return False
    except OSError as exc:
        report.add("FAIL", f"{label}: {path}: {exc.strerror or exc}")
        return False
    owner, group = _user_name(st.st_uid), _group_name(st.st_gid)
    described = f"{stat.filemode(st.st_mode)} {owner}:{group}"
    if not stat.S_ISSOCK(st.st_mode):
        report.add(
            "FAIL",
            f"{label}: {path} exists but is not a socket ({described})",
            hint="point --socket/--admin at the daemon's socket, or remove the stray file",
        )
        return False
    allowed, why = socket_access(st, who)
    if allowed:
        report.add("ok", f"{label}: {path} ({described}; {why}: can connect)")
        return True
    if st.st_gid in who.pending_gids:
        hint = (
            f"you were added to group {group} but this session predates it: log out and in "
            f"again (or run `newgrp {group}`)"
        )
    elif label.startswith("admin"):
        hint = "the admin socket is mode 0600: run as the daemon's user to watch it"
    else:
        hint = f"ask an administrator to add {who.name} to group {group} (the socket is 0660)"
    report.add("FAIL", f"{label}: {path} ({described}; {why}: cannot connect)", hint=hint)
    return False


def _app_config_problem(loaded: LoadedSettings) -> str | None:
    """What the app would say about the keymap and theme (it knows its ids and themes)."""
    # Imported here: it loads Textual, which the other checks never need.
    from inferd_tui.ui.launch import binding_ids, theme_names

    try:
        check_against_app(loaded, binding_ids=binding_ids(), theme_names=theme_names())
    except ConfigError as exc:
        return str(exc)
    return None


async def main(args: argparse.Namespace, runtime: Runtime, console: Console) -> int:
    async with demo_daemon(runtime, boot="instant"):
        return await doctor(runtime, console)


async def doctor(
    runtime: Runtime,
    console: Console,
    *,
    who: Identity | None = None,
    round_trip_timeout: float = ROUND_TRIP_TIMEOUT_S,
) -> int:
    who = who or Identity.current()
    report = Report(console)
    loaded = runtime.loaded
    resolution = runtime.resolution

    if loaded.config_exists:
        report.add("ok", f"config file: {loaded.config_path} ({loaded.config_source})")
    else:
        report.add("ok", f"config file: none at {loaded.config_path}; defaults and environment")
    for warning in loaded.warnings:
        report.add("warn", f"config: {warning}")
    app_problem = _app_config_problem(loaded)
    if app_problem is not None:
        report.add(
            "FAIL",
            f"config: {app_problem}",
            hint="the app refuses to start with this setting; fix or remove it",
        )

    inference = resolution.inference
    report.add(
        "ok",
        f"inference endpoint: {inference.display}",
        details=["considered:", *_candidate_lines(resolution.inference_candidates)],
    )
    admin = resolution.admin
    if admin is None:
        report.add("warn", "admin socket: none known on this platform (use --admin)")
    else:
        report.add(
            "ok",
            f"admin socket: {admin}",
            details=["considered:", *_candidate_lines(resolution.admin_candidates)],
        )

    inference_file_ok = True
    if inference.kind == "unix" and inference.path is not None:
        inference_file_ok = check_socket_file(report, "inference socket", inference.path, who)
    admin_file_ok = admin is not None and check_socket_file(report, "admin socket", admin, who)

    snapshot = await _check_admin(report, admin, admin_file_ok)
    choice = await _check_wire(
        report, resolution, snapshot, loaded.settings.wire, loaded.settings.daemon_release
    )
    _note_other_sockets(report, resolution)

    connected = False
    if choice is None:
        report.add("skip", "inference connection: no wire this daemon speaks was chosen")
    elif not inference_file_ok and choice.endpoint == inference:
        report.add("skip", f"inference connection: {inference.display} is not usable")
    else:
        connected = await _check_connect(report, choice)
    if connected and choice is not None:
        await _check_round_trip(report, resolution, choice, round_trip_timeout)
    else:
        report.add("skip", "round trip: the inference socket is not reachable")
    _check_api_key(report, resolution)

    summary = (
        f"{report.failures} problem{'s' * (report.failures != 1)}"
        if report.failures
        else "no problems"
    )
    if report.warnings:
        summary += f", {report.warnings} warning{'s' * (report.warnings != 1)}"
    console.line(f"{summary} found")
    return 1 if report.failures else 0


async def _check_admin(report: Report, admin: Path | None, file_ok: bool) -> AdminSnapshot | None:
    if admin is None:
        return None
    if not file_ok:
        report.add("skip", "admin connection: the admin socket is not usable")
        return None
    started = anyio.current_time()
    try:
        snapshot = await read_admin_state(admin, ADMIN_TIMEOUT_S)
    except InferdError as exc:
        report.add("FAIL", f"admin connection: {exc.title}", hint=exc.hint)
        return None
    elapsed = (anyio.current_time() - started) * 1000
    first = snapshot.capabilities[0] if snapshot.capabilities else snapshot.state
    report.add(
        "ok" if snapshot.ready else "warn",
        f"admin connection: state {safe(snapshot.state.status)}"
        + ("" if snapshot.state.phase is None else f" ({safe(snapshot.state.phase)})")
        + f", in {elapsed:.0f} ms",
        details=[f"first frame: {safe(to_json(raw_event(first)))}"],
        hint=None if snapshot.ready else "not ready yet: `inferd-tui watch` follows its progress",
    )
    return snapshot


async def _check_wire(
    report: Report,
    resolution: EndpointResolution,
    snapshot: AdminSnapshot | None,
    wire: WireSetting,
    release: str | None,
) -> WireChoice | None:
    """Which wire the daemon speaks and where, and why; explains a wrong-wire setup."""
    if snapshot is not None and not snapshot.ready and not snapshot.capabilities:
        report.add("warn", "daemon era: not known yet (capabilities arrive just before `ready`)")
    try:
        choice = await choose_wire(resolution, wire=wire, release=release)
    except IncompatibleDaemon as exc:
        report.add("FAIL", f"wire: {exc.title}", hint=exc.hint)
        return None
    report.add(
        "ok",
        f"wire: {choice.wire} ({choice.describe()})",
        details=[f"why: {reason}" for reason in choice.reasons],
    )
    given = resolution.inference
    if (
        given.kind == "unix"
        and given.path is not None
        and choice.wire == "v2"
        and given.path.name == "infer.sock"
    ):
        report.add(
            "warn",
            f"socket setting: {given.display} is a v1 socket path, but this daemon is "
            f"{choice.eras.describe()} and serves {choice.endpoint.display}",
            hint=f"point --socket / INFERD_UDS / endpoint.socket at {choice.endpoint.display} "
            "(or remove the setting: the default finds it)",
        )
    split = [c.path for c in resolution.inference_candidates if c.exists and c.path is not None]
    tmp_dirs = {str(path.parent) for path in split if str(path.parent).startswith("/tmp/inferd")}
    if len(tmp_dirs) > 1:
        report.add(
            "warn",
            f"sockets in both {' and '.join(sorted(tmp_dirs))}",
            hint="the daemon uses /tmp/inferd-<uid>, older clients /tmp/inferd: one of them "
            "is left over from another daemon; remove the stale one",
        )
    return choice


def _note_other_sockets(report: Report, resolution: EndpointResolution) -> None:
    inference = resolution.inference
    directory = inference.path.parent if inference.path is not None else None
    if directory is None:
        return
    for name, meaning in OTHER_SOCKETS.items():
        path = directory / name
        with contextlib.suppress(OSError):
            if stat.S_ISSOCK(path.stat().st_mode):
                report.add("ok", f"also present: {path} — {meaning}")


async def _check_connect(report: Report, choice: WireChoice) -> bool:
    started = anyio.current_time()
    endpoint = choice.endpoint
    try:
        stream = await connect(endpoint)
    except InferdError as exc:
        hint = exc.hint
        if isinstance(exc, ConnectError) and exc.title == "connection refused":
            hint += (
                " — a socket file nobody listens on is left over from a crash: the daemon "
                "replaces it when it starts"
            )
        report.add("FAIL", f"inference connection: {exc.title}", hint=hint)
        return False
    elapsed = (anyio.current_time() - started) * 1000
    with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        await stream.aclose()
    report.add("ok", f"inference connection: {endpoint.display} in {elapsed:.0f} ms")
    return True


async def _check_round_trip(
    report: Report,
    resolution: EndpointResolution,
    choice: WireChoice,
    timeout: float,  # noqa: ASYNC109 - a deadline for one round trip
) -> None:
    request = ChatRequest(
        messages=(ChatMessage.text(Role.USER, "ping"),), sampling=SamplingParams(max_tokens=1)
    )
    started = anyio.current_time()
    try:
        async with Client.from_resolution(resolution, choice=choice) as client:
            with anyio.fail_after(timeout):
                _, done = await client.complete_chat(request)
    except TimeoutError:
        report.add(
            "FAIL",
            f"round trip: no answer within {timeout:g} s",
            hint="the daemon may be busy with other requests, or stuck; check its log",
        )
        return
    except DaemonError as exc:
        report.add(
            "warn" if exc.code == "queue_full" else "FAIL",
            f"round trip: daemon error ({safe(exc.code)}): {safe(exc.message)}",
            hint="the queue is full: the daemon is busy, try again"
            if exc.code == "queue_full"
            else "check the daemon's log",
        )
        return
    except InferdError as exc:
        report.add("FAIL", f"round trip: {exc.title}", hint=exc.hint)
        return
    elapsed = (anyio.current_time() - started) * 1000
    tokens = done.usage.output_tokens
    report.add(
        "ok",
        f"round trip: {tokens} token{'s' * (tokens != 1)} with max_tokens 1 in {elapsed:.0f} ms "
        f"(stop {safe(done.raw_stop_reason)}, backend {safe(done.backend or '?')})",
    )


def _check_api_key(report: Report, resolution: EndpointResolution) -> None:
    name = resolution.api_key_env
    is_set = resolution.api_key is not None
    if resolution.inference.kind != "tcp":
        state = "set" if is_set else "not set"
        report.add("ok", f"API key: not used over a Unix socket (${name} is {state})")
    elif is_set:
        report.add("ok", f"API key: ${name} is set (sent as the first line on TCP)")
    else:
        report.add(
            "warn",
            f"API key: ${name} is not set",
            hint=f"needed only if the daemon was started with a key: export {name}=…",
        )
