"""``inferd-tui embed`` and ``inferd-tui rerank`` against the stand-in (issue 15 §2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from headless_helpers import (
    daemon_config,
    endpoint_flags,
    invoke,
    make_console,
    running,
    scripted_server,
)

from inferd_tui.client import EmbedClient, Endpoint, RerankClient, connect
from inferd_tui.headless import EMBED_TASK_CHOICES
from inferd_tui.headless.embed import embed
from inferd_tui.headless.rerank import rerank
from inferd_tui.mock_daemon.embed_rerank import mock_vector
from inferd_tui.proto.embed_rerank import EMBED_TASKS

pytestmark = pytest.mark.anyio

VECTOR_LINE = json.dumps(mock_vector(8), separators=(",", ":"))
DOCUMENTS = "install cuda\nset gpu layers to 0\n\nthe GPU\n"


def test_task_choices_are_the_protocols() -> None:
    assert EMBED_TASK_CHOICES == EMBED_TASKS


# --- embed -----------------------------------------------------------------------------


@pytest.mark.parametrize("era", ["0.3", "0.6", "0.8"])
async def test_embed_arguments(short_tmp: Path, era: str) -> None:
    async with running(daemon_config(short_tmp, era=era, embed=True)) as daemon:
        await daemon.wait_ready()
        result = await invoke(["embed", *endpoint_flags(short_tmp), "hello", "wörld"])
    assert result.code == 0, result.err
    assert result.out == f"{VECTOR_LINE}\n{VECTOR_LINE}\n"
    assert (
        result.err
        == "-- 2 vectors of 8 dimensions · model: mock · 11 input tokens · backend: mock --\n"
    )


async def test_embed_stdin_skips_blank_lines(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, embed=True)) as daemon:
        await daemon.wait_ready()
        console = make_console(stdin="a\n\n   \nb\r\nc")
        result = await invoke(
            ["embed", *endpoint_flags(short_tmp), "--dimensions", "3", "--task", "clustering"],
            console,
        )
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["[0.25,0.5,0.75]"] * 3
    assert "3 input tokens" in result.err  # "a", "b" (no \r), "c"


async def test_embed_json_is_the_whole_answer(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, embed=True)) as daemon:
        await daemon.wait_ready()
        result = await invoke(["embed", *endpoint_flags(short_tmp), "--json", "hi"])
    assert result.code == 0
    [answer] = result.json_lines()
    assert answer["type"] == "embeddings" and answer["embeddings"] == [mock_vector(8)]
    assert answer["usage"] == {"input_tokens": 2} and answer["model"] == "mock"


async def test_no_embed_socket_is_exit_2_naming_the_path(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp)) as daemon:  # started without --embed
        await daemon.wait_ready()
        result = await invoke(["embed", *endpoint_flags(short_tmp), "hi"])
    assert result.code == 2
    assert result.out == ""
    assert str(short_tmp / "infer.embed.sock") in result.err
    assert "--embed" in result.err and result.err.count("\n") == 1


async def test_embed_socket_flag_overrides(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, embed=True)) as daemon:
        await daemon.wait_ready()
        elsewhere = short_tmp / "elsewhere.sock"
        result = await invoke(
            ["embed", *endpoint_flags(short_tmp), "--embed-socket", str(elsewhere), "hi"]
        )
    assert result.code == 2 and str(elsewhere) in result.err


async def test_embed_invalid_requests_are_exit_3(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, embed=True)) as daemon:
        await daemon.wait_ready()
        local = await invoke(["embed", *endpoint_flags(short_tmp), "a", ""])
        daemon_says = await invoke(["embed", *endpoint_flags(short_tmp), "--dimensions", "0", "a"])
    assert local.code == 3 and "input[1] must not be empty" in local.err
    assert daemon.embed_rerank.requests["embed"] == 1  # only the second reached it
    assert daemon_says.code == 3
    assert "daemon error (invalid_request): dimensions 0 not supported" in daemon_says.err


async def test_embed_usage_errors(short_tmp: Path) -> None:
    tty = await invoke(["embed", *endpoint_flags(short_tmp)])  # stdin is a terminal
    assert tty.code == 2 and "pipe the texts on stdin" in tty.err
    blank = await invoke(["embed", *endpoint_flags(short_tmp)], make_console(stdin="\n \n"))
    assert blank.code == 2 and "no texts on stdin" in blank.err


async def test_queue_full_retries_then_exit_5(short_tmp: Path) -> None:
    settings = daemon_config(
        short_tmp, embed=True, active_permits=1, queue_depth=0, token_delay_s=60
    )
    async with running(settings) as daemon:
        await daemon.wait_ready()
        assert daemon.embed_socket_path is not None and daemon.socket_path is not None
        generation = await connect(Endpoint.unix(daemon.socket_path))
        async with generation:
            await generation.send(b'{"id":"g","messages":[{"role":"user","content":"hi"}]}\n')
            await daemon.wait_until(lambda d: d.active_generations == 1)
            console = make_console()
            pauses: list[float] = []

            async def no_sleep(delay: float) -> None:
                pauses.append(delay)

            async with EmbedClient(daemon.embed_socket_path) as client:
                code = await embed(
                    client, ["a"], console, queue_full_delays=(1.0, 2.0), sleep=no_sleep
                )
    assert code == 5 and pauses == [1.0, 2.0]
    assert daemon.embed_rerank.queue_full["embed"] == 3
    assert "still full after 2 retries" in console.err.getvalue()


async def test_embed_unsupported_is_exit_2(short_tmp: Path) -> None:
    path = short_tmp / "infer.embed.sock"
    line = b'{"type":"error","id":"$REQUEST_ID","code":"embed_unsupported","message":"no"}\n'
    async with scripted_server(path, [line], read_first=True):
        console = make_console()
        async with EmbedClient(path) as client:
            code = await embed(client, ["a"], console)
    assert code == 2 and "embed_unsupported" in console.err.getvalue()


# --- rerank ----------------------------------------------------------------------------


@pytest.mark.parametrize("era", ["0.6", "0.8"])
async def test_rerank_prints_best_first(short_tmp: Path, era: str) -> None:
    async with running(daemon_config(short_tmp, era=era, rerank=True)) as daemon:
        await daemon.wait_ready()
        result = await invoke(
            ["rerank", *endpoint_flags(short_tmp), "GPU", "layers"], make_console(stdin=DOCUMENTS)
        )
    assert result.code == 0, result.err
    assert result.out == "1.0\t1\tset gpu layers to 0\n0.5\t2\tthe GPU\n0.0\t0\tinstall cuda\n"
    assert result.err.startswith("-- 3 of 3 documents · model: mock")


async def test_rerank_top_n_and_json(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, era="0.8", rerank=True)) as daemon:
        await daemon.wait_ready()
        flags = endpoint_flags(short_tmp)
        top = await invoke(["rerank", *flags, "--top-n", "1", "gpu"], make_console(stdin=DOCUMENTS))
        whole = await invoke(["rerank", *flags, "--json", "gpu"], make_console(stdin=DOCUMENTS))
    assert top.out == "1.0\t1\tset gpu layers to 0\n"
    [answer] = whole.json_lines()
    assert answer["type"] == "rerank" and [r["index"] for r in answer["results"]] == [1, 2, 0]


async def test_rerank_on_a_0_3_daemon_has_no_socket(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, era="0.3", embed=True)) as daemon:
        await daemon.wait_ready()
        result = await invoke(
            ["rerank", *endpoint_flags(short_tmp), "q"], make_console(stdin="doc\n")
        )
    assert result.code == 2
    assert str(short_tmp / "infer.rerank.sock") in result.err and "--rerank" in result.err


async def test_rerank_refusals_are_exit_3(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, era="0.6", rerank=True)) as daemon:
        await daemon.wait_ready()
        flags = endpoint_flags(short_tmp)
        zero = await invoke(["rerank", *flags, "--top-n", "0", "q"], make_console(stdin="d\n"))
        many = await invoke(["rerank", *flags, "q"], make_console(stdin="d\n" * 257))
    assert zero.code == 3 and "top_n must be greater than zero" in zero.err
    assert many.code == 3 and "257 documents; at most 256" in many.err


async def test_rerank_documents_are_made_safe_on_a_terminal(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, era="0.8", rerank=True)) as daemon:
        await daemon.wait_ready()
        assert daemon.rerank_socket_path is not None
        console = make_console(out_tty=True)
        async with RerankClient(daemon.rerank_socket_path) as client:
            code = await rerank(client, "q", ["q \x1b[31mred"], console)
    assert code == 0
    assert "\x1b" not in console.out.getvalue() and "␛[31mred" in console.out.getvalue()


# --- as processes --------------------------------------------------------------------------


def _run(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inferd_tui", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_processes_against_the_demo() -> None:
    vectors = _run("embed", "--demo", stdin="alpha\nbeta\n")
    assert vectors.returncode == 0, vectors.stderr
    assert vectors.stdout == f"{VECTOR_LINE}\n{VECTOR_LINE}\n"
    ranked = _run("rerank", "--demo", "gpu", stdin="cpu\ngpu\n")
    assert ranked.returncode == 0, ranked.stderr
    assert ranked.stdout == "1.0\t1\tgpu\n0.0\t0\tcpu\n"


def test_process_without_a_socket_exits_2(short_tmp: Path) -> None:
    result = _run("embed", "--socket", str(short_tmp / "infer.sock"), "hi")
    assert result.returncode == 2 and result.stdout == ""
    assert f"No embed socket at {short_tmp / 'infer.embed.sock'}" in result.stderr
