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
    ("help", N_("What I can do")),
    ("language", N_("Change the language")),
    ("cancel", N_("Cancel the current action")),
)


def commands_for(t: Translator) -> list[BotCommand]:
    return [BotCommand(name, t.gettext(description)) for name, description in COMMANDS]


async def set_chat_commands(bot: Bot, chat_id: int, t: Translator) -> None:
    """After ``/language``, show this chat the command menu in the chosen language (Telegram
    otherwise picks the list by the client's language, not by the user's choice)."""
    try:
        await bot.set_my_commands(commands_for(t), scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        log.warning("could not set the command menu for chat %s", chat_id, exc_info=True)
