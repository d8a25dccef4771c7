"""The organizer's typed steps as flows owned by the database: a crash right after the question
is shown loses nothing (#13 item 9), and a press on an older screen acts on what it showed or
is refused, changing nothing (#13 item 1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.activities import ActivityStatus, Organization
from bot.localapi import StoredMessage, VirtualUser
from tests.e2e.conftest import BotProcess, crash, eventually
from tests.e2e.test_manage import open_list, organizer_of, press_unshown, reload, volunteer
from tests.factories import add_activity, add_organization

MakeUser = Callable[..., VirtualUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")
STALE = "This button is from an earlier screen"


async def _setup(
    bot: BotProcess, make_user: MakeUser, title: str, *, people: int = 1
) -> tuple[VirtualUser, Organization, int, list[VirtualUser]]:
    organization = await add_organization(bot.db, now=bot.clock())
    boss = make_user("Boss")
    await organizer_of(bot, boss, organization)
    event = await add_activity(bot.db, organization, title=title, capacity=5, now=bot.clock())
    joined: list[VirtualUser] = []
    for number in range(people):
        user = make_user(f"V{number}")
        await volunteer(bot, user, f"Volunteer {number}")
        await user.start(f"act_{event.activity_id}")
        await user.wait_for_text(title)
        await user.press("✋ Sign up")
        await user.wait_for_text("You are signed up")
        joined.append(user)
    return boss, organization, event.activity_id, joined


async def _card(boss: VirtualUser, organization: Organization, title: str) -> StoredMessage:
    await open_list(boss, organization)
    await boss.press(f"1. {title}")
    return await boss.wait_for_text("signed up ·")


async def _outbox(bot: BotProcess, kind: str) -> int:
    row = await bot.db.fetch_one("SELECT COUNT(*) AS n FROM outbox WHERE kind = ?", (kind,))
    assert row is not None
    return int(row["n"])


async def test_a_crash_right_after_the_reason_question_keeps_the_cancel_flow(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss, organization, aid, people = await _setup(bot, make_user, "Park litter pick")
    await _card(boss, organization, "Park litter pick")
    await boss.press("❌ Cancel activity")
    await boss.wait_for_text("Why?")
    await boss.press("✍️ Type a reason")
    await boss.wait_for_text("Type the reason for cancelling")
    await crash(bot)
    await bot.start()
    await boss.send("The park is closed for repairs")
    await boss.wait_for_text("1 person signed up or waiting will be told")
    await boss.press("❌ Yes, cancel the activity")
    await boss.wait_for_text("The activity is cancelled. 1 person")
    stored = await reload(bot, aid)
    assert stored.status is ActivityStatus.CANCELLED
    assert stored.cancel_reason == "The park is closed for repairs"
    told = await people[0].wait_for_text("Activity cancelled", timeout=10)
    assert "closed for repairs" in (told.plain_text or "")


async def test_a_confirmation_of_an_older_reason_is_refused(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss, organization, aid, _ = await _setup(bot, make_user, "Library reading hour")
    for reason in ("The reader is ill", "The library is closed"):
        await _card(boss, organization, "Library reading hour")
        await boss.press("❌ Cancel activity")
        await boss.wait_for_text("Why?")
        await boss.press("✍️ Type a reason")
        await boss.wait_for_text("Type the reason for cancelling")
        await boss.send(reason)
        await boss.wait_for_text(reason)
    first, second = [m for m in boss.bot_messages() if "will be told" in (m.plain_text or "")]
    assert "The reader is ill" in (first.plain_text or "")

    # "Yes" on the confirmation that showed the first reason: refused, nothing cancelled.
    query = await boss.press("❌ Yes, cancel the activity", message=first)
    answer = await boss.callback_answer(query)
    assert STALE in (answer.text or "")
    assert (await reload(bot, aid)).status is ActivityStatus.PUBLISHED
    assert await _outbox(bot, "activity_cancelled") == 0

    # The latest one cancels with the reason it showed.
    await boss.press("❌ Yes, cancel the activity", message=second)
    await boss.wait_for_text("The activity is cancelled")
    stored = await reload(bot, aid)
    assert stored.status is ActivityStatus.CANCELLED
    assert stored.cancel_reason == "The library is closed"


async def test_a_crash_right_after_the_message_question_keeps_the_message_flow(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss, organization, _aid, people = await _setup(bot, make_user, "Food bank shift")
    await _card(boss, organization, "Food bank shift")
    await boss.press("✉️ Message participants")
    await boss.wait_for_text("Type your message")
    await crash(bot)
    await bot.start()
    await boss.send("Bring a water bottle, please.")
    await boss.wait_for_text("Who should get it?")
    await boss.press("✅ Signed up only (1 person)")
    await boss.wait_for_text("Preview")
    await boss.press("📨 Send")
    await boss.wait_for_text("Your message is queued for 1 person")
    await people[0].wait_for_text("Bring a water bottle", timeout=10)


async def test_older_audience_buttons_are_refused(bot: BotProcess, make_user: MakeUser) -> None:
    boss, organization, _aid, people = await _setup(bot, make_user, "Tree planting")
    await _card(boss, organization, "Tree planting")
    await boss.press("✉️ Message participants")
    await boss.wait_for_text("Type your message")
    await boss.send("Meet at the east gate.")
    first_choice = await boss.wait_for_text("Who should get it?")
    old = _data(first_choice, "✅ Signed up only (1 person)")
    await boss.press("↩️ Don't send", message=first_choice)
    await boss.wait_for_text("signed up ·")
    await boss.press("✉️ Message participants")
    await boss.wait_for_text("Type your message")
    await boss.send("Meet at the west gate.")
    second_choice = await boss.wait_for_text("Who should get it?")

    # The audience chosen on the screen drawn for the first text: refused, draft unchanged.
    query = await boss.press_data(first_choice.message_id, old)
    answer = await boss.callback_answer(query)
    assert STALE in (answer.text or "")
    row = await bot.db.fetch_one("SELECT body, audience FROM manage_drafts")
    assert row is not None and row["body"] == "Meet at the west gate." and row["audience"] is None

    await boss.press("✅ Signed up only (1 person)", message=second_choice)
    await boss.wait_for_text("west gate")
    await boss.press("📨 Send")
    await boss.wait_for_text("queued for 1 person")
    got = await people[0].wait_for_text("Message from", timeout=10)
    assert "west gate" in (got.plain_text or "") and "east gate" not in (got.plain_text or "")
    assert await _outbox(bot, "organizer_message") == 1


def _data(message: StoredMessage, label: str) -> str:
    """The callback data of a button as drawn (the message may be edited later)."""
    [button] = [b for b in message.buttons() if b.get("text") == label]
    return str(button["callback_data"])


async def test_a_send_from_an_older_preview_is_refused(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss, organization, aid, _ = await _setup(bot, make_user, "Soup kitchen")
    await _card(boss, organization, "Soup kitchen")
    await boss.press("✉️ Message participants")
    await boss.wait_for_text("Type your message")
    await boss.send("First text.")
    await boss.wait_for_text("Who should get it?")
    await boss.press("✅ Signed up only (1 person)")
    preview = await boss.wait_for_text("First text.")
    old_send = _data(preview, "📨 Send")
    await boss.press("✏️ Rewrite", message=preview)
    await boss.wait_for_text("Type your message")
    await boss.send("Second text.")
    await boss.wait_for_text("Who should get it?")
    await boss.press("👥 Signed up and waitlist (1 person)")
    await boss.wait_for_text("Second text.")
    query = await boss.press_data(preview.message_id, old_send)
    answer = await boss.callback_answer(query)
    assert STALE in (answer.text or "")
    assert await _outbox(bot, "organizer_message") == 0
    # Old colon data of a Send (drawn before the stamps) is refused the same way.
    assert "earlier screen" in await press_unshown(boss, f"mg:send:{aid}")
    assert await _outbox(bot, "organizer_message") == 0


async def test_a_crash_right_after_the_date_question_keeps_the_duplicate_flow(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss, organization, aid, _ = await _setup(bot, make_user, "Elder visit", people=0)
    await _card(boss, organization, "Elder visit")
    await boss.press("📑 Duplicate")
    await boss.wait_for_text("Copy Elder visit to another date")
    await crash(bot)
    await bot.start()
    day = (datetime.now(UTC) + timedelta(days=20)).astimezone(SHANGHAI).date()
    await boss.send(f"{day.isoformat()} 10:00")
    await boss.wait_for_text("Copied to")
    rows = await bot.db.fetch_all(
        "SELECT activity_id FROM activities WHERE title = 'Elder visit' AND activity_id != ?",
        (aid,),
    )
    [copy_id] = [row["activity_id"] for row in rows]
    copy = await reload(bot, copy_id)
    assert copy.starts_at.astimezone(SHANGHAI).date() == day
    # The flow is over: the next words are not read as a date.
    owner = await bot.db.fetch_one("SELECT flow FROM flow_owners")
    assert owner is None


async def test_cancel_leaves_a_typed_step_and_shows_the_card(
    bot: BotProcess, make_user: MakeUser
) -> None:
    boss, organization, aid, _ = await _setup(bot, make_user, "Museum guide", people=0)
    await _card(boss, organization, "Museum guide")
    await boss.press("📑 Duplicate")
    await boss.wait_for_text("Copy Museum guide")
    await boss.send("/cancel")
    card = await boss.wait_for_text("OK, nothing was changed.")
    assert "📑 Duplicate" in card.button_labels()
    await eventually(
        lambda: bot.db.fetch_one("SELECT flow FROM flow_owners"), lambda row: row is None
    )
    assert (await reload(bot, aid)).status is ActivityStatus.PUBLISHED
