"""An organization's activities and each one's management card: the lists (upcoming / past /
drafts), the card with the actions its state allows, and closing or reopening sign-up early.

```mermaid
flowchart LR
    home[Organization home] -->|mg.list| list[Activities: upcoming / past / drafts]
    list -->|mg.list tab, page| list
    list -->|mg.card| card[Management card]
    list -->|pub:draft| draft[Draft: publishing]
    card -->|ed| edit[Edit: publishing]
    card -->|rc.list| recruit[Find volunteers: recruiting]
    card -->|mg.roster · mg.export| roster[Roster and exports: roster]
    card -->|mg.cx| cancel[Cancel the activity: cancel_activity]
    card -->|mg.msg| message[Message participants: message_participants]
    card -->|mg.dup| duplicate[Duplicate: duplicate_activity]
    card -->|mg.signups close / open| card
```

Every press asks
:class:`~bot.services.activity_management.ActivityManagementService`, which re-authorizes it with
:class:`~bot.services.staff.StaffService`: a forged or stale press (another organization's
activity, a volunteer replaying an organizer's button) gets a short refusal and changes
nothing. An action the activity's state no longer allows (closing sign-up of a cancelled one)
is refused with the card as it is now.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Services, ZyContext, nudge_outbox
from bot.domain.activities import Activity, ActivityStatus, ActivityTab, Page
from bot.domain.checkin import CheckMode
from bot.domain.exports import RosterPage
from bot.i18n import N_, Translator
from bot.services.activity_management import (
    Action,
    ManageRefusal,
    ManageRefused,
    actions,
    shown_cancel_reason,
)
from handlers.activity_view import clip, short_when, when
from handlers.callbacks import MenuItem, MenuOpen, Press, callback
from handlers.manage_buttons import (
    LEGACY_CARD,
    CancelAsk,
    DuplicateStart,
    ExportKind,
    ManageCard,
    ManageList,
    ManageSignups,
    MessageStart,
    RosterExport,
    RosterShown,
    legacy_press,
)
from handlers.press_table import PressTable, press_handlers
from handlers.record_buttons import AttendanceList, CheckinOpen, HoursReview
from handlers.record_texts import pager_row
from handlers.recruit import RecruitList
from handlers.refusals import RefusalTexts
from handlers.render import answer, html, send, show
from handlers.report_buttons import FiguresShow
from handlers.staff import STAFF_REFUSALS, refuse_staff

MANAGE_REFUSALS: dict[StrEnum, str] = {
    ManageRefusal.NOT_NOW: N_("That is no longer possible for this activity."),
    ManageRefusal.NOBODY: N_("Nobody is signed up to receive it."),
    ManageRefusal.NO_DRAFT: N_("This step is over. Please start again."),
}

#: A confirmation drawn for text that was typed again since (its stamp no longer matches).
STALE = N_("This button is from an earlier screen, so nothing was done. Please use the latest one.")

#: Refusals of every managing press (staff checks and the activity's state).
TEXTS = RefusalTexts(cast("Mapping[StrEnum, str]", STAFF_REFUSALS), MANAGE_REFUSALS)

P = TypeVar("P", bound=Press)
CardPress = Callable[[Update, ZyContext, P], Awaitable[object]]


async def invalid(update: Update, context: ZyContext) -> None:
    """Malformed callback data: the staff answer to a button that is no longer valid."""
    await refuse_staff(update, context)


def card_on_refusal(handler: CardPress[P]) -> CardPress[P]:
    """An action the activity's state no longer allows: the alert, then the card as it is now
    (the organizer sees why). Other refusals go to the module's :data:`TEXTS`."""

    @functools.wraps(handler)
    async def wrapped(update: Update, context: ZyContext, press: P) -> object:
        try:
            return await handler(update, context, press)
        except ManageRefused as error:
            await refuse_with_card(update, context, error)
            return None

    return wrapped


async def refuse_with_card(update: Update, context: ZyContext, error: ManageRefused) -> None:
    text = context.t.gettext(MANAGE_REFUSALS[error.reason])
    await answer(update, text, alert=True)
    if error.activity is not None:
        await show_card(update, context, error.activity, notice=text)


# ------------------------------------------------------------------------------- the list

TAB_LABELS = {
    ActivityTab.UPCOMING: N_("📅 Upcoming"),
    ActivityTab.PAST: N_("🕘 Ended"),
    ActivityTab.DRAFTS: N_("📝 Drafts"),
}


def counts_text(t: Translator, activity: Activity) -> str:
    text = t.gettext("{confirmed}/{capacity}").format(
        confirmed=activity.confirmed_count, capacity=activity.capacity
    )
    if activity.waitlist_count:
        text += " · " + t.gettext("⏳ {n} waiting").format(n=activity.waitlist_count)
    return text


def _marker(activity: Activity, now: datetime) -> str:
    if activity.status is ActivityStatus.CANCELLED:
        return "❌ "
    if activity.status is ActivityStatus.PUBLISHED and now >= activity.signup_closes_at:
        return "⏸ " if now < activity.starts_at else ""
    return ""


async def on_list(update: Update, context: ZyContext, press: ManageList) -> None:
    services = context.services
    user_id = context.user.telegram_id
    tab = press.tab
    organization = await services.staff.organization_for(user_id, press.organization_id)
    page = await services.management.activities_of(user_id, press.organization_id, tab, press.page)
    await answer(update)
    t = context.t
    now = services.management.now()
    lines = [
        t.gettext("<b>📋 Activities of {organization}</b>").format(
            organization=html(organization.name)
        ),
        t.gettext(TAB_LABELS[tab]),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    draft_rows = (
        await _publishing_drafts(services, press.organization_id)
        if tab is ActivityTab.DRAFTS
        else []
    )
    if not page.items and not draft_rows:
        lines.append(
            {
                ActivityTab.UPCOMING: t.gettext("No upcoming activities. Publish one with ➕."),
                ActivityTab.PAST: t.gettext("No past or cancelled activities yet."),
                ActivityTab.DRAFTS: t.gettext("No drafts."),
            }[tab]
        )
    for number, (label, data) in enumerate(draft_rows, start=1):
        lines.append(f"{number}. 📝 {html(label)}")
        rows.append([InlineKeyboardButton(f"{number}. {clip(label)}", callback_data=data)])
    first = page.page * page.page_size + len(draft_rows) + 1
    for number, activity in enumerate(page.items, start=first):
        lines.append(
            f"{number}. {_marker(activity, now)}{short_when(t, activity.starts_at)} · "
            f"<b>{html(activity.title)}</b> · {counts_text(t, activity)}"
        )
        rows.append([ManageCard(activity.activity_id).button(f"{number}. {clip(activity.title)}")])
    rows += pager(t, page, lambda number: ManageList(press.organization_id, tab, number))
    rows.append(
        [
            ManageList(press.organization_id, other).button(
                ("• " if other is tab else "") + t.gettext(TAB_LABELS[other])
            )
            for other in ActivityTab
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("➕ New activity"),
                callback_data=callback("pub", "new", press.organization_id),
            ),
            InlineKeyboardButton(
                t.gettext("⬅️ Back"), callback_data=MenuOpen(MenuItem.ORGANIZE).pack()
            ),
        ]
    )
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def _publishing_drafts(services: Services, organization_id: int) -> list[tuple[str, str]]:
    """Unpublished drafts of the /new conversation (publishing's table), as (label, callback
    data); the caller has authorized the organization."""
    found: list[tuple[str, str]] = []
    for draft in await services.publishing.drafts_of(organization_id):
        title = draft.data.title or "…"
        found.append((title, callback("pub", "draft", draft.draft_id)))
    return found


def pager(
    t: Translator, page: Page | RosterPage, at: Callable[[int], Press]
) -> list[list[InlineKeyboardButton]]:
    """◀️ n / N ▶️ for a paged screen; ``at`` makes the press that shows a page."""
    row = pager_row(t, page.page, page.pages, at)
    return [row] if row else []


# ------------------------------------------------------------------------ the management card


def card_text(
    t: Translator, activity: Activity, now: datetime, *, notice: str | None = None
) -> str:
    lines: list[str] = []
    if notice:
        lines += [notice, ""]
    lines.append(f"<b>{html(activity.title)}</b>")
    lines.append(
        t.gettext("🏢 {organization}").format(organization=html(activity.organization_name))
    )
    lines.append(t.gettext("🕘 {when}").format(when=when(t, activity)))
    lines.append(t.gettext("📍 {place}").format(place=html(activity.place)))
    lines.append(
        t.gettext(
            "👥 {confirmed} of {capacity} signed up · {offered} offered · {waiting} waiting"
        ).format(
            confirmed=activity.confirmed_count,
            capacity=activity.capacity,
            offered=activity.offered_count,
            waiting=activity.waitlist_count,
        )
    )
    if activity.status is ActivityStatus.CANCELLED:
        lines.append(t.gettext("❌ <b>Cancelled.</b>"))
        if activity.cancel_reason:
            lines.append(
                t.gettext("Reason: {reason}").format(
                    reason=html(shown_cancel_reason(activity.cancel_reason, t.gettext))
                )
            )
    elif activity.status is ActivityStatus.DRAFT:
        lines.append(t.gettext("📝 Not published."))
    elif now >= activity.ends_at:
        lines.append(t.gettext("✔️ Finished."))
    elif now >= activity.starts_at:
        lines.append(t.gettext("▶️ Under way."))
    elif activity.signups_closed_at is not None:
        lines.append(t.gettext("⏸ Sign-up closed early."))
    elif now >= activity.signup_closes_at:
        lines.append(t.gettext("⏸ Sign-up deadline passed."))
    else:
        lines.append(
            t.gettext("🟢 Sign-up open until {deadline}.").format(
                deadline=short_when(t, activity.signup_closes_at)
            )
        )
    return "\n".join(lines)


def record_row(
    t: Translator, activity: Activity, now: datetime, checkin_opens_before: timedelta
) -> list[InlineKeyboardButton]:
    """Check-in, attendance and hours, from shortly before the start (service records)."""
    if activity.status is not ActivityStatus.PUBLISHED:
        return []
    aid = activity.activity_id
    row: list[InlineKeyboardButton] = []
    if now >= activity.starts_at - checkin_opens_before:
        row.append(CheckinOpen(aid, CheckMode.IN).button(t.gettext("📲 Check-in")))
        row.append(AttendanceList(aid, 0).button(t.gettext("🙋 Attendance")))
    if now >= activity.starts_at:
        row.append(HoursReview(aid, 0).button(t.gettext("🕒 Hours")))
    if now >= activity.ends_at:  # reports (#18): people served, money and media afterwards
        row.append(FiguresShow(aid).button(t.gettext("📊 Figures")))
    return row


def card_keyboard(
    t: Translator,
    activity: Activity,
    now: datetime,
    checkin_opens_before: timedelta = timedelta(minutes=30),
) -> InlineKeyboardMarkup:
    aid = activity.activity_id
    offered = actions(activity, now)
    buttons: dict[Action, InlineKeyboardButton] = {
        Action.EDIT: InlineKeyboardButton(t.gettext("✏️ Edit"), callback_data=callback("ed", aid)),
        Action.RECRUIT: RecruitList(aid).button(t.gettext("🔎 Find volunteers")),
        Action.ROSTER: RosterShown(aid).button(t.gettext("👥 Roster")),
        Action.MESSAGE: MessageStart(aid).button(t.gettext("✉️ Message participants")),
        Action.DUPLICATE: DuplicateStart(aid).button(t.gettext("📑 Duplicate")),
        Action.CLOSE: ManageSignups(aid, open=False).button(t.gettext("⏸ Close sign-ups")),
        Action.REOPEN: ManageSignups(aid, open=True).button(t.gettext("▶️ Reopen sign-ups")),
        Action.CANCEL: CancelAsk(aid).button(t.gettext("❌ Cancel activity")),
    }
    rows: list[list[InlineKeyboardButton]] = []
    records = record_row(t, activity, now, checkin_opens_before)
    if records:
        rows.append(records)
    for pair in ((Action.EDIT, Action.RECRUIT), (Action.ROSTER, Action.MESSAGE)):
        row = [buttons[action] for action in pair if action in offered]
        if row:
            rows.append(row)
    if Action.EXPORT in offered:
        rows.append(export_buttons(t, aid))
    row = [
        buttons[action]
        for action in (Action.DUPLICATE, Action.CLOSE, Action.REOPEN)
        if action in offered
    ]
    if row:
        rows.append(row)
    if Action.CANCEL in offered:
        rows.append([buttons[Action.CANCEL]])
    rows.append([ManageList(activity.organization_id).button(t.gettext("⬅️ Activities"))])
    return InlineKeyboardMarkup(rows)


def export_buttons(t: Translator, activity_id: int) -> list[InlineKeyboardButton]:
    return [
        RosterExport(activity_id, ExportKind.CSV).button(t.gettext("📄 Export CSV")),
        RosterExport(activity_id, ExportKind.XLSX).button(t.gettext("📊 Export Excel")),
    ]


def back_to_card(label: str, activity_id: int) -> list[InlineKeyboardButton]:
    """A row with one button back to the activity's card."""
    return [ManageCard(activity_id).button(label)]


async def show_card(
    update: Update,
    context: ZyContext,
    activity: Activity,
    *,
    notice: str | None = None,
    new_message: bool = False,
) -> None:
    t = context.t
    now = context.services.management.now()
    text = card_text(t, activity, now, notice=notice)
    markup = card_keyboard(t, activity, now, context.services.settings.checkin_opens_before)
    if new_message:
        await send(update, text, markup)
    else:
        await show(update, text, markup)


async def on_card(update: Update, context: ZyContext, press: ManageCard) -> None:
    activity = await context.services.management.activity(
        context.user.telegram_id, press.activity_id
    )
    await answer(update)
    await show_card(update, context, activity)


# ---------------------------------------------------------------------------- close / reopen


@card_on_refusal
async def on_signups(update: Update, context: ZyContext, press: ManageSignups) -> None:
    management = context.services.management
    user_id = context.user.telegram_id
    t = context.t
    if press.open:
        activity = await management.reopen_signups(user_id, press.activity_id)
        notice = t.gettext("▶️ Sign-up is open again.")
        nudge_outbox(context)  # free spots go to the waitlist on the sweep
    else:
        activity = await management.close_signups(user_id, press.activity_id)
        notice = t.gettext("⏸ Sign-up is closed. People already signed up keep their spots.")
    await answer(update)
    await show_card(update, context, activity, notice=notice)


#: What each of this module's button families does.
PRESSES: PressTable = {
    ManageList: on_list,
    ManageCard: on_card,
    ManageSignups: on_signups,
}


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(
        PRESSES, texts=TEXTS, invalid=invalid, legacy=(LEGACY_CARD, legacy_press)
    ):
        application.add_handler(handler, group)
