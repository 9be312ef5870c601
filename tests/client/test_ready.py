"""Pattern A (§2) with a fake clock and sleep: nothing here waits for real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
from client_helpers import ScriptStream, mock_tape, serve

from inferd_tui.client import (
    Client,
    ConnectError,
    ConnectTimeout,
    Endpoint,
    Message,
    Request,
    RetryNotice,
    backoff_delays,
    dial_and_wait_ready,
)

pytestmark = pytest.mark.anyio


class FakeTime:
    """A clock that only moves when ``sleep`` is called."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def refused(address: str = "/x/infer.sock") -> ConnectError:
    return ConnectError(f"No daemon at {address}", address=address, transient=True)


class FlakyConnect:
    def __init__(self, failures: int, error: ConnectError | None = None) -> None:
        self.failures = failures
        self.error = error or refused()
        self.calls = 0

    async def __call__(self) -> anyio.abc.ByteStream:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return ScriptStream()


def test_backoff_sequence() -> None:
    delays = backoff_delays()
    assert [next(delays) for _ in range(9)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]
    )


async def test_exact_backoff_until_the_deadline() -> None:
    time = FakeTime()
    connect = FlakyConnect(failures=10**6)
    notices: list[RetryNotice] = []
    with pytest.raises(ConnectTimeout) as caught:
        await dial_and_wait_ready(
            connect,
            timeout=30.0,
            address="/x/infer.sock",
            clock=time.clock,
            sleep=time.sleep,
            on_retry=notices.append,
        )
    # 0.1 … 3.2 sum to 6.3 s, four 5 s waits reach 26.3 s, the last wait is cut to 3.7 s.
    assert time.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5, 5, 5, 5, 3.7])
    assert connect.calls == 12  # one more attempt at the deadline
    assert [n.attempt for n in notices] == list(range(1, 12))
    assert [n.delay_s for n in notices] == pytest.approx(time.sleeps)
    assert notices[0].deadline_in_s == pytest.approx(30.0)
    assert notices[0].message == "cannot connect; retrying in 0.1 s"
    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.address == "/x/infer.sock"
    assert error.waited_s == pytest.approx(30.0)
    assert "/x/infer.sock" in str(error)
    assert "30.0 s" in str(error)
    assert "No daemon at /x/infer.sock" in str(error)
    assert isinstance(error.__cause__, ConnectError)


async def test_permanent_error_raises_at_once() -> None:
    time = FakeTime()
    denied = ConnectError("Permission denied on /x", address="/x", transient=False)
    with pytest.raises(ConnectError) as caught:
        await dial_and_wait_ready(
            FlakyConnect(5, denied), address="/x", clock=time.clock, sleep=time.sleep
        )
    assert caught.value is denied
    assert time.sleeps == []


async def test_success_after_transient_failures_returns_the_stream() -> None:
    time = FakeTime()
    connect = FlakyConnect(failures=3)
    stream = await dial_and_wait_ready(connect, address="/x", clock=time.clock, sleep=time.sleep)
    assert isinstance(stream, ScriptStream)
    assert time.sleeps == pytest.approx([0.1, 0.2, 0.4])


async def test_other_exceptions_propagate() -> None:
    async def broken() -> anyio.abc.ByteStream:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        await dial_and_wait_ready(broken, address="/x", sleep=FakeTime().sleep)


async def test_client_waits_for_a_daemon_that_binds_late(short_tmp: Path) -> None:
    """The inference socket appears after the third retry (the daemon finished loading)."""
    path = short_tmp / "infer.sock"
    time = FakeTime()
    servers: list[Any] = []

    async with anyio.create_task_group() as tg:

        async def run_server(*, task_status: anyio.abc.TaskStatus[Any]) -> None:
            async with serve([mock_tape], path=path) as server:
                task_status.started(server)
                await anyio.sleep_forever()

        async def sleep_then_bind(seconds: float) -> None:
            await time.sleep(seconds)
            if len(time.sleeps) == 3:
                servers.append(await tg.start(run_server))

        notices: list[RetryNotice] = []
        async with Client(Endpoint.unix(path)) as client:
            await client.wait_ready(
                timeout=30, clock=time.clock, sleep=sleep_then_bind, on_retry=notices.append
            )
            done = await client.complete(
                Request(id="late", messages=[Message(role="user", content="hi")])
            )
        tg.cancel_scope.cancel()

    assert done.content == "alpha beta gamma"
    assert time.sleeps == pytest.approx([0.1, 0.2, 0.4])
    assert {n.error.title for n in notices} == {"no daemon"}
    assert len(servers[0].connections) == 1


async def test_wait_ready_timeout_names_the_socket(short_tmp: Path) -> None:
    time = FakeTime()
    client = Client(Endpoint.unix(short_tmp / "never.sock"))
    with pytest.raises(ConnectTimeout, match=r"never\.sock"):
        await client.wait_ready(timeout=1.0, clock=time.clock, sleep=time.sleep)
    assert sum(time.sleeps) == pytest.approx(1.0)
