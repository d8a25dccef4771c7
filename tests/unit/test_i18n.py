"""Language resolution, translations, formatting and the catalog completeness check."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import catalogs
from bot.domain.users import Language
from bot.i18n import Translator, resolve_language

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("chosen", "code", "default", "expected"),
    [
        (None, "zh-hans", Language.EN, Language.ZH),
        (None, "zh-hant", Language.EN, Language.ZH),
        (None, "zh", Language.EN, Language.ZH),
        (None, "ZH-CN", Language.EN, Language.ZH),
        (None, "en", Language.ZH, Language.EN),
        (None, "ru", Language.ZH, Language.EN),
        (None, None, Language.ZH, Language.ZH),
        (None, "", Language.EN, Language.EN),
        (Language.EN, "zh-hans", Language.ZH, Language.EN),  # the user's choice wins
        (Language.ZH, "en", Language.EN, Language.ZH),
    ],
)
def test_resolve_language(
    chosen: Language | None, code: str | None, default: Language, expected: Language
) -> None:
    assert resolve_language(chosen, code, default) is expected


def test_translations_are_loaded_from_the_catalogs() -> None:
    zh = Translator(Language.ZH, SHANGHAI)
    en = Translator(Language.EN, SHANGHAI)
    assert zh.gettext("Main menu") == "主菜单"
    assert en.gettext("Main menu") == "Main menu"


def test_dates_are_shown_in_the_deployment_time_zone() -> None:
    moment = datetime(2026, 12, 5, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    zh = Translator(Language.ZH, SHANGHAI)
    en = Translator(Language.EN, SHANGHAI)
    assert zh.format_date(moment, "long") == "2026年12月5日"
    assert en.format_date(moment, "long") == "December 5, 2026"
    assert zh.format_time(moment) == "09:30"
    assert en.format_time(moment) == "9:30\u202fAM"
    assert "2026" in zh.format_datetime(moment) and "09:30" in zh.format_datetime(moment)


def test_the_shipped_catalogs_are_complete() -> None:
    assert catalogs.problems() == []


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    for name in ("bot", "handlers", "locales"):
        shutil.copytree(catalogs.PROJECT_ROOT / name, tmp_path / name)
    return tmp_path


def test_check_reports_a_message_missing_from_the_catalogs(project_copy: Path) -> None:
    (project_copy / "handlers" / "extra.py").write_text(
        'def f(t):\n    return t.gettext("A brand new sentence")\n'
    )
    found = catalogs.problems(project_copy)
    assert any("stale" in problem for problem in found)
    assert "[zh] 'A brand new sentence' is missing from the catalog" in found
    assert "[en] 'A brand new sentence' is missing from the catalog" in found


def test_update_then_check_reports_the_untranslated_chinese(project_copy: Path) -> None:
    (project_copy / "handlers" / "extra.py").write_text(
        'def f(t):\n    return t.gettext("A brand new sentence")\n'
    )
    catalogs.update(project_copy)
    # English is the source language, so it is complete; Chinese must be translated.
    assert catalogs.problems(project_copy) == ["[zh] 'A brand new sentence' is untranslated"]


def test_check_reports_a_wrong_placeholder(project_copy: Path) -> None:
    po = project_copy / "locales" / "zh" / "LC_MESSAGES" / "messages.po"
    text = po.read_text()
    broken = text.replace("🤝 服务对象：{people}", "🤝 服务对象：{number}")
    assert broken != text
    po.write_text(broken)
    found = catalogs.problems(project_copy)
    assert any("placeholders ['number']" in problem for problem in found)
