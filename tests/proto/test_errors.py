"""The error hierarchy's sentences: a short title, and a hint naming where and what next."""

from __future__ import annotations

import pytest

from inferd_tui.proto import DaemonError, FrameTooLarge, MalformedFrame


@pytest.mark.parametrize(
    ("code", "next_step"),
    [
        ("queue_full", "retry in a moment"),
        ("backend_unavailable", "retry in a moment"),
        ("internal", "retry in a moment"),
        ("invalid_request", "do not resend it unchanged"),
        ("frame_too_large", "shorten the conversation"),
        ("gpu_on_fire", "check the daemon's log"),
    ],
)
def test_daemon_error_hint_names_the_daemon_and_the_next_step(code: str, next_step: str) -> None:
    error = DaemonError(code, "what the daemon said", address="/run/user/1000/inferd/infer.sock")
    assert error.title == f"daemon error ({code})"
    assert "/run/user/1000/inferd/infer.sock" in error.hint
    assert "'what the daemon said'" in error.hint
    assert next_step in error.hint
    # The daemon's own words stay available as they came, for a UI that shows them.
    assert (error.code, error.message) == (code, "what the daemon said")


def test_protocol_errors_name_the_daemon_once_it_is_known() -> None:
    assert FrameTooLarge(10, 5).address == ""
    assert "127.0.0.1:47321" in FrameTooLarge(10, 5, address="127.0.0.1:47321").hint
    bare = MalformedFrame("the daemon sent a line that is not a protocol v1 frame", line=b"x")
    located = MalformedFrame(bare.hint, line=bare.line, address="/tmp/s.sock")
    assert located.hint.startswith(bare.hint)
    assert "check that /tmp/s.sock is an inferd daemon" in located.hint
    assert str(located) == f"malformed frame: {located.hint}"
