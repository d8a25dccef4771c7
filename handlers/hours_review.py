"""The organizer reviews and confirms the hours of an activity (民政部令第67号 Art. 7, 11).

```mermaid
flowchart LR
    card[Management card] -->|hr.rev id page| review[Everyone: times, mark, hours by the rule]
    review -->|hr.ed id volunteer: take| hours((flow hours_edit: hours))
    hours -->|valid| reason((flow hours_edit: reason))
    reason -->|valid: release| review
    review -->|hr.ext id: take| until((flow hours_extend: until when?))
    until -->|valid: release| review
    review -->|hr.ok id stamp| confirmed[Records written, volunteers told]
    review -->|hr.ok with an old stamp| review
```

"Confirm" carries the stamp of the list it was drawn under; a list that changed since (a late
check-in, another organizer's edit) is shown again instead of being confirmed unseen. After the
confirmation the screen lists the records and offers no more edits: records change only through
corrections (:mod:`handlers.corrections`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, ZyContext
from bot.domain.dateparse import wall_time
from bot.domain.flows import FlowOwner
from bot.domain.hours import HoursInputError, RoundingRule, parse_clock, parse_hours
from bot.domain.refusals import Refused
from bot.domain.service_records import (
    RecordingActivity,
    RecordsRefusal,
    RecordsRefused,
    ReviewLine,
    review_stamp,
)
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from handlers.evaluations import EvalStart
from handlers.flows import Flow, release, take
from handlers.manage import back_to_card
from handlers.press_table import PressTable, press_handlers
from handlers.record_buttons import (
    AttendanceList,
    HoursConfirm,
    HoursEdit,
    HoursExtend,
    HoursReview,
)
from handlers.record_texts import TEXTS, hours_text, mark_label, pager_row, reason_label
from handlers.refusals import answer_refusal
from handlers.render import answer, html, send, show

PAGE_SIZE = 15
EDIT_FLOW = "hours_edit"
EXTEND_FLOW = "hours_extend"

RULE_NAMES = {
    RoundingRule.HALF_HOUR: N_("completed half hours count"),
    RoundingRule.SHANCHENG: N_("up to 15 min: 0, 15–45 min: ½ h, over 45 min: 1 h"),
    RoundingRule.MINUTE: N_("exact minutes"),
}


def review_line(t: Translator, number: int, line: ReviewLine) -> str:
    entry = line.entry
    name = html(entry.name) if entry.name is not None else t.gettext("(deleted account)")
    parts = [f"{number}. <b>{name}</b>", mark_label(t, entry.mark)]
    if entry.checked_in_at is not None:
        span = t.format_clock(entry.checked_in_at) + "–"
        span += t.format_clock(entry.checked_out_at) if entry.checked_out_at else "?"
        parts.append(span)
    parts.append(hours_text(t, line.minutes))
    if entry.minutes_override is not None:
        parts.append(
            t.gettext("✏️ set by hand: {reason}").format(
                reason=html(reason_label(t, entry.override_reason or ""))
            )
        )
    if line.no_show:
        parts.append(t.gettext("no-show"))
    return " · ".join(parts)


async def show_review(
    update: Update,
    context: ZyContext,
    activity_id: int,
    page: int,
    *,
    notice: str | None = None,
    new_message: bool = False,
) -> None:
    records = context.services.records
    activity, lines = await records.review(context.user.telegram_id, activity_id)
    t = context.t
    settings = context.services.settings
    pages = max(1, -(-len(lines) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = lines[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    served = [line for line in lines if line.minutes > 0]
    total = sum(line.minutes for line in served)
    no_shows = sum(1 for line in lines if line.no_show)
    text = []
    if notice:
        text += [notice, ""]
    span = t.format_span(activity.starts_at, activity.credit_until or activity.ends_at)
    text += [
        t.gettext("🕒 <b>Hours</b> · {title}").format(title=html(activity.title)),
        span,
        t.gettext("Rule: {rule}; at most {max} h a day.").format(
            rule=t.gettext(RULE_NAMES[settings.hours_rounding]), max=settings.max_hours_per_day
        ),
    ]
    if activity.credit_until is not None:
        text.append(
            t.gettext("Extended: hours count until {time}.").format(
                time=t.format_clock(activity.credit_until)
            )
        )
    if not activity.is_volunteering:
        text.append(t.gettext("This activity is not recorded as volunteer service."))
    text.append("")
    if not lines:
        text.append(t.gettext("Nobody signed up or checked in."))
    for offset, line in enumerate(shown):
        text.append(review_line(t, page * PAGE_SIZE + offset + 1, line))
    text += [
        "",
        t.ngettext(
            "Total: {hours} for {n} volunteer",
            "Total: {hours} for {n} volunteers",
            len(served),
        ).format(hours=hours_text(t, total), n=len(served)),
    ]
    if no_shows:
        text.append(t.ngettext("{n} no-show", "{n} no-shows", no_shows).format(n=no_shows))
    rows: list[list[InlineKeyboardButton]] = []
    aid = activity.activity_id
    if activity.hours_confirmed_at is not None:
        text += [
            "",
            t.gettext("✅ Confirmed on {when}. Changes now go through correction requests.").format(
                when=t.format_moment(activity.hours_confirmed_at)
            ),
        ]
        if activity.is_volunteering and served:
            # Art. 10: the organizer's own evaluation of each volunteer's service (private).
            rows.append([EvalStart(aid).button(t.gettext("⭐ Evaluate the volunteers"))])
    else:
        edits = [
            HoursEdit(aid, line.entry.volunteer_id).button(f"✏️ {page * PAGE_SIZE + offset + 1}")
            for offset, line in enumerate(shown)
            if line.entry.mark is not None and line.entry.mark.served
        ]
        rows += [edits[i : i + 5] for i in range(0, len(edits), 5)]
    nav = pager_row(t, page, pages, lambda p: HoursReview(aid, p))
    if nav:
        rows.append(nav)
    if activity.hours_confirmed_at is None:
        rows.append(
            [
                HoursExtend(aid).button(t.gettext("⏱ Extend the end")),
                AttendanceList(aid, 0).button(t.gettext("🙋 Attendance")),
            ]
        )
        if records.now() >= activity.ends_at:
            label = t.ngettext(
                "✅ Confirm {hours} for {n} volunteer",
                "✅ Confirm {hours} for {n} volunteers",
                len(served),
            ).format(hours=hours_text(t, total), n=len(served))
            rows.append([HoursConfirm(aid, review_stamp(lines)).button(label)])
        else:
            text.append(
                t.gettext("You can confirm the hours after the end ({time}).").format(
                    time=t.format_clock(activity.ends_at)
                )
            )
    rows.append(back_to_card(t.gettext("⬅️ Back to the activity"), aid))
    markup = InlineKeyboardMarkup(rows)
    if new_message:
        await send(update, "\n".join(text), markup)
    else:
        await show(update, "\n".join(text), markup)


async def on_review(update: Update, context: ZyContext, press: HoursReview) -> None:
    await show_review(update, context, press.activity_id, press.page)
    await answer(update)


async def on_confirm(update: Update, context: ZyContext, press: HoursConfirm) -> None:
    records = context.services.records
    t = context.t
    try:
        report = await records.confirm(context.user.telegram_id, press.activity_id, press.stamp)
    except RecordsRefused as error:
        if error.reason is RecordsRefusal.CHANGED:
            await answer_refusal(update, context, error, TEXTS)
            await show_review(update, context, press.activity_id, 0, new_message=True)
            return
        raise
    await answer(update, t.gettext("Confirmed."))
    notice = t.ngettext(
        "✅ Hours confirmed: {n} record, {hours} in all. The volunteer is told.",
        "✅ Hours confirmed: {n} records, {hours} in all. The volunteers are told.",
        report.records,
    ).format(n=report.records, hours=hours_text(t, report.total_minutes))
    if report.qualifications_granted:
        notice += "\n" + t.ngettext(
            "{n} volunteer completed the training and now holds its qualification.",
            "{n} volunteers completed the training and now hold its qualification.",
            report.qualifications_granted,
        ).format(n=report.qualifications_granted)
    await show_review(update, context, press.activity_id, 0, notice=notice)


# -- editing one person's hours ----------------------------------------------------------------


async def on_edit(update: Update, context: ZyContext, press: HoursEdit) -> None:
    records = context.services.records
    activity, lines = await records.review(context.user.telegram_id, press.activity_id)
    line = next((x for x in lines if x.entry.volunteer_id == press.volunteer_id), None)
    if line is None or activity.hours_confirmed_at is not None:
        raise RecordsRefused(
            RecordsRefusal.NOT_YOURS if line is None else RecordsRefusal.ALREADY_CONFIRMED
        )
    await answer(update)
    await take(
        context,
        EDIT_FLOW,
        "hours",
        {"activity": activity.activity_id, "volunteer": press.volunteer_id},
    )
    t = context.t
    await send(
        update,
        t.gettext(
            "How many hours should <b>{name}</b> get for this activity? Now: {hours}. Send a "
            "number such as 2 or 2.5, or /cancel."
        ).format(name=html(line.entry.name or "—"), hours=hours_text(t, line.minutes)),
    )


async def on_edit_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    activity_id = owner.int_state("activity")
    volunteer_id = owner.int_state("volunteer")
    if message is None or not message.text or activity_id is None or volunteer_id is None:
        return
    t = context.t
    if owner.waiting_for == "hours":
        try:
            minutes = parse_hours(
                message.text, max_minutes=context.services.settings.max_hours_per_day * 60
            )
        except HoursInputError:
            await send(
                update,
                t.gettext(
                    "Please send a number of hours from 0 to {max}, such as 2 or 2.5."
                ).format(max=context.services.settings.max_hours_per_day),
            )
            return
        await take(
            context,
            EDIT_FLOW,
            "reason",
            {"activity": activity_id, "volunteer": volunteer_id, "minutes": minutes},
        )
        await send(
            update,
            t.gettext("Why {hours}? A short reason is kept with the change.").format(
                hours=hours_text(t, minutes)
            ),
        )
        return
    chosen = owner.int_state("minutes")
    if chosen is None:
        await release(context, EDIT_FLOW)
        return
    try:
        await context.services.records.set_minutes(
            context.user.telegram_id, activity_id, volunteer_id, chosen, message.text
        )
    except InvalidInput:
        await send(update, t.gettext("Please send a reason of 2 to 200 characters."))
        return
    except Refused as error:
        await release(context, EDIT_FLOW)
        await answer_refusal(update, context, error, TEXTS)
        return
    await release(context, EDIT_FLOW)
    await show_review(
        update, context, activity_id, 0, notice=t.gettext("✏️ Saved."), new_message=True
    )


# -- extending the end -------------------------------------------------------------------------


async def on_extend(update: Update, context: ZyContext, press: HoursExtend) -> None:
    activity, _lines = await context.services.records.review(
        context.user.telegram_id, press.activity_id
    )
    if activity.hours_confirmed_at is not None:
        raise RecordsRefused(RecordsRefusal.ALREADY_CONFIRMED)
    await answer(update)
    await take(context, EXTEND_FLOW, "until", {"activity": activity.activity_id})
    t = context.t
    await send(
        update,
        t.gettext(
            "The activity was planned to end at {time}. Until what time should hours count? "
            "Send a time such as 12:30, or /cancel."
        ).format(time=t.format_clock(activity.ends_at)),
    )


def _until(activity: RecordingActivity, text: str, tz: Any) -> datetime | None:
    moment = parse_clock(text)
    if moment is None:
        return None
    day = activity.ends_at.astimezone(tz).date()
    return wall_time(day, moment, tz)


async def on_extend_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    activity_id = owner.int_state("activity")
    if message is None or not message.text or activity_id is None:
        return
    records = context.services.records
    t = context.t
    activity, _lines = await records.review(context.user.telegram_id, activity_id)
    until = _until(activity, message.text, records.tz)
    if until is None or until <= activity.ends_at:
        await send(
            update,
            t.gettext("Please send a time after {time}, such as 12:30.").format(
                time=t.format_clock(activity.ends_at)
            ),
        )
        return
    try:
        await records.extend(context.user.telegram_id, activity_id, until)
    except Refused as error:
        await release(context, EXTEND_FLOW)
        await answer_refusal(update, context, error, TEXTS)
        return
    await release(context, EXTEND_FLOW)
    notice = t.gettext("⏱ Hours now count until {time}.").format(time=t.format_clock(until))
    await show_review(update, context, activity_id, 0, notice=notice, new_message=True)


async def on_flow_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await release(context, owner.flow)
    activity_id = owner.int_state("activity")
    if activity_id is not None:
        await show_review(update, context, activity_id, 0, new_message=True)


async def on_flow_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Please answer with a text message, or send /cancel."))


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


PRESSES: PressTable = {
    HoursReview: on_review,
    HoursConfirm: on_confirm,
    HoursEdit: on_edit,
    HoursExtend: on_extend,
}

FLOWS = [
    Flow(EDIT_FLOW, on_text=on_edit_text, on_cancel=on_flow_cancel, on_other=on_flow_other),
    Flow(EXTEND_FLOW, on_text=on_extend_text, on_cancel=on_flow_cancel, on_other=on_flow_other),
]


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
