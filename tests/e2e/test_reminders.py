"""Event reminders end to end: the real JobQueue delivers them through the local Bot API server.

The bot runs with a :class:`ManualClock`; the outbox job runs every 0.2 s of real time and reads
that clock, so moving the clock to an offset makes the reminder due and the test waits for the
message (no sleeps). Volunteers sign up through the activity card, so reminders are planned by
the bot itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import Activity
from bot.domain.volunteers import VolunteerProfile
from bot.localapi import StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from storage.signups import SignupsRepository
from tests.e2e.conftest import BotProcess, eventually
from tests.factories import add_activity, add_organization, add_volunteer

MakeUser = Callable[..., VirtualUser]
H = timedelta(hours=1)
STILL_COMING = "Still coming?"
STARTING_SOON = "Starting soon"


@pytest.fixture
async def clocked_bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings, clock=ManualClock(datetime.now(UTC)))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


def manual(bot: BotProcess) -> ManualClock:
    assert isinstance(bot.clock, ManualClock)
    return bot.clock


async def volunteer(bot: BotProcess, user: VirtualUser) -> VolunteerProfile:
    return await add_volunteer(
        bot.db, user.id, name=user.info.first_name + " Test", now=bot.clock()
    )


async def activity(bot: BotProcess, **fields: object) -> Activity:
    organization = await add_organization(bot.db, now=bot.clock())
    return await add_activity(bot.db, organization, now=bot.clock(), **fields)  # type: ignore[arg-type]


async def sign_up(user: VirtualUser, event: Activity) -> None:
    await user.start(f"act_{event.activity_id}")
    await user.wait_for_text(event.title)
    await user.press("✋ Sign up")
    await user.wait_for_text("You are signed up!")


async def join_waitlist(user: VirtualUser, event: Activity) -> None:
    await user.start(f"act_{event.activity_id}")
    await user.wait_for_text(event.title)
    await user.press("⏳ Join the waitlist")
    await user.wait_for_text("You are on the waitlist")


async def signup_row(
    bot: BotProcess, event: Activity, profile: VolunteerProfile
) -> dict[str, object]:
    row = await bot.db.fetch_one(
        "SELECT signup_id, status, still_coming, still_coming_asked_at FROM signups "
        "WHERE activity_id = ? AND volunteer_id = ?",
        (event.activity_id, profile.volunteer_id),
    )
    assert row is not None
    return dict(row)


async def reminder_statuses(bot: BotProcess, user: VirtualUser) -> list[str]:
    rows = await bot.db.fetch_all(
        "SELECT status FROM outbox WHERE telegram_id = ? AND kind = 'reminder' "
        "ORDER BY due_at, notification_id",
        (user.id,),
    )
    return [row["status"] for row in rows]


def count(user: VirtualUser, text: str) -> int:
    return sum(text in message.visible_text for message in user.bot_messages())


async def test_a_reminder_arrives_once_at_each_offset(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot, clock = clocked_bot, manual(clocked_bot)
    event = await activity(bot, title="River clean-up", starts_in=timedelta(days=3))
    ann = make_user("Ann")
    profile = await volunteer(bot, ann)
    await sign_up(ann, event)
    assert await reminder_statuses(bot, ann) == ["pending", "pending"]

    clock.set(event.starts_at - 24 * H)
    ask = await ann.wait_for_text(STILL_COMING)
    assert "River clean-up" in ask.visible_text
    assert {"✅ Yes, I am coming", "🙅 No, I cannot come"} <= set(ask.button_labels())
    await eventually(lambda: reminder_statuses(bot, ann), lambda s: s == ["sent", "pending"])
    # Counted as asked once Telegram accepted the message (right after it is marked sent).
    await eventually(
        lambda: signup_row(bot, event, profile),
        lambda row: row["still_coming_asked_at"] is not None,
    )

    clock.set(event.starts_at - 2 * H)
    soon = await ann.wait_for_text(STARTING_SOON)
    assert "River clean-up" in soon.visible_text
    assert STILL_COMING not in soon.visible_text
    await eventually(lambda: reminder_statuses(bot, ann), lambda s: s == ["sent", "sent"])
    # Each went out exactly once, over many runs of the outbox job.
    assert count(ann, STILL_COMING) == 1
    assert count(ann, STARTING_SOON) == 1


async def test_still_coming_no_frees_the_spot_for_the_waitlist(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot, clock = clocked_bot, manual(clocked_bot)
    event = await activity(
        bot, title="Library reading hour", capacity=1, starts_in=timedelta(days=3)
    )
    ann, ben = make_user("Ann"), make_user("Ben")
    ann_profile, ben_profile = await volunteer(bot, ann), await volunteer(bot, ben)
    await sign_up(ann, event)
    await join_waitlist(ben, event)

    clock.set(event.starts_at - 24 * H)
    ask = await ann.wait_for_text(STILL_COMING)
    await ann.press("🙅 No, I cannot come", message=ask)
    await ann.wait_for_text("your sign-up is cancelled")
    offer = await ben.wait_for_text("A spot opened up for you!")
    row = await signup_row(bot, event, ann_profile)
    assert (row["status"], row["still_coming"]) == ("cancelled", "no")
    await ben.press("✅ Yes, I will come", message=offer)
    await ben.wait_for_text("The spot is yours")
    assert (await signup_row(bot, event, ben_profile))["status"] == "confirmed"

    # The freed volunteer's 2 h reminder is dropped; Ben, confirmed late, gets his.
    clock.set(event.starts_at - 2 * H)
    await ben.wait_for_text(STARTING_SOON)
    await eventually(lambda: reminder_statuses(bot, ann), lambda s: s == ["sent", "dropped"])
    assert count(ann, STARTING_SOON) == 0


async def test_yes_is_recorded_and_a_forged_press_changes_nothing(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot, clock = clocked_bot, manual(clocked_bot)
    event = await activity(bot, title="Blood drive", starts_in=timedelta(days=3))
    ann, eve = make_user("Ann"), make_user("Eve")
    ann_profile = await volunteer(bot, ann)
    await volunteer(bot, eve)
    await sign_up(ann, event)
    clock.set(event.starts_at - 24 * H)
    ask = await ann.wait_for_text(STILL_COMING)
    signup_id = (await signup_row(bot, event, ann_profile))["signup_id"]

    # Eve forges Ann's buttons: refused briefly, nothing changes.
    await eve.send("/menu")
    menu = await eve.wait_for_text("Service menu")
    for data in (f"rm:n:{signup_id}", f"rm:y:{signup_id}", "rm:n:abc", "rm:x:1"):
        answer = await eve.callback_answer(await eve.press_data(menu.message_id, data))
        assert answer.text == "This button is no longer valid."
    row = await signup_row(bot, event, ann_profile)
    assert (row["status"], row["still_coming"]) == ("confirmed", None)

    await ann.press("✅ Yes, I am coming", message=ask)
    thanks = await ann.wait_for_text("The organizer knows you are coming")
    assert thanks.message_id == ask.message_id  # the reminder itself is edited
    assert (await signup_row(bot, event, ann_profile))["still_coming"] == "yes"


async def test_a_cancelled_sign_up_gets_no_reminder(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot, clock = clocked_bot, manual(clocked_bot)
    event = await activity(bot, title="Park planting", starts_in=timedelta(days=3))
    ann, ben = make_user("Ann"), make_user("Ben")
    await volunteer(bot, ann)
    await volunteer(bot, ben)
    await sign_up(ann, event)
    await sign_up(ben, event)
    await ann.press("❌ Cancel my sign-up")
    await ann.wait_for_text("tell the organizer why")
    await ann.press("🚫 Cancel without a reason")
    await ann.wait_for_text("Your sign-up is cancelled")

    clock.set(event.starts_at - 24 * H)
    await ben.wait_for_text(STILL_COMING)  # delivery ran
    await eventually(lambda: reminder_statuses(bot, ann), lambda s: s[:1] == ["dropped"])
    assert count(ann, STILL_COMING) == 0

    # An old "Still coming?" press after cancelling is answered and changes nothing.
    signup = await SignupsRepository(bot.db).get(
        event.activity_id, (await signup_profile(bot, ann)).volunteer_id
    )
    assert signup is not None
    last = ann.last_bot_message()
    assert isinstance(last, StoredMessage)
    answer = await ann.callback_answer(
        await ann.press_data(last.message_id, f"rm:y:{signup.signup_id}")
    )
    assert answer.text == "You are no longer signed up for this activity."


async def signup_profile(bot: BotProcess, user: VirtualUser) -> VolunteerProfile:
    from storage.volunteers import VolunteersRepository

    found = await VolunteersRepository(bot.db).get_profile(user.id)
    assert found is not None
    return found
