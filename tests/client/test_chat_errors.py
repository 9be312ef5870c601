"""§6's error rows a client can meet, against the stand-in on the length-prefixed wire:
each error is the daemon's own words in the error tree, and where the daemon keeps the
connection open the next request succeeds on that same connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from inferd_tui.client import Client, Endpoint
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.proto import DaemonError
from inferd_tui.proto.capability import DaemonProfile
from inferd_tui.proto.chat import (
    AudioAttachment,
    AudioBlock,
    ChatMessage,
    ChatRequest,
    Finished,
    TextBlock,
)
from inferd_tui.proto.eras import EraRange

pytestmark = pytest.mark.anyio

HI = ChatRequest(messages=(ChatMessage.text("user", "hi"),))


@asynccontextmanager
async def lp_daemon(directory: Path, **changes: object) -> AsyncIterator[tuple[MockDaemon, Client]]:
    config = MockConfig(
        socket_path=directory / "inferd.sock",
        admin_path=directory / "admin.sock",
        era=changes.pop("era", "0.8"),  # type: ignore[arg-type]
        **changes,  # type: ignore[arg-type]
    )
    async with MockDaemon.start(config) as daemon:
        await daemon.wait_ready()
        # The client knows only "0.4 or later", as from the admin socket.
        profile = DaemonProfile("v2", EraRange("0.4", "0.8"))
        async with Client(Endpoint.unix(directory / "inferd.sock"), profile=profile) as client:
            yield daemon, client
        with anyio.fail_after(5):
            await daemon.wait_until(lambda d: d.open_connections == 0)


async def test_queue_full_keeps_the_connection(short_tmp: Path) -> None:
    async with lp_daemon(short_tmp, backend="demo", queue_depth=0, demo_tokens_per_s=20) as (
        daemon,
        client,
    ):
        other = Client(Endpoint.unix(short_tmp / "inferd.sock"), profile=client.profile)
        async with anyio.create_task_group() as group:
            group.start_soon(client.complete_chat, HI)
            await daemon.wait_until(lambda d: d.active_generations == 1)
            with pytest.raises(DaemonError) as caught:
                await other.complete_chat(HI)
            assert (caught.value.code, caught.value.message) == ("queue_full", "queue full")
            await daemon.wait_until(lambda d: d.active_generations == 0)
            _, done = await other.complete_chat(HI)  # same connection, now admitted
            assert isinstance(done, Finished)
        await other.aclose()
        assert daemon.connections_accepted == 2


async def test_backend_unavailable_keeps_the_connection(short_tmp: Path) -> None:
    refusal = ("backend_unavailable", "no backend available")
    async with lp_daemon(short_tmp, error_before_stream=refusal) as (daemon, client):
        with pytest.raises(DaemonError, match="no backend available"):
            await client.complete_chat(HI)
        assert client.connected
        with pytest.raises(DaemonError):
            await client.complete_chat(HI)
        assert daemon.connections_accepted == 1


async def test_a_stream_cut_mid_answer_keeps_the_connection(short_tmp: Path) -> None:
    async with lp_daemon(short_tmp, tokens=("a", "b", "c"), drop_after=1) as (daemon, client):
        with pytest.raises(DaemonError) as caught:
            await client.complete_chat(HI)
        assert caught.value.code == "backend_unavailable"
        assert caught.value.partial_text == "a"
        assert "backend ended stream without terminal frame" in caught.value.message
        assert client.connected
        assert daemon.connections_accepted == 1


async def test_a_render_refusal_keeps_the_connection_and_the_next_request_succeeds(
    short_tmp: Path,
) -> None:
    """Audio at a rate the backend does not take: the daemon does not resample (§3)."""
    clip = AudioAttachment(id="aud-1", sample_rate=8_000, data=b"\x00" * 16)
    request = ChatRequest(
        messages=(
            ChatMessage(
                role="user", content=(TextBlock(text="x"), AudioBlock(attachment_id="aud-1"))
            ),
        ),
        attachments=(clip,),
    )
    async with lp_daemon(short_tmp, audio=True, audio_sample_rate=16_000) as (daemon, client):
        with pytest.raises(DaemonError) as caught:
            await client.complete_chat(request)
        assert caught.value.code in {"invalid_request", "attachment_unsupported"}
        assert client.connected
        _, done = await client.complete_chat(HI)
        assert done.stop_reason == "end_turn"
        assert daemon.connections_accepted == 1


async def test_unsupported_field_to_a_known_04_is_refused_locally(short_tmp: Path) -> None:
    async with lp_daemon(short_tmp, era="0.4") as (daemon, client):
        client.profile = DaemonProfile("v2", EraRange.exactly("0.4"))
        from inferd_tui.proto.errors import UnsupportedByDaemon

        with pytest.raises(UnsupportedByDaemon, match=r"inferd 0\.5 or later"):
            await client.complete_chat(
                HI.model_copy(update={"response_schema": {"type": "object"}})
            )
        assert daemon.requests_seen == 0
