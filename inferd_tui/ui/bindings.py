"""Every key binding and palette command of the app, as data.

The app, its screens and widgets build their ``BINDINGS`` from :data:`KEYS`
(:func:`bindings_for`); the help screen lists it, the keymap check in the settings reads
its ids, and notices name the key a user has bound (:func:`key_display`) — none of them
imports a screen to find out. Textual is imported only to build ``Binding`` objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App
    from textual.binding import BindingType


@dataclass(frozen=True)
class Key:
    """One binding: ``keys`` (comma-separated) run ``action``; ``id`` names it for keymaps."""

    keys: str
    action: str
    description: str
    id: str | None = None
    show: bool = True
    priority: bool = False


@dataclass(frozen=True)
class KeyGroup:
    """The bindings of one screen or widget, in footer order; ``where`` is said in help."""

    where: str
    keys: tuple[Key, ...]


KEYS: dict[str, KeyGroup] = {
    "app": KeyGroup(
        "everywhere",
        (
            Key("f1", "help", "Help", id="help"),
            Key("question_mark", "help", "Help", id="help-question", show=False),
            Key("ctrl+q", "quit", "Quit", id="quit", show=False, priority=True),
        ),
    ),
    # The footer shows the few keys needed to chat (it must fit 80 columns); every
    # binding is on the F1 screen and every action in the command palette.
    "chat": KeyGroup(
        "chat",
        (
            Key("escape", "cancel", "Cancel", id="cancel"),
            Key("f5", "regenerate", "Regenerate", id="regenerate"),
            Key("ctrl+n", "new_conversation", "New chat", id="new-conversation", show=False),
            Key("f4", "edit_system_prompt", "System prompt", id="system-prompt", show=False),
            Key("ctrl+g", "grammar", "Grammar", id="grammar"),
            Key("f2", "toggle_sidebar", "Sidebar", id="toggle-sidebar", show=False),
            Key("f3", "toggle_admin", "Events", id="toggle-admin", show=False),
            Key("ctrl+o", "focus_admin", "Focus events", id="focus-admin", show=False),
            Key("ctrl+t", "focus_transcript", "Select turns", id="focus-transcript", show=False),
            # Not Ctrl+Y, F6 or F7: the prompt box uses them (redo, select line, select all).
            Key("f9", "copy_answer", "Copy answer", id="copy-answer", show=False),
            Key("ctrl+end", "follow", "Follow", id="follow", show=False),
            Key("ctrl+l", "conversations", "Chats", id="conversations", show=False),
            Key("ctrl+r", "history_search", "Search prompts", id="history-search", show=False),
            Key("f8", "presets", "Presets", id="presets", show=False),
            # F-keys and Ctrl+F: the prompt box (a TextArea) takes F6/F7 and most Ctrl keys,
            # and Ctrl+B is tmux's prefix. "F" as in function call.
            Key("f10", "toggle_thinking", "Thinking", id="toggle-thinking", show=False),
            Key(
                "ctrl+f", "answer_tool_call", "Answer tool call", id="answer-tool-call", show=False
            ),
            # Alt (ESC + letter) reaches the app through SSH and tmux, which Ctrl+B does not.
            # Priority: a real terminal's Alt+A carries the character "a", which the focused
            # prompt would otherwise type. "a" attach, "d" detach.
            Key("alt+a", "attach_file", "Attach", id="attach-file", show=False, priority=True),
            Key(
                "alt+d",
                "remove_last_attachment",
                "Remove last attachment",
                id="attachment-remove-last",
                show=False,
                priority=True,
            ),
        ),
    ),
    "attachment-chip": KeyGroup(
        "an attachment chip (Tab to it)",
        (Key("delete,backspace", "remove", "Remove attachment", id="attachment-remove"),),
    ),
    "attach-picker": KeyGroup(
        "attach file picker",
        (Key("escape", "cancel", "Cancel", id="attach-cancel"),),
    ),
    "prompt": KeyGroup(
        "prompt box",
        (
            # Send and newline are run by PromptInput._on_key; these entries name their
            # keys, show them in the footer and let a keymap change them.
            Key("enter", "submit", "Send", id="send"),
            Key("ctrl+j,alt+enter", "newline", "Newline", id="newline"),
            Key("up", "history_previous", "Earlier prompt", id="history-previous", show=False),
            Key("down", "history_next", "Later prompt", id="history-next", show=False),
        ),
    ),
    "transcript": KeyGroup(
        "transcript (Ctrl+T)",
        (
            Key("up,k", "select_previous", "Previous turn", id="turn-previous", show=False),
            Key("down,j", "select_next", "Next turn", id="turn-next", show=False),
            Key("y", "copy_turn", "Copy turn", id="turn-copy"),
            Key("c", "copy_code", "Copy code", id="turn-copy-code"),
            Key("e", "edit_turn", "Edit & resend", id="turn-edit"),
            Key("z", "toggle_thinking", "Thinking", id="turn-thinking"),
            Key("end,G", "follow", "Follow", id="transcript-follow", show=False),
            Key("home,g", "scroll_top", "Top", id="transcript-top", show=False),
            Key("pageup", "page_up", "Page up", show=False),
            Key("pagedown", "page_down", "Page down", show=False),
        ),
    ),
    "sampling-sidebar": KeyGroup(
        "sampling sidebar",
        (
            # Not Ctrl+R: that searches earlier prompts everywhere, as in a shell.
            Key("alt+r", "reset", "Reset sampling", id="sampling-reset"),
        ),
    ),
    "admin-panel": KeyGroup(
        "admin events",
        (
            Key("f", "toggle_follow", "Follow events", id="admin-follow"),
            Key("slash", "focus_filter", "Filter events", id="admin-filter"),
            Key("x", "clear", "Clear events", id="admin-clear"),
        ),
    ),
    "grammar-editor": KeyGroup(
        "grammar editor",
        (
            Key("f8", "next_problem", "Next problem", id="grammar-next-problem"),
            Key("shift+f8", "previous_problem", "Previous problem", id="grammar-previous-problem"),
        ),
    ),
    "json-editor": KeyGroup(
        "JSON-schema and tools editors",
        (
            Key("f8", "next_problem", "Next problem", id="json-next-problem"),
            Key("shift+f8", "previous_problem", "Previous problem", id="json-previous-problem"),
        ),
    ),
    "grammar-workbench": KeyGroup(
        "grammar workbench",
        (
            Key("ctrl+g", "apply", "Use grammar", id="grammar-apply"),
            Key("escape", "cancel", "Discard", id="grammar-cancel"),
            Key("ctrl+o", "load", "Load file", id="grammar-load"),
            Key("ctrl+s", "save", "Save file", id="grammar-save"),
            Key("f5", "regenerate", "New samples", id="grammar-regenerate"),
            Key("f2", "focus_examples", "Examples", id="grammar-examples"),
            Key("f3", "focus_path", "File path", id="grammar-path"),
            Key("f4", "focus_test", "Test a string", id="grammar-test"),
            # Not F6/F7: the text areas select a line / everything with them.
            Key("ctrl+t", "toggle_mode", "GBNF/JSON schema", id="grammar-mode"),
        ),
    ),
    "conversations": KeyGroup(
        "conversations",
        (
            Key("escape", "close", "Close", id="conversations-close"),
            Key("enter", "open", "Open", id="conversations-open", priority=True),
            Key("slash", "search", "Search", id="conversations-search"),
            Key("r", "rename", "Rename", id="conversations-rename"),
            Key("d", "delete", "Delete", id="conversations-delete"),
            Key("x", "export", "Export", id="conversations-export"),
            Key("i", "import", "Import JSON", id="conversations-import"),
            Key("up", "cursor_up", "Previous", id="conversations-cursor-up", show=False),
            Key("down", "cursor_down", "Next", id="conversations-cursor-down", show=False),
        ),
    ),
    "history-search": KeyGroup(
        "prompt history search",
        (
            Key("escape", "cancel", "Cancel", id="history-search-cancel"),
            Key("enter", "choose", "Use prompt", id="history-search-choose", priority=True),
            Key("up", "cursor_up", "Newer", id="history-search-newer", show=False),
            Key("down", "cursor_down", "Older", id="history-search-older", show=False),
            Key("ctrl+r", "cursor_down", "Older", id="history-search-next", show=False),
        ),
    ),
    "presets": KeyGroup(
        "presets",
        (
            Key("escape", "close", "Close", id="presets-close"),
            Key("enter", "apply", "Apply", id="presets-apply", priority=True),
            Key("s", "save", "Save current as…", id="presets-save"),
            Key("d", "delete", "Delete", id="presets-delete"),
        ),
    ),
    "system-prompt": KeyGroup(
        "system prompt",
        (
            Key("ctrl+s", "save", "Save", id="system-prompt-save"),
            Key("escape", "cancel", "Cancel", id="system-prompt-cancel"),
        ),
    ),
    "tool-result": KeyGroup(
        "tool result dialog",
        (
            Key("ctrl+s", "send", "Send result", id="tool-result-send"),
            Key("escape", "cancel", "Cancel", id="tool-result-cancel"),
        ),
    ),
    "invalid-grammar": KeyGroup(
        "invalid-grammar dialog",
        (
            Key("escape", "cancel", "Cancel", id="invalid-grammar-cancel"),
            Key("ctrl+s", "send", "Send anyway", id="invalid-grammar-send"),
            Key("left,right", "switch_button", "Switch button", show=False),
        ),
    ),
    "confirm-dialog": KeyGroup(
        "dialogs",
        (
            Key("escape,n", "cancel", "Cancel", id="dialog-cancel"),
            Key("y", "confirm", "Confirm", id="dialog-confirm"),
            Key("left,right", "switch_button", "Switch button", id="dialog-switch", show=False),
        ),
    ),
    "text-dialog": KeyGroup(
        "text dialogs",
        (Key("escape", "cancel", "Cancel", id="dialog-input-cancel"),),
    ),
    "export-dialog": KeyGroup(
        "export dialog",
        (
            Key("escape", "cancel", "Cancel", id="export-cancel"),
            Key("ctrl+t", "toggle_format", "Markdown/JSON", id="export-toggle-format"),
        ),
    ),
    "help": KeyGroup(
        "help",
        (Key("escape,f1,q", "dismiss", "Close", id="help-close"),),
    ),
}


@dataclass(frozen=True)
class BindingInfo:
    binding_id: str
    keys: str
    description: str
    where: str


@dataclass(frozen=True)
class Command:
    """A command palette entry of the chat screen: ``action`` is run as a Textual action."""

    title: str
    help: str
    action: str


CHAT_COMMANDS: tuple[Command, ...] = (
    Command("Send prompt", "Send what is in the prompt box (Enter)", "send"),
    Command(
        "Cancel generation", "Stop the answer being written; keeps the partial text (Esc)", "cancel"
    ),
    Command("Regenerate last answer", "Ask again from your last prompt (F5)", "regenerate"),
    Command(
        "New conversation", "Start over with an empty conversation (Ctrl+N)", "new_conversation"
    ),
    Command(
        "Edit system prompt",
        "Set the system message sent with every request (F4)",
        "edit_system_prompt",
    ),
    Command(
        "Grammar workbench", "Examples, samples, match tests, load/save .gbnf (Ctrl+G)", "grammar"
    ),
    Command(
        "Conversations",
        "Open, rename, delete, search, export or import conversations (Ctrl+L)",
        "conversations",
    ),
    Command(
        "Toggle sampling sidebar", "Show or hide the sampling parameters (F2)", "toggle_sidebar"
    ),
    Command(
        "Toggle admin events", "Show or hide the daemon's lifecycle events (F3)", "toggle_admin"
    ),
    Command(
        "Focus admin events",
        "Move into the events log: f follows, / filters, x clears (Ctrl+O)",
        "focus_admin",
    ),
    Command(
        "Select turns",
        "Move into the transcript to select, copy and edit turns (Ctrl+T)",
        "focus_transcript",
    ),
    Command("Copy answer", "Copy the selected turn, or the last answer (F9)", "copy_answer"),
    Command(
        "Copy first code block",
        "Copy code block 1 of the selected turn or last answer",
        "copy_code",
    ),
    Command(
        "Show or hide thinking",
        "Unfold or fold the thinking of the selected turn or the last answer (F10)",
        "toggle_thinking",
    ),
    Command(
        "Answer tool call",
        "Type the result of the last answer's tool call; it is sent paired with the call (Ctrl+F)",
        "answer_tool_call",
    ),
    Command(
        "Attach file",
        "Attach an image or audio file to the next prompt (Alt+A)",
        "attach_file",
    ),
    Command(
        "Remove last attachment",
        "Take the last attached file off the next prompt (Alt+D)",
        "remove_last_attachment",
    ),
    Command("Follow new text", "Scroll to the end and keep following (Ctrl+End)", "follow"),
    Command("Help", "All keys and what they do (F1)", "app.help"),
)


def bindings_for(owner: str) -> list[BindingType]:
    """The Textual bindings of ``owner`` (a key of :data:`KEYS`), for its ``BINDINGS``."""
    from textual.binding import Binding

    return [
        Binding(
            key.keys,
            key.action,
            key.description,
            show=key.show,
            priority=key.priority,
            id=key.id,
        )
        for key in KEYS[owner].keys
    ]


def all_bindings() -> list[BindingInfo]:
    """Every binding that has an id (the ones a keymap can change), with where it works."""
    return [
        BindingInfo(key.id, key.keys, key.description, group.where)
        for group in KEYS.values()
        for key in group.keys
        if key.id
    ]


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
