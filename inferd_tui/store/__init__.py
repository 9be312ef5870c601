"""Persistence of conversations, prompt history and presets in one SQLite file.

The store is core: no Textual, no Rich, no I/O at import. Callers import from here; the
modules say what they hold:

- `records`     the frozen records, the wire fields a request keeps, conversation titles
- `errors`      the error tree and how SQLite/OS failures map onto it
- `schema`      tables, migrations, connection settings, rows back into records
- `store`       the `Store` class: one connection, one short transaction per write,
                moving to memory when the file stops taking writes
- `opening`     where the file lives; opening it, or falling back to memory with a reason
- `attachments` attachment bytes by sha256 in a directory beside the file (or memory)
- `search`      full-text search: safe FTS5 queries, highlight spans without markup
- `presets`     what applying a preset would change, in words
- `json_format` the JSON export, and validating one on import
- `markdown`    the readable Markdown transcript

Error tree::

    StoreError
     ├── StoreUnavailable      the file cannot be used (title + an actionable sentence)
     ├── NotFound              no conversation / turn / preset with that id or name
     ├── ImportFormatError     import_json got something that is not our export format
     └── AttachmentMissing     an attachment's bytes are gone or damaged
"""

from inferd_tui.store.attachments import AttachmentMissing, BlobStore, is_sha256, sha256_of
from inferd_tui.store.errors import (
    ImportFormatError,
    NotFound,
    StoreError,
    StoreUnavailable,
    unavailable_from,
)
from inferd_tui.store.json_format import EXPORT_FORMAT, EXPORT_VERSION, parse_export
from inferd_tui.store.markdown import render_markdown
from inferd_tui.store.opening import (
    APP_NAME,
    STORE_FILENAME,
    default_store_path,
    open_store_or_memory,
)
from inferd_tui.store.presets import HasSamplingSetup, preset_diff
from inferd_tui.store.records import (
    DEFAULT_TITLE,
    ROLES,
    SAMPLING_FIELDS,
    TURN_REQUEST_FIELDS,
    TURN_STATES,
    ConversationRecord,
    Preset,
    Role,
    TurnRecord,
    TurnState,
    clean_params,
    title_from_prompt,
)
from inferd_tui.store.schema import MIGRATIONS, SCHEMA_VERSION
from inferd_tui.store.search import HighlightedText, SearchHit, fts_query
from inferd_tui.store.store import Store

__all__ = [
    "APP_NAME",
    "DEFAULT_TITLE",
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "MIGRATIONS",
    "ROLES",
    "SAMPLING_FIELDS",
    "SCHEMA_VERSION",
    "STORE_FILENAME",
    "TURN_REQUEST_FIELDS",
    "TURN_STATES",
    "AttachmentMissing",
    "BlobStore",
    "ConversationRecord",
    "HasSamplingSetup",
    "HighlightedText",
    "ImportFormatError",
    "NotFound",
    "Preset",
    "Role",
    "SearchHit",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TurnRecord",
    "TurnState",
    "clean_params",
    "default_store_path",
    "fts_query",
    "is_sha256",
    "open_store_or_memory",
    "parse_export",
    "preset_diff",
    "render_markdown",
    "sha256_of",
    "title_from_prompt",
    "unavailable_from",
]
