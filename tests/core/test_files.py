"""The user's files: reasons a person can act on, and writes that never leave half a file."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from inferd_tui.files import describe_os_error, write_text_atomically


def test_a_missing_file_is_not_called_a_missing_folder(tmp_path: Path) -> None:
    missing_file = OSError(errno.ENOENT, os.strerror(errno.ENOENT), str(tmp_path / "x.json"))
    missing_folder = OSError(errno.ENOENT, os.strerror(errno.ENOENT), str(tmp_path / "a/x"))
    no_name = OSError(errno.ENOENT, os.strerror(errno.ENOENT))
    assert describe_os_error(missing_file) == "there is no such file"
    assert describe_os_error(missing_folder) == "that folder does not exist"
    assert describe_os_error(no_name) == "that folder does not exist"


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (errno.ENOSPC, "the disk is full; free some space or pick another disk"),
        (errno.EACCES, "permission denied"),
        (errno.EROFS, "the file system is read-only; pick another folder"),
        (errno.EISDIR, "that is a folder, not a file"),
    ],
)
def test_common_failures_are_said_plainly(code: int, said: str) -> None:
    assert describe_os_error(OSError(code, os.strerror(code))) == said


def test_anything_else_keeps_the_systems_words() -> None:
    assert describe_os_error(OSError(errno.EIO, os.strerror(errno.EIO))) == os.strerror(errno.EIO)
    assert describe_os_error(OSError()) == "OSError"


def test_an_atomic_write_replaces_the_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "grammar.gbnf"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    write_text_atomically(target, "new ✓\n")
    assert target.read_text(encoding="utf-8") == "new ✓\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["grammar.gbnf"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "export.md"
    target.write_text("old", encoding="utf-8")

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        write_text_atomically(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export.md"]


def test_a_folder_is_not_overwritten(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        write_text_atomically(tmp_path, "text")
