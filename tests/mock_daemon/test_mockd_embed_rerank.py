"""The stand-in's embed and rerank sockets (protocol-v2.md §8) over plain sockets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mockd_wire import Wire, config, request

from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.mock_daemon.embed_rerank import f32, mock_vector, word_share
from inferd_tui.proto import MAX_FRAME_BYTES, encode_line

pytestmark = pytest.mark.anyio


def embed_line(
    request_id: str = "e1", texts: tuple[str, ...] = ("hello",), **fields: object
) -> bytes:
    return encode_line({"id": request_id, "input": list(texts), **fields})


def rerank_line(
    query: str, documents: list[str], request_id: str = "r1", **fields: object
) -> bytes:
    return encode_line({"id": request_id, "query": query, "documents": documents, **fields})


# --- the mock backend --------------------------------------------------------------------


def test_mock_vector_components() -> None:
    assert mock_vector(8) == [0.11111111, 0.22222222, 0.33333334, 0.44444445, 0.5555556,
                              0.6666667, 0.7777778, 0.8888889]  # fmt: skip
    assert mock_vector(3) == [0.25, 0.5, 0.75]
    assert mock_vector(1) == [0.5]


def test_f32_is_the_shortest_round_trip() -> None:
    assert f32(1 / 3) == 0.33333334
    assert f32(0.5) == 0.5
    assert f32(0.0) == 0.0


def test_word_share() -> None:
    assert word_share("GPU layers", "set the gpu layers to 0") == 1.0
    assert word_share("gpu layers", "install cuda for the GPU") == 0.5
    assert word_share("gpu", "nothing here") == 0.0
    assert word_share("   ", "anything") == 0.0


# --- embed ----------------------------------------------------------------------------------


async def test_embed_round_trip_and_reuse(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, embed=True)) as daemon:
        await daemon.wait_ready()
        assert daemon.embed_socket_path == sock_dir / "infer.embed.sock"
        async with await Wire.unix(daemon.embed_socket_path) as wire:
            await wire.send(embed_line("e1", ("hello", "héllo")))
            first = await wire.frame()
            await wire.send(embed_line("e2", ("abc",), dimensions=3, task="similarity"))
            second = await wire.frame()
        assert first == {
            "type": "embeddings",
            "id": "e1",
            "embeddings": [mock_vector(8), mock_vector(8)],
            "dimensions": 8,
            "model": "mock",
            "usage": {"input_tokens": 11},  # 5 + 6 UTF-8 bytes
            "backend": "mock",
        }
        assert second is not None
        assert second["embeddings"] == [[0.25, 0.5, 0.75]] and second["dimensions"] == 3
        assert daemon.embed_rerank.connections["embed"] == 1
        assert daemon.embed_rerank.answered["embed"] == 2


async def test_embed_resolve_errors_keep_the_connection(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, embed=True)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.embed_socket_path) as wire:
            await wire.send(embed_line("a", ()))
            assert await wire.frame() == {
                "type": "error",
                "id": "a",
                "code": "invalid_request",
                "message": "invalid request: input must not be empty",
            }
            await wire.send(embed_line("b", ("x", "")))
            assert (await wire.frame() or {})[
                "message"
            ] == "invalid request: input[1] must not be empty"
            await wire.send(embed_line("c", ("x",), task="astrology"))
            assert (await wire.frame() or {})[
                "message"
            ] == "invalid request: task uses an unknown variant"
            # The backend's own refusal: no prefix, id echoed, connection kept.
            await wire.send(embed_line("d", ("x",), dimensions=0))
            refused = await wire.frame() or {}
            assert refused["id"] == "d" and refused["code"] == "invalid_request"
            assert refused["message"].startswith("dimensions 0 not supported")
            await wire.send(embed_line("e", ("x",)))
            assert (await wire.frame() or {})["type"] == "embeddings"


@pytest.mark.parametrize("line", [b"{ not json }\n", b"\n", b'{"id":"x","input":null}\n'])
async def test_embed_decode_error_closes(sock_dir: Path, line: bytes) -> None:
    async with MockDaemon.start(config(sock_dir, embed=True)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.embed_socket_path) as wire:
            await wire.send(line)
            frame = await wire.frame() or {}
            assert frame["id"] == "" and frame["code"] == "invalid_request"
            assert frame["message"].startswith("decode: ")
            await wire.expect_eof()


async def test_embed_unterminated_last_line_and_crlf(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, embed=True)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.embed_socket_path) as wire:
            await wire.send(embed_line("a").replace(b"\n", b"\r\n") + embed_line("b")[:-1])
            await wire.send_eof()
            assert [(await wire.frame() or {})["id"] for _ in range(2)] == ["a", "b"]
            await wire.expect_eof()


async def test_embed_line_over_the_cap(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, embed=True)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.embed_socket_path) as wire:
            await wire.send(b"x" * (MAX_FRAME_BYTES + 1))
            assert await wire.frame() == {
                "type": "error",
                "id": "",
                "code": "frame_too_large",
                "message": f"frame exceeds {MAX_FRAME_BYTES} byte cap",
            }
            await wire.expect_eof()


# --- rerank --------------------------------------------------------------------------------


async def test_rerank_sorts_ties_in_input_order_and_cuts_to_top_n(sock_dir: Path) -> None:
    documents = ["install cuda", "set gpu layers to 0", "the GPU", "gpu layers off", "x"]
    async with MockDaemon.start(config(sock_dir, era="0.6", rerank=True)) as daemon:
        await daemon.wait_ready()
        assert daemon.rerank_socket_path == sock_dir / "infer.rerank.sock"
        async with await Wire.unix(daemon.rerank_socket_path) as wire:
            await wire.send(rerank_line("GPU layers", documents))
            whole = await wire.frame() or {}
            await wire.send(rerank_line("GPU layers", documents, "r2", top_n=3))
            cut = await wire.frame() or {}
    assert whole["type"] == "rerank" and whole["id"] == "r1"
    assert whole["results"] == [
        {"index": 1, "score": 1.0},
        {"index": 3, "score": 1.0},
        {"index": 2, "score": 0.5},
        {"index": 0, "score": 0.0},
        {"index": 4, "score": 0.0},
    ]
    assert whole["model"] == "mock" and whole["backend"] == "mock"
    # Query + document bytes, once per document.
    assert whole["usage"] == {"input_tokens": 10 * 5 + sum(len(d) for d in documents)}
    assert cut["results"] == whole["results"][:3]


async def test_rerank_resolve_and_decode_errors(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, era="0.8", rerank=True)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.rerank_socket_path) as wire:
            for line, message in [
                (rerank_line("", ["d"]), "invalid request: query must not be empty"),
                (rerank_line("q", ["d"], top_n=0), "invalid request: top_n must be greater than zero when set"),
                (rerank_line("q", ["d"] * 257), "invalid request: request carries 257 documents; at most 256 allowed"),
                (rerank_line("q", ["x" * (4 << 20), "y" * (4 << 20)]), "invalid request: request carries 8388609 bytes of query + documents; at most 8388608 allowed"),
            ]:  # fmt: skip
                await wire.send(line)
                assert await wire.frame() == {
                    "type": "error",
                    "id": "r1",
                    "code": "invalid_request",
                    "message": message,
                }
            await wire.send(b'{"id":"r9","query":"q","documents":"not a list"}\n')
            frame = await wire.frame() or {}
            assert frame["id"] == "" and frame["message"].startswith("decode: ")
            await wire.expect_eof()


# --- admission (shared with generation), binding, eras ------------------------------------


async def test_embed_shares_the_admission_pool_with_generation(sock_dir: Path) -> None:
    settings = config(sock_dir, embed=True, active_permits=1, queue_depth=0, token_delay_s=60)
    async with MockDaemon.start(settings) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.embed_socket_path) as embed:
            async with await Wire.unix(daemon.socket_path) as generation:
                await generation.send(request("g1"))
                await daemon.wait_until(lambda d: d.active_generations == 1)
                await embed.send(embed_line("busy"))
                assert await embed.frame() == {
                    "type": "error",
                    "id": "busy",
                    "code": "queue_full",
                    "message": "queue full",
                }
            # Closing the generation cancels it and frees the place; same connection.
            await daemon.wait_until(lambda d: d.active_generations == 0)
            await embed.send(embed_line("free"))
            assert (await embed.frame() or {})["type"] == "embeddings"
        assert daemon.embed_rerank.queue_full["embed"] == 1


async def test_a_queued_embed_waits_silently_for_its_turn(sock_dir: Path) -> None:
    settings = config(sock_dir, embed=True, active_permits=1, queue_depth=1, token_delay_s=60)
    async with MockDaemon.start(settings) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.embed_socket_path) as embed:
            async with await Wire.unix(daemon.socket_path) as generation:
                await generation.send(request("g1"))
                await daemon.wait_until(lambda d: d.active_generations == 1)
                await embed.send(embed_line("waits"))
                await daemon.wait_until(lambda d: d.queued_generations == 1)
            frame = await embed.frame() or {}
            assert frame["id"] == "waits" and frame["type"] == "embeddings"


async def test_sockets_close_with_the_generation_socket(sock_dir: Path) -> None:
    settings = config(sock_dir, era="0.6", embed=True, rerank=True)
    async with MockDaemon.start(settings) as daemon:
        await daemon.wait_ready()
        await daemon.restart()
        async with await Wire.unix(daemon.rerank_socket_path) as wire:
            await wire.send(rerank_line("a", ["a"]))
            assert (await wire.frame() or {})["results"] == [{"index": 0, "score": 1.0}]
        embed_path, rerank_path = daemon.embed_socket_path, daemon.rerank_socket_path
        assert embed_path is not None and embed_path.exists()
    assert rerank_path is not None
    assert not embed_path.exists() and not rerank_path.exists()


async def test_not_served_unless_asked(sock_dir: Path) -> None:
    async with MockDaemon.start(config(sock_dir, era="0.6")) as daemon:
        await daemon.wait_ready()
        assert daemon.embed_socket_path is None and daemon.rerank_socket_path is None
        assert not {"infer.embed.sock", "infer.rerank.sock"} & set(os.listdir(sock_dir))


def test_eras_without_the_surface_are_refused(sock_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"--rerank needs era 0\.6 or later"):
        MockConfig(socket_path=sock_dir / "infer.sock", rerank=True, era="0.3")
    with pytest.raises(ValueError, match=r"--embed needs era 0\.2 or later"):
        MockConfig(socket_path=sock_dir / "infer.sock", embed=True, era="0.1")
    MockConfig(socket_path=sock_dir / "infer.sock", embed=True, era="0.3")


def test_cli_flags_reach_the_config() -> None:
    from inferd_tui.cli import build_parser
    from inferd_tui.mock_daemon.cli import config_from_args

    args = build_parser().parse_args(["mock-daemon", "--embed", "--era", "0.3"])
    assert config_from_args(args).embed is True
    args = build_parser().parse_args(["mock-daemon", "--rerank", "--era", "0.3"])
    with pytest.raises(ValueError, match=r"--rerank needs era 0\.6"):
        config_from_args(args)


def test_rerank_before_0_6_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from inferd_tui.cli import main

    assert main(["mock-daemon", "--rerank", "--era", "0.3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "inferd-tui mock-daemon: error: --rerank needs era 0.6 or later" in err


def test_json_of_a_frame_is_compact() -> None:
    assert json.loads(embed_line()) == {"id": "e1", "input": ["hello"]}
