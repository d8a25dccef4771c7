"""An activity's roster and its exports (CSV, Excel), for its organizers.

```mermaid
flowchart LR
    card[Management card] -->|mg.roster id 0| roster[Roster: coming, then the waitlist]
    roster -->|mg.roster id page| roster
    card & roster -->|mg.export csv / xlsx| file[CSV / Excel document]
    roster -->|mg.card| card
    roster -->|mg.reveal id: take| why((flow roster_reveal: line and reason))
    why -->|text: recorded, release| number[That one number]
    why -->|malformed / no such line| why
```

Phone numbers are shown as the consent text promises (bot.domain.contacts): in full to members
of the activity's organization, masked (``+86 138 **** 5678``) on screen and in the exports to
anyone else who may open the roster (an administrator). Such a viewer gets a "Reveal a phone
number" button: they type the line and why, the reason is recorded (the volunteer sees it in
their data export) and only that number is shown.

Both re-authorize every press
(:meth:`~bot.services.activity_management.ActivityManagementService.roster`): the
roster holds phone numbers, so a forged press gets the staff refusal and sees nothing. Exports
are logged (who, which activity, how many lines).
"""

from __future__ import annotations

import io

from telegram import InlineKeyboardMarkup, Update

from bot.context import HandlerSink, ZyContext
from bot.domain.activities import ActivityStatus
from bot.domain.contacts import is_masked
from bot.domain.exports import (
    RosterEntry,
    StillComing,
    export_filename,
    roster_csv,
    roster_xlsx,
)
from bot.domain.flows import FlowOwner
from bot.domain.validation import InvalidInput, format_phone_for_display
from bot.i18n import Translator
from bot.services.contacts import masked
from handlers.activity_view import Names, short_when, when
from handlers.callbacks import Press
from handlers.flows import Flow, release, take
from handlers.manage import TEXTS, back_to_card, export_buttons, invalid, pager
from handlers.manage_buttons import (
    LEGACY_ROSTER,
    ExportKind,
    RosterExport,
    RosterShown,
    legacy_press,
)
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.render import answer, html, send, show

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
        phone = entry.phone if is_masked(entry.phone) else format_phone_for_display(entry.phone)
        parts.append(html(phone))
    if entry.skills:
        parts.append(html(names.skill_list(entry.skills, t)))
    if entry.status.value == "offered":
        parts.append(t.gettext("🎁 spot offered"))
    elif entry.status.value == "waitlisted":
        parts.append(t.gettext("⏳ #{position}").format(position=entry.waitlist_position or 1))
    parts.append(short_when(t, entry.signed_up_at))
    return " · ".join(parts) + STILL_COMING_MARKS[entry.answer]


async def on_roster(update: Update, context: ZyContext, press: RosterShown) -> None:
    """Confirmed (and offered) first, then the waitlist."""
    activity, roster = await context.services.management.roster(
        context.user.telegram_id, press.activity_id, press.page
    )
    contacts = context.services.contacts
    sees_contacts = await contacts.sees_contacts(context.user.telegram_id, activity.organization_id)
    if not sees_contacts:
        roster = roster.model_copy(update={"entries": tuple(masked(e) for e in roster.entries)})
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
    aid = activity.activity_id
    rows = pager(t, roster, lambda number: RosterShown(aid, number))
    rows.append(export_buttons(t, aid))
    if not sees_contacts and roster.entries:
        lines += ["", t.gettext("🔒 Phone numbers are masked: you do not organize this activity.")]
        rows.append([RevealAsk(aid).button(t.gettext("🔓 Reveal a phone number"))])
    rows.append(back_to_card(t.gettext("⬅️ Back"), aid))
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_export(update: Update, context: ZyContext, press: RosterExport) -> None:
    """The whole roster as a document."""
    services = context.services
    activity, entries = await services.management.roster_all(
        context.user.telegram_id, press.activity_id
    )
    entries = await services.contacts.shown(context.user.telegram_id, activity, entries)
    t = context.t
    await answer(update, t.gettext("Preparing the file…"))
    names = await Names.load(services, t)
    tz = services.management.tz
    language = t.language
    if press.kind is ExportKind.CSV:
        payload = roster_csv(entries, language, tz, names.skills)
    else:
        payload = roster_xlsx(entries, language, tz, names.skills, title=activity.title)
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_document(
        io.BytesIO(payload),
        filename=export_filename(
            activity.activity_id, activity.title, activity.starts_at, tz, press.kind.value
        ),
        caption=t.ngettext(
            "Roster of “{title}”: {n} person. Contains phone numbers: keep it safe and delete "
            "it after the activity.",
            "Roster of “{title}”: {n} people. Contains phone numbers: keep it safe and delete "
            "it after the activity.",
            len(entries),
        ).format(title=activity.title, n=len(entries)),
    )


class RevealAsk(Press, prefix="mg.reveal"):
    activity_id: int


REVEAL_FLOW = "roster_reveal"
_ACTIVITY = "activity_id"


async def on_reveal_ask(update: Update, context: ZyContext, press: RevealAsk) -> None:
    """Ask which line and why; authorized like the roster itself."""
    activity = await context.services.management.activity(
        context.user.telegram_id, press.activity_id
    )
    await answer(update)
    await take(context, REVEAL_FLOW, "line_and_reason", {_ACTIVITY: activity.activity_id})
    t = context.t
    await send(
        update,
        t.gettext(
            "Whose phone number do you need on <b>{title}</b>, and why? Type the roster line, "
            "a space and the reason, for example: <i>3 the venue changed and they do not answer "
            "messages</i>. The reason is recorded and the volunteer can read it. Send /cancel to "
            "go back."
        ).format(title=html(activity.title)),
    )


@flow_refusing(TEXTS)
async def on_reveal_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    activity_id = owner.int_state(_ACTIVITY)
    message = update.effective_message
    if activity_id is None or message is None or message.text is None:
        await release(context, REVEAL_FLOW)
        return
    t = context.t
    try:
        entry = await context.services.contacts.reveal(
            context.user.telegram_id, activity_id, message.text
        )
    except InvalidInput as error:
        await send(update, error.translate(t.gettext))  # still waiting
        return
    await release(context, REVEAL_FLOW)
    name = html(entry.name) if entry.name is not None else t.gettext("(deleted account)")
    phone = html(format_phone_for_display(entry.phone)) if entry.phone else "—"
    await send(
        update,
        t.gettext("📞 <b>{name}</b>: {phone}\nYour reason is recorded.").format(
            name=name, phone=phone
        ),
        InlineKeyboardMarkup([back_to_card(t.gettext("⬅️ Back"), activity_id)]),
    )


async def on_reveal_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await release(context, REVEAL_FLOW)
    activity_id = owner.int_state(_ACTIVITY)
    t = context.t
    markup = (
        InlineKeyboardMarkup([back_to_card(t.gettext("⬅️ Back"), activity_id)])
        if activity_id is not None
        else None
    )
    await send(update, t.gettext("Nothing was revealed."), markup)


FLOWS = [Flow(REVEAL_FLOW, on_text=on_reveal_text, on_cancel=on_reveal_cancel)]

#: What each of this module's button families does.
PRESSES: PressTable = {
    RosterShown: on_roster,
    RosterExport: on_export,
    RevealAsk: on_reveal_ask,
}


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(
        PRESSES, texts=TEXTS, invalid=invalid, legacy=(LEGACY_ROSTER, legacy_press)
    ):
        application.add_handler(handler, group)
