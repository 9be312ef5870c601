"""Fixtures for the headless command tests: an isolated environment and short socket paths."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
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


@pytest.fixture
def forbid(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """``forbid(directory)``: looking inside it fails with EACCES, as inside another user's
    0700 directory (faked: the tests may run as root, whom modes do not stop)."""
    forbidden: list[Path] = []
    real_stat = Path.stat

    def stat(self: Path, *, follow_symlinks: bool = True) -> os.stat_result:
        if any(self.is_relative_to(directory) and self != directory for directory in forbidden):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_stat(self, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(Path, "stat", stat)
    return forbidden.append
