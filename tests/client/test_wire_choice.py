"""Choosing the wire from the daemon itself (protocol-v2.md §9): admin capabilities, then
the socket files, then the probe — against the stand-in at each era."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from client_helpers import ServerConn

from inferd_tui.client import Client, Endpoint, resolve_endpoints
from inferd_tui.client.wire import choose_wire, probe_wire
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.proto import IncompatibleDaemon
from inferd_tui.proto.chat import ChatMessage, ChatRequest, Finished

pytestmark = pytest.mark.anyio

LEAF = {"0.1": "infer.sock", "0.2": "infer.sock", "0.3": "infer.sock"}


def leaf(era: str) -> str:
    return LEAF.get(era, "inferd.sock")


@asynccontextmanager
async def daemon(directory: Path, era: str, **changes: object) -> AsyncIterator[MockDaemon]:
    config = MockConfig(
        socket_path=changes.pop("socket_path", directory / leaf(era)),  # type: ignore[arg-type]
        admin_path=changes.pop("admin_path", directory / "admin.sock"),  # type: ignore[arg-type]
        era=era,  # type: ignore[arg-type]
        **changes,  # type: ignore[arg-type]
    )
    async with MockDaemon.start(config) as started:
        await started.wait_ready()
        yield started


def default_resolution(run_dir: Path) -> object:
    """Resolution with no flags: ``$XDG_RUNTIME_DIR/inferd`` is ``run_dir``."""
    return resolve_endpoints(env={"XDG_RUNTIME_DIR": str(run_dir.parent)})


async def answer(client: Client) -> Finished:
    _, done = await client.complete_chat(ChatRequest(messages=(ChatMessage.text("user", "hi"),)))
    return done


@pytest.mark.parametrize(
    ("era", "wire", "words"),
    [
        ("0.1", "v1", "admin sent no capabilities → inferd 0.1"),
        ("0.3", "v1", "admin capabilities without wire_version → inferd 0.2–0.3"),
        ("0.4", "v2", "admin capabilities carry wire_version → inferd 0.4 or later"),
        ("0.8", "v2", "admin capabilities carry wire_version → inferd 0.6.2 or later"),
    ],
)
async def test_admin_capabilities_decide(short_tmp: Path, era: str, wire: str, words: str) -> None:
    run = short_tmp / "inferd"
    extra = {"audio": True} if era == "0.8" else {}
    async with daemon(run, era, **extra):
        resolution = default_resolution(run)
        choice = await choose_wire(resolution)  # type: ignore[arg-type]
        assert choice.wire == wire
        assert choice.endpoint.path == run / leaf(era)
        assert words in choice.reason
        async with Client.from_resolution(resolution, choice=choice) as client:  # type: ignore[arg-type]
            assert (await answer(client)).stop_reason == "end_turn"


async def test_wire_v2_on_03_uses_the_ndjson_socket(short_tmp: Path) -> None:
    run = short_tmp / "inferd"
    async with daemon(run, "0.3", v2_ndjson=True):
        resolution = default_resolution(run)
        auto = await choose_wire(resolution)  # type: ignore[arg-type]
        assert auto.wire == "v1"
        assert [wire for wire, _ in auto.also_available] == ["v2-ndjson"]
        choice = await choose_wire(resolution, wire="v2")  # type: ignore[arg-type]
        assert (choice.wire, choice.endpoint.path) == ("v2-ndjson", run / "infer.v2.sock")
        async with Client.from_resolution(resolution, choice=choice) as client:  # type: ignore[arg-type]
            assert (await answer(client)).raw_stop_reason == "end_turn"


async def test_wire_v1_on_a_v2_daemon_is_refused_with_the_reason(short_tmp: Path) -> None:
    run = short_tmp / "inferd"
    async with daemon(run, "0.5"):
        with pytest.raises(IncompatibleDaemon, match="removed protocol v1"):
            await choose_wire(default_resolution(run), wire="v1")  # type: ignore[arg-type]


async def test_socket_files_when_admin_is_not_there(short_tmp: Path) -> None:
    run = short_tmp / "inferd"
    async with daemon(run, "0.8", admin_path=run / "elsewhere" / "admin.sock"):
        choice = await choose_wire(default_resolution(run), admin_timeout=0.2)  # type: ignore[arg-type]
    assert choice.wire == "v2"
    assert f"{run / 'inferd.sock'} is listening → inferd 0.4 or later" in choice.reason


async def test_a_stale_inferd_sock_is_skipped(short_tmp: Path) -> None:
    """A 0.4 daemon crashed and left inferd.sock; a 0.3 daemon now serves infer.sock."""
    run = short_tmp / "inferd"
    run.mkdir(mode=0o700)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(run / "inferd.sock"))
    stale.close()  # the file stays; nobody listens
    async with daemon(run, "0.3", admin_path=run / "gone" / "admin.sock"):
        choice = await choose_wire(default_resolution(run), admin_timeout=0.2)  # type: ignore[arg-type]
    assert choice.wire == "v1"
    assert "inferd.sock exists but" in choice.reason
    assert "a stale socket file, skipped" in choice.reason


@pytest.mark.parametrize(("era", "expected"), [("0.8", "lp"), ("0.3", "ndjson")])
async def test_probe_of_a_socket_whose_name_says_nothing(
    short_tmp: Path, era: str, expected: str
) -> None:
    path = short_tmp / "gen.sock"
    async with daemon(short_tmp, era, socket_path=path, admin_path=short_tmp / "a" / "admin.sock"):
        assert await probe_wire(Endpoint.unix(path)) == expected
        resolution = resolve_endpoints(socket=path, env={})
        choice = await choose_wire(resolution, admin_timeout=0.2)
        assert choice.wire == ("v2" if expected == "lp" else "v1")
        assert "answered the probe" in choice.reason
        async with Client.from_resolution(resolution, choice=choice) as client:
            await answer(client)


async def test_a_socket_that_never_answers_the_probe_is_bounded_and_explained(
    short_tmp: Path, scripted_server: object
) -> None:
    async def silent(conn: ServerConn) -> None:
        await conn.wait_eof()  # reads and never writes, like NDJSON waiting for a newline

    path = short_tmp / "infer.sock"
    async with scripted_server(silent):  # type: ignore[operator]
        quiet = short_tmp / "quiet.sock"
        path.rename(quiet)
        with anyio.fail_after(5):
            assert await probe_wire(Endpoint.unix(quiet), timeout=0.2) == "silent"
            choice = await choose_wire(
                resolve_endpoints(socket=quiet, env={}), admin_timeout=0.1, probe_timeout=0.2
            )
    assert "did not answer the probe within 0.2 s" in choice.reason
    with contextlib.suppress(FileNotFoundError):
        quiet.unlink()
