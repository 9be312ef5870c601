"""Killing the app with SIGKILL mid-answer loses nothing past the last checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from inferd_tui.store import Store

WRITER = Path(__file__).with_name("crash_writer.py")


def checkpoint_text(chunks: int) -> str:
    return "".join(f"word{number} " for number in range(chunks))


def test_sigkill_mid_stream_keeps_the_last_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    try:
        # Each line is printed after its checkpoint committed: wait for a few, then kill
        # while the writer is still checkpointing as fast as it can.
        for line in writer.stdout:
            turn_id, chunks_on_disk = map(int, line.split())
            if chunks_on_disk >= 25:
                break
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL

    with Store.open(path) as store:
        turn = store.get_turn(turn_id)
        assert turn.state == "interrupted"
        assert turn.request_params == {"temperature": 0.9}
        # At least everything confirmed before the kill, and exactly some checkpoint.
        assert turn.content.startswith(checkpoint_text(chunks_on_disk))
        assert turn.content == checkpoint_text(turn.content.count(" "))
        assert [t.role for t in store.turns(turn.conversation_id)] == ["user", "assistant"]
        assert store.search("word3")[0].turn_id == turn_id
