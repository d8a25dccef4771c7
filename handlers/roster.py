"""An activity's roster (``mg:r``) and its CSV and Excel exports (``mg:csv`` / ``mg:xlsx``):
name, phone, skills, sign-up time and the answer to "Still coming?".

```mermaid
flowchart LR
    card[Management card] -->|mg:r:id:page| roster[Roster page] -->|mg:r:id:page| roster
    roster -->|mg:a:id| card
    card -->|mg:csv / mg:xlsx| file[CSV / Excel document]
```
"""

from __future__ import annotations

import io
import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import ZyContext
from bot.domain.activities import ActivityStatus
from bot.domain.exports import (
    RosterEntry,
    StillComing,
    export_filename,
    roster_csv,
    roster_xlsx,
)
from bot.domain.validation import format_phone_for_display
from bot.i18n import Translator
from handlers.activity_view import Names, short_when, when
from handlers.callbacks import callback
from handlers.manage import (
    TEXTS,
    callback_parts,
    id_at,
    page_at,
    pager,
    show_card_after_refusal,
)
from handlers.refusals import refusing
from handlers.render import answer, html, show
from handlers.staff import refuse_staff

log = logging.getLogger(__name__)

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


@refusing(TEXTS, then=show_card_after_refusal)
async def on_roster(update: Update, context: ZyContext) -> None:
    """``mg:r:<id>:<page>``: confirmed (and offered) first, then the waitlist."""
    parts = callback_parts(update)
    activity_id = id_at(parts, 2)
    if activity_id is None:
        await refuse_staff(update, context)
        return
    activity, roster = await context.services.organizing.roster(
        context.user.telegram_id, activity_id, page_at(parts, 3)
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
    rows = pager(t, roster, ("mg", "r", activity_id))
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


@refusing(TEXTS, then=show_card_after_refusal)
async def on_export(update: Update, context: ZyContext) -> None:
    """``mg:csv:<id>`` / ``mg:xlsx:<id>``: the whole roster as a document."""
    parts = callback_parts(update)
    kind = parts[1] if len(parts) > 1 else ""
    activity_id = id_at(parts, 2)
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


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_roster, pattern=r"^mg:r:"))
    application.add_handler(CallbackQueryHandler(on_export, pattern=r"^mg:(csv|xlsx):"))
