"""The working-day calendar for administrators (``/workdays``), the late-records list, the
recording reminders organizers receive, and the job that plans them.

```mermaid
stateDiagram-v2
    [*] --> Calendar: /workdays · wd.home
    Calendar --> Year: wd.year:<year> (holidays and make-up workdays of a year)
    Calendar --> Typing: wd.type (flow workdays_day takes the input)
    Year --> Typing: wd.type
    Typing --> Typing: unreadable day (localized reason, asked again)
    Typing --> Year: "2027-02-06 上班 春节调休" saved (release)
    Typing --> Calendar: /cancel (release)
    Year --> Year: wd.rm:<yyyymmdd> (remove an administrator's row; the package's day returns)
    Calendar --> Late: wd.late:<page> (activities past the deadline, paged)
    Late --> Card: mg.card:<activity> (the activity's management card)
```

Every press and every typed day is re-checked in the services (``services.workdays``,
``services.recording_deadlines``): only administrators pass; a forged ``wd.`` press from anyone
else is refused and changes nothing. While a day is being typed the flow ``workdays_day`` owns
the administrator's typed input (``flow_owners``, taken before the question is shown), so a
restart between the question and the answer loses nothing.

The job (every few minutes) plans the recording reminders (working days 3, 7 and 9 after an
activity, :mod:`bot.services.recording_deadlines`) and, from December 1, the warning that next
year's calendar is missing. Both are outbox rows with one key each, rendered here at send time
and dropped when they have gone stale (hours confirmed, a later reminder due, the year entered).
"""

from __future__ import annotations

import logging
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput
from bot.domain.workdays import MAX_YEAR, MIN_YEAR, CalendarDay, DayKind, DaySource
from bot.i18n import Translator
from bot.services.recording_deadlines import LATE_PAGE_SIZE, LatePage
from bot.services.staff import StaffRefusal, StaffRefused
from handlers.activity_view import clip
from handlers.callbacks import MenuItem, MenuOpen, Press
from handlers.flows import Flow, release, take
from handlers.manage_buttons import ManageCard
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import RefusalTexts
from handlers.render import answer, html, send, show
from handlers.staff import STAFF_REFUSALS, refuse_staff

log = logging.getLogger(__name__)

FLOW = "workdays_day"
RECENT_YEARS = 3  # years listed with a button on the calendar screen
MAX_REMOVE_BUTTONS = 20
MAX_LATE_PAGE = 9999

TEXTS = RefusalTexts(STAFF_REFUSALS)


# ------------------------------------------------------------------------------------- buttons


class WdHome(Press, prefix="wd.home"):
    pass


class WdYear(Press, prefix="wd.year"):
    year: int


class WdType(Press, prefix="wd.type"):
    pass


class WdRemove(Press, prefix="wd.rm"):
    """Remove the administrator's row of one day (``yyyymmdd``): an old button removes that
    day's row only, and only while it is an administrator's."""

    day: int


class WdLate(Press, prefix="wd.late"):
    page: int = 0


# ------------------------------------------------------------------------------------- helpers


def _packed_day(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _unpacked_day(value: int) -> date | None:
    try:
        day = date(value // 10_000, value // 100 % 100, value % 100)
    except (ValueError, OverflowError):  # a forged press: year out of range, or too big a number
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def _runs(days: list[CalendarDay]) -> list[tuple[CalendarDay, CalendarDay]]:
    """Consecutive days of one kind, name and source, as (first, last)."""
    runs: list[tuple[CalendarDay, CalendarDay]] = []
    for day in days:
        if runs:
            first, last = runs[-1]
            if (day.day - last.day).days == 1 and (day.kind, day.name, day.source) == (
                last.kind,
                last.name,
                last.source,
            ):
                runs[-1] = (first, day)
                continue
        runs.append((day, day))
    return runs


def _run_line(t: Translator, first: CalendarDay, last: CalendarDay) -> str:
    span = (
        first.day.strftime("%m-%d")
        if first.day == last.day
        else f"{first.day.strftime('%m-%d')} – {last.day.strftime('%m-%d')}"
    )
    mark = "🏖" if first.kind is DayKind.HOLIDAY else "💼"
    kind = t.gettext("holiday") if first.kind is DayKind.HOLIDAY else t.gettext("make-up workday")
    edited = t.gettext(" ✍️ by an administrator") if first.source is DaySource.ADMIN else ""
    name = f" {html(first.name)}" if first.name else ""
    return f"{mark} {span}{name} · {kind}{edited}"


def _saved_text(t: Translator, day: CalendarDay) -> str:
    if day.kind is DayKind.WORKDAY:
        text = t.gettext("✅ Saved: {day} is a working day.")
    else:
        text = t.gettext("✅ Saved: {day} is a day off.")
    return text.format(day=t.format_day(day.day, year=True))


def _prompt(t: Translator) -> str:
    return t.gettext(
        "Type one day: the date, then 上班 / workday or 休 / holiday, then a name. For example:\n"
        "<code>2027-02-06 上班 春节调休</code>\n"
        "<code>2027-02-06 workday Spring Festival</code>\n"
        "<code>2027-10-01 休 国庆节</code>\n"
        "A day you type replaces what the calendar had for it. Send /cancel to stop."
    )


def _missing_text(t: Translator, year: int) -> str:
    return t.gettext(
        "⚠️ The calendar has no data for {year} yet: until it is entered, only weekends count "
        "as days off in {year}, and recording deadlines there will be wrong around holidays. "
        "Type its holidays and make-up workdays as the State Council announced them."
    ).format(year=year)


# ------------------------------------------------------------------------------------- screens


async def show_home(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    services = context.services
    overview = await services.workdays.overview(context.user.telegram_id)
    lines = [notice, ""] if notice else []
    lines += [
        t.gettext("🗓 <b>Working-day calendar</b>"),
        t.gettext(
            "Hours are recorded within {days} working days after an activity. Weekends are off; "
            "this table adds the holidays and the make-up workdays (调休)."
        ).format(days=services.recording_deadlines.policy.deadline_days),
        "",
    ]
    years = overview.years
    if years:
        lines.append(t.gettext("<b>Years with data</b>"))
        older = years[:-RECENT_YEARS]
        if older:
            lines.append(
                t.gettext("{first}–{last}: from the maintained source").format(
                    first=older[0][0], last=older[-1][0]
                )
            )
        for year, holidays, workdays, edited in years[-RECENT_YEARS:]:
            line = t.gettext("{year}: {holidays} holidays, {workdays} make-up workdays").format(
                year=year, holidays=holidays, workdays=workdays
            )
            if edited:
                line += t.ngettext(
                    " ({n} entered by administrators)", " ({n} entered by administrators)", edited
                ).format(n=edited)
            lines.append(line)
    else:
        lines.append(t.gettext("No year has data yet."))
    if overview.next_year_missing:
        lines += ["", _missing_text(t, overview.next_year)]
    shown = [year for year, *_ in years[-RECENT_YEARS:]]
    if overview.next_year not in shown:
        shown.append(overview.next_year)
    rows: list[list[InlineKeyboardButton]] = [
        [WdYear(year).button(str(year)) for year in shown],
        [WdType().button(t.gettext("✏️ Add or change a day"))],
        [WdLate(0).button(t.gettext("⏰ Late records"))],
        [
            InlineKeyboardButton(
                t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
            )
        ],
    ]
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def show_year(
    update: Update, context: ZyContext, year: int, notice: str | None = None
) -> None:
    t = context.t
    days = await context.services.workdays.year(context.user.telegram_id, year)
    lines = [notice, ""] if notice else []
    lines.append(t.gettext("🗓 <b>{year}</b>").format(year=year))
    if days:
        lines += [_run_line(t, first, last) for first, last in _runs(days)]
    else:
        lines.append(_missing_text(t, year))
    rows: list[list[InlineKeyboardButton]] = []
    edited = [day for day in days if day.source is DaySource.ADMIN][:MAX_REMOVE_BUTTONS]
    for index in range(0, len(edited), 2):
        rows.append(
            [
                WdRemove(_packed_day(day.day)).button(
                    t.gettext("🗑 {day}").format(day=day.day.isoformat())
                )
                for day in edited[index : index + 2]
            ]
        )
    rows.append([WdType().button(t.gettext("✏️ Add or change a day"))])
    rows.append([WdHome().button(t.gettext("⬅️ Working-day calendar"))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


def _late_text(t: Translator, late: LatePage) -> str:
    lines = [t.gettext("⏰ <b>Late records</b> ({count})").format(count=late.total)]
    if not late.items:
        lines.append(t.gettext("Every activity past its deadline has its hours confirmed."))
        return "\n".join(lines)
    lines.append(
        t.gettext("Activities whose hours were not confirmed within the deadline, oldest first.")
    )
    lines.append("")
    for number, item in enumerate(late.items, start=late.page * LATE_PAGE_SIZE + 1):
        activity = item.activity
        overdue = t.ngettext(
            "{n} working day overdue", "{n} working days overdue", item.days_overdue
        ).format(n=item.days_overdue)
        lines.append(
            t.gettext("{number}. «{title}» · {organization} · ended {day} · {overdue}").format(
                number=number,
                title=html(activity.title),
                organization=html(activity.organization_name),
                day=t.format_day(item.ended_on, year=True),
                overdue=overdue,
            )
        )
    if late.pages > 1:
        lines += [
            "",
            t.gettext("Page {page} of {pages}").format(page=late.page + 1, pages=late.pages),
        ]
    return "\n".join(lines)


async def show_late(update: Update, context: ZyContext, page: int) -> None:
    t = context.t
    late = await context.services.recording_deadlines.late(context.user.telegram_id, page)
    rows: list[list[InlineKeyboardButton]] = []
    start = late.page * LATE_PAGE_SIZE + 1
    cards = [
        ManageCard(item.activity.activity_id).button(f"📋 {start + index}")
        for index, item in enumerate(late.items)
    ]
    rows += [cards[index : index + 5] for index in range(0, len(cards), 5)]
    paging = []
    if late.page > 0:
        paging.append(WdLate(late.page - 1).button(t.gettext("◀️ Previous")))
    if late.page + 1 < late.pages:
        paging.append(WdLate(late.page + 1).button(t.gettext("Next ▶️")))
    if paging:
        rows.append(paging)
    rows.append([WdHome().button(t.gettext("⬅️ Working-day calendar"))])
    await show(update, _late_text(t, late), InlineKeyboardMarkup(rows))


# ------------------------------------------------------------------------------------- presses


async def on_command(update: Update, context: ZyContext) -> None:
    """``/workdays``."""
    if not await context.services.staff.is_admin(context.user.telegram_id):
        await send(update, context.t.gettext("Sorry, this is only for administrators."))
        return
    await release(context, FLOW)
    await show_home(update, context)


async def on_home(update: Update, context: ZyContext, _press: WdHome) -> None:
    await show_home(update, context)
    await answer(update)


async def on_year(update: Update, context: ZyContext, press: WdYear) -> None:
    if not MIN_YEAR <= press.year <= MAX_YEAR:
        await context.services.staff.require_admin(context.user.telegram_id)
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    await show_year(update, context, press.year)
    await answer(update)


async def on_type(update: Update, context: ZyContext, _press: WdType) -> None:
    await context.services.staff.require_admin(context.user.telegram_id)
    await take(context, FLOW, "day")
    await answer(update)
    await send(update, _prompt(context.t))


async def on_remove(update: Update, context: ZyContext, press: WdRemove) -> None:
    t = context.t
    day = _unpacked_day(press.day)
    if day is None:
        await context.services.staff.require_admin(context.user.telegram_id)
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    removed = await context.services.workdays.remove(context.user.telegram_id, day)
    notice = (
        t.gettext("🗑 Your entry for {day} is removed.")
        if removed
        else t.gettext("{day} has no entry by an administrator (any more).")
    ).format(day=day.isoformat())
    await answer(update)
    await show_year(update, context, day.year, notice=notice)


async def on_late(update: Update, context: ZyContext, press: WdLate) -> None:
    if press.page > MAX_LATE_PAGE:
        await context.services.staff.require_admin(context.user.telegram_id)
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    await show_late(update, context, press.page)
    await answer(update)


async def invalid(update: Update, context: ZyContext) -> None:
    """Malformed ``wd.`` data: the staff answer to a button that is no longer valid."""
    await refuse_staff(update, context)


PRESSES: PressTable = {
    WdHome: on_home,
    WdYear: on_year,
    WdType: on_type,
    WdRemove: on_remove,
    WdLate: on_late,
}


# ------------------------------------------------------------------------------------- typing


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    t = context.t
    try:
        saved = await context.services.workdays.set_day(context.user.telegram_id, message.text)
    except InvalidInput as error:  # still waiting for a day
        await send(update, error.translate(t.gettext) + "\n\n" + _prompt(t))
        return
    await release(context, FLOW)
    await show_year(update, context, saved.day.year, notice=_saved_text(t, saved))


async def on_other(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await send(update, _prompt(context.t))


async def on_cancel(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, nothing was changed."))
    if await context.services.staff.is_admin(context.user.telegram_id):
        await show_home(update, context)


FLOWS = [Flow(FLOW, on_text=on_text, on_other=on_other, on_cancel=on_cancel)]


# ------------------------------------------------------------------------------ notifications


async def render_recording_due(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    """RECORDING_DUE to a manager or organizer; dropped once the hours are confirmed, when a
    later reminder is due instead, or when they no longer act for the organization."""
    activity_id, day = item.payload.get("activity_id"), item.payload.get("day")
    if not isinstance(activity_id, int) or not isinstance(day, int):
        return None
    due = await services.recording_deadlines.still_due(activity_id, day, item.telegram_id)
    if due is None:
        return None
    if due.days_left > 0:
        left = t.ngettext(
            "{n} working day left (until {deadline})",
            "{n} working days left (until {deadline})",
            due.days_left,
        )
    else:
        left = t.gettext("today ({deadline}) is the last working day")
    text = "\n".join(
        [
            t.gettext("⏰ <b>Record the service hours</b>"),
            "",
            t.gettext("The hours of «{title}» are not confirmed yet: {left}.").format(
                title=html(due.title),
                left=left.format(n=due.days_left, deadline=t.format_day(due.deadline)),
            ),
            t.gettext(
                "Service records are due within {days} working days after an activity. Open the "
                "activity to confirm its hours."
            ).format(days=services.recording_deadlines.policy.deadline_days),
        ]
    )
    markup = InlineKeyboardMarkup(
        [
            [
                ManageCard(due.activity_id).button(
                    t.gettext("📋 Open «{title}»").format(title=clip(due.title))
                )
            ]
        ]
    )
    return Rendered(text, markup)


async def render_workdays_missing(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    """WORKDAYS_MISSING to each administrator; dropped once the year has data."""
    year = item.payload.get("year")
    if not isinstance(year, int) or not await services.workdays.still_missing(
        year, item.telegram_id
    ):
        return None
    text = t.gettext("🗓 <b>Next year's working days</b>") + "\n\n" + _missing_text(t, year)
    markup = InlineKeyboardMarkup([[WdHome().button(t.gettext("🗓 Working-day calendar"))]])
    return Rendered(text, markup)


# ------------------------------------------------------------------------------------- the job


async def plan_recording(context: ZyContext) -> None:
    """The repeating job: recording reminders, and the missing-year warning."""
    services = context.services
    warned = await services.workdays.warn_missing_year()
    planned = await services.recording_deadlines.plan()
    if warned or planned:
        nudge_outbox(context)


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("workdays", on_command))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.RECORDING_DUE: render_recording_due,
    NotificationKind.WORKDAYS_MISSING: render_workdays_missing,
}
