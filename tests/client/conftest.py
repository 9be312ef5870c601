"""Fixtures for the client tests; the scripted servers live in client_helpers.py."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from client_helpers import Handler, serve


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short directory: AF_UNIX paths are limited to 107 bytes, tmp_path can be longer."""
    path = Path(tempfile.mkdtemp(prefix="ic-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def scripted_server(short_tmp: Path) -> Callable[..., Any]:
    """``async with scripted_server(handler, ...) as server:``: a Unix listener whose n-th
    connection runs the n-th handler (the last one repeats)."""

    def start(*handlers: Handler, tcp: bool = False) -> Any:
        return serve(handlers, path=None if tcp else short_tmp / "infer.sock", tcp=tcp)

    return start
