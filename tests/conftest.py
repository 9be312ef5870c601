"""Fixtures shared by the test folders."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest


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
