"""`ask` against the stand-in daemon: streaming, frames, every failure and its exit code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from headless_helpers import (
    ECHO_ID,
    daemon_config,
    endpoint_flags,
    invoke,
    make_console,
    running,
    scripted_server,
)

from inferd_tui.client import Client, Endpoint, Message, Request, resolve_endpoints
from inferd_tui.headless import ask as ask_module
from inferd_tui.mock_daemon import MockConfig
from inferd_tui.proto import SamplingParams
from inferd_tui.proto.chat import ChatMessage, ChatRequest

pytestmark = pytest.mark.anyio

TOKENS = ("alpha ", "beta ", "gamma")


async def test_ask_streams_the_answer(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, tokens=TOKENS)) as daemon:
        result = await invoke(["ask", *endpoint_flags(short_tmp), "hello", "there"])
        assert daemon.completed_requests == 1
    assert result.code == 0, result.err
    assert result.out == "alpha beta gamma\n"
    assert "stop: end · tokens: 0 prompt + 3 completion · backend: mock" in result.err


async def test_ask_json_prints_every_frame(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, tokens=TOKENS)):
        result = await invoke(["ask", "--json", *endpoint_flags(short_tmp), "hello"])
    frames = result.json_lines()
    assert result.code == 0
    assert [f["type"] for f in frames] == ["token", "token", "token", "done"]
    assert frames[-1]["content"] == "alpha beta gamma"
    assert frames[-1]["usage"] == {"prompt_tokens": 0, "completion_tokens": 3}
    assert len({f["id"] for f in frames}) == 1


async def test_ask_sends_system_and_sampling(short_tmp: Path) -> None:
    # The demo backend honours max_tokens (stop_reason "length") and counts prompt words.
    async with running(daemon_config(short_tmp, backend="demo", demo_tokens_per_s=1e6)):
        result = await invoke(
            [
                "ask",
                "--json",
                "--system",
                "be brief",
                "--temperature",
                "0.2",
                "--top-p",
                "0.9",
                "--top-k",
                "5",
                "--max-tokens",
                "2",
                "--image-token-budget",
                "280",
                *endpoint_flags(short_tmp),
                "hello",
            ]
        )
    done = result.json_lines()[-1]
    assert result.code == 0, result.err
    assert done["stop_reason"] == "length"
    assert done["usage"]["completion_tokens"] == 2


async def test_ask_reads_stdin(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, tokens=TOKENS)):
        piped = await invoke(["ask", *endpoint_flags(short_tmp)], make_console(stdin="hi\n"))
        dash = await invoke(["ask", *endpoint_flags(short_tmp), "-"], make_console(stdin="hi"))
        no_prompt = await invoke(["ask", *endpoint_flags(short_tmp)])  # stdin is a terminal
    assert piped.code == 0 and piped.out == "alpha beta gamma\n"
    assert dash.code == 0
    assert no_prompt.code == 2
    assert "give a prompt" in no_prompt.err


async def test_ask_refuses_an_empty_prompt_without_sending_it(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, tokens=TOKENS)) as daemon:
        empty_pipe = await invoke(["ask", *endpoint_flags(short_tmp)], make_console(stdin=""))
        blank_word = await invoke(["ask", *endpoint_flags(short_tmp), "  "])
        assert daemon.requests_seen == 0
    assert (empty_pipe.code, empty_pipe.err) == (
        2,
        "ask: error: the prompt read from stdin is empty\n",
    )
    assert blank_word.code == 2 and "give a prompt" in blank_word.err


async def test_ask_makes_control_characters_harmless_on_a_terminal(short_tmp: Path) -> None:
    config = daemon_config(short_tmp, tokens=("red\x1b[31m", "\x07bell\n"))
    async with running(config):
        tty = await invoke(["ask", *endpoint_flags(short_tmp), "x"], make_console(out_tty=True))
        piped = await invoke(["ask", *endpoint_flags(short_tmp), "x"])
    assert tty.out == "red␛[31m␇bell\n"
    assert piped.out == "red\x1b[31m\x07bell\n"  # a pipe gets the answer unchanged


async def test_ask_daemon_error_mid_answer_keeps_the_partial_text(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, tokens=TOKENS, drop_after=2)):
        result = await invoke(["ask", *endpoint_flags(short_tmp), "hello"])
    assert result.code == 4
    assert result.out == "alpha beta \n"
    assert (
        "daemon error (backend_unavailable): backend ended stream without terminal frame"
        in result.err
    )


async def test_ask_with_an_admin_socket_it_may_not_look_at(
    short_tmp: Path, forbid: Callable[[Path], None]
) -> None:
    forbid(short_tmp / "theirs")
    async with running(daemon_config(short_tmp, tokens=TOKENS)) as daemon:
        await daemon.wait_ready()
        flags = ["--socket", str(short_tmp / "infer.sock")]
        result = await invoke(["ask", *flags, "--admin", str(short_tmp / "theirs/a.sock"), "hi"])
    assert result.code == 0, result.err
    assert result.out == "alpha beta gamma\n"


async def test_ask_daemon_closing_mid_answer(short_tmp: Path) -> None:
    socket_path = short_tmp / "infer.sock"
    lines = [b'{"type":"token","id":"' + ECHO_ID + b'","content":"half an ans"}\n']
    async with scripted_server(socket_path, lines, read_first=True):
        result = await invoke(["ask", "--socket", str(socket_path), "hello"])
    assert result.code == 4
    assert result.out == "half an ans\n"
    assert "closed the connection before the answer finished" in result.err


async def test_ask_wrong_api_key_over_tcp(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cr3t-NOT-the-key"
    monkeypatch.setenv("MY_INFERD_KEY", secret)
    config = MockConfig(tcp=("127.0.0.1", 0), api_key="the-real-key", tokens=TOKENS)
    async with running(config) as daemon:
        await daemon.wait_ready()
        assert daemon.tcp_address is not None
        address = f"127.0.0.1:{daemon.tcp_address[1]}"
        wrong = await invoke(["ask", "--tcp", address, "--api-key-env", "MY_INFERD_KEY", "hi"])
        monkeypatch.setenv("MY_INFERD_KEY", "the-real-key")
        right = await invoke(["ask", "--tcp", address, "--api-key-env", "MY_INFERD_KEY", "hi"])
    assert wrong.code == 2
    assert "wrong or missing API key?" in wrong.err
    assert "$MY_INFERD_KEY" in wrong.err
    assert secret not in wrong.err + wrong.out
    assert right.code == 0, right.err
    assert right.out == "alpha beta gamma\n"


async def test_ask_queue_full_after_retries(
    short_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ask_module, "QUEUE_FULL_DELAYS", (0.0, 0.0))
    async with running(daemon_config(short_tmp, backend="demo")) as daemon:
        result = await invoke(["ask", *endpoint_flags(short_tmp), "are you busy?"])
        as_json = await invoke(["ask", "--json", *endpoint_flags(short_tmp), "busy"])
        assert daemon.requests_seen == 6
    assert result.code == 5
    assert result.out == ""
    assert "queue is full; retry 1 of 2" in result.err
    assert "queue is full; retry 2 of 2" in result.err
    assert "still full after 2 retries" in result.err
    assert as_json.code == 5
    assert [f["code"] for f in as_json.json_lines()] == ["queue_full"]  # only the last one


async def test_ask_queue_full_then_admitted(short_tmp: Path) -> None:
    """A real saturation (one running generation, no queue); the retry gets through."""
    config = daemon_config(short_tmp, backend="demo", demo_tokens_per_s=20, queue_depth=0)
    resolution = resolve_endpoints(
        socket=short_tmp / "infer.sock", admin=short_tmp / "admin.sock", env={}
    )
    request = ChatRequest(
        messages=(ChatMessage.text("user", "hi"),), sampling=SamplingParams(max_tokens=1)
    )
    console = make_console()
    async with running(config) as daemon, anyio.create_task_group() as task_group:
        await daemon.wait_ready()
        blocker_scope = anyio.CancelScope()

        async def block() -> None:
            with blocker_scope:
                async with Client(Endpoint.unix(short_tmp / "infer.sock")) as client:
                    await client.complete(Request(messages=[Message(role="user", content="x")]))

        task_group.start_soon(block)
        await daemon.wait_until(lambda d: d.active_generations == 1)
        delays: list[float] = []

        async def sleep(delay: float) -> None:  # the countdown: free the daemon meanwhile
            delays.append(delay)
            blocker_scope.cancel()
            await daemon.wait_until(lambda d: d.active_generations == 0)

        code = await ask_module.ask(
            request,
            resolution,
            console,
            as_json=False,
            wait=5,
            queue_full_delays=(7.0,),
            sleep=sleep,
        )
    assert code == 0, console.err.getvalue()
    assert delays == [7.0]
    assert daemon.queue_full_rejections == 1
    assert "the daemon's queue is full; retry 1 of 1 in 7.0 s" in console.err.getvalue()


async def test_ask_invalid_grammar_prints_diagnostics(short_tmp: Path) -> None:
    grammar = short_tmp / "answer.gbnf"
    grammar.write_text('root ::= "yes" | maybe\n')
    async with running(daemon_config(short_tmp)) as daemon:
        result = await invoke(
            ["ask", "--grammar", str(grammar), *endpoint_flags(short_tmp), "hello"]
        )
        assert daemon.requests_seen == 0
    assert result.code == 3
    assert f"{grammar}:1:" in result.err
    assert "error:" in result.err
    assert "^" in result.err  # the caret under the problem, like a compiler
    assert "not sent" in result.err


async def test_ask_valid_grammar_is_sent(short_tmp: Path) -> None:
    grammar = short_tmp / "yes-no.gbnf"
    grammar.write_text('root ::= "yes" | "no"\n')
    async with running(daemon_config(short_tmp, backend="demo", demo_tokens_per_s=1e6)):
        result = await invoke(["ask", "--grammar", str(grammar), *endpoint_flags(short_tmp), "?"])
    assert result.code == 0, result.err
    assert result.out in {"yes\n", "no\n"}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--image-token-budget", "999"],
            "image_token_budget 999 not in [70, 140, 280, 560, 1120]",
        ),
        (["--top-p", "1.5"], "--top-p 1.5 must be between 0 and 1"),
        (["--temperature", "-1"], "--temperature -1.0 must be a number ≥ 0"),
        (["--temperature", "nan"], "--temperature nan must be a number ≥ 0"),
        (["--max-tokens", "-3"], "--max-tokens -3 must be between 0 and"),
    ],
)
async def test_ask_invalid_request_is_not_sent(
    short_tmp: Path, flags: list[str], message: str
) -> None:
    result = await invoke(["ask", *flags, *endpoint_flags(short_tmp), "hello"])
    assert result.code == 3
    assert message in result.err


async def test_ask_unreachable_names_the_path(short_tmp: Path) -> None:
    result = await invoke(["ask", "--wait", "0", *endpoint_flags(short_tmp), "hello"])
    assert result.code == 2
    assert str(short_tmp / "infer.sock") in result.err
    assert result.out == ""


async def test_ask_waits_for_a_loading_daemon(short_tmp: Path) -> None:
    config = daemon_config(short_tmp, tokens=TOKENS, bind_delay_s=0.3)
    console = make_console(err_tty=True)
    async with running(config):
        result = await invoke(["ask", "--wait", "10", *endpoint_flags(short_tmp), "hi"], console)
    assert result.code == 0, result.err
    assert result.out == "alpha beta gamma\n"
    assert "waiting for the daemon… (retrying in 0.1 s)" in result.err


async def test_ask_that_runs_out_of_wait_says_the_daemon_is_still_loading(
    short_tmp: Path,
) -> None:
    async with running(daemon_config(short_tmp, boot="first-boot")):
        result = await invoke(["ask", "--wait", "0.2", *endpoint_flags(short_tmp), "hi"])
    assert result.code == 2
    assert result.err.startswith("ask: the daemon is still loading after 0.2 s (")
    assert result.err.rstrip().endswith("give it longer with --wait SECONDS")


async def test_ask_v04_daemon_with_an_old_infer_sock_setting(short_tmp: Path) -> None:
    """--socket …/infer.sock, as configured for 0.3; the admin socket says 0.4+, so the
    length-prefixed wire is spoken on inferd.sock beside it, with no wire flag."""
    async with running(daemon_config(short_tmp, era="0.4")) as daemon:
        await daemon.wait_ready()
        result = await invoke(["ask", "--wait", "0", *endpoint_flags(short_tmp), "hello"])
    assert result.code == 0, result.err
    assert result.out == "mock-response\n"
    assert "stop: end_turn" in result.err


async def test_ask_wire_v1_on_a_v04_daemon_says_why(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, era="0.4")) as daemon:
        await daemon.wait_ready()
        result = await invoke(["ask", "--wire", "v1", *endpoint_flags(short_tmp), "hello"])
    assert result.code == 2
    assert "removed protocol v1" in result.err


async def test_ask_daemon_invalid_request_exits_3(short_tmp: Path) -> None:
    config = daemon_config(short_tmp, error_before_stream=("invalid_request", "bad thing"))
    async with running(config):
        result = await invoke(["ask", *endpoint_flags(short_tmp), "hello"])
    assert result.code == 3
    assert (
        "daemon error (invalid_request): bad thing — the daemon refused this request" in result.err
    )


async def test_ask_demo() -> None:
    # --demo plays the newest release: the length-prefixed wire and its stop reasons.
    result = await invoke(["ask", "--demo", "--max-tokens", "5", "What is a socket?"])
    assert result.code == 0, result.err
    assert result.out.startswith("## ")
    assert "stop: max_tokens" in result.err


async def test_ask_demo_era_plays_an_older_release() -> None:
    argv = ["ask", "--demo-era", "0.3", "--max-tokens", "5", "What is a socket?"]
    result = await invoke(argv)
    assert result.code == 0, result.err
    assert result.out.startswith("## ")
    assert "stop: length" in result.err  # protocol v1's word
