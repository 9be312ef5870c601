"""Helper process for the crash test: streams into a turn, checkpointing, until killed.

Prints "<turn id> <chunks so far>" after each checkpoint has been committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from inferd_tui.store import Store


def chunk(number: int) -> str:
    return f"word{number} "


def main() -> None:
    store = Store.open(Path(sys.argv[1]))
    conversation = store.create_conversation("crash")
    store.add_turn(conversation.id, "user", "Tell me a long story")
    turn = store.add_turn(
        conversation.id, "assistant", "", state="streaming", request_params={"temperature": 0.9}
    )
    text = ""
    number = 0
    while True:
        text += chunk(number)
        number += 1
        store.checkpoint_turn(turn.id, text)
        print(turn.id, number, flush=True)


if __name__ == "__main__":
    main()
