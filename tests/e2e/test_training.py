"""Trainings and qualifications (民政部令第67号 Art. 8, 先培训再上岗) and the "not volunteer
service" mark (Art. 19), end to end through the local Bot API server, in Chinese and English:
an organizer publishes a training granting «急救证» through /new and makes another activity
require it by editing; a volunteer without it is refused and pointed to the training's next
session; once the qualification is held (inserted directly here: granting it is the hours
confirmation's job) the volunteer signs up. Forged presses for another organization's
qualification change nothing; old activities and drafts with the yes/no flag still render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.activities import Activity, MemberRole, Organization
from bot.domain.activity_form import EditField
from bot.domain.deeplinks import activity_payload
from bot.domain.users import Language
from bot.i18n import Translator, translator
from bot.localapi import StoredMessage, VirtualUser
from handlers.activity_edit import EditActivity, EditValue
from handlers.signup_buttons import SignupJoin
from storage.activities import ActivitiesRepository
from storage.catalog import CatalogRepository
from storage.organizations import OrganizationsRepository
from storage.qualifications import QualificationsRepository
from storage.timeutil import to_db_time
from storage.users import UsersRepository
from tests.e2e.conftest import BotProcess
from tests.factories import add_activity, add_organization, add_user, add_volunteer

MakeUser = Callable[..., VirtualUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")
QUALIFICATION = "急救证"


def tr(language: Language) -> Translator:
    return translator(language, SHANGHAI)


async def organizer_of(bot: BotProcess, user: VirtualUser, language: Language) -> Organization:
    await add_user(bot.db, user.id, first_name=user.info.first_name, now=bot.clock())
    await UsersRepository(bot.db).set_language(user.id, language)
    organization = await add_organization(bot.db, name="急救志愿队", now=bot.clock())
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, user.id, MemberRole.ORGANIZER, bot.clock()
    )
    return organization


def step(t: Translator, number: int) -> str:
    return t.gettext("New activity, step {number} of {total}").format(number=number, total=16)


async def publish_training(
    bot: BotProcess, user: VirtualUser, t: Translator, title: str, day: datetime
) -> StoredMessage:
    """/new through every step: a training granting «急救证» (a new name, typed)."""
    health = await CatalogRepository(bot.db).category("health")
    assert health is not None
    await user.send("/new")
    await user.wait_for_text(step(t, 1))
    await user.send(title)
    await user.wait_for_text(step(t, 2))
    await user.press(health.name(t.language.value))
    await user.wait_for_text(step(t, 3))
    await user.press(t.gettext("Skip"))
    await user.wait_for_text(step(t, 4))
    await user.send(f"{day:%Y-%m-%d} 09:00-11:30")
    await user.wait_for_text(step(t, 5))
    await user.send("芙蓉区红十字会培训室")
    await user.wait_for_text(step(t, 6))
    await user.press(t.gettext("Skip"))
    await user.wait_for_text(step(t, 7))
    await user.press(t.gettext("Skip"))
    await user.wait_for_text(step(t, 8))
    await user.send("20")
    await user.wait_for_text(step(t, 9))
    await user.press(t.gettext("Done ➡️"))
    screen = await user.wait_for_text(step(t, 10))
    assert "✓ " + t.gettext("No training needed") in screen.button_labels()
    await user.press(t.gettext("📜 This activity is a training…"))
    await user.wait_for_text("e.g. 急救证" if t.language is Language.EN else "例如“急救证”")
    await user.send("x" * 41)  # too long: asked again, nothing stored
    await user.wait_for_text("⚠️")
    await user.send(f"  {QUALIFICATION} ")
    await user.wait_for_text(step(t, 11))
    await user.press("✓ " + t.gettext("Yes"))
    await user.wait_for_text(step(t, 12))
    await user.press(t.gettext("No"))
    await user.wait_for_text(step(t, 13))
    await user.press(t.gettext("Done ➡️"))
    await user.wait_for_text(step(t, 14))
    await user.press(t.gettext("No deadline"))
    await user.wait_for_text(step(t, 15))
    await user.send("王芳")
    reply = await user.next_reply()
    if step(t, 16) in reply.visible_text:
        await user.press(t.gettext("No tag"))
        reply = await user.wait_for_text(t.gettext("🙋 Volunteer service: hours are recorded"))
    return reply


async def titled(bot: BotProcess, title: str) -> Activity:
    page = await ActivitiesRepository(bot.db).search(datetime.now(UTC), [title], page_size=50)
    [found] = [a for a in page.items if a.title == title]
    return found


@pytest.mark.parametrize("language", [Language.ZH, Language.EN])
async def test_a_training_gates_an_activity_and_points_to_its_next_session(
    bot: BotProcess, make_user: MakeUser, language: Language
) -> None:
    t = tr(language)
    code = "zh-hans" if language is Language.ZH else "en"
    boss = make_user("Fang", language_code=code)
    organization = await organizer_of(bot, boss, language)
    day = datetime.now(UTC).astimezone(SHANGHAI) + timedelta(days=12)

    preview = await publish_training(bot, boss, t, "急救培训", day)
    grants = t.gettext("📜 Completing this training grants «{name}»").format(name=QUALIFICATION)
    assert grants in preview.visible_text
    await boss.press(t.gettext("✅ Publish"))
    await boss.wait_for_text("🎉")
    training = await titled(bot, "急救培训")
    assert training.grants_qualification is not None
    assert training.grants_qualification.name == QUALIFICATION and training.is_volunteering
    qid = training.grants_qualification.qualification_id

    # Another activity is made to require it, by editing (picking the existing qualification).
    serving = await add_activity(
        bot.db, organization, title="马拉松医疗保障", starts_at=day + timedelta(days=7)
    )
    last = boss.last_bot_message()
    assert last is not None
    await boss.press_data(last.message_id, EditActivity(serving.activity_id).pack())
    await boss.wait_for_text("马拉松医疗保障")
    await boss.press(t.gettext("Training"))
    await boss.wait_for_text(t.gettext("No training needed"))
    await boss.press(t.gettext("🎓 Requires a training…"))
    await boss.wait_for_text("qualification" if language is Language.EN else "资格")
    await boss.press(QUALIFICATION)
    await boss.wait_for_text(t.gettext("Requires the training «{name}»").format(name=QUALIFICATION))
    await boss.press(t.gettext("✅ Confirm"))
    await boss.wait_for_text(t.gettext("✅ Saved."))
    serving = await titled(bot, "马拉松医疗保障")
    assert serving.requires_qualification is not None
    assert serving.requires_qualification.qualification_id == qid

    # A forged press naming another organization's qualification changes nothing.
    other = await add_organization(bot.db, name="别的协会", now=bot.clock())
    theirs = await QualificationsRepository(bot.db).name(
        other.organization_id, "心理疏导证", bot.clock()
    )
    last = boss.last_bot_message()
    assert last is not None
    forged = EditValue(serving.activity_id, EditField.TRAINING, f"r{theirs.qualification_id}")
    await boss.press_data(last.message_id, forged.pack())
    await boss.callback_answer()
    unchanged = await titled(bot, "马拉松医疗保障")
    assert unchanged.requires_qualification == serving.requires_qualification

    # A volunteer without it: the card says why and links the next session; a sign-up press
    # (an older card's) is refused with the training named.
    volunteer = make_user("Lei", language_code=code)
    profile = await add_volunteer(bot.db, volunteer.id, name="李雷", now=bot.clock())
    await UsersRepository(bot.db).set_language(volunteer.id, language)
    await volunteer.start(activity_payload(serving.activity_id))
    card = await volunteer.wait_for_text("马拉松医疗保障")
    requires = t.gettext("🎓 Requires the training «{name}» first").format(name=QUALIFICATION)
    assert requires in card.visible_text
    assert t.gettext("✋ Sign up") not in card.button_labels()
    [next_label] = [label for label in card.button_labels() if label.startswith("📚")]
    await volunteer.press_data(card.message_id, SignupJoin(serving.activity_id, "x").pack())
    refused = await volunteer.wait_for_text("⚠️")
    refusal = t.gettext("This activity needs the training «{name}» first. {next_session}")
    assert refusal.split("{next_session}")[0].format(name=QUALIFICATION) in refused.visible_text
    assert "急救培训" in refused.visible_text
    await volunteer.press(next_label)
    training_card = await volunteer.wait_for_text(grants)
    assert "急救培训" in training_card.visible_text

    # Holding it (as the hours confirmation will grant it), the volunteer signs up.
    async with bot.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO volunteer_qualifications (volunteer_id, qualification_id, granted_at, "
            "activity_id) VALUES (?, ?, ?, ?)",
            (profile.volunteer_id, qid, to_db_time(bot.clock()), training.activity_id),
        )
    await volunteer.start(activity_payload(serving.activity_id))
    card = await volunteer.wait_for_text("马拉松医疗保障")
    await volunteer.press(t.gettext("✋ Sign up"), message=card)
    await volunteer.wait_for_text("🎉")


@pytest.mark.parametrize("language", [Language.ZH, Language.EN])
async def test_old_training_flags_and_the_not_volunteering_mark_render(
    bot: BotProcess, make_user: MakeUser, language: Language
) -> None:
    t = tr(language)
    code = "zh-hans" if language is Language.ZH else "en"
    boss = make_user("Min", language_code=code)
    organization = await organizer_of(bot, boss, language)
    old = await add_activity(
        bot.db, organization, title="旧活动", training_required=True, now=bot.clock()
    )
    meeting = await add_activity(
        bot.db, organization, title="年度总结会", is_volunteering=False, now=bot.clock()
    )
    volunteer = make_user("Mei", language_code=code)
    await add_volunteer(bot.db, volunteer.id, name="韩梅梅", now=bot.clock())
    await UsersRepository(bot.db).set_language(volunteer.id, language)
    await volunteer.start(activity_payload(old.activity_id))
    card = await volunteer.wait_for_text("旧活动")
    assert t.gettext("training before service") in card.visible_text
    assert t.gettext("✋ Sign up") in card.button_labels()
    await volunteer.start(activity_payload(meeting.activity_id))
    card = await volunteer.wait_for_text("年度总结会")
    assert t.gettext("ℹ️ Not recorded as volunteer service") in card.visible_text

    # An old draft with the yes/no flag still previews, and publishes with it.
    draft = (
        '{"title": "旧草稿", "category_code": "health", "place": "社区", "capacity": 3, '
        f'"starts_at": "{(datetime.now(UTC) + timedelta(days=9)).isoformat()}", '
        f'"ends_at": "{(datetime.now(UTC) + timedelta(days=9, hours=2)).isoformat()}", '
        '"training_required": true}'
    )
    stamp = to_db_time(bot.clock())
    async with bot.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO activity_drafts (organization_id, telegram_id, step, data, created_at, "
            "updated_at) VALUES (?, ?, 'preview', ?, ?, ?)",
            (organization.organization_id, boss.id, draft, stamp, stamp),
        )
    await boss.send("/new")
    menu = await boss.next_reply()
    [resume] = [label for label in menu.button_labels() if label.startswith("▶️")]
    await boss.press(resume)
    preview = await boss.wait_for_text("旧草稿")
    assert t.gettext("training before service") in preview.visible_text
    await boss.press(t.gettext("✅ Publish"))
    await boss.wait_for_text("🎉")
    published = await titled(bot, "旧草稿")
    assert published.training_required and published.is_volunteering
