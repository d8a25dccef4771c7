"""Key-date campaigns and the key-date admin screens, end to end with a manual clock.

The clock stands on Saturday 2026-11-28 in Shanghai, seven days before 12·5 国际志愿者日. The
campaign is planned by the real repeating job (its first run comes a second after start, so the
test restarts the bot once the clock reaches 10:00) and delivered by the outbox job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.users import Language
from bot.localapi import StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from handlers.key_dates import KdAdd, KdEdit, KdEnable, KdField, KdList
from storage.keydates import KeyDatesRepository
from storage.outbox import OutboxRepository
from storage.signups import SignupsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess, eventually
from tests.factories import add_activity, add_organization, add_volunteer

MakeUser = Callable[..., VirtualUser]
SHANGHAI_OFFSET_HOURS = 8


def shanghai(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour - SHANGHAI_OFFSET_HOURS, tzinfo=UTC)


@pytest.fixture
async def clocked_bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings, ManualClock(shanghai(date(2026, 11, 28), 9)))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


def clock_of(bot: BotProcess) -> ManualClock:
    assert isinstance(bot.clock, ManualClock)
    return bot.clock


def button_data(message: StoredMessage, prefix: str) -> str:
    for button in message.buttons():
        if str(button.get("text", "")).startswith(prefix):
            return str(button["callback_data"])
    raise AssertionError(f"no button starting with {prefix!r}: {message.button_labels()}")


async def test_campaign_reaches_only_opted_in_volunteers_in_their_language(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = clocked_bot
    now = bot.clock()
    zh_user = make_user("小红", language_code="zh-hans")
    en_user = make_user("Emma", language_code="en")
    quiet_user = make_user("Quinn", language_code="en")
    for user in (zh_user, en_user, quiet_user):
        await user.start()
        await user.next_reply()
    profiles = {}
    for user in (zh_user, en_user, quiet_user):
        profiles[user.id] = await add_volunteer(bot.db, user.id, name=user.info.first_name, now=now)
    await UsersRepository(bot.db).set_language(zh_user.id, Language.ZH)
    await UsersRepository(bot.db).set_language(en_user.id, Language.EN)
    quiet = profiles[quiet_user.id]
    await VolunteersRepository(bot.db).set_notifications(
        quiet_user.id, quiet.notifications.model_copy(update={"campaigns": False}), now
    )
    organization = await add_organization(bot.db, now=now)
    activity = await add_activity(
        bot.db,
        organization,
        now=now,
        title="Volunteer Day park clean-up",
        starts_at=shanghai(date(2026, 12, 5), 9),
        key_date="intl_volunteer_day",
    )

    clock_of(bot).set(shanghai(date(2026, 11, 28), 10))
    await bot.restart()  # the planning job's first run comes right after start

    zh_message = await zh_user.wait_for_text("国际志愿者日", timeout=10)
    assert "Volunteer Day park clean-up" in zh_message.visible_text
    en_message = await en_user.wait_for_text("International Volunteer Day", timeout=10)
    assert "国际志愿者日" not in en_message.visible_text
    assert "Volunteer Day park clean-up" in en_message.visible_text

    # The Sign up button works.
    data = button_data(en_message, "✋ 1.")
    assert data == f"su:join:{activity.activity_id}:x"
    await en_user.press_data(en_message.message_id, data)
    await en_user.wait_for_text("You are signed up")
    signup = await SignupsRepository(bot.db).get(
        activity.activity_id, profiles[en_user.id].volunteer_id
    )
    assert signup is not None and signup.status.value == "confirmed"

    # The opted-out volunteer got nothing, and a restart plans nothing twice.
    outbox = OutboxRepository(bot.db)
    assert [row["kind"] for row in await outbox.for_recipient(quiet_user.id)] == []
    await bot.restart()
    await eventually(
        lambda: bot.db.fetch_one("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'campaign'"),
        lambda row: row is not None and row["n"] == 2,
    )
    campaign_rows = await bot.db.fetch_all(
        "SELECT telegram_id FROM outbox WHERE kind = 'campaign' ORDER BY telegram_id"
    )
    assert sorted(row["telegram_id"] for row in campaign_rows) == sorted([zh_user.id, en_user.id])


async def test_admin_adds_and_disables_a_key_date(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = clocked_bot
    admin = make_user("Admin", language_code="en", user_id=ADMIN_ID)
    await admin.start()
    welcome = await admin.next_reply()
    await admin.press_data(welcome.message_id, KdList().pack())
    listing = await admin.wait_for_text("Key dates")
    assert "International Volunteer Day" in listing.visible_text

    await admin.press("➕ Add a key date", message=listing)
    await admin.wait_for_text("Chinese name")
    await admin.send("植树节")
    await admin.wait_for_text("English name")
    await admin.send("Arbor Day")
    await admin.wait_for_text("month-day")
    await admin.send("2-30")
    await admin.wait_for_text("not a date that exists")
    await admin.send("3-12")
    added = await admin.wait_for_text("Key date added")
    assert "植树节" in added.visible_text
    key_dates = KeyDatesRepository(bot.db)
    arbor = await key_dates.get("arbor_day")
    assert arbor is not None and (arbor.month, arbor.day, arbor.is_lunar) == (3, 12, False)
    assert arbor.is_enabled

    await admin.press("🚫 Disable", message=added)
    await admin.wait_for_text("Disabled")
    arbor = await key_dates.get("arbor_day")
    assert arbor is not None and not arbor.is_enabled

    # Editing the date of a built-in one, as a lunar date.
    await admin.press_data(added.message_id, KdEdit("double_ninth", KdField.DATE).pack())
    await admin.wait_for_text("month-day")
    await admin.send("农历9-9")
    await admin.wait_for_text("Date saved")
    ninth = await key_dates.get("double_ninth")
    assert ninth is not None and ninth.is_lunar and (ninth.month, ninth.day) == (9, 9)


async def test_forged_key_date_presses_change_nothing(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = clocked_bot
    user = make_user("Mallory", language_code="en")
    await user.start()
    welcome = await user.next_reply()
    key_dates = KeyDatesRepository(bot.db)
    before = await key_dates.all()
    presses = (
        KdEnable("intl_volunteer_day", False),
        KdList(),
        KdAdd(),
        KdEdit("lei_feng", KdField.DATE),
    )
    for data in (press.pack() for press in presses):
        await user.press_data(welcome.message_id, data)
        answer = await user.callback_answer()
        assert answer.text == "Sorry, you are not allowed to do that."
    await user.send("3-6")  # were the conversation entered, this would move 学雷锋纪念日
    await user.next_reply()  # the bot has handled it (as ordinary text)
    assert await key_dates.all() == before
    assert await key_dates.get_draft(user.id) is None


async def test_admin_renames_a_key_date(clocked_bot: BotProcess, make_user: MakeUser) -> None:
    bot = clocked_bot
    admin = make_user("Admin", language_code="en", user_id=ADMIN_ID)
    await admin.start()
    welcome = await admin.next_reply()
    await admin.press_data(welcome.message_id, KdEdit("lei_feng", KdField.EN).pack())
    await admin.wait_for_text("English name")
    await admin.send("x" * 41)  # over the limit: asked again, nothing saved
    refused = await admin.wait_for_text("English name")
    assert "41" in refused.visible_text  # the length error comes before the prompt
    await admin.send("Learn from Lei Feng Day")
    saved = await admin.wait_for_text("Name saved")
    assert "Learn from Lei Feng Day" in saved.visible_text
    key_dates = KeyDatesRepository(bot.db)
    lei_feng = await key_dates.get("lei_feng")
    assert lei_feng is not None
    assert (lei_feng.name_zh, lei_feng.name_en) == ("学雷锋纪念日", "Learn from Lei Feng Day")
    assert await key_dates.get_draft(admin.id) is None

    # A stale button of a key date that no longer exists changes nothing.
    await admin.press_data(saved.message_id, KdEnable("no_such_key_date", False).pack())
    answer = await admin.callback_answer()
    assert answer.text is not None and "no longer exists" in answer.text
