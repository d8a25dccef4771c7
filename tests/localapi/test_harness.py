"""Virtual users driving a real PTB ``Application`` that polls the local Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import Forbidden
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.localapi import (
    BotInfo,
    EventKind,
    LocalApiUsageError,
    LocalBotApi,
    VirtualUser,
    VirtualUserInfo,
)
from tests.localapi.conftest import ALICE

Context = ContextTypes.DEFAULT_TYPE


@asynccontextmanager
async def running_app(
    server: LocalBotApi, bot: BotInfo, *handlers: BaseHandler[Update, Context, Any]
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real PTB application, long polling the local server, as in production."""
    app = (
        ApplicationBuilder()
        .token(bot.token)
        .base_url(server.bot_api_url)
        .base_file_url(server.file_url)
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def say_hi(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("hi")


async def show_menu(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Join", callback_data="join"),
                InlineKeyboardButton("Skip", callback_data="skip"),
            ],
            [InlineKeyboardButton("Website", url="https://example.org")],
        ]
    )
    await update.effective_message.reply_text("Choose an event:", reply_markup=keyboard)


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    if query.data == "join":
        await query.answer("Joined!")
        await query.edit_message_text("You joined ✅")
    else:
        await query.answer(f"Unknown action {query.data}", show_alert=True)


async def ask_phone(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    keyboard = ReplyKeyboardMarkup(
        [
            [KeyboardButton("Share phone", request_contact=True)],
            [KeyboardButton("Share location", request_location=True)],
            ["Skip"],
        ],
        one_time_keyboard=True,
    )
    await update.effective_message.reply_text("How can we reach you?", reply_markup=keyboard)


async def on_contact(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None and message.contact is not None
    own = message.contact.user_id == message.from_user.id if message.from_user else False
    await message.reply_text(
        f"Saved {message.contact.phone_number} (own: {own})", reply_markup=ReplyKeyboardRemove()
    )


async def on_location(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None and message.location is not None
    await message.reply_text(f"At {message.location.latitude:.2f},{message.location.longitude:.2f}")


async def on_text(update: Update, context: Context) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(f"You said: {update.effective_message.text}")


async def two_replies(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("first")
    await update.effective_message.reply_text("second")


async def test_application_cannot_tell_the_difference(
    server: LocalBotApi, bot_info: BotInfo, alice: VirtualUser
) -> None:
    async with running_app(server, bot_info, CommandHandler("start", say_hi)):
        await alice.send("/start")
        reply = await alice.wait_for_text("hi")
    assert reply.visible_text == "hi"
    assert reply.reply_to is None
    assert server.pending_updates(bot_info) == []  # the updater confirmed what it fetched
    assert server.stats.errors[409] <= 1  # at most the abandoned long poll at shutdown


async def test_press_by_label_toast_and_edit(
    server: LocalBotApi, bot_info: BotInfo, alice: VirtualUser
) -> None:
    handlers = (CommandHandler("start", show_menu), CallbackQueryHandler(on_button))
    async with running_app(server, bot_info, *handlers):
        await alice.start()
        menu = await alice.next_reply()
        assert menu.button_labels() == ["Join", "Skip", "Website"]

        query_id = await alice.press("Join")
        answer = await alice.callback_answer(query_id)
        assert (answer.text, answer.show_alert) == ("Joined!", False)
        edited = await alice.next_reply()
        assert edited.message_id == menu.message_id
        assert edited.visible_text == "You joined ✅"
        assert edited.inline_keyboard is None
        assert [v.plain_text for v in edited.edits] == ["Choose an event:"]

        # Forged data on the same message, which no longer has buttons.
        await alice.press_data(menu.message_id, "hack")
        alert = await alice.callback_answer()
        assert alert.show_alert and alert.text == "Unknown action hack"


async def test_press_errors_list_available_buttons(
    server: LocalBotApi, bot_info: BotInfo, alice: VirtualUser
) -> None:
    async with running_app(server, bot_info, CommandHandler("start", show_menu)):
        await alice.start()
        await alice.wait_for_text("Choose")
    with pytest.raises(LocalApiUsageError, match=r"no inline button 'Leave'.*\['Join', 'Skip'"):
        await alice.press("Leave")
    with pytest.raises(LocalApiUsageError, match="not a callback button"):
        await alice.press("Website")
    with pytest.raises(LocalApiUsageError, match="has not pressed any button"):
        await alice.callback_answer()


async def test_next_reply_reads_messages_in_order(
    server: LocalBotApi, bot_info: BotInfo, alice: VirtualUser
) -> None:
    async with running_app(server, bot_info, CommandHandler("two", two_replies)):
        await alice.send("/two")
        assert (await alice.next_reply()).visible_text == "first"
        assert (await alice.next_reply()).visible_text == "second"
        assert [m.visible_text for m in alice.bot_messages()] == ["first", "second"]
        last = alice.last_bot_message()
        assert last is not None and last.visible_text == "second"
        assert last.reply_to is None  # PTB quotes only in groups by default


async def test_reply_keyboard_contact_and_location(
    server: LocalBotApi, bot_info: BotInfo, alice: VirtualUser
) -> None:
    handlers = (
        CommandHandler("phone", ask_phone),
        MessageHandler(filters.CONTACT, on_contact),
        MessageHandler(filters.LOCATION, on_location),
        MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
    )
    async with running_app(server, bot_info, *handlers):
        await alice.send("/phone")
        await alice.wait_for_text("reach you")
        shared = await alice.tap_reply_button("Share phone")
        assert shared.contact == {
            "phone_number": ALICE.own_phone_number,
            "first_name": "Alice",
            "last_name": "Liu",
            "user_id": ALICE.id,
        }
        await alice.wait_for_text(f"Saved {ALICE.own_phone_number} (own: True)")
        with pytest.raises(LocalApiUsageError, match="no reply keyboard is shown"):
            await alice.tap_reply_button("Skip")

        await alice.send("/phone")
        await alice.wait_for_text("reach you")
        await alice.tap_reply_button("Share location")
        await alice.wait_for_text("At 31.23,121.47")
        await alice.tap_reply_button("Skip")
        await alice.wait_for_text("You said: Skip")
        with pytest.raises(LocalApiUsageError, match=r"the keyboard has \['Share phone'"):
            await alice.tap_reply_button("Nope")

        await alice.share_contact("+8613800000000")
        await alice.wait_for_text("Saved +8613800000000 (own: False)")


async def test_wait_for_text_only_after_mark(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo, alice: VirtualUser
) -> None:
    await alice.send("hello")
    await bot.send_message(ALICE.id, "Reminder: event tomorrow")
    assert (await alice.wait_for_text("Reminder")).visible_text == "Reminder: event tomorrow"
    await alice.send("again")
    # The old reminder is before the mark; only a new one (or anywhere=True) matches.
    sender = asyncio.create_task(bot.send_message(ALICE.id, "Reminder: bring gloves"))
    second = await alice.wait_for_text("Reminder")
    assert second.visible_text == "Reminder: bring gloves"
    await sender
    found = await alice.wait_for_text("tomorrow", anywhere=True)
    assert found.visible_text == "Reminder: event tomorrow"


async def test_timeout_error_explains_what_was_awaited(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo, alice: VirtualUser
) -> None:
    await alice.send("/start")
    await bot.send_message(ALICE.id, "Welcome!")
    with pytest.raises(TimeoutError) as caught:
        await alice.wait_for_text("Goodbye", timeout=0.05)
    message = str(caught.value)
    assert "a bot message containing 'Goodbye' in chat 1001" in message
    assert "#1 user 1001: '/start'" in message
    assert "#2 bot: 'Welcome!'" in message

    with pytest.raises(TimeoutError, match=r"server\.seq > 1000"):
        await server.wait_for(lambda: server.seq > 1000, timeout=0.01)


async def test_blocked_user_and_group_user(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo, alice: VirtualUser
) -> None:
    await alice.send("hi")
    await alice.block()
    with pytest.raises(Forbidden):
        await bot.send_message(ALICE.id, "still there?")
    with pytest.raises(LocalApiUsageError, match="has blocked"):
        await alice.send("hello")
    await alice.unblock()
    await alice.send("hello")
    kinds = [e.kind for e in server.events]
    assert EventKind.BOT_BLOCKED in kinds and EventKind.BOT_UNBLOCKED in kinds

    carol = VirtualUser(server, bot_info, VirtualUserInfo(1003, "Carol"), chat_id=-4242)
    await carol.send("/events")
    await bot.send_message(-4242, "No events yet")
    reply = await carol.next_reply()
    assert reply.chat.type == "group"
    assert [m.visible_text for m in carol.history()] == ["/events", "No events yet"]


async def test_user_document_roundtrip_through_application(
    server: LocalBotApi, bot_info: BotInfo, alice: VirtualUser
) -> None:
    async def echo_size(update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None and message.document is not None
        data = await (await message.document.get_file()).download_as_bytearray()
        await message.reply_document(bytes(data).upper(), filename="upper.txt", caption="done")

    async with running_app(server, bot_info, MessageHandler(filters.Document.ALL, echo_size)):
        await alice.send_document(b"volunteers", "list.txt")
        reply = await alice.wait_for_text("done")
    assert reply.document is not None
    assert (reply.document.file_name, reply.document.data) == ("upper.txt", b"VOLUNTEERS")
