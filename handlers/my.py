"""My sign-ups (``/my``): upcoming (confirmed, waitlist position, pending offer) and past.

```mermaid
flowchart LR
    my["/my · menu:my"] --> upcoming[Upcoming] -->|br:mp| past[Past] -->|br:my| upcoming
    upcoming & past -->|act:id:my / act:id:mp| card[Activity card] -->|br:my| upcoming
```
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, ZyContext
from bot.domain.activities import MySignup, SignupStatus
from bot.i18n import Translator
from bot.services.signups import SignupRefused
from handlers.activity_view import (
    CATEGORIES,
    MY_PAST,
    MY_UPCOMING,
    View,
    card_data,
    clip,
    list_data,
    short_when,
)
from handlers.callbacks import MenuItem, MenuOpen
from handlers.press_table import press_handlers, stale_press, without_press
from handlers.refusals import RefusalTexts
from handlers.render import answer, html, show

LIMIT = 20


def _status(t: Translator, item: MySignup) -> str:
    signup = item.signup
    if signup.status is SignupStatus.CONFIRMED:
        return t.gettext("✅ signed up")
    if signup.status is SignupStatus.WAITLISTED:
        return t.gettext("⏳ waitlist number {position}").format(
            position=item.waitlist_position or 1
        )
    if signup.offer_expires_at is not None:
        return t.gettext("🎁 spot held for you until {deadline}").format(
            deadline=short_when(t, signup.offer_expires_at)
        )
    return ""


async def my_command(update: Update, context: ZyContext) -> None:
    await answer(update)
    await show_my(update, context, past=False)


async def show_my(update: Update, context: ZyContext, *, past: bool) -> None:
    t = context.t
    try:
        items = await context.services.signups.my_signups(
            context.user.telegram_id, upcoming=not past, limit=LIMIT
        )
    except SignupRefused:
        await show(
            update,
            t.gettext(
                "You have no sign-ups yet. Register as a volunteer, then choose activities in "
                "the service menu."
            ),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.gettext("📝 Register"),
                            callback_data=MenuOpen(MenuItem.PROFILE).pack(),
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
                        )
                    ],
                ]
            ),
        )
        return
    view = MY_PAST if past else MY_UPCOMING
    lines = [
        t.gettext("<b>📋 My past activities</b>") if past else t.gettext("<b>📋 My sign-ups</b>")
    ]
    lines.append("")
    if not items:
        lines.append(
            t.gettext("No past activities yet.")
            if past
            else t.gettext("You have no upcoming sign-ups. Find something in the service menu!")
        )
    buttons: list[list[InlineKeyboardButton]] = []
    for number, item in enumerate(items, start=1):
        activity = item.activity
        status = "" if past else f" · {_status(t, item)}"
        lines.append(
            f"{number}. {short_when(t, activity.starts_at)} · <b>{html(activity.title)}</b>{status}"
        )
        buttons.append(
            [
                InlineKeyboardButton(
                    f"{number}. {clip(activity.title)}",
                    callback_data=card_data(activity.activity_id, View(view)),
                )
            ]
        )
    toggle = (
        InlineKeyboardButton(t.gettext("📋 Upcoming"), callback_data=list_data(View(MY_UPCOMING)))
        if past
        else InlineKeyboardButton(t.gettext("🕘 Past"), callback_data=list_data(View(MY_PAST)))
    )
    buttons.append(
        [
            toggle,
            InlineKeyboardButton(
                t.gettext("🔍 Service menu"), callback_data=list_data(View(CATEGORIES))
            ),
        ]
    )
    buttons.append(
        [
            InlineKeyboardButton(
                t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
            )
        ]
    )
    await show(update, "\n".join(lines), InlineKeyboardMarkup(buttons))


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("my", my_command))
    for handler, group in press_handlers(
        {MenuOpen(MenuItem.MY): without_press(my_command)},
        texts=RefusalTexts(),
        invalid=stale_press,
    ):
        application.add_handler(handler, group)
