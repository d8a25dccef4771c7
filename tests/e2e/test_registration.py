"""Volunteer registration and the profile, end to end through the local Bot API server."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from bot.localapi import LocalBotApi, VirtualUser
from storage.volunteers import VolunteersRepository
from tests.e2e.conftest import BotProcess
from tests.e2e.flows import answer_area_to_review

MakeUser = Callable[..., VirtualUser]


def volunteers(bot: BotProcess) -> VolunteersRepository:
    assert bot.runtime is not None
    return VolunteersRepository(bot.runtime.db)


async def register_until_phone(user: VirtualUser, name: str = "Mary Smith") -> None:
    await user.send("/register")
    await user.wait_for_text("Before you register")
    await user.press("✅ I accept")
    await user.wait_for_text("your real name")
    await user.send(name)
    await user.wait_for_text("your phone number")


async def test_full_registration_in_english_with_bad_inputs_back_and_review_edit(
    bot: BotProcess, make_user: MakeUser, api: LocalBotApi
) -> None:
    user = make_user("Mary", language_code="en")
    await user.send("/register")
    consent = await user.wait_for_text("Before you register")
    assert "pledge" in (consent.plain_text or "").lower()
    await user.press("✅ I accept")
    await user.wait_for_text("Step 1 of 9: your real name")

    # Names: empty-ish, digits, emoji, a link, too long — each refused with the reason.
    for bad, reason in [
        ("M", "at least 2 characters"),
        ("Mary 2", "without digits"),
        ("😀😀", "without emoji"),
        ("http://spam.example", "not a link"),
        ("A" * 31, "at most 30 characters"),
    ]:
        await user.send(bad)
        await user.wait_for_text(reason)
    await user.send("Mary Smith")
    phone_step = await user.wait_for_text("your phone number")
    assert phone_step.text is not None

    # Someone else's contact is refused; an invalid number too; then the own contact works.
    await user.share_contact("+8613900000000", user_id=user.id + 1)
    await user.wait_for_text("someone else's contact")
    await user.send("12345")
    await user.wait_for_text("not valid")
    await user.tap_reply_button("📱 Share my phone number")
    await user.wait_for_text("your gender")

    # Back goes to the phone step again, with the answer kept.
    await user.press("⬅️ Back")
    await user.wait_for_text("your phone number")
    await user.send("138 1234 5678")
    await user.wait_for_text("✓ Saved.")
    await user.wait_for_text("your gender")
    await user.press("Female")

    # Birth dates: impossible, future, under 6; then the year/month/day picker.
    await user.wait_for_text("date of birth")
    await user.send("1990-02-30")
    await user.wait_for_text("has only 28 days")
    await user.send("2090-01-01")
    await user.wait_for_text("in the future")
    await user.send("1990年5月4日")
    area = await user.wait_for_text("where do you live")
    assert "Yuelu District" in area.button_labels()
    await user.press("Yuelu District")

    await user.wait_for_text("your skills")
    await user.press("First aid")
    skills = await user.wait_for_text("your skills")
    assert "✓ First aid" in skills.button_labels()
    await user.press("Done ➡️")

    await user.wait_for_text("kinds of service")
    await user.press("Done ➡️")  # none chosen yet: refused with an alert
    assert (await user.callback_answer()).text == "Please choose at least one kind of service."
    await user.press("Elderly and children")
    await user.wait_for_text("kinds of service")
    await user.press("Done ➡️")

    await user.wait_for_text("free to volunteer")
    await user.press("Weekend mornings")
    await user.wait_for_text("free to volunteer")
    await user.press("Done ➡️")
    await user.wait_for_text("groups")
    await user.press("Student")
    await user.wait_for_text("groups")
    await user.press("Done ➡️")

    review = await user.wait_for_text("Please check your answers")
    review_text = review.plain_text or ""
    assert "Mary Smith" in review_text and "+86 138 1234 5678" in review_text
    assert "May 4, 1990" in review_text and "Yuelu District" in review_text

    # Edit the name from the review screen: the step, then straight back to the review.
    await user.press("✏️ Name")
    await user.wait_for_text("your real name")
    await user.send("Mary Jane Smith")
    review = await user.wait_for_text("Please check your answers")
    assert "Mary Jane Smith" in (review.plain_text or "")
    await user.press("✅ Confirm")
    await user.wait_for_text("You are registered as a volunteer, Mary Jane Smith")

    profile = await volunteers(bot).get_profile(user.id)
    assert profile is not None
    assert profile.real_name == "Mary Jane Smith"
    assert profile.phone == "+8613812345678"
    assert profile.birth_date == date(1990, 5, 4)
    assert profile.area_code == "yuelu"
    assert profile.skills == ("first_aid",) and profile.categories == ("elderly_children",)
    assert profile.groups == ("student",) and not profile.is_minor
    assert await volunteers(bot).get_draft(user.id) is None


async def test_registration_in_chinese_with_a_minor_and_the_date_picker(
    bot: BotProcess, make_user: MakeUser
) -> None:
    user = make_user("小红", language_code="zh-hans")
    await user.send("/register")
    await user.wait_for_text("注册之前")
    await user.press("✅ 我同意")
    await user.wait_for_text("真实姓名")
    await user.send("张3")
    await user.wait_for_text("姓名里不能有数字")
    await user.send("欧阳娜娜")
    await user.wait_for_text("手机号码")
    await user.send("+86 138-1234-5678")
    await user.wait_for_text("性别")
    await user.press("跳过")
    await user.wait_for_text("出生日期")
    year = date.today().year - 15
    await user.press(f"{year // 10 * 10}…")
    await user.wait_for_text("出生日期")
    await user.press(str(year))
    await user.wait_for_text("请选择月份")
    await user.press("2")
    await user.wait_for_text("请选择日期")
    await user.press("30")  # 30 February does not exist
    assert "只有" in ((await user.callback_answer()).text or "")
    await user.press("1")
    guardian = await user.wait_for_text("未满18岁")
    assert "✅ 我的父母或监护人同意" in guardian.button_labels()
    await user.press("✅ 我的父母或监护人同意")
    await user.wait_for_text("居住")
    await user.send("岳麓区")  # typed, matched to the listed district
    await user.wait_for_text("技能")
    await user.press("完成 ➡️")
    await user.wait_for_text("服务类别")
    await user.press("卫生健康")
    await user.wait_for_text("服务类别")
    await user.press("完成 ➡️")
    await user.wait_for_text("有空")
    await user.press("工作日晚上")
    await user.wait_for_text("有空")
    await user.press("完成 ➡️")
    await user.wait_for_text("群体")
    await user.press("完成 ➡️")
    review = await user.wait_for_text("请核对")
    assert "欧阳娜娜" in (review.plain_text or "")
    await user.press("✅ 确认")
    await user.wait_for_text("注册成功")
    profile = await volunteers(bot).get_profile(user.id)
    assert profile is not None and profile.is_minor and profile.guardian_consent_at is not None
    assert profile.area_code == "yuelu" and profile.gender is None


async def test_cancel_and_restart_resume_at_the_same_step(
    bot: BotProcess, make_user: MakeUser
) -> None:
    user = make_user("Tom")
    await register_until_phone(user, "Tom Lee")
    await user.send("/cancel")
    await user.wait_for_text("Registration paused")
    await user.send("/register")  # resumes, nothing lost
    await user.wait_for_text("your phone number")
    await user.send("13812345678")
    await user.wait_for_text("your gender")

    await bot.restart()
    await user.press("Male")  # the screen from before the restart still works
    await user.wait_for_text("date of birth")
    await user.send("1985-12-05")
    await user.wait_for_text("where do you live")
    draft = await volunteers(bot).get_draft(user.id)
    assert draft is not None and draft.data.real_name == "Tom Lee"
    assert draft.data.phone == "+8613812345678"

    # And typed text after a restart lands in the registration, not in "I did not understand".
    await bot.restart()
    await user.send("橘子洲街道")
    await user.wait_for_text("your skills")


async def test_forged_and_stale_registration_buttons_are_answered(
    bot: BotProcess, make_user: MakeUser
) -> None:
    user = make_user("Eve")
    await register_until_phone(user, "Eve Adams")
    screen = await user.send("13812345678")
    gender = await user.wait_for_text("your gender")
    for data in ["reg:area:atlantis", "reg:y:1200", "reg:slot:999", "reg:edit:name", "reg:zzz"]:
        query = await user.press_data(gender.message_id, data)
        answer = await user.callback_answer(query)
        assert answer.text == "This button is no longer valid.", data
    draft = await volunteers(bot).get_draft(user.id)
    assert draft is not None and draft.step.value == "gender"
    assert screen.text == "13812345678"
    # The consent button pressed again (the consent screen was edited into the name step).
    consent = user.bot_messages()[0]
    assert "Before you register" in (consent.edits[0].text or "")
    query = await user.press_data(consent.message_id, "reg:consent")
    assert (await user.callback_answer(query)).text == "This button is no longer valid."
    # Confirming without a review step is refused.
    query = await user.press_data(gender.message_id, "reg:confirm")
    assert (await user.callback_answer(query)).text == "This button is no longer valid."
    assert await volunteers(bot).get_profile(user.id) is None


async def test_a_stale_back_on_an_older_screen_changes_nothing(
    bot: BotProcess, make_user: MakeUser
) -> None:
    """Issue #13 item 1: an old "⬅️ Back" pressed at the review used to send the form back to
    an earlier step and rewrite that old message; the review's Confirm then failed."""
    user = make_user("Sam")
    await register_until_phone(user, "Sam Wu")
    await user.send("13812345678")
    await user.wait_for_text("your gender")
    await user.press("Male")
    await user.wait_for_text("date of birth")
    await user.send("1980-01-01")
    review = await answer_area_to_review(user)
    older = [
        message
        for message in user.bot_messages()
        if message.message_id != review.message_id and "⬅️ Back" in message.button_labels()
    ]
    assert older, "an older screen with a Back button"
    stale = older[0]
    edits_before = len(stale.edits)
    await user.press("⬅️ Back", message=stale)
    reply = await user.callback_answer()
    assert reply.text is not None and "earlier step" in reply.text
    draft = await volunteers(bot).get_draft(user.id)
    assert draft is not None and draft.step.value == "review"
    [now] = [m for m in user.bot_messages() if m.message_id == stale.message_id]
    assert len(now.edits) == edits_before  # not rewritten
    await user.press("✅ Confirm", message=review)
    await user.wait_for_text("You are registered")


async def complete_registration(user: VirtualUser) -> None:
    await register_until_phone(user)
    await user.send("13812345678")
    await user.wait_for_text("your gender")
    await user.press("Male")
    await user.wait_for_text("date of birth")
    await user.send("1980-01-01")
    await answer_area_to_review(user)
    await user.press("✅ Confirm")
    await user.wait_for_text("You are registered")


async def test_profile_edit_notifications_pause_export_and_delete(
    bot: BotProcess, make_user: MakeUser
) -> None:
    user = make_user("Mary")
    await complete_registration(user)
    await user.send("/profile")
    card = await user.wait_for_text("My volunteer profile")
    assert "Mary Smith" in (card.plain_text or "")

    # Edit the phone through the same validated step.
    await user.press("✏️ Edit")
    await user.wait_for_text("Which field")
    await user.press("✏️ Phone")
    await user.wait_for_text("your phone number")
    await user.send("not a phone")
    await user.wait_for_text("not a phone number")
    await user.send("13900001111")
    await user.wait_for_text("Please check your answers")
    await user.press("✅ Confirm")
    await user.wait_for_text("Your profile is updated")
    profile = await volunteers(bot).get_profile(user.id)
    assert profile is not None and profile.phone == "+8613900001111"

    # Notifications and quiet hours.
    await user.press("🔔 Notifications")
    await user.wait_for_text("Notifications")
    await user.press("✅ Weekly digest of new activities")
    await user.wait_for_text("Notifications")
    await user.press("No quiet hours")
    await user.wait_for_text("Quiet hours: off.")
    profile = await volunteers(bot).get_profile(user.id)
    assert profile is not None and profile.notifications.digest is False
    assert profile.notifications.quiet_start == profile.notifications.quiet_end

    # Pause and resume.
    await user.press("⬅️ Back")
    await user.wait_for_text("My volunteer profile")
    await user.press("⏸ Pause")
    await user.wait_for_text("Pause volunteering for a while?")
    await user.press("1 week")
    await user.wait_for_text("Paused until")
    await user.press("▶️ Resume")
    await user.wait_for_text("active again")

    # Export: a JSON document with everything.
    await user.press("📤 Export my data")
    exported = await user.next_reply()
    assert exported.document is not None
    data = json.loads(exported.document.data)
    assert data["volunteer"]["real_name"] == "Mary Smith"
    assert data["volunteer"]["phone"] == "+8613900001111"

    # Delete: two steps, then told what remains.
    await user.send("/profile")
    await user.wait_for_text("My volunteer profile")
    await user.press("🗑 Delete my account")
    await user.wait_for_text("Delete your account?")
    await user.press("🗑 Yes, delete my account")
    await user.wait_for_text("Your account is deleted")
    assert await volunteers(bot).get_profile(user.id) is None
    # The anonymized record stays for statistics, without personal data.
    assert bot.runtime is not None
    row = await bot.runtime.db.fetch_one(
        "SELECT telegram_id, real_name, phone, area_code FROM volunteers"
    )
    assert row is not None and tuple(row) == (None, None, None, "furong")


async def test_the_main_menu_entry_starts_registration_then_shows_the_profile(
    bot: BotProcess, make_user: MakeUser
) -> None:
    user = make_user("Ann")
    await user.send("/start")
    await user.wait_for_text("Welcome")
    await user.press("📝 Register / my profile")
    await user.wait_for_text("Before you register")
    await user.press("Not now")
    await user.wait_for_text("You can register any time")
    assert await volunteers(bot).get_draft(user.id) is None
    await complete_registration(user)
    await user.send("/start")
    await user.wait_for_text("Welcome")
    await user.press("📝 Register / my profile")
    await user.wait_for_text("My volunteer profile")
