"""Managing activities end to end: the organization's list, the roster, CSV and Excel exports
downloaded through the local Bot API server, cancelling (everyone told), duplicating, closing
sign-up early, messaging participants, and forged presses that change nothing.

Organizations, memberships and activities are stored through the repositories (applying and
publishing have their own end-to-end tests); volunteers sign up by pressing buttons.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from openpyxl import load_workbook

from bot.domain.activities import Activity, ActivityStatus, MemberRole, Organization, SignupStatus
from bot.domain.volunteers import VolunteerProfile
from bot.localapi import LocalBotApi, StoredMessage, VirtualUser
from storage.activities import ActivitiesRepository
from storage.organizations import OrganizationsRepository
from storage.signups import SignupsRepository
from tests.e2e.conftest import TOKEN, BotProcess, eventually
from tests.factories import add_activity, add_organization, add_user, add_volunteer

MakeUser = Callable[..., VirtualUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def organizer_of(bot: BotProcess, user: VirtualUser, organization: Organization) -> None:
    await add_user(bot.db, user.id, first_name=user.info.first_name, now=bot.clock())
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, user.id, MemberRole.MANAGER, bot.clock()
    )


async def volunteer(bot: BotProcess, user: VirtualUser, name: str) -> VolunteerProfile:
    return await add_volunteer(bot.db, user.id, name=name, skills=("first_aid",), now=bot.clock())


async def reload(bot: BotProcess, activity_id: int) -> Activity:
    found = await ActivitiesRepository(bot.db).get(activity_id)
    assert found is not None
    return found


async def press_unshown(user: VirtualUser, data: str) -> str:
    """Send callback data the user was never shown, on a message of their own chat."""
    await user.send("/start")
    menu = await user.next_reply()
    await user.press_data(menu.message_id, data)
    answer = await user.callback_answer()
    return answer.text or ""


async def open_list(user: VirtualUser, organization: Organization) -> StoredMessage:
    await user.send("/start")
    menu = await user.next_reply()
    await user.press_data(menu.message_id, f"mg:list:{organization.organization_id}")
    return await user.wait_for_text("Activities of")


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


async def test_roster_exports_cancel_duplicate_and_close(
    bot: BotProcess, make_user: MakeUser, api: LocalBotApi
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    boss = make_user("Boss")
    await organizer_of(bot, boss, organization)
    event = await add_activity(
        bot.db, organization, title="Blood pressure checks", capacity=2, now=bot.clock()
    )
    people = [make_user(name) for name in ("Ann", "Bo", "Cy")]
    profiles = [
        await volunteer(bot, user, name)
        for user, name in zip(people, ("Zhang Ann", "Li Bo", "Wang Cy"), strict=True)
    ]
    for user in people:
        await user.start(f"act_{event.activity_id}")
        card = await user.wait_for_text("Blood pressure checks")
        label = "✋ Sign up" if "✋ Sign up" in card.button_labels() else "⏳ Join the waitlist"
        await user.press(label)
        await user.wait_for_text("You are")

    # The list and the management card.
    listing = await open_list(boss, organization)
    text = listing.plain_text or ""
    assert "Blood pressure checks" in text and "2/2" in text and "1 waiting" in text
    await boss.press("1. Blood pressure checks")
    card = await boss.wait_for_text("2 of 2 signed up")
    labels = card.button_labels()
    for expected in ("✏️ Edit", "🔎 Find volunteers", "👥 Roster", "✉️ Message participants"):
        assert expected in labels
    assert "⏸ Close sign-ups" in labels and "❌ Cancel activity" in labels

    # Roster: confirmed first, then the waitlist, with phone and skills.
    await boss.press("👥 Roster")
    roster = await boss.wait_for_text("Roster: Blood pressure checks")
    text = roster.plain_text or ""
    assert text.index("Zhang Ann") < text.index("Li Bo") < text.index("Waitlist")
    assert text.index("Waitlist") < text.index("Wang Cy")
    assert "+86 138" in text and "First aid" in text and "#1" in text

    # CSV, downloaded and parsed.
    await boss.press("📄 Export CSV")
    sent = await boss.wait_for_text("Roster of “Blood pressure checks”: 3 people")
    assert sent.document is not None and sent.document.file_name.endswith(".csv")
    data = await download(api, sent)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Name", "Phone", "Gender", "Skills", "Status"]
    assert [row[0] for row in rows[1:]] == ["Zhang Ann", "Li Bo", "Wang Cy"]
    assert rows[1][1].replace(" ", "") == profiles[0].phone.removeprefix("+86")
    assert rows[1][3] == "First aid" and rows[3][4] == "waitlist #1"

    # Excel, downloaded and parsed.
    await boss.press("📊 Export Excel")
    sent = await boss.wait_for_text("Roster of “Blood pressure checks”")
    assert sent.document is not None and sent.document.file_name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(await download(api, sent))).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Name" and [row[0] for row in values[1:]] == [
        "Zhang Ann",
        "Li Bo",
        "Wang Cy",
    ]
    assert isinstance(values[1][5], datetime)

    # Cancel with a preset reason: everyone is told, nobody can sign up any more.
    await boss.press("⬅️ Back")
    await boss.wait_for_text("2 of 2 signed up")
    await boss.press("❌ Cancel activity")
    await boss.wait_for_text("Why?")
    await boss.press("Bad weather")
    await boss.wait_for_text("3 people signed up or waiting will be told")
    await boss.press("❌ Yes, cancel the activity")
    cancelled_card = await boss.wait_for_text("The activity is cancelled. 3 people")
    assert "❌ Cancel activity" not in cancelled_card.button_labels()
    assert "👥 Roster" in cancelled_card.button_labels()
    for user in people:
        told = await user.wait_for_text("Activity cancelled", timeout=10)
        assert "Bad weather" in (told.plain_text or "")
    stored = await reload(bot, event.activity_id)
    assert stored.status is ActivityStatus.CANCELLED
    assert (stored.confirmed_count, stored.offered_count, stored.waitlist_count) == (0, 0, 0)
    for profile in profiles:
        signup = await SignupsRepository(bot.db).get(event.activity_id, profile.volunteer_id)
        assert signup is not None and signup.status is SignupStatus.CANCELLED
    newcomer = make_user("Dee")
    await volunteer(bot, newcomer, "Zhao Dee")
    await newcomer.start(f"act_{event.activity_id}")
    seen = await newcomer.wait_for_text("Blood pressure checks")
    assert "Cancelled by the organizer" in (seen.plain_text or "")
    assert not {"✋ Sign up", "⏳ Join the waitlist"} & set(seen.button_labels())

    # Duplicate to a new date: bad input is refused, a start alone keeps the duration.
    await boss.press("📑 Duplicate")
    await boss.wait_for_text("Copy Blood pressure checks to another date")
    await boss.send("someday soon")
    await boss.wait_for_text("I could not read that date")
    day = (datetime.now(UTC) + timedelta(days=12)).astimezone(SHANGHAI).date()
    await boss.send(f"{day.isoformat()} 09:00")
    copy_card = await boss.wait_for_text("Copied to")
    assert "0 of 2 signed up" in (copy_card.plain_text or "")
    rows_found = await bot.db.fetch_all(
        "SELECT activity_id FROM activities WHERE title = 'Blood pressure checks' "
        "AND status = 'published'"
    )
    [copy_id] = [row["activity_id"] for row in rows_found]
    copy = await reload(bot, copy_id)
    assert copy.starts_at.astimezone(SHANGHAI).date() == day
    assert copy.ends_at - copy.starts_at == event.ends_at - event.starts_at
    assert copy.confirmed_count == 0

    # Close sign-ups on the copy, then reopen.
    await boss.press("⏸ Close sign-ups")
    closed_card = await boss.wait_for_text("Sign-up is closed")
    assert "▶️ Reopen sign-ups" in closed_card.button_labels()
    assert (await reload(bot, copy_id)).signups_closed_at is not None
    await newcomer.start(f"act_{copy_id}")
    seen = await newcomer.wait_for_text("Blood pressure checks")
    assert "✋ Sign up" not in seen.button_labels()
    await boss.press("▶️ Reopen sign-ups")
    await boss.wait_for_text("Sign-up is open again")
    assert (await reload(bot, copy_id)).signups_closed_at is None


async def test_message_participants(bot: BotProcess, make_user: MakeUser) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    boss = make_user("Boss")
    await organizer_of(bot, boss, organization)
    event = await add_activity(
        bot.db, organization, title="River clean-up", capacity=1, now=bot.clock()
    )
    first, second = make_user("Fay"), make_user("Gus")
    for user, name in ((first, "Fay Lin"), (second, "Gus Ma")):
        await volunteer(bot, user, name)
        await user.start(f"act_{event.activity_id}")
        card = await user.wait_for_text("River clean-up")
        label = "✋ Sign up" if "✋ Sign up" in card.button_labels() else "⏳ Join the waitlist"
        await user.press(label)
        await user.wait_for_text("You are")

    await open_list(boss, organization)
    await boss.press("1. River clean-up")
    await boss.wait_for_text("1 of 1 signed up")
    await boss.press("✉️ Message participants")
    await boss.wait_for_text("Type your message")
    await boss.send("x" * 1001)
    await boss.wait_for_text("at most 1000 characters")
    await boss.send("Please bring gloves.\nWe meet at the north gate.")
    choice = await boss.wait_for_text("Who should get it?")
    assert "✅ Signed up only (1 person)" in choice.button_labels()
    await boss.press("✅ Signed up only (1 person)")
    preview = await boss.wait_for_text("Preview")
    assert "bring gloves" in (preview.plain_text or "")
    await boss.press("📨 Send")
    await boss.wait_for_text("Your message is queued for 1 person")
    got = await first.wait_for_text("Message from", timeout=10)
    text = got.plain_text or ""
    assert "River clean-up" in text and organization.name in text and "north gate" in text
    # The waitlisted volunteer was not in the audience; a second press sends nothing.
    await boss.press("✉️ Message participants")
    await boss.wait_for_text("Type your message")
    await boss.send("Everyone: parking is free.")
    await boss.wait_for_text("Who should get it?")
    await boss.press("👥 Signed up and waitlist (2 people)")
    await boss.wait_for_text("Preview")
    await boss.press("📨 Send")
    await boss.wait_for_text("queued for 2 people")
    got = await second.wait_for_text("parking is free", timeout=10)
    assert "Please bring gloves" not in "".join(m.plain_text or "" for m in second.bot_messages())
    count = await bot.db.fetch_one(
        "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'organizer_message'"
    )
    assert count is not None and count["n"] == 3


async def test_forged_and_cross_organization_presses_change_nothing(
    bot: BotProcess, make_user: MakeUser
) -> None:
    org_a = await add_organization(bot.db, name="Org A", now=bot.clock())
    org_b = await add_organization(bot.db, name="Org B", now=bot.clock())
    member_a = make_user("Amy")
    await organizer_of(bot, member_a, org_a)
    event_b = await add_activity(bot.db, org_b, title="B's food bank", now=bot.clock())
    joiner = make_user("Jo")
    await volunteer(bot, joiner, "Jo Chen")
    await joiner.start(f"act_{event_b.activity_id}")
    await joiner.wait_for_text("B's food bank")
    await joiner.press("✋ Sign up")
    await joiner.wait_for_text("You are signed up")
    plain = make_user("Val")
    await volunteer(bot, plain, "Val Wu")

    aid = event_b.activity_id
    forged = [
        f"mg:list:{org_b.organization_id}",
        f"mg:a:{aid}",
        f"mg:r:{aid}:0",
        f"mg:csv:{aid}",
        f"mg:xlsx:{aid}",
        f"mg:cxy:{aid}:weather",
        f"mg:close:{aid}",
        f"mg:dup:{aid}",
        f"mg:msg:{aid}",
        f"mg:send:{aid}",
    ]
    for intruder in (member_a, plain):
        for data in forged:
            answer = await press_unshown(intruder, data)
            assert answer == "Sorry, you are not allowed to do that.", data
        # Nothing was shown or sent: no roster, no file, no phone number.
        for message in intruder.bot_messages():
            assert message.document is None
            assert "Roster" not in (message.plain_text or "")
            assert "Jo Chen" not in (message.plain_text or "")
    stored = await reload(bot, aid)
    assert stored.status is ActivityStatus.PUBLISHED and stored.signups_closed_at is None
    assert stored.confirmed_count == 1
    outbox = await bot.db.fetch_one(
        "SELECT COUNT(*) AS n FROM outbox WHERE kind IN ('activity_cancelled', 'organizer_message')"
    )
    assert outbox is not None and outbox["n"] == 0
    # Org A's member still manages their own organization.
    listing = await open_list(member_a, org_a)
    assert "Org A" in (listing.plain_text or "")


async def test_chinese_organizer_gets_chinese_headers(
    bot: BotProcess, make_user: MakeUser, api: LocalBotApi
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    boss = make_user("老李", language_code="zh-hans")
    await organizer_of(bot, boss, organization)
    event = await add_activity(bot.db, organization, title="重阳节敬老院探访", now=bot.clock())
    joiner = make_user("小红", language_code="zh-hans")
    await volunteer(bot, joiner, "张小红")
    await joiner.start(f"act_{event.activity_id}")
    await joiner.wait_for_text("重阳节敬老院探访")
    await joiner.press_data(joiner.bot_messages()[-1].message_id, f"su:join:{event.activity_id}:x")
    await eventually(
        lambda: reload(bot, event.activity_id), lambda found: found.confirmed_count == 1
    )
    for kind in ("csv", "xlsx"):
        await press_unshown(boss, f"mg:{kind}:{event.activity_id}")
        sent = await boss.wait_for_text("重阳节敬老院探访")
        data = await download(api, sent)
        if kind == "csv":
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        else:
            sheet = load_workbook(io.BytesIO(data)).active
            assert sheet is not None
            rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert rows[0][:2] == ["姓名", "联系电话"]
        assert rows[1][0] == "张小红" and rows[1][4] == "已报名"
