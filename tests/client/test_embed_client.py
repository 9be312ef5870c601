"""EmbedClient / RerankClient against the stand-in daemon and scripted sockets (§8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
from client_helpers import ScriptFactory, frame

from inferd_tui.client import ConnectError, DaemonError, InvalidRequest, resolve_endpoints
from inferd_tui.client.embed import (
    EmbedClient,
    RerankClient,
    embed_socket_path,
    rerank_socket_path,
)
from inferd_tui.client.endpoints import Endpoint
from inferd_tui.client.transport import connect
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.mock_daemon.embed_rerank import mock_vector
from inferd_tui.proto import MalformedFrame, ProtocolError, UnexpectedEof

pytestmark = pytest.mark.anyio


def config(directory: Path, **changes: Any) -> MockConfig:
    return MockConfig(
        socket_path=directory / "infer.sock", admin_path=directory / "admin.sock", **changes
    )


# --- where the sockets are -----------------------------------------------------------------


def test_sockets_beside_the_generation_socket(tmp_path: Path) -> None:
    resolution = resolve_endpoints(socket=tmp_path / "run" / "infer.sock", env={})
    assert embed_socket_path(resolution) == tmp_path / "run" / "infer.embed.sock"
    assert rerank_socket_path(resolution) == tmp_path / "run" / "infer.rerank.sock"
    assert embed_socket_path(resolution, "~/e.sock") == Path("~/e.sock").expanduser()


def test_default_run_directory(tmp_path: Path) -> None:
    resolution = resolve_endpoints(env={"XDG_RUNTIME_DIR": str(tmp_path)}, platform="linux")
    assert embed_socket_path(resolution) == tmp_path / "inferd" / "infer.embed.sock"


def test_over_tcp_the_admin_directory_is_the_run_directory(tmp_path: Path) -> None:
    resolution = resolve_endpoints(
        tcp="127.0.0.1:47321", admin=tmp_path / "admin.sock", env={}, platform="linux"
    )
    assert rerank_socket_path(resolution) == tmp_path / "infer.rerank.sock"


# --- round trips against the stand-in ------------------------------------------------------


async def test_embed_round_trip_reuses_one_connection(short_tmp: Path) -> None:
    async with MockDaemon.start(config(short_tmp, embed=True)) as daemon:
        await daemon.wait_ready()
        resolution = resolve_endpoints(socket=daemon.socket_path, env={})
        async with EmbedClient.from_resolution(resolution) as client:
            first = await client.embed(["hello", "wörld"])
            second = await client.embed(["abc"], dimensions=4, task="retrieval_query")
            assert client.connected
        assert first.embeddings == [mock_vector(8), mock_vector(8)]
        assert (first.dimensions, first.model, first.backend) == (8, "mock", "mock")
        assert first.input_tokens == 11
        assert first.raw["type"] == "embeddings" and first.raw["id"] == first.request_id
        assert second.embeddings == [[0.2, 0.4, 0.6, 0.8]]
        assert daemon.embed_rerank.connections["embed"] == 1
        assert daemon.embed_rerank.answered["embed"] == 2


@pytest.mark.parametrize("era", ["0.6", "0.8"])
async def test_rerank_round_trip(short_tmp: Path, era: str) -> None:
    async with MockDaemon.start(config(short_tmp, era=era, rerank=True)) as daemon:
        await daemon.wait_ready()
        assert daemon.rerank_socket_path is not None
        async with RerankClient(daemon.rerank_socket_path) as client:
            result = await client.rerank("gpu layers", ["cuda", "gpu layers", "the gpu"])
            top = await client.rerank("gpu layers", ["cuda", "gpu layers", "the gpu"], top_n=1)
        assert [(r.index, r.score) for r in result.results] == [(1, 1.0), (2, 0.5), (0, 0.0)]
        assert [r.index for r in top.results] == [1]
        assert result.model == "mock" and result.raw["type"] == "rerank"
        assert daemon.embed_rerank.connections["rerank"] == 1


async def test_local_checks_send_nothing(short_tmp: Path) -> None:
    async with MockDaemon.start(config(short_tmp, era="0.8", embed=True, rerank=True)) as daemon:
        await daemon.wait_ready()
        assert daemon.embed_socket_path and daemon.rerank_socket_path
        async with EmbedClient(daemon.embed_socket_path) as embed:
            for texts, fields, message in [
                ([], {}, "input must not be empty"),
                (["a", ""], {}, r"input\[1\] must not be empty"),
                (["a"], {"task": "horoscope"}, "task uses an unknown variant"),
                (["a"], {"dimensions": -1}, "dimensions -1 is not a u32"),
            ]:
                with pytest.raises(InvalidRequest, match=message):
                    await embed.embed(texts, **fields)
            with pytest.raises(TypeError):
                await embed.embed("one string")  # type: ignore[arg-type]
        async with RerankClient(daemon.rerank_socket_path) as rerank:
            for query, documents, fields, message in [
                ("", ["d"], {}, "query must not be empty"),
                ("q", [], {}, "documents must not be empty"),
                ("q", ["d"] * 257, {}, "257 documents; at most 256"),
                ("q", ["d"], {"top_n": 0}, "top_n must be greater than zero"),
            ]:
                with pytest.raises(InvalidRequest, match=message):
                    await rerank.rerank(query, documents, **fields)
        assert daemon.embed_rerank.requests == {"embed": 0, "rerank": 0}
        assert daemon.embed_rerank.connections == {"embed": 0, "rerank": 0}


async def test_daemon_refusal_keeps_the_connection(short_tmp: Path) -> None:
    async with MockDaemon.start(config(short_tmp, embed=True)) as daemon:
        await daemon.wait_ready()
        assert daemon.embed_socket_path is not None
        async with EmbedClient(daemon.embed_socket_path) as client:
            with pytest.raises(DaemonError) as caught:
                await client.embed(["a"], dimensions=0, request_id="dim0")
            assert caught.value.code == "invalid_request"
            assert caught.value.request_id == "dim0"
            assert caught.value.message.startswith("dimensions 0 not supported")
            assert client.connected
            assert (await client.embed(["a"])).dimensions == 8
        assert daemon.embed_rerank.connections["embed"] == 1


async def test_queue_full_is_a_retryable_daemon_error(short_tmp: Path) -> None:
    settings = config(short_tmp, embed=True, active_permits=1, queue_depth=0, token_delay_s=60)
    async with MockDaemon.start(settings) as daemon:
        await daemon.wait_ready()
        assert daemon.embed_socket_path is not None and daemon.socket_path is not None
        generation = await connect(Endpoint.unix(daemon.socket_path))
        async with generation, EmbedClient(daemon.embed_socket_path) as client:
            await generation.send(b'{"id":"g","messages":[{"role":"user","content":"hi"}]}\n')
            await daemon.wait_until(lambda d: d.active_generations == 1)
            with pytest.raises(DaemonError) as caught:
                await client.embed(["a"])
            assert caught.value.code == "queue_full" and caught.value.retryable
            await generation.aclose()
            await daemon.wait_until(lambda d: d.active_generations == 0)
            assert (await client.embed(["a"])).model == "mock"


class _FirstLineGarbled(anyio.abc.ByteStream):
    """The real connection, with the first request replaced by a line that is not JSON."""

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self.stream = stream

    async def send(self, item: bytes) -> None:
        await self.stream.send(b"{not json\n")

    async def receive(self, max_bytes: int = 65536) -> bytes:
        return await self.stream.receive(max_bytes)

    async def send_eof(self) -> None:
        await self.stream.send_eof()

    async def aclose(self) -> None:
        await self.stream.aclose()


async def test_redial_after_a_decode_error_close(short_tmp: Path) -> None:
    async with MockDaemon.start(config(short_tmp, embed=True)) as daemon:
        await daemon.wait_ready()
        path = daemon.embed_socket_path
        assert path is not None
        dials = 0

        async def factory() -> anyio.abc.ByteStream:
            nonlocal dials
            dials += 1
            stream = await connect(Endpoint.unix(path))
            return _FirstLineGarbled(stream) if dials == 1 else stream

        async with EmbedClient(path, stream_factory=factory) as client:
            with pytest.raises(DaemonError) as caught:
                await client.embed(["a"])
            assert caught.value.request_id == "" and caught.value.message.startswith("decode:")
            assert not client.connected  # the daemon closes after a decode error
            assert (await client.embed(["a"])).dimensions == 8
        assert dials == 2
        assert daemon.embed_rerank.connections["embed"] == 2


async def test_after_shutdown_the_missing_socket_is_named(short_tmp: Path) -> None:
    async with MockDaemon.start(config(short_tmp, embed=True)) as daemon:
        await daemon.wait_ready()
        assert daemon.embed_socket_path is not None
        async with EmbedClient(daemon.embed_socket_path) as client:
            await client.embed(["a"])
            await daemon.shutdown()
            # The idle connection was closed under the client; the socket is gone too.
            with pytest.raises(ConnectError) as caught:
                await client.embed(["a"])
        assert caught.value.title == "no embed socket"


async def test_no_socket_names_the_path_and_the_flag(short_tmp: Path) -> None:
    async with RerankClient(short_tmp / "infer.rerank.sock") as client:
        with pytest.raises(ConnectError) as caught:
            await client.rerank("q", ["d"])
    assert caught.value.title == "no rerank socket"
    assert str(short_tmp / "infer.rerank.sock") in caught.value.hint
    assert "--rerank" in caught.value.hint


# --- scripted answers: every way an answer can go wrong ----------------------------------

EMBED_OK = frame(
    type="embeddings",
    id="x",
    embeddings=[[0.5]],
    dimensions=1,
    model="m",
    usage={"input_tokens": 1},
    backend="b",
)


async def _embed_with(*scripts: list[bytes]) -> tuple[EmbedClient, ScriptFactory]:
    factory = ScriptFactory(*scripts)
    return EmbedClient("/nonexistent/infer.embed.sock", stream_factory=factory), factory


async def test_eof_before_the_answer() -> None:
    client, _ = await _embed_with([])
    with pytest.raises(UnexpectedEof):
        await client.embed(["a"], request_id="x")
    assert not client.connected


async def test_eof_in_the_middle_of_a_frame() -> None:
    client, _ = await _embed_with([EMBED_OK[:20]])
    with pytest.raises(UnexpectedEof, match="middle of a frame"):
        await client.embed(["a"], request_id="x")


async def test_unterminated_final_answer_is_accepted() -> None:
    client, _ = await _embed_with([EMBED_OK[:-1]])
    result = await client.embed(["a"], request_id="x")
    assert result.embeddings == [[0.5]]
    assert not client.connected  # EOF came with it


async def test_malformed_frame_closes_the_connection() -> None:
    client, factory = await _embed_with([b'{"type":"embeddings","id":"x"}\n'], [EMBED_OK])
    with pytest.raises(MalformedFrame) as caught:
        await client.embed(["a"], request_id="x")
    assert "/nonexistent/infer.embed.sock" in caught.value.hint
    assert factory.streams[0].closed
    assert (await client.embed(["a"], request_id="x")).model == "m"


async def test_unknown_frames_are_skipped_and_stray_ids_refused() -> None:
    client, _ = await _embed_with([frame(type="progress", id="x") + EMBED_OK])
    assert (await client.embed(["a"], request_id="x")).backend == "b"
    client2, factory = await _embed_with([EMBED_OK])
    with pytest.raises(ProtocolError, match="answered request 'x'"):
        await client2.embed(["a"], request_id="y")
    assert factory.streams[0].closed


async def test_a_reused_connection_closed_while_idle_is_redialled() -> None:
    # The first connection answers once, then is found closed on the second request.
    client, factory = await _embed_with([EMBED_OK], [EMBED_OK])
    await client.embed(["a"], request_id="x")
    await client.embed(["a"], request_id="x")
    assert len(factory.streams) == 2


async def test_frame_too_large_from_the_daemon_closes() -> None:
    line = frame(
        type="error", id="", code="frame_too_large", message="frame exceeds 67108864 byte cap"
    )
    client, factory = await _embed_with([line])
    with pytest.raises(DaemonError) as caught:
        await client.embed(["a"], request_id="x")
    assert caught.value.code == "frame_too_large"
    assert factory.streams[0].closed


async def test_concurrent_calls_take_turns(short_tmp: Path) -> None:
    async with MockDaemon.start(config(short_tmp, embed=True)) as daemon:
        await daemon.wait_ready()
        assert daemon.embed_socket_path is not None
        results: list[int] = []
        async with EmbedClient(daemon.embed_socket_path) as client:

            async def one(dimensions: int) -> None:
                results.append((await client.embed(["a"], dimensions=dimensions)).dimensions)

            async with anyio.create_task_group() as group:
                for dimensions in (2, 3, 4):
                    group.start_soon(one, dimensions)
        assert sorted(results) == [2, 3, 4]
        assert daemon.embed_rerank.connections["embed"] == 1
