"""A protocol-faithful stand-in for an inferd daemon of any release (tests, ``--demo``).

``MockConfig.era`` picks the release played (protocol-v2.md §1): up to 0.3 the generation
socket speaks v1 NDJSON (and, with ``v2_ndjson``, v2 NDJSON on ``infer.v2.sock`` beside
it); from 0.4 it speaks only the length-prefixed v2 wire, with BLOB attachments, every
error path of §6 and the fields of its release (:mod:`.v2_server`,
:mod:`inferd_tui.proto.v2_request`). Admin capabilities carry the era's keys. On v2 the
mock backend streams ``text`` deltas (or a ``tape`` of blocks) and the demo backend shows
thinking, tool calls, structured output and attachment analysis (:mod:`.demo_v2`). The
rest of this note describes what every era shares, in v1's words.

anyio only; never imports Textual or Rich. In-process::

    async with MockDaemon.start(MockConfig(tokens=("alpha ", "beta "))) as daemon:
        await daemon.wait_ready()
        ...  # dial daemon.socket_path; watch daemon.admin_path

As a process: ``inferd-tui mock-daemon --help``.

What it does (protocol-v1.md §10): the admin socket is bound first with a ``starting``
snapshot, then the boot script runs (``instant``: checking_local ``(mock)`` →
capabilities → ready; ``first-boot``: checking_local → download with progress → verify →
mmap → kv_cache → capabilities → ready). The inference socket (mode 0660; admin 0600) is
bound only after ``ready`` (+ ``bind_delay_s``); stale socket files are replaced. Each
connection is strictly sequential; decode errors get ``id:""`` and a close, validation
errors keep the connection; lines over 64 MiB get ``frame_too_large`` and a close. One
daemon-wide pool (``active_permits`` running + ``queue_depth`` waiting) answers
``queue_full`` beyond it. Closing the connection cancels the generation (no terminal
frame) and frees its permit. Optional loopback TCP with an API key (silent close on a
wrong key). Admin clients more than ``lag_limit`` events behind are dropped. Shutdown
publishes ``draining`` then EOF.

Backends (v1):

- ``mock``: the real daemon's mock tape — each configured token as one ``token`` frame,
  then ``done`` (``backend:"mock"``, ``prompt_tokens:0``); ``error_before_stream`` and
  ``drop_after`` as in §10.
- ``demo``: a Markdown answer derived from the last user message (heading, paragraph,
  list, fenced code block, table), word-sized tokens at ~60 tokens/s, deterministic per
  prompt; ``max_tokens`` gives ``stop_reason:"length"``. With a ``grammar`` the answer is
  sampled from it (``inferd_tui.grammar``); a grammar that does not check gets
  ``invalid_request`` "failed to parse grammar" (connection kept). Triggers in the prompt:
  the word **crash** drops the stream halfway (``backend_unavailable`` "backend ended
  stream without terminal frame"); the word **busy** answers ``queue_full`` at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inferd_tui._lazy import lazy_exports

if TYPE_CHECKING:
    from inferd_tui.mock_daemon.config import MockConfig
    from inferd_tui.mock_daemon.daemon import MockDaemon

__all__ = ["MockConfig", "MockDaemon"]

# Imported on first use (see inferd_tui._lazy): `inferd-tui` imports this package to
# register the `mock-daemon` subcommand and `--demo` needs only MockConfig before the first
# frame; the daemon (and the client, anyio, the grammar sampler it pulls in) loads when it
# starts.
if not TYPE_CHECKING:  # a misspelt name stays an error for type checkers
    __getattr__, __dir__ = lazy_exports(__name__)
