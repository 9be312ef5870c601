"""``inferd-tui conversations``: list, export and import saved conversations from a shell.

::

    inferd-tui conversations list
    inferd-tui conversations export ID [--format markdown|json] [--with-attachments] [-o FILE]
    inferd-tui conversations import FILE

The store is the app's (the settings' ``data_dir``, or ``--data-dir``). JSON exports can
embed each attachment's bytes (base64, ``--with-attachments``); importing such a file
checks every attachment's sha256 and size before keeping anything, and keeps them under
their hash in the store's own directory — nothing in the file names a path.

Exit codes: 0 done; 1 no such conversation, or a file that is not an export; 2 a usage or
config error, or the store cannot be opened (another inferd-tui has it open).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "conversations",
        help="list, export or import saved conversations",
        description="Saved conversations: list them, export one (Markdown or JSON, "
        "optionally with its attachments embedded), import a JSON export.",
    )
    _add_store_flags(parser)
    actions = parser.add_subparsers(dest="conversations_action", metavar="ACTION")
    listing = actions.add_parser("list", help="id, last update, turns and title of each")
    _add_store_flags(listing)
    listing.set_defaults(func=run_list)
    export = actions.add_parser("export", help="write one conversation as Markdown or JSON")
    _add_store_flags(export)
    export.add_argument("id", type=int, help="the conversation's id (see `list`)")
    export.add_argument(
        "--format", choices=("markdown", "json"), default="markdown", help="default: markdown"
    )
    export.add_argument(
        "--with-attachments",
        action="store_true",
        help="JSON only: embed each attachment's bytes (base64) so the file is complete",
    )
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here (default: stdout)"
    )
    export.set_defaults(func=run_export)
    imported = actions.add_parser("import", help="add a conversation from a JSON export")
    _add_store_flags(imported)
    imported.add_argument("file", type=Path, help="a JSON export (`-` reads stdin)")
    imported.set_defaults(func=run_import)
    parser.set_defaults(func=lambda args: _usage(parser))


def _add_store_flags(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a subcommand's default must not overwrite a flag given before it.
    parser.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS, help="configuration file to use"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="where the conversation store is (default: the settings' data_dir)",
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: choose an action: list, export or import", file=sys.stderr)
    return 2


def _store_path(args: argparse.Namespace, err: TextIO) -> Path | None:
    from inferd_tui.settings import ConfigError, flags_from_namespace, load_settings
    from inferd_tui.store import default_store_path

    data_dir = getattr(args, "data_dir", None)
    if data_dir is None:
        try:
            flags = {k: v for k, v in flags_from_namespace(args).items() if k != "data_dir"}
            data_dir = load_settings(flags, os.environ).settings.data_dir
        except ConfigError as exc:
            print(f"inferd-tui: config error: {exc}", file=err)
            return None
    return default_store_path(data_dir)


def _open(args: argparse.Namespace, err: TextIO) -> Any:
    from inferd_tui.store import Store, StoreUnavailable

    path = _store_path(args, err)
    if path is None:
        return None
    try:
        return Store.open(path)
    except StoreUnavailable as exc:
        print(f"inferd-tui: {exc.title}: {exc.detail}", file=err)
        return None


def run_list(
    args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    from inferd_tui.text_safety import sanitize

    out, err = out or sys.stdout, err or sys.stderr
    store = _open(args, err)
    if store is None:
        return 2
    with store:
        for record in store.list_conversations():
            turns = len(store.turns(record.id))
            title = sanitize(record.title, keep_newlines=False)
            print(
                f"{record.id:>5}  {record.updated_at:%Y-%m-%d %H:%M}  {turns:>4} turns  {title}",
                file=out,
            )
    return 0


def run_export(
    args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    from inferd_tui.store import NotFound, StoreError

    out, err = out or sys.stdout, err or sys.stderr
    if args.with_attachments and args.format != "json":
        print(
            "inferd-tui: --with-attachments needs --format json (Markdown names each "
            "attachment: name, size and sha256)",
            file=err,
        )
        return 2
    store = _open(args, err)
    if store is None:
        return 2
    with store:
        try:
            if args.format == "json":
                text = store.export_json(args.id, with_attachments=args.with_attachments)
            else:
                text = store.export_markdown(args.id)
        except NotFound:
            print(f"inferd-tui: no conversation {args.id} (see `conversations list`)", file=err)
            return 1
        except StoreError as exc:  # an attachment's bytes gone or damaged
            print(f"inferd-tui: cannot export conversation {args.id}: {exc}", file=err)
            return 1
    if args.output is None:
        out.write(text)
        return 0
    from inferd_tui.files import describe_os_error, write_text_atomically

    try:
        write_text_atomically(args.output, text)
    except OSError as exc:
        print(f"inferd-tui: cannot write {args.output}: {describe_os_error(exc)}", file=err)
        return 2
    print(f"exported conversation {args.id} to {args.output}", file=err)
    return 0


def run_import(
    args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    from inferd_tui.store import ImportFormatError, StoreError

    out, err = out or sys.stdout, err or sys.stderr
    try:
        stdin = str(args.file) == "-"
        text = sys.stdin.read() if stdin else args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"inferd-tui: cannot read {args.file}: {exc}", file=err)
        return 2
    store = _open(args, err)
    if store is None:
        return 2
    with store:
        try:
            new_id = store.import_json(text)
        except ImportFormatError as exc:
            print(f"inferd-tui: {args.file} is not a conversation export: {exc}", file=err)
            return 1
        except StoreError as exc:
            print(f"inferd-tui: cannot import {args.file}: {exc}", file=err)
            return 2
    print(new_id, file=out)
    return 0
