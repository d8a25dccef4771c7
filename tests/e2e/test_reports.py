"""Reports end to end (issue #18): after the hours are confirmed the organizer is reminded and
records people served, money and materials and media reports from the activity's card; the
statistics table arrives as an XLSX whose numbers equal the records (totals included), in
English for an English organizer, and as CSV; a chart arrives as a photo that decodes; forged
presses change nothing; on a Friday inside a campaign period (a ManualClock) the managers and the
administrators receive the report, and on a Friday outside none is planned.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import MemberRole
from bot.localapi import LocalBotApi, StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from handlers.reports import plan_reports
from storage.organizations import OrganizationsRepository
from storage.timeutil import to_db_time
from tests.e2e.conftest import ADMIN_ID, BotProcess, eventually
from tests.factories import add_activity, add_organization, add_user, add_volunteer
from tests.service_records import add_record

MakeUser = Callable[..., VirtualUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Friday 5 March 2027 (3·5), 08:00 in Shanghai: before REPORT_TIME (10:00), inside March's period.
FRIDAY_MORNING = datetime(2027, 3, 5, 8, 0, tzinfo=SHANGHAI)
ACTIVITY_START = datetime(2027, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
async def bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings, ManualClock(FRIDAY_MORNING))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


def clock_of(bot: BotProcess) -> ManualClock:
    assert isinstance(bot.clock, ManualClock)
    return bot.clock


def run_job(bot: BotProcess) -> None:
    assert bot.runtime is not None and bot.runtime.application.job_queue is not None
    bot.runtime.application.job_queue.run_once(plan_reports, 0)


async def setup(bot: BotProcess, make_user: MakeUser) -> tuple[VirtualUser, int, int, int]:
    """An English manager of an organization whose activity on 2 March has three records
    (3 h, 3 h, 2 h) and confirmed hours; another organization's activity."""
    now = datetime(2027, 2, 20, tzinfo=SHANGHAI)
    organization = await add_organization(bot.db, now=now)
    other_org = await add_organization(bot.db, name="岳麓区志愿服务队", now=now)
    organizer = make_user("Li", language_code="en")
    await add_user(bot.db, organizer.id, first_name="Li", now=now)
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, organizer.id, MemberRole.MANAGER, now
    )
    activity = await add_activity(
        bot.db, organization, starts_at=ACTIVITY_START, duration=timedelta(hours=3), now=now
    )
    other = await add_activity(bot.db, other_org, starts_at=ACTIVITY_START, now=now, title="支教")
    for minutes in (180, 180, 120):
        volunteer = await add_volunteer(bot.db, now=now)
        await add_record(bot.db, activity, volunteer.volunteer_id, now, minutes=minutes)
    async with bot.db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET hours_confirmed_at = ?, hours_confirmed_by = ? "
            "WHERE activity_id = ?",
            (to_db_time(ACTIVITY_START + timedelta(hours=4)), organizer.id, activity.activity_id),
        )
    return organizer, activity.activity_id, other.activity_id, organization.organization_id


async def documents(user: VirtualUser) -> list[StoredMessage]:
    return [m for m in user.bot_messages() if m.document is not None]


async def funds_of(bot: BotProcess, activity_id: int) -> int | None:
    row = await bot.db.fetch_one(
        "SELECT funds_fen FROM activity_figures WHERE activity_id = ?", (activity_id,)
    )
    return None if row is None else int(row["funds_fen"])


async def test_figures_table_chart_and_the_friday_report(
    bot: BotProcess, api: LocalBotApi, make_user: MakeUser
) -> None:
    clock = clock_of(bot)
    organizer, aid, other_aid, _org_id = await setup(bot, make_user)
    admin = make_user("管理员", language_code="zh", user_id=ADMIN_ID)
    for person in (admin, organizer):
        await person.send("/start")
        await person.next_reply()

    # The job reminds who confirmed the hours, once, with a button to the figures. Its own
    # first run (one outbox interval after start) may have come before the /start answers,
    # so the reminder is looked for in the whole chat.
    run_job(bot)
    # Through the job and then the outbox: generous for a loaded 2-core machine.
    reminder = await organizer.wait_for_text(
        "Figures for the statistics table", timeout=20, anywhere=True
    )
    await organizer.press("📊 Record the figures", message=reminder)
    await organizer.wait_for_text("Not recorded yet")

    # The management card has the button too.
    await organizer.send("/start")
    menu = await organizer.next_reply()
    await organizer.press_data(menu.message_id, f"mg.card:{aid}")
    card = await organizer.wait_for_text("社区健康义诊")
    await organizer.press("📊 Figures", message=card)
    await organizer.wait_for_text("Figures")

    # People served: 25 elderly people living alone, 12 of "the elderly and children".
    for kind, number in (
        ("elderly people living alone", "25"),
        ("the elderly and children", "１２"),
    ):
        await organizer.press("👥 People served")
        await organizer.wait_for_text("Which people")
        await organizer.press(kind)
        await organizer.wait_for_text("How many")
        await organizer.send(number)
        await organizer.wait_for_text("✅ Saved.")
    # Money: a bad amount is explained, then 1,200.50 yuan.
    await organizer.press("💰 Funds and materials")
    await organizer.wait_for_text("in yuan")
    await organizer.send("a lot")
    await organizer.wait_for_text("such as 1200")
    await organizer.send("1,200.50")
    await organizer.wait_for_text("1200.50 yuan")
    # Two partner organizations joined: three in all.
    await organizer.press("🏢 Organizations")
    await organizer.wait_for_text("How many volunteer organizations")
    await organizer.send("3")
    await organizer.wait_for_text("taking part: 3")
    # A WeChat article with 800 reads (a bad link first), and a newspaper report.
    await organizer.press("📰 Add a media report")
    await organizer.wait_for_text("What kind of report")
    await organizer.press("💬 WeChat")
    await organizer.wait_for_text("Send the link")
    await organizer.send("javascript:alert(1)")
    await organizer.wait_for_text("http:// or https://")
    await organizer.send("https://mp.weixin.qq.com/s/zhiyuan35")
    await organizer.wait_for_text("How many reads")
    await organizer.send("800")
    await organizer.wait_for_text("800 reads")
    await organizer.press("📰 Add a media report")
    await organizer.wait_for_text("What kind of report")
    await organizer.press("📰 Newspaper")
    await organizer.wait_for_text("Which newspaper")
    await organizer.send("长沙晚报 2027-03-04 A3")
    figures = await organizer.wait_for_text("长沙晚报")
    assert "Media reports: 2" in figures.visible_text

    # Forged presses: a volunteer pressing the organizer's button, the organizer another
    # organization's activity. Nothing changes.
    stranger = make_user("Stranger", language_code="en")
    await stranger.send("/start")
    welcome = await stranger.next_reply()
    await stranger.press_data(welcome.message_id, f"fig.fd:{aid}")
    answer = await stranger.callback_answer()
    assert answer.show_alert
    await organizer.press_data(figures.message_id, f"fig.fd:{other_aid}")
    await organizer.press_data(figures.message_id, "fig.pk:1:nobody")
    await organizer.press_data(figures.message_id, "st.t:all:all:y:x")
    assert await funds_of(bot, other_aid) is None
    assert await funds_of(bot, aid) == 120050

    # The statistics table as Excel: English headers, the numbers and totals of the records.
    await organizer.send("/stats")
    stats = await organizer.wait_for_text("Statistics")
    assert "Service hours this year: 8" in stats.visible_text
    before = len(await documents(organizer))
    await organizer.press("📋 Table, campaign period (Excel)", message=stats)
    sent = await eventually(lambda: documents(organizer), lambda d: len(d) > before)
    document = sent[-1].document
    assert document is not None and document.file_name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(document.data)).active
    assert sheet is not None
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[3][2] == "Volunteer attendances" and rows[4][4] == "Kind"
    line = rows[5]
    assert line[0] == 1 and "社区健康义诊" in line[1]
    assert line[2:8] == [
        3,
        3,
        "the elderly and children, elderly people living alone",
        37,
        8.0,
        1200.5,
    ]
    total = rows[6]
    assert total[0] == "Total" and total[2] == 3 and total[5] == 37 and total[6] == 8.0
    media = next(r for r in rows if r[2] == 1 and r[3] == 1)
    assert media[4] == "https://mp.weixin.qq.com/s/zhiyuan35" and media[7] == 800
    assert any(r[0] == "Total" and r[7] == 800 for r in rows[7:])

    # CSV too.
    await organizer.press("📄 CSV", message=stats)
    sent = await eventually(lambda: documents(organizer), lambda d: len(d) > before + 1)
    csv_document = sent[-1].document
    assert csv_document is not None and csv_document.file_name.endswith(".csv")
    assert "Total,,3,3,,37,8.0,1200.50" in csv_document.data.decode("utf-8-sig")

    # A chart as a photo that decodes.
    await organizer.press("📊 Hours per month", message=stats)
    photo = await eventually(lambda: _photos(organizer), lambda found: len(found) > 0, timeout=30)
    assert photo[-1].photo is not None
    image = Image.open(io.BytesIO(photo[-1].photo.data))
    assert image.format == "PNG" and image.size[0] > 600

    # Friday 10:30: the report goes to the manager (English) and the administrator (Chinese).
    before = len(await documents(organizer))
    clock.set(FRIDAY_MORNING + timedelta(hours=2, minutes=30))
    run_job(bot)
    weekly = await organizer.wait_for_text("Weekly report", timeout=10)
    assert weekly.document is not None and weekly.document.file_name.endswith(".xlsx")
    manager_sheet = load_workbook(io.BytesIO(weekly.document.data)).active
    assert manager_sheet is not None and manager_sheet["A6"].value == 1
    roll_up = await admin.wait_for_text("每周报表", timeout=10)
    assert roll_up.document is not None
    admin_sheet = load_workbook(io.BytesIO(roll_up.document.data)).active
    assert admin_sheet is not None and admin_sheet["C4"].value == "参与志愿者人次"
    admin_rows = [[c.value for c in r] for r in admin_sheet.iter_rows()]
    assert sum(1 for r in admin_rows if isinstance(r[0], int)) >= 2  # both organizations

    # Planning again stores nothing; a Friday outside every campaign period plans nothing.
    services = bot.runtime.application.services  # type: ignore[union-attr]
    assert await services.reports.plan() == 0
    clock.set(datetime(2027, 4, 9, 10, 30, tzinfo=SHANGHAI))
    assert await services.reports.plan() == 0
    assert len(await documents(organizer)) == before + 1


async def _photos(user: VirtualUser) -> list[StoredMessage]:
    return [m for m in user.bot_messages() if m.photo is not None]
