"""The cyclic garbage collector waits for the first frame.

Importing Textual, pydantic and our models, and building the first screen, allocates a few
hundred thousand objects that live as long as the app. With the collector running, Python
walks them again and again on the way to the first frame: about 100 ms of a 0.5 s start-up
(``benchmarks/startup.py``). The launcher pauses it; after the first frame the objects that
exist are frozen (``gc.freeze``: later collections skip them, so streaming an answer does not
re-walk the whole app) and the collector resumes. Reference counting frees memory as
usual throughout; only cycles wait.

Opening a large conversation does the same for its objects (:func:`settle`): drawn once,
they live until another conversation opens, and streaming an answer would otherwise make
the collector walk all of them several times (``benchmarks/ui_history.py``).
"""

from __future__ import annotations

import gc

_paused = False
#: Whether the launcher handed the collector to this module (tests and library users that
#: build the app themselves keep Python's defaults).
_managed = False


def pause() -> None:
    """Stop automatic collections until :func:`resume` (no-op if already off)."""
    global _paused, _managed
    if gc.isenabled():
        gc.disable()
        _paused = _managed = True


def resume() -> None:
    """Freeze what exists and collect automatically again, if :func:`pause` stopped it."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def settle() -> None:
    """A large conversation has just been drawn: collect what is garbage now (what an
    earlier freeze kept included), then freeze what is left (no-op unless the launcher
    paused the collector, or while it is paused)."""
    if not _managed or _paused:
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()
