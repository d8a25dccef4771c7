"""Sign-up actions on the activity card, waitlist offers, the calendar file and the map pin.

```mermaid
flowchart LR
    card[Activity card] -->|su.join| signed[Card: signed up] & full[Card: full, join the waitlist?]
    card -->|su.join again, older card| already[Card: you are already signed up]
    full -->|su.wait| waiting[Card: number N on the waitlist]
    paused[Card of a paused volunteer] -->|su.resume| card
    signed & waiting -->|su.cx| why[Why? preset reasons]
    why -->|su.cx.reason code| cancelled[Card: cancelled]
    why -->|su.cx.type: take| typing((flow cancel_signup: type it))
    typing -->|text: release| cancelled
    typing -->|/cancel| kept[Card: sign-up kept]
    offer[Offer notification] -->|su.acc| signed
    offer -->|su.dec| declined[Spot passed on]
    card -->|su.ics| ics[.ics document]
    card -->|su.map| pin[Location pin]
    card -->|su:reg| reg[Registration] --> card
```

Every press is re-checked by :class:`~bot.services.signups.SignupService` against the stored
state; a refusal re-renders the card with the reason on top. The buttons carry the activity (or
the sign-up) and the view the card was opened from, so an older card's button acts on the
activity it showed; the typed reason's flow stores them too, so a restart between the question
and the answer loses nothing.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import ActivityStatus, SignupStatus
from bot.domain.flows import FlowOwner
from bot.domain.ics import activity_ics
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput, clean_free_text
from bot.i18n import N_, Translator
from bot.services.signups import MAX_CANCEL_NOTE_LENGTH, Outcome, Refusal, SignupRefused
from handlers.activity_view import (
    NOWHERE,
    Names,
    View,
    card_data,
    deep_link,
    refusal_text,
    refusal_toast,
    short_when,
    when,
)
from handlers.browse import render_menu, show_card
from handlers.callbacks import Press, parse_id, split
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, press_handlers
from handlers.refusals import RefusalTexts, ScreenAfterRefusal, refusing_with_screen
from handlers.render import answer, html, send, show
from handlers.signup_buttons import (
    OfferAccept,
    OfferDecline,
    SignupCalendar,
    SignupCancel,
    SignupCancelAsk,
    SignupCancelTyped,
    SignupJoin,
    SignupMap,
    SignupPromise,
    SignupResume,
    SignupWait,
)

log = logging.getLogger(__name__)

FLOW = "cancel_signup"
NO_REASON = "none"  # SignupCancel.code: cancel without a reason
PROMPT = N_("Please type your reason as text, or send /cancel to keep your sign-up.")

CANCEL_REASONS: dict[str, str] = {
    "ill": N_("🤒 I am unwell"),
    "plans": N_("📅 My plans changed"),
    "travel": N_("🚌 I cannot get there"),
}

#: Sign-up refusals are answered with the card (see :func:`card_on_refusal`); nothing else
#: is refused here.
TEXTS = RefusalTexts()

P = TypeVar("P", bound=Press)
SignupPress = Callable[[Update, ZyContext, P], Awaitable[object]]
CardPress = (
    SignupJoin
    | SignupWait
    | SignupPromise
    | SignupResume
    | SignupCancelAsk
    | SignupCancel
    | SignupCancelTyped
)


def _cutoff_hours(context: ZyContext) -> float:
    return context.services.signups.policy.cancel_cutoff.total_seconds() / 3600


def view_of(press: CardPress) -> View:
    """The view the card was opened from (a malformed one: the service menu)."""
    return View.from_code(press.view) or View(NOWHERE)


async def _refused(
    update: Update, context: ZyContext, error: SignupRefused, activity_id: int, view: View
) -> None:
    t = context.t
    await answer(update, refusal_toast(t, error))
    names = await Names.load(context.services, t)
    text = refusal_text(t, error, names, cutoff_hours=_cutoff_hours(context))
    await show_card(update, context, activity_id, view, notice=f"⚠️ {text}", names=names)


async def _card_after_refusal(
    update: Update, context: ZyContext, error: SignupRefused, press: object
) -> None:
    """A refused press shows the card as it is now with the reason on top (a press on a
    sign-up that is not the presser's says only that the button is no longer valid)."""
    activity = getattr(press, "activity_id", None) or (
        error.activity.activity_id if error.activity is not None else None
    )
    if activity is None:
        await invalid(update, context)
        return
    view = view_of(press) if isinstance(press, CardPress) else View(NOWHERE)
    await _refused(update, context, error, activity, view)


def card_on_refusal(handler: SignupPress[P]) -> SignupPress[P]:
    """A sign-up refusal anywhere in ``handler`` is answered with the card (through the one
    refusal path, :func:`handlers.refusals.refusing_with_screen`)."""
    screen: ScreenAfterRefusal[SignupRefused, P] = _card_after_refusal
    return refusing_with_screen(SignupRefused, screen)(handler)


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."))
    await render_menu(update, context)


# ------------------------------------------------------------------------------ sign up / wait


def _joined_notice(t: Translator, outcome: Outcome, position: int | None) -> str:
    return {
        Outcome.CONFIRMED: t.gettext(
            "🎉 <b>You are signed up!</b> Thank you. Tap “Add to calendar” so you do not forget."
        ),
        Outcome.WAITLISTED: t.gettext(
            "⏳ <b>You are on the waitlist (number {position}).</b> If a spot frees up, I will "
            "offer it to you."
        ).format(position=position or 1),
        Outcome.ALREADY_CONFIRMED: t.gettext("✅ You are already signed up."),
        Outcome.ALREADY_WAITLISTED: t.gettext(
            "⏳ You are already on the waitlist (number {position})."
        ).format(position=position or 1),
        Outcome.ALREADY_OFFERED: t.gettext("🎁 A spot is already held for you: accept it below."),
    }[outcome]


@card_on_refusal
async def on_join(
    update: Update, context: ZyContext, press: SignupJoin | SignupWait | SignupPromise
) -> None:
    svc = context.services.signups
    promised = isinstance(press, SignupPromise)
    waitlist = press.waitlist if isinstance(press, SignupPromise) else isinstance(press, SignupWait)
    try:
        if waitlist:
            result = await svc.join_waitlist(
                context.user.telegram_id, press.activity_id, promised=promised
            )
        else:
            result = await svc.sign_up(
                context.user.telegram_id, press.activity_id, promised=promised
            )
    except SignupRefused as error:
        if error.reason is not Refusal.PROMISE_NEEDED:
            raise
        await _ask_promise(update, context, press, error.no_shows, waitlist=waitlist)
        return
    notice = _joined_notice(context.t, result.outcome, result.position)
    # A press on an older card of an activity already joined: say so on the button too.
    already = result.outcome in (
        Outcome.ALREADY_CONFIRMED,
        Outcome.ALREADY_WAITLISTED,
        Outcome.ALREADY_OFFERED,
    )
    await answer(update, notice if already else None)
    await show_card(
        update, context, press.activity_id, view_of(press), notice=notice, activity=result.activity
    )


async def _ask_promise(
    update: Update,
    context: ZyContext,
    press: SignupJoin | SignupWait | SignupPromise,
    no_shows: int,
    *,
    waitlist: bool,
) -> None:
    """After several no-shows: say so kindly and ask for an explicit "I will come"."""
    await answer(update)
    t = context.t
    window_days = context.services.signups.policy.no_show_window.days
    text = t.ngettext(
        "In the last {days} days you did not come to {n} activity you had signed up for, and "
        "did not cancel. Organizers plan with everyone who signs up.\n\nWill you come this "
        "time? If your plans change, please cancel in /my so someone else can take the spot.",
        "In the last {days} days you did not come to {n} activities you had signed up for, and "
        "did not cancel. Organizers plan with everyone who signs up.\n\nWill you come this "
        "time? If your plans change, please cancel in /my so someone else can take the spot.",
        no_shows,
    ).format(days=window_days, n=no_shows)
    rows = [
        [
            SignupPromise(press.activity_id, press.view, waitlist).button(
                t.gettext("✅ Yes, I will come")
            )
        ]
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_resume(update: Update, context: ZyContext, press: SignupResume) -> None:
    """A paused volunteer resumes from the card; the card then offers to sign up."""
    if await context.services.registration.profile(context.user.telegram_id) is None:
        await invalid(update, context)
        return
    await context.services.registration.resume(context.user.telegram_id)
    t = context.t
    await answer(update)
    notice = t.gettext("▶️ Welcome back! Your volunteering is resumed.")
    await show_card(update, context, press.activity_id, view_of(press), notice=notice)


# ------------------------------------------------------------------------------------- cancel


async def on_cancel_ask(update: Update, context: ZyContext, press: SignupCancelAsk) -> None:
    """Ask why (optional) before cancelling."""
    t = context.t
    activity = await context.services.activities.get(press.activity_id)
    if activity is None:
        await invalid(update, context)
        return
    await answer(update)
    aid, view = press.activity_id, press.view
    rows = [
        [SignupCancel(aid, code, view).button(t.gettext(label))]
        for code, label in CANCEL_REASONS.items()
    ]
    rows += [
        [SignupCancelTyped(aid, view).button(t.gettext("✍️ Type a reason"))],
        [SignupCancel(aid, NO_REASON, view).button(t.gettext("🚫 Cancel without a reason"))],
        [
            InlineKeyboardButton(
                t.gettext("↩️ Keep my sign-up"),
                callback_data=card_data(aid, view_of(press)),
            )
        ],
    ]
    text = t.gettext(
        "Cancel your sign-up for <b>{title}</b> ({when})?\n\n"
        "If you like, tell the organizer why. It helps them plan."
    ).format(title=html(activity.title), when=when(t, activity))
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_cancel_reason(update: Update, context: ZyContext, press: SignupCancel) -> None:
    """Cancel with a preset reason (or none)."""
    if press.code != NO_REASON and press.code not in CANCEL_REASONS:
        await invalid(update, context)
        return
    # A preset is stored as its English message id (whoever reads it later translates it).
    note = CANCEL_REASONS.get(press.code)
    await _cancel(update, context, press.activity_id, view_of(press), note)


async def _cancel(
    update: Update, context: ZyContext, activity_id: int, view: View, note: str | None
) -> None:
    """Cancel, pressed or typed: a refusal shows the card with the reason (a new message
    when the reason was typed)."""
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


async def on_why(update: Update, context: ZyContext, press: SignupCancelTyped) -> None:
    """Wait for a typed reason (flow ``cancel_signup``; the activity and view are stored)."""
    await take(context, FLOW, "reason", {"activity": press.activity_id, "view": press.view})
    await answer(update)
    t = context.t
    await show(
        update,
        t.gettext(
            "Type your reason in one message (up to {limit} characters). Send /cancel to keep "
            "your sign-up."
        ).format(limit=MAX_CANCEL_NOTE_LENGTH),
    )


def _flow_card(owner: FlowOwner) -> tuple[int | None, View]:
    view = View.from_code(owner.str_state("view") or NOWHERE) or View(NOWHERE)
    return owner.int_state("activity"), view


async def on_reason_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    t = context.t
    activity_id, view = _flow_card(owner)
    message = update.effective_message
    if activity_id is None or message is None or message.text is None:
        await release(context, FLOW)
        return
    try:
        note = clean_free_text(message.text, min_length=1, max_length=MAX_CANCEL_NOTE_LENGTH)
    except InvalidInput as error:
        await send(update, error.translate(t.gettext))  # still waiting for the reason
        return
    await release(context, FLOW)
    await _cancel(update, context, activity_id, view, note)


async def on_reason_abandon(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    activity_id, view = _flow_card(owner)
    notice = context.t.gettext("OK, your sign-up is kept.")
    if activity_id is not None:
        await show_card(update, context, activity_id, view, notice=notice, new_message=True)
    else:
        await send(update, notice)


async def on_reason_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext(PROMPT))


# ------------------------------------------------------------------------------------- offers


@card_on_refusal
async def on_offer(update: Update, context: ZyContext, press: OfferAccept | OfferDecline) -> None:
    """From an offer or the card. The service re-checks that the sign-up is this user's (a
    forged id is NOT_YOURS, answered as an invalid button)."""
    t = context.t
    svc = context.services.signups
    user_id = context.user.telegram_id
    if isinstance(press, OfferAccept):
        accepted = await svc.accept_offer(user_id, press.signup_id)
        activity_id = accepted.activity.activity_id
        notice = t.gettext("🎉 <b>The spot is yours.</b> See you there!")
    else:
        declined = await svc.decline_offer(user_id, press.signup_id)
        activity_id = declined.activity_id
        nudge_outbox(context)
        notice = t.gettext("OK, the spot goes to the next person on the waitlist. Thank you!")
    await answer(update)
    await show_card(update, context, activity_id, View(NOWHERE), notice=notice)


# ------------------------------------------------------------------------ calendar, map, share


async def on_calendar(update: Update, context: ZyContext, press: SignupCalendar) -> None:
    services = context.services
    activity = await services.activities.get(press.activity_id)
    if activity is None or activity.status is ActivityStatus.DRAFT:
        await invalid(update, context)
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


async def on_map(update: Update, context: ZyContext, press: SignupMap) -> None:
    activity = await context.services.activities.get(press.activity_id)
    if activity is None or activity.latitude is None or activity.longitude is None:
        await invalid(update, context)
        return
    await answer(update)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_location(latitude=activity.latitude, longitude=activity.longitude)


# ------------------------------------------------------------------------------ old buttons

#: Old-format data handled here (``su:reg`` is registration's).
LEGACY = r"^su:(join|wait|cx|cxr|why|acc|dec|ics|map):"
#: The old sign-up presses an invitation's answer follows (:mod:`handlers.recruit`).
LEGACY_JOINS = r"^su:(join|wait):"

_BY_ID: dict[str, Callable[[int], Press]] = {
    "acc": OfferAccept,
    "dec": OfferDecline,
    "ics": SignupCalendar,
    "map": SignupMap,
}
_WITH_VIEW: dict[str, Callable[[int, str], Press]] = {
    "join": SignupJoin,
    "wait": SignupWait,
    "cx": SignupCancelAsk,
    "why": SignupCancelTyped,
}


def legacy_press(data: str) -> Press | None:
    """``su:<action>:<id>[:<reason>][:<view>]`` as drawn before the typed families (still on
    messages already sent, and by the campaign cards)."""
    parts = split(data)
    if len(parts) < 3:
        return None
    prefix, action, raw_target, *rest = parts
    target = parse_id(raw_target)
    if prefix != "su" or target is None:
        return None
    if action in _BY_ID:
        return _BY_ID[action](target) if not rest else None
    code = None
    if action == "cxr":
        if not rest:
            return None
        code, rest = rest[0], rest[1:]
    view = View.parse(rest) if rest else View(NOWHERE)
    if view is None:
        return None
    if code is not None:
        return SignupCancel.parse(f"{SignupCancel.prefix}:{target}:{code}:{view.code()}")
    family = _WITH_VIEW.get(action)
    return family(target, view.code()) if family is not None else None


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
                OfferAccept(signup_id).button(t.gettext("✅ Yes, I will come")),
                OfferDecline(signup_id).button(t.gettext("🙅 No, pass it on")),
            ],
            [
                InlineKeyboardButton(
                    t.gettext("ℹ️ Details"),
                    callback_data=card_data(activity.activity_id),
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
                    callback_data=card_data(activity.activity_id),
                )
            ]
        ]
    )
    return Rendered(text, markup)


#: What each of this module's button families does.
PRESSES: PressTable = {
    SignupJoin: on_join,
    SignupWait: on_join,
    SignupPromise: on_join,
    SignupResume: on_resume,
    SignupCancelAsk: on_cancel_ask,
    SignupCancel: on_cancel_reason,
    SignupCancelTyped: on_why,
    OfferAccept: on_offer,
    OfferDecline: on_offer,
    SignupCalendar: on_calendar,
    SignupMap: on_map,
}

FLOWS = [
    Flow(FLOW, on_text=on_reason_text, on_cancel=on_reason_abandon, on_other=on_reason_other),
]


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(
        PRESSES, texts=TEXTS, invalid=invalid, legacy=(LEGACY, legacy_press)
    ):
        application.add_handler(handler, group)


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.WAITLIST_OFFER: render_offer,
    NotificationKind.OFFER_EXPIRED: render_offer_expired,
}
