"""inferd releases and what each serves (protocol-v2.md §1). Pure data, no I/O.

An *era* names a release family the stand-in daemon can play and the client reasons about:
``0.5`` stands for 0.5.1 and ``0.6`` for 0.6.2 (the last release of each minor that
changed the wire). A daemon does not announce its version; from the admin socket a client
can only tell a *range* of eras apart (:func:`eras_from_capabilities`), so request checks
take a range and refuse only what no release in it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

Era = Literal["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.8"]
ERAS: Final[tuple[Era, ...]] = get_args(Era)

#: The release each era stands for, as a user reads it.
RELEASE: Final[dict[Era, str]] = {
    "0.1": "0.1",
    "0.2": "0.2",
    "0.3": "0.3",
    "0.4": "0.4",
    "0.5": "0.5.1",
    "0.6": "0.6.2",
    "0.8": "0.8",
}

Wire = Literal["v1", "v2-ndjson", "v2"]
WIRES: Final[tuple[Wire, ...]] = get_args(Wire)

#: How each wire is named in messages.
WIRE_TITLE: Final[dict[Wire, str]] = {
    "v1": "protocol v1 (NDJSON)",
    "v2-ndjson": "protocol v2 over NDJSON (infer.v2.sock)",
    "v2": "protocol v2, length-prefixed (inferd.sock)",
}

#: Socket leaf names (protocol-v2.md §1).
V1_SOCKET_NAME: Final = "infer.sock"
V2_NDJSON_SOCKET_NAME: Final = "infer.v2.sock"
LP_SOCKET_NAME: Final = "inferd.sock"
EMBED_SOCKET_NAME: Final = "infer.embed.sock"
RERANK_SOCKET_NAME: Final = "infer.rerank.sock"

#: The only ``wire_version`` any 0.4+ daemon speaks.
WIRE_VERSION: Final = 1
#: 0.6.1+: at most this many attachments per request, and this many BLOB bytes in all.
MAX_ATTACHMENTS: Final = 32
MAX_TOTAL_BLOB_BYTES: Final = 134_217_728


#: The exact release that brought a feature, where it is not the era's own release.
FEATURE_SINCE: Final[dict[str, str]] = {
    "response_format": "0.5",
    "thinking": "0.5.1",
    "attachment_limits": "0.6.1",
    "rerank": "0.6.2",
    "tool_choice": "0.8",
}


def era_index(era: Era) -> int:
    return ERAS.index(era)


@dataclass(frozen=True)
class EraFeatures:
    """What a daemon of ``era`` serves and accepts."""

    era: Era

    def _at_least(self, era: Era) -> bool:
        return era_index(self.era) >= era_index(era)

    @property
    def release(self) -> str:
        return RELEASE[self.era]

    @property
    def v1(self) -> bool:
        """v1 NDJSON on ``infer.sock`` (removed in 0.4)."""
        return not self._at_least("0.4")

    @property
    def v2_ndjson(self) -> bool:
        """v2 NDJSON on ``infer.v2.sock`` (0.2–0.3, when started with ``--v2``)."""
        return self._at_least("0.2") and not self._at_least("0.4")

    @property
    def length_prefixed(self) -> bool:
        """The length-prefixed v2 wire on ``inferd.sock`` (0.4+)."""
        return self._at_least("0.4")

    @property
    def capabilities(self) -> bool:
        return self._at_least("0.2")

    @property
    def device_keys(self) -> bool:
        """``device_name``/``vram_total_bytes`` and one frame per backend (0.3+)."""
        return self._at_least("0.3")

    @property
    def wire_version_key(self) -> bool:
        return self._at_least("0.4")

    @property
    def tcp(self) -> bool:
        """A TCP listener with the optional API key (removed in 0.5.0)."""
        return not self._at_least("0.5")

    @property
    def embed(self) -> bool:
        return self._at_least("0.2")

    @property
    def rerank(self) -> bool:
        """``infer.rerank.sock`` and the ``rerank``/``audio_sample_rate`` keys (0.6.2)."""
        return self._at_least("0.6")

    @property
    def response_format(self) -> bool:
        return self._at_least("0.5")

    @property
    def thinking(self) -> bool:
        """The ``thinking`` request switch (0.5.1; era ``0.5`` stands for 0.5.1)."""
        return self._at_least("0.5")

    @property
    def tool_choice(self) -> bool:
        """``tool_choice``, ``done.tool_choice_unsatisfied``, paired tool results (0.8)."""
        return self._at_least("0.8")

    @property
    def attachment_limits(self) -> bool:
        """≤ 32 attachments and ≤ 128 MiB of BLOB bytes per request (0.6.1+)."""
        return self._at_least("0.6")


def features(era: Era) -> EraFeatures:
    return EraFeatures(era)


@dataclass(frozen=True)
class EraRange:
    """The eras a daemon may be, lowest and highest, as far as the client can tell."""

    low: Era
    high: Era

    @classmethod
    def exactly(cls, era: Era) -> EraRange:
        return cls(era, era)

    @property
    def exact(self) -> bool:
        return self.low == self.high

    def eras(self) -> tuple[Era, ...]:
        return ERAS[era_index(self.low) : era_index(self.high) + 1]

    def describe(self) -> str:
        """``"inferd 0.5.1"``, ``"inferd 0.4 or later"``, ``"inferd 0.2–0.3"``."""
        if self.exact:
            return f"inferd {RELEASE[self.low]}"
        if self.high == ERAS[-1]:
            return f"inferd {RELEASE[self.low]} or later"
        return f"inferd {RELEASE[self.low]}–{RELEASE[self.high]}"

    def all(self, feature: str) -> bool:
        return all(getattr(features(era), feature) for era in self.eras())

    def any(self, feature: str) -> bool:
        return any(getattr(features(era), feature) for era in self.eras())

    @property
    def short(self) -> str:
        """Compact form for ``status --json``: ``"0.5"``, ``"0.4+"``, ``"0.2-0.3"``."""
        if self.exact:
            return self.low
        if self.high == ERAS[-1]:
            return f"{self.low}+"
        return f"{self.low}-{self.high}"


ANY_ERA: Final = EraRange("0.1", "0.8")


def eras_from_capabilities(
    capabilities: list[dict[str, object]], *, saw_any_frame: bool = True
) -> EraRange:
    """What a daemon's admin ``capabilities`` frames say about its release (§9).

    ``capabilities`` are the frames' keys as received. With ``wire_version`` → 0.4+;
    with a ``rerank`` or ``audio_sample_rate`` key → 0.6.2+; without ``wire_version`` but
    with ``device_name``/``vram_total_bytes`` → 0.3; other capabilities → 0.2–0.3; none
    at all (once the daemon reported a settled state) → 0.1.
    """
    if not capabilities:
        return EraRange.exactly("0.1") if saw_any_frame else ANY_ERA
    keys = set().union(*(frame.keys() for frame in capabilities))
    if "wire_version" in keys:
        if keys & {"rerank", "audio_sample_rate"}:
            return EraRange("0.6", "0.8")
        return EraRange("0.4", "0.8")
    if keys & {"device_name", "vram_total_bytes"}:
        return EraRange.exactly("0.3")
    return EraRange("0.2", "0.3")


def era_from_release(text: str) -> Era:
    """``"0.5.1"`` / ``"0.5"`` / ``"0.7"`` → the era that plays it; ``ValueError`` if none.

    A release between two eras (0.7, 0.6.1) takes the era below it: what it accepts is at
    least that era's.
    """
    parts = text.strip().lstrip("v").split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
        patch = int(parts[2]) if len(parts) > 2 else None
    except (ValueError, IndexError):
        raise ValueError(f"{text!r} is not an inferd release such as 0.3 or 0.5.1") from None
    if major != 0 or minor < 1:
        raise ValueError(f"inferd {text} is not a release this client knows (0.1 to 0.8)")
    if minor == 5 and patch == 0:
        return "0.4"  # 0.5.0 has response_format but not thinking: closest is below
    if minor == 6 and patch is not None and patch < 2:
        return "0.5"
    candidates = [era for era in ERAS if int(era.split(".")[1]) <= minor]
    return candidates[-1]
