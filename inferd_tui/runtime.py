"""From command-line flags to what every command needs: settings, endpoints, demo daemon.

Shared by the app and the headless commands so they resolve the daemon exactly alike
(flags > environment > config file > defaults, then protocol §1's default paths).
Pure set-up: no Textual; the demo daemon is only configured here, started by the caller.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from inferd_tui.client import EndpointResolution, resolve_endpoints
from inferd_tui.settings import ConfigError, LoadedSettings, flags_from_namespace, load_settings

if TYPE_CHECKING:
    from inferd_tui.mock_daemon import MockConfig


@dataclass(frozen=True)
class Runtime:
    loaded: LoadedSettings
    resolution: EndpointResolution
    demo: MockConfig | None


class UsageError(Exception):
    """A bad flag or configuration: reported as one line, exit status 2."""


@contextmanager
def runtime_from_args(
    args: argparse.Namespace,
    *,
    env: Mapping[str, str] | None = None,
    demo_boot: Literal["instant", "first-boot"] = "first-boot",
    demo_backend: Literal["mock", "demo"] = "demo",
    binding_ids: Collection[str] | None = None,
    theme_names: Collection[str] | None = None,
) -> Iterator[Runtime]:
    """Settings and endpoints for ``args``; with ``--demo``, temporary sockets for the
    stand-in daemon (removed on exit), playing the newest release or ``--demo-era``'s.
    Raises :class:`UsageError` with a one-line message."""
    environment = os.environ if env is None else env
    flags = flags_from_namespace(args)
    try:
        loaded = load_settings(flags, environment, binding_ids=binding_ids, theme_names=theme_names)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    demo_dir: str | None = None
    demo_era = getattr(args, "demo_era", None)
    try:
        if getattr(args, "demo", False) or demo_era is not None:
            from inferd_tui.mock_daemon import MockConfig
            from inferd_tui.mock_daemon.demo_hints import DEFAULT_DEMO_ERA
            from inferd_tui.proto.eras import (
                ERAS,
                LP_SOCKET_NAME,
                RELEASE,
                V1_SOCKET_NAME,
                features,
            )

            era = next((known for known in ERAS if known == demo_era), DEFAULT_DEMO_ERA)
            if demo_era is not None and era != demo_era:
                raise UsageError(f"--demo-era {demo_era}: one of {', '.join(ERAS)}")
            # Short and private: AF_UNIX paths are limited to ~108 bytes.
            demo_dir = tempfile.mkdtemp(prefix="inferd-demo-", dir="/tmp")
            # The generation socket has the era's leaf: inferd.sock from 0.4 (§1).
            leaf = LP_SOCKET_NAME if features(era).length_prefixed else V1_SOCKET_NAME
            socket_path = Path(demo_dir) / leaf
            admin_path = Path(demo_dir) / "admin.sock"
            demo: MockConfig | None = MockConfig(
                socket_path=socket_path,
                admin_path=admin_path,
                boot=demo_boot,
                backend=demo_backend,
                era=era,
            )
            resolution = resolve_endpoints(socket=socket_path, admin=admin_path, env={})
            if loaded.settings.daemon_release is None:
                # The stand-in's release is known exactly: fields it lacks are refused,
                # not sent with a note (as they would be to a daemon of unknown release).
                settings = loaded.settings.model_copy(update={"daemon_release": RELEASE[era]})
                loaded = dataclasses.replace(loaded, settings=settings)
        else:
            demo = None
            endpoint = loaded.settings.endpoint
            try:
                resolution = resolve_endpoints(
                    socket=endpoint.socket,
                    tcp=endpoint.tcp,
                    admin=endpoint.admin,
                    api_key_env=endpoint.api_key_env,
                    env=environment,
                )
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
        yield Runtime(loaded, resolution, demo)
    finally:
        if demo_dir is not None:
            shutil.rmtree(demo_dir, ignore_errors=True)


def fail_usage(prog: str, error: UsageError) -> int:
    print(f"{prog}: error: {error}", file=sys.stderr)
    return 2
