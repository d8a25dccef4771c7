"""Rosters and their export as CSV and Excel files (no Telegram, no I/O).

A roster line holds what an organizer needs to run the activity (民政部令第67号 Art. 5: 姓名,
性别, 联系方式, 专业技能) and nothing more: no birth date, no ID number, no address.

The column headers and values of a file are fixed per language here rather than looked up in
the gettext catalog: a spreadsheet is a document people file, merge and re-import, so its
headers must be the same every time (Chinese for Chinese users, English otherwise), whatever
state a translation is in.

Both formats are safe to open: CSV is UTF-8 with a byte-order mark (without it Excel reads
UTF-8 as the local code page and Chinese names turn into mojibake), and text that a spreadsheet
would run as a formula (``=``, ``+``, ``-``, ``@`` first) is defused; in the .xlsx file every
text cell is stored as text, so nothing is ever evaluated.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from bot.domain.activities import EndReason, Paged, SignupStatus
from bot.domain.contacts import is_masked
from bot.domain.users import Language
from bot.domain.volunteers import Gender

__all__ = [
    "RosterEntry",
    "RosterPage",
    "StillComing",
    "export_filename",
    "roster_csv",
    "roster_rows",
    "roster_xlsx",
]

CSV_BOM: Final = "\ufeff"
XLSX_MIME: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class StillComing(StrEnum):
    """The answer to the reminders' "Still coming?" question, as the roster shows it."""

    NOT_ASKED = "not_asked"
    NO_ANSWER = "no_answer"  # asked, not answered yet
    YES = "yes"
    NO = "no"


class RosterEntry(BaseModel):
    """One volunteer on an activity's roster."""

    model_config = ConfigDict(frozen=True)

    signup_id: int
    volunteer_id: int
    name: str | None  # None: the account was deleted (the record stays, anonymized)
    phone: str | None
    gender: Gender | None
    skills: tuple[str, ...]  # codes
    status: SignupStatus
    end_reason: EndReason | None
    signed_up_at: datetime  # when the volunteer took the spot or joined the waitlist
    waitlist_position: int | None
    still_coming: str | None  # 'yes', 'no' or None (migration 0009)
    still_coming_asked_at: datetime | None

    @property
    def answer(self) -> StillComing:
        if self.still_coming == "yes":
            return StillComing.YES
        if self.still_coming == "no":
            return StillComing.NO
        if self.still_coming_asked_at is not None:
            return StillComing.NO_ANSWER
        return StillComing.NOT_ASKED

    @property
    def has_spot(self) -> bool:
        return self.status in (SignupStatus.CONFIRMED, SignupStatus.OFFERED)


class RosterPage(Paged):
    entries: tuple[RosterEntry, ...]
    confirmed: int
    offered: int
    waitlisted: int


# ------------------------------------------------------------------------------------ columns

_HEADERS: Final[dict[Language, tuple[str, ...]]] = {
    Language.ZH: ("姓名", "联系电话", "性别", "专业技能", "状态", "报名时间", "确认参加"),
    Language.EN: ("Name", "Phone", "Gender", "Skills", "Status", "Signed up", "Still coming"),
}
_GENDERS: Final[dict[Language, dict[Gender, str]]] = {
    Language.ZH: {Gender.FEMALE: "女", Gender.MALE: "男", Gender.UNDISCLOSED: "未填写"},
    Language.EN: {Gender.FEMALE: "female", Gender.MALE: "male", Gender.UNDISCLOSED: "undisclosed"},
}
_STATUSES: Final[dict[Language, dict[str, str]]] = {
    Language.ZH: {
        "confirmed": "已报名",
        "offered": "候补待确认",
        "waitlisted": "候补第{n}位",
        "cancelled": "活动已取消",
    },
    Language.EN: {
        "confirmed": "confirmed",
        "offered": "offered a spot",
        "waitlisted": "waitlist #{n}",
        "cancelled": "activity cancelled",
    },
}
_ANSWERS: Final[dict[Language, dict[StillComing, str]]] = {
    Language.ZH: {
        StillComing.NOT_ASKED: "",
        StillComing.NO_ANSWER: "未回复",
        StillComing.YES: "是",
        StillComing.NO: "否",
    },
    Language.EN: {
        StillComing.NOT_ASKED: "",
        StillComing.NO_ANSWER: "no answer",
        StillComing.YES: "yes",
        StillComing.NO: "no",
    },
}
_DELETED: Final[dict[Language, str]] = {Language.ZH: "（已注销）", Language.EN: "(deleted account)"}
_SHEET: Final[dict[Language, str]] = {Language.ZH: "报名名单", Language.EN: "Roster"}
_SKILL_SEPARATOR: Final[dict[Language, str]] = {Language.ZH: "、", Language.EN: ", "}


def headers(language: Language) -> tuple[str, ...]:
    return _HEADERS[language]


def phone_text(phone: str | None) -> str:
    """Chinese numbers in the national format (``138 1234 5678``, what people dial and what
    Excel leaves alone); others internationally (``+1 …``, defused in CSV)."""
    import phonenumbers  # ≈ 15 ms: loaded by the first number, not at start-up (#14)

    if not phone:
        return ""
    if is_masked(phone):  # already shown as the viewer may see it (bot.domain.contacts)
        return phone.removeprefix("+86 ")
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def status_text(entry: RosterEntry, language: Language) -> str:
    labels = _STATUSES[language]
    if entry.status is SignupStatus.WAITLISTED:
        return labels["waitlisted"].format(n=entry.waitlist_position or "?")
    return labels[entry.status.value]


def roster_rows(
    entries: list[RosterEntry] | tuple[RosterEntry, ...],
    language: Language,
    tz: tzinfo,
    skill_names: dict[str, str],
) -> list[tuple[str, str, str, str, str, datetime, str]]:
    """The rows of an export (without the header); the sign-up time is naive local time."""
    rows = []
    for entry in entries:
        rows.append(
            (
                entry.name if entry.name is not None else _DELETED[language],
                phone_text(entry.phone),
                _GENDERS[language][entry.gender] if entry.gender is not None else "",
                _SKILL_SEPARATOR[language].join(
                    skill_names.get(code, code) for code in entry.skills
                ),
                status_text(entry, language),
                entry.signed_up_at.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0),
                _ANSWERS[language][entry.answer],
            )
        )
    return rows


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defused(value: str) -> str:
    """Text a spreadsheet would evaluate gets a leading apostrophe (OWASP's CSV advice)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def roster_csv(
    entries: list[RosterEntry] | tuple[RosterEntry, ...],
    language: Language,
    tz: tzinfo,
    skill_names: dict[str, str],
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers(language))
    for row in roster_rows(entries, language, tz, skill_names):
        *texts, signed_up, answer = row
        writer.writerow(
            [
                *(_defused(text) for text in texts),
                signed_up.strftime("%Y-%m-%d %H:%M"),
                answer,
            ]
        )
    return (CSV_BOM + buffer.getvalue()).encode("utf-8")


def roster_xlsx(
    entries: list[RosterEntry] | tuple[RosterEntry, ...],
    language: Language,
    tz: tzinfo,
    skill_names: dict[str, str],
    *,
    title: str = "",
) -> bytes:
    # Imported when first needed: a slow import the bot's start-up does not need.
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _SHEET[language]
    sheet.append(list(headers(language)))
    for row in roster_rows(entries, language, tz, skill_names):
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = TYPE_STRING  # never a formula, whatever the text starts with
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFG", (14, 16, 8, 28, 16, 18, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    if title:
        workbook.properties.title = title[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_UNSAFE = re.compile(r"[^\w\-]+")


def export_filename(activity_id: int, title: str, starts_at: datetime, tz: tzinfo, ext: str) -> str:
    """``roster-12-20261205-社区健康义诊.csv``: letters, digits (any script), ``-`` and ``_``
    only, so no path, no control character and nothing a file system refuses."""
    day = starts_at.astimezone(tz).strftime("%Y%m%d")
    slug = _UNSAFE.sub("_", unicodedata.normalize("NFC", title)).strip("_")[:40]
    stem = f"roster-{activity_id}-{day}" + (f"-{slug}" if slug else "")
    return f"{stem}.{ext}"
