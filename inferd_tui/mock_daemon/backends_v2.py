"""What the backends answer on the v2 wires, as a plan the server streams (pure).

A :class:`V2Plan` is the whole answer decided up front: response blocks (``text`` and
``thinking`` deltas, whole ``tool_use`` calls) with the pause before each, then ``done``
or an error. The same backends answer v1 in :mod:`inferd_tui.mock_daemon.backends`.

- ``mock``: each ``tokens`` entry as one ``text`` delta, or the ``tape`` of blocks
  (stop reason ``tool_use`` when it holds a call); ``done`` with ``backend:"mock"`` and
  ``input_tokens:0``; ``error_before_stream`` and ``drop_after`` as on v1.
- ``demo``: shows every capability (module :mod:`inferd_tui.mock_daemon.demo_v2`, which
  builds on this one; the server picks the backend).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inferd_tui.mock_daemon.backends import DROP_MESSAGE, Fail
from inferd_tui.mock_daemon.config import MockConfig
from inferd_tui.proto.v2_request import V2Request


@dataclass(frozen=True)
class V2Done:
    stop_reason: str
    input_tokens: int
    backend: str
    tool_choice_unsatisfied: bool = False


@dataclass(frozen=True)
class V2Plan:
    """``blocks[i]`` is sent after ``delays[i]`` seconds, then ``ending``.

    ``admitted`` is False for an answer given at once, outside the admission pool.
    """

    blocks: list[dict[str, Any]] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    ending: V2Done | Fail = V2Done("end_turn", 0, "mock")
    admitted: bool = True


def apply_drop(plan: V2Plan, drop_after: int | None) -> V2Plan:
    """A backend that stops after ``drop_after`` blocks: the daemon's error (§6 mid-stream)."""
    if drop_after is None or isinstance(plan.ending, Fail):
        return plan
    return V2Plan(
        blocks=plan.blocks[:drop_after],
        delays=plan.delays[:drop_after],
        ending=Fail("backend_unavailable", DROP_MESSAGE),
    )


def mock_v2_plan(config: MockConfig, request: V2Request) -> V2Plan:
    """The ``mock`` backend on v2: ignores the request, plays the tape or the tokens."""
    if config.error_before_stream is not None:
        return V2Plan(ending=Fail(*config.error_before_stream))
    if config.tape:
        blocks = [dict(block) for block in config.tape]
    else:
        blocks = [{"type": "text", "delta": token} for token in config.tokens]
    calls = any(block["type"] == "tool_use" for block in blocks)
    plan = V2Plan(
        blocks=blocks,
        delays=[config.token_delay_s] * len(blocks),
        ending=V2Done("tool_use" if calls else "end_turn", 0, "mock"),
    )
    return apply_drop(plan, config.drop_after)


def v2_frames(plan: V2Plan, request_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The response frames and the terminal frame, keys in the page's order (§10)."""
    frames = [{"id": request_id, "type": "frame", "block": block} for block in plan.blocks]
    ending = plan.ending
    if isinstance(ending, Fail):
        return frames, error_frame(request_id, ending.code, ending.message)
    terminal: dict[str, Any] = {
        "id": request_id,
        "type": "done",
        "usage": {"input_tokens": ending.input_tokens, "output_tokens": len(plan.blocks)},
        "stop_reason": ending.stop_reason,
        "backend": ending.backend,
    }
    if ending.tool_choice_unsatisfied:
        terminal["tool_choice_unsatisfied"] = True
    return frames, terminal


def error_frame(request_id: str, code: str, message: str) -> dict[str, Any]:
    """An error frame, keys in the page's order (``type`` first, §9/§10)."""
    return {"type": "error", "id": request_id, "code": code, "message": message}
