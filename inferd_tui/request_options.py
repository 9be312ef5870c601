"""What the sampling sidebar sets for the next request, on any wire: one frozen model.

The sidebar round-trips it (``load(options)`` / ``to_options()``), the session builds each
request from it, and the store keeps it with the conversation. Fields a daemon cannot take
are refused by :func:`inferd_tui.proto.capability.request_problems` before sending; the
sidebar hides or disables them first (:func:`offered_fields`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from inferd_tui.proto.capability import DaemonProfile
from inferd_tui.proto.chat import ToolChoice, ToolSpec
from inferd_tui.proto.models import SamplingParams

OptionField = Literal[
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "image_token_budget",
    "grammar",
    "thinking",
    "response_schema",
    "tools",
    "tool_choice",
]


class RequestOptions(BaseModel):
    """Sampling fields and the constraint/feature switches of the next request.

    ``grammar`` is GBNF (v1 only; ``""`` = unconstrained); ``response_schema`` a JSON
    schema (0.5+); ``thinking`` the reasoning switch (0.5.1+; ``None`` = not sent);
    ``tools`` and ``tool_choice`` (0.8+ for the choice).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    sampling: SamplingParams = SamplingParams()
    grammar: str = ""
    response_schema: dict[str, Any] | None = None
    thinking: bool | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice | None = None

    def stored(self) -> dict[str, Any]:
        """What the store keeps besides the sampling fields and the grammar (JSON-able)."""
        kept: dict[str, Any] = {}
        if self.response_schema is not None:
            kept["response_schema"] = self.response_schema
        if self.thinking is not None:
            kept["thinking"] = self.thinking
        if self.tools:
            kept["tools"] = [tool.model_dump(mode="json") for tool in self.tools]
        if self.tool_choice is not None:
            kept["tool_choice"] = self.tool_choice
        return kept

    @classmethod
    def from_stored(
        cls, sampling: dict[str, Any], grammar: str, extra: dict[str, Any] | None
    ) -> RequestOptions:
        """Back from what :meth:`stored` wrote (unknown or invalid parts are dropped)."""
        extra = dict(extra or {})
        try:
            return cls(sampling=SamplingParams.model_validate(sampling), grammar=grammar, **extra)
        except ValueError:
            return cls(sampling=SamplingParams.model_validate(sampling), grammar=grammar)


@dataclass(frozen=True)
class FieldOffer:
    """Whether the sidebar offers a field on this daemon, and why not in one line."""

    shown: bool
    enabled: bool
    reason: str = ""


def offered_fields(profile: DaemonProfile | None) -> dict[OptionField, FieldOffer]:
    """Which sidebar fields this daemon accepts (protocol-v2.md §1, §3; capabilities).

    v1 daemons: the sampling fields, the image budget and a GBNF grammar. 0.4+: the
    sampling fields, thinking (advertised and 0.5.1+), a JSON schema (0.5+), tools and a
    tool_choice (0.8+). Before the daemon has said what it is, the v1 fields are shown.
    """
    everyone = FieldOffer(True, True)
    offers: dict[OptionField, FieldOffer] = {
        name: everyone for name in ("temperature", "top_p", "top_k", "max_tokens")
    }
    if profile is None or profile.wire == "v1":
        offers["image_token_budget"] = everyone
        offers["grammar"] = everyone
        hidden = FieldOffer(False, False, "protocol v1 has no such field")
        for name in ("thinking", "response_schema", "tools", "tool_choice"):
            offers[name] = hidden
        return offers
    eras = profile.eras
    offers["image_token_budget"] = FieldOffer(
        False, False, "inferd 0.4+ has no image budget per request; the operator sets it"
    )
    offers["grammar"] = FieldOffer(
        True, False, "GBNF grammars are v1 only; 0.5+ takes a JSON schema"
    )
    advertised = profile.any_backend("thinking")
    if not eras.any("thinking"):
        offers["thinking"] = FieldOffer(
            True, False, f"{eras.describe()} has no thinking switch (0.5.1+)"
        )
    elif advertised is False:
        offers["thinking"] = FieldOffer(True, False, "the backend does not advertise thinking")
    else:
        offers["thinking"] = everyone
    offers["response_schema"] = (
        everyone
        if eras.any("response_format")
        else FieldOffer(True, False, f"{eras.describe()} has no JSON-schema output (0.5+)")
    )
    if profile.any_backend("tools") is False:
        offers["tools"] = FieldOffer(True, False, "the backend does not advertise tools")
    else:
        offers["tools"] = everyone
    offers["tool_choice"] = (
        offers["tools"]
        if eras.any("tool_choice")
        else FieldOffer(True, False, f"{eras.describe()} has no tool_choice (0.8+)")
    )
    return offers


def is_unconstrained(grammar: str) -> bool:
    """A blank grammar is not sent: the daemon's default is unconstrained."""
    return not grammar.strip()
