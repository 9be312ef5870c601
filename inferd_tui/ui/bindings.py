"""Every key binding of the app, collected by id (for the help screen and keymap checks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding

if TYPE_CHECKING:
    from textual.app import App


@dataclass(frozen=True)
class BindingInfo:
    binding_id: str
    keys: str
    description: str
    where: str


def _owners() -> list[tuple[str, type]]:
    from inferd_tui.ui.app import InferdApp
    from inferd_tui.ui.screens.chat import ChatScreen
    from inferd_tui.ui.screens.confirm_invalid_grammar import ConfirmInvalidGrammar
    from inferd_tui.ui.screens.conversations import ConversationsScreen
    from inferd_tui.ui.screens.dialogs import ConfirmDialog, ExportDialog, TextInputDialog
    from inferd_tui.ui.screens.grammar_screen import GrammarScreen
    from inferd_tui.ui.screens.help import HelpScreen
    from inferd_tui.ui.screens.history_search import HistorySearchScreen
    from inferd_tui.ui.screens.presets import PresetsScreen
    from inferd_tui.ui.screens.system_prompt import SystemPromptScreen
    from inferd_tui.ui.widgets.admin_panel import AdminPanel
    from inferd_tui.ui.widgets.grammar_editor import GrammarEditor
    from inferd_tui.ui.widgets.prompt import PromptInput
    from inferd_tui.ui.widgets.sampling_sidebar import SamplingSidebar
    from inferd_tui.ui.widgets.transcript import TranscriptView

    return [
        ("everywhere", InferdApp),
        ("chat", ChatScreen),
        ("prompt box", PromptInput),
        ("transcript (Ctrl+T)", TranscriptView),
        ("sampling sidebar", SamplingSidebar),
        ("admin events", AdminPanel),
        ("grammar editor", GrammarEditor),
        ("grammar workbench", GrammarScreen),
        ("conversations", ConversationsScreen),
        ("prompt history search", HistorySearchScreen),
        ("presets", PresetsScreen),
        ("system prompt", SystemPromptScreen),
        ("invalid-grammar dialog", ConfirmInvalidGrammar),
        ("dialogs", ConfirmDialog),
        ("text dialogs", TextInputDialog),
        ("export dialog", ExportDialog),
        ("help", HelpScreen),
    ]


def all_bindings() -> list[BindingInfo]:
    infos: list[BindingInfo] = []
    for where, owner in _owners():
        for binding in owner.BINDINGS:
            if not isinstance(binding, Binding) or not binding.id:
                continue
            infos.append(BindingInfo(binding.id, binding.key, binding.description, where))
    return infos


def all_binding_ids() -> set[str]:
    return {info.binding_id for info in all_bindings()}


def key_display(app: App[object], binding_id: str) -> str:
    """The key bound to ``binding_id`` now (after the user's keymap), written for prose:
    ``f5`` → ``F5``, ``ctrl+r`` → ``Ctrl+R``."""
    keys = app._keymap.get(binding_id)
    if keys is None:
        keys = next((i.keys for i in all_bindings() if i.binding_id == binding_id), "")
    first = keys.split(",")[0].strip()
    return "+".join(part[:1].upper() + part[1:] for part in first.split("+")) or binding_id
