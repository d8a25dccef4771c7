"""Administrator broadcasts end to end: compose, audience, preview, confirm, progress, cancel.

The bot runs on a :class:`ManualClock` set to a weekday morning in Shanghai, so a broadcast
(not time-critical) is never held back by the recipients' quiet hours, whatever the wall clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.localapi import VirtualUser
from bot.localapi.models import BotInfo
from bot.services.broadcasts import MAX_TEXT_LENGTH
from handlers.broadcast import BcCancel, BcEveryone, BcNew, BcPast, BcProgress, BcSend
from storage.outbox import OutboxRepository
from tests.e2e.conftest import BotProcess, eventually
from tests.factories import NOW, add_volunteer

MakeUser = Callable[..., VirtualUser]

BROADCAST_ADMIN = 9100


@pytest.fixture
async def admin_bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    process = BotProcess(
        settings.model_copy(update={"admin_ids": frozenset({BROADCAST_ADMIN})}),
        clock=ManualClock(NOW),  # Monday 10:00 in Shanghai: outside everyone's quiet hours
    )
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def counts(bot: BotProcess, broadcast_id: int) -> dict[str, int]:
    return await OutboxRepository(bot.db).batch_counts(f"broadcast:{broadcast_id}")


async def broadcast_rows(bot: BotProcess) -> int:
    row = await bot.db.fetch_one(
        "SELECT (SELECT COUNT(*) FROM broadcasts) + (SELECT COUNT(*) FROM outbox "
        "WHERE kind = 'broadcast') AS n"
    )
    assert row is not None
    return int(row["n"])


async def test_admin_broadcasts_to_an_area_then_cancels_a_second_one_midway(
    admin_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = admin_bot
    clock = bot.clock
    assert isinstance(clock, ManualClock)
    admin = make_user("Admin", user_id=BROADCAST_ADMIN)
    furong = [make_user("Fu"), make_user("Rong")]
    yuelu = make_user("Yue")
    for user in furong:
        await add_volunteer(bot.db, user.id, area_code="furong", now=clock())
    await add_volunteer(bot.db, yuelu.id, area_code="yuelu", now=clock())
    for user in (*furong, yuelu):  # a bot can only write to people who started it
        await user.start()
        await user.next_reply()
    seen = {user.id: len(user.bot_messages()) for user in (*furong, yuelu)}

    # Compose: a text over the limit is refused with the reason, then the real one.
    await admin.send("/broadcast")
    await admin.wait_for_text("Type the announcement")
    await admin.send("x" * (MAX_TEXT_LENGTH + 1))
    await admin.wait_for_text(f"you wrote {MAX_TEXT_LENGTH + 1}")
    text = "Road closed <b>tomorrow</b> & detour via Wuyi Road."
    await admin.send(text)
    audience = await admin.wait_for_text("Who should receive it?")
    assert "👥 All volunteers (3)" in audience.button_labels()
    await admin.press("📍 Volunteers of one area")
    await admin.wait_for_text("Which area?")
    await admin.press("Furong District")

    # Preview: the exact message (HTML escaped: the tags show as typed), then the count.
    exact = await admin.wait_for_text("Announcement")
    assert text in exact.visible_text
    summary = await admin.wait_for_text("exactly what 2 recipients will see")
    assert "volunteers in Furong District" in summary.visible_text
    assert "✏️ Edit text" in summary.button_labels()
    assert "✖️ Discard" in summary.button_labels()
    await admin.press("✅ Send to 2 people")
    progress = await admin.wait_for_text("Broadcast #1")
    assert "🔄 Refresh" in progress.button_labels()

    # Only the two Furong volunteers receive it, through the local Bot API server.
    for user in furong:
        received = await user.wait_for_text("Announcement")
        assert received.visible_text.endswith(text)
    await eventually(lambda: counts(bot, 1), lambda found: found == {"sent": 2})
    assert len(yuelu.bot_messages()) == seen[yuelu.id]
    await admin.press("🔄 Refresh", message=progress)
    refreshed = await admin.wait_for_text("Sent: 2 · ⏳ Pending: 0")
    assert "Finished" in refreshed.visible_text

    # A second broadcast, to everyone, while delivery is paused: its rows stay pending.
    scheduler = bot.runtime.application.job_queue.scheduler  # type: ignore[union-attr]
    scheduler.pause()
    # This time from the admin panel's 📣 Broadcast button (its callback data is BcNew).
    await admin.press_data(admin.bot_messages()[-1].message_id, BcNew().pack())
    await admin.wait_for_text("Type the announcement")
    await admin.send("Second notice")
    await admin.wait_for_text("Who should receive it?")
    await admin.press("👥 All volunteers (3)")
    await admin.wait_for_text("exactly what 3 recipients will see")
    await admin.press("✅ Send to 3 people")
    second = await admin.wait_for_text("Broadcast #2")
    assert "Pending: 3" in second.visible_text
    # Another deliverer has just claimed one row (it is "being sent") when the admin cancels.
    outbox = OutboxRepository(bot.db)
    (in_flight,) = await outbox.claim_due(clock(), timedelta(seconds=60), limit=1)
    await admin.press("⏹ Cancel the rest", message=second)
    await admin.wait_for_text("Stop broadcast #2?")
    await admin.press("⏹ Yes, cancel the rest")
    answered = await admin.callback_answer()
    assert answered.text == "Cancelled: 2 messages will not be sent."
    cancelled = await admin.wait_for_text("Not sent: 2")
    assert "cancelled" in cancelled.visible_text
    assert "⏹ Cancel the rest" not in cancelled.button_labels()

    # Delivery resumes; the claimed row's lease runs out and it is found stale: nothing is sent.
    clock.advance(timedelta(minutes=2))
    scheduler.resume()
    await eventually(lambda: counts(bot, 2), lambda found: found == {"dropped": 3})
    for user in (*furong, yuelu):
        assert all("Second notice" not in m.visible_text for m in user.bot_messages())
    assert in_flight.telegram_id in {user.id for user in (*furong, yuelu)}

    # Past broadcasts list both with their progress.
    await admin.press("📋 Past broadcasts")
    listing = await admin.wait_for_text("Past broadcasts")
    assert "#1" in listing.visible_text and "#2" in listing.visible_text
    assert "Sent: 2" in listing.visible_text and "Not sent: 3" in listing.visible_text


async def test_volunteers_cannot_broadcast_or_forge_presses(
    admin_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = admin_bot
    user = make_user("Vol")
    await add_volunteer(bot.db, user.id, area_code="furong", now=bot.clock())

    await user.send("/broadcast")
    refusal = await user.wait_for_text("Only administrators can send broadcasts")
    presses = (BcNew(), BcEveryone(), BcSend("0" * 12), BcProgress(1), BcCancel(1), BcPast())
    for data in (*(press.pack() for press in presses), "bc.zz"):
        await user.press_data(refusal.message_id, data)
        answered = await user.callback_answer()
        assert answered.text == "⛔ Only administrators can send broadcasts.", data
    assert await broadcast_rows(bot) == 0


async def test_a_half_composed_broadcast_survives_a_restart(
    admin_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = admin_bot
    admin = make_user("Admin", user_id=BROADCAST_ADMIN)
    follower = make_user("Eco")
    await add_volunteer(bot.db, follower.id, categories=("environment",), now=bot.clock())
    await add_volunteer(bot.db, make_user("Doc").id, categories=("health",), now=bot.clock())

    await admin.send("/broadcast")
    await admin.wait_for_text("Type the announcement")
    await admin.send("Tree planting moved to Sunday.")
    await admin.wait_for_text("Who should receive it?")
    await bot.restart()

    # The draft and the conversation state were stored: the next press carries on.
    await admin.press("🏷 Followers of a service category")
    await admin.wait_for_text("Which service category?")
    await admin.press("Environment")
    summary = await admin.wait_for_text("exactly what 1 recipient will see")
    assert "followers of Environment" in summary.visible_text
    # Typing during the preview re-shows it; /cancel discards the draft, nothing is queued.
    await admin.send("hello?")
    await admin.wait_for_text("Please use the buttons below.")
    await admin.wait_for_text("exactly what 1 recipient will see")
    await admin.send("/cancel")
    await admin.wait_for_text("The broadcast was discarded")
    assert await broadcast_rows(bot) == 0
    send = next(b for b in summary.buttons() if str(b.get("text", "")).startswith("✅ Send"))
    await admin.press_data(summary.message_id, str(send["callback_data"]))
    answered = await admin.callback_answer()
    assert answered.text == "This broadcast was already sent or discarded."
    assert await broadcast_rows(bot) == 0
