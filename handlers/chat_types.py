"""Which chats the bot serves: private chats with a person, nothing else (handler group -2).

Every handler of the bot is written for a private chat with a person: it answers in that chat,
keeps the person's flow in the database and reads ``context.user``. This guard runs before the
middleware (group -1) and stops every other update with :class:`ApplicationHandlerStop`, so no
handler ever runs in a group, a channel, for a bot sender (an anonymous group administrator
writes as ``GroupAnonymousBot``) or for an update with no chat (an inline query, a press on an
inline-mode message, a poll answer):

```mermaid
flowchart TD
    U[update] --> M{my_chat_member?}
    M -- yes --> P[handlers.chat_member: blocked / unblocked in private; others ignored]
    M -- no --> C{private chat with a person?}
    C -- yes --> H[middleware, then the handlers]
    C -- no --> G{a command in a group or supergroup?}
    G -- yes --> W{hinted this chat within the window?}
    W -- no --> T[one short hint: write to me in private] --> S[stop]
    W -- yes --> S
    G -- no --> S
```

Channels, non-command group chatter and presses get no answer at all: a channel post is no
request, chatter is not addressed to the bot, and a group would fill with hints otherwise.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Chat, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.context import HandlerSink, ZyContext

log = logging.getLogger(__name__)

# Runs before handlers.middleware (group -1), which would record a sender it cannot serve.
GROUP = -2

#: A group is told at most once in this window that the bot works in private chats: enough
#: for newcomers to see it, too rare to be noise when many members try commands at once.
HINT_WINDOW = timedelta(hours=6)

_GROUPS = (Chat.GROUP, Chat.SUPERGROUP)


def serves(update: Update) -> bool:
    """True for an update the handlers are written for: a person in their private chat."""
    chat = update.effective_chat
    sender = update.effective_user
    return (
        chat is not None
        and chat.type == Chat.PRIVATE
        and sender is not None
        and not sender.is_bot
        # A press on a message sent in inline mode has a sender but no message or chat.
        and (update.callback_query is None or update.callback_query.message is not None)
    )


async def only_private_chats(update: Update, context: ZyContext) -> None:
    if update.my_chat_member is not None:
        # The bot added to or removed from a chat, or blocked in private: handlers.chat_member
        # reads it (and ignores everything but private chats).
        return
    if serves(update):
        return
    chat = update.effective_chat
    message = update.message
    if (
        chat is not None
        and chat.type in _GROUPS
        and message is not None
        and message.text is not None
        and message.text.startswith("/")
    ):
        await _hint(chat, update, context)
    raise ApplicationHandlerStop


async def _hint(chat: Chat, update: Update, context: ZyContext) -> None:
    services = context.services
    if not await services.chat_hints.claim(chat.id, services.clock(), HINT_WINDOW):
        return
    sender = update.effective_user
    language = services.accounts.language_for_code(
        sender.language_code if sender is not None and not sender.is_bot else None
    )
    t = services.translator(language)
    text = t.gettext("I work in private chats only. Please write to me directly: @{bot}").format(
        bot=context.bot.username
    )
    try:
        await chat.send_message(text)
    except TelegramError:
        # Removed from the group meanwhile or not allowed to write there: nothing to tell.
        log.info("could not send the private-chat hint to chat %s", chat.id, exc_info=True)


def register(application: HandlerSink) -> None:
    application.add_handler(TypeHandler(Update, only_private_chats), group=GROUP)
