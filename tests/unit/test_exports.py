"""bot.domain.exports: roster files parsed back with csv and openpyxl, in both languages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.domain.activities import EndReason, SignupStatus
from bot.domain.exports import (
    RosterEntry,
    StillComing,
    export_filename,
    headers,
    roster_csv,
    roster_xlsx,
)
from bot.domain.users import Language
from bot.domain.volunteers import Gender

SHANGHAI = ZoneInfo("Asia/Shanghai")
SKILLS = {"first_aid": "First aid", "driving": "Driving"}


def entry(**fields: object) -> RosterEntry:
    values: dict[str, object] = {
        "signup_id": 1,
        "volunteer_id": 1,
        "name": "王小明",
        "phone": "+8613800001001",
        "gender": Gender.MALE,
        "skills": ("first_aid", "driving"),
        "status": SignupStatus.CONFIRMED,
        "end_reason": None,
        "signed_up_at": datetime(2026, 11, 23, 2, 5, 30, tzinfo=UTC),  # 10:05 in Shanghai
        "waitlist_position": None,
        "still_coming": None,
        "still_coming_asked_at": None,
    }
    values.update(fields)
    return RosterEntry.model_validate(values)


ENTRIES = (
    entry(still_coming="yes", still_coming_asked_at=datetime(2026, 11, 24, tzinfo=UTC)),
    entry(
        signup_id=2,
        name='=HYPERLINK("http://evil")',
        phone="+12025550143",
        gender=None,
        skills=(),
        status=SignupStatus.WAITLISTED,
        waitlist_position=1,
        still_coming_asked_at=datetime(2026, 11, 24, tzinfo=UTC),
    ),
    entry(signup_id=3, name=None, phone=None, gender=Gender.FEMALE, status=SignupStatus.OFFERED),
)


def parse_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_in_chinese() -> None:
    rows = parse_csv(roster_csv(ENTRIES, Language.ZH, SHANGHAI, SKILLS))
    assert rows[0] == ["姓名", "联系电话", "性别", "专业技能", "状态", "报名时间", "确认参加"]
    assert rows[1] == [
        "王小明",
        "138 0000 1001",
        "男",
        "First aid、Driving",
        "已报名",
        "2026-11-23 10:05",
        "是",
    ]
    assert rows[2][4:] == ["候补第1位", "2026-11-23 10:05", "未回复"]
    assert rows[3][:3] == ["（已注销）", "", "女"]
    assert rows[3][4] == "候补待确认" and rows[3][6] == ""  # not asked: nothing


def test_csv_in_english_defuses_formulas() -> None:
    rows = parse_csv(roster_csv(ENTRIES, Language.EN, SHANGHAI, SKILLS))
    assert rows[0] == list(headers(Language.EN))
    assert rows[0][0] == "Name" and rows[0][-1] == "Still coming"
    assert rows[1][2:5] == ["male", "First aid, Driving", "confirmed"]
    assert rows[2][0] == '\'=HYPERLINK("http://evil")'  # shown as text, never run
    assert rows[2][1] == "'+1 202-555-0143"
    assert rows[2][4] == "waitlist #1" and rows[2][6] == "no answer"
    assert rows[3][0] == "(deleted account)"


def test_xlsx_round_trip() -> None:
    data = roster_xlsx(ENTRIES, Language.ZH, SHANGHAI, SKILLS, title="社区健康义诊")
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    assert sheet is not None and sheet.title == "报名名单"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "联系电话", "性别", "专业技能", "状态", "报名时间", "确认参加")
    assert rows[1][:5] == ("王小明", "138 0000 1001", "男", "First aid、Driving", "已报名")
    assert rows[1][5] == datetime(2026, 11, 23, 10, 5)  # local time, a real date cell
    # A formula-looking name is stored as text: openpyxl reads it back verbatim.
    assert rows[2][0] == '=HYPERLINK("http://evil")'
    assert sheet.cell(row=3, column=1).data_type == "s"
    assert workbook.properties.title == "社区健康义诊"

    english = load_workbook(io.BytesIO(roster_xlsx(ENTRIES, Language.EN, SHANGHAI, SKILLS)))
    assert english.active is not None
    assert next(english.active.iter_rows(values_only=True))[0] == "Name"


def test_empty_roster_has_headers_only() -> None:
    assert parse_csv(roster_csv((), Language.EN, SHANGHAI, SKILLS)) == [list(headers(Language.EN))]
    sheet = load_workbook(io.BytesIO(roster_xlsx((), Language.EN, SHANGHAI, SKILLS))).active
    assert sheet is not None and sheet.max_row == 1


def test_still_coming_answers() -> None:
    asked = datetime(2026, 11, 24, tzinfo=UTC)
    assert entry().answer is StillComing.NOT_ASKED
    assert entry(still_coming_asked_at=asked).answer is StillComing.NO_ANSWER
    assert entry(still_coming="yes", still_coming_asked_at=asked).answer is StillComing.YES
    assert entry(still_coming="no", still_coming_asked_at=asked).answer is StillComing.NO
    cancelled = entry(status=SignupStatus.CANCELLED, end_reason=EndReason.ACTIVITY_CANCELLED)
    assert not cancelled.has_spot


def test_filenames_are_safe() -> None:
    start = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    assert (
        export_filename(12, "社区健康义诊", start, SHANGHAI, "csv")
        == "roster-12-20261205-社区健康义诊.csv"
    )
    tricky = export_filename(7, "../../etc/passwd\n<b>x</b>", start, SHANGHAI, "xlsx")
    assert tricky == "roster-7-20261205-etc_passwd_b_x_b.xlsx"
    assert "/" not in tricky and "\n" not in tricky
    assert export_filename(3, "!!!", start, SHANGHAI, "csv") == "roster-3-20261205.csv"
    assert len(export_filename(3, "长" * 200, start, SHANGHAI, "csv")) < 80
