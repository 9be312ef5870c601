"""``inferd-tui embed``: one vector per text, one JSON array of floats per line on stdout.

Texts are the arguments (one text each) or, with none, the lines of stdin (blank lines
skipped, so line ``n`` of the output is the ``n``-th non-blank input line). ``--json``
prints the daemon's whole answer instead, as one JSON object. A one-line summary goes to
stderr. The socket: ``--embed-socket``, else ``endpoint.embed_socket`` in the config, else
``infer.embed.sock`` beside the inference socket.

Exit status: 0 done; 2 no embed socket (the daemon needs ``--embed``), a usage error, or
``embed_unsupported``; 3 an invalid request (an empty text given as an argument, or what
the daemon calls ``invalid_request``, e.g. a ``--dimensions`` the model lacks); 4 any
other daemon error or a connection closed early; 5 ``queue_full`` after retries.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import anyio

from inferd_tui.client import EmbedClient, EmbedResult
from inferd_tui.headless._console import EXIT_DAEMON_ERROR, EXIT_OK, Console, demo_daemon, safe
from inferd_tui.headless._surface import Refused, Sleep, read_lines, with_retries
from inferd_tui.runtime import Runtime

PROG = "embed"


async def main(args: argparse.Namespace, runtime: Runtime, console: Console) -> int:
    texts: list[str] = list(args.text or ())
    if not texts:
        try:
            texts = read_lines(console, PROG, "texts")
        except Refused as refused:
            return refused.code
    override = None if runtime.demo is not None else runtime.loaded.settings.endpoint.embed_socket
    client = EmbedClient.from_resolution(runtime.resolution, socket=override)
    async with demo_daemon(runtime, boot="instant", embed=True), client:
        return await embed(
            client,
            texts,
            console,
            dimensions=args.dimensions,
            task=args.task,
            as_json=args.json,
        )


async def embed(
    client: EmbedClient,
    texts: Sequence[str],
    console: Console,
    *,
    dimensions: int | None = None,
    task: str | None = None,
    as_json: bool = False,
    queue_full_delays: Sequence[float] | None = None,
    sleep: Sleep = anyio.sleep,
) -> int:
    try:
        result = await with_retries(
            lambda: client.embed(texts, dimensions=dimensions, task=task),
            console,
            PROG,
            delays=queue_full_delays,
            sleep=sleep,
        )
    except Refused as refused:
        return refused.code
    if len(result.embeddings) != len(texts):  # nothing printed: lines would not line up
        console.note(
            f"{PROG}: the daemon answered {len(result.embeddings)} vectors for "
            f"{len(texts)} texts; not printed"
        )
        return EXIT_DAEMON_ERROR
    if as_json:
        console.json(result.raw)
    else:
        for vector in result.embeddings:
            console.json(vector)
    console.note(_summary(result))
    return EXIT_OK


def _summary(result: EmbedResult) -> str:
    count = len(result.embeddings)
    parts = [
        f"{count} vector{'s' * (count != 1)} of {result.dimensions} dimensions",
        f"model: {safe(result.model)}",
        f"{result.input_tokens} input tokens",
    ]
    if result.backend:
        parts.append(f"backend: {safe(result.backend)}")
    return "-- " + " · ".join(parts) + " --"
