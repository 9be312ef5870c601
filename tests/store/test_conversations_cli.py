"""``inferd-tui conversations``: export with embedded attachments, import them elsewhere."""

from __future__ import annotations

import errno
import io
import json
import os
from pathlib import Path

import pytest

from inferd_tui.cli import build_parser
from inferd_tui.store import Store, default_store_path

RGB = bytes(range(240)) * 10


def run(argv: list[str]) -> tuple[int, str, str]:
    args = build_parser().parse_args(["conversations", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = args.func(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, int, str]:
    data = tmp_path / "source"
    with Store.open(default_store_path(data)) as store:
        conversation = store.create_conversation("the [b]harbour[/b]")
        store.add_turn(conversation.id, "user", "what is this?")
        sha = store.put_attachment(conversation.id, RGB)
    return data, conversation.id, sha


def test_export_with_attachments_then_import_elsewhere(
    tmp_path: Path, source: tuple[Path, int, str]
) -> None:
    data, conversation_id, sha = source
    code, listing, _ = run(["list", "--data-dir", str(data)])
    assert code == 0
    assert "the [b]harbour[/b]" in listing
    target = tmp_path / "export.json"
    code, _, err = run(
        [
            "export",
            str(conversation_id),
            "--format",
            "json",
            "--with-attachments",
            "-o",
            str(target),
            "--data-dir",
            str(data),
        ]
    )
    assert code == 0, err
    assert json.loads(target.read_text())["attachments"][0]["sha256"] == sha
    other = tmp_path / "other"
    code, out, err = run(["import", str(target), "--data-dir", str(other)])
    assert code == 0, err
    with Store.open(default_store_path(other)) as store:
        new_id = int(out)
        assert store.attachment(sha, len(RGB)) == RGB
        assert store.attachment_uses(new_id) == [(sha, len(RGB))]


def test_with_attachments_needs_json_and_unknown_ids_are_named(
    source: tuple[Path, int, str],
) -> None:
    data, conversation_id, _ = source
    code, _, err = run(
        ["export", str(conversation_id), "--with-attachments", "--data-dir", str(data)]
    )
    assert code == 2
    assert "--format json" in err
    code, _, err = run(["export", "999", "--data-dir", str(data)])
    assert code == 1
    assert "no conversation 999" in err


def test_an_export_that_cannot_be_written_keeps_the_old_file(
    tmp_path: Path, source: tuple[Path, int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, conversation_id, _ = source
    target = tmp_path / "export.md"
    target.write_text("the previous export", encoding="utf-8")

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run(["export", str(conversation_id), "-o", str(target), "--data-dir", str(data)])
    assert code == 2
    assert f"cannot write {target}: the disk is full" in err
    assert target.read_text(encoding="utf-8") == "the previous export"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export.md", "source"]
    code, _, err = run(
        ["export", str(conversation_id), "-o", str(tmp_path / "no/x.md"), "--data-dir", str(data)]
    )
    assert code == 2
    assert "that folder does not exist" in err


def test_import_refuses_a_tampered_attachment(
    tmp_path: Path, source: tuple[Path, int, str]
) -> None:
    data, conversation_id, _ = source
    code, text, _ = run(
        [
            "export",
            str(conversation_id),
            "--format",
            "json",
            "--with-attachments",
            "--data-dir",
            str(data),
        ]
    )
    document = json.loads(text)
    document["attachments"][0]["sha256"] = "0" * 64
    target = tmp_path / "tampered.json"
    target.write_text(json.dumps(document))
    code, _, err = run(["import", str(target), "--data-dir", str(tmp_path / "other")])
    assert code == 1
    assert "does not hash to it" in err
