"""Where the daemon listens: endpoint resolution exactly as protocol-v1.md §1 describes.

Precedence for each surface: the caller's flags, then the daemon's environment variables
(``INFERD_UDS``, ``INFERD_TCP``, ``INFERD_ADMIN_ADDR``), then the ``<run>`` directory:

1. ``$XDG_RUNTIME_DIR/inferd`` if ``XDG_RUNTIME_DIR`` is set and non-empty;
2. else ``$HOME/.inferd/run`` if ``HOME`` is set and non-empty;
3. else probe ``/tmp/inferd-<euid>`` (the daemon's last resort) then ``/tmp/inferd``
   (the reference clients'), choosing the first holding either socket, else the daemon's.
   The directory is chosen once, for both sockets: one daemon binds both in one place.

On macOS ``<run>`` is ``$TMPDIR/inferd``. Every candidate considered is returned with
whether its socket exists (or could not be checked: another user's private directory)
and why it was or was not chosen, for ``inferd-tui doctor``. Everything (environment,
platform, euid) is injectable; nothing here connects, and nothing here raises for a
path it may not look at.

Choices this module makes where §1 is silent:

* ``--socket`` together with ``--tcp`` is an error (``ValueError``).
* With no flag, ``INFERD_UDS`` beats ``INFERD_TCP``: both set means the daemon listens on
  both, and the local socket needs no key.
* When the inference socket came from a flag or ``INFERD_UDS`` and no admin path was
  given, an ``admin.sock`` *beside* it is chosen if it exists (a daemon started with
  ``--socket DIR/infer.sock`` usually has its admin socket in ``DIR``).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

INFER_SOCKET_NAME = "infer.sock"
#: 0.4+ serves the length-prefixed wire here instead of infer.sock (protocol-v2.md §1).
LP_SOCKET_NAME = "inferd.sock"
V2_NDJSON_SOCKET_NAME = "infer.v2.sock"
ADMIN_SOCKET_NAME = "admin.sock"
DEFAULT_TCP_PORT = 47321


@dataclass(frozen=True)
class Endpoint:
    """The inference surface: a Unix socket path or a TCP ``host:port``."""

    kind: Literal["unix", "tcp"]
    path: Path | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def unix(cls, path: str | Path) -> Endpoint:
        return cls(kind="unix", path=Path(path))

    @classmethod
    def tcp(cls, host: str, port: int) -> Endpoint:
        return cls(kind="tcp", host=host, port=port)

    @classmethod
    def parse_tcp(cls, address: str) -> Endpoint:
        """``host:port`` or ``[v6]:port`` → a TCP endpoint; ``ValueError`` says what is wrong."""
        text = address.strip()
        example = (
            f"expected HOST:PORT, e.g. 127.0.0.1:{DEFAULT_TCP_PORT} or [::1]:{DEFAULT_TCP_PORT}"
        )
        if text.startswith("["):
            host, sep, rest = text[1:].partition("]")
            if not sep or not rest.startswith(":"):
                raise ValueError(f"invalid TCP address {address!r}: {example}")
            port_text = rest[1:]
            try:
                ipaddress.IPv6Address(host)
            except ValueError:
                raise ValueError(
                    f"invalid TCP address {address!r}: {host!r} is not an IPv6 address"
                ) from None
        else:
            host, sep, port_text = text.rpartition(":")
            if not sep or not host:
                raise ValueError(f"invalid TCP address {address!r}: {example}")
            if ":" in host:
                raise ValueError(
                    f"invalid TCP address {address!r}: put an IPv6 address in brackets, "
                    f"e.g. [::1]:{DEFAULT_TCP_PORT}"
                )
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(
                f"invalid TCP address {address!r}: port {port_text!r} is not a number "
                "between 1 and 65535"
            )
        return cls(kind="tcp", host=host, port=int(port_text))

    @property
    def display(self) -> str:
        """What a user reads in messages: the socket path, or ``host:port``."""
        if self.kind == "unix":
            return str(self.path)
        host = self.host or ""
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def __str__(self) -> str:
        return self.display


PathState = Literal["exists", "absent", "not accessible"]


def path_state(path: Path) -> PathState:
    """Whether something is at ``path``, never raising.

    ``Path.exists()`` raises ``PermissionError`` (Python 3.11) for a path inside a
    directory this user may not search, such as another user's ``/tmp/inferd`` (0700).
    """
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return "absent"
    except OSError:
        return "not accessible"
    except ValueError:  # an embedded NUL byte: no such path can exist
        return "absent"
    return "exists"


@dataclass(frozen=True)
class Candidate:
    """One place considered for a socket. ``path`` is ``None`` only for a TCP candidate,
    whose address is then in ``reason``. ``accessible`` is False when whether the socket
    exists could not be checked (permission denied on the way); ``exists`` is then False."""

    path: Path | None
    source: str
    exists: bool
    chosen: bool
    reason: str
    accessible: bool = True


def _candidate(
    path: Path, source: str, state: PathState, *, chosen: bool, reason: str
) -> Candidate:
    accessible = state != "not accessible"
    if not accessible:
        reason = f"{reason} (not accessible: permission denied)"
    return Candidate(path, source, state == "exists", chosen, reason, accessible)


@dataclass(frozen=True)
class EndpointResolution:
    inference: Endpoint
    #: Admin is local only: resolved even when inference goes over TCP.
    admin: Path | None
    api_key_env: str
    #: Read from ``$api_key_env``; only used over TCP. Never printed.
    api_key: str | None = field(repr=False)
    inference_candidates: list[Candidate]
    admin_candidates: list[Candidate]


@dataclass(frozen=True)
class _Place:
    path: Path
    source: str
    note: str = ""


def _env_value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value else None


def _run_dirs(
    env: Mapping[str, str], platform: str, euid: int, tmp_dir: Path
) -> tuple[list[_Place], int]:
    """Every ``<run>`` directory §1 knows, and how many leading ones the rule considers.

    The rule considers one directory (XDG or HOME) or, at the last resort, two (probed).
    The others are still listed so a diagnosis can show a socket in an unexpected place.
    """
    if platform == "darwin":
        tmpdir = _env_value(env, "TMPDIR") or "/tmp"
        return [_Place(Path(tmpdir) / "inferd", "$TMPDIR/inferd")], 1
    places: list[_Place] = []
    xdg = _env_value(env, "XDG_RUNTIME_DIR")
    home = _env_value(env, "HOME")
    if xdg:
        places.append(_Place(Path(xdg) / "inferd", "$XDG_RUNTIME_DIR/inferd"))
    if home:
        places.append(_Place(Path(home) / ".inferd" / "run", "$HOME/.inferd/run"))
    considered = 1 if places else 2
    places.append(_Place(tmp_dir / f"inferd-{euid}", "/tmp/inferd-<euid> (daemon's last resort)"))
    places.append(_Place(tmp_dir / "inferd", "/tmp/inferd (reference clients' last resort)"))
    return places, considered


def _choose_run_dir(places: list[_Place], considered: int) -> int | None:
    """Which of the ``considered`` directories both sockets come from, if any holds one.

    Either socket counts: a booting daemon has bound only its admin socket so far.
    """
    for index, place in enumerate(places[:considered]):
        for name in (INFER_SOCKET_NAME, LP_SOCKET_NAME, V2_NDJSON_SOCKET_NAME, ADMIN_SOCKET_NAME):
            if path_state(place.path / name) == "exists":
                return index
    return None


def _default_candidates(
    places: list[_Place], considered: int, run_dir: int | None, name: str, *, taken: bool
) -> tuple[list[Candidate], Path]:
    """Candidates for ``<run>/name``, ``<run>`` being ``places[run_dir]`` (the daemon's
    when None); ``taken`` means an override already won."""
    paths = [place.path / name for place in places]
    states = [path_state(path) for path in paths]
    exists = [state == "exists" for state in states]
    rule_index = run_dir or 0
    candidates = []
    for index, (place, path) in enumerate(zip(places, paths, strict=True)):
        chosen = not taken and index == rule_index
        if chosen:
            if considered == 1:
                reason = "default location" if exists[index] else "default location (no socket yet)"
            elif run_dir is None:
                reason = "last resort: no socket in either, so the daemon's default"
            elif exists[index]:
                reason = "last resort: first probed location with a socket"
            else:
                reason = "last resort: first probed location with a socket (the other one)"
        elif taken:
            reason = "not used: overridden"
        elif index < considered:
            reason = (
                "not used: the daemon's last resort has a socket"
                if run_dir is not None and index > run_dir
                else "not used: no socket there"
            )
        elif considered == 1 and places[0].source.startswith("$XDG"):
            reason = "not used: XDG_RUNTIME_DIR is set"
        else:
            reason = "not used: HOME is set" if considered == 1 else "not used"
        candidates.append(
            _candidate(path, place.source, states[index], chosen=chosen, reason=reason)
        )
    return candidates, paths[rule_index]


def resolve_endpoints(
    *,
    socket: str | Path | None = None,
    tcp: str | None = None,
    admin: str | Path | None = None,
    api_key_env: str = "INFERD_API_KEY",
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    euid: int | None = None,
    tmp_dir: str | Path = "/tmp",
) -> EndpointResolution:
    """Resolve the inference endpoint and the admin socket (protocol-v1.md §1).

    ``socket``/``tcp``/``admin`` are the caller's flags and win over the environment.
    ``env``, ``platform`` (``sys.platform`` values) and ``euid`` default to this process's;
    ``tmp_dir`` replaces ``/tmp`` in the last-resort locations (tests).
    Raises ``ValueError`` for ``socket`` together with ``tcp``, or when the TCP address
    that would be used is malformed (one that an override beats is not even parsed).
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if euid is None:
        euid = os.geteuid() if hasattr(os, "geteuid") else 0
    if socket is not None and tcp is not None:
        raise ValueError("give either a socket path or a TCP address, not both")

    places, considered = _run_dirs(env, platform, euid, Path(tmp_dir))
    run_dir = _choose_run_dir(places, considered)

    # --- inference ---------------------------------------------------------------------
    overrides: list[tuple[str, str | Path, Literal["unix", "tcp"]]] = []
    if socket is not None:
        overrides.append(("flag --socket", socket, "unix"))
    if tcp is not None:
        overrides.append(("flag --tcp", tcp, "tcp"))
    env_uds, env_tcp = _env_value(env, "INFERD_UDS"), _env_value(env, "INFERD_TCP")
    if env_uds:
        overrides.append(("env INFERD_UDS", env_uds, "unix"))
    if env_tcp:
        overrides.append(("env INFERD_TCP", env_tcp, "tcp"))

    inference_candidates: list[Candidate] = []
    inference: Endpoint | None = None
    explicit_socket_dir: Path | None = None
    for source, value, kind in overrides:
        chosen = inference is None
        if kind == "tcp":
            # Only the chosen address is parsed: a stale INFERD_TCP must not break a
            # --socket or INFERD_UDS that wins over it.
            if chosen:
                try:
                    endpoint = Endpoint.parse_tcp(str(value))
                except ValueError as exc:
                    raise ValueError(f"{source}: {exc}") from None
                reason = f"TCP {endpoint.display}"
            else:
                reason = f"TCP {value} (not used: {_winner(inference)})"
            inference_candidates.append(Candidate(None, source, False, chosen, reason))
        else:
            path = Path(value).expanduser()
            endpoint = Endpoint.unix(path)
            reason = "given explicitly" if chosen else f"not used: {_winner(inference)}"
            inference_candidates.append(
                _candidate(path, source, path_state(path), chosen=chosen, reason=reason)
            )
            if chosen:
                explicit_socket_dir = path.parent
        if chosen:
            inference = endpoint
    defaults, default_infer = _default_candidates(
        places, considered, run_dir, INFER_SOCKET_NAME, taken=inference is not None
    )
    inference_candidates.extend(defaults)
    if inference is None:
        inference = Endpoint.unix(default_infer)

    # --- admin (local only) --------------------------------------------------------------
    admin_candidates: list[Candidate] = []
    admin_path: Path | None = None
    admin_overrides: list[tuple[str, Path]] = []
    if admin is not None:
        admin_overrides.append(("flag --admin", Path(admin).expanduser()))
    env_admin = _env_value(env, "INFERD_ADMIN_ADDR")
    if env_admin:
        admin_overrides.append(("env INFERD_ADMIN_ADDR", Path(env_admin).expanduser()))
    for source, path in admin_overrides:
        chosen = admin_path is None
        reason = "given explicitly" if chosen else "not used: an earlier override wins"
        admin_candidates.append(
            _candidate(path, source, path_state(path), chosen=chosen, reason=reason)
        )
        if chosen:
            admin_path = path
    if explicit_socket_dir is not None:
        beside = explicit_socket_dir / ADMIN_SOCKET_NAME
        beside_state = path_state(beside)
        chosen = admin_path is None and beside_state == "exists"
        if chosen:
            reason = "beside the explicit inference socket"
        elif admin_path is not None:
            reason = "not used: overridden"
        else:
            reason = "not used: no socket there"
        admin_candidates.append(
            _candidate(
                beside, "beside the inference socket", beside_state, chosen=chosen, reason=reason
            )
        )
        if chosen:
            admin_path = beside
    defaults, default_admin = _default_candidates(
        places, considered, run_dir, ADMIN_SOCKET_NAME, taken=admin_path is not None
    )
    admin_candidates.extend(defaults)
    if admin_path is None:
        admin_path = default_admin

    return EndpointResolution(
        inference=inference,
        admin=admin_path,
        api_key_env=api_key_env,
        api_key=_env_value(env, api_key_env),
        inference_candidates=inference_candidates,
        admin_candidates=admin_candidates,
    )


def _winner(endpoint: Endpoint | None) -> str:
    return f"{endpoint.display} wins" if endpoint is not None else "overridden"
