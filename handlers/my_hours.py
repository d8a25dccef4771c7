"""A volunteer's service record: ``/hours``, one record, and asking for a correction
(民政部令第67号 Art. 12–13).

```mermaid
flowchart LR
    cmd["/hours or 🕒 in /profile"] --> list[Totals, records page, trainings, awards, corrections]
    list -->|hrs.p page| list
    list -->|hrs.r id| record[The record: Art. 7 fields]
    record -->|hrs.fix id: take| hours((flow record_correction: proposed hours))
    hours -->|valid| reason((flow record_correction: reason))
    reason -->|valid: release| sent[Request sent; organizers told]
    hours & reason -->|/cancel| record
```

A record is read only through the presser's own volunteer id, so a forged record id shows
nothing. The organizer's decision comes back as a notification (:data:`RENDERERS`).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext
from bot.delivery import Rendered
from bot.domain.flows import FlowOwner
from bot.domain.hours import HoursInputError, parse_hours
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.refusals import Refused
from bot.domain.service_records import (
    CorrectionStatus,
    RecordKind,
    RecordsRefusal,
    RecordsRefused,
    ServiceRecord,
)
from bot.domain.validation import InvalidInput
from bot.i18n import Translator
from bot.services.service_records import RECORDS_PAGE_SIZE
from handlers.activity_view import Names
from handlers.certificate_buttons import CertMenu
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, press_handlers
from handlers.record_buttons import CorrectionAsk, MyHoursPage, MyRecord
from handlers.record_texts import TEXTS, hours_text, pager_row
from handlers.refusals import answer_refusal, refusing
from handlers.render import answer, html, send, show

FLOW = "record_correction"


def record_line(t: Translator, record: ServiceRecord) -> str:
    line = (
        f"{t.format_day(record.service_date)} · <b>{html(record.activity_title)}</b> · "
        f"{hours_text(t, record.minutes)}"
    )
    if record.kind is RecordKind.TRAINING:
        line += " · " + t.gettext("training")
    if record.pending_correction:
        line += " · " + t.gettext("correction requested")
    return line


async def show_hours(
    update: Update, context: ZyContext, page: int, *, new_message: bool = False
) -> None:
    records = context.services.records
    summary, shown, page = await records.my_hours(context.user.telegram_id, page)
    trainings, awards = await records.trainings_and_awards(context.user.telegram_id)
    t = context.t
    lines = [
        t.gettext("🕒 <b>My volunteer hours</b>"),
        t.gettext("This year: {year} · in all: {total} · {n} records").format(
            year=hours_text(t, summary.year_minutes),
            total=hours_text(t, summary.total_minutes),
            n=summary.records,
        ),
        "",
    ]
    if not shown:
        lines.append(
            t.gettext(
                "No records yet. After an activity, the organizer confirms your hours and they "
                "appear here."
            )
        )
    lines += [record_line(t, record) for record in shown]
    if trainings:
        lines += ["", t.gettext("🎓 <b>Trainings completed</b>")]
        lines += [
            f"{html(name)} · {html(issuer)} · {t.format_day(granted)}"
            for name, issuer, granted in trainings
        ]
    if awards:
        lines += ["", t.gettext("🏅 <b>Awards</b>")]
        lines += [
            f"{html(title)} · {html(issuer)} · {t.format_day(day)}" for title, issuer, day in awards
        ]
    rows: list[list[InlineKeyboardButton]] = [
        [
            MyRecord(record.record_id).button(
                f"{t.format_day(record.service_date)} {record.activity_title}"[:48]
            )
        ]
        for record in shown
    ]
    pages = max(1, -(-summary.records // RECORDS_PAGE_SIZE))
    nav = pager_row(t, page, pages, MyHoursPage)
    if nav:
        rows.append(nav)
    rows.append([CertMenu().button(t.gettext("📜 Certificate"))])
    markup = InlineKeyboardMarkup(rows) if rows else None
    if new_message:
        await send(update, "\n".join(lines), markup)
    else:
        await show(update, "\n".join(lines), markup)


@refusing(TEXTS)
async def on_command(update: Update, context: ZyContext) -> None:
    await show_hours(update, context, 0, new_message=True)


async def on_page(update: Update, context: ZyContext, press: MyHoursPage) -> None:
    await show_hours(update, context, press.page)
    await answer(update)


async def show_record(
    update: Update,
    context: ZyContext,
    record: ServiceRecord,
    *,
    notice: str | None = None,
    new_message: bool = False,
) -> None:
    t = context.t
    names = await Names.load(context.services, t)
    lines = [notice, ""] if notice else []
    lines += [
        t.gettext("📄 <b>Service record</b>"),
        t.labelled(t.gettext("Activity"), html(record.activity_title)),
        t.labelled(t.gettext("Date"), t.format_day(record.service_date, year=True)),
        t.labelled(t.gettext("Place"), html(record.place)),
        t.labelled(
            t.gettext("Service content"),
            html(names.category(record.category_code) if record.category_code else record.content),
        ),
        t.labelled(t.gettext("Hours"), hours_text(t, record.minutes)),
        t.labelled(t.gettext("Organizing unit"), html(record.organization_name)),
    ]
    if record.leader_name:
        lines.append(t.labelled(t.gettext("Person in charge"), html(record.leader_name)))
    if record.kind is RecordKind.TRAINING:
        lines.append(t.gettext("This was a training."))
    corrections = [
        c
        for c in await context.services.records.my_corrections(context.user.telegram_id)
        if c.record_id == record.record_id
    ]
    for correction in corrections:
        lines.append("")
        lines.append(
            _correction_line(
                t,
                correction.status,
                correction.old_minutes,
                correction.proposed_minutes,
                correction.decision_reason,
            )
        )
    rows: list[list[InlineKeyboardButton]] = []
    if not record.pending_correction:
        rows.append([CorrectionAsk(record.record_id).button(t.gettext("✏️ Request a correction"))])
    rows.append([MyHoursPage(0).button(t.gettext("⬅️ My hours"))])
    if new_message:
        await send(update, "\n".join(lines), InlineKeyboardMarkup(rows))
    else:
        await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


def _correction_line(
    t: Translator, status: CorrectionStatus, old: int, proposed: int, reason: str | None
) -> str:
    change = f"{hours_text(t, old)} → {hours_text(t, proposed)}"
    if status is CorrectionStatus.PENDING:
        return t.gettext("Correction requested ({change}): waiting for the organizer.").format(
            change=change
        )
    if status is CorrectionStatus.APPROVED:
        return t.gettext("Correction approved ({change}).").format(change=change)
    line = t.gettext("Correction rejected ({change}).").format(change=change)
    if reason:
        line += " " + t.gettext("Reason: {reason}").format(reason=html(reason))
    return line


async def on_record(update: Update, context: ZyContext, press: MyRecord) -> None:
    record = await context.services.records.my_record(context.user.telegram_id, press.record_id)
    await answer(update)
    await show_record(update, context, record)


async def on_correction_ask(update: Update, context: ZyContext, press: CorrectionAsk) -> None:
    record = await context.services.records.my_record(context.user.telegram_id, press.record_id)
    if record.pending_correction:
        raise RecordsRefused(RecordsRefusal.PENDING)
    await answer(update)
    await take(context, FLOW, "hours", {"record": record.record_id})
    t = context.t
    await send(
        update,
        t.gettext(
            "The record of <b>{title}</b> says {hours}. How many hours did you serve? Send a "
            "number such as 3 or 3.5, or /cancel."
        ).format(title=html(record.activity_title), hours=hours_text(t, record.minutes)),
    )


async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    record_id = owner.int_state("record")
    if message is None or not message.text or record_id is None:
        return
    t = context.t
    records = context.services.records
    if owner.waiting_for == "hours":
        try:
            minutes = parse_hours(message.text)
        except HoursInputError:
            await send(
                update, t.gettext("Please send a number of hours from 0 to 24, such as 3.5.")
            )
            return
        await take(context, FLOW, "reason", {"record": record_id, "minutes": minutes})
        await send(
            update,
            t.gettext(
                "Why should it be {hours}? Your reason goes to the organizer (2 to 200 characters)."
            ).format(hours=hours_text(t, minutes)),
        )
        return
    chosen = owner.int_state("minutes")
    if chosen is None:
        await release(context, FLOW)
        return
    try:
        await records.request_correction(context.user.telegram_id, record_id, chosen, message.text)
    except InvalidInput:
        await send(update, t.gettext("Please send a reason of 2 to 200 characters."))
        return
    except Refused as error:
        await release(context, FLOW)
        await answer_refusal(update, context, error, TEXTS)
        return
    await release(context, FLOW)
    record = await records.my_record(context.user.telegram_id, record_id)
    notice = t.gettext(
        "✉️ Your correction request was sent to the organizer. You will be told their decision."
    )
    await show_record(update, context, record, notice=notice, new_message=True)


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await release(context, FLOW)
    await send(update, context.t.gettext("The correction request was not sent."))


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Please answer with a text message, or send /cancel."))


# -- notifications -------------------------------------------------------------------------------


async def render_hours_recorded(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    activity_id = item.payload.get("activity")
    volunteer_id = item.payload.get("volunteer")
    if not isinstance(activity_id, int) or not isinstance(volunteer_id, int):
        return None
    record = await services.records.record_of(activity_id, volunteer_id)
    if record is None:
        return None
    lines = [
        t.gettext("🕒 Your hours for <b>{title}</b> ({day}) are recorded: {hours}.").format(
            title=html(record.activity_title),
            day=t.format_day(record.service_date),
            hours=hours_text(t, record.minutes),
        )
    ]
    if record.kind is RecordKind.TRAINING:
        lines.append(t.gettext("🎓 You completed this training."))
    lines.append(t.gettext("Thank you for your service! See all your hours with /hours."))
    markup = InlineKeyboardMarkup([[MyRecord(record.record_id).button(t.gettext("📄 The record"))]])
    return Rendered("\n".join(lines), markup)


async def render_correction_decided(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    correction_id = item.payload.get("correction")
    if not isinstance(correction_id, int):
        return None
    correction = await services.records.correction(correction_id)
    if correction is None or correction.status is CorrectionStatus.PENDING:
        return None
    head = t.gettext("About your correction request for <b>{title}</b> ({day}):").format(
        title=html(correction.activity_title), day=t.format_day(correction.service_date)
    )
    line = _correction_line(
        t,
        correction.status,
        correction.old_minutes,
        correction.proposed_minutes,
        correction.decision_reason,
    )
    markup = InlineKeyboardMarkup(
        [[MyRecord(correction.record_id).button(t.gettext("📄 The record"))]]
    )
    return Rendered(f"{head}\n{line}", markup)


RENDERERS: Renderers = {
    NotificationKind.HOURS_RECORDED: render_hours_recorded,
    NotificationKind.CORRECTION_DECIDED: render_correction_decided,
}


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


PRESSES: PressTable = {
    MyHoursPage: on_page,
    MyRecord: on_record,
    CorrectionAsk: on_correction_ask,
}

FLOWS = [Flow(FLOW, on_text=on_text, on_cancel=on_cancel, on_other=on_other)]


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("hours", on_command))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
