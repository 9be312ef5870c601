"""Small pictures of attached images, drawn by `textual-image` (never our own graphics code).

Two things about that library shape this module:

- Importing ``textual_image.widget`` (or ``.renderable``) asks the terminal about sixel
  support and cell size on stdin/stdout. Once Textual runs, its input thread owns stdin and
  would swallow the answer (and a key press with it), so the import happens with the
  queries turned off (stdout reported as not a terminal; Textual itself writes to stderr),
  on first use — never at start-up, which it would slow down by a Pillow import and up to
  two 0.1 s terminal timeouts.
- The graphics protocol is chosen here rather than by probing: Kitty's graphics protocol
  in Kitty outside tmux, sixel when asked for, and coloured half-blocks everywhere else
  (every terminal over SSH draws them). ``INFERD_TUI_GRAPHICS=halfcell|kitty|sixel``
  forces one; the snapshot tests force half-blocks.

Thumbnails are made from the wire RGB in a worker thread (:func:`thumbnail_from_rgb`).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from textual.widget import Widget

Graphics = Literal["halfcell", "kitty", "sixel"]

#: The long side of a thumbnail in pixels: a chip shows it in 8 × 4 cells of half-blocks.
THUMBNAIL_PX = 32


def graphics_mode(environ: dict[str, str] | None = None) -> Graphics:
    """The protocol thumbnails use in this terminal (see the module docstring)."""
    env = os.environ if environ is None else environ
    forced = env.get("INFERD_TUI_GRAPHICS", "").strip().lower()
    if forced in ("halfcell", "kitty", "sixel"):
        return forced  # type: ignore[return-value]
    # tmux and screen pass neither protocol through by default.
    inside_multiplexer = bool(env.get("TMUX")) or env.get("TERM", "").startswith("screen")
    if not inside_multiplexer and (env.get("TERM") == "xterm-kitty" or env.get("KITTY_WINDOW_ID")):
        return "kitty"
    return "halfcell"


class _NotATerminal(io.StringIO):
    def isatty(self) -> bool:
        return False


@contextlib.contextmanager
def _terminal_queries_off() -> Iterator[None]:
    saved = sys.__stdout__
    sys.__stdout__ = _NotATerminal()  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        sys.__stdout__ = saved  # type: ignore[misc]


def _widget_module() -> Any:
    module = sys.modules.get("textual_image.widget")
    if module is not None:
        return module
    with _terminal_queries_off():
        import textual_image.widget as widget_module
    return widget_module


def image_widget(image: PILImage.Image | None, *, classes: str = "") -> Widget:
    """A `textual-image` widget showing ``image`` with this terminal's protocol."""
    module = _widget_module()
    cls = {
        "halfcell": module.HalfcellImage,
        "kitty": module.TGPImage,
        "sixel": module.SixelImage,
    }[graphics_mode()]
    widget: Widget = cls(image, classes=classes)
    return widget


def thumbnail_from_rgb(data: bytes, width: int, height: int, px: int = THUMBNAIL_PX) -> Any:
    """A PIL image of at most ``px`` on the long side from wire RGB (worker thread)."""
    from PIL import Image

    if width <= 0 or height <= 0 or len(data) != width * height * 3:
        return None
    image = Image.frombuffer("RGB", (width, height), data, "raw", "RGB", 0, 1)
    # reduce() first: a whole-factor box filter is far cheaper than resampling 12 MP.
    factor = max(1, min(width, height) // (px * 2), max(width, height) // (px * 4))
    if factor > 1:
        image = image.reduce(factor)
    image.thumbnail((px, px))
    return image.copy()


def halfcell_renderable(image: Any, width: int) -> Any:
    """A Rich renderable of ``image`` in coloured half-blocks, ``width`` cells wide (the
    transcript draws lines, so it cannot host a graphics-protocol widget)."""
    _widget_module()  # the package import, with the terminal queries off
    from textual_image.renderable.halfcell import Image as HalfcellImage

    # "auto" height keeps the picture's aspect ratio (None would mean its pixel height).
    return HalfcellImage(image, width=width, height="auto")
