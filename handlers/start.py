"""The front door: ``/start`` (with deep links), the main menu, ``/help``, ``/language``,
``/cancel``, and the fallbacks for anything the bot did not understand.

```mermaid
flowchart LR
    start["/start"] --> menu[Main menu]
    link["/start act_42 · inv_…"] --> route{deep link} --> menu
    menu -->|menu:language| lang[Language picker] -->|lang:zh / lang:en| menu
    menu -->|menu:help| help[Help]
    menu -->|menu:browse| browse[Service menu, handlers.browse]
    menu -->|menu:my| my[My sign-ups, handlers.my]
    link -->|act_42| card[Activity card]
    menu -->|menu:organize| organize[Organization home or application, handlers.organize]
    link -->|inv_…| invite[Join as co-organizer?, handlers.organize]
    stale[unknown or stale button] --> menu
```
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import HandlerSink, ZyContext
from bot.domain.deeplinks import (
    ActivityLink,
    CertificateLink,
    CheckinLink,
    OrganizerInviteLink,
    UnknownLink,
    parse_start_payload,
)
from bot.domain.users import Language, MenuRole
from bot.i18n import LANGUAGE_NAMES, N_, Translator
from handlers.callbacks import (
    MenuItem,
    MenuOpen,
    Press,
    button_rows,
)
from handlers.commands import publish_menu
from handlers.press_table import press_handlers, without_press
from handlers.refusals import RefusalTexts
from handlers.render import answer, html, send, show

log = logging.getLogger(__name__)

# Main-menu entries: (key, label). Feature modules handle their own ``menu:<key>`` press
# (:class:`handlers.callbacks.MenuOpen`).
MENU_ENTRIES: tuple[tuple[MenuItem, str], ...] = (
    (MenuItem.BROWSE, N_("🔍 Service menu")),
    (MenuItem.PROFILE, N_("📝 Register / my profile")),
    (MenuItem.MY, N_("📋 My sign-ups")),
    (MenuItem.ORGANIZE, N_("🏢 For organizers")),
    (MenuItem.REQUEST, N_("🙋 Request a service")),
    (MenuItem.REQUESTS, N_("📮 My requests")),
    (MenuItem.LANGUAGE, N_("🌐 Language / 语言")),
    (MenuItem.HELP, N_("❓ Help")),
)


def main_menu(t: Translator) -> InlineKeyboardMarkup:
    buttons = [MenuOpen(key).button(t.gettext(label)) for key, label in MENU_ENTRIES]
    return InlineKeyboardMarkup(button_rows(buttons, 2))


def home_button(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
                )
            ]
        ]
    )


def welcome_text(t: Translator, first_name: str) -> str:
    return t.gettext(
        "<b>Welcome to Zhiyuan (志愿), {name}!</b>\n\n"
        "I connect volunteers with the people and places that need them:\n"
        "• browse the service menu and sign up for activities in two taps;\n"
        "• get reminders before your activities and news around volunteer days;\n"
        "• organizers publish activities and manage their rosters.\n\n"
        "Choose what you would like to do."
    ).format(name=html(first_name))


def help_text(t: Translator, role: MenuRole) -> str:
    """What this person can do: volunteers see theirs; organizers also publishing; administrators
    also their panel and broadcasts."""
    lines = [
        t.gettext("<b>What I can do</b>"),
        "",
        t.gettext("/start — the main menu"),
        t.gettext("/menu — the service menu: find activities and sign up"),
        t.gettext("/search — search activities by words, e.g. /search 义诊"),
        t.gettext("/my — your sign-ups, waitlist places and offers"),
        t.gettext("/hours — your volunteer hours, records and trainings"),
        t.gettext("/request — ask volunteers for help: order a service from the menu"),
        t.gettext("/requests — follow, cancel or rate your requests"),
        t.gettext("/certificate — a certificate of your service hours (free, verifiable)"),
        t.gettext("/verify — check a certificate by its code"),
        t.gettext("/language — switch between Chinese and English"),
        t.gettext("/cancel — leave what you are doing (your answers so far are kept)"),
        t.gettext("/help — this help"),
        "",
        t.gettext("/register — become a volunteer (a couple of minutes)"),
        t.gettext("/profile — your profile, notifications, export or delete your data"),
        "",
    ]
    if role is MenuRole.VOLUNTEER:
        lines.append(
            t.gettext(
                "/organize — for organizers: your organization, or apply to publish activities"
            )
        )
    else:
        lines += [
            t.gettext("<b>For organizers</b>"),
            t.gettext("/organize — your organization: activities, rosters, co-organizers"),
            t.gettext("/new — publish a new activity (a draft is kept until you publish)"),
            t.gettext("/award — enter an award for a volunteer of your organization"),
            t.gettext("/mobilize — emergency mobilization of on-call volunteers (if allowed)"),
            t.gettext("/requests — residents' requests sent to your organization"),
        ]
    if role is MenuRole.ADMIN:
        lines += [
            "",
            t.gettext("You are an administrator of this volunteer federation."),
            t.gettext("/admin — the administrator panel; /broadcast — send an announcement"),
            t.gettext("/workdays — the working-day calendar and late service records"),
            t.gettext(
                "/dispatch — residents' requests to dispatch; /dispatchers — who dispatches where"
            ),
            t.gettext("/certificates — certificates issued; revoke one"),
        ]
    lines += ["", t.gettext("Buttons under my messages do the rest.")]
    return "\n".join(lines)


async def start(update: Update, context: ZyContext) -> None:
    t = context.t
    link = parse_start_payload(context.args[0] if context.args else None)
    if isinstance(link, ActivityLink):
        # The card itself; signing up from it leads through registration when needed.
        from handlers.activity_view import NOWHERE, View
        from handlers.browse import show_card

        await show_card(update, context, link.activity_id, View(NOWHERE), new_message=True)
        return
    if isinstance(link, CheckinLink):
        from handlers.checkin import on_link

        await on_link(update, context, link)
        return
    if isinstance(link, CertificateLink):
        from handlers.verify import on_link as verify_link

        await verify_link(update, context, link.code)
        return
    if isinstance(link, OrganizerInviteLink):
        from handlers.co_organizers import show_invite

        await show_invite(update, context, link.code)
        return
    if isinstance(link, UnknownLink):
        log.info(
            "unknown deep-link payload %r from user %s", link.payload, context.user.telegram_id
        )
        await send(update, t.gettext("That link is not valid or has expired."))
    await send(update, welcome_text(t, context.user.first_name), main_menu(t))


async def show_menu(update: Update, context: ZyContext) -> None:
    await answer(update)
    t = context.t
    await show(update, welcome_text(t, context.user.first_name), main_menu(t))


async def help_command(update: Update, context: ZyContext) -> None:
    await answer(update)
    role = await context.services.menus.role_of(context.user.telegram_id, context.user)
    await show(update, help_text(context.t, role), home_button(context.t))


def language_picker(current: Language) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ("✓ " if language is current else "") + LANGUAGE_NAMES[language],
                    callback_data=LanguagePick(language).pack(),
                )
            ]
            for language in Language
        ]
    )


async def language_command(update: Update, context: ZyContext) -> None:
    await answer(update)
    t = context.t
    await show(
        update,
        t.gettext("Choose your language. 请选择语言。"),
        language_picker(t.language),
    )


class LanguagePick(Press, prefix="lang"):
    """``lang:<code>``: a language chosen in the picker."""

    language: Language


async def language_unknown(update: Update, context: ZyContext) -> None:
    """Forged, or a language of an older version of the bot: say so, offer the picker again."""
    await answer(update, context.t.gettext("This button is no longer valid."))
    await show(
        update,
        context.t.gettext("Choose your language. 请选择语言。"),
        language_picker(context.t.language),
    )


async def language_chosen(update: Update, context: ZyContext, press: LanguagePick) -> None:
    language = press.language
    user = context.user
    await context.services.accounts.choose_language(user.telegram_id, language)
    context.bind_user(user.model_copy(update={"language": language}), language)
    t = context.t
    await answer(update, t.gettext("Language: English"))
    if update.effective_chat is not None and update.effective_chat.type == "private":
        await publish_menu(context, user.telegram_id, t)  # the menu in the chosen language
    await show(update, welcome_text(t, user.first_name), main_menu(t))


async def cancel(update: Update, context: ZyContext) -> None:
    t = context.t
    await send(update, t.gettext("There is nothing to cancel right now."), home_button(t))


async def unknown_command(update: Update, context: ZyContext) -> None:
    t = context.t
    await send(
        update,
        t.gettext("I don't know that command. Send /help to see what I can do."),
        home_button(t),
    )


async def unknown_text(update: Update, context: ZyContext) -> None:
    t = context.t
    await send(
        update,
        t.gettext("Sorry, I did not understand that. Tap a button or send /help."),
        home_button(t),
    )


async def stale_button(update: Update, context: ZyContext) -> None:
    """A press no handler claims: forged, or from a screen of an older version. Never silence."""
    t = context.t
    await answer(update, t.gettext("This button is no longer valid."))
    await show(update, welcome_text(t, context.user.first_name), main_menu(t))


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("language", language_command))
    for handler, group in press_handlers(
        {
            MenuOpen(MenuItem.HOME): without_press(show_menu),
            MenuOpen(MenuItem.HELP): without_press(help_command),
            MenuOpen(MenuItem.LANGUAGE): without_press(language_command),
            LanguagePick: language_chosen,
        },
        texts=RefusalTexts(),
        invalid=language_unknown,
    ):
        application.add_handler(handler, group)


def register_fallbacks(application: HandlerSink) -> None:
    """Added last: in one handler group only the first matching handler runs."""
    application.add_handler(CommandHandler("cancel", cancel))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(filters.ALL, unknown_text))
    application.add_handler(CallbackQueryHandler(stale_button))
