"""The request preview says exactly what the next request writes on each wire."""

from __future__ import annotations

import json

from inferd_tui.conversation import AttachmentRef, Conversation
from inferd_tui.proto import SamplingParams, encode_request
from inferd_tui.proto.chat import ChatMessage, ChatRequest, ImageAttachment
from inferd_tui.proto.lp import encode_json_frame, json_payload
from inferd_tui.proto.preview import request_preview
from inferd_tui.proto.v2_wire import encode_lp_request, request_dict
from inferd_tui.request_options import RequestOptions

HI = ChatRequest(
    id="r1", messages=(ChatMessage.text("user", "hi"),), sampling=SamplingParams(max_tokens=4)
)
#: protocol-v2.md §10's text request payload: 112 bytes, prefix 70 01.
VECTOR = (
    '{"wire_version":1,"id":"r1","messages":[{"role":"user","content":'
    '[{"type":"text","text":"hi"}]}],"max_tokens":4}'
)


def test_the_length_prefixed_preview_is_the_frame_with_its_length_and_prefix() -> None:
    preview = request_preview(HI, "v2")
    assert preview.splitlines() == ["LP frame: 112 bytes (70 01)", VECTOR]
    # The same bytes as what is sent.
    assert encode_lp_request(HI) == [b"\x70\x01" + VECTOR.encode()]


def test_each_attachment_blob_gets_a_line_with_its_length() -> None:
    image = ImageAttachment(id="img-1", width=256, height=256, data=bytes(196_608))
    request = HI.model_copy(update={"attachments": (image,)})
    lines = request_preview(request, "v2").splitlines()
    frame = encode_json_frame(request_dict(request, length_prefixed=True))
    size = len(json_payload(request_dict(request, length_prefixed=True)))
    prefix = frame[: len(frame) - size].hex(" ").upper()
    assert lines[0] == f"LP frame: {size:,} bytes ({prefix})"
    assert json.loads(lines[1])["attachments"] == [
        {"kind": "image", "id": "img-1", "width": 256, "height": 256}
    ]
    assert lines[2:] == ["+ BLOB img-1: 196,608 bytes"]


def test_a_long_frame_shows_its_multi_byte_prefix() -> None:
    request = HI.model_copy(update={"messages": (ChatMessage.text("user", "x" * 300),)})
    first = request_preview(request, "v2").splitlines()[0]
    assert first.startswith("LP frame: 410 bytes (9A 03 01)")


def test_the_v2_ndjson_preview_elides_inline_bytes_to_their_length() -> None:
    image = ImageAttachment(id="img-1", width=2, height=2)
    request = HI.model_copy(update={"attachments": (image,)})
    line = request_preview(request, "v2-ndjson", blob_sizes={"img-1": 12})
    assert "\n" not in line
    body = json.loads(line)
    assert "wire_version" not in body
    assert body["attachments"] == [
        {"kind": "image", "id": "img-1", "width": 2, "height": 2, "bytes": "<12 bytes>"}
    ]


def test_the_v1_preview_is_the_line_v1_sends() -> None:
    conversation = Conversation(system_prompt="Be brief.")
    conversation.add_user("hello")
    options = RequestOptions(sampling=SamplingParams(temperature=0.5), grammar='root ::= "x"')
    request = conversation.to_chat_request(options, request_id="<id>")
    old = conversation.to_request(options.sampling, grammar=options.grammar, request_id="<id>")
    assert request_preview(request, "v1") == encode_request(old).decode().rstrip("\n")


def test_preview_sizes_come_from_the_attachment_refs_when_no_bytes_are_loaded() -> None:
    conversation = Conversation()
    ref = AttachmentRef(kind="image", name="cat.png", sha256="ab" * 32, size=196_608)
    conversation.add_user("what is this?").attachments = [ref]
    request = conversation.to_chat_request(RequestOptions(), request_id="<id>")
    preview = request_preview(request, "v2", blob_sizes={"img-1": ref.size})
    assert preview.splitlines()[-1] == "+ BLOB img-1: 196,608 bytes"
