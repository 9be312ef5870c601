"""The store's one error tree, and the translation of SQLite and OS failures into it.

::

    StoreError
     ├── StoreUnavailable      the file cannot be used (title + an actionable sentence)
     ├── NotFound              no conversation / turn / preset with that id or name
     └── ImportFormatError     import_json got something that is not our export format
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class StoreError(Exception):
    """Base of every error the store raises."""


class StoreUnavailable(StoreError):
    """The database file cannot be used; the app should keep going in memory.

    `title` is short (a notification title); `detail` is one sentence naming the path and
    what to do. `kind` is one of "locked", "read-only", "full", "corrupt", "newer", "io".
    """

    def __init__(self, kind: str, title: str, detail: str, path: Path | None) -> None:
        super().__init__(f"{title}: {detail}")
        self.kind = kind
        self.title = title
        self.detail = detail
        self.path = path


class NotFound(StoreError):
    """No row with that id or name."""


class ImportFormatError(StoreError):
    """`import_json` was given text that is not an inferd-tui conversation export."""


_LOCKED_CODES = {"SQLITE_BUSY", "SQLITE_LOCKED"}
_READ_ONLY_CODES = {"SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"}
_FULL_CODES = {"SQLITE_FULL"}
_CORRUPT_CODES = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


def _error_code(exc: sqlite3.Error) -> str:
    # Extended codes look like SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT.
    name = getattr(exc, "sqlite_errorname", "") or ""
    for base in (*_LOCKED_CODES, *_READ_ONLY_CODES, *_FULL_CODES, *_CORRUPT_CODES, "SQLITE_IOERR"):
        if name == base or name.startswith(base + "_"):
            return base
    return name


def _not_writable(path: Path) -> bool:
    try:
        if path.exists() and not os.access(path, os.W_OK):
            return True
        return not os.access(path.parent, os.W_OK)
    except OSError:
        return False


def unavailable_from(exc: BaseException, path: Path | None) -> StoreUnavailable | None:
    """Translate a low-level failure into `StoreUnavailable`, or None if it is a bug."""
    where = str(path) if path is not None else "the history database"
    if isinstance(exc, StoreUnavailable):
        return exc
    if isinstance(exc, OSError):
        return StoreUnavailable(
            "read-only",
            "Can't save conversations",
            f"{where} can't be created ({exc.strerror or exc}); this session keeps everything"
            " in memory. Fix the folder's permissions or set data_dir in the config.",
            path,
        )
    if not isinstance(exc, sqlite3.Error):
        return None
    code = _error_code(exc)
    if code in ("SQLITE_IOERR", "SQLITE_CANTOPEN") and path is not None and _not_writable(path):
        # SQLite reports a read-only WAL file's folder as an I/O error (no -wal file possible).
        code = "SQLITE_READONLY"
    if code in _LOCKED_CODES:
        return StoreUnavailable(
            "locked",
            "Conversation history in use",
            f"another inferd-tui is using {where}; this session keeps everything in memory."
            " Close the other instance to save again.",
            path,
        )
    if code in _READ_ONLY_CODES:
        return StoreUnavailable(
            "read-only",
            "Can't save conversations",
            f"{where} (or its folder) is read-only; this session keeps everything in memory."
            " Fix the permissions or set data_dir in the config.",
            path,
        )
    if code in _FULL_CODES:
        return StoreUnavailable(
            "full",
            "Disk full",
            f"no space left to save to {where}; this session continues in memory."
            " Free some space and restart to save again.",
            path,
        )
    if code in _CORRUPT_CODES:
        return StoreUnavailable(
            "corrupt",
            "Conversation history damaged",
            f"{where} is not a readable inferd-tui database and was left untouched; this"
            " session keeps everything in memory. Move the file aside to start a fresh one.",
            path,
        )
    if code == "SQLITE_IOERR":
        return StoreUnavailable(
            "io",
            "Can't save conversations",
            f"the disk reported an error writing {where} ({exc}); this session continues in"
            " memory. Check the disk and restart to save again.",
            path,
        )
    return None
