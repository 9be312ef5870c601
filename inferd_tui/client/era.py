"""Telling daemon versions apart from their admin ``capabilities`` frames (protocol §9)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, TypeAlias

from inferd_tui.proto.models import AdminEvent

DaemonEra: TypeAlias = Literal["0.1", "0.2–0.3", "0.4+"]


def daemon_era(events: Iterable[AdminEvent]) -> DaemonEra:
    """The daemon release family, from the admin events seen since connecting.

    A ``capabilities`` frame with ``wire_version`` ⇒ ``"0.4+"`` (no v1); capabilities
    without it ⇒ ``"0.2–0.3"``; no capabilities frame at all ⇒ ``"0.1"``. Only meaningful
    once the snapshot has arrived (capabilities come before ``ready``).
    """
    era: DaemonEra = "0.1"
    for event in events:
        if event.announces_v2_only:
            return "0.4+"
        if event.is_capabilities:
            era = "0.2–0.3"
    return era
