"""The working-day calendar and the recording reminders end to end, through the local Bot API
server: an organizer gets the day-3 reminder and opens the activity from it; an administrator
sees the missing-year warning and adds a day by typing; bad input gets a localized answer; a
volunteer is refused.

The bot runs with a :class:`ManualClock` on Wednesday 2026-12-02 10:00 in Shanghai: December,
and the seeded package has no 2027 yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import MemberRole
from bot.domain.users import Role
from bot.localapi import VirtualUser
from bot.localapi.models import BotInfo
from handlers.workdays_admin import WdType, plan_recording
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository
from storage.workdays import CalendarDaysRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess
from tests.factories import add_activity, add_organization

MakeUser = Callable[..., VirtualUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)


NOW = local(date(2026, 12, 2), 10)


@pytest.fixture
async def clocked_bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings, clock=ManualClock(NOW))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def started(make_user: MakeUser, name: str, **kwargs: object) -> VirtualUser:
    user = make_user(name, **kwargs)
    await user.start()
    await user.wait_for_text("欢迎" if kwargs.get("language_code") == "zh-hans" else "Welcome")
    return user


async def test_an_organizer_gets_the_day_3_reminder_and_opens_the_activity(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = clocked_bot
    organizer = await started(make_user, "Zhou")
    organization = await add_organization(bot.db, name="Kaifu Team", now=NOW)
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, organizer.id, MemberRole.ORGANIZER, NOW
    )
    # Ended Friday Nov 27: Mon 30 is working day 1, Tue Dec 1 day 2, today (Wed) day 3.
    await add_activity(
        bot.db,
        organization,
        starts_at=local(date(2026, 11, 27), 14),
        duration=timedelta(hours=2),
        now=NOW - timedelta(days=10),
        title="Park clean-up",
    )
    assert bot.runtime is not None and bot.runtime.application.job_queue is not None
    bot.runtime.application.job_queue.run_once(plan_recording, 0)
    reminder = await organizer.wait_for_text("are not confirmed yet")
    assert "Park clean-up" in (reminder.text or "")
    assert "7 working days left" in (reminder.text or "")
    await organizer.press("📋 Open «Park clean-up»", message=reminder)
    card = await organizer.wait_for_text("🏢 Kaifu Team")
    assert "Park clean-up" in (card.text or "")
    # Planning again (a restart, another process) sends nothing twice.
    bot.runtime.application.job_queue.run_once(plan_recording, 0)
    rows = await bot.db.fetch_all(
        "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'recording_due' AND telegram_id = ?",
        (organizer.id,),
    )
    assert rows[0]["n"] == 1


async def test_an_administrator_is_warned_and_adds_a_day_by_typing(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = clocked_bot
    admin = await started(make_user, "Boss", user_id=ADMIN_ID)
    await admin.send("/workdays")
    # The screen itself (the missing-year warning also names the calendar and may come first).
    screen = await admin.wait_for_text("Years with data")
    assert "no data for 2027 yet" in (screen.text or "")
    assert "2026: 33 holidays, 6 make-up workdays" in (screen.text or "")
    # Told once through the outbox as well (December, next year missing).
    await admin.wait_for_text("Next year's working days", anywhere=True)

    await admin.press("✏️ Add or change a day", message=screen)
    await admin.wait_for_text("Type one day")
    await admin.send("2027-02-30 workday")
    await admin.wait_for_text("2027-02-30 is not a day of the calendar")
    await admin.send("tomorrow")
    await admin.wait_for_text("Please type a date, then 上班 / workday")
    await admin.send("2027-02-06 workday Spring Festival")
    saved = await admin.wait_for_text("is a working day")
    assert "2027" in (saved.text or "")
    assert "02-06 Spring Festival · make-up workday ✍️ by an administrator" in (saved.text or "")
    stored = await CalendarDaysRepository(bot.db).get(date(2027, 2, 6))
    assert stored is not None and stored.updated_by == ADMIN_ID

    await admin.press("⬅️ Working-day calendar", message=saved)
    home = await admin.wait_for_text("Years with data")
    assert "no data for 2027" not in (home.text or "")

    await admin.press("2027", message=home)
    await admin.wait_for_text("🗓 2027")
    await admin.press("🗑 2027-02-06")
    await admin.wait_for_text("Your entry for 2027-02-06 is removed")
    assert await CalendarDaysRepository(bot.db).get(date(2027, 2, 6)) is None


async def test_bad_input_is_answered_in_chinese(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = clocked_bot
    admin = await started(make_user, "李", language_code="zh-hans")
    await UsersRepository(bot.db).set_role(admin.id, Role.ADMIN)
    await admin.send("/workdays")
    # The screen itself (the missing-year warning also names the calendar and may come first).
    await admin.wait_for_text("已有数据的年份")
    await admin.press("✏️ 添加或修改一天")
    await admin.wait_for_text("春节调休")
    await admin.send("2027-02-06 可能 春节")
    await admin.wait_for_text("既不是工作日也不是休息日")
    await admin.send("2027-10-01 休 国庆节")
    await admin.wait_for_text("是休息日")


async def test_a_volunteer_is_refused(clocked_bot: BotProcess, make_user: MakeUser) -> None:
    bot = clocked_bot
    volunteer = await started(make_user, "Wang")
    await volunteer.send("/workdays")
    refusal = await volunteer.wait_for_text("only for administrators")
    # A forged press changes nothing and takes no typed input.
    await volunteer.press_data(refusal.message_id, WdType().pack())
    answer = await volunteer.callback_answer()
    assert answer.text == "Sorry, you are not allowed to do that."
    owner = await bot.db.fetch_one(
        "SELECT flow FROM flow_owners WHERE telegram_id = ?", (volunteer.id,)
    )
    assert owner is None
    await volunteer.send("2027-02-06 workday Spring Festival")
    await volunteer.wait_for_text("")  # the bot's usual answer to plain text
    assert await CalendarDaysRepository(bot.db).get(date(2027, 2, 6)) is None
