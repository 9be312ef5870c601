"""Attachment bytes kept once per content next to the database, and dropped with the last
conversation that uses them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from inferd_tui.store import ImportFormatError, Store
from inferd_tui.store.attachments import AttachmentMissing, BlobStore, sha256_of

RGB = bytes(range(256)) * 12  # 3,072 bytes: a 32×32 image
PCM = b"\x00\x00\x80\x3f" * 100


def blob_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_put_keeps_one_file_per_content_beside_the_database(store: Store, db_path: Path) -> None:
    first = store.create_conversation("one")
    second = store.create_conversation("two")
    sha = store.put_attachment(first.id, RGB)
    assert sha == sha256_of(RGB)
    assert store.put_attachment(second.id, RGB) == sha
    directory = db_path.parent / "attachments"
    assert blob_files(directory) == [directory / sha[:2] / sha]
    assert store.attachment(sha, len(RGB)) == RGB
    assert store.attachment_uses(first.id) == [(sha, len(RGB))]


def test_deleting_a_conversation_keeps_what_another_one_uses(store: Store, db_path: Path) -> None:
    first = store.create_conversation("one")
    second = store.create_conversation("two")
    shared = store.put_attachment(first.id, RGB)
    store.put_attachment(second.id, RGB)
    own = store.put_attachment(first.id, PCM)
    store.delete_conversation(first.id)
    assert store.blobs.has(shared)
    assert not store.blobs.has(own)
    store.delete_conversation(second.id)
    assert blob_files(db_path.parent / "attachments") == []


def test_damaged_or_missing_bytes_are_reported_not_sent(store: Store) -> None:
    conversation = store.create_conversation()
    sha = store.put_attachment(conversation.id, RGB)
    assert store.blobs.directory is not None
    path = store.blobs.directory / sha[:2] / sha
    path.write_bytes(b"\xff" + RGB[1:])
    with pytest.raises(AttachmentMissing, match="damaged"):
        store.attachment(sha, len(RGB))
    path.write_bytes(RGB[:-1])
    with pytest.raises(AttachmentMissing, match="not the 3,072 sent"):
        store.attachment(sha, len(RGB))
    path.unlink()
    with pytest.raises(AttachmentMissing, match="missing"):
        store.attachment(sha)


@pytest.mark.parametrize("name", ["../../etc/passwd", "A" * 64, "ab", "/tmp/x", ""])
def test_no_name_but_a_hash_becomes_a_path(tmp_path: Path, name: str) -> None:
    blobs = BlobStore(tmp_path / "attachments")
    with pytest.raises(AttachmentMissing):
        blobs.get(name)
    blobs.discard(name)  # nothing happens, nothing outside is touched
    assert not blobs.has(name)


def test_memory_store_keeps_attachments_in_memory(tmp_path: Path) -> None:
    with Store.memory() as store:
        conversation = store.create_conversation()
        sha = store.put_attachment(conversation.id, PCM)
        assert store.blobs.in_memory
        assert store.attachment(sha, len(PCM)) == PCM
        store.delete_conversation(conversation.id)
        with pytest.raises(AttachmentMissing):
            store.attachment(sha)


def test_export_embeds_attachments_and_import_restores_them(store: Store, tmp_path: Path) -> None:
    conversation = store.create_conversation("pictures")
    store.add_turn(conversation.id, "user", "what is this?")
    sha = store.put_attachment(conversation.id, RGB)
    plain = json.loads(store.export_json(conversation.id))
    assert "attachments" not in plain
    exported = store.export_json(conversation.id, with_attachments=True)
    document = json.loads(exported)
    assert document["attachments"] == [
        {"sha256": sha, "size": len(RGB), "base64": base64.b64encode(RGB).decode()}
    ]
    with Store.open(tmp_path / "other" / "db.sqlite3") as other:
        new_id = other.import_json(exported)
        assert other.attachment(sha, len(RGB)) == RGB
        assert other.attachment_uses(new_id) == [(sha, len(RGB))]
        assert other.export_json(new_id, with_attachments=True) == exported


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": "../" * 21 + "x"}, "sha256: expected 64 lowercase hex"),
        ({"size": 3071}, "size: says 3,071 bytes"),
        ({"base64": base64.b64encode(b"\x01" + RGB[1:]).decode()}, "does not hash"),
        ({"base64": "not base64!"}, "not valid base64"),
        ({"size": 1 << 40}, "past the"),
    ],
)
def test_import_refuses_an_attachment_that_is_not_what_it_says(
    store: Store, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    conversation = store.create_conversation("pictures")
    store.put_attachment(conversation.id, RGB)
    document = json.loads(store.export_json(conversation.id, with_attachments=True))
    document["attachments"][0].update(change)
    with Store.open(tmp_path / "other" / "db.sqlite3") as other:
        with pytest.raises(ImportFormatError, match=message):
            other.import_json(json.dumps(document))
        assert other.list_conversations() == []
        assert not (tmp_path / "other" / "attachments").exists()
