"""Recruiting end to end: an organizer finds and invites volunteers, volunteers answer the
invitation, the under-staffed alert, and forged organizer presses.

Organizations, memberships, activities and profiles are stored through the repositories; the
organizer's and volunteers' actions go through the local Bot API server. The clock is a
ManualClock at 10:00 Shanghai time, so invitations (which wait out quiet hours) go out at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import Activity, MemberRole, Organization
from bot.domain.volunteers import NotificationSettings, VolunteerProfile
from bot.localapi import StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.recruiting import RecruitingRepository
from storage.volunteers import VolunteersRepository
from tests.e2e.conftest import BotProcess, eventually
from tests.factories import add_activity, add_organization, add_volunteer

MakeUser = Callable[..., VirtualUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def clocked_bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    morning = datetime.now(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0)
    process = BotProcess(settings, clock=ManualClock(morning))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def organizer_of(bot: BotProcess, user: VirtualUser, name: str) -> Organization:
    await user.start()  # opens the chat (and stores the user)
    await user.next_reply()
    organization = await add_organization(bot.db, name=name, now=bot.clock())
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, user.id, MemberRole.MANAGER, bot.clock()
    )
    return organization


async def volunteer(bot: BotProcess, user: VirtualUser, **fields: object) -> VolunteerProfile:
    """A registered volunteer who has opened a chat with the bot (so it can write to them)."""
    await user.start()
    await user.next_reply()
    return await add_volunteer(
        bot.db,
        user.id,
        name=str(fields.pop("name", user.info.first_name + " Test")),
        now=bot.clock(),
        **fields,  # type: ignore[arg-type]
    )


async def some_message(user: VirtualUser) -> StoredMessage:
    """A message of the bot in the user's chat, to attach button presses to."""
    await user.send("/start")
    return await user.next_reply()


async def press_data_and_wait(
    user: VirtualUser, message: StoredMessage, data: str, expected: str
) -> StoredMessage:
    await user.press_data(message.message_id, data)
    return await user.wait_for_text(expected)


async def invitations(db: Database, activity: Activity) -> list[tuple[int, str | None]]:
    rows = await db.fetch_all(
        "SELECT volunteer_id, response FROM invitations WHERE activity_id = ? "
        "ORDER BY volunteer_id",
        (activity.activity_id,),
    )
    return [(row["volunteer_id"], row["response"]) for row in rows]


async def test_find_invite_sign_up_and_not_interested(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = clocked_bot
    organizer = make_user("Olga")
    organization = await organizer_of(bot, organizer, "Yuelu Green Team")
    keen, busy, opted_out, recent = (
        make_user(name) for name in ("Keen", "Busy", "Optout", "Recent")
    )
    profiles = {user.id: await volunteer(bot, user) for user in (keen, busy, opted_out, recent)}
    await VolunteersRepository(bot.db).set_notifications(
        opted_out.id, NotificationSettings(invitations=False), bot.clock()
    )
    event = await add_activity(
        bot.db, organization, title="Park clean-up", starts_in=timedelta(days=4), now=bot.clock()
    )
    earlier = await add_activity(
        bot.db, organization, title="Earlier", starts_in=timedelta(days=9), now=bot.clock()
    )
    # "Recent" was invited to something else yesterday: inside the 7-day cool-down.
    async with bot.db.transaction() as tx:
        await RecruitingRepository.invite(
            tx,
            earlier.activity_id,
            [profiles[recent.id].volunteer_id],
            organizer.id,
            bot.clock() - timedelta(days=1),
        )

    screen = await some_message(organizer)
    found = await press_data_and_wait(
        organizer, screen, f"rc:{event.activity_id}", "Volunteers for “Park clean-up”"
    )
    text = found.plain_text or ""
    assert "Keen Test" in text and "Busy Test" in text
    assert "Optout Test" not in text and "Recent Test" not in text
    assert "interested in Health" in text and "lives in Furong District" in text
    for profile in profiles.values():  # no phone number, in any form
        assert profile.phone not in text and profile.phone[3:] not in text
    assert "+86" not in text

    await organizer.press("📨 Invite the top 2")
    await organizer.wait_for_text("Invite the top 2 volunteers")
    await organizer.press("📨 Yes, invite them")
    await organizer.wait_for_text("2 volunteers invited")

    card = await keen.wait_for_text("Yuelu Green Team invites you")
    assert "Park clean-up" in (card.plain_text or "")
    assert card.button_labels() == ["✋ Sign up", "🙅 Not interested"]
    await keen.press("✋ Sign up", message=card)
    await keen.wait_for_text("You are signed up!")

    offer = await busy.wait_for_text("Yuelu Green Team invites you")
    await busy.press("🙅 Not interested", message=offer)
    await busy.wait_for_text("you will not be invited to Park clean-up again")

    await eventually(
        lambda: invitations(bot.db, event),
        lambda rows: (
            rows
            == [
                (profiles[keen.id].volunteer_id, "signed_up"),
                (profiles[busy.id].volunteer_id, "declined"),
            ]
        ),
    )
    # The decline is remembered: even after the cool-down, Busy is not listed again.
    clock = bot.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(days=2))
    again = await press_data_and_wait(
        organizer, screen, f"rc:{event.activity_id}", "Volunteers for “Park clean-up”"
    )
    text = again.plain_text or ""
    assert "Busy Test" not in text and "Keen Test" not in text
    assert "1 signed up, 1 not interested" in text

    # Pressing "Not interested" on someone else's behalf (never invited) changes nothing.
    await opted_out.send("/start")
    reply = await opted_out.next_reply()
    query = await opted_out.press_data(reply.message_id, f"inv:no:{event.activity_id}")
    assert "no longer valid" in ((await opted_out.callback_answer(query)).text or "")
    assert len(await invitations(bot.db, event)) == 2


async def test_understaffed_alert_offers_find_volunteers(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = clocked_bot
    clock = bot.clock
    assert isinstance(clock, ManualClock)
    organizer = make_user("Omar")
    organization = await organizer_of(bot, organizer, "Kaifu Helpers")
    helper = make_user("Hana")
    await volunteer(bot, helper)
    event = await add_activity(
        bot.db, organization, title="Soup run", capacity=4, starts_in=timedelta(hours=60),
        now=clock(),
    )  # fmt: skip
    assert bot.runtime is not None
    application = bot.runtime.application
    assert application.job_queue is not None
    (job,) = application.job_queue.get_jobs_by_name("understaffed")

    await job.run(application)  # 60 h ahead: not yet
    assert not await bot.db.fetch_all("SELECT 1 FROM outbox WHERE kind = 'understaffed'")

    clock.advance(timedelta(hours=13))  # now 47 h ahead, 0 of 4 confirmed
    await job.run(application)
    alert = await organizer.wait_for_text("Soup run")
    assert "needs more volunteers: 0 of 4 confirmed" in (alert.plain_text or "")
    await job.run(application)  # once per activity and start time
    rows = await bot.db.fetch_all("SELECT 1 FROM outbox WHERE kind = 'understaffed'")
    assert len(rows) == 1

    await organizer.press("🔎 Find volunteers", message=alert)
    found = await organizer.wait_for_text("Volunteers for “Soup run”")
    assert "Hana Test" in (found.plain_text or "")
    assert event.activity_id


async def test_forged_recruiting_presses_are_refused(
    clocked_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = clocked_bot
    owner, other_org, intruder = make_user("Owner"), make_user("Rival"), make_user("Mallory")
    organization = await organizer_of(bot, owner, "Tianxin Seniors")
    await organizer_of(bot, other_org, "Rival Org")
    for name in ("Ann", "Bo"):
        await volunteer(bot, make_user(name))
    await volunteer(bot, intruder)
    event = await add_activity(bot.db, organization, title="Tea afternoon", now=bot.clock())

    for user in (intruder, other_org):
        message = await some_message(user)
        for data in (
            f"rc:{event.activity_id}",
            f"rc:ask:{event.activity_id}",
            f"rc:go:{event.activity_id}:0",
            f"rc:{event.activity_id}:1",
        ):
            query = await user.press_data(message.message_id, data)
            answer = await user.callback_answer(query)
            assert answer.text == "Sorry, you are not allowed to do that."
        assert all("Tea afternoon" not in (m.plain_text or "") for m in user.bot_messages())
    assert await invitations(bot.db, event) == []
    assert not await bot.db.fetch_all("SELECT 1 FROM outbox WHERE kind = 'invitation'")

    # The owner can, and a replay of the confirm button after inviting sends nothing more.
    screen = await some_message(owner)
    await press_data_and_wait(owner, screen, f"rc:go:{event.activity_id}:0", "invited")
    sent = len(await invitations(bot.db, event))
    assert sent == 3
    await press_data_and_wait(owner, screen, f"rc:go:{event.activity_id}:0", "already sent")
    assert len(await invitations(bot.db, event)) == sent
