"""Reports (issue #18): reading typed figures, campaign periods, the statistics table's
aggregation and totals, /stats numbers, the Friday planning with a manual clock (inside and
outside a campaign period, idempotent), the XLSX read back and a chart that decodes."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.clock import ManualClock
from bot.domain.activities import MemberRole, Organization, PeopleServed
from bot.domain.notifications import NotificationKind
from bot.domain.report_charts import ChartSpec, render_chart
from bot.domain.report_files import SheetHeading, table_csv, table_xlsx
from bot.domain.reports import (
    CampaignPeriod,
    MediaKind,
    PeriodKind,
    PeriodSpan,
    ScopeKind,
    parse_count,
    parse_link,
    parse_period_range,
    parse_yuan,
    period_on,
    yuan_text,
)
from bot.domain.users import Language
from bot.domain.validation import InvalidInput
from bot.services.reports import ReportPolicy, ReportService, ReportsRefused
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.reports import ReportsRepository, Scope
from storage.timeutil import to_db_time
from storage.users import UsersRepository
from tests.factories import add_activity, add_organization, add_user, add_volunteer
from tests.service_records import add_record

SHANGHAI = ZoneInfo("Asia/Shanghai")
MANAGER = 700
ORGANIZER = 701
STRANGER = 702
ADMIN = 703
# Friday 5 March 2027 (3·5 itself), 10:30 in Shanghai: inside the default March period.
FRIDAY = datetime(2027, 3, 5, 10, 30, tzinfo=SHANGHAI)


# -- typed input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1200", 120000),
        ("1,200.5", 120050),
        ("１２００元", 120000),
        ("￥350.50", 35050),
        ("0", 0),
        (" 88 rmb ", 8800),
    ],
)
def test_amounts_in_yuan_become_fen(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen
    assert parse_yuan(yuan_text(fen)) == fen


@pytest.mark.parametrize("text", ["", "abc", "-5", "1.234", "1e5", "99999999999999"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_yuan(text)


def test_counts_and_links() -> None:
    assert parse_count("１,２００人次", minimum=0, maximum=10_000) == 1200
    with pytest.raises(InvalidInput):
        parse_count("3.5", minimum=0, maximum=10)
    with pytest.raises(InvalidInput):
        parse_count("11", minimum=0, maximum=10)
    assert parse_link("https://mp.weixin.qq.com/s/abc") == "https://mp.weixin.qq.com/s/abc"
    for bad in ("javascript:alert(1)", "mp.weixin.qq.com/s/abc", "https://x", "http://a b.cn"):
        with pytest.raises(InvalidInput):
            parse_link(bad)


def test_period_ranges_around_a_key_date() -> None:
    key_day = date(2027, 3, 5)
    assert parse_period_range("3-1 3-31", key_day) == (4, 26)
    assert parse_period_range("3月1日至3月31日", key_day) == (4, 26)
    # Across New Year: a period around 1 January starts in the December before.
    assert parse_period_range("12-25 1-5", date(2027, 1, 1)) == (7, 4)
    for bad in ("March", "3-1", "4-1 4-30", "2-30 3-31"):
        with pytest.raises(InvalidInput):
            parse_period_range(bad, key_day)


def test_the_period_a_day_falls_in() -> None:
    march = CampaignPeriod("lei_feng", 4, 26)
    december = CampaignPeriod("intl_volunteer_day", 3, 3)
    periods = [
        (march, [date(2026, 3, 5), date(2027, 3, 5)]),
        (december, [date(2026, 12, 5), date(2027, 12, 5)]),
    ]
    span = period_on(periods, date(2027, 3, 31))
    assert span == PeriodSpan(date(2027, 3, 1), date(2027, 3, 31), "lei_feng", date(2027, 3, 5))
    assert period_on(periods, date(2027, 4, 1)) is None
    assert period_on(periods, date(2026, 12, 8)) is not None
    assert period_on(periods, date(2026, 12, 9)) is None
    off = [(CampaignPeriod("lei_feng", 4, 26, is_enabled=False), [date(2027, 3, 5)])]
    assert period_on(off, date(2027, 3, 5)) is None


# -- the service -------------------------------------------------------------------------------


def build(db: Database, clock: ManualClock) -> ReportService:
    staff = StaffService(
        UsersRepository(db), OrganizationsRepository(db), ActivitiesRepository(db), {ADMIN}
    )
    return ReportService(
        db,
        ReportsRepository(db),
        staff,
        UsersRepository(db),
        OutboxRepository(db),
        clock,
        SHANGHAI,
        {ADMIN},
        ReportPolicy(population=1000),
    )


async def confirm(db: Database, activity_id: int, by: int, at: datetime) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET hours_confirmed_at = ?, hours_confirmed_by = ? "
            "WHERE activity_id = ?",
            (to_db_time(at), by, activity_id),
        )


async def setup(db: Database) -> tuple[Organization, Organization, list[int]]:
    """Two organizations; the first has two activities in March 2027 with records."""
    now = datetime(2027, 2, 20, tzinfo=UTC)
    first = await add_organization(db, name="芙蓉区青年志愿者协会", now=now)
    second = await add_organization(db, name="岳麓区志愿服务队", now=now)
    for person in (MANAGER, ORGANIZER, STRANGER, ADMIN):
        await add_user(db, person, now=now)
    members = OrganizationsRepository(db)
    await members.add_member(first.organization_id, MANAGER, MemberRole.MANAGER, now)
    await members.add_member(first.organization_id, ORGANIZER, MemberRole.ORGANIZER, now)
    one = await add_activity(
        db, first, starts_at=datetime(2027, 3, 2, 9, tzinfo=SHANGHAI), now=now, title="义诊"
    )
    two = await add_activity(
        db, first, starts_at=datetime(2027, 3, 3, 9, tzinfo=SHANGHAI), now=now, title="护河"
    )
    other = await add_activity(
        db,
        second,
        starts_at=datetime(2027, 3, 3, 14, tzinfo=SHANGHAI),
        now=now,
        title="支教",
        area_code="yuelu",
    )
    volunteers = [await add_volunteer(db, now=now) for _ in range(3)]
    for volunteer in volunteers:
        await add_record(db, one, volunteer.volunteer_id, now, minutes=180)
    await add_record(db, two, volunteers[0].volunteer_id, now, minutes=90)
    await add_record(db, other, volunteers[1].volunteer_id, now, minutes=120)
    await confirm(db, one.activity_id, ORGANIZER, datetime(2027, 3, 2, 12, tzinfo=SHANGHAI))
    return first, second, [one.activity_id, two.activity_id, other.activity_id]


async def test_the_table_sums_records_and_figures(db: Database) -> None:
    clock = ManualClock(FRIDAY)
    reports = build(db, clock)
    first, second, (one, two, other) = await setup(db)
    await reports.set_people(ORGANIZER, one, PeopleServed.EMPTY_NEST_ELDERLY, 25)
    await reports.set_people(ORGANIZER, one, PeopleServed.DISABLED, 5)
    await reports.set_people(ORGANIZER, one, PeopleServed.DISABLED, 0)  # removed again
    await reports.set_people(ORGANIZER, one, PeopleServed.ELDERLY_CHILDREN, 12)
    await reports.set_funds(ORGANIZER, one, parse_yuan("1,200.50"))
    await reports.set_organizations(ORGANIZER, one, 3)
    await reports.add_media(
        ORGANIZER, one, MediaKind.WECHAT, title=None, url="https://mp.weixin.qq.com/s/a", reads=800
    )
    await reports.add_media(
        ORGANIZER, one, MediaKind.PAPER, title="长沙晚报 2027-03-04 A3", url=None, reads=None
    )
    await reports.add_media(
        MANAGER, one, MediaKind.WEB, title=None, url="https://www.example.cn/n/1", reads=200
    )
    await reports.set_funds(MANAGER, two, 5000)

    span = await reports.span(PeriodKind.CAMPAIGN)
    assert span.start == date(2027, 3, 1) and span.end == date(2027, 3, 31)
    table = await reports.table(MANAGER, Scope(ScopeKind.ORGANIZATION, first.organization_id), span)
    assert [row.title for row in table.rows] == ["义诊", "护河"]
    first_row = table.rows[0]
    assert first_row.volunteers == 3 and first_row.minutes == 540
    assert first_row.organizations == 3 and first_row.funds_fen == 120050
    assert first_row.people_kinds == (
        PeopleServed.ELDERLY_CHILDREN,
        PeopleServed.EMPTY_NEST_ELDERLY,
    )
    assert first_row.people_served == 37
    assert (table.volunteers, table.minutes, table.funds_fen) == (4, 630, 125050)
    assert table.organizations == 4 and table.people_served == 37
    assert [(m.paper, m.online, m.reads) for m in table.media] == [(1, 2, 1000)]
    assert table.media[0].links == ("https://mp.weixin.qq.com/s/a", "https://www.example.cn/n/1")
    assert table.missing == ()

    # The federation: three activities; the second organization's is missing its figures.
    federation = await reports.table(ADMIN, Scope(ScopeKind.ALL), span)
    assert len(federation.rows) == 3 and federation.minutes == 750
    assert [row.activity_id for row in federation.missing] == [other]
    # A district: the activity's own district, else its host's.
    yuelu = await reports.table(ADMIN, Scope(ScopeKind.AREA, area_code="yuelu"), span)
    assert [row.activity_id for row in yuelu.rows] == [other]

    # Re-authorized: a stranger, another organization's table, a non-admin's roll-up.
    with pytest.raises(StaffRefused):
        await reports.set_funds(STRANGER, one, 100)
    with pytest.raises(StaffRefused):
        await reports.table(MANAGER, Scope(ScopeKind.ORGANIZATION, second.organization_id), span)
    with pytest.raises(StaffRefused):
        await reports.table(MANAGER, Scope(ScopeKind.ALL), span)


async def test_figures_wait_for_the_start_and_media_are_bounded(db: Database) -> None:
    clock = ManualClock(datetime(2027, 3, 1, 8, tzinfo=SHANGHAI))
    reports = build(db, clock)
    _first, _second, (one, _two, _other) = await setup(db)
    with pytest.raises(ReportsRefused):
        await reports.set_funds(ORGANIZER, one, 100)
    clock.set(FRIDAY)
    for number in range(50):
        await reports.add_media(
            ORGANIZER, one, MediaKind.WEB, title=None, url=f"https://a.cn/{number}", reads=None
        )
    with pytest.raises(ReportsRefused):
        await reports.add_media(
            ORGANIZER, one, MediaKind.WEB, title=None, url="https://a.cn/x", reads=None
        )


async def test_stats_numbers(db: Database) -> None:
    clock = ManualClock(FRIDAY)
    reports = build(db, clock)
    first, _second, _ids = await setup(db)
    stats = await reports.stats(ADMIN, Scope(ScopeKind.ALL))
    assert stats.registered == 3
    assert stats.active_30_days == 3
    assert stats.minutes_this_year == 750
    assert stats.activities_this_year == 3
    assert stats.participation_rate == pytest.approx(3 / 1000)
    assert {line.code for line in stats.by_area} >= {"furong", "yuelu"}
    own = await reports.stats(MANAGER, Scope(ScopeKind.ORGANIZATION, first.organization_id))
    assert own.minutes_this_year == 630 and own.population is None
    assert own.attendance_rate is None  # nobody had a confirmed sign-up


async def test_friday_report_inside_the_period_only_and_once(db: Database) -> None:
    clock = ManualClock(datetime(2027, 3, 4, 10, 30, tzinfo=SHANGHAI))  # Thursday
    reports = build(db, clock)
    first, second, _ids = await setup(db)
    outbox = OutboxRepository(db)

    async def kinds() -> list[tuple[str, int]]:
        rows = await db.fetch_all("SELECT kind, telegram_id FROM outbox ORDER BY notification_id")
        return [(row["kind"], row["telegram_id"]) for row in rows]

    # Thursday: "record your figures" to who confirmed, and the day-before reminder to the
    # staff of organizations with activities lacking figures (the first one's three).
    assert await reports.plan() > 0
    found = await kinds()
    assert (NotificationKind.REPORT_FIGURES_DUE.value, ORGANIZER) in found
    missing = {tid for kind, tid in found if kind == NotificationKind.REPORT_FIGURES_MISSING}
    assert missing == {MANAGER, ORGANIZER}
    assert not [k for k, _ in found if k == NotificationKind.REPORT_WEEKLY]
    assert await reports.plan() == 0  # idempotent

    # Friday before REPORT_TIME: nothing yet; at 10:30 the report for managers and admins.
    clock.set(datetime(2027, 3, 5, 9, 0, tzinfo=SHANGHAI))
    assert await reports.plan() == 0
    clock.set(FRIDAY)
    assert await reports.plan() == 2
    weekly = [tid for kind, tid in await kinds() if kind == NotificationKind.REPORT_WEEKLY]
    assert sorted(weekly) == [MANAGER, ADMIN]  # the second organization has no members
    assert await reports.plan() == 0
    report = await reports.weekly_for(
        MANAGER,
        {
            "scope": "o",
            "org": first.organization_id,
            "code": "lei_feng",
            "start": "2027-03-01",
            "end": "2027-03-31",
            "key_day": "2027-03-05",
        },
    )
    assert report is not None and len(report.table.rows) == 2
    # Someone who does not manage the organization gets nothing.
    assert (
        await reports.weekly_for(
            ORGANIZER,
            {
                "scope": "o",
                "org": first.organization_id,
                "code": "lei_feng",
                "start": "2027-03-01",
                "end": "2027-03-31",
                "key_day": "2027-03-05",
            },
        )
        is None
    )
    assert await outbox.counts()

    # A Friday outside every period: nothing.
    clock.set(datetime(2027, 4, 9, 11, 0, tzinfo=SHANGHAI))
    assert await reports.plan() == 0
    # An administrator moves the period: all of April around 3·5 is refused (3·5 not inside),
    # 3-1 to 4-10 is fine, and then 9 April is inside.
    with pytest.raises(InvalidInput):
        await reports.set_period(ADMIN, "lei_feng", "4-1 4-30")
    with pytest.raises(StaffRefused):
        await reports.set_period(MANAGER, "lei_feng", "3-1 4-10")
    assert await reports.set_period(ADMIN, "lei_feng", "3-1 4-10") == (4, 36)
    assert await reports.plan() == 2
    assert second.organization_id


# -- files and charts --------------------------------------------------------------------------


async def test_xlsx_and_csv_hold_the_numbers(db: Database) -> None:
    clock = ManualClock(FRIDAY)
    reports = build(db, clock)
    first, _second, (one, _two, _other) = await setup(db)
    await reports.set_people(ORGANIZER, one, PeopleServed.LEFT_BEHIND_CHILDREN, 40)
    await reports.set_funds(ORGANIZER, one, 99950)
    await reports.add_media(
        ORGANIZER, one, MediaKind.WEB, title=None, url="https://a.cn/=cmd", reads=10
    )
    span = PeriodSpan(date(2027, 3, 1), date(2027, 3, 31), "lei_feng", date(2027, 3, 5))
    table = await reports.table(MANAGER, Scope(ScopeKind.ORGANIZATION, first.organization_id), span)
    heading = SheetHeading("2027 学雷锋纪念日", first.name, "李老师", "0731-1234567", span)
    book = load_workbook(io.BytesIO(table_xlsx(table, heading, Language.ZH)))
    sheet = book.active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[3][:7] == [
        "序号",
        "活动名称（含主办单位）",
        "参与志愿者人次",
        "参与志愿服务组织数量",
        "覆盖人群",
        None,
        "累计志愿服务时数",
    ]
    assert values[4][4:6] == ["类型", "服务人次"]
    assert values[5][1] == "义诊（芙蓉区青年志愿者协会）"
    assert values[5][2:8] == [3, 1, "农村留守儿童", 40, 9.0, 999.5]
    total = values[7]
    assert total[0] == "合计" and total[2:8] == [4, 2, None, 40, 10.5, 999.5]
    assert "A4:A5" in {str(r) for r in sheet.merged_cells.ranges}
    assert "E4:F4" in {str(r) for r in sheet.merged_cells.ranges}
    flat = [v for row in values for v in row if v is not None]
    assert "媒体宣传情况" in flat and "联系人：李老师" in flat

    english = load_workbook(io.BytesIO(table_xlsx(table, heading, Language.EN))).active
    assert english is not None and english["C4"].value == "Volunteer attendances"
    csv_text = table_csv(table, heading, Language.ZH).decode("utf-8-sig")
    assert "合计,,4,2,,40,10.5,999.50" in csv_text
    assert "'https://a.cn/=cmd" not in csv_text and "https://a.cn/=cmd" in csv_text


def test_a_chart_decodes() -> None:
    from PIL import Image

    png = render_chart(
        ChartSpec(
            title="志愿服务时数 · 芙蓉区",
            labels=("2027-01", "2027-02", "2027-03"),
            series=(("报名", (3.0, 5.0, 8.0)), ("签到", (2.0, 5.0, 6.5))),
            value_label="人次",
        )
    )
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1200, 720)
    horizontal = render_chart(
        ChartSpec(
            "按类别", ("卫生健康", "生态环保"), (("时数", (12.0, 3.5)),), "小时", horizontal=True
        )
    )
    assert Image.open(io.BytesIO(horizontal)).size == (1200, 720)


def test_matplotlib_is_not_imported_with_the_bot() -> None:
    import subprocess
    import sys

    code = "import sys, bot.app, handlers.stats; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
