"""The user's own files (grammars, schemas, exports): failures said in words a person can
act on, and writes that never leave half a file behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "the disk is full; free some space or pick another disk",
    errno.EDQUOT: "the disk quota is used up; free some space",
    errno.EROFS: "the file system is read-only; pick another folder",
    errno.EISDIR: "that is a folder, not a file",
    errno.ENOTDIR: "part of that path is a file, not a folder",
    errno.ENAMETOOLONG: "the path is too long",
}


def describe_os_error(exc: OSError) -> str:
    """Why reading or writing a file failed, e.g. "the disk is full; free some space or
    pick another disk" (the errno's own text when there is nothing better to say)."""
    if exc.errno == errno.ENOENT:
        folder_there = exc.filename is not None and Path(os.fsdecode(exc.filename)).parent.is_dir()
        return "there is no such file" if folder_there else "that folder does not exist"
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return exc.strerror or type(exc).__name__


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file beside it, so a failure
    (a full disk, say) never leaves a half-written file where the old one was. The old
    file's permissions are kept; raises OSError."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
