"""Cross-cutting work that runs before every handler (handler group -1).

Records the sender in the users table (names, language tag, last seen, reachable again) and
binds ``context.user`` and ``context.t`` for the handlers of later groups. On a command in a
private chat it also makes sure the chat's command menu fits the person's role now. A user who
blocks the bot (``my_chat_member`` → kicked) is not recorded as seen (handlers.chat_member).

Only updates from a person in their private chat (and ``my_chat_member``) get here: the guard
in group -2 (handlers.chat_types) stops groups, channels and bot senders before this runs.
"""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import TypeHandler

from bot.context import HandlerSink, ZyContext
from bot.domain.users import TelegramIdentity
from handlers.commands import follow_role

log = logging.getLogger(__name__)

# Only the first matching handler of a group runs, so all of this is one handler.
GROUP = -1


async def before_every_update(update: Update, context: ZyContext) -> None:
    sender = update.effective_user
    if sender is None or sender.is_bot:
        return
    change = update.my_chat_member
    if (
        change is not None
        and change.chat.type == "private"
        and change.new_chat_member.status == ChatMember.BANNED
    ):
        # Blocking is not an interaction: it must not make the user "seen" or reachable
        # (handlers.chat_member marks them unreachable).
        return
    identity = TelegramIdentity(
        telegram_id=sender.id,
        first_name=sender.first_name,
        last_name=sender.last_name,
        username=sender.username,
        language_code=sender.language_code,
    )
    accounts = context.services.accounts
    user = await accounts.seen(identity)
    context.bind_user(user, accounts.language_of(user))
    message = update.message
    if (
        message is not None
        and message.chat.type == "private"
        and message.text is not None
        and message.text.startswith("/")
    ):
        # A command: the right moment to check that their command menu still fits their role
        # (an approved application, an appointment, a removal happen elsewhere).
        await follow_role(context, user, context.t)


def register(application: HandlerSink) -> None:
    application.add_handler(TypeHandler(Update, before_every_update), group=GROUP)
