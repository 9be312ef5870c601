"""Precedence, sources, and every kind of configuration error."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from inferd_tui.settings import (
    ConfigError,
    LoadedSettings,
    Settings,
    flags_from_namespace,
    load_settings,
)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def load(
    tmp_path: Path,
    text: str | None = None,
    *,
    flags: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
    binding_ids: list[str] | None = None,
    theme_names: list[str] | None = None,
) -> LoadedSettings:
    path = write_config(tmp_path, text) if text is not None else tmp_path / "missing.toml"
    return load_settings(
        flags or {}, env or {}, path, binding_ids=binding_ids, theme_names=theme_names
    )


def config_error(tmp_path: Path, text: str | None = None, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    return message


FULL_CONFIG = """\
# inferd-tui settings
theme = "nord"
history_limit = 50

[endpoint]
socket = "/run/file.sock"
admin = "~/admin.sock"

[keymap]
send = "ctrl+enter,ctrl+s"

[sampling]
temperature = 0.5
"""


def test_defaults_when_there_is_no_file(tmp_path: Path) -> None:
    loaded = load(tmp_path)
    assert loaded.settings == Settings()
    assert not loaded.config_exists
    assert set(loaded.sources.values()) == {"default"}
    assert loaded.settings.endpoint.api_key_env == "INFERD_API_KEY"
    assert loaded.settings.admin_tail_limit == 5000
    assert loaded.settings.theme == "textual-dark"


def test_file_values_and_their_lines(tmp_path: Path) -> None:
    loaded = load(tmp_path, FULL_CONFIG)
    path = tmp_path / "config.toml"
    settings = loaded.settings
    assert settings.theme == "nord"
    assert settings.history_limit == 50
    assert settings.endpoint.socket == Path("/run/file.sock")
    assert settings.endpoint.admin == Path("~/admin.sock").expanduser()
    assert settings.keymap == {"send": "ctrl+enter,ctrl+s"}
    assert settings.sampling.to_wire() == {"temperature": 0.5}
    assert loaded.sources["theme"] == f"file {path}:2"
    assert loaded.sources["endpoint.socket"] == f"file {path}:6"
    assert loaded.sources["keymap.send"] == f"file {path}:10"
    assert loaded.sources["sampling.temperature"] == f"file {path}:13"
    assert loaded.sources["no_save"] == "default"


def test_precedence_flags_over_env_over_file_over_defaults(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        FULL_CONFIG,
        env={"INFERD_TUI_THEME": "dracula", "INFERD_ADMIN_ADDR": "/env/admin.sock"},
        flags={"theme": "monokai", "no_save": True},
    )
    settings = loaded.settings
    assert settings.theme == "monokai"
    assert loaded.sources["theme"] == "flag --theme"
    assert settings.endpoint.admin == Path("/env/admin.sock")
    assert loaded.sources["endpoint.admin"] == "env INFERD_ADMIN_ADDR"
    assert settings.endpoint.socket == Path("/run/file.sock")
    assert loaded.sources["endpoint.socket"].startswith("file ")
    assert settings.no_save is True
    assert loaded.sources["no_save"] == "flag --no-save"
    assert loaded.sources["history_limit"].startswith("file ")
    assert loaded.sources["admin_tail_limit"] == "default"


def test_a_higher_layer_choosing_tcp_replaces_the_file_socket(tmp_path: Path) -> None:
    loaded = load(tmp_path, FULL_CONFIG, env={"INFERD_TCP": "127.0.0.1:47321"})
    assert loaded.settings.endpoint.socket is None
    assert loaded.settings.endpoint.tcp == "127.0.0.1:47321"
    assert loaded.sources["endpoint.tcp"] == "env INFERD_TCP"
    assert loaded.sources["endpoint.socket"] == "default"

    loaded = load(tmp_path, None, env={"INFERD_TCP": "127.0.0.1:1"}, flags={"socket": "/f.sock"})
    assert (loaded.settings.endpoint.socket, loaded.settings.endpoint.tcp) == (
        Path("/f.sock"),
        None,
    )
    assert loaded.sources["endpoint.socket"] == "flag --socket"


def test_empty_environment_variables_are_unset(tmp_path: Path) -> None:
    loaded = load(tmp_path, env={"INFERD_UDS": "", "INFERD_TUI_THEME": ""})
    assert loaded.settings == Settings()


def test_config_path_from_flag_and_environment(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen.toml"
    chosen.write_text('theme = "from-env-file"\n')
    loaded = load_settings({}, {"INFERD_TUI_CONFIG": str(chosen)}, tmp_path / "default.toml")
    assert loaded.settings.theme == "from-env-file"
    assert (loaded.config_path, loaded.config_source) == (chosen, "env INFERD_TUI_CONFIG")

    other = tmp_path / "other.toml"
    other.write_text('theme = "from-flag-file"\n')
    loaded = load_settings({"config": str(other)}, {"INFERD_TUI_CONFIG": str(chosen)}, None)
    assert loaded.settings.theme == "from-flag-file"
    assert loaded.config_source == "flag --config"


def test_flags_from_namespace_keeps_only_given_flags() -> None:
    namespace = argparse.Namespace(
        socket=None, tcp="h:1", admin=None, api_key_env=None, theme=None, no_save=False,
        config="/c.toml", demo=True, command=None,
    )  # fmt: skip
    assert flags_from_namespace(namespace) == {"tcp": "h:1", "config": "/c.toml"}
    assert flags_from_namespace({"no_save": True}) == {"no_save": True}


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.theme = "x"  # type: ignore[misc]


# ----------------------------------------------------------------------------- errors


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found \(flag --config\)"):
        load_settings({"config": str(missing)}, {}, None)
    with pytest.raises(ConfigError, match=r"not found \(env INFERD_TUI_CONFIG\)"):
        load_settings({}, {"INFERD_TUI_CONFIG": str(missing)}, None)


def test_bad_toml_names_file_line_and_column(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'theme = "ok"\n\n[endpoint]\nsocket = /unquoted\n')
    assert message == f"{tmp_path / 'config.toml'}:4:10: invalid TOML: Invalid value"


def test_bad_toml_at_end_of_file(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'theme = "ok"\ntheme2 =')
    assert message.startswith(f"{tmp_path / 'config.toml'}:2: invalid TOML:")


def test_unknown_key_with_suggestion_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert (
        config_error(tmp_path, '# hi\nthemee = "nord"\n')
        == f"{path}:2: themee: unknown key `themee` (did you mean `theme`?)"
    )
    assert (
        config_error(tmp_path, '[endpoint]\nsockte = "/x"\n')
        == f"{path}:2: endpoint.sockte: unknown key `sockte` (did you mean `socket`?)"
    )
    message = config_error(tmp_path, "zzz = 1\n")
    assert message.startswith(f"{path}:1: zzz: unknown key `zzz`; known keys: endpoint, theme")


def test_bad_type_names_line_and_key(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'theme = "x"\n\n\nhistory_limit = "lots"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}:4: history_limit: input should be")
    assert message.endswith('got "lots"')
    message = config_error(tmp_path, "[sampling]\ntop_p = 1.5\n")
    assert message == (
        f"{tmp_path / 'config.toml'}:2: sampling.top_p: input should be less than or equal"
        " to 1, got 1.5"
    )
    message = config_error(tmp_path, "[sampling]\nimage_token_budget = 999\n")
    assert "sampling.image_token_budget: input should be 70, 140, 280, 560 or 1120" in message


def test_bad_tcp_address_in_file(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[endpoint]\n\ntcp = "localhost"\n')
    assert message == (
        f'{tmp_path / "config.toml"}:3: endpoint.tcp: expected "host:port", got "localhost"'
    )


@pytest.mark.parametrize("address", ["localhost", "host:", ":80", "host:http", "h:0", "h:70000"])
def test_bad_tcp_address_from_env_and_flag(tmp_path: Path, address: str) -> None:
    assert config_error(tmp_path, env={"INFERD_TCP": address}).startswith(
        "INFERD_TCP: endpoint.tcp: expected"
    )
    assert config_error(tmp_path, flags={"tcp": address}).startswith(
        "--tcp: endpoint.tcp: expected"
    )


@pytest.mark.parametrize("address", ["127.0.0.1:47321", "localhost:1", "[::1]:8080"])
def test_good_tcp_addresses(tmp_path: Path, address: str) -> None:
    assert load(tmp_path, flags={"tcp": address}).settings.endpoint.tcp == address


def test_socket_and_tcp_together_in_one_layer(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[endpoint]\nsocket = "/s"\ntcp = "h:1"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}:3: endpoint.tcp: set either")
    message = config_error(tmp_path, env={"INFERD_UDS": "/s", "INFERD_TCP": "h:1"})
    assert "INFERD_UDS and INFERD_TCP are both set" in message


@pytest.mark.parametrize(
    "text",
    [
        '[endpoint]\napi_key = "sk-live-123"\n',
        '[endpoint]\nkey = "sk-live-123"\n',
        'api-key = "sk-live-123"\n',
        'endpoint.token = "sk-live-123"\n',
    ],
)
def test_api_key_in_the_file_is_refused(tmp_path: Path, text: str) -> None:
    message = config_error(tmp_path, text)
    assert "must not be written in the config file" in message
    assert "environment variable" in message
    assert "sk-live-123" not in message
    assert message.startswith(f"{tmp_path / 'config.toml'}:")


def test_a_key_pasted_as_api_key_env_is_not_echoed(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[endpoint]\napi_key_env = "sk-live 123"\n')
    assert "endpoint.api_key_env: expected the NAME of an environment variable" in message
    assert "sk-live" not in message
    message = config_error(tmp_path, flags={"api_key_env": "sk-live 123"})
    assert message.startswith("--api-key-env: ")
    assert "sk-live" not in message


def test_keymap_format_and_binding_ids(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert config_error(tmp_path, '[keymap]\nsend = "ctrl + s"\n') == (
        f'{path}:2: keymap.send: expected keys like "ctrl+s" or "ctrl+s,f5", got "ctrl + s"'
    )
    assert "is not a binding id" in config_error(tmp_path, '[keymap]\n"Send Now" = "f5"\n')
    assert (
        config_error(
            tmp_path, '[keymap]\nsend = "f5"\nsned = "f6"\n', binding_ids=["send", "cancel"]
        )
        == f"{path}:3: keymap.sned: unknown binding id `sned` (did you mean `send`?)"
    )
    loaded = load(tmp_path, '[keymap]\nsend = " f5 , ctrl+s "\n', binding_ids=["send"])
    assert loaded.settings.keymap == {"send": "f5,ctrl+s"}


def test_unknown_theme_names_its_source_and_the_closest_theme(tmp_path: Path) -> None:
    themes = ["nord", "dracula", "textual-dark"]
    path = tmp_path / "config.toml"
    assert config_error(tmp_path, 'theme = "nrod"\n', theme_names=themes) == (
        f"{path}:1: theme: unknown theme `nrod` "
        "(did you mean `nord`? themes: dracula, nord, textual-dark)"
    )
    from_flag = config_error(tmp_path, flags={"theme": "zzz"}, theme_names=themes)
    assert from_flag.startswith("flag --theme: theme: unknown theme `zzz`")
    assert load(tmp_path, 'theme = "nord"\n', theme_names=themes).settings.theme == "nord"


def test_wrong_table_shape(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'endpoint = "/run/x.sock"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}:1: endpoint: ")


def test_multiline_strings_do_not_confuse_line_numbers(tmp_path: Path) -> None:
    text = 'system_prompt = """\nfake = 1\n[fake]\n"""\nthemee = "x"\n'
    assert config_error(tmp_path, text).startswith(f"{tmp_path / 'config.toml'}:5: themee:")


def test_unreadable_config(tmp_path: Path) -> None:
    directory = tmp_path / "dir.toml"
    directory.mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings({"config": str(directory)}, {}, None)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b'theme = "x"\n\xff\xfe\n')
    with pytest.raises(ConfigError, match=r"binary\.toml:2: not valid UTF-8"):
        load_settings({"config": str(binary)}, {}, None)
