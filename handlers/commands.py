"""The command menu, localized per language (``set_my_commands`` with ``language_code``)."""

from __future__ import annotations

from telegram import BotCommand

from bot.i18n import N_, Translator

# (command, description) — descriptions are translated when the menu is published.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Main menu")),
    ("help", N_("What I can do")),
    ("language", N_("Change the language")),
    ("cancel", N_("Cancel the current action")),
)


def commands_for(t: Translator) -> list[BotCommand]:
    return [BotCommand(name, t.gettext(description)) for name, description in COMMANDS]
