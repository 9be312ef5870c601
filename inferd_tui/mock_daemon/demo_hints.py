"""What to try on the demo daemon of each era: the empty conversation's hints. Pure.

Each hint names something the release played can do and the demo backend shows
(:mod:`.demo_v2`): a thinking question from 0.5.1, a tool from 0.4 (the app speaks v1 up
to 0.3, where tools cannot go), a JSON schema from 0.5, a GBNF grammar up to 0.3.
Every line fits 80 columns, like the rest of the empty state.
"""

from __future__ import annotations

from inferd_tui.proto.eras import RELEASE, Era, features

#: The era ``--demo`` plays unless ``--demo-era`` names another: the newest release.
DEFAULT_DEMO_ERA: Era = "0.8"


def demo_hints(era: Era) -> tuple[str, ...]:
    """The lines shown under the empty conversation on a demo daemon playing ``era``."""
    release = features(era)
    lines = [
        f"This is the built-in stand-in daemon (--demo), playing inferd {RELEASE[era]}.",
    ]
    if release.length_prefixed:
        lines.append("Try, with the sidebar's fields (F2 shows the sidebar):")
        if release.thinking:
            lines.append('• Thinking on, then "Why is the sky blue?": its reasoning comes first.')
        lines.append('• a tool in Tools, then "What is the weather in Dublin?": reply to the')
        lines.append("  call by hand and watch the model continue.")
        if release.response_format:
            lines.append('• a JSON schema in Structured output, then "A person, please.":')
            lines.append("  the answer is checked against it (✓ or ✗).")
    else:
        lines.append("Try a GBNF grammar (Ctrl+G, or the sidebar): the answer follows it and")
        lines.append("is checked against it (✓ or ✗).")
    lines.append('Put "crash" in a prompt to see the daemon die mid-answer, "busy" to see')
    lines.append("queue_full retried with a countdown.")
    if era != DEFAULT_DEMO_ERA:
        lines.append(f"--demo-era {DEFAULT_DEMO_ERA} plays the newest release.")
    elif not release.v1:
        lines.append("--demo-era 0.3 plays a v1 daemon, with GBNF grammars.")
    return tuple(lines)
