"""The client's main paths against the stand-in daemon (inferd_tui.mock_daemon)."""

from __future__ import annotations

import contextlib

import anyio
import pytest

from inferd_tui.client import (
    AdminEvent,
    AdminNotice,
    AuthRejected,
    Client,
    DaemonError,
    Endpoint,
    Message,
    Request,
    TokenFrame,
    read_admin_state,
    watch_admin,
)

pytest.importorskip("inferd_tui.mock_daemon.daemon", reason="the stand-in daemon is not here")

from inferd_tui.mock_daemon import MockConfig, MockDaemon

pytestmark = pytest.mark.anyio

TOKENS = ("alpha ", "beta ", "gamma")


def hello(request_id: str = "req-1") -> Request:
    return Request(id=request_id, messages=[Message(role="user", content="hello")])


async def test_happy_path_and_reuse() -> None:
    async with MockDaemon.start(MockConfig(tokens=TOKENS)) as daemon:
        await daemon.wait_ready()
        assert daemon.socket_path is not None
        async with Client(Endpoint.unix(daemon.socket_path)) as client:
            frames = []
            async with contextlib.aclosing(client.generate(hello())) as stream:
                async for frame in stream:
                    frames.append(frame)
            done = await client.complete(hello("req-2"))
        assert [f.content for f in frames if isinstance(f, TokenFrame)] == list(TOKENS)
        assert done.content == "alpha beta gamma"
        assert done.backend == "mock"
        assert done.usage.completion_tokens == 3
        assert daemon.connections_accepted == 1


async def test_drop_after_is_a_daemon_error_with_partial_text() -> None:
    async with MockDaemon.start(MockConfig(tokens=TOKENS, drop_after=2)) as daemon:
        await daemon.wait_ready()
        assert daemon.socket_path is not None
        async with Client(Endpoint.unix(daemon.socket_path)) as client:
            with pytest.raises(DaemonError) as caught:
                await client.complete(hello())
            assert caught.value.code == "backend_unavailable"
            assert caught.value.partial_text == "alpha beta "
            with pytest.raises(DaemonError):
                await client.complete(hello("again"))  # same connection, still usable
        assert daemon.connections_accepted == 1


async def test_pattern_a_against_a_late_bind() -> None:
    async with MockDaemon.start(MockConfig(tokens=TOKENS, bind_delay_s=0.3)) as daemon:
        assert daemon.socket_path is not None
        retries: list[float] = []
        async with Client(Endpoint.unix(daemon.socket_path)) as client:
            await client.wait_ready(timeout=10, on_retry=lambda n: retries.append(n.delay_s))
            assert (await client.complete(hello())).content == "alpha beta gamma"
        assert retries  # the socket was not there at first


async def test_cancel_closes_and_the_daemon_sees_it() -> None:
    config = MockConfig(tokens=("x ",) * 1000, token_delay_s=0.01)
    async with MockDaemon.start(config) as daemon:
        await daemon.wait_ready()
        assert daemon.socket_path is not None
        async with Client(Endpoint.unix(daemon.socket_path)) as client:
            async with contextlib.aclosing(client.generate(hello())) as stream:
                async for _ in stream:
                    break
            with anyio.fail_after(5):
                await daemon.wait_until(lambda d: d.cancelled_requests == 1)
            fast = await Client(Endpoint.unix(daemon.socket_path)).complete(hello("other"))
            assert fast.content.startswith("x ")


async def test_queue_full_is_retryable() -> None:
    config = MockConfig(tokens=("x ",) * 1000, token_delay_s=0.01, queue_depth=0)
    async with MockDaemon.start(config) as daemon:
        await daemon.wait_ready()
        assert daemon.socket_path is not None
        endpoint = Endpoint.unix(daemon.socket_path)
        async with (
            Client(endpoint) as busy,
            Client(endpoint) as second,
            contextlib.aclosing(busy.generate(hello("long"))) as stream,
        ):
            await stream.__anext__()
            with pytest.raises(DaemonError) as caught:
                await second.complete(hello("rejected"))
            assert caught.value.code == "queue_full"
            assert caught.value.retryable


async def test_tcp_with_api_key() -> None:
    config = MockConfig(tokens=("ok",), tcp=("127.0.0.1", 0), api_key="super-secret")
    async with MockDaemon.start(config) as daemon:
        await daemon.wait_ready()
        assert daemon.tcp_address is not None
        endpoint = Endpoint.tcp(*daemon.tcp_address)
        async with Client(endpoint, api_key="super-secret") as client:
            assert (await client.complete(hello("auth-ok-1"))).content == "ok"
        async with Client(endpoint, api_key="WRONG") as client:
            with pytest.raises(AuthRejected, match=r"\$INFERD_API_KEY"):
                await client.complete(hello())


async def test_admin_watch_across_restart_and_shutdown() -> None:
    async with MockDaemon.start(MockConfig(tokens=TOKENS)) as daemon:
        await daemon.wait_ready()
        assert daemon.admin_path is not None
        statuses: list[str] = []
        async with contextlib.aclosing(watch_admin(daemon.admin_path, reconnect=False)) as stream:
            async for item in stream:
                if isinstance(item, AdminNotice):
                    continue
                assert isinstance(item, AdminEvent)
                statuses.append(item.status)
                if statuses == ["capabilities", "ready"]:
                    await daemon.restart()
                elif statuses[-1] == "ready" and len(statuses) > 2:
                    await daemon.shutdown()
        assert statuses[:3] == ["capabilities", "ready", "restarting"]
        assert statuses[-2:] == ["ready", "draining"]


async def test_read_admin_state_and_eras() -> None:
    async with MockDaemon.start(MockConfig()) as daemon:
        await daemon.wait_ready()
        assert daemon.admin_path is not None
        snapshot = await read_admin_state(daemon.admin_path)
        assert snapshot.ready
        assert snapshot.era == "0.2–0.3"
    async with MockDaemon.start(MockConfig(era="0.4")) as daemon:
        assert daemon.admin_path is not None
        with anyio.fail_after(5):
            await daemon.wait_until(lambda d: d.state == "ready")
        snapshot = await read_admin_state(daemon.admin_path)
        assert snapshot.era == "0.4+"
