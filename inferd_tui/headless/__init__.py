"""Headless commands for servers and scripts: ``status``, ``watch``, ``ask``, ``doctor``,
``embed``, ``rerank``.

Plain output and exit codes a script can trust; no Textual, no Rich. Registration is
argparse glue only: each command's module (and anyio) is imported when it runs.

Exit codes shared by the commands: 0 success/ready; 1 not ready (status) or a failed
check (doctor); 2 unreachable, a usage error, or a daemon without protocol v1;
3 invalid request; 4 daemon error; 5 queue full after retries; 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from inferd_tui.cli import add_endpoint_arguments

#: ``embed --task`` choices, spelled out so registration needs no import of the wire
#: models (a test checks them against ``proto.embed_rerank.EMBED_TASKS``).
EMBED_TASK_CHOICES = (
    "retrieval_query",
    "retrieval_document",
    "similarity",
    "classification",
    "clustering",
    "question_answering",
    "fact_verification",
    "code_retrieval_query",
)

# The shared endpoint flags are also accepted before the subcommand; argparse copies a
# subparser's defaults over the top-level values, so here they default to "not given".
_ENDPOINT_DESTS = frozenset({"socket", "tcp", "admin", "api_key_env", "config", "demo"})


class _AppendAttachment(argparse.Action):
    """``--image``/``--audio`` into one list of ``(kind, path)``, so their order is kept."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        kind = "image" if option_string == "--image" else "audio"
        items = list(getattr(namespace, self.dest, None) or [])
        items.append((kind, values))
        setattr(namespace, self.dest, items)


def _endpoint_flags(parser: argparse.ArgumentParser) -> None:
    add_endpoint_arguments(parser)
    for action in parser._actions:
        if action.dest in _ENDPOINT_DESTS:
            action.default = argparse.SUPPRESS


def _runner(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        from inferd_tui.headless._console import run_command

        module = importlib.import_module(f"inferd_tui.headless.{name}")
        return run_command(args, module.main, prog=f"inferd-tui {name}")

    return run


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    status = subparsers.add_parser(
        "status",
        help="print the daemon's state in one line; exit 0 ready, 1 not ready, 2 unreachable",
        description=(
            "Read the admin socket's snapshot and print the daemon's state. Exit 0 when "
            "ready (or when only the inference socket answers: that is the ready signal), "
            "1 when not ready, 2 when unreachable or a daemon 0.4+ without protocol v1."
        ),
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    _endpoint_flags(status)
    status.set_defaults(func=_runner("status"))

    watch = subparsers.add_parser(
        "watch",
        help="print every admin event as a timestamped line (or NDJSON)",
        description=(
            "Follow the admin socket. Exit 0 after `draining` and EOF, 2 on any other EOF; "
            "with --follow, reconnect with backoff and keep going (gaps are printed)."
        ),
    )
    watch.add_argument(
        "--json", action="store_true", help="NDJSON: each event as sent, plus received_at"
    )
    watch.add_argument(
        "--follow", action="store_true", help="reconnect after EOF and keep going (Ctrl-C ends)"
    )
    _endpoint_flags(watch)
    watch.set_defaults(func=_runner("watch"))

    ask = subparsers.add_parser(
        "ask",
        help="ask one question; the answer streams to stdout",
        description=(
            "Send one prompt and stream the answer to stdout (usage and stop reason to "
            "stderr). PROMPT '-', or no PROMPT with stdin not a terminal, reads stdin. "
            "Exit 0 done, 2 unreachable, 3 invalid request, 4 daemon error, 5 queue full "
            "after retries, 130 Ctrl-C."
        ),
    )
    ask.add_argument("prompt", nargs="*", metavar="PROMPT", help="the question ('-' for stdin)")
    ask.add_argument("--system", metavar="TEXT", help="system prompt (default: from config)")
    ask.add_argument("--temperature", type=float, metavar="F")
    ask.add_argument("--top-p", type=float, metavar="F")
    ask.add_argument("--top-k", type=int, metavar="N")
    ask.add_argument("--max-tokens", type=int, metavar="N")
    ask.add_argument(
        "--image-token-budget", type=int, metavar="N", help="one of 70, 140, 280, 560, 1120"
    )
    ask.add_argument("--grammar", metavar="FILE", help="GBNF grammar (v1 daemons; checked first)")
    ask.add_argument(
        "--image",
        metavar="PATH",
        action=_AppendAttachment,
        dest="attachments",
        help="attach an image (PNG, JPEG, WebP, GIF); repeatable, kept in order",
    )
    ask.add_argument(
        "--audio",
        metavar="PATH",
        action=_AppendAttachment,
        dest="attachments",
        help="attach audio (WAV, FLAC, OGG); repeatable, kept in order with --image",
    )
    ask.add_argument(
        "--schema", metavar="FILE", help="JSON schema the answer must match (inferd 0.5+)"
    )
    ask.add_argument(
        "--thinking", action="store_true", help="ask the model to think first (inferd 0.5.1+)"
    )
    ask.add_argument(
        "--no-thinking-output",
        action="store_true",
        help="drop thinking instead of printing it (dimmed) on stderr",
    )
    ask.add_argument(
        "--tools", metavar="FILE", help='JSON array of {"name","description","input_schema"}'
    )
    ask.add_argument(
        "--tool-choice",
        choices=("auto", "required", "none"),
        help="whether the model must call a tool (inferd 0.8+; needs --tools)",
    )
    ask.add_argument("--json", action="store_true", help="print every response frame as NDJSON")
    ask.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="how long to wait for a loading daemon (default: ready_timeout_s, 30)",
    )
    _endpoint_flags(ask)
    ask.set_defaults(func=_runner("ask"))

    doctor = subparsers.add_parser(
        "doctor",
        help="check endpoints, sockets, permissions, the daemon and a one-token round trip",
        description=(
            "A punch list of [ ok ]/[warn]/[FAIL] lines with a hint under each failure. "
            "Exit 0 when nothing failed, 1 otherwise."
        ),
    )
    _endpoint_flags(doctor)
    doctor.set_defaults(func=_runner("doctor"))

    # --- embed and rerank (protocol-v2 §8) ---------------------------------------------
    embed = subparsers.add_parser(
        "embed",
        help="embed texts; one JSON array of floats per line on stdout",
        description=(
            "Embed each TEXT argument, or with none each line of stdin (blank lines are "
            "skipped: output line n is the n-th non-blank input line), on the daemon's "
            "infer.embed.sock (inferd 0.2+ started with --embed). Prints one JSON array of "
            "floats per line, or with --json the daemon's whole answer. Exit 0 done, "
            "2 no embed socket or usage error, 3 invalid request, 4 daemon error, "
            "5 queue full after retries."
        ),
    )
    embed.add_argument("text", nargs="*", metavar="TEXT", help="a text to embed (one each)")
    embed.add_argument(
        "--dimensions", type=int, metavar="N", help="vector length (models support a set)"
    )
    embed.add_argument("--task", choices=EMBED_TASK_CHOICES, help="task hint for the model")
    embed.add_argument("--json", action="store_true", help="print the daemon's whole answer")
    embed.add_argument(
        "--embed-socket",
        metavar="PATH",
        help="embed socket (default: infer.embed.sock beside the inference socket)",
    )
    _endpoint_flags(embed)
    embed.set_defaults(func=_runner("embed"))

    rerank = subparsers.add_parser(
        "rerank",
        help="rank stdin's lines against QUERY; score<TAB>index<TAB>document, best first",
        description=(
            "Score each line of stdin (a document; blank lines are skipped and not "
            "counted in index) against QUERY on the daemon's infer.rerank.sock (inferd "
            "0.6.2+ started with --rerank), and print score<TAB>index<TAB>document by "
            "descending score, or with --json the daemon's whole answer. At most 256 "
            "documents and 8 MiB of text. Exit codes as embed."
        ),
    )
    rerank.add_argument("query", nargs="+", metavar="QUERY", help="what to rank the documents by")
    rerank.add_argument("--top-n", type=int, metavar="N", help="print only the N best")
    rerank.add_argument("--json", action="store_true", help="print the daemon's whole answer")
    rerank.add_argument(
        "--rerank-socket",
        metavar="PATH",
        help="rerank socket (default: infer.rerank.sock beside the inference socket)",
    )
    _endpoint_flags(rerank)
    rerank.set_defaults(func=_runner("rerank"))
