"""The bot's own membership in a private chat (``my_chat_member``): blocked and unblocked.

When a user blocks the bot Telegram sends ``kicked``; every later message to them would fail
with 403, so they are marked unreachable and their pending notifications are dropped at once
(rather than one 403 at a time). Unblocking sends ``member`` again: the middleware already
recorded the interaction, which makes the user reachable (``AccountService.seen``); nothing
dropped comes back, because it would be out of date.

No message is sent either way: a blocked user cannot receive one, and an unblock is not a
request.
"""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import ChatMemberHandler

from bot.context import HandlerSink, ZyContext

log = logging.getLogger(__name__)


async def on_my_chat_member(update: Update, context: ZyContext) -> None:
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    telegram_id = change.chat.id
    status = change.new_chat_member.status
    if status == ChatMember.BANNED:
        dropped = await context.services.accounts.blocked_bot(telegram_id)
        log.info("user %s blocked the bot; %s pending notifications dropped", telegram_id, dropped)
    elif status == ChatMember.MEMBER:
        log.info("user %s unblocked the bot", telegram_id)


def register(application: HandlerSink) -> None:
    application.add_handler(
        ChatMemberHandler(on_my_chat_member, chat_member_types=ChatMemberHandler.MY_CHAT_MEMBER)
    )
