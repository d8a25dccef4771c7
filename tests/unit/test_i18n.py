"""Language resolution, translations, formatting and the catalog completeness check."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot import catalogs
from bot.clock import ManualClock
from bot.domain.users import Language
from bot.i18n import Translator, catalog_path, resolve_language

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


def test_check_reports_gettext_inside_an_f_string(project_copy: Path) -> None:
    # Extraction cannot see into an f-string: "Status" stayed English for Chinese readers.
    (project_copy / "handlers" / "extra.py").write_text(
        "def f(t, label, status):\n"
        "    first = f\"{t.gettext('Status')}: {status}\"\n"
        "    return first, f\"<b>{t.pgettext('ctx', label)}</b> {_(label)!r:>4}\"\n"
    )
    found = catalogs.problems(project_copy)
    inside = [problem for problem in found if "extra.py" in problem]
    assert [problem.split(" is inside")[0] for problem in inside] == [
        "handlers/extra.py:2: t.gettext('Status')",
        "handlers/extra.py:3: t.pgettext('ctx', label)",
        "handlers/extra.py:3: _(label)",
    ]


def test_no_gettext_call_is_inside_an_f_string() -> None:
    assert catalogs.calls_in_fstrings() == []


def test_a_form_line_is_punctuated_per_language() -> None:
    zh = Translator(Language.ZH, SHANGHAI)
    assert zh.labelled("Area", "芙蓉区") == "<b>区域：</b>芙蓉区"
    assert Translator(Language.EN, SHANGHAI).labelled("Area", "Furong") == "<b>Area:</b> Furong"


def test_chinese_addresses_the_reader_as_nin_throughout() -> None:
    """One form of address: many volunteers are older people, and a text that says 您 on one
    screen and 你 on the next reads as careless. (No exception is needed today; should a quoted
    user example ever need 你, e.g. the greeting "你好", allow that exact message here.)"""
    with catalog_path(Language.ZH).open("rb") as handle:
        catalog = read_po(handle)
    informal = []
    for message in catalog:
        texts = message.string if isinstance(message.string, tuple | list) else (message.string,)
        informal += [text for text in texts if text and "你" in text]
    assert informal == []


# ------------------------------------------------------------------ dates people read (#13.2)


def _on(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def _at(moment: datetime, language: Language) -> Translator:
    return Translator(language, SHANGHAI, ManualClock(moment))


def test_a_date_in_another_year_shows_the_year() -> None:
    today = _on(2026, 12, 5)  # a Saturday
    zh, en = _at(today, Language.ZH), _at(today, Language.EN)
    next_year = _on(2027, 12, 5, 9, 0)  # a Sunday, the same month and day a year later
    assert zh.format_moment(next_year) == "2027年12月5日（周日）09:00"
    assert en.format_moment(next_year) == "Sun, Dec 5, 2027 09:00"
    assert zh.format_day(_on(2025, 3, 5)) == "2025年3月5日（周三）"
    this_year = _on(2026, 12, 6, 9, 0)
    assert zh.format_moment(this_year) == "12月6日（周日）09:00"
    assert en.format_moment(this_year) == "Sun, Dec 6 09:00"


def test_the_current_year_is_the_deployment_time_zones() -> None:
    # 17:30 UTC on New Year's Eve is already 1 January in Shanghai: no year on 1 January.
    new_year = Translator(
        Language.ZH, SHANGHAI, ManualClock(datetime(2026, 12, 31, 17, 30, tzinfo=UTC))
    )
    assert new_year.format_day(_on(2027, 1, 1)) == "1月1日（周五）"
    assert new_year.format_day(_on(2026, 12, 31)) == "2026年12月31日（周四）"


def test_documents_always_show_the_year() -> None:
    zh = _at(_on(2026, 12, 5), Language.ZH)
    assert zh.format_day(_on(2026, 12, 6), year=True) == "2026年12月6日（周日）"


def test_a_span_on_one_day_names_the_day_once() -> None:
    zh, en = _at(_on(2026, 12, 5), Language.ZH), _at(_on(2026, 12, 5), Language.EN)
    start, end = _on(2026, 12, 21, 14, 0), _on(2026, 12, 21, 16, 0)
    assert zh.format_span(start, end) == "12月21日（周一）14:00–16:00"
    assert en.format_span(start, end) == "Mon, Dec 21 14:00–16:00"
    overnight = zh.format_span(_on(2026, 12, 21, 22, 0), _on(2026, 12, 22, 2, 0))
    assert overnight == "12月21日（周一）22:00 – 12月22日（周二）02:00"
    into_next_year = zh.format_span(_on(2026, 12, 31, 22, 0), _on(2027, 1, 1, 2, 0))
    assert into_next_year == "12月31日（周四）22:00 – 2027年1月1日（周五）02:00"


def test_chinese_labels_say_what_they_mean() -> None:
    """Issue #13 item 7: one text per meaning (an organizer's ended activities are not what a
    volunteer "attended"; a manager is 负责人, the federation's staff 管理员; broadcast rows not
    sent include blocked users, so they are not "cancelled"; an organization has an 简介)."""
    from zoneinfo import ZoneInfo

    from bot.domain.activities import ActivityTab
    from bot.domain.users import Language
    from bot.i18n import translator
    from bot.services.organizations import ApplicationStep as Step
    from handlers.manage import TAB_LABELS
    from handlers.organize import FIELD_LABELS

    zh = translator(Language.ZH, ZoneInfo("Asia/Shanghai"))
    assert zh.gettext(TAB_LABELS[ActivityTab.PAST]) != zh.gettext("🕘 Past")
    assert "参加" not in zh.gettext(TAB_LABELS[ActivityTab.PAST])
    assert zh.gettext("manager") == "负责人"
    assert "管理员" in zh.gettext("another administrator")
    assert "取消" not in zh.gettext(
        "✅ Sent: {sent} · ⏳ Pending: {pending} · ⚠️ Failed: {failed} · 🚫 Not sent: {dropped}"
    )
    assert zh.gettext(FIELD_LABELS[Step.DESCRIPTION]) == "组织简介"


def test_the_chinese_catalog_follows_the_glossary() -> None:
    """The rules marked ✓ in locales/GLOSSARY.md, over every Chinese translation."""
    import re
    from pathlib import Path

    from babel.messages.pofile import read_po

    path = Path(__file__).resolve().parents[2] / "locales" / "zh" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    ascii_colon = re.compile(r"[\u4e00-\u9fff]: ")
    problems = []
    for message in catalog:
        if not message.id:
            continue
        texts = [message.string] if isinstance(message.string, str) else list(message.string or [])
        for text in texts:
            if not text:
                continue
            if "组织方" in text:
                problems.append(("组织方 → 组织者", message.id))
            if "电话号码" in text:
                problems.append(("电话号码 → 手机号码", message.id))
            if "18 岁" in text:
                problems.append(("18 岁 → 年满 18 周岁", message.id))
            if re.search(r"志愿(将|也|保存)", text):
                problems.append(("志愿 as the bot → 本平台", message.id))
            if re.search(r"\d{1,2}/\d{1,2} \d", text):
                problems.append(("ambiguous example date → 12月3日", message.id))
            if "该组织的管理员" in text:
                problems.append(("an organization's manager is 负责人", message.id))
            if ascii_colon.search(text):
                problems.append(("ASCII colon after Chinese", message.id))
    assert problems == []
