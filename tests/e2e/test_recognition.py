"""Evaluation and awards end to end (民政部令第67号 Art. 9–10), in Chinese and English.

Service records are stored the way the lead's "confirm hours" step stores them
(tests/service_records.py), and the rating requests are queued as that step will queue them
(``EvaluationsRepository.queue_rating_requests_in`` inside its transaction). The organizer's
entry buttons are not on their screens yet, so the evaluation list is opened by pressing its
button data on the organizer's own menu message, and awards through ``/award``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.context import Services
from bot.domain.activities import Activity, Organization
from bot.domain.volunteers import VolunteerProfile
from bot.localapi import StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from storage.evaluations import EvaluationsRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess
from tests.e2e.test_manage import organizer_of, press_unshown, volunteer
from tests.factories import NOW, add_activity, add_organization
from tests.service_records import add_record

MakeUser = Callable[..., VirtualUser]


@pytest.fixture
async def bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    """The bot on Monday 2026-11-23 10:00 in Shanghai: outside everyone's quiet hours (rating
    requests and award notices wait them out), and "today" is a known day for award dates."""
    process = BotProcess(settings, clock=ManualClock(NOW))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def _served(
    bot: BotProcess, organization: Organization, title: str, people: list[tuple[VirtualUser, str]]
) -> tuple[Activity, list[VolunteerProfile]]:
    """A finished activity and volunteers with a record of it (their language set by /start)."""
    event = await add_activity(
        bot.db, organization, title=title, starts_in=-timedelta(days=1), now=bot.clock()
    )
    profiles = []
    for user, name in people:
        profile = await volunteer(bot, user, name)
        await user.send("/start")  # the bot learns the user's language
        await user.next_reply()
        await add_record(bot.db, event, profile.volunteer_id, bot.clock())
        profiles.append(profile)
    return event, profiles


async def _staff(bot: BotProcess, user: VirtualUser, organization: Organization) -> None:
    await organizer_of(bot, user, organization)
    await user.send("/start")
    await user.next_reply()


def _services(bot: BotProcess) -> Services:
    assert bot.runtime is not None
    return bot.runtime.application.services


async def _count(bot: BotProcess, sql: str, *params: object) -> int:
    row = await bot.db.fetch_one(f"SELECT COUNT(*) AS n FROM {sql}", params)
    assert row is not None
    return int(row["n"])


async def test_volunteers_rate_the_activity_and_a_low_rating_reaches_the_manager(
    bot: BotProcess, make_user: MakeUser
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    boss = make_user("Boss", language_code="zh")
    await _staff(bot, boss, organization)
    ann, li = make_user("Ann"), make_user("Li", language_code="zh")
    event, (ann_profile, li_profile) = await _served(
        bot, organization, "Park clean-up", [(ann, "Zhang Ann"), (li, "Li Si")]
    )
    aid = event.activity_id
    async with bot.db.transaction() as tx:
        assert await EvaluationsRepository.queue_rating_requests_in(tx, aid, bot.clock()) == 2

    # English: ⭐4, a comment that is too long (localized answer, nothing lost), then one that fits.
    ask = await ann.wait_for_text("How was it?", timeout=10)
    assert "Park clean-up" in ask.visible_text
    assert ask.button_labels() == ["⭐1", "⭐2", "⭐3", "⭐4", "⭐5"]
    await ann.press("⭐4")
    await ann.wait_for_text("Would you like to add a comment?")
    await ann.send("x" * 301)
    await ann.wait_for_text("at most 300 characters; you wrote 301")
    await ann.send("Well organized, thank you!")
    done = await ann.wait_for_text("Your feedback on")
    assert "★★★★☆" in done.visible_text and "Well organized" in done.visible_text
    stored = await EvaluationsRepository(bot.db).activity_rating(aid, ann_profile.volunteer_id)
    assert stored is not None and stored.rating == 4
    assert stored.comment == "Well organized, thank you!"

    # Chinese: ⭐2 and no comment; the organization's manager is told, without the name.
    await li.wait_for_text("活动怎么样", timeout=10)
    await li.press("⭐2")
    await li.wait_for_text("补充评语")
    await li.press("跳过")
    await li.wait_for_text("评价已保存")
    told = await boss.wait_for_text("有志愿者给", timeout=10)
    assert "Park clean-up" in told.visible_text and "2/5" in told.visible_text
    assert "Li Si" not in told.visible_text
    assert (await _services(bot).evaluations.average_rating(aid)).average == 3.0

    # A volunteer without a record, and a forged press for another activity: nothing changes.
    stranger = make_user("Cy")
    await volunteer(bot, stranger, "Wang Cy")
    assert "Only volunteers with a record" in await press_unshown(stranger, f"rate.star:{aid}:1")
    assert "Only volunteers with a record" in await press_unshown(ann, f"rate.star:{aid + 99}:1")
    assert await _count(bot, "activity_ratings") == 2
    assert await _count(bot, "outbox WHERE kind = 'low_activity_rating'") == 1
    assert li_profile.volunteer_id != ann_profile.volunteer_id


async def test_the_organizer_rates_service_and_the_volunteer_never_sees_it(
    bot: BotProcess, make_user: MakeUser
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    elsewhere = await add_organization(bot.db, name="Riverside Seniors Club", now=bot.clock())
    boss, outsider = make_user("Boss"), make_user("Other")
    await _staff(bot, boss, organization)
    await _staff(bot, outsider, elsewhere)
    ann = make_user("Ann")
    event, (profile,) = await _served(bot, organization, "Food bank shift", [(ann, "Zhang Ann")])
    aid, vid = event.activity_id, profile.volunteer_id
    seen_before = len(ann.bot_messages())

    await boss.send("/start")
    menu = await boss.next_reply()
    await boss.press_data(menu.message_id, f"eval.start:{aid}")
    listing = await boss.wait_for_text("Service evaluations: Food bank shift")
    assert "the volunteers do not" in listing.visible_text
    await boss.press("Zhang Ann · not rated")
    await boss.wait_for_text("How was their service?")
    await boss.press("⭐5")
    await boss.wait_for_text("Add a private comment?")
    await boss.send("Reliable and kind with everyone.")
    listing = await boss.wait_for_text("Saved for Zhang Ann")
    assert "Zhang Ann · ★★★★★" in listing.button_labels()
    stored = await EvaluationsRepository(bot.db).evaluation(aid, vid)
    assert stored is not None and stored.rating == 5
    assert stored.comment == "Reliable and kind with everyone."

    # Another organization's manager: refused, nothing changed.
    refused = await press_unshown(outsider, f"eval.rate:{aid}:{vid}:1")
    assert "not allowed" in refused
    assert "not allowed" in await press_unshown(outsider, f"eval.start:{aid}")
    stored = await EvaluationsRepository(bot.db).evaluation(aid, vid)
    assert stored is not None and stored.rating == 5

    # The volunteer was never told, and nothing was queued for them.
    assert len(ann.bot_messages()) == seen_before
    assert await _count(bot, "outbox WHERE telegram_id = ?", ann.id) == 0


async def test_an_organizer_enters_an_award_in_chinese_and_the_volunteer_is_told(
    bot: BotProcess, make_user: MakeUser
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    elsewhere = await add_organization(bot.db, name="岳麓区助老服务队", now=bot.clock())
    boss = make_user("Boss", language_code="zh")
    outsider = make_user("Other", language_code="zh")
    await _staff(bot, boss, organization)
    await _staff(bot, outsider, elsewhere)
    li = make_user("Li", language_code="zh")
    _event, (profile,) = await _served(bot, organization, "社区义诊", [(li, "李四")])
    oid = organization.organization_id

    await boss.send("/award")
    await boss.wait_for_text("录入表彰奖励")
    await boss.press("李四")
    await boss.wait_for_text("请输入奖项名称")
    await boss.send("优" * 61)
    await boss.wait_for_text("最多60个字，您写了61个字")
    await boss.send("优秀志愿者")
    await boss.wait_for_text("由谁颁发")
    await boss.press(f"🏢 {organization.name}")
    await boss.wait_for_text("颁发日期")
    await boss.send("2月30日")
    await boss.wait_for_text("这个日期不存在")
    await boss.send("明天")
    await boss.wait_for_text("这个日期还没到")
    await boss.send("今天")
    preview = await boss.wait_for_text("请核对表彰奖励")
    assert "优秀志愿者" in preview.visible_text and organization.name in preview.visible_text
    await boss.press("✅ 保存")
    await boss.wait_for_text("已保存")
    told = await li.wait_for_text("恭喜您", timeout=10)
    assert "优秀志愿者" in told.visible_text and organization.name in told.visible_text

    # Another organization's organizer cannot pick this organization's volunteer.
    assert "无权" in await press_unshown(outsider, f"award.pick:{oid}:{profile.volunteer_id}")
    assert "无权" in await press_unshown(outsider, f"award.start:{oid}")
    assert await _count(bot, "awards") == 1
    awards = await _services(bot).awards.awards_of(profile.volunteer_id)
    assert [(a.title, a.issuer) for a in awards] == [("优秀志愿者", organization.name)]


async def test_an_administrator_awards_anyone_found_by_number(
    bot: BotProcess, make_user: MakeUser
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    ann = make_user("Ann")
    _event, (profile,) = await _served(bot, organization, "Library hour", [(ann, "Zhang Ann")])
    admin = make_user("Admin", user_id=ADMIN_ID)

    await admin.send("/award")
    await admin.wait_for_text("Enter an award")
    await admin.press("🔎 Any volunteer, by @username or number")
    await admin.wait_for_text("volunteer number")
    await admin.send("@nobody_like_that")
    await admin.wait_for_text("No registered volunteer has that")
    await admin.send(str(profile.volunteer_id))
    await admin.wait_for_text("Award for Zhang Ann")
    await admin.send("Volunteer of the Year")
    await admin.wait_for_text("Type the issuer")
    await admin.send("City Volunteer Federation")
    await admin.wait_for_text("When was it given?")
    await admin.send("next week")
    await admin.wait_for_text("I could not read that date")
    await admin.send("today")
    first_preview = await admin.wait_for_text("Please check the award")
    old_save = _data(first_preview, "✅ Save")
    await admin.press("✖️ Cancel")
    await admin.wait_for_text("No award was saved")
    # The Save of the cancelled preview does nothing.
    await admin.press_data(first_preview.message_id, old_save)
    assert "earlier screen" in ((await admin.callback_answer()).text or "")
    assert await _count(bot, "awards") == 0

    # Again, to the end: saved without an organization, the volunteer told.
    await admin.send("/award")
    await admin.wait_for_text("Enter an award")
    await admin.press("🔎 Any volunteer, by @username or number")
    await admin.wait_for_text("volunteer number")
    await admin.send(str(profile.volunteer_id))
    await admin.wait_for_text("Award for Zhang Ann")
    await admin.send("Volunteer of the Year")
    await admin.wait_for_text("Type the issuer")
    await admin.send("City Volunteer Federation")
    await admin.wait_for_text("When was it given?")
    await admin.send("today")
    preview = await admin.wait_for_text("Please check the award")
    save = _data(preview, "✅ Save")
    await admin.press("✅ Save", message=preview)
    await admin.wait_for_text("is saved")
    told = await ann.wait_for_text("Congratulations!", timeout=10)
    assert "Volunteer of the Year" in told.visible_text
    assert "City Volunteer Federation" in told.visible_text
    # A second press of the same Save saves nothing twice.
    await admin.press_data(preview.message_id, save)
    assert "earlier screen" in ((await admin.callback_answer()).text or "")
    assert await _count(bot, "awards WHERE organization_id IS NULL") == 1


def _data(message: StoredMessage, label: str) -> str:
    """The callback data of a button as drawn (the message may be edited later)."""
    [button] = [b for b in message.buttons() if b.get("text") == label]
    return str(button["callback_data"])
