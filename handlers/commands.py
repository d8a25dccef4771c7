"""The command menu, per role and language (``set_my_commands``).

Volunteers, organizers and administrators each get the commands they can use, in the language
they chose, in their own chat's menu (``BotCommandScopeChat``). The menu last published is
remembered per user (``users.menu_role``); the middleware compares it with what the person may
do now on their next command, so the menu follows a change of role (:mod:`handlers.middleware`).
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.context import ZyContext
from bot.domain.users import MenuRole, User
from bot.i18n import N_, Translator

log = logging.getLogger(__name__)

# (command, description) — descriptions are translated when the menu is published.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Main menu")),
    ("menu", N_("Service menu: find activities")),
    ("my", N_("My sign-ups")),
    ("hours", N_("My volunteer hours and records")),
    ("request", N_("Request a service from volunteers")),
    ("requests", N_("My requests")),
    ("certificate", N_("A certificate of my service hours")),
    ("stars", N_("My star level")),
    ("points", N_("My service points")),
    ("rewards", N_("Rewards for service points")),
    ("honours", N_("This month's honour roll")),
    ("verify", N_("Verify a certificate by its code")),
    ("search", N_("Search activities by words")),
    ("register", N_("Register as a volunteer")),
    ("profile", N_("My profile and data")),
    ("organize", N_("For organizers: my organization or apply")),
    ("help", N_("What I can do")),
    ("language", N_("Change the language")),
    ("cancel", N_("Cancel the current action")),
)

# Added for members of an approved organization (and administrators, who publish for any).
ORGANIZER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("new", N_("Publish a new activity")),
    ("award", N_("Enter an award for a volunteer")),
    ("stats", N_("Statistics, the statistics table and charts")),
    ("mobilize", N_("Emergency mobilization")),
)

# Added for dispatchers of residents' requests who are not administrators (administrators
# have it already): appointed per area in /dispatchers, whatever else they are.
DISPATCHER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("dispatch", N_("Residents' requests to dispatch")),
)

# Added for administrators only.
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("admin", N_("Administrator panel")),
    ("broadcast", N_("Send an announcement")),
    ("workdays", N_("Working-day calendar and late records")),
    ("dispatch", N_("Residents' requests to dispatch")),
    ("dispatchers", N_("Dispatchers by area")),
    ("certificates", N_("Certificates issued; revoke one")),
    ("starlevels", N_("Star level thresholds and publicity")),
    ("periods", N_("Report periods around key dates")),
)


def commands_for(
    t: Translator, role: MenuRole = MenuRole.VOLUNTEER, *, dispatcher: bool = False
) -> list[BotCommand]:
    listed = COMMANDS
    if role in (MenuRole.ORGANIZER, MenuRole.ADMIN):
        listed += ORGANIZER_COMMANDS
    if role is MenuRole.ADMIN:
        listed += ADMIN_COMMANDS
    elif dispatcher:
        listed += DISPATCHER_COMMANDS
    return [BotCommand(name, t.gettext(description)) for name, description in listed]


async def set_chat_commands(
    bot: Bot, chat_id: int, t: Translator, role: MenuRole, *, dispatcher: bool = False
) -> bool:
    """Show this chat the command menu for ``role`` in the user's language (Telegram otherwise
    picks the list by the client's language, not by the user's choice). ``False`` if Telegram
    refused (logged; the next command tries again)."""
    try:
        await bot.set_my_commands(
            commands_for(t, role, dispatcher=dispatcher), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError:
        log.warning("could not set the command menu for chat %s", chat_id, exc_info=True)
        return False
    return True


async def publish_menu(context: ZyContext, telegram_id: int, t: Translator) -> None:
    """Publish the menu that fits what this person may do now to their private chat (whose id
    is theirs) and remember it."""
    role = await context.services.menus.role_of(telegram_id)
    dispatcher = await _dispatches(context, telegram_id, role)
    if await set_chat_commands(context.bot, telegram_id, t, role, dispatcher=dispatcher):
        await context.services.menus.published(telegram_id, role)


async def follow_role(context: ZyContext, user: User, t: Translator) -> None:
    """On a user's command: publish their menu again if their role changed since."""
    role = await context.services.menus.change(user)
    if role is None:
        return
    dispatcher = await _dispatches(context, user.telegram_id, role)
    if await set_chat_commands(context.bot, user.telegram_id, t, role, dispatcher=dispatcher):
        await context.services.menus.published(user.telegram_id, role)


async def refresh_menu(context: ZyContext, telegram_id: int) -> None:
    """Someone else changed what this person may do (an appointment as a dispatcher, say):
    publish their menu now, in their language. Being a dispatcher is not part of the role the
    middleware compares on every command (that would cost a query per command), so the
    appointment and the removal publish it here."""
    services = context.services
    user = await services.accounts.get(telegram_id)
    if user is not None:
        await publish_menu(
            context, telegram_id, services.translator(services.accounts.language_of(user))
        )


async def _dispatches(context: ZyContext, telegram_id: int, role: MenuRole) -> bool:
    return role is not MenuRole.ADMIN and await context.services.requests.is_dispatcher(telegram_id)
