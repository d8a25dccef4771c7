"""The registration flow owned by the database: stale buttons, a crash right after a step is
shown, a stable step count, and two bot processes serving one user in turn (issues #12, #13)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.config import Settings
from bot.localapi import StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from bot.runtime import BotRuntime
from storage.flows import FlowsRepository
from storage.volunteers import VolunteersRepository
from tests.e2e.conftest import BotProcess, crash
from tests.e2e.flows import answer_area_to_review

MakeUser = Callable[..., VirtualUser]

STALE = "This button belongs to an earlier step."


def volunteers(bot: BotProcess) -> VolunteersRepository:
    return VolunteersRepository(bot.db)


def current(user: VirtualUser, message: StoredMessage) -> StoredMessage:
    """The message as the chat holds it now (with every edit so far)."""
    return next(m for m in user.bot_messages() if m.message_id == message.message_id)


async def register_until_gender(user: VirtualUser, name: str) -> StoredMessage:
    """Returns the name step's message (it keeps its ⬅️ Back button)."""
    await user.send("/register")
    await user.wait_for_text("Before you register")
    await user.press("✅ I accept")
    name_step = await user.wait_for_text("Step 1 of 9: your real name")
    await user.send(name)
    await user.wait_for_text("your phone number")
    await user.send("13812345678")
    await user.wait_for_text("your gender")
    return name_step


async def test_an_old_back_pressed_at_the_review_changes_nothing_and_confirm_still_works(
    bot: BotProcess, make_user: MakeUser
) -> None:
    """Issue #13 item 1, as seen: an old ⬅️ Back at the review sent the form back to step 9
    and rewrote a message far up the chat; the review's ✅ Confirm then said "no longer valid"."""
    user = make_user("Stella")
    name_step = await register_until_gender(user, "Stella Stale")
    await user.press("Female")
    await user.wait_for_text("date of birth")
    await user.send("1991-04-05")
    review = await answer_area_to_review(user)
    edits_before = len(current(user, name_step).edits)
    before = await volunteers(bot).get_draft(user.id)
    assert before is not None and before.step.value == "review"

    query = await user.press("⬅️ Back", message=name_step)
    assert STALE in ((await user.callback_answer(query)).text or "")
    assert len(current(user, name_step).edits) == edits_before  # not rewritten
    assert await volunteers(bot).get_draft(user.id) == before  # nothing changed

    await user.press("✅ Confirm", message=review)
    await user.wait_for_text("You are registered as a volunteer, Stella Stale")
    assert await volunteers(bot).get_profile(user.id) is not None


async def test_a_stale_done_does_not_complete_todays_step(
    bot: BotProcess, make_user: MakeUser
) -> None:
    """A "Done ➡️" from an older skills screen, pressed on the categories step, used to
    complete the categories."""
    user = make_user("Dora")
    await register_until_gender(user, "Dora Done")
    await user.press("Male")
    await user.wait_for_text("date of birth")
    await user.send("1980-01-01")
    await user.wait_for_text("where do you live")
    await user.press("Furong District")
    old_skills = await user.wait_for_text("your skills")
    await user.send("/register")  # the same step again, in a new message
    new_skills = await user.wait_for_text("your skills")
    assert new_skills.message_id != old_skills.message_id
    await user.press("Done ➡️", message=new_skills)
    await user.wait_for_text("kinds of service")
    await user.press("Health", message=new_skills)
    categories = await user.wait_for_text("kinds of service")
    assert "✓ Health" in categories.button_labels()
    before = await volunteers(bot).get_draft(user.id)
    assert before is not None and before.step.value == "categories"

    query = await user.press("Done ➡️", message=old_skills)
    assert STALE in ((await user.callback_answer(query)).text or "")
    assert await volunteers(bot).get_draft(user.id) == before
    # The screen the user sees now still works.
    await user.press("Done ➡️", message=new_skills)
    await user.wait_for_text("free to volunteer")


async def test_the_step_count_stays_the_same_when_the_guardian_step_comes_in(
    bot: BotProcess, make_user: MakeUser
) -> None:
    """Issue #13 item 16: "step 4 of 9" became "step 6 of 10" after the guardian step."""
    user = make_user("Kid")
    await register_until_gender(user, "Kim Young")
    await user.press("Skip")
    await user.wait_for_text("Step 4 of 9: your date of birth")
    await user.send(f"{date.today().year - 15}-03-01")
    await user.wait_for_text("under 18")
    await user.press("✅ My parent or guardian agrees")
    await user.wait_for_text("Step 5 of 9: where do you live")
    await user.press("Furong District")
    await user.wait_for_text("Step 6 of 9: your skills")


async def test_a_crash_right_after_a_registration_step_is_shown_loses_nothing(
    bot: BotProcess, make_user: MakeUser
) -> None:
    """Issue #13 item 9: the step is shown, the bot is killed before any persistence flush,
    started again, and the typed answer still goes to the form."""
    user = make_user("Carl")
    await user.send("/register")
    await user.wait_for_text("Before you register")
    await user.press("✅ I accept")
    await user.wait_for_text("your real name")
    await crash(bot)
    await bot.start()
    await user.send("Carl Crash")
    await user.wait_for_text("your phone number")
    await crash(bot)
    await bot.start()
    await user.tap_reply_button("📱 Share my phone number")
    await user.wait_for_text("your gender")
    draft = await volunteers(bot).get_draft(user.id)
    assert draft is not None and draft.data.real_name == "Carl Crash"
    assert draft.data.phone is not None


async def test_a_crash_right_after_a_profile_edit_step_is_shown_loses_nothing(
    bot: BotProcess, make_user: MakeUser
) -> None:
    """Issue #13 item 9, as seen: /profile → ✏️ → Name, killed, restarted, the name typed got
    "I did not understand"."""
    user = make_user("Edna")
    await register_until_gender(user, "Edna Edit")
    await user.press("Female")
    await user.wait_for_text("date of birth")
    await user.send("1970-10-10")
    await answer_area_to_review(user)
    await user.press("✅ Confirm")
    await user.wait_for_text("You are registered")

    await user.send("/profile")
    await user.wait_for_text("My volunteer profile")
    await user.press("✏️ Edit")
    await user.wait_for_text("Which field")
    await user.press("✏️ Name")
    await user.wait_for_text("Step 1 of 9: your real name")
    await crash(bot)
    await bot.start()
    await user.send("Edna Edited")
    await user.wait_for_text("Please check your answers")
    await user.press("✅ Confirm")
    await user.wait_for_text("Your profile is updated")
    profile = await volunteers(bot).get_profile(user.id)
    assert profile is not None and profile.real_name == "Edna Edited"
    assert await FlowsRepository(bot.db).get(user.id) is None  # the flow is finished


async def test_two_processes_serve_one_user_in_turn_through_the_same_form(
    settings: Settings, bot_info: BotInfo, make_user: MakeUser
) -> None:
    """Issue #12: two bot runtimes on one database file, one token, one Bot API server, serve
    one user alternately; each continues the form where the other left it. Runtime A is not
    restarted between its turns: whatever it holds in memory is from before B's turn (PTB's
    ConversationHandler would act on that stale state), so only the database can be right."""
    a = await BotRuntime.start(settings, poll_timeout=1)
    b: BotRuntime | None = None
    try:
        user = make_user("Duo")
        await user.send("/register")
        await user.wait_for_text("Before you register")
        await user.press("✅ I accept")
        await user.wait_for_text("your real name")

        # B's turn: A stops fetching updates but keeps running, with its memory as it is.
        await a.stop_polling()
        b = await BotRuntime.start(settings, poll_timeout=1)
        await user.send("Dana Duo")
        await user.wait_for_text("your phone number")
        await user.send("13812345678")
        await user.wait_for_text("your gender")

        # A's turn again, not restarted: it has not seen the name, the phone or the gender step.
        await b.stop_polling()
        await a.start_polling()
        await user.press("Female")
        await user.wait_for_text("date of birth")
        await user.send("1990-05-04")
        await user.wait_for_text("where do you live")
        await user.press("Furong District")
        await user.wait_for_text("your skills")

        # B finishes the form.
        await a.stop_polling()
        await b.start_polling()
        await user.press("Done ➡️")
        await user.wait_for_text("kinds of service")
        await user.press("Health")
        await user.wait_for_text("kinds of service")
        await user.press("Done ➡️")
        await user.wait_for_text("free to volunteer")
        await user.press("Weekday evenings")
        await user.wait_for_text("free to volunteer")
        await user.press("Done ➡️")
        await user.wait_for_text("groups")
        await user.press("Done ➡️")
        await user.wait_for_text("Please check your answers")
        await user.press("✅ Confirm")
        await user.wait_for_text("You are registered as a volunteer, Dana Duo")

        profile = await VolunteersRepository(a.db).get_profile(user.id)
        assert profile is not None and profile.real_name == "Dana Duo"
        assert profile.phone == "+8613812345678" and profile.birth_date == date(1990, 5, 4)
        assert profile.gender is not None and profile.gender.value == "female"
        assert await VolunteersRepository(a.db).get_draft(user.id) is None
    finally:
        if b is not None:
            await b.stop()
        await a.stop()
