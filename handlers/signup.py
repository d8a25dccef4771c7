"""Sign-up actions on the activity card, waitlist offers, the calendar file and the map pin.

```mermaid
flowchart LR
    card[Activity card] -->|su:join| signed[Card: signed up] & full[Card: full, join the waitlist?]
    full -->|su:wait| waiting[Card: number N on the waitlist]
    signed & waiting -->|su:cx| why[Why? preset reasons]
    why -->|su:cxr:reason| cancelled[Card: cancelled]
    why -->|su:why| typing((flow cancel_reason: type it)) -->|text| cancelled
    typing -->|/cancel| kept[Sign-up kept]
    offer[Offer notification] -->|su:acc| signed
    offer -->|su:dec| declined[Spot passed on]
    card -->|su:ics| ics[.ics document]
    card -->|su:map| pin[Location pin]
    card -->|su:reg| reg[Registration] --> card
```

Every press is re-checked by :class:`~bot.services.signups.SignupService` against the stored
state; a refusal re-renders the card with the reason on top.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import ActivityStatus, SignupStatus
from bot.domain.flows import FlowOwner
from bot.domain.ics import activity_ics
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput, clean_free_text
from bot.i18n import N_, Translator
from bot.services.signups import MAX_CANCEL_NOTE_LENGTH, Outcome, SignupRefused
from handlers.activity_view import (
    NOWHERE,
    Names,
    View,
    deep_link,
    refusal_text,
    refusal_toast,
    short_when,
    when,
    with_view,
)
from handlers.browse import render_menu, show_card
from handlers.callbacks import callback, parse_id, split
from handlers.flows import Flow, release, take
from handlers.render import answer, html, send, show

log = logging.getLogger(__name__)


CANCEL_REASONS: dict[str, str] = {
    "ill": N_("🤒 I am unwell"),
    "plans": N_("📅 My plans changed"),
    "travel": N_("🚌 I cannot get there"),
}


def _cutoff_hours(context: ZyContext) -> float:
    return context.services.signups.policy.cancel_cutoff.total_seconds() / 3600


async def _refused(
    update: Update, context: ZyContext, error: SignupRefused, activity_id: int, view: View
) -> None:
    t = context.t
    await answer(update, refusal_toast(t, error))
    names = await Names.load(context.services, t)
    text = refusal_text(t, error, names, cutoff_hours=_cutoff_hours(context))
    await show_card(update, context, activity_id, view, notice=f"⚠️ {text}", names=names)


def _parse(update: Update) -> tuple[str, int | None, View | None]:
    """``su:<action>:<id>[:<view>]`` → (action, id, view)."""
    parts = split(update.callback_query.data if update.callback_query else None)
    action = parts[1] if len(parts) > 1 else ""
    target = parse_id(parts[2]) if len(parts) > 2 else None
    view = View.parse(parts[3:]) if len(parts) > 3 else View(NOWHERE)
    return action, target, view


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."))
    await render_menu(update, context)


# ------------------------------------------------------------------------------ sign up / wait


async def on_join(update: Update, context: ZyContext) -> None:
    action, activity_id, view = _parse(update)
    if activity_id is None or view is None:
        await _invalid(update, context)
        return
    t = context.t
    svc = context.services.signups
    try:
        if action == "join":
            result = await svc.sign_up(context.user.telegram_id, activity_id)
        else:
            result = await svc.join_waitlist(context.user.telegram_id, activity_id)
    except SignupRefused as error:
        await _refused(update, context, error, activity_id, view)
        return
    notices = {
        Outcome.CONFIRMED: t.gettext(
            "🎉 <b>You are signed up!</b> Thank you. Tap “Add to calendar” so you do not forget."
        ),
        Outcome.WAITLISTED: t.gettext(
            "⏳ <b>You are on the waitlist (number {position}).</b> If a spot frees up, I will "
            "offer it to you."
        ).format(position=result.position or 1),
        Outcome.ALREADY_CONFIRMED: t.gettext("✅ You were already signed up."),
        Outcome.ALREADY_WAITLISTED: t.gettext(
            "⏳ You are already on the waitlist (number {position})."
        ).format(position=result.position or 1),
        Outcome.ALREADY_OFFERED: t.gettext("🎁 A spot is already held for you: accept it below."),
    }
    await answer(update)
    await show_card(update, context, activity_id, view, notice=notices[result.outcome])


async def on_resume(update: Update, context: ZyContext) -> None:
    """``su:resume:<id>:<view>`` on a paused volunteer's card: resume, then the card again
    (now with Sign up)."""
    _, activity_id, view = _parse(update)
    if activity_id is None or view is None:
        await _invalid(update, context)
        return
    await context.services.registration.resume(context.user.telegram_id)
    await answer(update)
    notice = context.t.gettext("▶️ Welcome back! You are active again.")
    await show_card(update, context, activity_id, view, notice=notice)


# ------------------------------------------------------------------------------------- cancel


async def on_cancel_ask(update: Update, context: ZyContext) -> None:
    """``su:cx:<id>:<view>``: ask why (optional) before cancelling."""
    _, activity_id, view = _parse(update)
    if activity_id is None or view is None:
        await _invalid(update, context)
        return
    t = context.t
    activity = await context.services.activities.get(activity_id)
    if activity is None:
        await _invalid(update, context)
        return
    await answer(update)
    reasons = [
        [
            InlineKeyboardButton(
                t.gettext(label),
                callback_data=with_view("su", "cxr", activity_id, code, view=view),
            )
        ]
        for code, label in CANCEL_REASONS.items()
    ]
    rows = [
        *reasons,
        [
            InlineKeyboardButton(
                t.gettext("✍️ Type a reason"), callback_data=callback("su", "why", activity_id)
            )
        ],
        [
            InlineKeyboardButton(
                t.gettext("🚫 Cancel without a reason"),
                callback_data=with_view("su", "cxr", activity_id, "none", view=view),
            )
        ],
        [
            InlineKeyboardButton(
                t.gettext("↩️ Keep my sign-up"),
                callback_data=with_view("act", activity_id, view=view),
            )
        ],
    ]
    text = t.gettext(
        "Cancel your sign-up for <b>{title}</b> ({when})?\n\n"
        "If you like, tell the organizer why. It helps them plan."
    ).format(title=html(activity.title), when=when(t, activity))
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_cancel_reason(update: Update, context: ZyContext) -> None:
    """``su:cxr:<id>:<reason>:<view>``: cancel with a preset reason (or none)."""
    parts = split(update.callback_query.data if update.callback_query else None)
    activity_id = parse_id(parts[2]) if len(parts) > 2 else None
    code = parts[3] if len(parts) > 3 else ""
    view = View.parse(parts[4:]) if len(parts) > 4 else View(NOWHERE)
    if activity_id is None or view is None or (code != "none" and code not in CANCEL_REASONS):
        await _invalid(update, context)
        return
    # A preset is stored as its English message id (whoever reads it later translates it).
    note = CANCEL_REASONS.get(code)
    await _cancel(update, context, activity_id, view, note)


async def _cancel(
    update: Update, context: ZyContext, activity_id: int, view: View, note: str | None
) -> None:
    t = context.t
    try:
        cancelled = await context.services.signups.cancel(
            context.user.telegram_id, activity_id, note
        )
    except SignupRefused as error:
        await _refused(update, context, error, activity_id, view)
        return
    nudge_outbox(context)  # a freed spot may have produced an offer
    await answer(update)
    notice = {
        SignupStatus.CONFIRMED: t.gettext(
            "Your sign-up is cancelled. Thank you for letting us know in time."
        ),
        SignupStatus.WAITLISTED: t.gettext("You left the waitlist."),
        SignupStatus.OFFERED: t.gettext("OK, the spot goes to the next person on the waitlist."),
    }.get(cancelled.previous, "")
    await show_card(
        update, context, activity_id, view, notice=notice, new_message=update.callback_query is None
    )


async def on_why(update: Update, context: ZyContext) -> object:
    """``su:why:<id>``: wait for a typed reason."""
    _, activity_id, _view = _parse(update)
    if activity_id is None:
        await _invalid(update, context)
        return None
    # Owned before it is asked: a crash right after the question loses nothing.
    await take(context, CANCEL_REASON_FLOW, "reason", {"activity": activity_id})
    await answer(update)
    t = context.t
    await show(
        update,
        t.gettext(
            "Type your reason in one message (up to {limit} characters). Send /cancel to keep "
            "your sign-up."
        ).format(limit=MAX_CANCEL_NOTE_LENGTH),
    )
    return None


async def on_reason_text(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    t = context.t
    activity_id = owner.int_state("activity")
    message = update.effective_message
    if activity_id is None or message is None or message.text is None:
        await release(context, CANCEL_REASON_FLOW)
        return None
    try:
        note = clean_free_text(message.text, min_length=1, max_length=MAX_CANCEL_NOTE_LENGTH)
    except InvalidInput as error:
        await send(update, error.translate(t.gettext))
        return None  # still waiting for a reason
    await release(context, CANCEL_REASON_FLOW)
    await _cancel(update, context, activity_id, View(NOWHERE), note)
    return None


async def on_reason_other(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    """A pin or a contact where a reason was asked: say what is expected."""
    await send(
        update,
        context.t.gettext(
            "Type your reason in one message (up to {limit} characters). Send /cancel to keep "
            "your sign-up."
        ).format(limit=MAX_CANCEL_NOTE_LENGTH),
    )
    return None


async def on_reason_abandon(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    activity_id = owner.int_state("activity")
    notice = context.t.gettext("OK, your sign-up is kept.")
    if activity_id is not None:
        await show_card(
            update, context, activity_id, View(NOWHERE), notice=notice, new_message=True
        )
    else:
        await send(update, notice)
    return None


CANCEL_REASON_FLOW = "cancel_reason"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [
    Flow(
        CANCEL_REASON_FLOW,
        on_text=on_reason_text,
        on_other=on_reason_other,
        on_cancel=on_reason_abandon,
    )
]


# ------------------------------------------------------------------------------------- offers


async def on_offer(update: Update, context: ZyContext) -> None:
    """``su:acc:<signup_id>`` / ``su:dec:<signup_id>`` from an offer or the card."""
    action, signup_id, _ = _parse(update)
    if signup_id is None:
        await _invalid(update, context)
        return
    t = context.t
    svc = context.services.signups
    user_id = context.user.telegram_id
    # The service re-checks that the sign-up is this user's (a forged id is NOT_YOURS).
    try:
        if action == "acc":
            accepted = await svc.accept_offer(user_id, signup_id)
            activity_id = accepted.activity.activity_id
            notice = t.gettext("🎉 <b>The spot is yours.</b> See you there!")
        else:
            declined = await svc.decline_offer(user_id, signup_id)
            activity_id = declined.activity_id
            nudge_outbox(context)
            notice = t.gettext("OK, the spot goes to the next person on the waitlist. Thank you!")
    except SignupRefused as error:
        if error.activity is None:
            await _invalid(update, context)
            return
        await _refused(update, context, error, error.activity.activity_id, View(NOWHERE))
        return
    await answer(update)
    await show_card(update, context, activity_id, View(NOWHERE), notice=notice)


# ------------------------------------------------------------------------ calendar, map, share


async def on_calendar(update: Update, context: ZyContext) -> None:
    _, activity_id, _ = _parse(update)
    services = context.services
    activity = await services.activities.get(activity_id) if activity_id else None
    if activity is None or activity.status is ActivityStatus.DRAFT:
        await _invalid(update, context)
        return
    t = context.t
    await answer(update)
    link = deep_link(context.bot.username, activity.activity_id)
    description = "\n".join(
        part
        for part in (
            activity.description,
            t.gettext("Organizer: {organization}").format(organization=activity.organization_name),
            link,
        )
        if part
    )
    payload = activity_ics(
        activity,
        now=services.clock(),
        description=description,
        link=link,
        alarm_text=t.gettext("Volunteering soon: {title}").format(title=activity.title),
    )
    chat = update.effective_chat
    if chat is not None:
        await chat.send_document(
            io.BytesIO(payload),
            filename=f"zhiyuan-activity-{activity.activity_id}.ics",
            caption=t.gettext("Open this file to add “{title}” to your calendar.").format(
                title=activity.title
            ),
        )


async def on_map(update: Update, context: ZyContext) -> None:
    _, activity_id, _ = _parse(update)
    activity = await context.services.activities.get(activity_id) if activity_id else None
    if activity is None or activity.latitude is None or activity.longitude is None:
        await _invalid(update, context)
        return
    await answer(update)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_location(latitude=activity.latitude, longitude=activity.longitude)


# --------------------------------------------------------------------------- notifications


async def render_offer(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    signup_id = item.payload.get("signup_id")
    if not isinstance(signup_id, int):
        return None
    try:
        signup = await services.signups.signup_by_id(item.telegram_id, signup_id)
    except SignupRefused:
        return None  # the account is gone
    now = services.clock()
    if (
        signup.status is not SignupStatus.OFFERED
        or signup.offer_expires_at is None
        or signup.offer_expires_at <= now
    ):
        return None  # answered or expired meanwhile: stale
    activity = await services.activities.get(signup.activity_id)
    if activity is None or not activity.is_open_for_signup(now):
        return None
    text = t.gettext(
        "🎁 <b>A spot opened up for you!</b>\n\n"
        "<b>{title}</b>\n🕘 {when}\n📍 {place}\n\n"
        "It is held for you until <b>{deadline}</b>. Will you come?"
    ).format(
        title=html(activity.title),
        when=when(t, activity),
        place=html(activity.place),
        deadline=short_when(t, signup.offer_expires_at),
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("✅ Yes, I will come"), callback_data=callback("su", "acc", signup_id)
                ),
                InlineKeyboardButton(
                    t.gettext("🙅 No, pass it on"), callback_data=callback("su", "dec", signup_id)
                ),
            ],
            [
                InlineKeyboardButton(
                    t.gettext("ℹ️ Details"),
                    callback_data=callback("act", activity.activity_id, NOWHERE),
                )
            ],
        ]
    )
    return Rendered(text, markup)


async def render_offer_expired(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    signup_id = item.payload.get("signup_id")
    if not isinstance(signup_id, int):
        return None
    try:
        signup = await services.signups.signup_by_id(item.telegram_id, signup_id)
    except SignupRefused:
        return None
    if signup.status is not SignupStatus.CANCELLED:
        return None  # they joined again meanwhile
    activity = await services.activities.get(signup.activity_id)
    if activity is None or not activity.is_open_for_signup(services.clock()):
        return None
    text = t.gettext(
        "⌛ The spot held for you for <b>{title}</b> went to the next person, because there "
        "was no answer in time. You can join the waitlist again from the activity card."
    ).format(title=html(activity.title))
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("ℹ️ Details"),
                    callback_data=callback("act", activity.activity_id, NOWHERE),
                )
            ]
        ]
    )
    return Rendered(text, markup)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_why, pattern=r"^su:why:"))
    application.add_handler(CallbackQueryHandler(on_join, pattern=r"^su:(join|wait):"))
    application.add_handler(CallbackQueryHandler(on_resume, pattern=r"^su:resume:"))
    application.add_handler(CallbackQueryHandler(on_cancel_ask, pattern=r"^su:cx:"))
    application.add_handler(CallbackQueryHandler(on_cancel_reason, pattern=r"^su:cxr:"))
    application.add_handler(CallbackQueryHandler(on_offer, pattern=r"^su:(acc|dec):"))
    application.add_handler(CallbackQueryHandler(on_calendar, pattern=r"^su:ics:"))
    application.add_handler(CallbackQueryHandler(on_map, pattern=r"^su:map:"))


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.WAITLIST_OFFER: render_offer,
    NotificationKind.OFFER_EXPIRED: render_offer_expired,
}
