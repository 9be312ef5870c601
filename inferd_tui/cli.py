"""Command-line entry point.

`inferd-tui` with no subcommand runs the app; subcommands are registered by the modules
that own them (each exposes ``register(subparsers)`` and sets ``func`` to a callable that
takes the parsed namespace and returns an exit code). Registration imports only argparse
glue: heavy imports happen inside each command's ``func``, so start-up stays fast; and a
plain launch of the app does not build the subcommands at all (:func:`parse_args`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

#: What --demo-era plays: the values of `mock-daemon --era` (proto.eras.ERAS, spelled out
#: so that parsing the command line imports nothing).
DEMO_ERAS: tuple[str, ...] = ("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.8")

# Modules that contribute subcommands, in the order `--help` lists them.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "inferd_tui.headless",
    "inferd_tui.grammar.cli",
    "inferd_tui.settings_cli",
    "inferd_tui.conversations_cli",
    "inferd_tui.mock_daemon.cli",
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line and exit 2, never a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags every command that talks to a daemon shares (flags > environment > config)."""
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--socket", metavar="PATH", help="inference socket path")
    target.add_argument("--tcp", metavar="HOST:PORT", help="inference over loopback TCP")
    parser.add_argument("--admin", metavar="PATH", help="admin (events) socket path")
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="name of the environment variable holding the TCP API key (default INFERD_API_KEY)",
    )
    parser.add_argument(
        "--wire",
        choices=("auto", "v1", "v2"),
        help="the wire to speak: auto (ask the daemon, the default), v1, or v2",
    )
    parser.add_argument(
        "--daemon-release",
        metavar="VERSION",
        help="the daemon's inferd release (e.g. 0.5.1), when the admin socket cannot tell it",
    )
    parser.add_argument("--config", metavar="PATH", help="configuration file to use")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start the built-in stand-in daemon for this run (no real daemon needed); it "
        "plays the newest inferd release",
    )
    parser.add_argument(
        "--demo-era",
        choices=DEMO_ERAS,
        metavar="ERA",
        help="the inferd release --demo plays (implies --demo): one of "
        f"{', '.join(DEMO_ERAS)}; 0.3 for the v1 wire and GBNF grammars (default 0.8)",
    )


class _NotTheApp(Exception):
    """The command line is not a plain launch of the app (see :func:`parse_args`)."""


class _AppLaunchParser(ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NotTheApp(message)


def build_parser(*, commands: bool = True) -> ArgumentParser:
    """The command line. ``commands=False`` leaves out the subcommands, ``-h`` (which lists
    them) and ``--version``: what launching the app needs (see :func:`parse_args`)."""
    parser = (ArgumentParser if commands else _AppLaunchParser)(
        prog="inferd-tui",
        description="Terminal UI for the inferd local-inference daemon.",
        add_help=commands,
    )
    add_endpoint_arguments(parser)
    parser.add_argument("--theme", metavar="NAME", help="Textual theme, e.g. textual-dark")
    parser.add_argument(
        "--no-save", action="store_true", help="keep everything in memory; write nothing to disk"
    )
    parser.set_defaults(func=_run_app)
    if not commands:
        # Nor --version: argparse acts on it wherever it stands, even after a command.
        parser.set_defaults(command=None)
        return parser
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        register: Callable[[argparse._SubParsersAction[ArgumentParser]], None] = module.register
        register(subparsers)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Most runs launch the app, and building every subcommand's parser (importing their
    modules, some 150 arguments) costs tens of milliseconds before its first frame. So a
    parser without the subcommands tries first; anything it cannot take alone (a
    subcommand, ``-h``, ``--version``, a mistake) is parsed by the whole parser, so help,
    the version and errors are always the whole parser's.
    """
    try:
        args, rest = build_parser(commands=False).parse_known_args(argv)
    except _NotTheApp:
        rest = ["(not the app)"]
    if rest:
        return build_parser().parse_args(argv)
    return args


def _version() -> str:
    from inferd_tui import __version__

    return f"inferd-tui {__version__}"


def _run_app(args: argparse.Namespace) -> int:
    from inferd_tui.ui.launch import run_app

    return run_app(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
