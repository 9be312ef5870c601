"""The request preview: exactly what the next request writes on the daemon's wire. Pure.

- protocol v1: the NDJSON line (protocol-v1.md §3);
- v2 NDJSON (0.2–0.3): the line, with each attachment's inline base64 elided to its
  byte count (a screenful of base64 says nothing);
- length-prefixed v2 (0.4+): the request frame's JSON with its payload length and prefix
  bytes (``LP frame: 112 bytes (70 01)``), then one line per attachment BLOB.

The payloads are the encoders' own bytes (:mod:`inferd_tui.proto.v2_wire`,
:mod:`inferd_tui.proto.lp`), so the preview cannot drift from what is sent. The preview's
attachments usually carry no bytes: ``blob_sizes`` gives each one's length by id.
"""

from __future__ import annotations

from collections.abc import Mapping

from inferd_tui.proto.chat import ChatRequest
from inferd_tui.proto.eras import Wire
from inferd_tui.proto.framing import encode_line, encode_request
from inferd_tui.proto.lp import JSON_FRAME, encode_uvarint, json_payload
from inferd_tui.proto.v1_wire import to_v1_request
from inferd_tui.proto.v2_wire import request_dict


def request_preview(
    request: ChatRequest, wire: Wire, *, blob_sizes: Mapping[str, int] | None = None
) -> str:
    """What ``request`` writes on ``wire``, as text for a person to read (see module doc)."""
    sizes = dict(blob_sizes or {})
    for attachment in request.attachments:
        if attachment.data or attachment.id not in sizes:
            sizes[attachment.id] = len(attachment.data)
    if wire == "v1":
        return encode_request(to_v1_request(request)).decode("utf-8").rstrip("\n")
    if wire == "v2-ndjson":
        body = request_dict(request, length_prefixed=False)
        if request.attachments:
            body["attachments"] = [
                {**attachment.descriptor(), "bytes": f"<{sizes[attachment.id]:,} bytes>"}
                for attachment in request.attachments
            ]
        return encode_line(body).decode("utf-8").rstrip("\n")
    payload = json_payload(request_dict(request, length_prefixed=True))
    prefix = encode_uvarint(len(payload)) + bytes((JSON_FRAME,))
    lines = [
        f"LP frame: {len(payload):,} bytes ({prefix.hex(' ').upper()})",
        payload.decode("utf-8"),
    ]
    lines.extend(
        f"+ BLOB {attachment.id}: {sizes[attachment.id]:,} bytes"
        for attachment in request.attachments
    )
    return "\n".join(lines)
