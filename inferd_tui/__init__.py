"""inferd-tui: a terminal UI and an async client library for the inferd daemon (protocol v1)."""

__version__ = "0.1.0"
