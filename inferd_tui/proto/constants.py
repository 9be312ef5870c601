"""Protocol v1 constants (protocol-v1.md §3, §4)."""

from __future__ import annotations

from typing import Final

#: Largest frame either side may send, excluding the terminating ``\n``.
MAX_FRAME_BYTES: Final = 67_108_864

#: Defaults the daemon applies when a field is omitted; shown as placeholders, never sent.
DEFAULT_TEMPERATURE: Final = 1.0
DEFAULT_TOP_P: Final = 0.95
DEFAULT_TOP_K: Final = 64
DEFAULT_MAX_TOKENS: Final = 1000

#: The only values the daemon accepts for ``image_token_budget``.
VALID_IMAGE_TOKEN_BUDGETS: Final[tuple[int, ...]] = (70, 140, 280, 560, 1120)

#: The ``id`` of every admin frame.
ADMIN_FRAME_ID: Final = "admin"
