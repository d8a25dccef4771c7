"""Start-up (issue #14): what a polling bot on SQLite loads, and the compiled-catalog cache."""

from __future__ import annotations

import gettext
import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import i18n
from bot.domain.users import Language


def test_a_bot_on_sqlite_does_not_import_psycopg() -> None:
    """psycopg (~40 ms) loads only for PostgreSQL; ``storage.db.IntegrityError`` still names
    both backends' constraint violations when asked for."""
    probe = (
        "import sys, bot.runtime, bot.cli; print('psycopg' in sys.modules); "
        "from storage.db import IntegrityError; print(len(IntegrityError))"
    )
    lines = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert lines == ["False", "2"]
    from storage.db import IntegrityError

    assert sqlite3.IntegrityError in IntegrityError


def _catalog(language: Language) -> dict[object, str]:
    i18n._translations.cache_clear()
    try:
        return dict(i18n._translations(language)._catalog)  # type: ignore[attr-defined]
    finally:
        i18n._translations.cache_clear()


def _fresh(language: Language) -> dict[object, str]:
    po = i18n.catalog_path(language).read_bytes()
    translations = gettext.GNUTranslations(io.BytesIO(i18n._compile(po, language)))
    return dict(translations._catalog)  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", list(Language))
def test_catalogs_compiled_once_are_read_back_from_the_cache(
    language: Language, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = _catalog(language)
    cached = list((tmp_path / "zhiyuan" / "catalogs").glob(f"{language.value}-*.mo"))
    assert len(cached) == 1
    assert first == _fresh(language) and len(first) > 100

    # A damaged file is compiled again (and replaced); an unwritable cache only costs that.
    cached[0].write_bytes(b"not a catalog")
    assert _catalog(language) == first
    assert cached[0].read_bytes() != b"not a catalog"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cached[0]))  # a file where a folder should be
    assert _catalog(language) == first


def test_an_edited_catalog_is_not_read_from_an_older_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    original = i18n.catalog_path(Language.ZH)
    assert _catalog(Language.ZH)
    edited = tmp_path / "messages.po"
    text = original.read_text(encoding="utf-8")
    msgid = 'msgid ", "\nmsgstr "、"'
    assert msgid in text
    edited.write_text(text.replace(msgid, 'msgid ", "\nmsgstr "，"'), encoding="utf-8")
    monkeypatch.setattr(i18n, "catalog_path", lambda language: edited)
    assert _catalog(Language.ZH)[", "] == "，"
