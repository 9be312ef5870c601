"""Human-readable sizes, rates and durations for status lines and logs. Pure."""

from __future__ import annotations

import math

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(count: float) -> str:
    """``5126304928`` → ``"4.8 GiB"``; binary units, one decimal above KiB."""
    if count < 1024:
        return f"{int(count)} B"
    exponent = min(int(math.log(count, 1024)), len(_UNITS) - 1)
    value = count / 1024**exponent
    return f"{value:.1f} {_UNITS[exponent]}"


def human_rate(bytes_per_second: float) -> str:
    return f"{human_bytes(bytes_per_second)}/s"


def human_duration(seconds: float) -> str:
    """``75`` → ``"1m 15s"``; ``3725`` → ``"1h 2m"``; under a minute with no decimals."""
    if seconds < 0 or math.isnan(seconds) or math.isinf(seconds):
        return "?"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
