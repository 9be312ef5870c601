"""Endpoint resolution, every rule of protocol-v1.md §1, with an injected environment,
platform, euid and a fake filesystem (temporary directories)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from inferd_tui.client import (
    Candidate,
    Endpoint,
    EndpointResolution,
    path_state,
    resolve_endpoints,
)

EUID = 4242


def make_socket_file(path: Path) -> Path:
    """A real socket file (what ``exists`` looks for); nothing listens on it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    return path


def resolve(tmp: Path, env: dict[str, str], **kwargs: object) -> EndpointResolution:
    kwargs.setdefault("platform", "linux")
    kwargs.setdefault("euid", EUID)
    kwargs.setdefault("tmp_dir", tmp / "tmp")
    return resolve_endpoints(env=env, **kwargs)  # type: ignore[arg-type]


def chosen(candidates: list[Candidate]) -> Candidate:
    picks = [c for c in candidates if c.chosen]
    assert len(picks) == 1, candidates
    return picks[0]


def test_xdg_runtime_dir_first(short_tmp: Path) -> None:
    env = {"XDG_RUNTIME_DIR": str(short_tmp / "run"), "HOME": str(short_tmp / "home")}
    res = resolve(short_tmp, env)
    assert res.inference == Endpoint.unix(short_tmp / "run/inferd/infer.sock")
    assert res.admin == short_tmp / "run/inferd/admin.sock"
    pick = chosen(res.inference_candidates)
    assert pick.source == "$XDG_RUNTIME_DIR/inferd"
    assert not pick.exists
    sources = [c.source for c in res.inference_candidates]
    assert sources == [
        "$XDG_RUNTIME_DIR/inferd",
        "$HOME/.inferd/run",
        "/tmp/inferd-<euid> (daemon's last resort)",
        "/tmp/inferd (reference clients' last resort)",
    ]


def test_xdg_is_chosen_even_if_a_socket_exists_elsewhere(short_tmp: Path) -> None:
    home_sock = make_socket_file(short_tmp / "home/.inferd/run/infer.sock")
    env = {"XDG_RUNTIME_DIR": str(short_tmp / "run"), "HOME": str(short_tmp / "home")}
    res = resolve(short_tmp, env)
    assert res.inference.path == short_tmp / "run/inferd/infer.sock"
    home = next(c for c in res.inference_candidates if c.path == home_sock)
    assert home.exists
    assert not home.chosen
    assert "XDG_RUNTIME_DIR is set" in home.reason


def test_empty_xdg_falls_back_to_home(short_tmp: Path) -> None:
    env = {"XDG_RUNTIME_DIR": "", "HOME": str(short_tmp / "home")}
    res = resolve(short_tmp, env)
    assert res.inference.path == short_tmp / "home/.inferd/run/infer.sock"
    assert res.admin == short_tmp / "home/.inferd/run/admin.sock"
    assert chosen(res.admin_candidates).source == "$HOME/.inferd/run"


def test_last_resort_prefers_the_daemons_dir_when_nothing_exists(short_tmp: Path) -> None:
    res = resolve(short_tmp, {"HOME": ""})
    assert res.inference.path == short_tmp / f"tmp/inferd-{EUID}/infer.sock"
    assert res.admin == short_tmp / f"tmp/inferd-{EUID}/admin.sock"
    assert [c.source for c in res.inference_candidates] == [
        "/tmp/inferd-<euid> (daemon's last resort)",
        "/tmp/inferd (reference clients' last resort)",
    ]


def test_last_resort_probes_the_clients_dir(short_tmp: Path) -> None:
    make_socket_file(short_tmp / "tmp/inferd/infer.sock")
    res = resolve(short_tmp, {})
    assert res.inference.path == short_tmp / "tmp/inferd/infer.sock"
    assert chosen(res.inference_candidates).exists
    # One daemon binds both sockets in one directory: admin comes from the same one.
    assert res.admin == short_tmp / "tmp/inferd/admin.sock"
    assert "the other one" in chosen(res.admin_candidates).reason
    daemons = res.inference_candidates[0]
    assert (daemons.chosen, daemons.reason) == (False, "not used: no socket there")


def test_last_resort_booting_daemon_with_only_its_admin_socket(short_tmp: Path) -> None:
    make_socket_file(short_tmp / f"tmp/inferd-{EUID}/admin.sock")
    make_socket_file(short_tmp / "tmp/inferd/infer.sock")  # stale, from another client's era
    res = resolve(short_tmp, {})
    assert res.inference.path == short_tmp / f"tmp/inferd-{EUID}/infer.sock"
    assert res.admin == short_tmp / f"tmp/inferd-{EUID}/admin.sock"


def test_last_resort_daemons_dir_wins_when_both_exist(short_tmp: Path) -> None:
    make_socket_file(short_tmp / "tmp/inferd/infer.sock")
    make_socket_file(short_tmp / f"tmp/inferd-{EUID}/infer.sock")
    res = resolve(short_tmp, {})
    assert res.inference.path == short_tmp / f"tmp/inferd-{EUID}/infer.sock"


def test_macos_uses_tmpdir(short_tmp: Path) -> None:
    env = {"TMPDIR": str(short_tmp / "T"), "XDG_RUNTIME_DIR": "/ignored", "HOME": "/h"}
    res = resolve(short_tmp, env, platform="darwin")
    assert res.inference.path == short_tmp / "T/inferd/infer.sock"
    assert res.admin == short_tmp / "T/inferd/admin.sock"
    assert chosen(res.inference_candidates).source == "$TMPDIR/inferd"


def test_env_uds_beats_defaults_and_flag_beats_env(short_tmp: Path) -> None:
    env = {"INFERD_UDS": str(short_tmp / "env.sock"), "HOME": str(short_tmp)}
    assert resolve(short_tmp, env).inference.path == short_tmp / "env.sock"
    res = resolve(short_tmp, env, socket=short_tmp / "flag.sock")
    assert res.inference.path == short_tmp / "flag.sock"
    assert [(c.source, c.chosen) for c in res.inference_candidates[:2]] == [
        ("flag --socket", True),
        ("env INFERD_UDS", False),
    ]
    assert not any(c.chosen for c in res.inference_candidates[2:])


def test_env_tcp_selects_tcp_and_admin_stays_local(short_tmp: Path) -> None:
    env = {"INFERD_TCP": "127.0.0.1:47321", "HOME": str(short_tmp)}
    res = resolve(short_tmp, env)
    assert res.inference == Endpoint.tcp("127.0.0.1", 47321)
    assert res.admin == short_tmp / ".inferd/run/admin.sock"
    pick = chosen(res.inference_candidates)
    assert pick.source == "env INFERD_TCP"
    assert pick.path is None
    assert "127.0.0.1:47321" in pick.reason


def test_tcp_flag_beats_env_uds(short_tmp: Path) -> None:
    env = {"INFERD_UDS": "/x/infer.sock", "HOME": str(short_tmp)}
    res = resolve(short_tmp, env, tcp="[::1]:9000")
    assert res.inference == Endpoint.tcp("::1", 9000)
    assert res.inference.display == "[::1]:9000"


def test_env_uds_beats_env_tcp(short_tmp: Path) -> None:
    env = {"INFERD_UDS": "/x/infer.sock", "INFERD_TCP": "127.0.0.1:1", "HOME": "/h"}
    res = resolve(short_tmp, env)
    assert res.inference == Endpoint.unix("/x/infer.sock")
    tcp = next(c for c in res.inference_candidates if c.source == "env INFERD_TCP")
    assert not tcp.chosen


def test_socket_and_tcp_flags_together_are_an_error(short_tmp: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        resolve(short_tmp, {}, socket="/x.sock", tcp="127.0.0.1:1")


def test_malformed_tcp_env_is_a_value_error(short_tmp: Path) -> None:
    with pytest.raises(ValueError, match="env INFERD_TCP: invalid TCP address 'INVALID'"):
        resolve(short_tmp, {"INFERD_TCP": "INVALID"})
    with pytest.raises(ValueError, match="flag --tcp: invalid TCP address"):
        resolve(short_tmp, {"INFERD_UDS": "/u.sock"}, tcp="nonsense")


@pytest.mark.parametrize(
    ("env", "flags"),
    [
        ({"INFERD_TCP": "nonsense"}, {"socket": "/s.sock"}),
        ({"INFERD_TCP": "nonsense", "INFERD_UDS": "/u.sock"}, {}),
    ],
    ids=["flag-socket", "env-uds"],
)
def test_malformed_tcp_that_loses_is_not_an_error(
    short_tmp: Path, env: dict[str, str], flags: dict[str, str]
) -> None:
    res = resolve(short_tmp, env, **flags)
    assert res.inference.kind == "unix"
    tcp = next(c for c in res.inference_candidates if c.source == "env INFERD_TCP")
    assert not tcp.chosen
    assert tcp.reason.startswith("TCP nonsense (not used: ")


def test_admin_overrides(short_tmp: Path) -> None:
    env = {"INFERD_ADMIN_ADDR": str(short_tmp / "env-admin.sock"), "HOME": str(short_tmp)}
    assert resolve(short_tmp, env).admin == short_tmp / "env-admin.sock"
    res = resolve(short_tmp, env, admin=short_tmp / "flag-admin.sock")
    assert res.admin == short_tmp / "flag-admin.sock"
    assert chosen(res.admin_candidates).source == "flag --admin"


def test_admin_beside_an_explicit_socket_when_it_exists(short_tmp: Path) -> None:
    env = {"HOME": str(short_tmp / "home")}
    # Not there: the <run> default.
    res = resolve(short_tmp, env, socket=short_tmp / "d/infer.sock")
    assert res.admin == short_tmp / "home/.inferd/run/admin.sock"
    make_socket_file(short_tmp / "d/admin.sock")
    res = resolve(short_tmp, env, socket=short_tmp / "d/infer.sock")
    assert res.admin == short_tmp / "d/admin.sock"
    assert chosen(res.admin_candidates).source == "beside the inference socket"


def test_api_key_is_read_from_the_named_variable_and_never_shown(short_tmp: Path) -> None:
    res = resolve(short_tmp, {"MY_KEY": "super-secret"}, api_key_env="MY_KEY")
    assert res.api_key == "super-secret"
    assert res.api_key_env == "MY_KEY"
    assert "super-secret" not in repr(res)
    assert resolve(short_tmp, {"INFERD_API_KEY": ""}).api_key is None


def test_candidates_report_existence(short_tmp: Path) -> None:
    make_socket_file(short_tmp / "run/inferd/admin.sock")
    res = resolve(short_tmp, {"XDG_RUNTIME_DIR": str(short_tmp / "run")})
    assert chosen(res.admin_candidates).exists
    assert not chosen(res.inference_candidates).exists
    assert chosen(res.inference_candidates).reason == "default location (no socket yet)"


def test_another_users_private_dir_is_noted_not_fatal(
    short_tmp: Path, forbid: Callable[[Path], None]
) -> None:
    forbid(short_tmp / "tmp/inferd")  # e.g. /tmp/inferd, mode 0700, someone else's
    res = resolve(short_tmp, {})
    assert res.inference.path == short_tmp / f"tmp/inferd-{EUID}/infer.sock"
    clients = next(c for c in res.inference_candidates if c.source.startswith("/tmp/inferd ("))
    assert (clients.exists, clients.accessible) == (False, False)
    assert "not accessible" in clients.reason
    assert chosen(res.inference_candidates).accessible


def test_an_inaccessible_explicit_path_is_still_chosen(
    short_tmp: Path, forbid: Callable[[Path], None]
) -> None:
    forbid(short_tmp / "private")
    res = resolve(
        short_tmp,
        {"HOME": str(short_tmp)},
        socket=short_tmp / "private/infer.sock",
        admin=short_tmp / "private/admin.sock",
    )
    assert res.inference.path == short_tmp / "private/infer.sock"
    assert not chosen(res.inference_candidates).accessible
    assert not chosen(res.admin_candidates).accessible


def test_path_state_never_raises(short_tmp: Path, forbid: Callable[[Path], None]) -> None:
    make_socket_file(short_tmp / "d/infer.sock")
    (short_tmp / "file").touch()
    forbid(short_tmp / "private")
    assert path_state(short_tmp / "d/infer.sock") == "exists"
    assert path_state(short_tmp / "d/admin.sock") == "absent"
    assert path_state(short_tmp / "file/infer.sock") == "absent"  # a file on the way
    assert path_state(short_tmp / "private/infer.sock") == "not accessible"
    assert path_state(short_tmp / "nul\0byte") == "absent"


def test_defaults_come_from_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    monkeypatch.setenv("INFERD_API_KEY", "k")
    res = resolve_endpoints(platform="linux")
    assert res.inference.display == "/run/user/1000/inferd/infer.sock"
    assert res.api_key == "k"


@pytest.mark.parametrize(
    ("text", "host", "port", "display"),
    [
        ("127.0.0.1:47321", "127.0.0.1", 47321, "127.0.0.1:47321"),
        ("localhost:1", "localhost", 1, "localhost:1"),
        ("[::1]:47321", "::1", 47321, "[::1]:47321"),
        (" 10.0.0.2:65535 ", "10.0.0.2", 65535, "10.0.0.2:65535"),
    ],
)
def test_parse_tcp(text: str, host: str, port: int, display: str) -> None:
    endpoint = Endpoint.parse_tcp(text)
    assert (endpoint.kind, endpoint.host, endpoint.port) == ("tcp", host, port)
    assert endpoint.display == display


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("nocolon", "expected HOST:PORT"),
        (":47321", "expected HOST:PORT"),
        ("host:", "not a number"),
        ("host:0", "between 1 and 65535"),
        ("host:70000", "between 1 and 65535"),
        ("host:http", "not a number"),
        ("::1:47321", "brackets"),
        ("[zz]:1", "not an IPv6 address"),
        ("[::1]47321", "expected HOST:PORT"),
    ],
)
def test_parse_tcp_rejects(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint) as caught:
        Endpoint.parse_tcp(text)
    assert repr(text) in str(caught.value)


def test_unix_display() -> None:
    assert Endpoint.unix("/run/user/1000/inferd/infer.sock").display == (
        "/run/user/1000/inferd/infer.sock"
    )
