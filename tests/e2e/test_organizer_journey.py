"""The organizer's whole journey through the real UI, to find the seams between the modules
that build it (organize, admin, publish, browse/signup, manage, recruit, delivery).

Every hand-over is a button the previous screen shows (organization home → 📋 Activities → the
activity's management card → …), so a broken link between two modules fails here even when
each module's own tests pass. Only the volunteers' profiles are stored through the repositories
(registration has its own end-to-end tests). The clock is a ManualClock at 10:00 Shanghai time,
so invitations (which wait out quiet hours) go out at once.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import Activity, ActivityStatus, MemberRole, OrganizationStatus
from bot.domain.volunteers import VolunteerProfile
from bot.localapi import LocalBotApi, StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from storage.activities import ActivitiesRepository
from storage.organizations import OrganizationsRepository
from tests.e2e.conftest import ADMIN_ID, TOKEN, BotProcess, eventually
from tests.e2e.flows import answer_consent_to_area
from tests.factories import add_activity, add_organization, add_volunteer

MakeUser = Callable[..., VirtualUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")
TITLE = "Riverside tree planting"


@pytest.fixture
async def clocked_bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    morning = datetime.now(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0)
    process = BotProcess(settings, clock=ManualClock(morning))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


def local_day(bot: BotProcess, days: int) -> date:
    return (bot.clock().astimezone(SHANGHAI) + timedelta(days=days)).date()


async def registered(bot: BotProcess, user: VirtualUser, name: str) -> VolunteerProfile:
    """A registered volunteer who has opened a chat with the bot."""
    await user.start()
    await user.wait_for_text("Welcome")
    return await add_volunteer(bot.db, user.id, name=name, now=bot.clock())


async def download(api: LocalBotApi, message: StoredMessage) -> bytes:
    """Fetch a document the bot sent the way a client does: getFile, then the file URL."""
    assert message.document is not None
    async with httpx.AsyncClient() as client:
        found = await client.get(
            f"{api.url}/bot{TOKEN}/getFile", params={"file_id": message.document.file_id}
        )
        path = found.json()["result"]["file_path"]
        url = path if path.startswith("http") else f"{api.file_url}{TOKEN}/{path}"
        response = await client.get(url)
    response.raise_for_status()
    return response.content


async def published(bot: BotProcess, title: str) -> Activity:
    rows = await bot.db.fetch_all("SELECT activity_id FROM activities WHERE title = ?", (title,))
    [row] = rows
    found = await ActivitiesRepository(bot.db).get(row["activity_id"])
    assert found is not None
    return found


async def reminder_starts(bot: BotProcess) -> list[datetime]:
    """The start times the planned reminders are for."""
    rows = await bot.db.fetch_all("SELECT payload FROM outbox WHERE kind = 'reminder'")
    return [datetime.fromisoformat(json.loads(row["payload"])["starts_at"]) for row in rows]


async def apply_and_get_approved(admin: VirtualUser, applicant: VirtualUser) -> None:
    await applicant.send("/organize")
    await applicant.wait_for_text("full name")
    await applicant.send("Xiangjiang Green Volunteers")
    await applicant.wait_for_text("what type")
    await applicant.press("Volunteer service team")
    await applicant.wait_for_text("which area")
    await applicant.press("Furong District")
    await applicant.wait_for_text("contact person")
    await applicant.send("张伟")
    await applicant.wait_for_text("phone number")
    await applicant.send("138 1234 5678")
    await applicant.wait_for_text("description")
    await applicant.send("We plant trees along the Xiang river every spring.")
    await applicant.wait_for_text("Please check your application")
    await applicant.press("📨 Submit the application")
    await applicant.wait_for_text("sent to the administrators")

    card = await admin.wait_for_text("New organization application")
    assert "Xiangjiang Green Volunteers" in (card.plain_text or "")
    await admin.press("✅ Approve", message=card)
    await admin.wait_for_text("is approved")
    await applicant.wait_for_text("is approved!")


async def publish_from_home(bot: BotProcess, organizer: VirtualUser, day: date) -> None:
    """The co-organizer opens the organization home and publishes with a typed date."""
    await organizer.send("/organize")
    home = await organizer.wait_for_text("You are an organizer of this organization")
    assert "👥 Co-organizers" not in home.button_labels()
    await organizer.press("➕ New activity")
    await organizer.wait_for_text("the title")
    await organizer.send(TITLE)
    await organizer.wait_for_text("kind of service")
    await organizer.press("Health")
    await organizer.wait_for_text("description")
    await organizer.send("Plant saplings and water them; gloves and tools are provided.")
    await organizer.wait_for_text("when")
    await organizer.send("2月30日 9:00")
    await organizer.wait_for_text("That date does not exist")
    await organizer.send(f"{day:%Y-%m-%d} 09:00-11:30")
    await organizer.wait_for_text("the place")
    await organizer.send("Riverside park, north gate")
    await organizer.wait_for_text("map pin")
    await organizer.share_location(28.196, 112.972)
    await organizer.wait_for_text("district")
    await organizer.press("Furong District")
    await organizer.wait_for_text("are needed")
    await organizer.send("4")
    await organizer.wait_for_text("required skills")
    await organizer.press("Done ➡️")
    await organizer.wait_for_text("training")
    await organizer.press("✓ No training needed")
    await organizer.wait_for_text("volunteer service")
    await organizer.press("✓ Yes")
    await organizer.wait_for_text("adults (18+) only")
    await organizer.press("No")
    await organizer.wait_for_text("people served")
    await organizer.press("Done ➡️")
    await organizer.wait_for_text("sign-up deadline")
    await organizer.press("No deadline")
    await organizer.wait_for_text("person in charge")
    await organizer.send("李明")
    reply = await organizer.next_reply()
    if "close to" in (reply.plain_text or ""):  # a key date nearby: no tag
        await organizer.press("No tag")
        reply = await organizer.wait_for_text("Preview")
    assert "Preview" in (reply.plain_text or "")
    await organizer.press("✅ Publish")
    await organizer.wait_for_text("is published")


async def open_management_card(organizer: VirtualUser, *, from_menu: bool = False) -> StoredMessage:
    """Organization home (/organize, or the main menu's entry) → 📋 Activities → the
    activity's management card."""
    if from_menu:
        await organizer.send("/start")
        await organizer.wait_for_text("Welcome")
        await organizer.press("🏢 For organizers")
    else:
        await organizer.send("/organize")
    await organizer.wait_for_text("of this organization")
    await organizer.press("📋 Activities")
    listing = await organizer.wait_for_text("Activities of Xiangjiang Green Volunteers")
    assert TITLE in (listing.plain_text or "")
    await organizer.press(f"1. {TITLE}")
    return await organizer.wait_for_text("signed up")


async def sign_up_from_menu(volunteer: VirtualUser) -> None:
    await volunteer.send("/menu")
    menu = await volunteer.wait_for_text("Service menu")
    assert "Health (1)" in menu.button_labels()
    await volunteer.press("Health (1)")
    page = await volunteer.wait_for_text("open activities")
    assert TITLE in (page.plain_text or "")
    await volunteer.press(f"1. {TITLE}")
    await volunteer.wait_for_text("Xiangjiang Green Volunteers")
    await volunteer.press("✋ Sign up")
    await volunteer.wait_for_text("You are signed up!")


async def test_organizer_journey_from_application_to_cancellation(
    clocked_bot: BotProcess, make_user: MakeUser, api: LocalBotApi
) -> None:
    bot = clocked_bot
    admin = make_user("Boss", user_id=ADMIN_ID)
    await admin.start()
    await admin.wait_for_text("Welcome")
    manager = make_user("Zhang")
    await apply_and_get_approved(admin, manager)
    repo = OrganizationsRepository(bot.db)
    [organization] = await repo.applications_of(manager.id, [OrganizationStatus.APPROVED])
    oid = organization.organization_id

    # The manager invites a co-organizer from the organization home.
    await manager.press("🏢 Organization home")
    await manager.wait_for_text("You are a manager")
    await manager.press("👥 Co-organizers")
    await manager.wait_for_text("Members of")
    await manager.press("🔗 Create an invitation link")
    link = await manager.wait_for_text("Send this link")
    match = re.search(r"start=inv_([A-Za-z0-9_-]+)", link.plain_text or "")
    assert match is not None
    helper = make_user("Li")
    await helper.start(f"inv_{match.group(1)}")
    await helper.wait_for_text("invited to join")
    await helper.press("✅ Join")
    await helper.wait_for_text("co-organizer of Xiangjiang Green Volunteers")
    assert await repo.membership(oid, helper.id) is MemberRole.ORGANIZER

    # The co-organizer publishes from the organization home, a bad date refused first.
    day = local_day(bot, 10)
    await publish_from_home(bot, helper, day)
    activity = await published(bot, TITLE)
    assert activity.organization_id == oid
    assert activity.starts_at == datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI)
    assert activity.ends_at == datetime(day.year, day.month, day.day, 11, 30, tzinfo=SHANGHAI)
    aid = activity.activity_id

    # Volunteers: two sign up from the service menu, one is a candidate to invite, one has
    # switched invitations off in their profile.
    ann, bo, cy, dee = (make_user(name) for name in ("Ann", "Bo", "Cy", "Dee"))
    profiles = {
        user.id: await registered(bot, user, name)
        for user, name in ((ann, "Zhang Ann"), (bo, "Li Bo"), (cy, "Wang Cy"), (dee, "Zhao Dee"))
    }
    await sign_up_from_menu(ann)
    await sign_up_from_menu(bo)
    await dee.send("/profile")
    await dee.wait_for_text("My volunteer profile")
    await dee.press("🔔 Notifications")
    await dee.wait_for_text("Tap to switch each kind on or off")
    await dee.press("✅ Invitations from organizers")
    switched = await dee.next_reply()
    assert "🚫 Invitations from organizers" in switched.button_labels()

    # The roster, through the organization home and the activities list.
    card = await open_management_card(helper)
    assert "2 of 4 signed up" in (card.plain_text or "")
    await helper.press("👥 Roster")
    roster = await helper.wait_for_text(f"Roster: {TITLE}")
    text = roster.plain_text or ""
    assert text.index("Zhang Ann") < text.index("Li Bo")
    for user in (ann, bo):
        phone = profiles[user.id].phone  # +8613800001234 → shown as +86 138 0000 1234
        assert f"+86 {phone[3:6]} {phone[6:10]} {phone[10:]}" in text

    await helper.press("📄 Export CSV")
    sent = await helper.wait_for_text(f"Roster of “{TITLE}”: 2 people")
    assert sent.document is not None and sent.document.file_name.endswith(".csv")
    data = await download(api, sent)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Name", "Phone"]
    assert [row[0] for row in rows[1:]] == ["Zhang Ann", "Li Bo"]
    assert rows[1][1].replace(" ", "") == profiles[ann.id].phone.removeprefix("+86")

    await helper.press("📊 Export Excel")
    sent = await helper.wait_for_text(f"Roster of “{TITLE}”")
    assert sent.document is not None and sent.document.file_name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(await download(api, sent))).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Name" and [row[0] for row in values[1:]] == ["Zhang Ann", "Li Bo"]

    # Edit the time from the management card: both volunteers are told.
    await helper.press("⬅️ Back")
    await helper.wait_for_text("2 of 4 signed up")
    await helper.press("✏️ Edit")
    await helper.wait_for_text("Which field")
    await helper.press("Date and time")
    await helper.wait_for_text("Type the new date and time")
    later = local_day(bot, 11)
    await helper.send(f"{later:%Y-%m-%d} 14:00-16:00")
    confirm = await helper.wait_for_text("2 signed-up or waiting volunteers will be told")
    await helper.press("✅ Confirm", message=confirm)
    await helper.wait_for_text("Saved")
    for user in (ann, bo):
        notice = await user.wait_for_text("Time changed", timeout=10)
        assert TITLE in (notice.plain_text or "")
    moved = await published(bot, TITLE)
    assert moved.starts_at == datetime(later.year, later.month, later.day, 14, tzinfo=SHANGHAI)
    # Reminders are planned again for the new time (the old ones go stale).
    planned = await reminder_starts(bot)
    assert planned.count(moved.starts_at) == 2 * len(bot.settings.reminder_offsets)

    # Find volunteers from the management card: the opted-out volunteer is not listed. The
    # way there checks the back buttons: card → list → home, then in again from the menu.
    await open_management_card(helper)
    await helper.press("⬅️ Activities")
    await helper.wait_for_text("Activities of Xiangjiang Green Volunteers")
    await helper.press("⬅️ Back")
    await helper.wait_for_text("You are an organizer of this organization")
    await open_management_card(helper, from_menu=True)
    await helper.press("🔎 Find volunteers")
    found = await helper.wait_for_text(f"Volunteers for “{TITLE}”")
    text = found.plain_text or ""
    assert "Wang Cy" in text
    assert "Zhao Dee" not in text and "Zhang Ann" not in text and "Li Bo" not in text
    assert "+86" not in text
    await helper.press("📨 Invite the top 1")
    await helper.wait_for_text("Invite the top 1 volunteer")
    await helper.press("📨 Yes, invite them")
    await helper.wait_for_text("1 volunteer invited")
    invitation = await cy.wait_for_text("Xiangjiang Green Volunteers invites you", timeout=10)
    assert TITLE in (invitation.plain_text or "")
    assert not any("invites you" in (m.plain_text or "") for m in dee.bot_messages())

    # Cancel with a typed reason from the management card: the volunteers are told.
    await helper.press("⬅️ Back to the activity")
    await helper.wait_for_text("2 of 4 signed up")
    await helper.press("❌ Cancel activity")
    await helper.wait_for_text("Why?")
    await helper.press("✍️ Type a reason")
    await helper.wait_for_text("Type the reason")
    await helper.send("The park is closed for flood repairs.")
    await helper.wait_for_text("2 people signed up or waiting will be told")
    await helper.press("❌ Yes, cancel the activity")
    await helper.wait_for_text("The activity is cancelled")
    for user in (ann, bo):
        told = await user.wait_for_text("Activity cancelled", timeout=10)
        assert "flood repairs" in (told.plain_text or "")
    stored = await published(bot, TITLE)
    assert stored.status is ActivityStatus.CANCELLED
    assert stored.cancel_reason == "The park is closed for flood repairs."
    await eventually(
        lambda: bot.db.fetch_all(
            "SELECT 1 FROM outbox WHERE kind = 'activity_cancelled' AND status = 'sent'"
        ),
        lambda sent_rows: len(sent_rows) == 2,
    )
    # The invitation's Sign up, pressed after the cancellation, signs nobody up.
    await cy.press("✋ Sign up", message=invitation)
    refusal = await cy.next_reply()
    assert "cancelled" in (refusal.plain_text or "").lower(), refusal.plain_text
    assert (await published(bot, TITLE)).confirmed_count == 0

    # When the reminders come due, none of them is sent: the activity is cancelled.
    clock = bot.clock
    assert isinstance(clock, ManualClock)
    clock.set(moved.starts_at - timedelta(hours=1))
    await eventually(
        lambda: bot.db.fetch_all(
            "SELECT status FROM outbox WHERE kind = 'reminder' AND status <> 'dropped'"
        ),
        lambda rows: rows == [],
        timeout=10,
    )
    for user in (ann, bo):
        assert not any("Reminder" in (m.plain_text or "") for m in user.bot_messages())

    # The manager sees the co-organizer's activity too, then removes the co-organizer: the
    # management card still on the co-organizer's screen stops working.
    await manager.send("/organize")
    await manager.wait_for_text("You are a manager of this organization")
    await manager.press("📋 Activities")
    await manager.wait_for_text("Activities of Xiangjiang Green Volunteers")
    await manager.press("🕘 Ended")
    past = await manager.wait_for_text("Activities of Xiangjiang Green Volunteers")
    assert TITLE in (past.plain_text or "")
    await manager.press("⬅️ Back")
    await manager.wait_for_text("You are a manager of this organization")
    await manager.press("👥 Co-organizers")
    await manager.wait_for_text("Members of")
    await manager.press("➖ Remove Li")
    await manager.wait_for_text("Remove Li from the organization?")
    await manager.press("✅ Yes, remove")
    await manager.wait_for_text("Li is no longer a member")
    await helper.press("👥 Roster")
    assert (await helper.callback_answer()).text == "Sorry, you are not allowed to do that."
    await helper.send("/organize")
    await helper.wait_for_text("full name")  # no organization any more: the application form
    assert aid == stored.activity_id


async def test_typed_text_goes_to_the_flow_entered_last(
    bot: BotProcess, make_user: MakeUser
) -> None:
    # A newcomer leaves the /organize form at the name step and starts registering: the typed
    # name is the registration's, and the application draft keeps its empty name.
    newcomer = make_user("Mei")
    await newcomer.send("/organize")
    await newcomer.wait_for_text("full name")
    await newcomer.send("/register")
    await answer_consent_to_area(newcomer, "Chen Mei", "1995-03-08")
    await newcomer.wait_for_text("where do you live")
    rows = await bot.db.fetch_all("SELECT * FROM organization_drafts")
    assert all("Chen Mei" not in str(dict(row)) for row in rows)

    # The other way round: a newcomer leaves the registration at the name step and opens
    # the form from the main menu; the typed name is the organization's, not theirs.
    other = make_user("Qing")
    await other.send("/register")
    await other.wait_for_text("Before you register")
    await other.press("✅ I accept")
    await other.wait_for_text("your real name")
    await other.send("/start")
    await other.wait_for_text("Welcome")
    await other.press("🏢 For organizers")
    await other.wait_for_text("full name")
    await other.send("Yuelu Night School")
    await other.wait_for_text("what type")
    await other.press("School")
    await other.wait_for_text("which area")
    registration = await bot.db.fetch_one(
        "SELECT * FROM registration_drafts WHERE telegram_id = ?", (other.id,)
    )
    assert registration is None or "Yuelu Night School" not in str(dict(registration))

    # A registered volunteer leaves the form at the contact step and searches: the
    # location pin is the "Near me" search's, and the words typed after /search are the
    # search's.
    volunteer = make_user("Tao")
    await add_volunteer(bot.db, volunteer.id, name="Tao Lin", now=bot.clock())
    organization = await add_organization(bot.db, now=bot.clock())
    await add_activity(bot.db, organization, title="Library reading hour", now=bot.clock())
    await volunteer.send("/organize")
    await volunteer.wait_for_text("full name")
    await volunteer.send("Tianxin Reading Club")
    await volunteer.wait_for_text("what type")
    await volunteer.press("Volunteer service team")
    await volunteer.wait_for_text("which area")
    await volunteer.press("Furong District")
    await volunteer.wait_for_text("contact person")
    await volunteer.send("/menu")
    await volunteer.wait_for_text("Service menu")
    await volunteer.press("📍 Near me")
    await volunteer.wait_for_text("Share my location")
    await volunteer.tap_reply_button("📍 Share my location")
    await volunteer.wait_for_text("Near you")
    # "/search words" is a one-off command; a bare /search asks for the words, and the next
    # typed text is the search's.
    await volunteer.send("/search choir")
    await volunteer.wait_for_text("choir")
    await volunteer.send("/search")
    await volunteer.wait_for_text("Type the words to look for")
    await volunteer.send("library")
    found = await volunteer.wait_for_text("Results for")
    assert "Library reading hour" in (found.plain_text or "")

    # Going back to the form makes it read typed text again, at the step it was left.
    await volunteer.send("/organize")
    await volunteer.wait_for_text("contact person")
    await volunteer.send("陈老师")
    await volunteer.wait_for_text("phone number")
    draft = await bot.db.fetch_one(
        "SELECT data FROM organization_drafts WHERE telegram_id = ?", (volunteer.id,)
    )
    assert draft is not None and "陈老师" in draft["data"]
    assert "library" not in draft["data"]
