"""Fixtures for the store tests: a store on a temporary file with a deterministic clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inferd_tui.store import Store


class TickingClock:
    """Each call is one second later, so "most recently updated" is never a tie."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "inferd-tui.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(db_path, clock=TickingClock()) as opened:
        yield opened


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()
