"""The staff forms as flows owned by the database: a crash right after a question is shown
loses nothing (issue #13 item 9), and a button from an older screen acts on what the user saw
or is refused, changing nothing (issue #13 item 1). Also: a broadcast held by quiet hours says
so, and Refresh answers (issue #13 item 12)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import OrganizationStatus, OrganizationType
from bot.domain.users import Role
from bot.localapi import StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from handlers.key_dates import KdEnable
from handlers.organize import OrgPickType
from storage.keydates import KeyDatesRepository
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess, crash, eventually
from tests.factories import add_organization, add_volunteer

MakeUser = Callable[..., VirtualUser]


async def started(make_user: MakeUser, name: str, **kwargs: object) -> VirtualUser:
    user = make_user(name, **kwargs)
    await user.start()
    await user.wait_for_text("Welcome")
    return user


async def flow_of(bot: BotProcess, telegram_id: int) -> tuple[str, str] | None:
    row = await bot.db.fetch_one(
        "SELECT flow, waiting_for FROM flow_owners WHERE telegram_id = ?", (telegram_id,)
    )
    return (row["flow"], row["waiting_for"]) if row is not None else None


async def org_draft(bot: BotProcess, telegram_id: int) -> tuple[str, str] | None:
    row = await bot.db.fetch_one(
        "SELECT step, data FROM organization_drafts WHERE telegram_id = ?", (telegram_id,)
    )
    return (row["step"], row["data"]) if row is not None else None


def data_of(message: StoredMessage, label: str) -> str:
    button = next(b for b in message.buttons() if b.get("text") == label)
    return str(button["callback_data"])


# ------------------------------------------------------------------ organization application


async def test_organization_application_survives_a_crash_after_each_typed_question(
    bot: BotProcess, make_user: MakeUser
) -> None:
    applicant = make_user("Zhang")
    await applicant.send("/organize")
    await applicant.wait_for_text("full name")
    await crash(bot)
    await bot.start()
    await applicant.send("Crash Test Team")
    await applicant.wait_for_text("what type")
    await applicant.press("Volunteer service team")
    await applicant.wait_for_text("which area")
    await applicant.press("Furong District")
    await applicant.wait_for_text("contact person")
    await crash(bot)
    await bot.start()
    await applicant.send("张伟")
    await applicant.wait_for_text("phone number")
    await crash(bot)
    await bot.start()
    await applicant.send("138 1234 5678")
    await applicant.wait_for_text("description")
    await crash(bot)
    await bot.start()
    await applicant.send("We visit elderly people living alone in Furong.")
    review = await applicant.wait_for_text("Please check your application")
    assert "Crash Test Team" in review.visible_text
    assert "About the organization" in review.visible_text
    await applicant.press("📨 Submit the application")
    await applicant.wait_for_text("sent to the administrators")
    assert await flow_of(bot, applicant.id) is None
    found = await OrganizationsRepository(bot.db).applications_of(
        applicant.id, [OrganizationStatus.PENDING]
    )
    assert [organization.name for organization in found] == ["Crash Test Team"]


async def test_stale_buttons_of_the_application_form_change_nothing(
    bot: BotProcess, make_user: MakeUser
) -> None:
    applicant = make_user("Wang")
    await applicant.send("/organize")
    await applicant.wait_for_text("full name")
    await applicant.send("Stale Button Team")
    type_screen = await applicant.wait_for_text("what type")
    await applicant.press("School")
    await applicant.wait_for_text("which area")
    await applicant.press("Furong District")
    await applicant.wait_for_text("contact person")
    await applicant.send("李雷")
    phone_screen = await applicant.wait_for_text("phone number")
    await applicant.send("138 1234 5678")
    description_screen = await applicant.wait_for_text("description")
    before = await org_draft(bot, applicant.id)
    assert before is not None and before[0] == "description"

    # The phone step's Back, pressed while the form asks for the description: refused.
    await applicant.press("⬅️ Back", message=phone_screen)
    refused = await applicant.callback_answer()
    assert "earlier screen of the form" in (refused.text or "")
    # A type button (forged onto the type screen, which has moved on): refused as well.
    kind = OrgPickType(OrganizationType.ENTERPRISE).pack()
    await applicant.press_data(type_screen.message_id, kind)
    refused = await applicant.callback_answer()
    assert "earlier screen of the form" in (refused.text or "")
    assert await org_draft(bot, applicant.id) == before
    assert await flow_of(bot, applicant.id) == ("organize", "description")
    # Neither old message was rewritten; the description step still takes the answer.
    old = applicant.server.message(applicant.bot, applicant.chat_id, phone_screen.message_id)
    assert old.visible_text == phone_screen.visible_text
    assert description_screen.button_labels() == ["⬅️ Back"]
    # The current step's own Back still works.
    await applicant.press("⬅️ Back", message=description_screen)
    await applicant.wait_for_text("phone number")


# ------------------------------------------------------------------------- admin typed input


async def test_admin_input_survives_a_crash_after_the_question(
    bot: BotProcess, make_user: MakeUser
) -> None:
    admin = await started(make_user, "Boss", user_id=ADMIN_ID)
    helper = make_user("Sun")
    helper.info = dataclasses.replace(helper.info, username="sun_crash")
    await helper.start()
    await helper.wait_for_text("Welcome")

    await admin.send("/admin")
    await admin.wait_for_text("Administrator panel")
    await admin.press("👮 Administrators")
    await admin.wait_for_text("Administrators")
    await admin.press("➕ Appoint an administrator")
    await admin.wait_for_text("user id")
    await crash(bot)
    await bot.start()
    await admin.send("@sun_crash")
    await admin.wait_for_text("is now an administrator")
    user = await UsersRepository(bot.db).get(helper.id)
    assert user is not None and user.role is Role.ADMIN
    assert await flow_of(bot, admin.id) is None


async def test_a_stale_reject_after_the_decision_is_refused_and_takes_no_input(
    bot: BotProcess, make_user: MakeUser
) -> None:
    admin = await started(make_user, "Boss", user_id=ADMIN_ID)
    organization = await add_organization(
        bot.db, name="Late Team", status=OrganizationStatus.PENDING, now=bot.clock()
    )
    await admin.send("/admin")
    await admin.wait_for_text("Administrator panel")
    await admin.press("📥 Applications (1)")
    await admin.wait_for_text("Applications waiting for review")
    await admin.press("Late Team · ⏳ waiting for review")
    card = await admin.wait_for_text("Contact person")
    reject = data_of(card, "❌ Reject")  # the card becomes the question: keep what it offered
    await admin.press("❌ Reject", message=card)
    await admin.wait_for_text("Type the reason")
    await crash(bot)
    await bot.start()
    await admin.send("Duplicate of another team")
    await admin.wait_for_text("Late Team is rejected")

    # The card's Reject pressed again (an older copy, e.g. the notification): already decided,
    # and nothing waits for a reason.
    await admin.press_data(card.message_id, reject)
    reply = await admin.callback_answer()
    assert "already decided by Boss" in (reply.text or "")
    assert await flow_of(bot, admin.id) is None
    stored = await OrganizationsRepository(bot.db).details(organization.organization_id)
    assert stored is not None and stored.status_reason == "Duplicate of another team"


# --------------------------------------------------------------------------------- key dates


async def test_key_date_editing_survives_a_crash_after_the_question(
    bot: BotProcess, make_user: MakeUser
) -> None:
    admin = await started(make_user, "Boss", user_id=ADMIN_ID)
    await admin.send("/admin")
    await admin.wait_for_text("Administrator panel")
    await admin.press("🗓 Key dates")
    await admin.wait_for_text("Key dates")
    await admin.press("✅ Learn from Lei Feng Day")
    await admin.wait_for_text("Chinese name")
    await admin.press("✏️ Date")
    await admin.wait_for_text("month-day")
    await crash(bot)
    await bot.start()
    await admin.send("3-6")
    await admin.wait_for_text("Date saved")
    key_dates = KeyDatesRepository(bot.db)
    lei_feng = await key_dates.get("lei_feng")
    assert lei_feng is not None and (lei_feng.month, lei_feng.day) == (3, 6)
    assert await key_dates.get_draft(admin.id) is None
    assert await flow_of(bot, admin.id) is None

    # Adding: a crash between the names keeps the Chinese name typed before it.
    await admin.press("⬅️ Key dates")
    await admin.wait_for_text("Organizers hear about each one")
    await admin.press("➕ Add a key date")
    await admin.wait_for_text("Chinese name")
    await admin.send("植树节")
    await admin.wait_for_text("English name")
    await crash(bot)
    await bot.start()
    await admin.send("Arbor Day")
    await admin.wait_for_text("month-day")
    await admin.send("3-12")
    added = await admin.wait_for_text("Key date added")
    assert "植树节" in added.visible_text


async def test_an_old_disable_button_disables_and_never_toggles(
    bot: BotProcess, make_user: MakeUser
) -> None:
    admin = await started(make_user, "Boss", user_id=ADMIN_ID)
    await admin.send("/admin")
    panel = await admin.wait_for_text("Administrator panel")
    key_dates = KeyDatesRepository(bot.db)
    disable = KdEnable("youth_day", False).pack()
    await admin.press_data(panel.message_id, disable)
    screen = await admin.wait_for_text("Disabled")
    assert "✅ Enable" in screen.button_labels()
    # The same Disable again (an older copy of the screen): it disables, it does not toggle.
    await admin.press_data(panel.message_id, disable)
    await admin.callback_answer()
    youth_day = await key_dates.get("youth_day")
    assert youth_day is not None and not youth_day.is_enabled


# ------------------------------------------------------------------------ broadcast composer

BROADCAST_ADMIN = 9200


def clocked(settings: Settings, when: datetime) -> BotProcess:
    return BotProcess(
        settings.model_copy(update={"admin_ids": frozenset({BROADCAST_ADMIN})}),
        clock=ManualClock(when),
    )


@pytest.fixture
async def morning_bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    # Monday 10:00 in Shanghai: outside everyone's quiet hours.
    process = clocked(settings, datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture
async def night_bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    # Monday 23:00 in Shanghai: inside the default quiet hours (22:00–08:00).
    process = clocked(settings, datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def broadcasts(bot: BotProcess) -> int:
    row = await bot.db.fetch_one("SELECT COUNT(*) AS n FROM broadcasts")
    assert row is not None
    return int(row["n"])


async def test_broadcast_composer_survives_a_crash_and_refuses_an_outdated_preview(
    morning_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = morning_bot
    admin = make_user("Admin", user_id=BROADCAST_ADMIN)
    reader = make_user("Reader")
    await add_volunteer(bot.db, reader.id, area_code="furong", now=bot.clock())
    await reader.start()
    await reader.next_reply()

    await admin.send("/broadcast")
    await admin.wait_for_text("Type the announcement")
    await crash(bot)
    await bot.start()
    await admin.send("First version")
    await admin.wait_for_text("Who should receive it?")
    await admin.press("👥 All volunteers (1)")
    old_preview = await admin.wait_for_text("exactly what 1 recipient will see")
    old_send = data_of(old_preview, "✅ Send to 1 person")

    # A new broadcast is begun while the old preview stays in the chat: its Send must not send
    # the new text unseen.
    await admin.send("/broadcast")
    await admin.wait_for_text("Type the announcement")
    await crash(bot)
    await bot.start()
    await admin.send("Second version")
    await admin.wait_for_text("Who should receive it?")
    await admin.press("👥 All volunteers (1)")
    new_preview = await admin.wait_for_text("exactly what 1 recipient will see")
    await admin.press_data(old_preview.message_id, old_send)
    refused = await admin.callback_answer()
    assert "out of date" in (refused.text or "")
    assert await broadcasts(bot) == 0

    await admin.press("✅ Send to 1 person", message=new_preview)
    await admin.wait_for_text("Broadcast #1")
    received = await reader.wait_for_text("Announcement")
    assert received.visible_text.endswith("Second version")
    assert await flow_of(bot, admin.id) is None


async def test_a_broadcast_at_night_says_it_is_held_until_morning(
    night_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = night_bot
    admin = make_user("Admin", user_id=BROADCAST_ADMIN)
    sleepers = [make_user("Night"), make_user("Owl")]
    for user in sleepers:
        await add_volunteer(bot.db, user.id, area_code="furong", now=bot.clock())
        await user.start()
        await user.next_reply()

    await admin.send("/broadcast")
    await admin.wait_for_text("Type the announcement")
    await admin.send("Water cut tomorrow morning")
    await admin.wait_for_text("Who should receive it?")
    await admin.press("👥 All volunteers (2)")
    await admin.wait_for_text("exactly what 2 recipients will see")
    await admin.press("✅ Send to 2 people")
    progress = await admin.wait_for_text("Broadcast #1")

    # Delivery defers both rows to 08:00 (their quiet hours); Refresh says so, and answers.
    await eventually(
        lambda: bot.db.fetch_one(
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'broadcast' "
            "AND last_error = 'quiet hours'"
        ),
        lambda row: row is not None and row["n"] == 2,
    )
    await admin.press("🔄 Refresh", message=progress)
    answered = await admin.callback_answer()
    assert answered.text == "Updated 23:00"
    refreshed = await admin.wait_for_text("Held until 08:00 for 2 people")
    assert "Pending: 2" in refreshed.visible_text
    for user in sleepers:
        assert all("Water cut" not in m.visible_text for m in user.bot_messages())
