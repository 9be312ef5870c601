"""Attachment bytes, kept once per content (sha256) next to the conversation database.

A user turn refers to what it sent by content hash (`AttachmentRef.sha256`); the bytes
themselves — the exact RGB or f32 PCM that went on the wire — live here, so regenerating,
editing and reopening a conversation re-send exactly the same bytes.

Layout: `<data dir>/attachments/<first two hex digits>/<sha256>`. A name is only ever
built from a validated 64-digit lowercase hex string, so nothing a file, an export or the
database says can make the store write (or delete) outside its directory. Writes go to a
temporary file in the same directory and are renamed into place: a crash leaves either
the whole blob or none. `get` re-hashes what it reads, so a damaged file is reported
rather than sent.

`BlobStore(None)` keeps everything in a dict (`--no-save`, and a store that fell back to
memory).

Which conversation uses which blob is the store's `attachment_uses` table (schema 3); the
`Store` deletes a blob when the last conversation using it goes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Final

from inferd_tui.store.errors import StoreError

ATTACHMENTS_DIRNAME: Final = "attachments"

_SHA256 = re.compile(r"[0-9a-f]{64}")


class AttachmentMissing(StoreError):
    """An attachment's bytes are gone or damaged; the message names the hash."""


def is_sha256(value: object) -> bool:
    """A lowercase 64-digit hex string: the only names the store builds paths from."""
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Bytes by their sha256, in `directory` (created on the first `put`) or in memory."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memory: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @property
    def in_memory(self) -> bool:
        return self.directory is None

    def _path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            # Checked here, where every path is built, not only where input arrives.
            raise ValueError(f"not a sha256: {sha256[:80]!r}")
        assert self.directory is not None
        return self.directory / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Keep `data` (a second copy of the same content costs nothing); its sha256."""
        digest = sha256_of(data)
        if self.directory is None:
            with self._lock:
                self._memory.setdefault(digest, bytes(data))
            return digest
        target = self._path(digest)
        if _has_size(target, len(data)):
            return digest
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(temp_name, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
                raise
        except OSError as exc:
            raise StoreError(
                f"could not keep an attachment in {self.directory}: {exc.strerror or exc}"
            ) from exc
        return digest

    def get(self, sha256: str, size: int | None = None) -> bytes:
        """The bytes named `sha256`; `AttachmentMissing` if they are gone, or their size or
        hash is not what was kept."""
        if not is_sha256(sha256):
            raise AttachmentMissing(f"{sha256[:80]!r} is not an attachment hash")
        if self.directory is None:
            with self._lock:
                data = self._memory.get(sha256)
            if data is None:
                raise AttachmentMissing(f"attachment {sha256[:12]}… is not in this session")
        else:
            try:
                data = self._path(sha256).read_bytes()
            except FileNotFoundError:
                raise AttachmentMissing(
                    f"attachment {sha256[:12]}… is missing from {self.directory}"
                ) from None
            except OSError as exc:
                raise AttachmentMissing(
                    f"attachment {sha256[:12]}… cannot be read: {exc.strerror or exc}"
                ) from exc
        if size is not None and len(data) != size:
            raise AttachmentMissing(
                f"attachment {sha256[:12]}… is {len(data):,} bytes, not the {size:,} sent"
            )
        if sha256_of(data) != sha256:
            raise AttachmentMissing(f"attachment {sha256[:12]}… is damaged (hash mismatch)")
        return data

    def has(self, sha256: str) -> bool:
        if not is_sha256(sha256):
            return False
        if self.directory is None:
            with self._lock:
                return sha256 in self._memory
        return self._path(sha256).is_file()

    def discard(self, sha256: str) -> None:
        """Forget the bytes named `sha256` (nothing if they are not kept)."""
        if not is_sha256(sha256):
            return
        if self.directory is None:
            with self._lock:
                self._memory.pop(sha256, None)
            return
        path = self._path(sha256)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        # The fan-out directory goes when empty; another blob may be landing in it.
        with contextlib.suppress(OSError):
            path.parent.rmdir()


def _has_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False
