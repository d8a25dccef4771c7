"""Configuration: defaults, parsing and one-line errors naming the variable."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import _SPANS, ConfigError, Settings, load_settings, parse_duration
from bot.domain.users import Language

TOKEN = "123456:ABC-def_ghi"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "BOT_TOKEN",
        "BOT_API_URL",
        "DATABASE_PATH",
        "ADMIN_IDS",
        "TIMEZONE",
        "DEFAULT_LANGUAGE",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.bot_api_url == "https://api.telegram.org"
    assert settings.database_path == Path("data/zhiyuan.sqlite3")
    assert settings.admin_ids == frozenset()
    assert settings.timezone == "Asia/Shanghai"
    assert settings.default_language is Language.ZH
    assert settings.require_token() == TOKEN


def test_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("BOT_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("ADMIN_IDS", " 11, 22 ,33")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "EN")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.bot_api_url == "http://127.0.0.1:8081"
    assert settings.admin_ids == {11, 22, 33}
    assert settings.default_language is Language.EN
    assert settings.log_level == "DEBUG"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nTIMEZONE=Europe/Berlin\n")
    settings = load_settings()
    assert settings.timezone == "Europe/Berlin"


def test_token_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN is invalid"),
        ("BOT_API_URL", "ftp://x", "BOT_API_URL is invalid"),
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS is invalid: 'abc' is not a Telegram user id"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE is invalid"),
        ("DEFAULT_LANGUAGE", "fr", "DEFAULT_LANGUAGE is invalid"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL is invalid"),
    ],
)
def test_malformed_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    if variable != "BOT_TOKEN":
        monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_missing_token_only_matters_for_running() -> None:
    settings = load_settings()
    with pytest.raises(ConfigError, match="BOT_TOKEN is not set"):
        settings.require_token()


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def base_env() -> dict[str, str]:
    import os

    keep = ("PATH", "HOME", "PYTHONPATH", "SYSTEMROOT", "VIRTUAL_ENV")
    return {name: os.environ[name] for name in keep if name in os.environ}


def test_cli_run_without_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli("run", env=base_env(), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "zhiyuan: configuration error: BOT_TOKEN is not set (get one from @BotFather)"
    ]


def test_cli_malformed_setting_exits_2_without_traceback(tmp_path: Path) -> None:
    env = base_env() | {"BOT_TOKEN": TOKEN, "TIMEZONE": "Nowhere/Land"}
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "TIMEZONE is invalid" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_version_and_migrate(tmp_path: Path) -> None:
    from bot import __version__

    version = run_cli("--version", env=base_env(), cwd=tmp_path)
    assert version.returncode == 0
    assert version.stdout.strip() == f"zhiyuan {__version__}"
    env = base_env() | {"DATABASE_PATH": str(tmp_path / "nested" / "z.sqlite3")}
    first = run_cli("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("schema version ")
    assert (tmp_path / "nested" / "z.sqlite3").exists()
    second = run_cli("migrate", env=env, cwd=tmp_path)
    assert second.stdout.strip().endswith("(applied: none)")


def test_parse_duration() -> None:
    assert parse_duration("24h").total_seconds() == 86400
    assert parse_duration(" 90m ").total_seconds() == 5400
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_every_duration_setting_is_parsed_and_bounded_by_the_one_table() -> None:
    durations = {
        name for name, field in Settings.model_fields.items() if field.annotation is timedelta
    }
    assert durations == set(_SPANS)
    for name, (shortest, longest, _message) in _SPANS.items():
        assert shortest <= Settings.model_fields[name].default <= longest, name
