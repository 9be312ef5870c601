"""The chat screen's attachments: attaching files, the chips, and handing them to a send.

:class:`ChatAttachments` sits on :class:`~inferd_tui.ui.screens.chat_dialogs.ChatDialogs`,
under :class:`~inferd_tui.ui.screens.chat_reports.ChatReports` and the chat screen. A file
is attached from the picker (Alt+A, or the palette), or by typing or pasting its path as the
whole prompt (a small confirm offers to attach it instead of sending the path as text).

Everything that can refuse a file happens here, when it is attached, with the reason in one
notification; the prompt and the other chips stay:

1. on the event loop, cheap: the file's kind by content (`sniff_kind`), and whether the
   connected daemon takes that kind at all;
2. in a worker thread: decoding and scaling (`prepare_*`), keeping the wire bytes in the
   store's blobs (once per sha256), and the thumbnail — key presses are answered meanwhile;
3. back on the loop: the wire limits, counting the conversation's earlier attachments.

Attaching is serialised (one file at a time, in the order asked), so chips keep the order
in which files were attached, which is the order they are sent in.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import anyio
from textual import on, work

from inferd_tui.attaching import (
    PendingAttachment,
    audio_rate_for,
    kind_problem,
    limit_problem,
    prepare_pending,
)
from inferd_tui.conversation import AttachmentRef
from inferd_tui.proto.errors import InferdError
from inferd_tui.store import StoreError
from inferd_tui.text_safety import sanitize
from inferd_tui.ui.screens.chat_dialogs import ChatDialogs
from inferd_tui.ui.widgets.attachment_bar import AttachmentBar
from inferd_tui.ui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from inferd_tui.proto.capability import DaemonProfile

#: The long side images are scaled to when the settings do not say (``max_image_side``).
DEFAULT_MAX_IMAGE_SIDE = 2048


def path_in_prompt(text: str, cwd: Path | None = None) -> Path | None:
    """The file the whole prompt names, if it is one path to an existing file: what a
    terminal pastes for a dragged file (quoted, ``file://``, backslash-escaped spaces)."""
    candidate = text.strip()
    if not candidate or "\n" in candidate or len(candidate) > 4096:
        return None
    if len(candidate) >= 2 and candidate[0] == candidate[-1] and candidate[0] in "'\"":
        candidate = candidate[1:-1]
    if candidate.startswith("file://"):
        candidate = unquote(urlparse(candidate).path)
    elif "\\ " in candidate:
        candidate = candidate.replace("\\ ", " ")
    try:
        path = Path(candidate).expanduser()
        if not path.is_absolute():
            path = (cwd or Path.cwd()) / path
        return path if path.is_file() else None
    except (OSError, ValueError):
        return None


class ChatAttachments(ChatDialogs):
    """Attaching files to the next prompt (see the module docstring)."""

    #: Set by the app when it knows the daemon (``set_daemon_profile``).
    daemon_profile: DaemonProfile | None = None
    _attach_lock: anyio.Lock | None = None
    #: Thumbnails by sha256 (PIL images), for the chips and the transcript.
    thumbnails: dict[str, Any]

    @property
    def attachment_bar(self) -> AttachmentBar:
        return self.query_one("#attachments", AttachmentBar)

    @property
    def max_image_side(self) -> int:
        return int(getattr(self.config, "max_image_side", DEFAULT_MAX_IMAGE_SIDE))

    # --- the daemon ----------------------------------------------------------------------

    def set_daemon_profile(self, profile: DaemonProfile | None) -> None:
        """The daemon changed (connect, reconnect, another era): chips it cannot take are
        marked with the reason, and said once, before anything is sent."""
        self.daemon_profile = profile
        bar = self.attachment_bar
        before = bar.problems
        bar.set_profile(profile)
        after = bar.problems
        if after and after != before:
            self.notify(
                "This daemon cannot take what is attached: "
                + sanitize("; ".join(after), keep_newlines=False),
                severity="warning",
                timeout=8,
            )
        self._update_preview()

    # --- attaching -----------------------------------------------------------------------

    def action_attach_file(self) -> None:
        from inferd_tui.ui.screens.attach_picker import AttachFilePicker

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.attach_path(path)

        self.app.push_screen(AttachFilePicker(), chosen)

    def action_remove_last_attachment(self) -> None:
        removed = self.attachment_bar.remove_last()
        if removed is None:
            self.notify("Nothing is attached.", timeout=2)
        else:
            self.notify(f"Removed {sanitize(removed.name, keep_newlines=False)}.", timeout=2)

    def _refuse(self, reason: str) -> None:
        # One line, plain: file names are the user's, and may hold anything.
        self.notify(sanitize(reason, keep_newlines=False), title="Not attached", severity="error")

    def attach_path(self, path: Path) -> None:
        """Attach ``path`` to the next prompt, or say in one line why not."""
        from inferd_tui.client.attachments import sniff_kind

        kind = sniff_kind(path)
        if kind is not None:
            problem = kind_problem(kind, self.daemon_profile)
            if problem is not None:
                self._refuse(f"{path.name}: {problem}")
                return
        self._prepare_attachment(path)

    @work(group="attach", exit_on_error=False)
    async def _prepare_attachment(self, path: Path) -> None:
        if self._attach_lock is None:
            self._attach_lock = anyio.Lock()
        async with self._attach_lock:
            store = self.config.store
            max_side = self.max_image_side
            rate = audio_rate_for(self.daemon_profile)

            def prepare() -> tuple[PendingAttachment, Any]:
                from dataclasses import replace

                from inferd_tui.ui.thumbnails import thumbnail_from_rgb

                item = prepare_pending(path, max_side=max_side, audio_rate=rate)
                # Kept now, off the event loop: sending then only records the use.
                item = replace(item, sha256=store.blobs.put(item.data))
                thumbnail = (
                    thumbnail_from_rgb(item.data, item.width, item.height)
                    if item.kind == "image"
                    else None
                )
                return item, thumbnail

            try:
                item, thumbnail = await anyio.to_thread.run_sync(prepare)
            except InferdError as exc:  # AttachmentError: one sentence naming the file
                self._refuse(str(getattr(exc, "hint", exc)))
                return
            except (StoreError, OSError, MemoryError) as exc:
                self._refuse(f"{path.name}: could not be kept ({exc})")
                return
            problem = kind_problem(item.kind, self.daemon_profile) or limit_problem(
                item, self.attachment_bar.items, self._sent_attachments(), self.daemon_profile
            )
            if problem is not None:
                self._refuse(f"{item.name}: {problem}")
                return
            if thumbnail is not None:
                self.thumbnails[item.sha256] = thumbnail
            self.attachment_bar.add(item, thumbnail)

    def _sent_attachments(self) -> list[AttachmentRef]:
        return [ref for turn in self.conversation.turns for ref in turn.attachments]

    # --- a path typed or pasted as the prompt -------------------------------------------

    def offer_attach_instead(self, text: str, *, then_send: bool) -> bool:
        """If the whole prompt is a path to an attachable file, ask whether to attach it
        instead; True when asked (the caller does not send). ``then_send``: a "no" sends
        the text as typed."""
        from inferd_tui.client.attachments import sniff_kind

        path = path_in_prompt(text)
        if path is None or sniff_kind(path) is None:
            return False
        from inferd_tui.ui.screens.dialogs import ConfirmDialog

        def answered(attach: bool | None) -> None:
            if attach:
                self.prompt.set_prompt("")
                self.attach_path(path)
            elif then_send:
                self.send_text_anyway(text)

        self.app.push_screen(
            ConfirmDialog(
                f"Attach {path.name}?",
                [str(path), "Attach the file to your next prompt, or send the path as text."],
                confirm_label="Attach",
                cancel_label="Send as text" if then_send else "Keep as text",
            ),
            answered,
        )
        return True

    def send_text_anyway(self, text: str) -> None:
        """Send ``text`` as typed (the chat screen's send path)."""
        raise NotImplementedError

    @on(PromptInput.Pasted)
    def _on_prompt_pasted(self, message: PromptInput.Pasted) -> None:
        if self.prompt.text.strip() == message.text.strip():
            self.offer_attach_instead(message.text, then_send=False)

    # --- sending ---------------------------------------------------------------------------

    def attachment_send_problem(self) -> str | None:
        """Why the prompt cannot go with its chips (marked after a daemon change)."""
        problems = self.attachment_bar.problems
        if not problems:
            return None
        return (
            sanitize("; ".join(problems), keep_newlines=False)
            + ". Remove the marked attachments (Delete on a chip) or connect to a daemon "
            "that takes them."
        )

    def take_attachments(self) -> list[AttachmentRef]:
        """The chips as refs for the user turn, in order; the bar empties. The bytes are
        already kept (when attached); the session records that the conversation uses them."""
        bar = self.attachment_bar
        refs = [item.to_ref(item.sha256) for item in bar.items]
        if refs:
            bar.clear()
        return refs

    def pending_attachment_refs(self) -> list[AttachmentRef]:
        """The chips as the refs the next send would put on the user turn (the preview)."""
        return [item.to_ref(item.sha256) for item in self.attachment_bar.items]

    def restore_attachments(self, refs: list[AttachmentRef]) -> None:
        """Editing a sent prompt: its attachments become the chips again (their bytes read
        back from the store), so the resend carries exactly what was sent."""
        self.attachment_bar.clear()
        if refs:
            self._restore_attachments(list(refs))

    @work(group="attach", exit_on_error=False)
    async def _restore_attachments(self, refs: list[AttachmentRef]) -> None:
        store = self.config.store

        def load(ref: AttachmentRef) -> tuple[PendingAttachment, Any]:
            from inferd_tui.ui.thumbnails import thumbnail_from_rgb

            data = store.attachment(ref.sha256, ref.size)
            item = PendingAttachment(
                kind=ref.kind,
                name=ref.name,
                data=data,
                width=ref.width,
                height=ref.height,
                original_width=ref.original_width,
                original_height=ref.original_height,
                sample_rate=ref.sample_rate,
                duration_s=ref.duration_s,
                sha256=ref.sha256,
            )
            thumbnail = self.thumbnails.get(ref.sha256)
            if thumbnail is None and ref.kind == "image":
                thumbnail = thumbnail_from_rgb(data, ref.width, ref.height)
            return item, thumbnail

        if self._attach_lock is None:
            self._attach_lock = anyio.Lock()
        async with self._attach_lock:
            for ref in refs:
                try:
                    item, thumbnail = await anyio.to_thread.run_sync(load, ref)
                except (StoreError, OSError) as exc:
                    self._refuse(f"{ref.name}: {exc}")
                    continue
                self.attachment_bar.add(item, thumbnail)

    # --- the transcript's pictures of sent images --------------------------------------

    def provide_thumbnails(self) -> None:
        """Hand the transcript a thumbnail for every sent image; the ones not made yet (a
        reopened conversation) are read back from the store and made in a worker thread."""
        transcript = self.transcript
        missing: list[AttachmentRef] = []
        for turn in self.conversation.turns:
            for ref in turn.attachments:
                if ref.kind != "image" or transcript.has_thumbnail(ref.sha256):
                    continue
                image = self.thumbnails.get(ref.sha256)
                if image is not None:
                    transcript.set_thumbnail(ref.sha256, image)
                elif ref not in missing:
                    missing.append(ref)
        if missing:
            self._make_thumbnails(missing)

    @work(group="thumbnails", exit_on_error=False)
    async def _make_thumbnails(self, refs: list[AttachmentRef]) -> None:
        store = self.config.store

        def make(ref: AttachmentRef) -> Any:
            from inferd_tui.ui.thumbnails import thumbnail_from_rgb

            data = store.attachment(ref.sha256, ref.size)
            return thumbnail_from_rgb(data, ref.width, ref.height)

        for ref in refs:
            try:
                image = await anyio.to_thread.run_sync(make, ref)
            except (StoreError, OSError):
                continue  # the block keeps its name and size; sending says what is missing
            if image is not None:
                self.thumbnails[ref.sha256] = image
                self.transcript.set_thumbnail(ref.sha256, image)

    @on(AttachmentBar.Changed)
    def _on_attachments_changed(self, message: AttachmentBar.Changed) -> None:
        message.stop()
        with contextlib.suppress(Exception):
            self._update_preview()
