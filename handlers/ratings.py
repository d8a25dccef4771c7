"""The volunteer rates an activity they served in (民政部令第67号 Art. 10), 1–5 stars and an
optional comment.

```mermaid
flowchart LR
    confirm[Hours confirmed] -->|outbox: each volunteer with a record| ask["How was «X»? ⭐1 … ⭐5"]
    ask -->|rate.star activity, n: take| comment((flow activity_rating: a comment?))
    comment -->|text ≤ 300| saved[Thank you: rating and comment]
    comment -->|too long / empty| comment
    comment -->|rate.skip or /cancel: release| thanks[Thank you: rating only]
    saved & thanks & comment -->|rate.star again, within 7 days| comment
    ask -->|rating ≤ 2| managers[outbox: the organization's managers are told]
```

Every press is re-checked by :class:`bot.services.evaluations.EvaluationService`: the press
names the activity only, the volunteer is whoever pressed, and only one with a service record
for it may rate, within 7 days of the hours being confirmed. A forged or late press changes
nothing and is answered with the reason.
"""

from __future__ import annotations

from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.evaluations import COMMENT_MAX, STARS, stars
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.evaluations import EvaluationRefusal, RatingAsk
from handlers.callbacks import Press
from handlers.flows import Flow, owned_by, release, take
from handlers.manage_steps import reprompt
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import GENERIC, RefusalTexts
from handlers.render import answer, html, send, show

FLOW = "activity_rating"
ACTIVITY = "activity"
PROMPT = N_("Please type your comment as text, or press Skip.")


class RateStar(Press, prefix="rate.star"):
    """The volunteer's rating of an activity (whoever presses is the one rating)."""

    activity_id: int
    stars: int


class RateSkip(Press, prefix="rate.skip"):
    """No comment, thank you."""

    activity_id: int


_REFUSALS: dict[StrEnum, str] = {
    EvaluationRefusal.NOT_SERVED: N_("Only volunteers with a record of this activity can rate it."),
    EvaluationRefusal.CLOSED: N_("Rating this activity has closed."),
    EvaluationRefusal.BAD_RATING: GENERIC,
    EvaluationRefusal.NOT_RATED: N_("Please choose a rating first."),
}
TEXTS = RefusalTexts(_REFUSALS)


def star_row(activity_id: int) -> list[InlineKeyboardButton]:
    return [RateStar(activity_id, n).button(f"⭐{n}") for n in STARS]


def _rated_line(t: Translator, ask: RatingAsk) -> str:
    if ask.rating is None:
        return ""
    line = t.gettext("Your rating: {stars} ({n}/5)").format(
        stars=stars(ask.rating.rating), n=ask.rating.rating
    )
    if ask.rating.comment:
        line += "\n" + t.gettext("Your comment: {comment}").format(comment=html(ask.rating.comment))
    return line


def _until(t: Translator, services: Services, ask: RatingAsk) -> str:
    return t.gettext("You can change your rating until {day}.").format(
        day=t.format_day(ask.record.recorded_at + services.evaluations.window)
    )


async def render_rating_request(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    activity_id = item.payload.get("activity_id")
    if not isinstance(activity_id, int):
        return None
    ask = await services.evaluations.rating_request(item.telegram_id, activity_id)
    if ask is None:
        return None  # the window closed, the record is gone or the account was deleted
    text = t.gettext(
        "🙏 Thank you for volunteering at <b>{title}</b> ({day}).\n\n"
        "<b>How was it?</b> Rate the activity from 1 to 5 stars: your answer helps the "
        "organizers do better."
    ).format(title=html(ask.record.activity_title), day=t.format_day(ask.record.service_date))
    rated = _rated_line(t, ask)
    if rated:
        text += "\n\n" + rated
    return Rendered(text, InlineKeyboardMarkup([star_row(activity_id)]))


async def on_star(update: Update, context: ZyContext, press: RateStar) -> None:
    """Store the rating, then ask for an optional comment (the flow owns the next text)."""
    t = context.t
    ask = await context.services.evaluations.rate_activity(
        context.user.telegram_id, press.activity_id, press.stars
    )
    nudge_outbox(context)  # a low rating tells the managers
    await take(context, FLOW, "comment", {ACTIVITY: press.activity_id})
    await answer(update, t.gettext("Thank you!"))
    text = t.gettext(
        "Thank you for rating <b>{title}</b>.\n{rated}\n\n"
        "Would you like to add a comment? Type it (up to {limit} characters), or press Skip."
    ).format(title=html(ask.record.activity_title), rated=_rated_line(t, ask), limit=COMMENT_MAX)
    markup = InlineKeyboardMarkup(
        [star_row(press.activity_id), [RateSkip(press.activity_id).button(t.gettext("Skip"))]]
    )
    await show(update, text, markup)


async def _thanks(update: Update, context: ZyContext, ask: RatingAsk, *, edit: bool) -> None:
    t = context.t
    text = t.gettext("✅ Thank you! Your feedback on <b>{title}</b> is saved.\n{rated}").format(
        title=html(ask.record.activity_title), rated=_rated_line(t, ask)
    )
    text += "\n\n" + _until(t, context.services, ask)
    markup = InlineKeyboardMarkup([star_row(ask.record.activity_id)])
    if edit:
        await show(update, text, markup)
    else:
        await send(update, text, markup)


async def on_skip(update: Update, context: ZyContext, press: RateSkip) -> None:
    owner = await owned_by(context, FLOW)
    if owner is not None and owner.int_state(ACTIVITY) == press.activity_id:
        await release(context, FLOW)
    ask = await context.services.evaluations.rating_request(
        context.user.telegram_id, press.activity_id
    )
    if ask is None or ask.rating is None:
        await answer(update, context.t.gettext(GENERIC), alert=True)
        return
    await answer(update)
    await _thanks(update, context, ask, edit=True)


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    activity_id = owner.int_state(ACTIVITY)
    message = update.effective_message
    if activity_id is None or message is None or message.text is None:
        await release(context, FLOW)
        return
    try:
        ask = await context.services.evaluations.comment_activity(
            context.user.telegram_id, activity_id, message.text
        )
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))  # still waiting for it
        return
    await release(context, FLOW)
    await _thanks(update, context, ask, edit=False)


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, no comment. Your rating is kept."))


async def render_low_rating(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    activity_id = item.payload.get("activity_id")
    volunteer_id = item.payload.get("volunteer_id")
    if not isinstance(activity_id, int) or not isinstance(volunteer_id, int):
        return None
    low = await services.evaluations.low_rating(item.telegram_id, activity_id, volunteer_id)
    if low is None:
        return None  # rated up again, or the recipient no longer acts for the organization
    # No name: a volunteer's honest answer should not weigh on how their service is rated.
    text = t.gettext("⚠️ A volunteer rated <b>{title}</b> ({day}) {stars} ({n}/5).").format(
        title=html(low.record.activity_title),
        day=t.format_day(low.record.service_date),
        stars=stars(low.rating.rating),
        n=low.rating.rating,
    )
    if low.rating.comment:
        text += "\n\n" + t.gettext("Their comment: {comment}").format(
            comment=html(low.rating.comment)
        )
    return Rendered(text)


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {RateStar: on_star, RateSkip: on_skip}

FLOWS = [Flow(FLOW, on_text=on_text, on_cancel=on_cancel, on_other=reprompt(PROMPT))]

#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.RATING_REQUEST: render_rating_request,
    NotificationKind.LOW_ACTIVITY_RATING: render_low_rating,
}


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=_invalid):
        application.add_handler(handler, group)
