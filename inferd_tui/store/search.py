"""Full-text search over turns: safe FTS5 queries and highlight spans without markup.

The SQL lives here too, so the `Store` method only supplies the connection.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from inferd_tui.store.records import Role

# Snippet markers: control characters that never reach the screen (aligned away below).
_START, _END = "\x02", "\x03"


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


def search_turns(conn: sqlite3.Connection, query: str, limit: int) -> list[SearchHit]:
    """Best matches first; raises `sqlite3.OperationalError` on a query FTS5 rejects."""
    match = fts_query(query)
    if match is None:
        return []
    rows = conn.execute(
        "SELECT t.conversation_id, c.title, t.id, t.position, t.role,"
        " snippet(turns_fts, 0, ?, ?, '…', 16), snippet(turns_fts, 0, '', '', '…', 16)"
        " FROM turns_fts JOIN turns t ON t.id = turns_fts.rowid"
        " JOIN conversations c ON c.id = t.conversation_id"
        " WHERE turns_fts MATCH ? ORDER BY rank LIMIT ?",
        (_START, _END, match, limit),
    ).fetchall()
    return [
        SearchHit(
            conversation_id=row[0],
            conversation_title=row[1],
            turn_id=row[2],
            position=row[3],
            role=row[4],
            snippet=_align_highlights(row[5], row[6], _START, _END),
        )
        for row in rows
    ]
