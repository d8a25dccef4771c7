"""The volunteer's side of the activity card: the typed cancellation reason as a flow owned by
the database (a crash right after the question loses nothing, #13 item 9), a paused volunteer
offered Resume instead of a Sign up that would be refused (#13 item 10), and Sign up pressed
again on an older card (#13 item 17)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.domain.activities import SignupStatus
from bot.localapi import VirtualUser
from storage.signups import SignupsRepository
from storage.volunteers import VolunteersRepository
from tests.e2e.conftest import BotProcess
from tests.e2e.test_manage import reload, volunteer
from tests.e2e.test_manage_flows import crash
from tests.factories import add_activity, add_organization

MakeUser = Callable[..., VirtualUser]


async def test_a_crash_right_after_the_reason_question_keeps_the_cancellation(
    bot: BotProcess, make_user: MakeUser
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    event = await add_activity(bot.db, organization, title="Riverside walk", now=bot.clock())
    user = make_user("Ivy")
    profile = await volunteer(bot, user, "Ivy Zhou")
    await user.start(f"act_{event.activity_id}")
    await user.wait_for_text("Riverside walk")
    await user.press("✋ Sign up")
    await user.wait_for_text("You are signed up")
    await user.press("❌ Cancel my sign-up")
    await user.wait_for_text("tell the organizer why")
    await user.press("✍️ Type a reason")
    await user.wait_for_text("Type your reason")
    await crash(bot)
    await bot.start()
    await user.send("My grandmother is visiting")
    card = await user.wait_for_text("Your sign-up is cancelled")
    assert "Riverside walk" in (card.plain_text or "") and "✋ Sign up" in card.button_labels()
    signup = await SignupsRepository(bot.db).get(event.activity_id, profile.volunteer_id)
    assert signup is not None and signup.status is SignupStatus.CANCELLED
    row = await bot.db.fetch_one("SELECT cancel_note FROM signups")
    assert row is not None and row["cancel_note"] == "My grandmother is visiting"
    assert (await reload(bot, event.activity_id)).confirmed_count == 0


async def test_cancel_while_typing_the_reason_keeps_the_sign_up(
    bot: BotProcess, make_user: MakeUser
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    event = await add_activity(bot.db, organization, title="Book swap", now=bot.clock())
    user = make_user("Jay")
    await volunteer(bot, user, "Jay Sun")
    await user.start(f"act_{event.activity_id}")
    await user.wait_for_text("Book swap")
    await user.press("✋ Sign up")
    await user.wait_for_text("You are signed up")
    await user.press("❌ Cancel my sign-up")
    await user.wait_for_text("tell the organizer why")
    await user.press("✍️ Type a reason")
    await user.wait_for_text("Type your reason")
    await user.send("/cancel")
    card = await user.wait_for_text("OK, your sign-up is kept.")
    assert "❌ Cancel my sign-up" in card.button_labels()
    assert (await reload(bot, event.activity_id)).confirmed_count == 1
    # The flow is over: later words are not a cancellation reason.
    await user.send("hello there")
    await user.next_reply()
    assert (await reload(bot, event.activity_id)).confirmed_count == 1


async def test_a_paused_volunteer_is_offered_resume_instead_of_sign_up(
    bot: BotProcess, make_user: MakeUser
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    event = await add_activity(bot.db, organization, title="Clinic helpers", now=bot.clock())
    user = make_user("Kim")
    await volunteer(bot, user, "Kim Lu")
    today = bot.clock().date()
    await VolunteersRepository(bot.db).pause(user.id, today + timedelta(days=30), bot.clock())
    await user.start(f"act_{event.activity_id}")
    card = await user.wait_for_text("Clinic helpers")
    assert "Your volunteering is paused" in (card.plain_text or "")
    assert "✋ Sign up" not in card.button_labels()
    assert "▶️ Resume volunteering" in card.button_labels()
    await user.press("▶️ Resume volunteering")
    card = await user.wait_for_text("Welcome back")
    assert "✋ Sign up" in card.button_labels()
    profile = await VolunteersRepository(bot.db).get_profile(user.id)
    assert profile is not None and profile.paused_until is None
    await user.press("✋ Sign up")
    await user.wait_for_text("You are signed up")


async def test_sign_up_pressed_again_on_an_older_card_says_already_signed_up(
    bot: BotProcess, make_user: MakeUser
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    event = await add_activity(bot.db, organization, title="Beach clean", now=bot.clock())
    user = make_user("Lea")
    await volunteer(bot, user, "Lea He")
    await user.start(f"act_{event.activity_id}")
    older = await user.wait_for_text("Beach clean")
    await user.start(f"act_{event.activity_id}")
    newer = await user.wait_for_text("Beach clean")
    assert newer.message_id != older.message_id
    await user.press("✋ Sign up", message=newer)
    await user.wait_for_text("You are signed up!")

    query = await user.press("✋ Sign up", message=older)
    answer = await user.callback_answer(query)
    assert answer.text == "✅ You are already signed up."
    card = await user.wait_for_text("You are already signed up")
    assert "🎉" not in (card.plain_text or "")
    assert "❌ Cancel my sign-up" in card.button_labels()
    assert (await reload(bot, event.activity_id)).confirmed_count == 1
