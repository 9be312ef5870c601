"""The database schema, its migrations, connection settings, and rows back into records.

`MIGRATIONS[n]` takes a file at `PRAGMA user_version` n to n + 1; a file from a newer
inferd-tui is refused before anything is written to it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, cast

from inferd_tui.store.errors import StoreUnavailable
from inferd_tui.store.records import ConversationRecord, TurnRecord

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

# Schema 3: what v2 answers carry besides text, and the request options beyond sampling
# and grammar. Every column has a default that reads as "nothing of the kind", so turns
# written before keep meaning what they meant. JSON columns: `tool_calls` a list of
# {tool_call_id, name, input}; `attachments` a list of attachment refs (kind, name, sha256,
# size, …; the bytes are kept elsewhere by sha256); `response_schema` the schema the answer
# was asked to follow; `conversations.options` RequestOptions.stored().
_SCHEMA_3: Final = """
ALTER TABLE conversations ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
ALTER TABLE turns ADD COLUMN thinking TEXT NOT NULL DEFAULT '';
ALTER TABLE turns ADD COLUMN tool_calls TEXT;
ALTER TABLE turns ADD COLUMN tool_result_for TEXT;
ALTER TABLE turns ADD COLUMN tool_choice_unsatisfied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE turns ADD COLUMN response_schema TEXT;
ALTER TABLE turns ADD COLUMN schema_match INTEGER;
ALTER TABLE turns ADD COLUMN schema_problem TEXT;
ALTER TABLE turns ADD COLUMN attachments TEXT;
"""

# Schema 4: which conversation uses which attachment blob (store/attachments.py), so
# deleting a conversation deletes the bytes no other conversation uses. Filled in from the
# refs turns already keep (schema 3), when a file has any.
_SCHEMA_4: Final = """
CREATE TABLE attachment_uses (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, sha256)
);
CREATE INDEX attachment_uses_by_hash ON attachment_uses(sha256);
INSERT OR IGNORE INTO attachment_uses (conversation_id, sha256, size)
    SELECT turns.conversation_id, json_extract(ref.value, '$.sha256'),
           json_extract(ref.value, '$.size')
    FROM turns, json_each(turns.attachments) AS ref
    WHERE turns.attachments IS NOT NULL AND json_valid(turns.attachments)
      AND json_type(ref.value, '$.sha256') = 'text'
      AND json_type(ref.value, '$.size') = 'integer';
"""

# MIGRATIONS[n] takes a database at user_version n to n + 1.
MIGRATIONS: Final[tuple[str, ...]] = (_SCHEMA_1, _SCHEMA_2, _SCHEMA_3, _SCHEMA_4)
SCHEMA_VERSION: Final = len(MIGRATIONS)

TURN_COLUMNS: Final = (
    "id, conversation_id, position, role, content, state, error_code, error_message,"
    " prompt_tokens, completion_tokens, stop_reason, backend, time_to_first_token_s,"
    " tokens_per_s, request_params, grammar_match, grammar_match_offset, created_at, updated_at,"
    " thinking, tool_calls, tool_result_for, tool_choice_unsatisfied, response_schema,"
    " schema_match, schema_problem, attachments"
)
CONVERSATION_COLUMNS: Final = (
    "id, title, system_prompt, params, grammar, created_at, updated_at, options"
)


def check_version(conn: sqlite3.Connection, path: Path | None) -> int:
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


def migrate(conn: sqlite3.Connection, path: Path | None) -> None:
    version = check_version(conn, path)
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


def configure(conn: sqlite3.Connection, path: Path | None) -> None:
    conn.execute("PRAGMA foreign_keys = ON")
    if path is None:
        return
    # Exclusive before the first access: one instance owns the file, no shared memory.
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    # Read first: a corrupt file or one from a newer version must not be touched at all
    # (switching to WAL rewrites the header).
    check_version(conn, path)
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"could not switch {path} to WAL (got {mode})")
    conn.execute("PRAGMA synchronous = NORMAL")


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _json_or_none(text: str | None) -> dict[str, Any] | None:
    return None if text is None else cast(dict[str, Any], json.loads(text))


def _json_list(text: str | None) -> list[dict[str, Any]]:
    """A JSON list of objects from a column; anything else reads as none."""
    if text is None:
        return []
    value = json.loads(text)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def row_to_turn(row: Sequence[Any]) -> TurnRecord:
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
        grammar_match=_flag(row[15]),
        grammar_match_offset=row[16],
        created_at=_ts(row[17]),
        updated_at=_ts(row[18]),
        thinking=row[19],
        tool_calls=_json_list(row[20]),
        tool_result_for=row[21],
        tool_choice_unsatisfied=bool(row[22]),
        response_schema=_json_or_none(row[23]),
        schema_match=_flag(row[24]),
        schema_problem=row[25],
        attachments=_json_list(row[26]),
    )


def row_to_conversation(row: Sequence[Any]) -> ConversationRecord:
    return ConversationRecord(
        id=row[0],
        title=row[1],
        system_prompt=row[2],
        params=json.loads(row[3]),
        grammar=row[4],
        created_at=_ts(row[5]),
        updated_at=_ts(row[6]),
        options=json.loads(row[7]),
    )


def memory_connection() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    configure(conn, None)
    migrate(conn, None)
    return conn
