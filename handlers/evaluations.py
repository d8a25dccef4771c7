"""The organizer rates each volunteer's service in an activity (民政部令第67号 Art. 10), 1–5 stars
and an optional comment, private to the organization's organizers and administrators.

```mermaid
flowchart LR
    entry[Hours review: eval.start activity] --> list[Volunteers with a record, rated or not]
    list -->|eval.list page| list
    list -->|eval.pick volunteer| pick["Name: ⭐1 … ⭐5"]
    pick -->|eval.rate n: take| comment((flow service_evaluation: a comment?))
    comment -->|text ≤ 300: release| list
    comment -->|too long / empty| comment
    comment -->|eval.skip or /cancel: release| list
    pick & comment -->|eval.list| list
```

Every press is re-checked by :class:`bot.services.evaluations.EvaluationService`: only members
of the activity's organization or administrators, and only for a volunteer with a record of
that activity; a forged press changes nothing. The volunteer is never told (no notification)
and never shown the rating: why, in :mod:`bot.domain.evaluations`.
"""

from __future__ import annotations

from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, ZyContext
from bot.domain.evaluations import COMMENT_MAX, STARS, ServedVolunteer, stars
from bot.domain.flows import FlowOwner
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.evaluations import EvaluationRefusal
from handlers.callbacks import Press
from handlers.flows import Flow, owned_by, release, take
from handlers.manage_steps import reprompt
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import GENERIC, RefusalTexts
from handlers.render import answer, html, send, show
from handlers.staff import STAFF_REFUSALS

FLOW = "service_evaluation"
ACTIVITY = "activity"
VOLUNTEER = "volunteer"
PROMPT = N_("Please type your comment as text, or press Skip.")


class EvalStart(Press, prefix="eval.start"):
    """Entry point (the hours review): the activity's volunteers to rate."""

    activity_id: int


class EvalList(Press, prefix="eval.list"):
    activity_id: int
    page: int


class EvalPick(Press, prefix="eval.pick"):
    activity_id: int
    volunteer_id: int


class EvalRate(Press, prefix="eval.rate"):
    activity_id: int
    volunteer_id: int
    stars: int


class EvalSkip(Press, prefix="eval.skip"):
    activity_id: int
    volunteer_id: int


_REFUSALS: dict[StrEnum, str] = {
    EvaluationRefusal.NOT_SERVED: N_("This volunteer has no record of this activity."),
    EvaluationRefusal.CLOSED: GENERIC,
    EvaluationRefusal.BAD_RATING: GENERIC,
    EvaluationRefusal.NOT_RATED: N_("Please choose a rating first."),
}
TEXTS = RefusalTexts(STAFF_REFUSALS, _REFUSALS)


def _name(t: Translator, volunteer: ServedVolunteer) -> str:
    return volunteer.name or t.gettext("(deleted account)")


def _rating_label(t: Translator, volunteer: ServedVolunteer) -> str:
    if volunteer.rating is None:
        return t.gettext("{name} · not rated").format(name=_name(t, volunteer))
    return f"{_name(t, volunteer)} · {stars(volunteer.rating)}"


async def show_list(
    update: Update, context: ZyContext, activity_id: int, page: int, *, notice: str = ""
) -> None:
    t = context.t
    found = await context.services.evaluations.served(context.user.telegram_id, activity_id, page)
    lines = [notice] if notice else []
    lines.append(
        t.gettext("🔒 <b>Service evaluations: {title}</b>").format(title=html(found.activity.title))
    )
    lines.append(
        t.gettext(
            "Only the organizers and administrators see these ratings; the volunteers do not."
        )
    )
    lines.append(
        t.ngettext(
            "{n} volunteer has a record of this activity.",
            "{n} volunteers have a record of this activity.",
            found.total,
        ).format(n=found.total)
    )
    rows = [
        [EvalPick(activity_id, v.volunteer_id).button(_rating_label(t, v))]
        for v in found.volunteers
    ]
    paging: list[InlineKeyboardButton] = []
    if found.page > 0:
        paging.append(EvalList(activity_id, found.page - 1).button(t.gettext("◀️ Previous")))
    if found.page + 1 < found.pages:
        paging.append(EvalList(activity_id, found.page + 1).button(t.gettext("Next ▶️")))
    if paging:
        rows.append(paging)
    text = "\n\n".join(lines)
    if update.callback_query is not None:
        await show(update, text, InlineKeyboardMarkup(rows))
    else:
        await send(update, text, InlineKeyboardMarkup(rows))


async def on_start(update: Update, context: ZyContext, press: EvalStart) -> None:
    await show_list(update, context, press.activity_id, 0)
    await answer(update)


async def on_list(update: Update, context: ZyContext, press: EvalList) -> None:
    await show_list(update, context, press.activity_id, press.page)
    await answer(update)


def _star_row(activity_id: int, volunteer_id: int) -> list[InlineKeyboardButton]:
    return [EvalRate(activity_id, volunteer_id, n).button(f"⭐{n}") for n in STARS]


def _current(t: Translator, volunteer: ServedVolunteer) -> str:
    if volunteer.rating is None:
        return t.gettext("Not rated yet.")
    line = t.gettext("Rating: {stars} ({n}/5)").format(
        stars=stars(volunteer.rating), n=volunteer.rating
    )
    if volunteer.comment:
        line += "\n" + t.gettext("Comment: {comment}").format(comment=html(volunteer.comment))
    return line


async def on_pick(update: Update, context: ZyContext, press: EvalPick) -> None:
    t = context.t
    activity, volunteer = await context.services.evaluations.served_volunteer(
        context.user.telegram_id, press.activity_id, press.volunteer_id
    )
    await answer(update)
    text = t.gettext(
        "🔒 <b>{name}</b> at <b>{title}</b>\n{current}\n\n"
        "How was their service? Only organizers and administrators see this."
    ).format(
        name=html(_name(t, volunteer)), title=html(activity.title), current=_current(t, volunteer)
    )
    rows = [
        _star_row(press.activity_id, press.volunteer_id),
        [EvalList(press.activity_id, 0).button(t.gettext("↩️ Back to the list"))],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_rate(update: Update, context: ZyContext, press: EvalRate) -> None:
    """Store the rating, then ask for an optional private comment."""
    t = context.t
    activity, volunteer = await context.services.evaluations.evaluate(
        context.user.telegram_id, press.activity_id, press.volunteer_id, press.stars
    )
    await take(
        context, FLOW, "comment", {ACTIVITY: press.activity_id, VOLUNTEER: press.volunteer_id}
    )
    await answer(update, t.gettext("Saved."))
    text = t.gettext(
        "🔒 <b>{name}</b> at <b>{title}</b>\n{current}\n\n"
        "Add a private comment? Type it (up to {limit} characters), or press Skip."
    ).format(
        name=html(_name(t, volunteer)),
        title=html(activity.title),
        current=_current(t, volunteer),
        limit=COMMENT_MAX,
    )
    rows = [
        _star_row(press.activity_id, press.volunteer_id),
        [EvalSkip(press.activity_id, press.volunteer_id).button(t.gettext("Skip"))],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_skip(update: Update, context: ZyContext, press: EvalSkip) -> None:
    owner = await owned_by(context, FLOW)
    if (
        owner is not None
        and owner.int_state(ACTIVITY) == press.activity_id
        and owner.int_state(VOLUNTEER) == press.volunteer_id
    ):
        await release(context, FLOW)
    await show_list(update, context, press.activity_id, 0)
    await answer(update)


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    activity_id = owner.int_state(ACTIVITY)
    volunteer_id = owner.int_state(VOLUNTEER)
    message = update.effective_message
    if activity_id is None or volunteer_id is None or message is None or message.text is None:
        await release(context, FLOW)
        return
    t = context.t
    try:
        _activity, volunteer = await context.services.evaluations.comment_evaluation(
            context.user.telegram_id, activity_id, volunteer_id, message.text
        )
    except InvalidInput as error:
        await send(update, error.translate(t.gettext))  # still waiting for it
        return
    await release(context, FLOW)
    notice = t.gettext("✅ Saved for {name}.").format(name=html(_name(t, volunteer)))
    await show_list(update, context, activity_id, 0, notice=notice)


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, no comment. The rating is kept."))


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {
    EvalStart: on_start,
    EvalList: on_list,
    EvalPick: on_pick,
    EvalRate: on_rate,
    EvalSkip: on_skip,
}

FLOWS = [Flow(FLOW, on_text=on_text, on_cancel=on_cancel, on_other=reprompt(PROMPT))]


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=_invalid):
        application.add_handler(handler, group)
