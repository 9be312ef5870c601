"""The `Store`: conversations, turns, prompt history and presets in one SQLite file.

One `Store` wraps one connection; the file lives in the platformdirs user data dir unless a
path is injected. Durability and safety:

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
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from inferd_tui.store.attachments import ATTACHMENTS_DIRNAME, BlobStore, is_sha256
from inferd_tui.store.errors import NotFound, StoreUnavailable, unavailable_from
from inferd_tui.store.json_format import (
    export_document,
    insert_imported,
    parse_export,
    parse_export_attachments,
)
from inferd_tui.store.markdown import render_markdown
from inferd_tui.store.records import (
    DEFAULT_TITLE,
    ROLES,
    TURN_REQUEST_FIELDS,
    TURN_STATES,
    ConversationRecord,
    Preset,
    Role,
    TurnRecord,
    TurnState,
    clean_params,
)
from inferd_tui.store.schema import (
    CONVERSATION_COLUMNS,
    SCHEMA_VERSION,
    TURN_COLUMNS,
    configure,
    memory_connection,
    migrate,
    row_to_conversation,
    row_to_turn,
)
from inferd_tui.store.search import SearchHit, search_turns

T = TypeVar("T")


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
        blobs: BlobStore | None = None,
    ) -> None:
        self._conn = conn
        self.path = path
        # Attachment bytes: a directory beside the file, or memory when there is no file.
        if blobs is None:
            blobs = BlobStore(None if path is None else path.parent / ATTACHMENTS_DIRNAME)
        self.blobs = blobs
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
            configure(conn, path)
            migrate(conn, path)
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
        return cls(memory_connection(), None, clock=clock, history_limit=history_limit)

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
            migrate(memory, None)
        except (sqlite3.Error, StoreUnavailable):
            memory.close()
            memory = memory_connection()
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
                f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
        )
        if row is None:
            raise NotFound(f"no conversation {conversation_id}")
        return row_to_conversation(row)

    def list_conversations(self, limit: int | None = None) -> list[ConversationRecord]:
        """Most recently updated first."""
        rows = self._read(
            lambda conn: conn.execute(
                f"SELECT {CONVERSATION_COLUMNS} FROM conversations"
                " ORDER BY updated_at DESC, id DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        )
        return [row_to_conversation(row) for row in rows]

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

    def set_options(self, conversation_id: int, options: Mapping[str, Any]) -> None:
        """The request options beyond sampling and grammar (``RequestOptions.stored()``)."""
        self._update_conversation(conversation_id, "options", json.dumps(dict(options)))

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete the conversation, its turns, and the attachments no other one uses."""

        def delete(conn: sqlite3.Connection) -> tuple[int, list[str]]:
            used = [
                row[0]
                for row in conn.execute(
                    "SELECT sha256 FROM attachment_uses WHERE conversation_id = ?",
                    (conversation_id,),
                )
            ]
            conn.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            conn.execute(
                "DELETE FROM attachment_uses WHERE conversation_id = ?", (conversation_id,)
            )
            deleted = conn.execute(
                "DELETE FROM conversations WHERE id = ?", (conversation_id,)
            ).rowcount
            orphans = [
                sha
                for sha in used
                if conn.execute(
                    "SELECT 1 FROM attachment_uses WHERE sha256 = ? LIMIT 1", (sha,)
                ).fetchone()
                is None
            ]
            return deleted, orphans

        deleted, orphans = self._write(delete)
        if deleted == 0:
            raise NotFound(f"no conversation {conversation_id}")
        # After the commit: a crash between the two leaves an unused file, never a
        # conversation whose attachment is gone.
        for sha in orphans:
            self.blobs.discard(sha)

    # ----------------------------------------------------------------- attachments

    def put_attachment(self, conversation_id: int, data: bytes) -> str:
        """Keep `data` for the conversation (once per content); returns its sha256."""
        digest = self.blobs.put(data)
        self._write(
            lambda conn: conn.execute(
                "INSERT OR IGNORE INTO attachment_uses (conversation_id, sha256, size)"
                " VALUES (?, ?, ?)",
                (conversation_id, digest, len(data)),
            )
        )
        return digest

    def attachment(self, sha256: str, size: int | None = None) -> bytes:
        """The bytes kept under `sha256`, checked against it (and `size`, if given);
        `AttachmentMissing` if they are gone or damaged."""
        return self.blobs.get(sha256, size)

    def attachment_uses(self, conversation_id: int) -> list[tuple[str, int]]:
        """(sha256, size) of every attachment the conversation uses, by hash."""
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT sha256, size FROM attachment_uses WHERE conversation_id = ?"
                " ORDER BY sha256",
                (conversation_id,),
            ).fetchall()
        )
        return [(row[0], row[1]) for row in rows if is_sha256(row[0])]

    # ----------------------------------------------------------------- turns

    def add_turn(
        self,
        conversation_id: int,
        role: Role,
        content: str,
        *,
        state: TurnState = "complete",
        request_params: Mapping[str, Any] | None = None,
        tool_result_for: str | None = None,
        attachments: Sequence[Mapping[str, Any]] = (),
        response_schema: Mapping[str, Any] | None = None,
    ) -> TurnRecord:
        """Append a turn (the user's prompt when sent; the assistant's as "streaming").

        A user turn may answer a tool call (``tool_result_for``) and carry ``attachments``
        (refs: kind, name, sha256, size, …); an answer records the JSON schema it was asked
        to follow."""
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
                " request_params, created_at, updated_at, tool_result_for, attachments,"
                " response_schema) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    position,
                    role,
                    content,
                    state,
                    None if request is None else json.dumps(request),
                    now,
                    now,
                    tool_result_for,
                    json.dumps([dict(ref) for ref in attachments]) if attachments else None,
                    None if response_schema is None else json.dumps(dict(response_schema)),
                ),
            )
            conn.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
            )
            _record_uses(conn, conversation_id, attachments)
            return cast(int, cursor.lastrowid)

        try:
            turn_id = self._write(insert)
        except sqlite3.IntegrityError as exc:
            raise NotFound(f"no conversation {conversation_id}") from exc
        return self.get_turn(turn_id)

    def checkpoint_turn(self, turn_id: int, content: str, thinking: str | None = None) -> None:
        """Save a streaming turn's text (and thinking) so far; cheap enough to call every
        second."""
        now = self._now()
        if thinking is None:
            self._write(
                lambda conn: conn.execute(
                    "UPDATE turns SET content = ?, updated_at = ? WHERE id = ?",
                    (content, now, turn_id),
                )
            )
            return
        self._write(
            lambda conn: conn.execute(
                "UPDATE turns SET content = ?, thinking = ?, updated_at = ? WHERE id = ?",
                (content, thinking, now, turn_id),
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
        thinking: str = "",
        tool_calls: Sequence[Mapping[str, Any]] = (),
        tool_choice_unsatisfied: bool = False,
        schema_match: bool | None = None,
        schema_problem: str | None = None,
    ) -> TurnRecord:
        """Record a turn's final text and outcome (done, error, cancel, interruption), with
        its thinking, tool calls and the check against its JSON schema."""
        if state not in TURN_STATES:
            raise ValueError(f"unknown turn state {state!r}")
        now = self._now()

        def update(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE turns SET content = ?, state = ?, error_code = ?, error_message = ?,"
                " prompt_tokens = ?, completion_tokens = ?, stop_reason = ?, backend = ?,"
                " time_to_first_token_s = ?, tokens_per_s = ?, grammar_match = ?,"
                " grammar_match_offset = ?, thinking = ?, tool_calls = ?,"
                " tool_choice_unsatisfied = ?, schema_match = ?, schema_problem = ?,"
                " updated_at = ? WHERE id = ?",
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
                    thinking,
                    json.dumps([dict(call) for call in tool_calls]) if tool_calls else None,
                    int(tool_choice_unsatisfied),
                    None if schema_match is None else int(schema_match),
                    schema_problem,
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
                f"SELECT {TURN_COLUMNS} FROM turns WHERE id = ?", (turn_id,)
            ).fetchone()
        )
        if row is None:
            raise NotFound(f"no turn {turn_id}")
        return row_to_turn(row)

    def turns(self, conversation_id: int) -> list[TurnRecord]:
        """All turns of a conversation in order."""
        rows = self._read(
            lambda conn: conn.execute(
                f"SELECT {TURN_COLUMNS} FROM turns WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
        )
        return [row_to_turn(row) for row in rows]

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
        try:
            return self._read(lambda conn: search_turns(conn, query, limit))
        except sqlite3.OperationalError:
            # The query is built to be valid; a syntax error here must still not crash the UI.
            return []

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

    def export_json(self, conversation_id: int, *, with_attachments: bool = False) -> str:
        """The conversation and each turn's exact request parameters and grammar, as JSON;
        `with_attachments` embeds the bytes of every attachment it uses (base64)."""
        conversation = self.get_conversation(conversation_id)
        embedded: list[tuple[str, bytes]] | None = None
        if with_attachments:
            embedded = [
                (sha, self.attachment(sha, size))
                for sha, size in self.attachment_uses(conversation_id)
            ]
        return export_document(conversation, self.turns(conversation_id), attachments=embedded)

    def export_markdown(self, conversation_id: int) -> str:
        conversation = self.get_conversation(conversation_id)
        return render_markdown(conversation, self.turns(conversation_id))

    def import_json(self, text: str) -> int:
        """Create a conversation from `export_json` output; returns its id.

        Embedded attachments are checked (sha256 and size, both before anything is kept)
        and kept under their hash; nothing in the document names a path."""
        conversation, turns = parse_export(text)
        attachments = parse_export_attachments(text)
        for data in attachments.values():
            self.blobs.put(data)

        def insert(conn: sqlite3.Connection) -> int:
            new_id = insert_imported(conn, conversation, turns)
            # What its turns refer to, embedded or not (bytes already kept here still count).
            for turn in turns:
                _record_uses(conn, new_id, turn.get("attachments") or ())
            _record_uses(
                conn,
                new_id,
                [{"sha256": sha, "size": len(data)} for sha, data in attachments.items()],
            )
            return new_id

        return self._write(insert)


def _record_uses(
    conn: sqlite3.Connection, conversation_id: int, refs: Sequence[Mapping[str, Any]]
) -> None:
    """The conversation uses these attachments (refs: sha256 and size), inside the caller's
    transaction; a ref without a valid hash or size names no bytes and is skipped."""
    rows = [
        (conversation_id, ref["sha256"], ref["size"])
        for ref in refs
        if is_sha256(ref.get("sha256"))
        and isinstance(ref.get("size"), int)
        and not isinstance(ref.get("size"), bool)
    ]
    if rows:
        conn.executemany(
            "INSERT OR IGNORE INTO attachment_uses (conversation_id, sha256, size)"
            " VALUES (?, ?, ?)",
            rows,
        )
