"""Fixtures for the headless command tests: an isolated environment and short socket paths."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short directory: AF_UNIX paths are limited to 107 bytes, tmp_path can be longer."""
    path = Path(tempfile.mkdtemp(prefix="hl-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, short_tmp: Path) -> Path:
    """No user config, no daemon variables: the default run dir is an empty ``$HOME``."""
    home = short_tmp / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".data"))
    for name in (
        "XDG_RUNTIME_DIR",
        "INFERD_UDS",
        "INFERD_TCP",
        "INFERD_ADMIN_ADDR",
        "INFERD_API_KEY",
        "INFERD_TUI_CONFIG",
        "INFERD_TUI_THEME",
    ):
        monkeypatch.delenv(name, raising=False)
    return home
