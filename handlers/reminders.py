"""Event reminders: rendering them at send time, and the "Still coming?" Yes / No buttons.

```mermaid
flowchart LR
    due[Reminder row due] -->|stale: cancelled, moved, started, opted out| dropped[Dropped]
    due -->|longest offset| ask["⏰ Still coming? ✅ / 🙅"]
    due -->|other offsets| plain[⏰ Starts soon: time, place, map, calendar]
    ask -->|rm:y| yes[Thank you: answer recorded]
    ask -->|rm:n, before the cut-off| no[Sign-up cancelled → waitlist offer]
    ask -->|rm:n, after the cut-off| late[Answer recorded, sign-up kept]
```

Planning and staleness are :mod:`bot.services.reminders`; the answers go through
:meth:`bot.services.signups.SignupService.answer_still_coming`, which re-checks that the sign-up
is the presser's, still confirmed and not started. A forged or stale press gets a short answer
and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import Activity
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.i18n import N_, Translator
from bot.services.signups import Refusal, SignupRefused, StillComingOutcome
from handlers.activity_view import NOWHERE, when
from handlers.callbacks import callback, parse_id, pattern, split
from handlers.render import answer, html, show

log = logging.getLogger(__name__)

PREFIX = "rm"

# Short answers to a press that cannot act (Telegram shows at most 200 characters).
_REFUSALS: dict[Refusal, str] = {
    Refusal.NOT_SIGNED_UP: N_("You are no longer signed up for this activity."),
    Refusal.CANCELLED: N_("This activity was cancelled."),
    Refusal.STARTED: N_("This activity has already started."),
    Refusal.NOT_FOUND: N_("This activity is no longer available."),
}


def _starts_in(t: Translator, activity: Activity, services: Services) -> str:
    """ "in 2 hours" / "tomorrow"-like wording from the time actually left (a reminder
    delivered late says the truth)."""
    minutes = max(1, int((activity.starts_at - services.clock()).total_seconds() // 60))
    if minutes < 120:
        return t.ngettext("in {n} minute", "in {n} minutes", minutes).format(n=minutes)
    hours = round(minutes / 60)
    if hours < 48:
        return t.ngettext("in {n} hour", "in {n} hours", hours).format(n=hours)
    days = round(hours / 24)
    return t.ngettext("in {n} day", "in {n} days", days).format(n=days)


def _details_rows(t: Translator, activity: Activity) -> list[list[InlineKeyboardButton]]:
    """Details, and the map pin and calendar file of the activity card (same callbacks)."""
    aid = activity.activity_id
    extras = [
        InlineKeyboardButton(
            t.gettext("📅 Add to calendar"), callback_data=callback("su", "ics", aid)
        )
    ]
    if activity.has_location:
        extras.insert(
            0,
            InlineKeyboardButton(
                t.gettext("🗺 Show on map"), callback_data=callback("su", "map", aid)
            ),
        )
    details = InlineKeyboardButton(
        t.gettext("ℹ️ Details"), callback_data=callback("act", aid, NOWHERE)
    )
    return [[details], extras]


async def render_reminder(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    due = await services.reminders.due(item)
    if due is None:
        return None  # no longer confirmed, cancelled, moved, started or switched off
    activity = await services.activities.get(due.activity_id)
    if activity is None:
        return None
    facts = t.gettext("<b>{title}</b>\n🕘 {when}\n📍 {place}").format(
        title=html(activity.title), when=when(t, activity), place=html(activity.place)
    )
    starts_in = _starts_in(t, activity, services)
    if due.asks:
        text = t.gettext(
            "⏰ <b>Reminder:</b> your activity starts {starts_in}.\n\n{facts}\n\n"
            "<b>Still coming?</b> If you cannot make it, tell us: your spot goes to someone "
            "on the waitlist."
        ).format(starts_in=starts_in, facts=facts)
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t.gettext("✅ Yes, I am coming"),
                        callback_data=callback(PREFIX, "y", due.signup_id),
                    ),
                    InlineKeyboardButton(
                        t.gettext("🙅 No, I cannot come"),
                        callback_data=callback(PREFIX, "n", due.signup_id),
                    ),
                ],
                *_details_rows(t, activity),
            ]
        )
        signup_id = due.signup_id

        async def asked() -> None:
            # Recorded once it went out: no answer from here on shows on the organizer's roster.
            await services.reminders.mark_asked(signup_id)

        return Rendered(text, markup, after_sent=asked)
    text = t.gettext(
        "⏰ <b>Starting soon:</b> your activity starts {starts_in}.\n\n{facts}\n\n"
        "Thank you for volunteering. See you there!"
    ).format(starts_in=starts_in, facts=facts)
    markup = InlineKeyboardMarkup(_details_rows(t, activity))
    return Rendered(text, markup)


async def on_still_coming(update: Update, context: ZyContext) -> None:
    """``rm:y:<signup_id>`` / ``rm:n:<signup_id>``."""
    t = context.t
    parts = split(update.callback_query.data if update.callback_query else None)
    action = parts[1] if len(parts) > 1 else ""
    signup_id = parse_id(parts[2]) if len(parts) == 3 else None
    if action not in ("y", "n") or signup_id is None:
        await answer(update, t.gettext("This button is no longer valid."))
        return
    try:
        result = await context.services.signups.answer_still_coming(
            context.user.telegram_id, signup_id, coming=action == "y"
        )
    except SignupRefused as error:
        # Forged (someone else's sign-up), or stale: answer briefly, change nothing.
        text = _REFUSALS.get(error.reason, N_("This button is no longer valid."))
        await answer(update, t.gettext(text))
        return
    activity = result.activity
    facts = t.gettext("<b>{title}</b>\n🕘 {when}\n📍 {place}").format(
        title=html(activity.title), when=when(t, activity), place=html(activity.place)
    )
    if result.outcome is StillComingOutcome.COMING:
        await answer(update, t.gettext("Thank you!"))
        text = t.gettext("✅ <b>Thank you!</b> The organizer knows you are coming.\n\n{facts}")
    elif result.outcome is StillComingOutcome.CANCELLED:
        nudge_outbox(context)  # the freed spot was offered to the waitlist
        await answer(update, t.gettext("Your sign-up is cancelled."))
        text = t.gettext(
            "🙅 OK, your sign-up is cancelled and your spot goes to someone on the waitlist. "
            "Thank you for telling us in time.\n\n{facts}"
        )
    else:
        await answer(update, t.gettext("Thank you for telling us."))
        text = t.gettext(
            "🙅 Thank you for telling us. It is too late to cancel here, so your sign-up stays, "
            "but the organizer sees on the roster that you are not coming.\n\n{facts}"
        )
    markup = InlineKeyboardMarkup(_details_rows(t, activity))
    await show(update, text.format(facts=facts), markup)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_still_coming, pattern=pattern(PREFIX)))


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.REMINDER: render_reminder,
}
