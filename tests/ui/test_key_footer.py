"""The footer rebuilds its keys only when the keys it shows change."""

from __future__ import annotations

from typing import ClassVar

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input
from ui_harness import until

from inferd_tui.ui.widgets.key_footer import KeyFooter

pytestmark = pytest.mark.anyio


class WithOwnKey(Input):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f6", "noop", "Own key")]

    def action_noop(self) -> None:
        pass


class FooterApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f1", "noop", "Help")]

    def __init__(self) -> None:
        super().__init__()
        self.rebuilds = 0

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
