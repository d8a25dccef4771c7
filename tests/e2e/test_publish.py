"""Publishing an activity (/new, drafts, the calendar picker) and editing a published one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import Activity, MemberRole, Organization, SignupStatus
from bot.domain.notifications import NotificationKind
from bot.localapi import StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from storage.activities import ActivitiesRepository
from storage.organizations import OrganizationsRepository
from storage.signups import SignupsRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess, crash, eventually
from tests.factories import add_activity, add_organization, add_user, add_volunteer

MakeUser = Callable[..., VirtualUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def organizer(
    bot: BotProcess, user: VirtualUser, name: str = "社区志愿者协会"
) -> Organization:
    await add_user(bot.db, user.id, first_name=user.info.first_name, now=bot.clock())
    organization = await add_organization(bot.db, name=name, now=bot.clock())
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, user.id, MemberRole.ORGANIZER, bot.clock()
    )
    return organization


def local_day(days: int) -> datetime:
    return datetime.now(UTC).astimezone(SHANGHAI) + timedelta(days=days)


async def activities_titled(bot: BotProcess, title: str) -> list[Activity]:
    page = await ActivitiesRepository(bot.db).search(datetime.now(UTC), [title], page_size=50)
    return [a for a in page.items if a.title == title]


async def form_to_when(user: VirtualUser, title: str) -> None:
    await user.send("/new")
    await user.wait_for_text("the title")
    await user.send(title)
    await user.wait_for_text("kind of service")
    await user.press("Health")
    await user.wait_for_text("description")
    await user.send("Measure blood pressure and chat with residents.")
    await user.wait_for_text("when")


async def form_after_when(user: VirtualUser, *, tag: bool = False) -> StoredMessage:
    await user.wait_for_text("the place")
    await user.send("Dingwangtai community centre")
    await user.wait_for_text("map pin")
    await user.share_location(28.196, 112.972)
    await user.wait_for_text("district")
    await user.press("Furong District")
    await user.wait_for_text("are needed")
    await user.send("lots")
    await user.wait_for_text("from 1 to 10,000")
    await user.send("5")
    await user.wait_for_text("required skills")
    await user.press("Done ➡️")
    await user.wait_for_text("training")
    await user.press("✓ No training needed")
    await user.wait_for_text("volunteer service")
    await user.press("✓ Yes")
    await user.wait_for_text("adults (18+) only")
    await user.press("Yes")
    await user.wait_for_text("people served")
    await user.press("the elderly and children")
    await user.callback_answer()
    await user.press("Done ➡️")
    await user.wait_for_text("sign-up deadline")
    await user.press("No deadline")
    await user.wait_for_text("person in charge")
    await user.send("王芳")
    reply = await user.next_reply()
    if "close to" in (reply.plain_text or ""):
        labels = [label for label in reply.button_labels() if label.startswith("🏷")]
        await user.press(labels[0] if tag else "No tag")
        reply = await user.wait_for_text("Preview")
    assert "Preview" in (reply.plain_text or "")
    return reply


async def test_publish_with_a_typed_date_refusing_bad_ones(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Fang")
    await organizer(bot, boss)
    await form_to_when(boss, "Blood pressure morning")
    await boss.send("2月30日 9:00")
    await boss.wait_for_text("That date does not exist")
    await boss.send("2020-01-01 09:00-10:00")
    await boss.wait_for_text("already passed")
    await boss.send("13/1 9:00")
    await boss.wait_for_text("does not exist")
    await boss.send("tomorrow 25:00")
    await boss.wait_for_text("That time does not exist")
    day = local_day(12)
    await boss.send(f"{day:%Y-%m-%d} 09:00-08:00")
    await boss.wait_for_text("The end must be after the start")
    await boss.send(f"{day:%Y-%m-%d} 09:00-11:30")
    preview = await form_after_when(boss)
    text = preview.plain_text or ""
    assert "Blood pressure morning" in text and "Dingwangtai community centre" in text
    assert "0 of 5 taken" in text and "adults (18+) only" in text
    assert "王芳" in text

    await boss.press("✅ Publish")
    done = await boss.wait_for_text("is published")
    assert "📋 Manage the activity" in done.button_labels()
    [published] = await activities_titled(bot, "Blood pressure morning")
    assert published.starts_at == datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI)
    assert published.ends_at == datetime(day.year, day.month, day.day, 11, 30, tzinfo=SHANGHAI)
    assert published.capacity == 5 and published.adults_only and not published.training_required
    assert published.latitude == 28.196 and published.area_code == "furong"
    assert published.leader_name == "王芳"

    # Volunteers see it in the service menu.
    volunteer = make_user("Lei")
    await add_volunteer(bot.db, volunteer.id, name="Li Lei", now=bot.clock())
    await volunteer.send("/menu")
    menu = await volunteer.wait_for_text("Service menu")
    assert "Health (1)" in menu.button_labels()
    await volunteer.press("Health (1)")
    page = await volunteer.wait_for_text("open activities")
    assert "Blood pressure morning" in (page.plain_text or "")


async def test_publish_with_the_calendar_picker_and_a_key_date(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Min")
    await organizer(bot, boss)
    await form_to_when(boss, "Picked park clean-up")
    day = local_day(3)
    if day.month != local_day(0).month:
        await boss.press("›")
        await boss.wait_for_text("when")
    await boss.press(str(day.day))
    await boss.wait_for_text("now the hour")
    await boss.press("14")
    await boss.wait_for_text("now the minutes")
    await boss.press("14:30")
    await boss.wait_for_text("does it end")
    # The end picker starts at the start's month.
    await boss.press(str(day.day))
    await boss.wait_for_text("now the hour")
    await boss.press("13")
    await boss.wait_for_text("now the minutes")
    await boss.press("13:00")
    await boss.wait_for_text("The end must be after the start")
    await boss.press(str(day.day))
    await boss.wait_for_text("now the hour")
    await boss.press("16")
    await boss.wait_for_text("now the minutes")
    await boss.press("16:00")
    await form_after_when(boss, tag=True)
    await boss.press("✅ Publish")
    await boss.wait_for_text("is published")
    [published] = await activities_titled(bot, "Picked park clean-up")
    assert published.starts_at == datetime(day.year, day.month, day.day, 14, 30, tzinfo=SHANGHAI)
    assert published.ends_at == datetime(day.year, day.month, day.day, 16, tzinfo=SHANGHAI)


async def test_a_draft_survives_a_restart_and_is_resumed(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Hua")
    await organizer(bot, boss)
    await boss.send("/new")
    await boss.wait_for_text("the title")
    await boss.send("Library reading hour")
    await boss.wait_for_text("kind of service")
    await boss.press("Health")
    await boss.wait_for_text("description")
    await bot.restart()
    # The conversation carries on at the same step after the restart.
    await boss.send("Read stories to children.")
    await boss.wait_for_text("when")
    await boss.press("💾 Save draft and stop")
    await boss.wait_for_text("saved")
    await bot.restart()
    await boss.send("/new")
    choice = await boss.wait_for_text("What would you like to do?")
    assert "▶️ Continue “Library reading hour”" in choice.button_labels()
    await boss.press("▶️ Continue “Library reading hour”")
    await boss.wait_for_text("when")
    await boss.send(f"{local_day(9):%m/%d} 10:00-11:00")
    await boss.wait_for_text("the place")


async def signed_up(bot: BotProcess, user: VirtualUser, activity: Activity) -> None:
    await add_volunteer(bot.db, user.id, name=f"V {user.info.first_name}", now=bot.clock())
    await user.start(f"act_{activity.activity_id}")
    await user.wait_for_text(activity.title)
    label = "✋ Sign up" if not activity.is_full else "⏳ Join the waitlist"
    await user.press(label)
    await user.wait_for_text("You are")


async def test_edit_time_notifies_and_capacity_drop_moves_the_last_signed_up(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Jun")
    organization = await organizer(bot, boss)
    event = await add_activity(
        bot.db, organization, now=datetime.now(UTC), title="Edit me", capacity=2,
        starts_in=timedelta(days=6),
    )  # fmt: skip
    first, second, third = make_user("A"), make_user("B"), make_user("C")
    await signed_up(bot, first, event)
    await signed_up(bot, second, event)
    full = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert full is not None
    await signed_up(bot, third, full)  # waitlisted

    await boss.send("/help")
    anchor = await boss.next_reply()
    await boss.press_data(anchor.message_id, f"ed:{event.activity_id}")
    await boss.wait_for_text("Which field")
    await boss.press("Date and time")
    await boss.wait_for_text("Type the new date and time")
    await boss.send("12/40 9:00")
    await boss.wait_for_text("does not exist")
    day = local_day(8)
    await boss.send(f"{day:%Y-%m-%d} 15:00-17:00")
    confirm = await boss.wait_for_text("3 signed-up or waiting volunteers will be told")
    await boss.press("✅ Confirm", message=confirm)
    saved = await boss.wait_for_text("Saved")
    assert "⬅️ Back to the activity" in saved.button_labels()
    for person in (first, second, third):
        await person.wait_for_text("Time changed")
    changed = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert changed is not None
    assert changed.starts_at == datetime(day.year, day.month, day.day, 15, tzinfo=SHANGHAI)

    await boss.press("✏️ Edit another field")
    fields = await boss.wait_for_text("Which field")
    # The field list leads back to the management card it was opened from.
    await boss.press("⬅️ Back to the activity", message=fields)
    await boss.wait_for_text("signed up · 0 offered")
    await boss.press("✏️ Edit")
    await boss.wait_for_text("Which field")
    await boss.press("Volunteers needed")
    await boss.wait_for_text("number of volunteers")
    await boss.send("1")
    plan = await boss.wait_for_text("must go back to the waitlist")
    assert "☑️ V B" in plan.button_labels() and "⬜ V A" in plan.button_labels()
    await boss.press("✅ Confirm", message=plan)
    await boss.wait_for_text("moved to the waitlist")
    await second.wait_for_text("head of the waitlist")
    after = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert after is not None
    assert (after.capacity, after.confirmed_count, after.offered_count, after.waitlist_count) == (
        1, 1, 0, 2,
    )  # fmt: skip
    signups = SignupsRepository(bot.db)
    moved = [s for s in [await signups.get(event.activity_id, v) for v in range(1, 10)] if s]
    statuses = {s.status for s in moved}
    assert SignupStatus.CONFIRMED in statuses and SignupStatus.WAITLISTED in statuses


async def test_forged_presses_on_another_organizations_activity_change_nothing(
    bot: BotProcess, make_user: MakeUser
) -> None:
    owner = make_user("Owner")
    organization = await organizer(bot, owner)
    event = await add_activity(
        bot.db, organization, now=datetime.now(UTC), title="Not yours", capacity=4
    )
    stranger = make_user("Mallory")
    other = await organizer(bot, stranger, name="别的组织")
    await stranger.send("/help")
    anchor = await stranger.next_reply()
    for data in (
        f"ed:{event.activity_id}",
        f"ed:{event.activity_id}:f:capacity",
        f"ed:{event.activity_id}:ok",
        f"pub:new:{organization.organization_id}",
    ):
        await stranger.press_data(anchor.message_id, data)
        refusal = await stranger.callback_answer()
        assert refusal.text == "Sorry, you are not allowed to do that."
    volunteer = make_user("Vol")
    await add_volunteer(bot.db, volunteer.id, now=bot.clock())
    await volunteer.send("/help")
    anchor = await volunteer.next_reply()
    await volunteer.press_data(anchor.message_id, f"ed:{event.activity_id}:f:title")
    assert (await volunteer.callback_answer()).text == "Sorry, you are not allowed to do that."
    await volunteer.send("/new")
    await volunteer.wait_for_text("Only organizers of an approved organization")
    unchanged = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert unchanged is not None and unchanged.title == "Not yours" and unchanged.capacity == 4
    assert other.organization_id != organization.organization_id
    pending = await eventually(
        lambda: bot.db.fetch_all(
            "SELECT kind FROM outbox WHERE kind = ?", (NotificationKind.ACTIVITY_CHANGED.value,)
        ),
        lambda rows: True,
    )
    assert pending == []


async def open_editor(user: VirtualUser, activity: Activity) -> None:
    """The field menu of a published activity (what the manage card's ✏️ Edit opens)."""
    await user.send("/help")
    anchor = await user.next_reply()
    await user.press_data(anchor.message_id, f"ed:{activity.activity_id}")
    await user.wait_for_text("Which field")


async def changed_rows(bot: BotProcess) -> list[int]:
    """Who has an ACTIVITY_CHANGED notification (sent or not)."""
    rows = await bot.db.fetch_all(
        "SELECT telegram_id FROM outbox WHERE kind = ?",
        (NotificationKind.ACTIVITY_CHANGED.value,),
    )
    return [int(row["telegram_id"]) for row in rows]


async def test_edit_required_skills_keeps_who_signed_up_and_tells_nobody(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Ping")
    organization = await organizer(bot, boss)
    event = await add_activity(
        bot.db, organization, now=datetime.now(UTC), title="Skills please", capacity=3,
        starts_in=timedelta(days=4),
    )  # fmt: skip
    volunteer = make_user("Xia")
    await signed_up(bot, volunteer, event)  # has no skills at all

    await open_editor(boss, event)
    await boss.press("Required skills")
    await boss.wait_for_text("tap to select, then Done")
    await boss.press("First aid")
    picked = await boss.wait_for_text("tap to select, then Done")
    assert "✓ First aid" in picked.button_labels()
    await boss.press("Driving")
    await boss.wait_for_text("tap to select, then Done")
    await boss.press("✓ Driving")  # and unpicked again
    await boss.wait_for_text("tap to select, then Done")
    await boss.press("Done ➡️")
    confirm = await boss.wait_for_text("Change Required skills")
    assert "First aid" in (confirm.plain_text or "")
    assert "1 volunteer already signed up keeps the place" in (confirm.plain_text or "")
    await boss.press("✅ Confirm", message=confirm)
    await boss.wait_for_text("Saved")

    changed = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert changed is not None and changed.required_skills == ("first_aid",)
    assert changed.confirmed_count == 1
    signup = await bot.db.fetch_one(
        "SELECT s.status FROM signups s JOIN volunteers v USING (volunteer_id) "
        "WHERE v.telegram_id = ? AND s.activity_id = ?",
        (volunteer.id, event.activity_id),
    )
    assert signup is not None and signup["status"] == "confirmed"
    assert await changed_rows(bot) == []
    # The card volunteers see lists the requirement.
    await volunteer.start(f"act_{event.activity_id}")
    card = await volunteer.wait_for_text("Skills please")
    assert "First aid" in (card.plain_text or "")


async def test_edit_map_pin_tells_volunteers_and_can_remove_it(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Qing")
    organization = await organizer(bot, boss)
    event = await add_activity(
        bot.db, organization, now=datetime.now(UTC), title="Pin me", capacity=1,
        starts_in=timedelta(days=4),
    )  # fmt: skip
    first, second = make_user("Fu"), make_user("Gui")
    await signed_up(bot, first, event)
    full = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert full is not None
    await signed_up(bot, second, full)  # waitlisted: told too

    await open_editor(boss, event)
    await boss.press("Map pin")
    prompt = await boss.wait_for_text("Send the new pin")
    assert "🗑 Remove the map pin" not in prompt.button_labels()  # there is none yet
    await boss.send("over there")  # text is not a pin
    await boss.wait_for_text("Please send a location")
    await boss.share_location(28.2, 112.98)
    confirm = await boss.wait_for_text("2 signed-up or waiting volunteers will be told")
    await boss.press("✅ Confirm", message=confirm)
    await boss.wait_for_text("2 volunteers are being told")
    pinned = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert pinned is not None and (pinned.latitude, pinned.longitude) == (28.2, 112.98)
    for person in (first, second):
        news = await person.wait_for_text("Map pin moved")
        assert "🗺 Show on map" in news.button_labels()
    await first.press("🗺 Show on map")
    location = await first.next_reply()
    assert location.location == {"latitude": 28.2, "longitude": 112.98}

    await boss.press("✏️ Edit another field")
    await boss.wait_for_text("Which field")
    await boss.press("Map pin")
    await boss.wait_for_text("Send the new pin")
    await boss.press("🗑 Remove the map pin")
    confirm = await boss.wait_for_text("no map pin")
    await boss.press("✅ Confirm", message=confirm)
    await boss.wait_for_text("Saved")
    for person in (first, second):
        await person.wait_for_text("map pin was removed")
    removed = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert removed is not None and not removed.has_location
    assert (removed.confirmed_count, removed.waitlist_count) == (1, 1)
    assert sorted(await changed_rows(bot)) == sorted([first.id, second.id] * 2)


async def test_started_or_cancelled_activities_refuse_edits(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Rui")
    organization = await organizer(bot, boss)
    now = datetime.now(UTC)
    started = await add_activity(
        bot.db, organization, now=now - timedelta(hours=2), starts_at=now - timedelta(hours=1),
        title="Already going",
    )  # fmt: skip
    await boss.send("/help")
    anchor = await boss.next_reply()
    await boss.press_data(anchor.message_id, f"ed:{started.activity_id}:f:pin")
    refusal = await boss.callback_answer()
    assert refusal.text and "already started" in refusal.text


async def test_an_admin_without_membership_publishes_through_new(
    bot: BotProcess, make_user: MakeUser
) -> None:
    admin = make_user("Admin", user_id=ADMIN_ID)
    await add_user(bot.db, admin.id, first_name="Admin", now=bot.clock())
    for index in range(8):
        await add_organization(bot.db, name=f"Earlier org {index}", now=bot.clock())
    target = await add_organization(bot.db, name="Riverside elderly home", now=bot.clock())
    await admin.send("/new")
    first_page = await admin.wait_for_text("You are an administrator")
    assert "➕ Riverside elderly home" not in first_page.button_labels()
    await admin.press("›")
    await admin.wait_for_text("page 2 of")
    await admin.press("➕ Riverside elderly home")
    await admin.wait_for_text("the title")
    await admin.send("Admin-made visit")
    await admin.wait_for_text("kind of service")
    await admin.press("Health")
    await admin.wait_for_text("description")
    await admin.press("Skip")
    await admin.wait_for_text("when")
    await admin.send(f"{local_day(10):%Y-%m-%d} 09:00-10:00")
    await form_after_when(admin)
    await admin.press("✅ Publish")
    await admin.wait_for_text("is published")
    [published] = await activities_titled(bot, "Admin-made visit")
    assert published.organization_id == target.organization_id


async def test_a_screen_that_ends_at_once_does_not_take_over_a_half_filled_form(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Fang")
    await organizer(bot, boss)
    await boss.send("/new")
    await boss.wait_for_text("the title")
    # The organization home opens and ends at once: the /new form still reads typed answers.
    await boss.send("/organize")
    await boss.wait_for_text("You are an organizer")
    await boss.send("Blood pressure checks")
    await boss.wait_for_text("kind of service")
    # … and /cancel still belongs to the form.
    await boss.send("/cancel")
    reply = await boss.next_reply()
    assert "nothing to cancel" not in (reply.text or "")


@pytest.fixture
async def before_volunteer_day(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    """A bot whose clock reads 28 November 2026, a week before 12·5 (a key date)."""
    process = BotProcess(settings, ManualClock(datetime(2026, 11, 28, 9, tzinfo=SHANGHAI)))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def test_the_key_date_tag_is_shown_by_name(
    before_volunteer_day: BotProcess, make_user: MakeUser
) -> None:
    # The preview showed "🏷 Key date: intl_volunteer_day", the database code.
    bot = before_volunteer_day
    boss = make_user("Jing")
    await organizer(bot, boss)
    await form_to_when(boss, "Volunteer Day tea party")
    await boss.send("2026-12-05 09:00-11:30")
    preview = await form_after_when(boss, tag=True)
    text = preview.plain_text or ""
    assert "🏷 Key date: International Volunteer Day" in text
    assert "intl_volunteer_day" not in text


async def test_a_volunteers_forged_publishing_press_is_not_told_to_use_new(
    bot: BotProcess, make_user: Callable[..., VirtualUser]
) -> None:
    """Issue #13 item 8: refusals fit the person; /new is for organizers."""
    volunteer = make_user("Vic")
    await volunteer.send("/start")
    welcome = await volunteer.wait_for_text("Welcome")
    query = await volunteer.press_data(welcome.message_id, "pub:publish")
    reply = await volunteer.callback_answer(query)
    assert reply.text is not None and "no longer valid" in reply.text
    assert "/new" not in reply.text
    assert not any("/new" in (m.text or "") for m in volunteer.bot_messages())


# ------------------------------------------------ crashes, stale presses, Back (issue #13)


async def crash_and_restart(bot: BotProcess) -> None:
    """Like kill -9 right after a screen was shown (see ``conftest.crash``), then start again."""
    await crash(bot)
    await bot.start()


def data_of(message: StoredMessage) -> dict[str, str]:
    """The callback data of a message's buttons as drawn now (a later edit replaces them)."""
    return {str(b["text"]): str(b["callback_data"]) for b in message.buttons()}


async def draft_row(bot: BotProcess, user: VirtualUser) -> dict[str, object]:
    row = await bot.db.fetch_one(
        "SELECT step, data FROM activity_drafts WHERE telegram_id = ?", (user.id,)
    )
    assert row is not None
    return {"step": row["step"], "data": row["data"]}


async def test_new_goes_on_after_a_crash_right_after_each_step_is_shown(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Crash")
    await organizer(bot, boss)
    await boss.send("/new")
    await boss.wait_for_text("step 1 of 16")
    await crash_and_restart(bot)
    await boss.send("Crash-proof visit")
    await boss.wait_for_text("step 2 of 16")
    await crash_and_restart(bot)
    await boss.press("Health")
    await boss.wait_for_text("step 3 of 16")
    await crash_and_restart(bot)
    await boss.send("Visit and talk.")
    await boss.wait_for_text("step 4 of 16")
    await crash_and_restart(bot)
    await boss.send(f"{local_day(11):%Y-%m-%d} 09:00-10:00")
    await boss.wait_for_text("step 5 of 16")
    await crash_and_restart(bot)
    await boss.send("Wuyi Square")
    await boss.wait_for_text("step 6 of 16")
    await crash_and_restart(bot)
    await boss.share_location(28.19, 112.97)  # a pin, not text, after the crash
    await boss.wait_for_text("step 7 of 16")
    await crash_and_restart(bot)
    await boss.press("Furong District")
    await boss.wait_for_text("step 8 of 16")
    await crash_and_restart(bot)
    await boss.send("4")
    await boss.wait_for_text("step 9 of 16")
    row = await draft_row(bot, boss)
    assert row["step"] == "skills"
    assert "Crash-proof visit" in str(row["data"]) and '"capacity":4' in str(row["data"])


async def test_stale_presses_in_new_change_nothing_and_back_goes_one_step_back(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Stale")
    await organizer(bot, boss)
    await boss.send("/new")
    await boss.wait_for_text("step 1 of 16")
    await boss.send("Stale buttons")
    screen = await boss.wait_for_text("step 2 of 16")
    category = data_of(screen)
    await boss.press("Health")
    description = data_of(await boss.wait_for_text("step 3 of 16"))
    assert "⬅️ Back" in description
    await boss.send("Typed, not skipped.")
    await boss.wait_for_text("step 4 of 16")
    before = await draft_row(bot, boss)
    # The first screen now shows step 3; its buttons were drawn for steps 2 and 3.
    for data in (description["⬅️ Back"], description["Skip"], category["Health"]):
        await boss.press_data(screen.message_id, data)
        assert (await boss.callback_answer()).text == "This button is no longer valid."
    assert await draft_row(bot, boss) == before
    assert "step 3 of 16" in (bot_message(boss, screen.message_id).plain_text or "")

    # Back on the current step goes to the step before, numbered the same as going forward.
    await boss.press("⬅️ Back")
    await boss.wait_for_text("step 3 of 16")
    await boss.press("Skip")
    await boss.wait_for_text("step 4 of 16")
    await boss.send(f"{local_day(15):%Y-%m-%d} 14:00")  # a start only: the end is asked
    end = await boss.wait_for_text("When does it end")
    assert "step 4 of 16" in (end.plain_text or "")
    await boss.send("16:00")
    await boss.wait_for_text("step 5 of 16")
    await boss.press("⬅️ Back")  # the date is asked again from its start
    await boss.wait_for_text("step 4 of 16")
    row = await draft_row(bot, boss)
    assert row["step"] == "start" and '"description":""' in str(row["data"])


def bot_message(user: VirtualUser, message_id: int) -> StoredMessage:
    return next(m for m in user.bot_messages() if m.message_id == message_id)


async def test_publish_from_an_older_preview_is_refused(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Old preview")
    await organizer(bot, boss)
    await form_to_when(boss, "First title")
    await boss.send(f"{local_day(12):%Y-%m-%d} 09:00-11:30")
    preview = await form_after_when(boss)
    old_publish = data_of(preview)["✅ Publish"]
    await boss.press("✏️ Edit a field")
    await boss.wait_for_text("Which field")
    await boss.press("Title")
    await boss.wait_for_text("step 1 of 16")
    await boss.send("Second title")
    fresh = await boss.wait_for_text("Preview")
    assert fresh.message_id != preview.message_id
    # The first preview's Publish showed "First title": it publishes nothing now.
    await boss.press_data(preview.message_id, old_publish)
    assert (await boss.callback_answer()).text == "This button is no longer valid."
    assert await activities_titled(bot, "Second title") == []
    await boss.press("✅ Publish", message=fresh)
    await boss.wait_for_text("is published")
    assert len(await activities_titled(bot, "Second title")) == 1


async def test_stale_or_forged_form_presses_fit_the_person(
    bot: BotProcess, make_user: MakeUser
) -> None:
    volunteer = make_user("Just a volunteer")
    await add_volunteer(bot.db, volunteer.id, now=bot.clock())
    await volunteer.send("/help")
    anchor = await volunteer.next_reply()
    for data in ("pub.pick:category:0123456789:health", "pub:cat:health", "pub.save:12"):
        await volunteer.press_data(anchor.message_id, data)
        answer = await volunteer.callback_answer()
        assert answer.text == "This button is no longer valid.", data
    boss = make_user("Organizer without a draft")
    await organizer(bot, boss)
    await boss.send("/help")
    anchor = await boss.next_reply()
    await boss.press_data(anchor.message_id, "pub.save:12")
    answer = await boss.callback_answer()
    assert answer.text is not None and "/new" in answer.text


async def test_editing_goes_on_after_a_crash_and_an_older_confirmation_is_refused(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Editor")
    organization = await organizer(bot, boss)
    event = await add_activity(
        bot.db, organization, now=datetime.now(UTC), title="Crash edit", capacity=5,
        starts_in=timedelta(days=5),
    )  # fmt: skip
    await open_editor(boss, event)
    await boss.press("Volunteers needed")
    await boss.wait_for_text("number of volunteers")
    await crash_and_restart(bot)
    await boss.send("3")
    first = await boss.wait_for_text("Change Volunteers needed")
    await crash_and_restart(bot)
    await boss.send("2")  # changed their mind: a second confirmation
    second = await boss.wait_for_text("Change Volunteers needed")
    assert second.message_id != first.message_id
    await boss.press("✅ Confirm", message=first)
    assert (await boss.callback_answer()).text == "This button is no longer valid."
    unchanged = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert unchanged is not None and unchanged.capacity == 5
    await crash_and_restart(bot)
    await boss.press("✅ Confirm", message=second)
    await boss.wait_for_text("Saved")
    changed = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert changed is not None and changed.capacity == 2

    # A map pin after a crash right after its screen.
    await boss.press("✏️ Edit another field")
    await boss.wait_for_text("Which field")
    await boss.press("Map pin")
    await boss.wait_for_text("Send the new pin")
    await crash_and_restart(bot)
    await boss.share_location(28.21, 112.99)
    confirm = await boss.wait_for_text("Change Map pin")
    await boss.press("✅ Confirm", message=confirm)
    await boss.wait_for_text("Saved")
    pinned = await ActivitiesRepository(bot.db).get(event.activity_id)
    assert pinned is not None and (pinned.latitude, pinned.longitude) == (28.21, 112.99)


async def test_a_stale_toggle_or_done_while_editing_is_refused(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss = make_user("Toggler")
    organization = await organizer(bot, boss)
    event = await add_activity(
        bot.db, organization, now=datetime.now(UTC), title="Toggle me", capacity=3,
        starts_in=timedelta(days=4),
    )  # fmt: skip
    await open_editor(boss, event)
    await boss.press("Required skills")
    screen = await boss.wait_for_text("tap to select, then Done")
    drawn = data_of(screen)
    await boss.press("First aid")
    await boss.wait_for_text("tap to select, then Done")
    # Done as drawn before the toggle would confirm the selection without First aid.
    await boss.press_data(screen.message_id, drawn["Done ➡️"])
    assert (await boss.callback_answer()).text == "This button is no longer valid."
    await boss.press("Done ➡️")
    confirm = await boss.wait_for_text("Change Required skills")
    assert "First aid" in (confirm.plain_text or "")
