"""Managing an organization's activities (``mg:``): lists, the management card, the roster and
its exports, messages to participants, closing sign-up early, duplicating and cancelling.

```mermaid
flowchart LR
    home[Organization home] -->|mg:list:org| list[Activities: upcoming / past / drafts]
    list -->|mg:a:id| card[Management card]
    list -->|pub:draft:id| draft[Draft: publishing]
    card -->|ed:id| edit[Edit: publishing]
    card -->|rc:id| recruit[Find volunteers: recruiting]
    card -->|mg:r:id:page| roster[Roster] --> card
    card -->|mg:csv / mg:xlsx| file[CSV / Excel document]
    card -->|mg:close / mg:open| card
    card -->|mg:cx| why[Why? presets] -->|mg:cxp| sure[Sure? N people told]
    why -->|mg:cxt| reason((type the reason)) -->|text| sure
    sure -->|mg:cxy| cancelled[Card: cancelled, everyone told]
    card -->|mg:msg| text((type the message)) -->|text| audience[Confirmed / + waitlist]
    audience -->|mg:aud| preview[Preview] -->|mg:send| queued[Card: N messages queued]
    card -->|mg:dup| when((type a date)) -->|text| copy[Card of the copy]
    reason & text & when -->|/cancel| card
```

Every press asks :class:`~bot.services.organizing.OrganizingService`, which re-authorizes it with
:class:`~bot.services.staff.StaffService`: a forged or stale press (another organization's
activity, a volunteer replaying an organizer's button) gets a short refusal and changes
nothing. What is being typed lives in ``manage_drafts`` (storage.rosters), so a restart between
the message and its audience loses nothing; the typed steps (round nodes) are the ``manage``
flow owning the organizer's typed input (:mod:`handlers.flows`).
"""

from __future__ import annotations

import io
import logging
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import Activity, ActivityStatus, ActivityTab, ManageDraft, Page
from bot.domain.dateparse import WhenError, parse_when, when_invalid
from bot.domain.exports import (
    RosterEntry,
    RosterPage,
    StillComing,
    export_filename,
    roster_csv,
    roster_xlsx,
)
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.refusals import Refused
from bot.domain.validation import InvalidInput, format_phone_for_display
from bot.i18n import N_, Translator
from bot.services.organizing import (
    CANCEL_PRESETS,
    CANCEL_REASON_MAX,
    MESSAGE_MAX,
    Action,
    Audience,
    ManageRefusal,
    ManageRefused,
    actions,
    clean_cancel_reason,
    clean_message,
    shown_cancel_reason,
)
from bot.services.staff import StaffRefused
from handlers.activity_view import NOWHERE, Names, clip, short_when, when
from handlers.callbacks import callback, parse_id, parse_page, split
from handlers.flows import Flow, release, take
from handlers.refusals import RefusalTexts, refusing
from handlers.render import answer, html, send, show
from handlers.staff import STAFF_REFUSALS, refuse_staff

log = logging.getLogger(__name__)

MAX_PAGE = 9999


def _parts(update: Update) -> list[str]:
    return split(update.callback_query.data if update.callback_query else None)


def _id_at(parts: list[str], index: int) -> int | None:
    return parse_id(parts[index]) if len(parts) > index else None


def _page_at(parts: list[str], index: int) -> int:
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


async def _show_card_after_refusal(
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


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_list(update: Update, context: ZyContext) -> None:
    """``mg:list:<org>[:<tab>:<page>]``."""
    parts = _parts(update)
    organization_id = _id_at(parts, 2)
    tab_code = parts[3] if len(parts) > 3 else ActivityTab.UPCOMING.value
    if organization_id is None or tab_code not in {tab.value for tab in ActivityTab}:
        await answer(update, context.t.gettext("This button is no longer valid."))
        return
    tab = ActivityTab(tab_code)
    page_number = _page_at(parts, 4)
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
    rows += _pager(t, page, ("mg", "list", organization_id, tab.value))
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


def _pager(
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


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_card(update: Update, context: ZyContext) -> None:
    """``mg:a:<id>``."""
    activity_id = _id_at(_parts(update), 2)
    if activity_id is None:
        await refuse_staff(update, context)
        return
    activity = await context.services.organizing.activity(context.user.telegram_id, activity_id)
    await answer(update)
    await show_card(update, context, activity)


# ------------------------------------------------------------------------------------ roster

STILL_COMING_MARKS = {
    StillComing.YES: " ✅",
    StillComing.NO: " ❌",
    StillComing.NO_ANSWER: " ❔",
    StillComing.NOT_ASKED: "",
}


def roster_line(t: Translator, number: int, entry: RosterEntry, names: Names) -> str:
    name = html(entry.name) if entry.name is not None else t.gettext("(deleted account)")
    parts = [f"{number}. <b>{name}</b>"]
    if entry.phone:
        parts.append(html(format_phone_for_display(entry.phone)))
    if entry.skills:
        parts.append(html(names.skill_list(entry.skills, t)))
    if entry.status.value == "offered":
        parts.append(t.gettext("🎁 spot offered"))
    elif entry.status.value == "waitlisted":
        parts.append(t.gettext("⏳ #{position}").format(position=entry.waitlist_position or 1))
    parts.append(short_when(t, entry.signed_up_at))
    return " · ".join(parts) + STILL_COMING_MARKS[entry.answer]


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_roster(update: Update, context: ZyContext) -> None:
    """``mg:r:<id>:<page>``: confirmed (and offered) first, then the waitlist."""
    parts = _parts(update)
    activity_id = _id_at(parts, 2)
    if activity_id is None:
        await refuse_staff(update, context)
        return
    activity, roster = await context.services.organizing.roster(
        context.user.telegram_id, activity_id, _page_at(parts, 3)
    )
    await answer(update)
    t = context.t
    names = await Names.load(context.services, t)
    lines = [
        t.gettext("<b>👥 Roster: {title}</b>").format(title=html(activity.title)),
        t.gettext("🕘 {when}").format(when=when(t, activity)),
        t.gettext(
            "✅ {confirmed} of {capacity} · 🎁 {offered} offered · ⏳ {waiting} waiting"
        ).format(
            confirmed=roster.confirmed,
            capacity=activity.capacity,
            offered=roster.offered,
            waiting=roster.waitlisted,
        ),
    ]
    if activity.status is ActivityStatus.CANCELLED:
        lines.append(t.gettext("❌ Cancelled: these people were signed up or waiting."))
    if not roster.entries:
        lines += ["", t.gettext("Nobody has signed up yet.")]
    section = ""
    for number, entry in enumerate(roster.entries, start=roster.page * roster.page_size + 1):
        current = "wait" if entry.status.value == "waitlisted" else "spot"
        if current != section:
            section = current
            lines += [
                "",
                t.gettext("<b>⏳ Waitlist</b>")
                if current == "wait"
                else t.gettext("<b>✅ Coming</b>"),
            ]
        lines.append(roster_line(t, number, entry, names))
    if any(entry.answer is not StillComing.NOT_ASKED for entry in roster.entries):
        lines += ["", t.gettext("Still coming? ✅ yes · ❌ no · ❔ no answer yet")]
    rows = _pager(t, roster, ("mg", "r", activity_id))
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("📄 Export CSV"), callback_data=callback("mg", "csv", activity_id)
            ),
            InlineKeyboardButton(
                t.gettext("📊 Export Excel"), callback_data=callback("mg", "xlsx", activity_id)
            ),
        ]
    )
    rows.append(
        [InlineKeyboardButton(t.gettext("⬅️ Back"), callback_data=callback("mg", "a", activity_id))]
    )
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_export(update: Update, context: ZyContext) -> None:
    """``mg:csv:<id>`` / ``mg:xlsx:<id>``: the whole roster as a document."""
    parts = _parts(update)
    kind = parts[1] if len(parts) > 1 else ""
    activity_id = _id_at(parts, 2)
    if activity_id is None or kind not in {"csv", "xlsx"}:
        await refuse_staff(update, context)
        return
    services = context.services
    activity, entries = await services.organizing.roster_all(context.user.telegram_id, activity_id)
    t = context.t
    await answer(update, t.gettext("Preparing the file…"))
    names = await Names.load(services, t)
    tz = services.organizing.tz
    language = t.language
    if kind == "csv":
        payload = roster_csv(entries, language, tz, names.skills)
    else:
        payload = roster_xlsx(entries, language, tz, names.skills, title=activity.title)
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_document(
        io.BytesIO(payload),
        filename=export_filename(
            activity.activity_id, activity.title, activity.starts_at, tz, kind
        ),
        caption=t.ngettext(
            "Roster of “{title}”: {n} person. Contains phone numbers: keep it safe and delete "
            "it after the activity.",
            "Roster of “{title}”: {n} people. Contains phone numbers: keep it safe and delete "
            "it after the activity.",
            len(entries),
        ).format(title=activity.title, n=len(entries)),
    )


# ---------------------------------------------------------------------------- close / reopen


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_close(update: Update, context: ZyContext) -> None:
    """``mg:close:<id>`` / ``mg:open:<id>``."""
    parts = _parts(update)
    activity_id = _id_at(parts, 2)
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


# ------------------------------------------------------------------------------------ cancel


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_cancel_ask(update: Update, context: ZyContext) -> None:
    """``mg:cx:<id>``: why? (presets, or type a reason)."""
    activity_id = _id_at(_parts(update), 2)
    if activity_id is None:
        await refuse_staff(update, context)
        return
    activity = await context.services.organizing.activity(context.user.telegram_id, activity_id)
    now = context.services.organizing.now()
    if Action.CANCEL not in actions(activity, now):
        raise ManageRefused(ManageRefusal.NOT_NOW, activity)
    await answer(update)
    t = context.t
    rows = [
        [
            InlineKeyboardButton(
                t.gettext(label), callback_data=callback("mg", "cxp", activity_id, code)
            )
        ]
        for code, label in CANCEL_PRESETS.items()
    ]
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("✍️ Type a reason"), callback_data=callback("mg", "cxt", activity_id)
            )
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("↩️ Keep the activity"), callback_data=callback("mg", "a", activity_id)
            )
        ]
    )
    text = t.gettext(
        "Cancel <b>{title}</b> ({when})?\n\nWhy? The reason is sent to everyone signed up or "
        "waiting."
    ).format(title=html(activity.title), when=when(t, activity))
    await show(update, text, InlineKeyboardMarkup(rows))


async def _confirm_cancel(
    update: Update, context: ZyContext, activity: Activity, reason: str, code: str
) -> None:
    t = context.t
    people = activity.confirmed_count + activity.offered_count + activity.waitlist_count
    text = t.ngettext(
        "Cancel <b>{title}</b> ({when})?\n\n{n} person signed up or waiting will be told:\n"
        "“{reason}”\n\nThis cannot be undone.",
        "Cancel <b>{title}</b> ({when})?\n\n{n} people signed up or waiting will be told:\n"
        "“{reason}”\n\nThis cannot be undone.",
        people,
    ).format(title=html(activity.title), when=when(t, activity), n=people, reason=html(reason))
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("❌ Yes, cancel the activity"),
                callback_data=callback("mg", "cxy", activity.activity_id, code),
            )
        ],
        [
            InlineKeyboardButton(
                t.gettext("↩️ No, keep it"), callback_data=callback("mg", "a", activity.activity_id)
            )
        ],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_cancel_preset(update: Update, context: ZyContext) -> None:
    """``mg:cxp:<id>:<code>``: a preset reason → are you sure?"""
    parts = _parts(update)
    activity_id = _id_at(parts, 2)
    code = parts[3] if len(parts) > 3 else ""
    if activity_id is None or code not in CANCEL_PRESETS:
        await refuse_staff(update, context)
        return
    activity = await context.services.organizing.activity(context.user.telegram_id, activity_id)
    await answer(update)
    await _confirm_cancel(update, context, activity, context.t.gettext(CANCEL_PRESETS[code]), code)


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_cancel_confirmed(update: Update, context: ZyContext) -> None:
    """``mg:cxy:<id>:<code>``: cancel now (``t``: the typed reason kept in the draft)."""
    parts = _parts(update)
    activity_id = _id_at(parts, 2)
    code = parts[3] if len(parts) > 3 else ""
    t = context.t
    organizing = context.services.organizing
    user_id = context.user.telegram_id
    if activity_id is None or (code != "t" and code not in CANCEL_PRESETS):
        await refuse_staff(update, context)
        return
    if code == "t":
        draft = await organizing.draft(user_id)
        if (
            draft is None
            or draft.action != "cancel"
            or draft.activity_id != activity_id
            or not draft.body
        ):
            raise ManageRefused(ManageRefusal.NO_DRAFT)
        reason = draft.body
    else:
        reason = CANCEL_PRESETS[code]  # stored untranslated: each reader gets their language
    report = await organizing.cancel(user_id, activity_id, reason)
    nudge_outbox(context)
    await answer(update)
    notice = t.ngettext(
        "❌ The activity is cancelled. {n} person is being told.",
        "❌ The activity is cancelled. {n} people are being told.",
        report.notified,
    ).format(n=report.notified)
    await show_card(update, context, report.activity, notice=notice)


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_cancel_type(update: Update, context: ZyContext) -> object:
    """``mg:cxt:<id>``: wait for a typed reason."""
    activity = await _begin(update, context, "cancel")
    if activity is None:
        return None
    t = context.t
    await show(
        update,
        t.gettext(
            "Type the reason for cancelling <b>{title}</b> in one message (up to {limit} "
            "characters). Everyone signed up or waiting will read it. Send /cancel to go back."
        ).format(title=html(activity.title), limit=CANCEL_REASON_MAX),
    )
    return None


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_reason_text(update: Update, context: ZyContext) -> bool:
    draft = await _current_draft(update, context, "cancel")
    message = update.effective_message
    if draft is None or message is None or message.text is None:
        return False
    try:
        reason = clean_cancel_reason(message.text)
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))
        return True
    await context.services.organizing.save_draft(
        ManageDraft(draft.telegram_id, "cancel", draft.activity_id, reason, None)
    )
    activity = await context.services.organizing.activity(
        context.user.telegram_id, draft.activity_id
    )
    await _confirm_cancel(update, context, activity, reason, "t")
    return False


# ---------------------------------------------------------------------------------- message


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_message_start(update: Update, context: ZyContext) -> object:
    """``mg:msg:<id>``: wait for the text."""
    activity = await _begin(update, context, "message")
    if activity is None:
        return None
    t = context.t
    await show(
        update,
        t.gettext(
            "Type your message to the participants of <b>{title}</b> (up to {limit} characters; "
            "several lines are fine). You will choose who gets it and see a preview before it "
            "is sent. Send /cancel to go back."
        ).format(title=html(activity.title), limit=MESSAGE_MAX),
    )
    return None


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_message_text(update: Update, context: ZyContext) -> bool:
    draft = await _current_draft(update, context, "message")
    message = update.effective_message
    if draft is None or message is None or message.text is None:
        return False
    t = context.t
    try:
        body = clean_message(message.text)
    except InvalidInput as error:
        await send(update, error.translate(t.gettext))
        return True
    organizing = context.services.organizing
    user_id = context.user.telegram_id
    await organizing.save_draft(ManageDraft(user_id, "message", draft.activity_id, body, None))
    sizes = await organizing.audience_sizes(user_id, draft.activity_id)
    rows = [
        [
            InlineKeyboardButton(
                t.ngettext(
                    "✅ Signed up only ({n} person)",
                    "✅ Signed up only ({n} people)",
                    sizes[Audience.CONFIRMED],
                ).format(n=sizes[Audience.CONFIRMED]),
                callback_data=callback("mg", "aud", draft.activity_id, "c"),
            )
        ],
        [
            InlineKeyboardButton(
                t.ngettext(
                    "👥 Signed up and waitlist ({n} person)",
                    "👥 Signed up and waitlist ({n} people)",
                    sizes[Audience.EVERYONE],
                ).format(n=sizes[Audience.EVERYONE]),
                callback_data=callback("mg", "aud", draft.activity_id, "e"),
            )
        ],
        [
            InlineKeyboardButton(
                t.gettext("↩️ Don't send"), callback_data=callback("mg", "a", draft.activity_id)
            )
        ],
    ]
    await send(update, t.gettext("Who should get it?"), InlineKeyboardMarkup(rows))
    return False


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_audience(update: Update, context: ZyContext) -> None:
    """``mg:aud:<id>:<c|e>``: remember the audience, show the preview."""
    parts = _parts(update)
    activity_id = _id_at(parts, 2)
    code = parts[3] if len(parts) > 3 else ""
    audience = {"c": Audience.CONFIRMED, "e": Audience.EVERYONE}.get(code)
    if activity_id is None or audience is None:
        await refuse_staff(update, context)
        return
    organizing = context.services.organizing
    user_id = context.user.telegram_id
    t = context.t
    draft = await organizing.draft(user_id)
    if (
        draft is None
        or draft.action != "message"
        or draft.activity_id != activity_id
        or not draft.body
    ):
        raise ManageRefused(ManageRefusal.NO_DRAFT)
    await organizing.save_draft(
        ManageDraft(user_id, "message", activity_id, draft.body, audience.value)
    )
    activity = await organizing.activity(user_id, activity_id)
    sizes = await organizing.audience_sizes(user_id, activity_id)
    await answer(update)
    rendered = message_text(t, activity, draft.body)
    text = t.ngettext(
        "<b>Preview</b> (to {n} person):",
        "<b>Preview</b> (to {n} people):",
        sizes[audience],
    ).format(n=sizes[audience])
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("📨 Send"), callback_data=callback("mg", "send", activity_id)
            )
        ],
        [
            InlineKeyboardButton(
                t.gettext("✏️ Rewrite"), callback_data=callback("mg", "msg", activity_id)
            )
        ],
        [
            InlineKeyboardButton(
                t.gettext("↩️ Don't send"), callback_data=callback("mg", "a", activity_id)
            )
        ],
    ]
    await show(update, f"{text}\n\n{rendered}", InlineKeyboardMarkup(rows))


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_send(update: Update, context: ZyContext) -> None:
    """``mg:send:<id>``: queue the message for everyone in the chosen audience."""
    activity_id = _id_at(_parts(update), 2)
    if activity_id is None:
        await refuse_staff(update, context)
        return
    organizing = context.services.organizing
    user_id = context.user.telegram_id
    t = context.t
    report = await organizing.send_message(user_id, activity_id)
    activity = await organizing.activity(user_id, activity_id)
    nudge_outbox(context)
    await answer(update)
    notice = t.ngettext(
        "📨 Your message is queued for {n} person.",
        "📨 Your message is queued for {n} people.",
        report.queued,
    ).format(n=report.queued)
    await show_card(update, context, activity, notice=notice)


def message_text(t: Translator, activity: Activity, body: str) -> str:
    return t.gettext(
        "✉️ <b>Message from {organization}</b>\nabout <b>{title}</b> ({when}):\n\n{body}"
    ).format(
        organization=html(activity.organization_name),
        title=html(activity.title),
        when=when(t, activity),
        body=html(body),
    )


# -------------------------------------------------------------------------------- duplicate


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_duplicate_start(update: Update, context: ZyContext) -> object:
    """``mg:dup:<id>``: wait for the new date and time."""
    activity = await _begin(update, context, "duplicate")
    if activity is None:
        return None
    t = context.t
    hours = (activity.ends_at - activity.starts_at).total_seconds() / 3600
    await show(
        update,
        t.gettext(
            "Copy <b>{title}</b> to another date. Type the new date and time, for example "
            "2026-12-12 09:00, 12/12 9:00-12:00 or 12月12日 上午9点. With only a start time the "
            "copy lasts {hours} hours, like this one. Send /cancel to go back."
        ).format(title=html(activity.title), hours=t.format_number(round(hours, 1))),
    )
    return None


@refusing(TEXTS, then=_show_card_after_refusal)
async def on_when_text(update: Update, context: ZyContext) -> bool:
    draft = await _current_draft(update, context, "duplicate")
    message = update.effective_message
    if draft is None or message is None or message.text is None:
        return False
    t = context.t
    organizing = context.services.organizing
    parsed = parse_when(message.text, organizing.now(), organizing.tz, t.language.value)
    if isinstance(parsed, WhenError):
        await send(update, when_invalid(parsed).translate(t.gettext))
        return True
    copy = await organizing.duplicate(context.user.telegram_id, draft.activity_id, parsed)
    if isinstance(copy, WhenError):
        await send(update, when_invalid(copy).translate(t.gettext))
        return True
    notice = t.gettext("📑 Copied to {when} and published. Nobody is signed up yet.").format(
        when=when(t, copy)
    )
    await show_card(update, context, copy, notice=notice, new_message=True)
    return False


# ------------------------------------------------------------------------ typed steps, shared


async def _begin(update: Update, context: ZyContext, action: str) -> Activity | None:
    activity_id = _id_at(_parts(update), 2)
    if activity_id is None:
        await refuse_staff(update, context)
        return None
    activity = await context.services.organizing.begin(
        context.user.telegram_id, action, activity_id
    )
    wanted = {"cancel": Action.CANCEL, "message": Action.MESSAGE, "duplicate": Action.DUPLICATE}
    if wanted[action] not in actions(activity, context.services.organizing.now()):
        await context.services.organizing.drop_draft(context.user.telegram_id)
        raise ManageRefused(ManageRefusal.NOT_NOW, activity)
    # Owned before the question is shown: a crash right after it loses nothing.
    await take(context, MANAGE_FLOW, action, {"activity": activity.activity_id})
    await answer(update)
    return activity


async def _current_draft(update: Update, context: ZyContext, action: str) -> ManageDraft | None:
    draft = await context.services.organizing.draft(context.user.telegram_id)
    if draft is None or draft.action != action:
        await send(update, context.t.gettext("This step is over. Please start again."))
        return None
    return draft


PROMPTS = {
    "cancel": N_("Please type the reason as a text message, or send /cancel to go back."),
    "message": N_("Please type your message as text, or send /cancel to go back."),
    "duplicate": N_("Please type the new date and time as text, or send /cancel to go back."),
}

#: What each typed step does with the text; ``True`` while it still waits (a bad answer).
TYPED_STEPS = {"cancel": on_reason_text, "message": on_message_text, "duplicate": on_when_text}


async def on_typed(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    step = TYPED_STEPS.get(owner.waiting_for)
    if step is None or not await step(update, context):
        await release(context, MANAGE_FLOW)
    return None


async def on_not_text(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    """A pin, a photo … where text was asked: say what is expected."""
    prompt = PROMPTS.get(owner.waiting_for)
    if prompt is None:
        await release(context, MANAGE_FLOW)
        return None
    await send(update, context.t.gettext(prompt))
    return None


async def on_abandon(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    organizing = context.services.organizing
    user_id = context.user.telegram_id
    draft = await organizing.draft(user_id)
    await organizing.drop_draft(user_id)
    notice = context.t.gettext("OK, nothing was changed.")
    if draft is not None:
        try:
            activity = await organizing.activity(user_id, draft.activity_id)
        except StaffRefused:
            await send(update, notice)
            return None
        await show_card(update, context, activity, notice=notice, new_message=True)
    else:
        await send(update, notice)
    return None


MANAGE_FLOW = "manage"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [Flow(MANAGE_FLOW, on_text=on_typed, on_other=on_not_text, on_cancel=on_abandon)]


# ---------------------------------------------------------------------------- notifications


async def render_cancelled(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    activity_id = item.payload.get("activity_id")
    if not isinstance(activity_id, int):
        return None
    activity = await services.activities.get(activity_id)
    if activity is None or activity.status is not ActivityStatus.CANCELLED:
        return None
    lines = [
        t.gettext("❌ <b>Activity cancelled</b>"),
        "",
        f"<b>{html(activity.title)}</b>",
        t.gettext("🕘 {when}").format(when=when(t, activity)),
        t.gettext("🏢 {organization}").format(organization=html(activity.organization_name)),
    ]
    if activity.cancel_reason:
        lines += [
            "",
            t.gettext("Reason: {reason}").format(
                reason=html(shown_cancel_reason(activity.cancel_reason, t.gettext))
            ),
        ]
    lines += [
        "",
        t.gettext(
            "The organizer is sorry. Your sign-up has ended; nothing else to do. Perhaps "
            "another activity suits you?"
        ),
    ]
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.gettext("🔍 Service menu"), callback_data=callback("br", "cats"))]]
    )
    return Rendered("\n".join(lines), markup)


async def render_organizer_message(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    message_id = item.payload.get("message_id")
    if not isinstance(message_id, int):
        return None
    found = await services.organizing.message_for(item.telegram_id, message_id)
    if found is None:
        return None  # gone, or the recipient left the activity meanwhile
    activity, body = found
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
    return Rendered(message_text(t, activity, body), markup)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_cancel_type, pattern=r"^mg:cxt:"))
    application.add_handler(CallbackQueryHandler(on_message_start, pattern=r"^mg:msg:"))
    application.add_handler(CallbackQueryHandler(on_duplicate_start, pattern=r"^mg:dup:"))
    application.add_handler(CallbackQueryHandler(on_list, pattern=r"^mg:list:"))
    application.add_handler(CallbackQueryHandler(on_card, pattern=r"^mg:a:"))
    application.add_handler(CallbackQueryHandler(on_roster, pattern=r"^mg:r:"))
    application.add_handler(CallbackQueryHandler(on_export, pattern=r"^mg:(csv|xlsx):"))
    application.add_handler(CallbackQueryHandler(on_close, pattern=r"^mg:(close|open):"))
    application.add_handler(CallbackQueryHandler(on_cancel_ask, pattern=r"^mg:cx:"))
    application.add_handler(CallbackQueryHandler(on_cancel_preset, pattern=r"^mg:cxp:"))
    application.add_handler(CallbackQueryHandler(on_cancel_confirmed, pattern=r"^mg:cxy:"))
    application.add_handler(CallbackQueryHandler(on_audience, pattern=r"^mg:aud:"))
    application.add_handler(CallbackQueryHandler(on_send, pattern=r"^mg:send:"))


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ACTIVITY_CANCELLED: render_cancelled,
    NotificationKind.ORGANIZER_MESSAGE: render_organizer_message,
}
