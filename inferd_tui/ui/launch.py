"""Start the Textual app from parsed command-line arguments."""

from __future__ import annotations

import argparse
from collections.abc import Collection, Iterator


def binding_ids() -> set[str]:
    """Every binding id in the app, for validating the user's keymap."""
    from inferd_tui.ui.bindings import all_binding_ids

    return all_binding_ids()


class BindingIdsOnDemand(Collection[str]):
    """The app's binding ids, collected the first time a keymap entry is checked.

    Collecting them imports every screen, and an empty keymap (the usual case) never asks,
    so the screens are not imported before the first frame just to check nothing.
    """

    def __init__(self) -> None:
        self._ids: set[str] | None = None

    def _loaded(self) -> set[str]:
        if self._ids is None:
            self._ids = binding_ids()
        return self._ids

    def __contains__(self, item: object) -> bool:
        return item in self._loaded()

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def theme_names() -> set[str]:
    """Textual's built-in themes, the ones `--theme` and the config file may name."""
    from textual.theme import BUILTIN_THEMES

    return set(BUILTIN_THEMES)


def run_app(args: argparse.Namespace) -> int:
    from inferd_tui.ui import collector

    # Before anything heavy is imported (settings and pydantic, Textual, the app): the
    # app resumes it after the first frame.
    collector.pause()
    try:
        return _run_app(args)
    finally:
        collector.resume()


def _run_app(args: argparse.Namespace) -> int:
    from inferd_tui.runtime import UsageError, fail_usage, runtime_from_args
    from inferd_tui.store import default_store_path, open_store_or_memory
    from inferd_tui.ui.app import AppConfig, InferdApp
    from inferd_tui.ui.terminal_input import alt_enter_parser

    try:
        with runtime_from_args(
            args, binding_ids=BindingIdsOnDemand(), theme_names=theme_names()
        ) as runtime:
            settings = runtime.loaded.settings
            if settings.no_save:
                store, problem = open_store_or_memory(None)
            else:
                store, problem = open_store_or_memory(
                    default_store_path(settings.data_dir), history_limit=settings.history_limit
                )
            config = AppConfig(
                resolution=runtime.resolution,
                store=store,
                store_problem=str(problem) if problem else None,
                demo=runtime.demo,
                theme=settings.theme,
                keymap=dict(settings.keymap),
                admin_tail_limit=settings.admin_tail_limit,
                system_prompt=settings.system_prompt,
                sampling=settings.sampling.to_wire(),
                wire=settings.wire,
                daemon_release=settings.daemon_release,
                max_image_side=settings.max_image_side,
            )
            try:
                with alt_enter_parser():
                    InferdApp(config).run()
            finally:
                store.close()
    except UsageError as exc:
        return fail_usage("inferd-tui", exc)
    return 0
