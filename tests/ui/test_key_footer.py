"""The footer rebuilds its keys only when the keys it shows change."""

from __future__ import annotations

from typing import ClassVar

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input
from textual.widgets._footer import FooterKey
from ui_harness import until

from inferd_tui.ui.widgets.key_footer import KeyFooter

pytestmark = pytest.mark.anyio


class WithOwnKey(Input):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f6", "noop", "Own key")]

    def action_noop(self) -> None:
        pass


class FooterApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "noop", "Help", id="help"),
        Binding("f2", "switch", "Switch", id="switch"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rebuilds = 0
        self.switch_allowed = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch" and not self.switch_allowed:
            return None  # shown, but dimmed
        return True

    def action_switch(self) -> None:
        pass

    def compose(self) -> ComposeResult:
        yield Input(id="first")
        yield Input(id="second")
        yield WithOwnKey(id="own")
        yield KeyFooter()

    def action_noop(self) -> None:
        pass


def shown(app: FooterApp) -> str:
    footer = app.query_one(KeyFooter)
    return " ".join(str(key.render()) for key in footer.children)


def dimmed(app: FooterApp) -> list[str]:
    return [str(key.render()) for key in app.query(FooterKey) if key.has_class("-disabled")]


async def test_focus_that_leaves_the_keys_alone_does_not_rebuild_the_footer() -> None:
    app = FooterApp()
    async with app.run_test() as pilot:
        footer = app.query_one(KeyFooter)
        await until(pilot, lambda: "Help" in shown(app), "the footer's keys")
        recompose = footer.recompose

        async def counted() -> None:
            app.rebuilds += 1
            await recompose()

        footer.recompose = counted  # type: ignore[method-assign]
        app.query_one("#first", Input).focus()
        await pilot.pause()
        app.query_one("#second", Input).focus()
        await pilot.pause()
        await pilot.pause()
        assert app.rebuilds == 0  # the same keys: nothing to rebuild
        assert "Own key" not in shown(app)

        app.query_one("#own", WithOwnKey).focus()  # a widget with a key of its own
        await until(pilot, lambda: "Own key" in shown(app), "the focused widget's key")
        assert app.rebuilds == 1

        app.query_one("#first", Input).focus()
        await until(pilot, lambda: "Own key" not in shown(app), "the key gone again")
        assert app.rebuilds == 2


async def test_a_key_turning_disabled_a_new_keymap_and_a_blur_are_all_shown() -> None:
    app = FooterApp()
    async with app.run_test() as pilot:
        await until(pilot, lambda: "Switch" in shown(app), "the footer's keys")
        app.switch_allowed = False
        app.refresh_bindings()
        await until(pilot, lambda: any("Switch" in key for key in dimmed(app)), "dimmed")

        app.update_keymap({"help": "f5"})
        await until(pilot, lambda: "f5" in shown(app), "the rebound key")

        # Changed while the terminal has no focus, then focus comes back: the footer
        # shows the keys as they are, not as they were when it last drew.
        app.post_message(events.AppBlur())
        await pilot.pause()
        app.switch_allowed = True
        app.refresh_bindings()
        app.update_keymap({"help": "f6"})
        await pilot.pause()
        app.post_message(events.AppFocus())
        await until(pilot, lambda: "f6" in shown(app) and not dimmed(app), "the keys as they are")
