"""A file written by the first schema opens, migrates and keeps its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from inferd_tui.store import SCHEMA_VERSION, Store, StoreUnavailable

# The schema-1 DDL as it shipped, copied here so a later edit of the store can't hide a break.
SCHEMA_1_DDL = """
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
PRAGMA user_version = 1;
"""


def write_schema_1_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_1_DDL)
    conn.execute(
        "INSERT INTO conversations VALUES (1, 'Old chat', 'Be brief.', '{\"top_k\": 8}', '', 10, 20)"
    )
    conn.execute(
        "INSERT INTO turns (id, conversation_id, position, role, content, state, created_at,"
        " updated_at) VALUES (1, 1, 0, 'user', 'What is a lighthouse?', 'complete', 11, 11)"
    )
    conn.execute(
        "INSERT INTO turns (id, conversation_id, position, role, content, state, request_params,"
        " stop_reason, created_at, updated_at) VALUES (2, 1, 1, 'assistant',"
        " 'A tower with a lamp', 'streaming', '{\"temperature\": 0.3}', NULL, 12, 12)"
    )
    conn.execute("INSERT INTO prompt_history (text, used_at) VALUES ('What is a lighthouse?', 11)")
    conn.execute("INSERT INTO presets VALUES ('calm', '{\"temperature\": 0.2}', '', '', 5)")
    conn.commit()
    conn.close()


def test_schema_1_file_is_migrated_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    write_schema_1_file(path)

    with Store.open(path) as store:
        conversation = store.get_conversation(1)
        turns = store.turns(1)
        assert (conversation.title, conversation.system_prompt, conversation.params) == (
            "Old chat",
            "Be brief.",
            {"top_k": 8},
        )
        assert [t.content for t in turns] == ["What is a lighthouse?", "A tower with a lamp"]
        assert turns[1].request_params == {"temperature": 0.3}
        assert turns[1].state == "interrupted"  # it was streaming when that session died
        assert turns[1].grammar_match is None
        # Schema 2 indexes the existing turns for full-text search.
        assert [hit.turn_id for hit in store.search("lighthouse")] == [1]
        assert store.prompt_history() == ["What is a lighthouse?"]
        assert [p.name for p in store.presets()] == ["calm"]
        # And the migrated file takes new columns.
        finished = store.finish_turn(2, content="A tower.", state="complete", grammar_match=True)
        assert finished.grammar_match is True

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_file_from_a_newer_version_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE something (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()

    with pytest.raises(StoreUnavailable) as caught:
        Store.open(path)
    assert caught.value.kind == "newer"
    assert str(path) in caught.value.detail
    assert "Upgrade" in caught.value.detail
    assert path.read_bytes() == before


# The schema-2 statements as they shipped (grammar matches, full-text search), applied to a
# schema-1 file: the database the previous version of inferd-tui wrote.
SCHEMA_2_DDL = """
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
PRAGMA user_version = 2;
"""


def write_schema_2_file(path: Path) -> None:
    write_schema_1_file(path)
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_2_DDL)
    conn.execute("UPDATE turns SET state = 'complete' WHERE id = 2")
    conn.execute(
        "INSERT INTO turns (id, conversation_id, position, role, content, state, request_params,"
        " grammar_match, grammar_match_offset, created_at, updated_at) VALUES (3, 1, 2,"
        " 'assistant', 'maybe', 'complete', '{\"grammar\": \"root ::= \\\"yes\\\"\"}', 0, 0, 13,"
        " 13)"
    )
    conn.commit()
    conn.close()


def test_schema_2_file_is_migrated_and_its_conversations_open_and_continue(
    tmp_path: Path,
) -> None:
    from inferd_tui.conversation import AttachmentRef, ToolCallRecord
    from inferd_tui.persistence import ConversationSaver
    from inferd_tui.request_options import RequestOptions

    path = tmp_path / "v2.sqlite3"
    write_schema_2_file(path)

    with Store.open(path) as store:
        record = store.get_conversation(1)
        assert (record.params, record.grammar, record.options) == ({"top_k": 8}, "", {})
        turns = store.turns(1)
        assert [t.content for t in turns] == [
            "What is a lighthouse?",
            "A tower with a lamp",
            "maybe",
        ]
        # Turns written before schema 3 read as carrying nothing new.
        for turn in turns:
            assert (turn.thinking, turn.tool_calls, turn.attachments) == ("", [], [])
            assert (turn.tool_result_for, turn.response_schema, turn.schema_match) == (
                None,
                None,
                None,
            )
            assert turn.tool_choice_unsatisfied is False
        assert (turns[2].grammar_match, turns[2].grammar_match_offset) == (False, 0)
        assert [hit.turn_id for hit in store.search("lighthouse")] == [1]

        # The conversation opens as it was and goes on with the new kinds of turn.
        saver = ConversationSaver(store)
        conversation, options = saver.load(1)
        assert options == RequestOptions.from_stored({"top_k": 8}, "", None)
        assert [t.grammar for t in conversation.turns] == ["", "", 'root ::= "yes"']
        request = conversation.to_chat_request(options)
        assert [m.plain_text for m in request.messages] == [
            "Be brief.",
            "What is a lighthouse?",
            "A tower with a lamp",
            "maybe",
        ]
        prompt = conversation.add_user("Look at this.")
        prompt.attachments = [AttachmentRef("image", "cat.png", "ab" * 32, 12, 2, 2)]
        saver.save_turn(conversation, prompt)
        answer = conversation.begin_answer(request, now=0.0)
        answer.thinking, answer.tool_calls = "hm", [ToolCallRecord("tc-1", "look", {})]
        saver.save_turn(conversation, answer)
        saver.finish(answer)
        saver.save_settings(conversation, RequestOptions(thinking=True))
        reopened, reopened_options = saver.load(1)
        assert reopened.turns[3].attachments == prompt.attachments
        assert reopened.turns[4].tool_calls == [ToolCallRecord("tc-1", "look", {})]
        assert reopened_options.thinking is True

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
