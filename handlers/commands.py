"""The command menu, localized per language (``set_my_commands`` with ``language_code``)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import N_, Translator

log = logging.getLogger(__name__)

# (command, description) — descriptions are translated when the menu is published.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Main menu")),
    ("menu", N_("Service menu: find activities")),
    ("my", N_("My sign-ups")),
    ("search", N_("Search activities by words")),
    ("register", N_("Register as a volunteer")),
    ("profile", N_("My profile and data")),
    ("organize", N_("For organizers: my organization or apply")),
    ("help", N_("What I can do")),
    ("language", N_("Change the language")),
    ("cancel", N_("Cancel the current action")),
)


# Shown only in administrators' own chats (BotCommandScopeChat), after the public ones.
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("admin", N_("Administrator panel")),
    ("broadcast", N_("Send an announcement")),
)


def commands_for(t: Translator, *, admin: bool = False) -> list[BotCommand]:
    listed = COMMANDS + ADMIN_COMMANDS if admin else COMMANDS
    return [BotCommand(name, t.gettext(description)) for name, description in listed]


async def set_chat_commands(bot: Bot, chat_id: int, t: Translator, *, admin: bool = False) -> None:
    """Show this chat the command menu in the user's language (Telegram otherwise picks the
    list by the client's language, not by the user's choice), with the administrator commands
    for administrators. Called after ``/language``, on an administrator's ``/start`` and when
    someone is appointed or removed as administrator."""
    try:
        await bot.set_my_commands(commands_for(t, admin=admin), scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        log.warning("could not set the command menu for chat %s", chat_id, exc_info=True)
