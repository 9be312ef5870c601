from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # Textual runs on asyncio; the anyio plugin drives the async tests.
    return "asyncio"
