"""Attendance by hand: marking volunteers without phones, adding walk-ins, the audit trail.

```mermaid
flowchart LR
    card[Card / check-in display] -->|at.list id page| list[Attendance: signed up or present]
    list -->|at.p id volunteer| person[One person: times, distance, mark]
    person -->|at.m … mark| why[Why? quick reasons]
    why -->|at.why … mark reason| list
    list -->|at.walk id: take| who((flow attendance_walk_in: mobile / @username / #number))
    who -->|found| list
    who -->|not found / bad| who
    list -->|at.log id| log[Who changed what, when, why]
```

Every hand change keeps who, when and why (``attendance_changes``, written in the same
transaction as the change). The services re-check that the presser organizes the activity and
that the person is on its list; once the hours are confirmed nothing here changes them.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, ZyContext
from bot.domain.checkin import CheckMode
from bot.domain.contacts import mask_phone
from bot.domain.flows import FlowOwner
from bot.domain.hours import AttendanceMark
from bot.domain.refusals import Refused
from bot.domain.service_records import AttendanceEntry, RecordingActivity, RecordsRefusal
from bot.domain.validation import format_phone_for_display
from bot.i18n import Translator
from bot.services.attendance import MARK_REASONS
from handlers.flows import Flow, release, take
from handlers.manage import back_to_card
from handlers.press_table import PressTable, press_handlers
from handlers.record_buttons import (
    AttendanceList,
    AttendanceLog,
    AttendanceMarkAsk,
    AttendanceMarkWhy,
    AttendancePerson,
    CheckinOpen,
    HoursReview,
    WalkInAsk,
)
from handlers.record_texts import TEXTS, mark_label, pager_row, reason_label
from handlers.refusals import answer_refusal
from handlers.render import answer, html, send, show

PAGE_SIZE = 10
WALK_IN_FLOW = "attendance_walk_in"
FAR_MARK = "⚠️"

_REASONS_FOR: dict[AttendanceMark, tuple[str, ...]] = {
    AttendanceMark.PRESENT: ("no_phone", "code_failed", "seen_on_site"),
    AttendanceMark.LATE: ("no_phone", "code_failed", "seen_on_site"),
    AttendanceMark.ABSENT: ("did_not_come",),
    AttendanceMark.EXCUSED: ("told_us",),
}


def person_line(
    t: Translator, number: int, entry: AttendanceEntry, far_metres: int, no_shows: int = 0
) -> str:
    name = html(entry.name) if entry.name is not None else t.gettext("(deleted account)")
    parts = [f"{number}. <b>{name}</b>", mark_label(t, entry.mark)]
    if entry.checked_in_at is not None:
        span = t.format_clock(entry.checked_in_at)
        if entry.checked_out_at is not None:
            span += "–" + t.format_clock(entry.checked_out_at)
        parts.append(span)
    if entry.walk_in:
        parts.append(t.gettext("walk-in"))
    if entry.distance_m is not None:
        distance = t.gettext("📍 {metres} m").format(metres=entry.distance_m)
        if entry.distance_m > far_metres:
            distance += " " + FAR_MARK
        parts.append(distance)
    if no_shows:
        parts.append(
            t.ngettext("⚠️ {n} no-show lately", "⚠️ {n} no-shows lately", no_shows).format(n=no_shows)
        )
    return " · ".join(parts)


async def show_list(
    update: Update, context: ZyContext, activity_id: int, page: int, *, notice: str | None = None
) -> None:
    attendance = context.services.attendance
    activity, entries = await attendance.entries(context.user.telegram_id, activity_id)
    t = context.t
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    came = sum(1 for entry in entries if entry.mark is not None and entry.mark.served)
    lines = []
    if notice:
        lines += [notice, ""]
    lines += [
        t.gettext("🙋 <b>Attendance</b> · {title}").format(title=html(activity.title)),
        t.gettext("{came} came · {listed} on the list").format(came=came, listed=len(entries)),
        "",
    ]
    far = context.services.settings.checkin_far_metres
    missed = await attendance.no_show_counts(shown)
    if not entries:
        lines.append(t.gettext("Nobody has signed up or checked in yet."))
    for offset, entry in enumerate(shown):
        number = page * PAGE_SIZE + offset + 1
        lines.append(person_line(t, number, entry, far, missed.get(entry.volunteer_id, 0)))
    if entries:
        lines += ["", t.gettext("Tap a person to mark them by hand.")]
    rows: list[list[InlineKeyboardButton]] = []
    people = [
        AttendancePerson(activity_id, entry.volunteer_id).button(
            f"{page * PAGE_SIZE + offset + 1}. {entry.name or '—'}"[:40]
        )
        for offset, entry in enumerate(shown)
    ]
    rows += [people[i : i + 2] for i in range(0, len(people), 2)]
    nav = pager_row(t, page, pages, lambda p: AttendanceList(activity_id, p))
    if nav:
        rows.append(nav)
    if activity.hours_confirmed_at is None:
        rows.append(
            [
                WalkInAsk(activity_id).button(t.gettext("➕ Add a walk-in")),
                CheckinOpen(activity_id, CheckMode.IN).button(t.gettext("📲 Show the code")),
            ]
        )
    rows.append(
        [
            HoursReview(activity_id, 0).button(t.gettext("🕒 Hours")),
            AttendanceLog(activity_id).button(t.gettext("📜 Changes")),
        ]
    )
    rows.append(back_to_card(t.gettext("⬅️ Back to the activity"), activity_id))
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_list(update: Update, context: ZyContext, press: AttendanceList) -> None:
    await show_list(update, context, press.activity_id, press.page)
    await answer(update)


async def on_person(update: Update, context: ZyContext, press: AttendancePerson) -> None:
    activity, entry = await context.services.attendance.entry(
        context.user.telegram_id, press.activity_id, press.volunteer_id
    )
    await answer(update)
    await _show_person(update, context, activity, entry)


async def _show_person(
    update: Update, context: ZyContext, activity: RecordingActivity, entry: AttendanceEntry
) -> None:
    t = context.t
    far = context.services.settings.checkin_far_metres
    lines = [person_line(t, 1, entry, far).removeprefix("1. ")]
    if entry.phone:
        # As the consent text promises (bot.domain.contacts): in full to the organizers only.
        full = await context.services.contacts.sees_contacts(
            context.user.telegram_id, activity.organization_id
        )
        phone = format_phone_for_display(entry.phone) if full else mask_phone(entry.phone)
        lines.append(html(phone or ""))
    lines.append(
        t.gettext("Signed up") if entry.signed_up else t.gettext("Not signed up (walk-in)")
    )
    rows: list[list[InlineKeyboardButton]] = []
    if activity.hours_confirmed_at is None:
        lines += ["", t.gettext("Mark as:")]
        marks = [
            AttendanceMarkAsk(activity.activity_id, entry.volunteer_id, mark).button(
                mark_label(t, mark)
            )
            for mark in AttendanceMark
            if mark is not entry.mark
        ]
        rows += [marks[i : i + 2] for i in range(0, len(marks), 2)]
    rows.append([AttendanceList(activity.activity_id, 0).button(t.gettext("⬅️ Attendance"))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_mark_ask(update: Update, context: ZyContext, press: AttendanceMarkAsk) -> None:
    """Why? Quick reasons, so the audit trail says why without typing."""
    _activity, entry = await context.services.attendance.entry(
        context.user.telegram_id, press.activity_id, press.volunteer_id
    )
    await answer(update)
    t = context.t
    name = html(entry.name or "—")
    text = t.gettext("Mark <b>{name}</b> as {mark}. Why?").format(
        name=name, mark=mark_label(t, press.mark)
    )
    rows = [
        [
            AttendanceMarkWhy(press.activity_id, press.volunteer_id, press.mark, code).button(
                reason_label(t, code)
            )
        ]
        for code in _REASONS_FOR[press.mark]
    ]
    rows.append(
        [AttendancePerson(press.activity_id, press.volunteer_id).button(t.gettext("⬅️ Back"))]
    )
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_mark(update: Update, context: ZyContext, press: AttendanceMarkWhy) -> None:
    if press.reason not in MARK_REASONS:
        await invalid(update, context)
        return
    entry = await context.services.attendance.mark(
        context.user.telegram_id, press.activity_id, press.volunteer_id, press.mark, press.reason
    )
    t = context.t
    await answer(update, t.gettext("Saved."))
    notice = t.gettext("{name}: {mark}.").format(
        name=html(entry.name or "—"), mark=mark_label(t, entry.mark)
    )
    await show_list(update, context, press.activity_id, 0, notice=notice)


async def on_walk_in_ask(update: Update, context: ZyContext, press: WalkInAsk) -> None:
    activity = await context.services.attendance.activity_for(
        context.user.telegram_id, press.activity_id
    )
    await answer(update)
    await take(context, WALK_IN_FLOW, "who", {"activity": activity.activity_id})
    t = context.t
    await send(
        update,
        t.gettext(
            "Who came without signing up to <b>{title}</b>? Send their mobile number, their "
            "@username, or their volunteer number (like #12). They must be registered with "
            "this bot. Send /cancel to go back."
        ).format(title=html(activity.title)),
    )


async def on_walk_in_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    activity_id = owner.int_state("activity")
    if message is None or not message.text or activity_id is None:
        return

    try:
        entry = await context.services.attendance.add_walk_in(
            context.user.telegram_id, activity_id, message.text, "walk_in"
        )
    except Refused as error:
        # Nobody with that number: they may type it again; anything else ends the step.
        if error.reason is not RecordsRefusal.NO_SUCH_VOLUNTEER:
            await release(context, WALK_IN_FLOW)
        await answer_refusal(update, context, error, TEXTS)
        return
    await release(context, WALK_IN_FLOW)
    t = context.t
    notice = t.gettext("➕ {name} was added as a walk-in.").format(name=html(entry.name or "—"))
    await show_list(update, context, activity_id, 0, notice=notice)


async def on_walk_in_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await release(context, WALK_IN_FLOW)
    activity_id = owner.int_state("activity")
    if activity_id is not None:
        await show_list(update, context, activity_id, 0)


async def on_walk_in_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(
        update,
        context.t.gettext(
            "Please send a mobile number, an @username or a volunteer number, or /cancel."
        ),
    )


async def on_log(update: Update, context: ZyContext, press: AttendanceLog) -> None:
    records = context.services.records
    changes = await records.changes(context.user.telegram_id, press.activity_id)
    await answer(update)
    t = context.t
    lines = [t.gettext("📜 <b>Changes by hand</b> (newest first)"), ""]
    if not changes:
        lines.append(t.gettext("No changes by hand yet."))
    for change in changes[:30]:
        who = html(change.changed_by_name or "—")
        whom = html(change.volunteer_name or "") if change.volunteer_name else ""
        what = change.action
        if change.old_value or change.new_value:
            what += f" {html(change.old_value or '—')} → {html(change.new_value or '—')}"
        line = f"{t.format_moment(change.changed_at)} · {who}: {what}"
        if whom:
            line += f" · {whom}"
        if change.reason:
            line += f" · {html(reason_label(t, change.reason))}"
        lines.append(line)
    rows = [[AttendanceList(press.activity_id, 0).button(t.gettext("⬅️ Attendance"))]]
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


PRESSES: PressTable = {
    AttendanceList: on_list,
    AttendancePerson: on_person,
    AttendanceMarkAsk: on_mark_ask,
    AttendanceMarkWhy: on_mark,
    WalkInAsk: on_walk_in_ask,
    AttendanceLog: on_log,
}

FLOWS = [
    Flow(
        WALK_IN_FLOW,
        on_text=on_walk_in_text,
        on_cancel=on_walk_in_cancel,
        on_other=on_walk_in_other,
    )
]


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
