"""Telling daemon versions apart from their admin ``capabilities`` frames (protocol §9)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, TypeAlias

from inferd_tui.proto.errors import IncompatibleDaemon
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


def check_era(event: AdminEvent) -> DaemonEra:
    """:func:`daemon_era` of a single event (``"0.1"`` unless it is a capabilities frame)."""
    return daemon_era((event,))


def ensure_v1(events: Iterable[AdminEvent], *, address: str) -> DaemonEra:
    """The era, or :class:`IncompatibleDaemon` if the daemon no longer speaks v1.

    ``address`` names the daemon's socket in the message (e.g. the admin path).
    """
    seen = tuple(events)
    for event in seen:
        if event.announces_v2_only:
            raise IncompatibleDaemon(
                f"The daemon at {address} is inferd 0.4 or later (wire_version "
                f"{event.wire_version!r}); it no longer serves protocol v1 on infer.sock. "
                "Use an inferd 0.3.x daemon, or a client that speaks v2.",
                address=address,
                wire_version=event.wire_version,
            )
    return daemon_era(seen)
