"""Managing an organization's activities (``mg:``): the lists, the management card and closing
sign-up early. The card's other actions are modules of their own: the roster and its exports
(:mod:`handlers.roster`), cancelling (:mod:`handlers.cancel_activity`), messaging participants
(:mod:`handlers.message_participants`) and duplicating (:mod:`handlers.duplicate_activity`).

```mermaid
flowchart LR
    home[Organization home] -->|mg:list:org| list[Activities: upcoming / ended / drafts]
    list -->|mg:a:id| card[Management card]
    list -->|pub:draft:id| draft[Draft: publishing]
    card -->|ed:id| edit[Edit: activity_edit]
    card -->|rc:id| recruit[Find volunteers: recruiting]
    card -->|mg:r / mg:csv / mg:xlsx| roster[Roster: roster]
    card -->|mg:close / mg:open| card
    card -->|mg:cx| cancel[Cancel: cancel_activity]
    card -->|mg:msg| message[Message: message_participants]
    card -->|mg:dup| duplicate[Duplicate: duplicate_activity]
```

Every press asks :class:`~bot.services.organizing.OrganizingService`, which re-authorizes it with
:class:`~bot.services.staff.StaffService`: a forged or stale press (another organization's
activity, a volunteer replaying an organizer's button) gets a short refusal and changes
nothing; refusals are answered from one table (:data:`TEXTS`, :func:`handlers.refusals.refusing`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import Services, ZyContext, nudge_outbox
from bot.domain.activities import Activity, ActivityStatus, ActivityTab, Page
from bot.domain.exports import (
    RosterPage,
)
from bot.domain.refusals import Refused
from bot.i18n import N_, Translator
from bot.services.organizing import (
    Action,
    ManageRefusal,
    ManageRefused,
    actions,
    shown_cancel_reason,
)
from handlers.activity_view import clip, short_when, when
from handlers.callbacks import callback, parse_id, parse_page, split
from handlers.refusals import RefusalTexts, refusing
from handlers.render import answer, html, send, show
from handlers.staff import STAFF_REFUSALS, refuse_staff

log = logging.getLogger(__name__)

MAX_PAGE = 9999


def callback_parts(update: Update) -> list[str]:
    return split(update.callback_query.data if update.callback_query else None)


def id_at(parts: list[str], index: int) -> int | None:
    return parse_id(parts[index]) if len(parts) > index else None


def page_at(parts: list[str], index: int) -> int:
    page = parse_page(parts[index], MAX_PAGE) if len(parts) > index else None
    return page if page is not None else 0


#: How this module answers the refusals of the staff check and of the organizing service.
TEXTS = RefusalTexts(
    STAFF_REFUSALS,
    {
        ManageRefusal.NOT_NOW: N_("That is no longer possible for this activity."),
        ManageRefusal.NOBODY: N_("Nobody is signed up to receive it."),
        ManageRefusal.NO_DRAFT: N_("This step is over. Please start again."),
    },
)


async def show_card_after_refusal(
    update: Update, context: ZyContext, error: Refused, text: str
) -> None:
    """After "no longer possible": the activity's card as it is now, the reason on top."""
    if isinstance(error, ManageRefused) and error.activity is not None:
        await show_card(update, context, error.activity, notice=text, new_message=False)


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


@refusing(TEXTS, then=show_card_after_refusal)
async def on_list(update: Update, context: ZyContext) -> None:
    """``mg:list:<org>[:<tab>:<page>]``."""
    parts = callback_parts(update)
    organization_id = id_at(parts, 2)
    tab_code = parts[3] if len(parts) > 3 else ActivityTab.UPCOMING.value
    if organization_id is None or tab_code not in {tab.value for tab in ActivityTab}:
        await answer(update, context.t.gettext("This button is no longer valid."))
        return
    tab = ActivityTab(tab_code)
    page_number = page_at(parts, 4)
    services = context.services
    user_id = context.user.telegram_id
    organization = await services.staff.organization_for(user_id, organization_id)
    page = await services.organizing.activities_of(user_id, organization_id, tab, page_number)
    await answer(update)
    t = context.t
    now = services.organizing.now()
    lines = [
        t.gettext("<b>📋 Activities of {organization}</b>").format(
            organization=html(organization.name)
        ),
        t.gettext(TAB_LABELS[tab]),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    draft_rows = (
        await _publishing_drafts(services, organization_id) if tab is ActivityTab.DRAFTS else []
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
        rows.append(
            [
                InlineKeyboardButton(
                    f"{number}. {clip(activity.title)}",
                    callback_data=callback("mg", "a", activity.activity_id),
                )
            ]
        )
    rows += pager(t, page, ("mg", "list", organization_id, tab.value))
    rows.append(
        [
            InlineKeyboardButton(
                ("• " if other is tab else "") + t.gettext(TAB_LABELS[other]),
                callback_data=callback("mg", "list", organization_id, other.value, 0),
            )
            for other in ActivityTab
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("➕ New activity"), callback_data=callback("pub", "new", organization_id)
            ),
            InlineKeyboardButton(t.gettext("⬅️ Back"), callback_data=callback("menu", "organize")),
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
    t: Translator, page: Page | RosterPage, prefix: tuple[str | int, ...]
) -> list[list[InlineKeyboardButton]]:
    if page.pages <= 1:
        return []
    buttons: list[InlineKeyboardButton] = []
    if page.has_previous:
        buttons.append(
            InlineKeyboardButton(
                t.gettext("◀️ Previous"), callback_data=callback(*prefix, page.page - 1)
            )
        )
    buttons.append(
        InlineKeyboardButton(
            t.gettext("{page} / {pages}").format(page=page.page + 1, pages=page.pages),
            callback_data=callback(*prefix, page.page),
        )
    )
    if page.has_next:
        buttons.append(
            InlineKeyboardButton(
                t.gettext("Next ▶️"), callback_data=callback(*prefix, page.page + 1)
            )
        )
    return [buttons]


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


def card_keyboard(t: Translator, activity: Activity, now: datetime) -> InlineKeyboardMarkup:
    aid = activity.activity_id
    offered = actions(activity, now)
    buttons: dict[Action, InlineKeyboardButton] = {
        Action.EDIT: InlineKeyboardButton(t.gettext("✏️ Edit"), callback_data=callback("ed", aid)),
        Action.RECRUIT: InlineKeyboardButton(
            t.gettext("🔎 Find volunteers"), callback_data=callback("rc", aid)
        ),
        Action.ROSTER: InlineKeyboardButton(
            t.gettext("👥 Roster"), callback_data=callback("mg", "r", aid, 0)
        ),
        Action.MESSAGE: InlineKeyboardButton(
            t.gettext("✉️ Message participants"), callback_data=callback("mg", "msg", aid)
        ),
        Action.DUPLICATE: InlineKeyboardButton(
            t.gettext("📑 Duplicate"), callback_data=callback("mg", "dup", aid)
        ),
        Action.CLOSE: InlineKeyboardButton(
            t.gettext("⏸ Close sign-ups"), callback_data=callback("mg", "close", aid)
        ),
        Action.REOPEN: InlineKeyboardButton(
            t.gettext("▶️ Reopen sign-ups"), callback_data=callback("mg", "open", aid)
        ),
        Action.CANCEL: InlineKeyboardButton(
            t.gettext("❌ Cancel activity"), callback_data=callback("mg", "cx", aid)
        ),
    }
    rows: list[list[InlineKeyboardButton]] = []
    pairs = [
        (Action.EDIT, Action.RECRUIT),
        (Action.ROSTER, Action.MESSAGE),
    ]
    for pair in pairs:
        row = [buttons[action] for action in pair if action in offered]
        if row:
            rows.append(row)
    if Action.EXPORT in offered:
        rows.append(
            [
                InlineKeyboardButton(
                    t.gettext("📄 Export CSV"), callback_data=callback("mg", "csv", aid)
                ),
                InlineKeyboardButton(
                    t.gettext("📊 Export Excel"), callback_data=callback("mg", "xlsx", aid)
                ),
            ]
        )
    row = [
        buttons[action]
        for action in (Action.DUPLICATE, Action.CLOSE, Action.REOPEN)
        if action in offered
    ]
    if row:
        rows.append(row)
    if Action.CANCEL in offered:
        rows.append([buttons[Action.CANCEL]])
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("⬅️ Activities"),
                callback_data=callback("mg", "list", activity.organization_id),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


async def show_card(
    update: Update,
    context: ZyContext,
    activity: Activity,
    *,
    notice: str | None = None,
    new_message: bool = False,
) -> None:
    t = context.t
    now = context.services.organizing.now()
    text = card_text(t, activity, now, notice=notice)
    markup = card_keyboard(t, activity, now)
    if new_message:
        await send(update, text, markup)
    else:
        await show(update, text, markup)


@refusing(TEXTS, then=show_card_after_refusal)
async def on_card(update: Update, context: ZyContext) -> None:
    """``mg:a:<id>``."""
    activity_id = id_at(callback_parts(update), 2)
    if activity_id is None:
        await refuse_staff(update, context)
        return
    activity = await context.services.organizing.activity(context.user.telegram_id, activity_id)
    await answer(update)
    await show_card(update, context, activity)


# ---------------------------------------------------------------------------- close / reopen


@refusing(TEXTS, then=show_card_after_refusal)
async def on_close(update: Update, context: ZyContext) -> None:
    """``mg:close:<id>`` / ``mg:open:<id>``."""
    parts = callback_parts(update)
    activity_id = id_at(parts, 2)
    if activity_id is None:
        await refuse_staff(update, context)
        return
    organizing = context.services.organizing
    user_id = context.user.telegram_id
    t = context.t
    if parts[1] == "close":
        activity = await organizing.close_signups(user_id, activity_id)
        notice = t.gettext("⏸ Sign-up is closed. People already signed up keep their spots.")
    else:
        activity = await organizing.reopen_signups(user_id, activity_id)
        notice = t.gettext("▶️ Sign-up is open again.")
        nudge_outbox(context)  # free spots go to the waitlist on the sweep
    await answer(update)
    await show_card(update, context, activity, notice=notice)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_list, pattern=r"^mg:list:"))
    application.add_handler(CallbackQueryHandler(on_card, pattern=r"^mg:a:"))
    application.add_handler(CallbackQueryHandler(on_close, pattern=r"^mg:(close|open):"))
