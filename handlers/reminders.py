"""Event reminders: rendering them at send time, and the "Still coming?" Yes / No buttons.

```mermaid
flowchart LR
    due[Reminder row due] -->|stale: cancelled, moved, started, opted out| dropped[Dropped]
    due -->|longest offset| ask["⏰ Still coming? ✅ / 🙅"]
    due -->|other offsets| plain[⏰ Starts soon: time, place, map, calendar]
    ask -->|rm.answer yes| yes[Thank you: answer recorded]
    ask -->|rm.answer no, before the cut-off| no[Sign-up cancelled → waitlist offer]
    ask -->|rm.answer no, after the cut-off| late[Answer recorded, sign-up kept]
```

Planning and staleness are :mod:`bot.services.reminders`; the answers go through
:meth:`bot.services.signups.SignupService.answer_still_coming`, which re-checks that the sign-up
is the presser's, still confirmed and not started. A forged or stale press gets a short answer
and changes nothing.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import Activity
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.i18n import N_, Translator
from bot.services.signups import Refusal, StillComingOutcome
from handlers.activity_view import card_data, when
from handlers.callbacks import Press, legacy_fields, parse_id
from handlers.press_table import press_handlers
from handlers.refusals import GENERIC, RefusalTexts
from handlers.render import answer, html, show
from handlers.signup_buttons import SignupCalendar, SignupMap

log = logging.getLogger(__name__)


class StillComing(Press, prefix="rm.answer"):
    """The answer to "Still coming?" for one sign-up."""

    signup_id: int
    coming: bool


# Short answers to a press that cannot act (Telegram shows at most 200 characters); other
# reasons (someone else's sign-up) get "This button is no longer valid".
_REFUSALS: dict[StrEnum, str] = {
    Refusal.NOT_SIGNED_UP: N_("You are no longer signed up for this activity."),
    Refusal.CANCELLED: N_("This activity was cancelled."),
    Refusal.STARTED: N_("This activity has already started."),
    Refusal.NOT_FOUND: N_("This activity is no longer available."),
    Refusal.NOT_YOURS: GENERIC,
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
    extras = [SignupCalendar(aid).button(t.gettext("📅 Add to calendar"))]
    if activity.has_location:
        extras.insert(0, SignupMap(aid).button(t.gettext("🗺 Show on map")))
    details = InlineKeyboardButton(t.gettext("ℹ️ Details"), callback_data=card_data(aid))
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
                    StillComing(due.signup_id, coming=True).button(
                        t.gettext("✅ Yes, I am coming")
                    ),
                    StillComing(due.signup_id, coming=False).button(
                        t.gettext("🙅 No, I cannot come")
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


async def on_still_coming(update: Update, context: ZyContext, press: StillComing) -> None:
    """Yes or No. A forged (someone else's sign-up) or stale press is answered from
    :data:`TEXTS` and changes nothing."""
    t = context.t
    result = await context.services.signups.answer_still_coming(
        context.user.telegram_id, press.signup_id, coming=press.coming
    )
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


TEXTS = RefusalTexts(_REFUSALS)


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC))


def legacy_press(data: str) -> Press | None:
    """``rm:y:<signup_id>`` / ``rm:n:<signup_id>`` on reminders sent before the typed family
    (still in chats): acted on as seen."""
    for answer_code, coming in (("y", True), ("n", False)):
        found = legacy_fields(data, "rm", answer_code, parse_id)
        if found is not None:
            (signup_id,) = found
            return StillComing(signup_id, coming)
    return None


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(
        {StillComing: on_still_coming},
        texts=TEXTS,
        invalid=_invalid,
        legacy=(r"^rm:", legacy_press),
    ):
        application.add_handler(handler, group)


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.REMINDER: render_reminder,
}
