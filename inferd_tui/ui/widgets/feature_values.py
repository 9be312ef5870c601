"""What the sidebar's post-v1 fields hold, shared by the sidebar and the lazily mounted
:mod:`inferd_tui.ui.widgets.request_features` (so neither imports the other to get it)."""

from __future__ import annotations

from dataclasses import dataclass

from inferd_tui.proto.chat import ToolChoice


@dataclass(frozen=True)
class FeatureValues:
    """What the post-v1 fields hold, as typed: the editors' texts and the two choices."""

    thinking: bool | None = None
    schema_text: str = ""
    tools_text: str = ""
    tool_choice: ToolChoice | None = None
