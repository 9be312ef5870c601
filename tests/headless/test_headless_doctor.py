"""`doctor` against the stand-in daemon, against nothing, and its permission reasoning."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from headless_helpers import daemon_config, endpoint_flags, invoke, make_console, running

from inferd_tui.headless.doctor import Identity, Report, check_socket_file, socket_access
from inferd_tui.mock_daemon import MockConfig

pytestmark = pytest.mark.anyio

ALICE = Identity(uid=1000, gids=frozenset({1000}), name="alice")


def fake_stat(mode: int, uid: int, gid: int) -> os.stat_result:
    return os.stat_result((stat.S_IFSOCK | mode, 1, 1, 1, uid, gid, 0, 0, 0, 0))


def marks(out: str) -> list[str]:
    return [line[:6] for line in out.splitlines() if line.startswith("[")]


async def test_doctor_all_ok_against_the_demo_daemon() -> None:
    # --demo plays the newest release: the length-prefixed wire on inferd.sock.
    result = await invoke(["doctor", "--demo"])
    assert result.code == 0, result.out
    assert "[FAIL]" not in result.out
    assert "[ ok ] wire: v2 (protocol v2, length-prefixed (inferd.sock) on " in result.out
    assert "(inferd 0.8))" in result.out  # the stand-in's release is known exactly
    assert "[ ok ] round trip: 1 token with max_tokens 1 in " in result.out
    assert result.out.rstrip().endswith("no problems found")


async def test_doctor_all_ok_against_a_v1_demo_daemon() -> None:
    result = await invoke(["doctor", "--demo-era", "0.3"])
    assert result.code == 0, result.out
    assert "[FAIL]" not in result.out
    assert "[ ok ] wire: v1 (protocol v1 (NDJSON) on " in result.out
    assert "(inferd 0.3))" in result.out
    assert "[ ok ] round trip: 1 token with max_tokens 1 in " in result.out
    assert "[ ok ] admin connection: state ready" in result.out
    assert "first frame: {" in result.out
    assert "→ flag --socket: " in result.out  # the candidates considered, the chosen one marked
    assert result.out.rstrip().endswith("no problems found")


async def test_doctor_all_ok_against_a_daemon(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp)) as daemon:
        await daemon.wait_ready()
        result = await invoke(["doctor", *endpoint_flags(short_tmp)])
    assert result.code == 0, result.out
    assert set(marks(result.out)) == {"[ ok ]"}
    assert f"inference socket: {short_tmp / 'infer.sock'} (srw-rw---- " in result.out
    assert f"admin socket: {short_tmp / 'admin.sock'} (srw------- " in result.out


async def test_doctor_fails_against_nothing(isolated_env: Path) -> None:
    result = await invoke(["doctor"])
    assert result.code == 1
    run_dir = isolated_env / ".inferd" / "run"
    assert f"[FAIL] inference socket: {run_dir / 'infer.sock'} does not exist" in result.out
    assert f"[FAIL] admin socket: {run_dir / 'admin.sock'} does not exist" in result.out
    assert "       hint: is inferd running?" in result.out
    assert "→ $HOME/.inferd/run: " in result.out
    assert "default location (no socket yet)" in result.out
    assert "[skip] round trip" in result.out
    assert result.out.rstrip().endswith("2 problems found")


async def test_doctor_fails_a_config_the_app_would_refuse(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('theme = "nosuch"\n[keymap]\nsend = "f5"\n')
    result = await invoke(["--config", str(config), "doctor", "--demo"])
    assert result.code == 1
    assert f"[FAIL] config: {config}:1: theme: unknown theme `nosuch`" in result.out
    assert "hint: the app refuses to start with this setting" in result.out


async def test_doctor_reports_sockets_it_may_not_look_at(
    short_tmp: Path, forbid: Callable[[Path], None]
) -> None:
    forbid(short_tmp / "theirs")  # another user's private run directory
    result = await invoke(["doctor", *endpoint_flags(short_tmp / "theirs")])
    assert result.code == 1
    assert "cannot be examined (permission denied on its directory)" in result.out
    assert f"→ flag --socket: {short_tmp / 'theirs/infer.sock'} (not accessible)" in result.out


async def test_doctor_explains_a_v1_socket_setting_on_a_v04_daemon(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, era="0.4")) as daemon:
        await daemon.wait_ready()
        result = await invoke(["doctor", *endpoint_flags(short_tmp)])
    assert result.code == 1  # infer.sock, as configured, does not exist
    assert "[ ok ] wire: v2 (protocol v2, length-prefixed (inferd.sock) on " in result.out
    assert "why: admin capabilities carry wire_version" in result.out
    assert (
        f"[warn] socket setting: {short_tmp / 'infer.sock'} is a v1 socket path, but this "
        "daemon is inferd 0.4 or later" in result.out
    )
    assert f"point --socket / INFERD_UDS / endpoint.socket at {short_tmp / 'inferd.sock'}" in (
        result.out
    )
    assert f"[ ok ] also present: {short_tmp / 'inferd.sock'}" in result.out


async def test_doctor_not_ready_daemon_warns(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, autoboot=False)):
        result = await invoke(["doctor", *endpoint_flags(short_tmp)])
    assert result.code == 1  # the inference socket is not there yet
    assert "[warn] admin connection: state starting" in result.out
    assert "[warn] daemon era: not known yet" in result.out


async def test_doctor_tcp_key_is_named_never_shown(
    short_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = MockConfig(tcp=("127.0.0.1", 0), api_key="the-real-key")
    async with running(config) as daemon:
        await daemon.wait_ready()
        assert daemon.tcp_address is not None
        address = f"127.0.0.1:{daemon.tcp_address[1]}"
        monkeypatch.setenv("MY_KEY", "the-real-key")
        good = await invoke(["doctor", "--tcp", address, "--api-key-env", "MY_KEY"])
        monkeypatch.setenv("MY_KEY", "a-wrong-key")
        bad = await invoke(["doctor", "--tcp", address, "--api-key-env", "MY_KEY"])
        monkeypatch.delenv("MY_KEY")
        unset = await invoke(["doctor", "--tcp", address, "--api-key-env", "MY_KEY"])
    assert "[ ok ] round trip: 1 token" in good.out
    assert "[ ok ] API key: $MY_KEY is set" in good.out
    assert "the-real-key" not in good.out
    assert "[FAIL] round trip: authentication failed" in bad.out
    assert "wrong or missing API key? (key from $MY_KEY)" in bad.out
    assert "a-wrong-key" not in bad.out
    assert "[warn] API key: $MY_KEY is not set" in unset.out


@pytest.mark.parametrize(
    ("mode", "uid", "gid", "allowed", "why"),
    [
        (0o660, 1000, 50, True, "you (alice) own it"),
        (0o600, 1000, 50, True, "you (alice) own it"),
        (0o660, 0, 1000, True, "you (alice) are in its group"),
        (0o600, 0, 1000, False, "you (alice) are in its group"),
        (0o660, 0, 50, False, "you (alice) are neither its owner"),
        (0o666, 0, 50, True, "you (alice) are neither its owner"),
    ],
)
def test_socket_access(mode: int, uid: int, gid: int, allowed: bool, why: str) -> None:
    ok, reason = socket_access(fake_stat(mode, uid, gid), ALICE)
    assert ok is allowed
    assert reason.startswith(why)


def test_root_can_connect_to_anything() -> None:
    root = Identity(uid=0, gids=frozenset({0}), name="root")
    assert socket_access(fake_stat(0o600, 1000, 1000), root) == (True, "you are root")


async def test_permission_hints(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp)) as daemon:
        await daemon.wait_ready()
        st = (short_tmp / "infer.sock").stat()
        stranger = Identity(uid=st.st_uid + 4242, gids=frozenset({st.st_gid + 4242}), name="bob")
        late = Identity(
            uid=st.st_uid + 4242,
            gids=frozenset({st.st_gid + 4242}),
            name="bob",
            pending_gids=frozenset({st.st_gid}),
        )
        console = make_console()
        report = Report(console)
        assert not check_socket_file(report, "inference socket", short_tmp / "infer.sock", stranger)
        assert not check_socket_file(report, "inference socket", short_tmp / "infer.sock", late)
        assert not check_socket_file(report, "admin socket", short_tmp / "admin.sock", stranger)
    out = console.out.getvalue()  # type: ignore[attr-defined]
    assert report.failures == 3
    assert "cannot connect" in out
    assert "hint: ask an administrator to add bob to group" in out
    assert "log out and in again" in out
    assert "hint: the admin socket is mode 0600: run as the daemon's user" in out


async def test_not_a_socket(short_tmp: Path) -> None:
    stray = short_tmp / "infer.sock"
    stray.write_text("not a socket")
    report = Report(make_console())
    assert not check_socket_file(report, "inference socket", stray, ALICE)
    assert "exists but is not a socket" in report.console.out.getvalue()  # type: ignore[attr-defined]
