"""Persistence of conversations, prompt history and presets in one SQLite file.

The store is core: no Textual, no Rich, no I/O at import. One `Store` wraps one connection;
the file lives in the platformdirs user data dir unless a path is injected.

Durability and safety:

- WAL journal, `synchronous=NORMAL`: a commit survives the app being killed (SIGKILL), which
  is what a streaming checkpoint needs; every write is one short transaction.
- `locking_mode=EXCLUSIVE`: one app instance owns the file. A second instance gets
  `StoreUnavailable` ("in use") and runs in memory, so it can never mark the first one's
  streaming turn as interrupted or race it on positions.
- Any failure to open or write (locked, read-only, disk full, corrupt) is reported as one
  `StoreUnavailable`. `open_store_or_memory` falls back to an in-memory store at start-up,
  and a store whose writes start failing mid-session copies itself into memory, keeps going
  and exposes the reason in `Store.degraded`. Failed writes roll back; the file is never
  left half-written.
- The API key has no column: request parameters are filtered to the known wire fields on the
  way in and on the way out.

Error tree::

    StoreError
     ├── StoreUnavailable      the file cannot be used (title + an actionable sentence)
     ├── NotFound              no conversation / turn / preset with that id or name
     └── ImportFormatError     import_json got something that is not our export format
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, Protocol, TypeVar, cast, get_args

from inferd_tui.text_safety import sanitize, without_lone_surrogates

APP_NAME: Final = "inferd-tui"
STORE_FILENAME: Final = "inferd-tui.sqlite3"

# Sampling fields exactly as they go on the wire (protocol-v1 §4). Nothing else is stored.
SAMPLING_FIELDS: Final[tuple[str, ...]] = (
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "image_token_budget",
)
# What a turn records about the request it was generated with.
TURN_REQUEST_FIELDS: Final[tuple[str, ...]] = (*SAMPLING_FIELDS, "grammar")

Role = Literal["user", "assistant", "system", "marker"]
TurnState = Literal["complete", "streaming", "interrupted", "cancelled", "error"]
ROLES: Final[tuple[str, ...]] = get_args(Role)
TURN_STATES: Final[tuple[str, ...]] = get_args(TurnState)

DEFAULT_TITLE: Final = "New conversation"
EXPORT_FORMAT: Final = "inferd-tui.conversation"
EXPORT_VERSION: Final = 1

T = TypeVar("T")


# --------------------------------------------------------------------------- errors


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


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: int
    title: str
    system_prompt: str
    # Sampling fields exactly as on the wire, only those the user set.
    params: dict[str, Any]
    grammar: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TurnRecord:
    id: int
    conversation_id: int
    position: int
    role: Role
    content: str
    state: TurnState
    error_code: str | None = None
    error_message: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    stop_reason: str | None = None
    backend: str | None = None
    time_to_first_token_s: float | None = None
    tokens_per_s: float | None = None
    # The exact sampling fields + grammar the turn was generated with (None for user turns).
    request_params: dict[str, Any] | None = None
    grammar_match: bool | None = None
    grammar_match_offset: int | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    params: dict[str, Any]
    grammar: str
    system_prompt: str


@dataclass(frozen=True, slots=True)
class HighlightedText:
    """Plain text plus (start, end) character spans to highlight; never markup."""

    text: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: int
    conversation_title: str
    turn_id: int
    position: int
    role: Role
    snippet: HighlightedText


class HasSamplingSetup(Protocol):
    """Anything carrying params, grammar and system prompt: a conversation or a preset."""

    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def grammar(self) -> str: ...
    @property
    def system_prompt(self) -> str: ...


# --------------------------------------------------------------------------- pure helpers


def default_store_path(data_dir: Path | None = None) -> Path:
    """The database file: `data_dir` if given, else the platformdirs user data dir."""
    if data_dir is None:
        from platformdirs import user_data_path

        data_dir = user_data_path(APP_NAME)
    return data_dir / STORE_FILENAME


def clean_params(
    params: Mapping[str, Any] | None, fields: Sequence[str] = SAMPLING_FIELDS
) -> dict[str, Any]:
    """Keep only known request fields with a value; anything else (an API key) is dropped."""
    if not params:
        return {}
    return {name: params[name] for name in fields if params.get(name) is not None}


_LEADING_MARKDOWN = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+)+")


def title_from_prompt(text: str, max_chars: int = 60) -> str:
    """A conversation title: the prompt's first non-empty line, cut on a word boundary."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # Leading Markdown marks (a heading, a quote, a bullet) are not part of the subject.
    title = " ".join(_LEADING_MARKDOWN.sub("", first_line).split()) or " ".join(first_line.split())
    if not title:
        return DEFAULT_TITLE
    if len(title) <= max_chars:
        return title
    cut = title[: max_chars - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def _describe_value(value: Any) -> str:
    return "default" if value is None else json.dumps(value)


def _describe_text(text: str, what: str) -> str:
    if not text:
        return "none"
    lines = text.count("\n") + 1
    if what == "grammar":
        return f"{lines} line{'s' if lines != 1 else ''}"
    first = " ".join(text.split())
    return json.dumps(first if len(first) <= 40 else first[:39] + "…")


def preset_diff(current: HasSamplingSetup, preset: HasSamplingSetup) -> list[str]:
    """What applying `preset` over `current` would change, one line per change.

    Applying a preset replaces the whole bundle: a field the preset leaves unset goes back
    to the daemon's default.
    """
    changes: list[str] = []
    for name in SAMPLING_FIELDS:
        before, after = current.params.get(name), preset.params.get(name)
        if before != after:
            changes.append(f"{name}: {_describe_value(before)} → {_describe_value(after)}")
    for label, before_text, after_text in (
        ("system prompt", current.system_prompt, preset.system_prompt),
        ("grammar", current.grammar, preset.grammar),
    ):
        if before_text == after_text:
            continue
        what = "grammar" if label == "grammar" else "text"
        if not after_text:
            changes.append(f"{label}: cleared")
        else:
            before_desc = _describe_text(before_text, what)
            changes.append(f"{label}: {before_desc} → {_describe_text(after_text, what)}")
    return changes


_WORD = re.compile(r"\w", re.UNICODE)


def fts_query(user_query: str) -> str | None:
    """Turn what a user typed into a safe FTS5 query: every term quoted, the last a prefix.

    Terms with no word character (FTS syntax like `*`, `(`, `"`, `-`) can never match a
    token, so they are dropped; None means nothing searchable is left.
    """
    terms = [term for term in user_query.split() if _WORD.search(term)]
    if not terms:
        return None
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    quoted[-1] += "*"
    return " ".join(quoted)


def _align_highlights(marked: str, plain: str, start: str, end: str) -> HighlightedText:
    """Recover highlight spans by aligning a marked snippet with the same snippet unmarked.

    Aligning (rather than splitting on the markers) means marker characters inside the
    untrusted text itself can shift a span by one character at most, never break it.
    """
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    i = j = 0
    while i < len(marked):
        char = marked[i]
        if j < len(plain) and char == plain[j]:
            i += 1
            j += 1
            continue
        if char == start:
            open_at = j
        elif char == end and open_at is not None:
            if j > open_at:
                spans.append((open_at, j))
            open_at = None
        i += 1
    return HighlightedText(plain, tuple(spans))


# --------------------------------------------------------------------------- schema

_SCHEMA_1: Final = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',
    grammar TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX conversations_by_update ON conversations(updated_at DESC, id DESC);
CREATE TABLE turns (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    state TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    stop_reason TEXT,
    backend TEXT,
    time_to_first_token_s REAL,
    tokens_per_s REAL,
    request_params TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (conversation_id, position)
);
CREATE INDEX turns_streaming ON turns(state) WHERE state = 'streaming';
CREATE TABLE prompt_history (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    used_at REAL NOT NULL
);
CREATE TABLE presets (
    name TEXT PRIMARY KEY,
    params TEXT NOT NULL,
    grammar TEXT NOT NULL,
    system_prompt TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""

# Schema 2: grammar-match result per turn, and full-text search over turn contents.
_SCHEMA_2: Final = """
ALTER TABLE turns ADD COLUMN grammar_match INTEGER;
ALTER TABLE turns ADD COLUMN grammar_match_offset INTEGER;
CREATE VIRTUAL TABLE turns_fts USING fts5(
    content, content='turns', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER turns_fts_insert AFTER INSERT ON turns BEGIN
    INSERT INTO turns_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns BEGIN
    INSERT INTO turns_fts(turns_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER turns_fts_update AFTER UPDATE OF content ON turns BEGIN
    INSERT INTO turns_fts(turns_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO turns_fts(rowid, content) VALUES (new.id, new.content);
END;
INSERT INTO turns_fts(turns_fts) VALUES ('rebuild');
"""

# MIGRATIONS[n] takes a database at user_version n to n + 1.
MIGRATIONS: Final[tuple[str, ...]] = (_SCHEMA_1, _SCHEMA_2)
SCHEMA_VERSION: Final = len(MIGRATIONS)

_TURN_COLUMNS: Final = (
    "id, conversation_id, position, role, content, state, error_code, error_message,"
    " prompt_tokens, completion_tokens, stop_reason, backend, time_to_first_token_s,"
    " tokens_per_s, request_params, grammar_match, grammar_match_offset, created_at, updated_at"
)
_CONVERSATION_COLUMNS: Final = "id, title, system_prompt, params, grammar, created_at, updated_at"


def _check_version(conn: sqlite3.Connection, path: Path | None) -> int:
    """The file's schema version; refuses (read-only, before any write) a newer one."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreUnavailable(
            "newer",
            "Conversation history from a newer inferd-tui",
            f"{path} uses schema {version} but this version knows {SCHEMA_VERSION}; it was"
            " left untouched and this session keeps everything in memory. Upgrade inferd-tui.",
            path,
        )
    return version


def _migrate(conn: sqlite3.Connection, path: Path | None) -> None:
    version = _check_version(conn, path)
    for target in range(version, SCHEMA_VERSION):
        # executescript would commit implicitly: run each statement inside our transaction.
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split_sql(MIGRATIONS[target]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _split_sql(script: str) -> Iterator[str]:
    """Split a migration into statements (triggers contain `;` inside BEGIN … END)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            if statement.strip():
                yield statement.strip()
            statement = ""
    if statement.strip():
        yield statement.strip()


def _configure(conn: sqlite3.Connection, path: Path | None) -> None:
    conn.execute("PRAGMA foreign_keys = ON")
    if path is None:
        return
    # Exclusive before the first access: one instance owns the file, no shared memory.
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    # Read first: a corrupt file or one from a newer version must not be touched at all
    # (switching to WAL rewrites the header).
    _check_version(conn, path)
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"could not switch {path} to WAL (got {mode})")
    conn.execute("PRAGMA synchronous = NORMAL")


# --------------------------------------------------------------------------- the store


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _json_or_none(text: str | None) -> dict[str, Any] | None:
    return None if text is None else cast(dict[str, Any], json.loads(text))


def _row_to_turn(row: Sequence[Any]) -> TurnRecord:
    return TurnRecord(
        id=row[0],
        conversation_id=row[1],
        position=row[2],
        role=row[3],
        content=row[4],
        state=row[5],
        error_code=row[6],
        error_message=row[7],
        prompt_tokens=row[8],
        completion_tokens=row[9],
        stop_reason=row[10],
        backend=row[11],
        time_to_first_token_s=row[12],
        tokens_per_s=row[13],
        request_params=_json_or_none(row[14]),
        grammar_match=None if row[15] is None else bool(row[15]),
        grammar_match_offset=row[16],
        created_at=_ts(row[17]),
        updated_at=_ts(row[18]),
    )


def _row_to_conversation(row: Sequence[Any]) -> ConversationRecord:
    return ConversationRecord(
        id=row[0],
        title=row[1],
        system_prompt=row[2],
        params=json.loads(row[3]),
        grammar=row[4],
        created_at=_ts(row[5]),
        updated_at=_ts(row[6]),
    )


class Store:
    """Conversations, turns, prompt history and presets. Use `open`, `memory` or
    `open_store_or_memory`; close with `close()` or a `with` block."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path | None,
        *,
        clock: Callable[[], float] = time.time,
        history_limit: int = 1000,
    ) -> None:
        self._conn = conn
        self.path = path
        self._clock = clock
        self.history_limit = history_limit
        # Set when the file stopped accepting writes and the store moved to memory.
        self.degraded: StoreUnavailable | None = None
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        busy_timeout_s: float = 0.5,
        clock: Callable[[], float] = time.time,
        history_limit: int = 1000,
    ) -> Store:
        """Open (creating and migrating) the file; raises `StoreUnavailable` if unusable.

        A turn still "streaming" belonged to a session that died: it becomes "interrupted".
        """
        conn: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            _configure(conn, path)
            _migrate(conn, path)
            store = cls(conn, path, clock=clock, history_limit=history_limit)
            store._recover_interrupted()
            return store
        except (sqlite3.Error, OSError) as exc:
            if conn is not None:
                conn.close()
            unavailable = unavailable_from(exc, path)
            if unavailable is None:
                raise
            raise unavailable from exc
        except StoreUnavailable:
            if conn is not None:
                conn.close()
            raise

    @classmethod
    def memory(cls, *, clock: Callable[[], float] = time.time, history_limit: int = 1000) -> Store:
        """A store that writes nothing to disk (`--no-save`, and the fallback)."""
        return cls(_memory_connection(), None, clock=clock, history_limit=history_limit)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def in_memory(self) -> bool:
        return self.path is None or self.degraded is not None

    def _recover_interrupted(self) -> None:
        def recover(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE turns SET state = 'interrupted' WHERE state = 'streaming'")
            # A real write even when nothing was streaming: a read-only file fails here, at
            # open, rather than on the user's first prompt.
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

        # Not _write: at open a failure must raise, not quietly move to memory.
        self._transaction(recover)

    # ----------------------------------------------------------------- plumbing

    def _write(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run `operation` in one transaction; on a storage failure move to memory, retry."""
        with self._lock:
            try:
                return self._transaction(operation)
            except sqlite3.Error as exc:
                unavailable = unavailable_from(exc, self.path)
                if unavailable is None or self.degraded is not None:
                    raise
                self._switch_to_memory(unavailable)
                return self._transaction(operation)

    def _read(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return operation(self._conn)
            except sqlite3.Error as exc:
                unavailable = unavailable_from(exc, self.path)
                if unavailable is None or self.degraded is not None:
                    raise
                self._switch_to_memory(unavailable)
                return operation(self._conn)

    def _transaction(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = operation(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    def _switch_to_memory(self, reason: StoreUnavailable) -> None:
        """Copy what the file holds into memory and carry on there (the UI says so)."""
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            self._conn.backup(memory)
            memory.execute("PRAGMA foreign_keys = ON")
            _migrate(memory, None)
        except (sqlite3.Error, StoreUnavailable):
            memory.close()
            memory = _memory_connection()
        self._conn.close()
        self._conn = memory
        self.degraded = reason

    def _now(self) -> float:
        return self._clock()

    # ----------------------------------------------------------------- conversations

    def create_conversation(
        self,
        title: str = DEFAULT_TITLE,
        *,
        system_prompt: str = "",
        params: Mapping[str, Any] | None = None,
        grammar: str = "",
    ) -> ConversationRecord:
        now = self._now()
        cleaned = clean_params(params)

        def insert(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "INSERT INTO conversations (title, system_prompt, params, grammar,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (title, system_prompt, json.dumps(cleaned), grammar, now, now),
            )
            return cast(int, cursor.lastrowid)

        return self.get_conversation(self._write(insert))

    def get_conversation(self, conversation_id: int) -> ConversationRecord:
        row = self._read(
            lambda conn: conn.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
        )
        if row is None:
            raise NotFound(f"no conversation {conversation_id}")
        return _row_to_conversation(row)

    def list_conversations(self, limit: int | None = None) -> list[ConversationRecord]:
        """Most recently updated first."""
        rows = self._read(
            lambda conn: conn.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations"
                " ORDER BY updated_at DESC, id DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        )
        return [_row_to_conversation(row) for row in rows]

    def _update_conversation(self, conversation_id: int, column: str, value: Any) -> None:
        now = self._now()

        def update(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                f"UPDATE conversations SET {column} = ?, updated_at = ? WHERE id = ?",
                (value, now, conversation_id),
            )
            return cursor.rowcount

        if self._write(update) == 0:
            raise NotFound(f"no conversation {conversation_id}")

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self._update_conversation(conversation_id, "title", title)

    def set_system_prompt(self, conversation_id: int, system_prompt: str) -> None:
        self._update_conversation(conversation_id, "system_prompt", system_prompt)

    def set_params(self, conversation_id: int, params: Mapping[str, Any]) -> None:
        self._update_conversation(conversation_id, "params", json.dumps(clean_params(params)))

    def set_grammar(self, conversation_id: int, grammar: str) -> None:
        self._update_conversation(conversation_id, "grammar", grammar)

    def delete_conversation(self, conversation_id: int) -> None:
        def delete(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            return conn.execute(
                "DELETE FROM conversations WHERE id = ?", (conversation_id,)
            ).rowcount

        if self._write(delete) == 0:
            raise NotFound(f"no conversation {conversation_id}")

    # ----------------------------------------------------------------- turns

    def add_turn(
        self,
        conversation_id: int,
        role: Role,
        content: str,
        *,
        state: TurnState = "complete",
        request_params: Mapping[str, Any] | None = None,
    ) -> TurnRecord:
        """Append a turn (the user's prompt when sent; the assistant's as "streaming")."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if state not in TURN_STATES:
            raise ValueError(f"unknown turn state {state!r}")
        now = self._now()
        request = (
            None if request_params is None else clean_params(request_params, TURN_REQUEST_FIELDS)
        )

        def insert(conn: sqlite3.Connection) -> int:
            (position,) = conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM turns WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
            cursor = conn.execute(
                "INSERT INTO turns (conversation_id, position, role, content, state,"
                " request_params, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    position,
                    role,
                    content,
                    state,
                    None if request is None else json.dumps(request),
                    now,
                    now,
                ),
            )
            conn.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
            )
            return cast(int, cursor.lastrowid)

        try:
            turn_id = self._write(insert)
        except sqlite3.IntegrityError as exc:
            raise NotFound(f"no conversation {conversation_id}") from exc
        return self.get_turn(turn_id)

    def checkpoint_turn(self, turn_id: int, content: str) -> None:
        """Save a streaming turn's text so far; cheap enough to call every second."""
        now = self._now()
        self._write(
            lambda conn: conn.execute(
                "UPDATE turns SET content = ?, updated_at = ? WHERE id = ?",
                (content, now, turn_id),
            )
        )

    def finish_turn(
        self,
        turn_id: int,
        *,
        content: str,
        state: TurnState,
        error_code: str | None = None,
        error_message: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        stop_reason: str | None = None,
        backend: str | None = None,
        time_to_first_token_s: float | None = None,
        tokens_per_s: float | None = None,
        grammar_match: bool | None = None,
        grammar_match_offset: int | None = None,
    ) -> TurnRecord:
        """Record a turn's final text and outcome (done, error, cancel, interruption)."""
        if state not in TURN_STATES:
            raise ValueError(f"unknown turn state {state!r}")
        now = self._now()

        def update(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE turns SET content = ?, state = ?, error_code = ?, error_message = ?,"
                " prompt_tokens = ?, completion_tokens = ?, stop_reason = ?, backend = ?,"
                " time_to_first_token_s = ?, tokens_per_s = ?, grammar_match = ?,"
                " grammar_match_offset = ?, updated_at = ? WHERE id = ?",
                (
                    content,
                    state,
                    error_code,
                    error_message,
                    prompt_tokens,
                    completion_tokens,
                    stop_reason,
                    backend,
                    time_to_first_token_s,
                    tokens_per_s,
                    None if grammar_match is None else int(grammar_match),
                    grammar_match_offset,
                    now,
                    turn_id,
                ),
            )
            conn.execute(
                "UPDATE conversations SET updated_at = ?"
                " WHERE id = (SELECT conversation_id FROM turns WHERE id = ?)",
                (now, turn_id),
            )
            return cursor.rowcount

        if self._write(update) == 0:
            raise NotFound(f"no turn {turn_id}")
        return self.get_turn(turn_id)

    def get_turn(self, turn_id: int) -> TurnRecord:
        row = self._read(
            lambda conn: conn.execute(
                f"SELECT {_TURN_COLUMNS} FROM turns WHERE id = ?", (turn_id,)
            ).fetchone()
        )
        if row is None:
            raise NotFound(f"no turn {turn_id}")
        return _row_to_turn(row)

    def turns(self, conversation_id: int) -> list[TurnRecord]:
        """All turns of a conversation in order."""
        rows = self._read(
            lambda conn: conn.execute(
                f"SELECT {_TURN_COLUMNS} FROM turns WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
        )
        return [_row_to_turn(row) for row in rows]

    def delete_turns_from(self, conversation_id: int, position: int) -> int:
        """Drop the turns at `position` and after (regenerate, edit and resend)."""
        return self._write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM turns WHERE conversation_id = ? AND position >= ?",
                    (conversation_id, position),
                ).rowcount
            )
        )

    # ----------------------------------------------------------------- search

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search over every turn; best matches first. Never raises on odd input."""
        match = fts_query(query)
        if match is None:
            return []
        start, end = "\x02", "\x03"

        def run(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(
                "SELECT t.conversation_id, c.title, t.id, t.position, t.role,"
                " snippet(turns_fts, 0, ?, ?, '…', 16), snippet(turns_fts, 0, '', '', '…', 16)"
                " FROM turns_fts JOIN turns t ON t.id = turns_fts.rowid"
                " JOIN conversations c ON c.id = t.conversation_id"
                " WHERE turns_fts MATCH ? ORDER BY rank LIMIT ?",
                (start, end, match, limit),
            ).fetchall()

        try:
            rows = self._read(run)
        except sqlite3.OperationalError:
            # The query is built to be valid; a syntax error here must still not crash the UI.
            return []
        return [
            SearchHit(
                conversation_id=row[0],
                conversation_title=row[1],
                turn_id=row[2],
                position=row[3],
                role=row[4],
                snippet=_align_highlights(row[5], row[6], start, end),
            )
            for row in rows
        ]

    # ----------------------------------------------------------------- prompt history

    def add_prompt(self, text: str) -> None:
        """Remember a sent prompt; sending the same prompt twice in a row keeps one entry."""
        if not text.strip():
            return
        now = self._now()

        def insert(conn: sqlite3.Connection) -> None:
            last = conn.execute(
                "SELECT id, text FROM prompt_history ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if last is not None and last[1] == text:
                conn.execute("UPDATE prompt_history SET used_at = ? WHERE id = ?", (now, last[0]))
                return
            cursor = conn.execute(
                "INSERT INTO prompt_history (text, used_at) VALUES (?, ?)", (text, now)
            )
            newest = cast(int, cursor.lastrowid)
            if self.history_limit > 0 and newest % 64 == 0:
                conn.execute(
                    "DELETE FROM prompt_history WHERE id <= ?", (newest - self.history_limit,)
                )

        self._write(insert)

    def prompt_history(self, limit: int = 100) -> list[str]:
        """Sent prompts, newest first (for Up/Down)."""
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT text FROM prompt_history ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        )
        return [row[0] for row in rows]

    def search_prompt_history(self, query: str, limit: int = 50) -> list[str]:
        """Distinct past prompts containing `query` (case-insensitive), newest first."""
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query) + "%"
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT text FROM prompt_history WHERE text LIKE ? ESCAPE '\\'"
                " GROUP BY text ORDER BY MAX(id) DESC LIMIT ?",
                (pattern, limit),
            ).fetchall()
        )
        return [row[0] for row in rows]

    # ----------------------------------------------------------------- presets

    def save_preset(
        self,
        name: str,
        params: Mapping[str, Any],
        grammar: str = "",
        system_prompt: str = "",
    ) -> Preset:
        """Create or replace the preset called `name`."""
        if not name.strip():
            raise ValueError("a preset needs a name")
        preset = Preset(name.strip(), clean_params(params), grammar, system_prompt)
        now = self._now()
        self._write(
            lambda conn: conn.execute(
                "INSERT INTO presets (name, params, grammar, system_prompt, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET params = excluded.params,"
                " grammar = excluded.grammar, system_prompt = excluded.system_prompt,"
                " updated_at = excluded.updated_at",
                (preset.name, json.dumps(preset.params), grammar, system_prompt, now),
            )
        )
        return preset

    def presets(self) -> list[Preset]:
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT name, params, grammar, system_prompt FROM presets ORDER BY name"
            ).fetchall()
        )
        return [Preset(row[0], json.loads(row[1]), row[2], row[3]) for row in rows]

    def delete_preset(self, name: str) -> None:
        deleted = self._write(
            lambda conn: conn.execute("DELETE FROM presets WHERE name = ?", (name,)).rowcount
        )
        if deleted == 0:
            raise NotFound(f"no preset {name!r}")

    # ----------------------------------------------------------------- export / import

    def export_json(self, conversation_id: int) -> str:
        """The conversation and each turn's exact request parameters and grammar, as JSON."""
        conversation = self.get_conversation(conversation_id)
        document = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "conversation": {
                "title": conversation.title,
                "system_prompt": conversation.system_prompt,
                "params": clean_params(conversation.params),
                "grammar": conversation.grammar,
                "created_at": conversation.created_at.isoformat(),
                "updated_at": conversation.updated_at.isoformat(),
            },
            "turns": [_turn_to_export(turn) for turn in self.turns(conversation_id)],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"

    def export_markdown(self, conversation_id: int) -> str:
        conversation = self.get_conversation(conversation_id)
        return render_markdown(conversation, self.turns(conversation_id))

    def import_json(self, text: str) -> int:
        """Create a conversation from `export_json` output; returns its id."""
        conversation, turns = parse_export(text)

        def insert(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "INSERT INTO conversations (title, system_prompt, params, grammar,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    conversation["title"],
                    conversation["system_prompt"],
                    json.dumps(conversation["params"]),
                    conversation["grammar"],
                    conversation["created_at"],
                    conversation["updated_at"],
                ),
            )
            new_id = cast(int, cursor.lastrowid)
            for position, turn in enumerate(turns):
                conn.execute(
                    f"INSERT INTO turns ({_TURN_COLUMNS}) VALUES"
                    " (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new_id,
                        position,
                        turn["role"],
                        turn["content"],
                        turn["state"],
                        turn["error_code"],
                        turn["error_message"],
                        turn["prompt_tokens"],
                        turn["completion_tokens"],
                        turn["stop_reason"],
                        turn["backend"],
                        turn["time_to_first_token_s"],
                        turn["tokens_per_s"],
                        None
                        if turn["request_params"] is None
                        else json.dumps(turn["request_params"]),
                        None if turn["grammar_match"] is None else int(turn["grammar_match"]),
                        turn["grammar_match_offset"],
                        turn["created_at"],
                        turn["updated_at"],
                    ),
                )
            return new_id

        return self._write(insert)


def _memory_connection() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    _configure(conn, None)
    _migrate(conn, None)
    return conn


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
            _configure(memory, None)
            _migrate(memory, None)
            return memory
        except (sqlite3.Error, StoreUnavailable):
            memory.close()
        finally:
            if source is not None:
                source.close()
    return None


# --------------------------------------------------------------------------- export format


def _turn_to_export(turn: TurnRecord) -> dict[str, Any]:
    return {
        "role": turn.role,
        "content": turn.content,
        "state": turn.state,
        "error_code": turn.error_code,
        "error_message": turn.error_message,
        "prompt_tokens": turn.prompt_tokens,
        "completion_tokens": turn.completion_tokens,
        "stop_reason": turn.stop_reason,
        "backend": turn.backend,
        "time_to_first_token_s": turn.time_to_first_token_s,
        "tokens_per_s": turn.tokens_per_s,
        "request_params": None
        if turn.request_params is None
        else clean_params(turn.request_params, TURN_REQUEST_FIELDS),
        "grammar_match": turn.grammar_match,
        "grammar_match_offset": turn.grammar_match_offset,
        "created_at": turn.created_at.isoformat(),
        "updated_at": turn.updated_at.isoformat(),
    }


def _expect(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise ImportFormatError(f"{where}: {message}")


def _optional(obj: Mapping[str, Any], key: str, kinds: tuple[type, ...], where: str) -> Any:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int in Python; don't accept true for a token count.
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    names = " or ".join(kind.__name__ for kind in kinds)
    _expect(ok, f"{where}.{key}", f"expected {names} or null, got {json.dumps(value)[:40]}")
    if float in kinds and isinstance(value, int | float):
        _expect(math.isfinite(value), f"{where}.{key}", "expected a finite number")
    return value


def _text(obj: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = obj.get(key, default)
    _expect(isinstance(value, str), f"{where}.{key}", "expected a string")
    return cast(str, value)


def _timestamp(obj: Mapping[str, Any], key: str, where: str) -> float:
    value = obj.get(key)
    if value is None:
        return time.time()
    _expect(isinstance(value, str), f"{where}.{key}", "expected an ISO 8601 timestamp")
    try:
        moment = datetime.fromisoformat(cast(str, value))
    except ValueError:
        raise ImportFormatError(f"{where}.{key}: expected an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _params(value: Any, where: str, fields: Sequence[str]) -> dict[str, Any]:
    _expect(isinstance(value, dict), where, "expected an object")
    params = clean_params(cast(dict[str, Any], value), fields)
    for name, item in params.items():
        if name == "grammar":
            _expect(isinstance(item, str), f"{where}.grammar", "expected a string")
        elif name in ("temperature", "top_p"):
            _optional(params, name, (int, float), where)
        else:
            _optional(params, name, (int,), where)
    return params


def parse_export(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate an export document; values come back ready to insert (timestamps as floats)."""
    try:
        document = without_lone_surrogates(json.loads(text))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ImportFormatError(f"not JSON: {exc}") from None
    _expect(isinstance(document, dict), "document", "expected a JSON object")
    fmt = document.get("format")
    _expect(
        fmt == EXPORT_FORMAT,
        "format",
        f"expected {json.dumps(EXPORT_FORMAT)}, got {json.dumps(fmt)[:60]}"
        " (is this an inferd-tui conversation export?)",
    )
    version = document.get("version")
    _expect(
        isinstance(version, int) and not isinstance(version, bool),
        "version",
        "expected an integer",
    )
    _expect(
        version <= EXPORT_VERSION,
        "version",
        f"this export is version {version}; this inferd-tui reads up to {EXPORT_VERSION}",
    )
    raw_conversation = document.get("conversation")
    _expect(isinstance(raw_conversation, dict), "conversation", "expected an object")
    conversation_in = cast(dict[str, Any], raw_conversation)
    conversation = {
        "title": _text(conversation_in, "title", "conversation", DEFAULT_TITLE),
        "system_prompt": _text(conversation_in, "system_prompt", "conversation", ""),
        "params": _params(
            conversation_in.get("params", {}), "conversation.params", SAMPLING_FIELDS
        ),
        "grammar": _text(conversation_in, "grammar", "conversation", ""),
        "created_at": _timestamp(conversation_in, "created_at", "conversation"),
        "updated_at": _timestamp(conversation_in, "updated_at", "conversation"),
    }
    raw_turns = document.get("turns")
    _expect(isinstance(raw_turns, list), "turns", "expected a list")
    turns: list[dict[str, Any]] = []
    for index, raw_turn in enumerate(cast(list[Any], raw_turns)):
        where = f"turns[{index}]"
        _expect(isinstance(raw_turn, dict), where, "expected an object")
        turn_in = cast(dict[str, Any], raw_turn)
        role = turn_in.get("role")
        _expect(role in ROLES, f"{where}.role", f"expected one of {', '.join(ROLES)}")
        state = turn_in.get("state", "complete")
        _expect(state in TURN_STATES, f"{where}.state", f"expected one of {', '.join(TURN_STATES)}")
        request = turn_in.get("request_params")
        turns.append(
            {
                "role": role,
                "content": _text(turn_in, "content", where),
                # Nothing is streaming in a file: an export taken mid-answer was cut short.
                "state": "interrupted" if state == "streaming" else state,
                "error_code": _optional(turn_in, "error_code", (str,), where),
                "error_message": _optional(turn_in, "error_message", (str,), where),
                "prompt_tokens": _optional(turn_in, "prompt_tokens", (int,), where),
                "completion_tokens": _optional(turn_in, "completion_tokens", (int,), where),
                "stop_reason": _optional(turn_in, "stop_reason", (str,), where),
                "backend": _optional(turn_in, "backend", (str,), where),
                "time_to_first_token_s": _optional(
                    turn_in, "time_to_first_token_s", (int, float), where
                ),
                "tokens_per_s": _optional(turn_in, "tokens_per_s", (int, float), where),
                "request_params": None
                if request is None
                else _params(request, f"{where}.request_params", TURN_REQUEST_FIELDS),
                "grammar_match": _optional(turn_in, "grammar_match", (bool,), where),
                "grammar_match_offset": _optional(turn_in, "grammar_match_offset", (int,), where),
                "created_at": _timestamp(turn_in, "created_at", where),
                "updated_at": _timestamp(turn_in, "updated_at", where),
            }
        )
    return conversation, turns


def _format_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {json.dumps(value)}" for name, value in clean_params(params).items())


def _fence(text: str, info: str = "") -> str:
    # A fence longer than any backtick run inside, so untrusted content can't close it.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def render_markdown(conversation: ConversationRecord, turns: Sequence[TurnRecord]) -> str:
    """A readable Markdown transcript (the JSON export is the one that round-trips)."""
    lines = [f"# {conversation.title}", ""]
    lines.append(f"- Created: {conversation.created_at.isoformat(timespec='seconds')}")
    if conversation.params:
        lines.append(f"- Parameters: {_format_params(conversation.params)}")
    lines.append("")
    if conversation.system_prompt:
        lines += ["## System prompt", "", conversation.system_prompt, ""]
    if conversation.grammar:
        lines += ["## Grammar", "", _fence(conversation.grammar, "gbnf"), ""]
    for turn in turns:
        if turn.role == "marker":
            lines += [f"> *{' '.join(turn.content.split())}*", ""]
            continue
        lines += [f"## {turn.role.capitalize()}", "", turn.content, ""]
        details = _turn_details(turn)
        if details:
            lines += [f"*{' · '.join(details)}*", ""]
    # Control characters made visible: `cat transcript.md` must not replay escape sequences.
    return sanitize("\n".join(lines).rstrip("\n") + "\n")


def _turn_details(turn: TurnRecord) -> list[str]:
    details: list[str] = []
    if turn.state != "complete":
        details.append(turn.state)
    if turn.error_code or turn.error_message:
        details.append(f"error {turn.error_code or ''}: {turn.error_message or ''}".strip())
    if turn.stop_reason:
        details.append(f"stop: {turn.stop_reason}")
    if turn.prompt_tokens is not None or turn.completion_tokens is not None:
        details.append(f"{turn.prompt_tokens or 0} + {turn.completion_tokens or 0} tokens")
    if turn.tokens_per_s is not None:
        details.append(f"{turn.tokens_per_s:.1f} tok/s")
    if turn.backend:
        details.append(turn.backend)
    if turn.request_params:
        sampling = _format_params(turn.request_params)
        if sampling:
            details.append(sampling)
        if turn.request_params.get("grammar"):
            details.append("grammar-constrained")
    if turn.grammar_match:
        details.append("matches grammar")
    elif turn.grammar_match is False and turn.grammar_match_offset == len(turn.content):
        details.append("fits the grammar so far, incomplete")  # as the transcript says
    elif turn.grammar_match is False:
        details.append(f"leaves the grammar at offset {turn.grammar_match_offset}")
    return details
