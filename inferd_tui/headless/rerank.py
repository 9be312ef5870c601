"""``inferd-tui rerank QUERY``: documents from stdin, best first, ``score<TAB>index<TAB>document``.

Documents are the lines of stdin; blank lines are skipped, and ``index`` counts the
documents sent (from 0), so it is the position among the non-blank lines. ``--top-n N``
keeps the best N; ``--json`` prints the daemon's whole answer instead, as one JSON
object. A one-line summary goes to stderr. The socket: ``--rerank-socket``, else
``endpoint.rerank_socket`` in the config, else ``infer.rerank.sock`` beside the inference
socket. On a terminal, control characters in documents are made visible.

Exit status as ``embed``: 0 done; 2 no rerank socket (the daemon needs ``--rerank``, 0.6.2+),
a usage error, or ``rerank_unsupported``; 3 an invalid request (over 256 documents or
8 MiB, ``--top-n 0``, or the daemon's ``invalid_request``); 4 any other daemon error;
5 ``queue_full`` after retries.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import anyio

from inferd_tui.client import RerankClient, RerankResult
from inferd_tui.headless._console import EXIT_DAEMON_ERROR, EXIT_OK, Console, demo_daemon, safe
from inferd_tui.headless._surface import Refused, Sleep, read_lines, with_retries
from inferd_tui.proto.eras import features
from inferd_tui.runtime import Runtime
from inferd_tui.text_safety import sanitize

PROG = "rerank"


async def main(args: argparse.Namespace, runtime: Runtime, console: Console) -> int:
    query = " ".join(args.query)
    try:
        documents = read_lines(console, PROG, "documents")
    except Refused as refused:
        return refused.code
    override = None if runtime.demo is not None else runtime.loaded.settings.endpoint.rerank_socket
    demo_changes: dict[str, Any] = {"boot": "instant", "rerank": True}
    if runtime.demo is not None and not features(runtime.demo.era).rerank:
        demo_changes["era"] = "0.8"  # the demo plays a release that has rerank
    client = RerankClient.from_resolution(runtime.resolution, socket=override)
    async with demo_daemon(runtime, **demo_changes), client:
        return await rerank(client, query, documents, console, top_n=args.top_n, as_json=args.json)


async def rerank(
    client: RerankClient,
    query: str,
    documents: Sequence[str],
    console: Console,
    *,
    top_n: int | None = None,
    as_json: bool = False,
    queue_full_delays: Sequence[float] | None = None,
    sleep: Sleep = anyio.sleep,
) -> int:
    try:
        result = await with_retries(
            lambda: client.rerank(query, documents, top_n=top_n),
            console,
            PROG,
            delays=queue_full_delays,
            sleep=sleep,
        )
    except Refused as refused:
        return refused.code
    stray = [score.index for score in result.results if score.index >= len(documents)]
    if stray:
        console.note(
            f"{PROG}: the daemon scored document {stray[0]}, but only {len(documents)} "
            "were sent; not printed"
        )
        return EXIT_DAEMON_ERROR
    if as_json:
        console.json(result.raw)
    else:
        show = sanitize if console.out_tty else (lambda text: text)
        for scored in result.results:
            console.line(f"{scored.score!r}\t{scored.index}\t{show(documents[scored.index])}")
    console.note(_summary(result, len(documents)))
    return EXIT_OK


def _summary(result: RerankResult, sent: int) -> str:
    parts = [
        f"{len(result.results)} of {sent} documents",
        f"model: {safe(result.model)}",
        f"{result.input_tokens} input tokens",
    ]
    if result.backend:
        parts.append(f"backend: {safe(result.backend)}")
    return "-- " + " · ".join(parts) + " --"
