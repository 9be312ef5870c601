"""Attachments kept in the store reach the stand-in daemon byte for byte: exactly the RGB
Pillow decodes, and exactly the same bytes again on a regenerate and after reopening."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from PIL import Image

from inferd_tui.attaching import attachment_loader, prepare_pending
from inferd_tui.client import Client, resolve_endpoints
from inferd_tui.client.wire import choose_wire
from inferd_tui.conversation import Conversation
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.proto.chat import Finished, TextDelta
from inferd_tui.request_options import RequestOptions
from inferd_tui.store import Store

pytestmark = pytest.mark.anyio


def gradient_png(path: Path, width: int = 40, height: int = 30) -> Path:
    image = Image.new("RGB", (width, height))
    image.putdata([(x * 6, y * 8, 200) for y in range(height) for x in range(width)])
    image.save(path)
    return path


async def answer(client: Client, conversation: Conversation, store: Store) -> str:
    request = conversation.to_chat_request(
        RequestOptions(),
        request_id=client.new_request_id(),
        load_attachment=attachment_loader(store),
    )
    assert [p for p in client.check(request) if p.severity == "error"] == []
    text = ""
    async for event in client.chat(request):
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, Finished):
            break
    return text


async def test_the_stand_in_receives_pillows_rgb_again_and_again(short_tmp: Path) -> None:
    picture = gradient_png(short_tmp / "gradient.png")
    expected = Image.open(picture).convert("RGB").tobytes()
    config = MockConfig(
        socket_path=short_tmp / "inferd.sock",
        admin_path=short_tmp / "admin.sock",
        era="0.8",
        backend="demo",
        demo_tokens_per_s=1e6,
    )
    db = short_tmp / "data" / "db.sqlite3"
    async with MockDaemon.start(config) as daemon:
        await daemon.wait_ready()
        resolution = resolve_endpoints(
            socket=short_tmp / "infer.sock", admin=short_tmp / "admin.sock", env={}
        )
        choice = await choose_wire(resolution)
        with Store.open(db) as store:
            item = prepare_pending(picture, max_side=2048, audio_rate=16_000)
            sha = store.blobs.put(item.data)
            conversation = Conversation()
            conversation.add_user("what colour?").attachments = [item.to_ref(sha)]
            async with Client.from_resolution(resolution, choice=choice) as client:
                first = await answer(client, conversation, store)
                assert "40×30 pixels (3,600 bytes of RGB arrived)" in first
                request = daemon.last_v2_request
                assert request is not None
                assert request.attachments[0].data == expected
                # Regenerate: the same bytes, read back from the store.
                await answer(client, conversation, store)
                assert daemon.last_v2_request.attachments[0].data == expected
        # Reopen: a new store on the same file sends them again.
        with Store.open(db) as reopened:
            async with Client.from_resolution(resolution, choice=choice) as client:
                again = await answer(client, conversation, reopened)
        assert again == first
        assert daemon.last_v2_request.attachments[0].data == expected
        with anyio.fail_after(5):
            await daemon.wait_until(lambda d: d.open_connections == 0)
