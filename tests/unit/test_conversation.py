"""Only the conversation a user entered (or pressed a button of) last reads their typed text."""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from handlers.conversation import ACTIVE_FLOW_KEY, ExclusiveConversation

USER = User(id=5, first_name="Li", is_bot=False)
CHAT = Chat(id=5, type="private")


async def _noop(update: Any, context: Any) -> int:
    return 1


def _conversation(name: str) -> ExclusiveConversation:
    conversation = ExclusiveConversation(
        # Commands as plain text patterns: CommandHandler needs a bot to know its username.
        entry_points=[MessageHandler(filters.Regex(rf"^/{name}$"), _noop)],
        states={
            1: [
                MessageHandler(filters.TEXT & ~filters.Regex("^/"), _noop),
                CallbackQueryHandler(_noop, pattern=rf"^{name}:"),
            ]
        },
        fallbacks=[MessageHandler(filters.Regex("^/cancel$"), _noop)],
        name=name,
        persistent=False,
    )
    conversation._user_data = USER_DATA  # what bind() does with application.user_data
    # Both conversations are half-way through, as after two abandoned forms.
    conversation._conversations[(CHAT.id, USER.id)] = 1
    return conversation


USER_DATA: dict[int, dict[str, Any]] = {}


def _text(text: str) -> Update:
    return Update(1, message=Message(1, None, CHAT, from_user=USER, text=text))  # type: ignore[arg-type]


def _press(data: str) -> Update:
    message = Message(2, None, CHAT, from_user=USER, text="form")  # type: ignore[arg-type]
    return Update(2, callback_query=CallbackQuery("q", USER, "ci", message=message, data=data))


def test_typed_text_goes_only_to_the_conversation_entered_last() -> None:
    USER_DATA.clear()
    older, newer = _conversation("older"), _conversation("newer")
    USER_DATA[USER.id] = {ACTIVE_FLOW_KEY: "newer"}
    assert older.check_update(_text("hello")) is None
    assert newer.check_update(_text("hello")) is not None
    # /cancel too belongs to the newer one only.
    assert older.check_update(_text("/cancel")) is None
    assert newer.check_update(_text("/cancel")) is not None


def test_entry_points_and_own_buttons_always_match() -> None:
    USER_DATA.clear()
    older = _conversation("older")
    USER_DATA[USER.id] = {ACTIVE_FLOW_KEY: "newer"}
    assert older.check_update(_text("/older")) is not None
    assert older.check_update(_press("older:next")) is not None
    assert older.check_update(_press("newer:next")) is None


def test_without_a_recorded_flow_conversations_behave_as_usual() -> None:
    USER_DATA.clear()
    assert _conversation("older").check_update(_text("hello")) is not None
