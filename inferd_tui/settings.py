"""User settings: defaults < config TOML < environment < command-line flags.

Core module: pydantic and the standard library only, no I/O at import. Nothing here is a
singleton: `load_settings` is handed the flags, the environment and the default config path,
and returns frozen `Settings` plus where each value came from.

Every problem is one `ConfigError` whose message is a single line naming the file and line
(or the environment variable, or the flag) and the key, e.g.
``~/.config/inferd-tui/config.toml:7: endpoint.tcp: expected "host:port", got "localhost"``.

The API key is never a setting: the config names the environment variable that holds it
(`endpoint.api_key_env`), and a key written into the file is refused.
"""

from __future__ import annotations

import argparse
import difflib
import re
import tomllib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, Literal, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

APP_NAME: Final = "inferd-tui"
CONFIG_FILENAME: Final = "config.toml"
CONFIG_ENV: Final = "INFERD_TUI_CONFIG"
DEFAULT_API_KEY_ENV: Final = "INFERD_API_KEY"

# Environment variable → setting (the daemon's own names for the endpoint overrides).
ENV_VARS: Final[Mapping[str, str]] = {
    "INFERD_UDS": "endpoint.socket",
    "INFERD_TCP": "endpoint.tcp",
    "INFERD_ADMIN_ADDR": "endpoint.admin",
    "INFERD_TUI_THEME": "theme",
}
# argparse destination → (setting, flag as typed).
FLAGS: Final[Mapping[str, tuple[str, str]]] = {
    "socket": ("endpoint.socket", "--socket"),
    "tcp": ("endpoint.tcp", "--tcp"),
    "admin": ("endpoint.admin", "--admin"),
    "api_key_env": ("endpoint.api_key_env", "--api-key-env"),
    "theme": ("theme", "--theme"),
    "no_save": ("no_save", "--no-save"),
    "wire": ("wire", "--wire"),
    "daemon_release": ("daemon_release", "--daemon-release"),
    # embed and rerank sockets (the `embed` / `rerank` commands)
    "embed_socket": ("endpoint.embed_socket", "--embed-socket"),
    "rerank_socket": ("endpoint.rerank_socket", "--rerank-socket"),
}
# Inference targets are one choice: setting one in a layer overrides the other from below.
_EXCLUSIVE_TARGETS: Final = ("endpoint.socket", "endpoint.tcp")
# Keys that would hold a secret; refused in the file wherever they appear.
_SECRET_KEY_NAMES: Final = frozenset(
    {"apikey", "key", "token", "secret", "password", "authkey", "bearer"}
)


class ConfigError(Exception):
    """A configuration problem, as one line a user can act on."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


# --------------------------------------------------------------------------- validators

_HOST_PORT = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]+):(?P<port>[0-9]+)$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BINDING_ID = re.compile(r"^[a-z][a-z0-9_.\-]*$")
_KEY_NAME = re.compile(r"^[^\s,]+$")


def _host_port(value: str) -> str:
    match = _HOST_PORT.match(value)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ValueError(f'expected "host:port", got "{value}"')
    return value


def _env_name(value: str) -> str:
    # Never echo the value: someone may have pasted the key itself here.
    if not _ENV_NAME.match(value):
        raise ValueError(
            "expected the NAME of an environment variable (like INFERD_API_KEY), not the key;"
            " the value was not shown"
        )
    return value


def _binding_id(value: str) -> str:
    if not _BINDING_ID.match(value):
        raise ValueError(f'"{value}" is not a binding id (lowercase, like "send")')
    return value


def _keys(value: str) -> str:
    parts = [part.strip() for part in value.split(",")]
    if not value.strip() or not all(part and _KEY_NAME.match(part) for part in parts):
        raise ValueError(f'expected keys like "ctrl+s" or "ctrl+s,f5", got "{value}"')
    return ",".join(parts)


def _expand_user(value: Path | None) -> Path | None:
    return None if value is None else value.expanduser()


OptionalPath = Annotated[Path | None, AfterValidator(_expand_user)]
BindingId = Annotated[str, AfterValidator(_binding_id)]
KeySpec = Annotated[str, AfterValidator(_keys)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class EndpointSettings(_Frozen):
    """Where the daemon is. Unset socket/tcp/admin means: resolve as protocol-v1 §1 says."""

    socket: OptionalPath = None
    tcp: str | None = None
    admin: OptionalPath = None
    # The NAME of the variable holding the TCP API key, never the key.
    api_key_env: Annotated[str, AfterValidator(_env_name)] = DEFAULT_API_KEY_ENV
    # Unset: infer.embed.sock / infer.rerank.sock beside the inference socket (§8).
    embed_socket: OptionalPath = None
    rerank_socket: OptionalPath = None

    @field_validator("tcp")
    @classmethod
    def _check_tcp(cls, value: str | None) -> str | None:
        return None if value is None else _host_port(value)

    @model_validator(mode="after")
    def _one_target(self) -> EndpointSettings:
        if self.socket is not None and self.tcp is not None:
            raise ValueError("set either socket or tcp, not both")
        return self


class SamplingDefaults(_Frozen):
    """Default sampling fields for new conversations, named exactly as on the wire."""

    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=0)
    image_token_budget: Literal[70, 140, 280, 560, 1120] | None = None

    def to_wire(self) -> dict[str, Any]:
        """Only the fields that are set, ready for a request."""
        return self.model_dump(exclude_none=True)


class Settings(_Frozen):
    endpoint: EndpointSettings = EndpointSettings()
    theme: str = Field(default="textual-dark", min_length=1)
    # Binding id → key(s), e.g. {"send": "ctrl+s"}; ids are checked against the app's own.
    keymap: dict[BindingId, KeySpec] = Field(default_factory=dict)
    no_save: bool = False
    # Where the conversation database lives; None means the platformdirs user data dir.
    data_dir: OptionalPath = None
    history_limit: int = Field(default=1000, ge=0)
    admin_tail_limit: int = Field(default=5000, ge=1)
    ready_timeout_s: float = Field(default=30.0, gt=0)
    system_prompt: str = ""
    sampling: SamplingDefaults = SamplingDefaults()
    # Which wire to speak: "auto" asks the daemon (protocol-v2.md §9); v1 / v2 force one.
    wire: Literal["auto", "v1", "v2"] = "auto"
    # The daemon's release when known (e.g. "0.5.1"): inferd does not announce it, and
    # the admin socket tells only a range; with it, fields that release lacks are refused.
    daemon_release: str | None = None

    @field_validator("daemon_release")
    @classmethod
    def _check_release(cls, value: str | None) -> str | None:
        if value is not None:
            from inferd_tui.proto.eras import era_from_release

            era_from_release(value)  # ValueError names what is wrong
        return value

    # Images are scaled down so their long side is at most this many pixels (0: never).
    max_image_side: int = Field(default=2048, ge=0)

    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir
        from platformdirs import user_data_path

        return user_data_path(APP_NAME)


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    # Dotted setting → "default" | "file /path:LINE" | "env NAME" | "flag --name".
    sources: dict[str, str]
    config_path: Path
    config_source: str
    config_exists: bool
    warnings: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- loading


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME) / CONFIG_FILENAME


def flags_from_namespace(namespace: argparse.Namespace | Mapping[str, Any]) -> dict[str, Any]:
    """The flags the user actually gave (argparse leaves the others None, or False)."""
    values = vars(namespace) if isinstance(namespace, argparse.Namespace) else namespace
    flags = {
        name: values[name]
        for name in (*FLAGS, "config")
        if values.get(name) is not None and values.get(name) is not False
    }
    return flags


def resolve_config_path(
    flags: Mapping[str, Any], env: Mapping[str, str], default_path: Path | None = None
) -> tuple[Path, str, bool]:
    """(path, where it came from, whether the user asked for it explicitly)."""
    if flags.get("config"):
        return Path(flags["config"]).expanduser(), "flag --config", True
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser(), f"env {CONFIG_ENV}", True
    return (default_path or default_config_path()), "default", False


def load_settings(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    config_path: Path | None = None,
    *,
    binding_ids: Collection[str] | None = None,
    theme_names: Collection[str] | None = None,
) -> LoadedSettings:
    """Effective settings and their sources; raises `ConfigError`.

    `flags`: only the flags the user gave (see `flags_from_namespace`). `config_path`: the
    default file (platformdirs' when None); `--config` and `INFERD_TUI_CONFIG` win over it
    and must exist. `binding_ids`: the app's binding ids, to reject unknown keymap entries;
    `theme_names`: the themes the app has, to reject an unknown theme.
    """
    path, path_source, explicit = resolve_config_path(flags, env, config_path)
    source_text = _read_config(path, path_source, explicit)
    exists = source_text is not None

    layers: list[tuple[dict[str, Any], dict[str, str]]] = []
    if source_text is not None:
        file_values, file_sources = _file_layer(path, source_text)
        _validate(file_values, file_sources, path=path, lines=_key_lines(source_text))
        layers.append((file_values, file_sources))
    layers.append(_env_layer(env))
    layers.append(_flag_layer(flags))

    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for values, layer_sources in layers:
        for target in _EXCLUSIVE_TARGETS:
            if target in values:
                for other in _EXCLUSIVE_TARGETS:
                    if other != target and other not in values:
                        merged.pop(other, None)
                        sources.pop(other, None)
        merged.update(values)
        sources.update(layer_sources)

    settings = _validate(merged, sources, path=path if exists else None, lines={})
    effective = {key: sources.get(key, "default") for key in _leaves(settings)}
    loaded = LoadedSettings(settings, effective, path, path_source, exists)
    check_against_app(loaded, binding_ids=binding_ids, theme_names=theme_names)
    return loaded


def check_against_app(
    loaded: LoadedSettings,
    *,
    binding_ids: Collection[str] | None,
    theme_names: Collection[str] | None,
) -> None:
    """The checks only the app can make: keymap ids and the theme name. `config show` and
    `doctor` run them too, so they report exactly what would stop the app."""
    if binding_ids is not None:
        _check_binding_ids(loaded.settings, loaded.sources, binding_ids)
    if theme_names is not None:
        _check_theme(loaded.settings, loaded.sources, theme_names)


def _read_config(path: Path, path_source: str, explicit: bool) -> str | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{path}: config file not found ({path_source})", path=path) from None
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file", path=path) from None
    except OSError as exc:
        raise ConfigError(f"{path}: can't read: {exc.strerror or exc}", path=path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not valid UTF-8", path=path, line=line) from None


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _file_layer(path: Path, text: str) -> tuple[dict[str, Any], dict[str, str]]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11 only has the position in the message: "Invalid value (at line 7, column 9)".
        message = str(exc)
        match = _TOML_POSITION.search(message)
        if match is None:
            reason = message.replace(" (at end of document)", "")
            end_line = len(text.splitlines()) or 1
            raise ConfigError(
                f"{path}:{end_line}: invalid TOML: {reason} at end of file",
                path=path,
                line=end_line,
            ) from None
        line, column = int(match[1]), int(match[2])
        reason = message[: match.start()]
        raise ConfigError(
            f"{path}:{line}:{column}: invalid TOML: {reason}", path=path, line=line
        ) from None
    lines = _key_lines(text)
    values = dict(_flatten(document))
    for key in values:
        last = key.rsplit(".", 1)[-1]
        if not key.startswith("keymap.") and re.sub(r"[-_]", "", last.lower()) in _SECRET_KEY_NAMES:
            secret_line = _line_for(key, lines)
            raise ConfigError(
                f"{_where(path, secret_line)}: {key}: an API key must not be written in the config"
                f" file; put it in an environment variable ({DEFAULT_API_KEY_ENV}, or the one"
                " named by endpoint.api_key_env)",
                path=path,
                line=secret_line,
            )
    if all(key in values for key in _EXCLUSIVE_TARGETS):
        later = max(_EXCLUSIVE_TARGETS, key=lambda key: _line_for(key, lines) or 0)
        both_line = _line_for(later, lines)
        raise ConfigError(
            f"{_where(path, both_line)}: {later}: set either endpoint.socket or endpoint.tcp,"
            " not both",
            path=path,
            line=both_line,
        )
    sources = {key: f"file {_where(path, _line_for(key, lines))}" for key in values}
    return values, sources


def _env_layer(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, key in ENV_VARS.items():
        value = env.get(name)
        if value:  # set but empty means unset, as the daemon treats it
            if key in values and key in _EXCLUSIVE_TARGETS:
                continue
            values[key] = value
            sources[key] = f"env {name}"
    both = [key for key in _EXCLUSIVE_TARGETS if key in values]
    if len(both) == 2:
        raise ConfigError(
            "INFERD_UDS and INFERD_TCP are both set: unset one, or choose with --socket/--tcp"
        )
    return values, sources


def _flag_layer(flags: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, value in flags.items():
        if name not in FLAGS or value is None:
            continue  # "config" and anything else the caller left in are not settings
        key, flag = FLAGS[name]
        values[key] = value
        sources[key] = f"flag {flag}"
    return values, sources


def _validate(
    values: Mapping[str, Any],
    sources: Mapping[str, str],
    *,
    path: Path | None,
    lines: Mapping[str, int],
) -> Settings:
    try:
        return Settings.model_validate(_unflatten(values))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        key, message = _describe_error(error)
        raise _error_at(key, message, sources, path=path, lines=lines) from None


def _error_at(
    key: str,
    message: str,
    sources: Mapping[str, str],
    *,
    path: Path | None,
    lines: Mapping[str, int],
) -> ConfigError:
    source = _source_for(key, sources)
    if source.startswith("env ") or source.startswith("flag "):
        return ConfigError(f"{source.split(' ', 1)[1]}: {key}: {message}")
    if path is not None:
        line = _line_for(key, lines)
        if line is None and source.startswith("file "):
            # The merged check has no line table; the source string carries it.
            match = re.search(r":(\d+)$", source)
            line = int(match[1]) if match else None
        return ConfigError(f"{_where(path, line)}: {key}: {message}", path=path, line=line)
    return ConfigError(f"{key}: {message}")


def _source_for(key: str, sources: Mapping[str, str]) -> str:
    # An error on "endpoint" (socket and tcp together) belongs to whichever set one of them.
    candidates = [key, *(k for k in sources if k.startswith(key + "."))]
    for candidate in candidates:
        if candidate in sources:
            return sources[candidate]
    parent = key
    while "." in parent:
        parent = parent.rsplit(".", 1)[0]
        if parent in sources:
            return sources[parent]
    return "default"


def _describe_error(error: Mapping[str, Any]) -> tuple[str, str]:
    loc = [str(part) for part in error["loc"] if part != "[key]"]
    key = ".".join(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        unknown = loc[-1]
        known = _field_names(loc[:-1])
        suggestion = difflib.get_close_matches(unknown, known, n=1)
        hint = f" (did you mean `{suggestion[0]}`?)" if suggestion else ""
        choices = f"; known keys: {', '.join(known)}" if not suggestion and known else ""
        return key, f"unknown key `{unknown}`{hint}{choices}"
    message = str(error["msg"])
    if kind == "value_error":
        return key, message.removeprefix("Value error, ")
    value = error.get("input")
    shown = _toml_repr(value)
    return key, f"{message[:1].lower()}{message[1:]}" + (f", got {shown}" if shown else "")


def _toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 60 else '"' + value[:57] + '…"'
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return ""


def _field_names(loc: list[str]) -> list[str]:
    model: type[BaseModel] = Settings
    for part in loc:
        info = model.model_fields.get(part)
        annotation = info.annotation if info is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _check_binding_ids(
    settings: Settings, sources: Mapping[str, str], binding_ids: Collection[str]
) -> None:
    for binding in settings.keymap:
        if binding in binding_ids:
            continue
        key = f"keymap.{binding}"
        suggestion = difflib.get_close_matches(binding, list(binding_ids), n=1)
        hint = f" (did you mean `{suggestion[0]}`?)" if suggestion else ""
        source = sources.get(key, "")
        where = source.removeprefix("file ")
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{prefix}{key}: unknown binding id `{binding}`{hint}")


def _check_theme(
    settings: Settings, sources: Mapping[str, str], theme_names: Collection[str]
) -> None:
    if not settings.theme or settings.theme in theme_names:
        return
    suggestion = difflib.get_close_matches(settings.theme, list(theme_names), n=1)
    hint = f"did you mean `{suggestion[0]}`? " if suggestion else ""
    source = sources.get("theme", "")
    where = source.removeprefix("file ")
    prefix = f"{where}: " if where else ""
    raise ConfigError(
        f"{prefix}theme: unknown theme `{settings.theme}` ({hint}"
        f"themes: {', '.join(sorted(theme_names))})"
    )


# --------------------------------------------------------------------------- dotted keys


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            yield from _flatten(cast(dict[str, Any], value), key + ".")
        else:
            yield key, value


def _unflatten(values: Mapping[str, Any]) -> dict[str, Any]:
    # keymap ids may contain dots ("chat.send"): split only the first level under keymap.
    nested: dict[str, Any] = {}
    for key, value in values.items():
        parts = key.split(".", 1) if key.startswith("keymap.") else key.split(".")
        target = nested
        for part in parts[:-1]:
            existing = target.setdefault(part, {})
            if not isinstance(existing, dict):
                break
            target = existing
        else:
            target[parts[-1]] = value
    return nested


def _leaves(settings: Settings) -> list[str]:
    dumped = settings.model_dump()
    keys: list[str] = []
    for name, value in dumped.items():
        if name == "keymap":
            keys += [f"keymap.{binding}" for binding in value] or ["keymap"]
        elif isinstance(value, dict):
            keys += [f"{name}.{inner}" for inner in value]
        else:
            keys.append(name)
    return keys


_BARE_KEY = r"[A-Za-z0-9_-]+"
_QUOTED_KEY = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_DOTTED_KEY = rf"(?:{_BARE_KEY}|{_QUOTED_KEY})(?:\s*\.\s*(?:{_BARE_KEY}|{_QUOTED_KEY}))*"
_TABLE_LINE = re.compile(rf"^\[\[?\s*({_DOTTED_KEY})\s*\]\]?\s*(?:#.*)?$")
_KEY_LINE = re.compile(rf"^({_DOTTED_KEY})\s*=")
_KEY_PART = re.compile(rf"{_BARE_KEY}|{_QUOTED_KEY}")


def _split_key(dotted: str) -> list[str]:
    return [part.strip("\"'") for part in _KEY_PART.findall(dotted)]


def _key_lines(text: str) -> dict[str, int]:
    """Dotted key → the line that sets it (or opens its table); good enough for messages."""
    lines: dict[str, int] = {}
    table: list[str] = []
    open_quote: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if open_quote is not None:
            if line.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        if not line or line.startswith("#"):
            continue
        if match := _TABLE_LINE.match(line):
            table = _split_key(match[1])
            lines.setdefault(".".join(table), number)
            continue
        if match := _KEY_LINE.match(line):
            key = ".".join([*table, *_split_key(match[1])])
            lines.setdefault(key, number)
            rest = line[match.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    open_quote = quote
    return lines


def _line_for(key: str, lines: Mapping[str, int]) -> int | None:
    while True:
        if key in lines:
            return lines[key]
        if "." not in key:
            return None
        key = key.rsplit(".", 1)[0]


def _where(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line is not None else str(path)
