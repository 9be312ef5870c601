"""Helper process for the failure tests.

`open_probe.py PATH` opens the store at PATH with the in-memory fallback, checks the
fallback works, and prints the outcome as JSON. `open_probe.py PATH --hold` opens the store,
saves a conversation, prints "ready" and keeps the file until stdin closes (another instance).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from inferd_tui.store import Store, open_store_or_memory


def probe(path: Path) -> dict[str, object]:
    store, reason = open_store_or_memory(path, busy_timeout_s=0)
    titles_before = [c.title for c in store.list_conversations()]
    conversation = store.create_conversation("still works")
    store.add_turn(conversation.id, "user", "hello in memory")
    return {
        "kind": None if reason is None else reason.kind,
        "title": None if reason is None else reason.title,
        "detail": None if reason is None else reason.detail,
        "in_memory": store.in_memory,
        "degraded_is_reason": store.degraded is reason,
        "search_works": len(store.search("hello")) == 1,
        "titles_before": titles_before,
    }


def hold(path: Path) -> None:
    with Store.open(path) as store:
        store.create_conversation("held by the first instance")
        print("ready", flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    if "--hold" in sys.argv:
        hold(Path(sys.argv[1]))
    else:
        print(json.dumps(probe(Path(sys.argv[1]))))
