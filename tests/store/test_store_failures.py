"""A locked, read-only, full or corrupt database: a clear message, a working in-memory
store, and the file left intact."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inferd_tui.store import Store, StoreUnavailable, open_store_or_memory

PROBE = Path(__file__).with_name("open_probe.py")
NOBODY = 65534


def probe_command() -> list[str]:
    """Run the probe so file permissions apply even when the tests run as root.

    Root ignores permission bits; in a fresh user namespace it keeps its uid (so it still
    owns the files) but loses the capability to override their mode.
    """
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root without unshare(1): permissions can't be enforced")
    return [unshare, "--user"]


def run_probe(path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [*probe_command(), sys.executable, str(PROBE), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout))


def assert_reported(outcome: dict[str, Any], kind: str, path: Path) -> None:
    assert outcome["kind"] == kind
    assert outcome["title"]
    assert str(path) in outcome["detail"]
    assert "memory" in outcome["detail"]
    assert outcome["in_memory"]
    assert outcome["degraded_is_reason"]
    assert outcome["search_works"]


def saved_titles(path: Path) -> list[str]:
    with Store.open(path) as store:
        return [c.title for c in store.list_conversations()]


def integrity(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def restore_permissions(tmp_path: Path) -> Iterator[None]:
    yield
    for item in [tmp_path, *tmp_path.rglob("*")]:
        item.chmod(0o755 if item.is_dir() else 0o644)


def test_locked_by_another_instance(tmp_path: Path) -> None:
    path = tmp_path / "inferd-tui.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, str(PROBE), str(path), "--hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline() == "ready\n"
        outcome = run_probe(path)
        store, reason = open_store_or_memory(path, busy_timeout_s=0)
        with store:
            assert reason is not None
            assert reason.kind == "locked"
            assert "another inferd-tui" in reason.detail
            assert str(path) in reason.detail
            assert store.degraded is reason
            store.create_conversation("kept in memory")
            assert [c.title for c in store.list_conversations()] == ["kept in memory"]
        assert_reported(outcome, "locked", path)
    finally:
        holder.stdin.close()
        holder.wait()
        holder.stdout.close()
    assert saved_titles(path) == ["held by the first instance"]


@pytest.mark.usefixtures("restore_permissions")
def test_read_only_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o555)
    path = data_dir / "inferd-tui.sqlite3"
    assert_reported(run_probe(path), "read-only", path)
    assert not path.exists()


@pytest.mark.usefixtures("restore_permissions")
def test_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "inferd-tui.sqlite3"
    with Store.open(path) as store:
        store.create_conversation("precious")
    path.chmod(0o444)
    tmp_path.chmod(0o555)
    before = path.read_bytes()
    outcome = run_probe(path)
    assert_reported(outcome, "read-only", path)
    assert outcome["titles_before"] == ["precious"]  # readable, so still shown
    assert path.read_bytes() == before
    tmp_path.chmod(0o755)
    path.chmod(0o644)
    assert saved_titles(path) == ["precious"]


def test_missing_parent_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    path = blocker / "inferd-tui.sqlite3"
    store, reason = open_store_or_memory(path)
    with store:
        assert reason is not None
        assert reason.kind == "read-only"
        assert str(path) in reason.detail
        store.create_conversation("fine")


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a database at all " * 200,
        b"SQLite format 3\x00" + b"\xff" * 4080,
    ],
    ids=["garbage", "damaged-header"],
)
def test_corrupt_file_is_left_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "inferd-tui.sqlite3"
    path.write_bytes(content)
    store, reason = open_store_or_memory(path)
    with store:
        assert reason is not None
        assert reason.kind == "corrupt"
        assert str(path) in reason.detail
        assert "Move the file aside" in reason.detail
        conversation = store.create_conversation("fresh")
        store.add_turn(conversation.id, "user", "still searchable")
        assert len(store.search("searchable")) == 1
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inferd-tui.sqlite3"]


def test_truncated_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "inferd-tui.sqlite3"
    with Store.open(path) as store:
        conversation = store.create_conversation("big")
        for number in range(200):
            store.add_turn(conversation.id, "user", f"turn {number} " * 50)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 3])
    damaged = path.read_bytes()
    store, reason = open_store_or_memory(path)
    with store:
        # Opening may succeed (the header is fine); reading the damaged pages must not crash.
        if reason is None:
            store.turns(conversation.id)
            store.search("turn")
            store.create_conversation("after damage")
            assert store.degraded is not None
            assert store.degraded.kind == "corrupt"
        else:
            assert reason.kind == "corrupt"
    assert path.read_bytes() == damaged


def test_disk_full_mid_session_moves_to_memory(db_path: Path) -> None:
    store = Store.open(db_path)
    conversation = store.create_conversation("before the disk filled")
    store.add_turn(conversation.id, "user", "saved to disk")
    # Simulate a full disk: the file may not grow past its current size.
    (pages,) = store._conn.execute("PRAGMA page_count").fetchone()
    store._conn.execute(f"PRAGMA max_page_count = {pages}")

    answer = store.add_turn(conversation.id, "assistant", "x" * 1_000_000)

    assert store.degraded is not None
    assert store.degraded.kind == "full"
    assert store.degraded.title == "Disk full"
    assert str(db_path) in store.degraded.detail
    assert store.in_memory
    # Everything from before is still there, and the new turn too.
    assert [t.content[:13] for t in store.turns(conversation.id)] == ["saved to disk", "x" * 13]
    store.checkpoint_turn(answer.id, "short")
    assert store.search("saved")[0].conversation_title == "before the disk filled"
    store.close()

    assert integrity(db_path) == "ok"
    with Store.open(db_path) as reopened:
        assert [t.content for t in reopened.turns(conversation.id)] == ["saved to disk"]


def test_store_unavailable_is_a_readable_error() -> None:
    error = StoreUnavailable("full", "Disk full", "no space left to save to /x.", Path("/x"))
    assert str(error) == "Disk full: no space left to save to /x."
    assert error.path == Path("/x")
