"""`inferd-tui config path` and `inferd-tui config show`.

Registration is argparse glue only; settings are loaded when a command runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    config = subparsers.add_parser(
        "config",
        help="where the configuration file is and what the effective settings are",
        description="Inspect inferd-tui's configuration (flags > environment > file > defaults).",
    )
    _add_config_flag(config)
    actions = config.add_subparsers(dest="config_action", metavar="ACTION")
    path = actions.add_parser("path", help="print the config file path in use and if it exists")
    _add_config_flag(path)
    path.set_defaults(func=run_path)
    show = actions.add_parser(
        "show", help="print each effective setting and where it came from (never the API key)"
    )
    _add_config_flag(show)
    show.set_defaults(func=run_show)
    config.set_defaults(func=lambda args: _usage(config))


def _add_config_flag(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a subcommand's default must not overwrite a --config given before it.
    parser.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS, help="configuration file to use"
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: choose an action: path or show", file=sys.stderr)
    return 2


def run_path(
    args: argparse.Namespace,
    *,
    env: Mapping[str, str] | None = None,
    default_path: Path | None = None,
    out: TextIO | None = None,
) -> int:
    from inferd_tui.settings import flags_from_namespace, resolve_config_path

    out = out or sys.stdout
    path, source, _explicit = resolve_config_path(
        flags_from_namespace(args), os.environ if env is None else env, default_path
    )
    state = "exists" if path.is_file() else "does not exist"
    print(path, file=out)
    print(f"# {state}; chosen by {source}", file=out)
    return 0


def run_show(
    args: argparse.Namespace,
    *,
    env: Mapping[str, str] | None = None,
    default_path: Path | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    from inferd_tui.settings import ConfigError, flags_from_namespace, load_settings
    from inferd_tui.ui.launch import binding_ids, theme_names

    out = out or sys.stdout
    err = err or sys.stderr
    environment = os.environ if env is None else env
    try:
        loaded = load_settings(
            flags_from_namespace(args),
            environment,
            default_path,
            binding_ids=binding_ids(),
            theme_names=theme_names(),
        )
    except ConfigError as exc:
        print(f"inferd-tui: config error: {exc}", file=err)
        return 2

    state = "found" if loaded.config_exists else "not found, defaults apply"
    print(
        f"config file: {loaded.config_path} ({state}; chosen by {loaded.config_source})", file=out
    )
    values = _leaf_values(loaded.settings.model_dump(mode="json"))
    rows = [(key, values.get(key), source) for key, source in loaded.sources.items()]
    width = max(len(key) for key, _, _ in rows)
    value_width = min(40, max(len(_show(value)) for _, value, _ in rows))
    for key, value, source in rows:
        print(f"{key:<{width}}  {_show(value):<{value_width}}  {source}", file=out)
    key_env = loaded.settings.endpoint.api_key_env
    key_state = "set" if environment.get(key_env) else "not set"
    print(f"{'API key':<{width}}  ${key_env} is {key_state} (the value is never shown)", file=out)
    return 0


def _leaf_values(dumped: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in dumped.items():
        if name == "keymap":
            values["keymap"] = value or None
            values.update({f"keymap.{binding}": keys for binding, keys in value.items()})
        elif isinstance(value, dict):
            values.update({f"{name}.{inner}": item for inner, item in value.items()})
        else:
            values[name] = value
    return values


def _show(value: Any) -> str:
    return "(not set)" if value is None else json.dumps(value, ensure_ascii=False)
