"""Where the database file lives, and opening it with a fall-back to memory.

A file that cannot be used never stops the app: `open_store_or_memory` returns an in-memory
store and the reason, and a read-only file's conversations are copied in so they stay in view.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from inferd_tui.store.errors import StoreUnavailable
from inferd_tui.store.schema import configure, migrate
from inferd_tui.store.store import Store

APP_NAME: Final = "inferd-tui"
STORE_FILENAME: Final = "inferd-tui.sqlite3"


def default_store_path(data_dir: Path | None = None) -> Path:
    """The database file: `data_dir` if given, else the platformdirs user data dir."""
    if data_dir is None:
        from platformdirs import user_data_path

        data_dir = user_data_path(APP_NAME)
    return data_dir / STORE_FILENAME


def open_store_or_memory(
    path: Path | None,
    *,
    busy_timeout_s: float = 0.5,
    clock: Callable[[], float] = time.time,
    history_limit: int = 1000,
) -> tuple[Store, StoreUnavailable | None]:
    """The store at `path`, or an in-memory one plus the reason it could not be used.

    `path=None` means "save nothing" (`--no-save`): an in-memory store and no reason.
    """
    if path is None:
        return Store.memory(clock=clock, history_limit=history_limit), None
    try:
        store = Store.open(
            path, busy_timeout_s=busy_timeout_s, clock=clock, history_limit=history_limit
        )
    except StoreUnavailable as reason:
        copy = _read_only_copy(path) if reason.kind == "read-only" else None
        if copy is None:
            store = Store.memory(clock=clock, history_limit=history_limit)
        else:  # a file we may read but not write: its conversations stay in view
            store = Store(copy, None, clock=clock, history_limit=history_limit)
        store.degraded = reason
        return store, reason
    return store, None


def _read_only_copy(path: Path) -> sqlite3.Connection | None:
    """What a read-only database file holds, copied into memory; None if it can't be read.

    `mode=ro` first; `immutable=1` where even that fails because SQLite cannot create the
    WAL index beside a file in a read-only directory (nothing else can write there either)
    — but not when a WAL file is left there: immutable reads ignore it, and the copy would
    silently lack the newest conversations.
    """
    try:
        left_wal = path.with_name(path.name + "-wal").stat().st_size > 0
    except OSError:
        left_wal = False
    for query in ("mode=ro",) if left_wal else ("mode=ro", "immutable=1"):
        source: sqlite3.Connection | None = None
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            source = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True)
            source.backup(memory)
            configure(memory, None)
            migrate(memory, None)
            return memory
        except (sqlite3.Error, StoreUnavailable):
            memory.close()
        finally:
            if source is not None:
                source.close()
    return None
