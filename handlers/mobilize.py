"""``/mobilize``: start an emergency mobilization, and (administrators) allow organizations to.

```mermaid
flowchart TD
    cmd[/mobilize/] --> home[Running · a draft · ➕ per allowed organization · 🔑 admins]
    home -->|em.new org| title[Type what is happening]
    title --> draft[Draft screen]
    draft -->|em.title id| title
    draft -->|em.place id| pin[Send the rally point's pin] --> rally[Type the rally point] --> draft
    draft -->|em.rally id v minutes · em.drill id v 0/1 · em.need id v skill up| draft
    draft -->|em.start id v| started[Started: wave 1 alerted, live headcount sent]
    home -->|em.orgs| orgs[Allowed organizations: ✖ revoke]
    orgs -->|em.grantq| search[Type part of a name]
    search -->|em.grant org| orgs
```

The draft is a row of ``mobilizations`` (status ``draft``), so it survives a restart; typed
answers go through the ``mobilize`` flow with the draft's id in its state. Buttons that change
the draft carry its version, and "Start" starts only the version the coordinator saw.

**Who may mobilize**: administrators allow an organization on this screen (🔑); that
organization's organizers may then start mobilizations for it, administrators for any allowed
organization. The right is the organization's, so it follows its staff as they change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, ZyContext, nudge_outbox
from bot.domain.emergency import (
    RALLY_CHOICES,
    EmergencyRefusal,
    EmergencyRefused,
    Mobilization,
    NeedSkill,
    draft_stamp,
)
from bot.domain.flows import FlowOwner
from bot.domain.geo import Point
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from handlers.emergency_buttons import (
    MobDraft,
    MobDrill,
    MobGrant,
    MobGrantAsk,
    MobMenu,
    MobNeed,
    MobNew,
    MobOrgs,
    MobPlace,
    MobRally,
    MobRevoke,
    MobShow,
    MobStart,
    MobTitle,
)
from handlers.emergency_coordination import send_headcount
from handlers.emergency_texts import (
    EMERGENCY_REFUSALS,
    TEXTS,
    activity_title,
    banner,
    skill_label,
)
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import refusing
from handlers.render import answer, html, send, show

log = logging.getLogger(__name__)

T = TypeVar("T")

FLOW = "mobilize"
ASKED_TITLE = "title"
ASKED_PIN = "pin"
ASKED_RALLY = "rally"
GRANT_FLOW = "emergency_grant"
ASKED_NAME = "name"


# ------------------------------------------------------------------------------ /mobilize


async def home(update: Update, context: ZyContext) -> None:
    svc = context.services.emergency
    me = context.user.telegram_id
    t = context.t
    admin = await svc.is_admin(me)
    organizations = await svc.organizations_for(me)
    running = await svc.active_for(me)
    draft = await svc.latest_draft(me)
    if not (admin or organizations or running):
        raise EmergencyRefused(EmergencyRefusal.NO_ORGANIZATION)
    lines = [
        t.gettext("🚨 <b>Emergency mobilization</b>"),
        t.gettext(
            "Call on-call volunteers with the skills needed, nearest first, in waves until "
            "enough are coming. Drills are labelled as drills in every message."
        ),
    ]
    rows: list[list[InlineKeyboardButton]] = []
    for mobilization in running:
        tag = "🧪" if mobilization.is_drill else "🚨"
        rows.append([MobShow(mobilization.mobilization_id).button(f"{tag} {mobilization.title}")])
    if draft is not None:
        label = draft.title or t.gettext("untitled")
        rows.append(
            [
                MobDraft(draft.mobilization_id).button(
                    t.gettext("📝 Continue the draft: {title}").format(title=label)
                )
            ]
        )
    for organization_id, name in organizations:
        rows.append(
            [MobNew(organization_id).button(t.gettext("➕ Mobilize: {name}").format(name=name))]
        )
    if admin:
        rows.append([MobOrgs().button(t.gettext("🔑 Organizations allowed to mobilize"))])
        if not organizations:
            lines.append(t.gettext("No organization is allowed to mobilize yet: allow one first."))
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_command(update: Update, context: ZyContext) -> None:
    await home(update, context)


async def on_menu(update: Update, context: ZyContext, press: MobMenu) -> None:
    await answer(update)
    await home(update, context)


# ------------------------------------------------------------------------------ the draft


def draft_text(t: Translator, mobilization: Mobilization) -> str:
    unset = t.gettext("—")
    lines = [
        t.gettext("📝 <b>New mobilization</b> (draft) · {organization}").format(
            organization=html(mobilization.organization_name)
        ),
        "",
        t.labelled(N_("What"), html(mobilization.title) if mobilization.title else unset),
        t.labelled(
            N_("Rally point"),
            (html(mobilization.rally_text) if mobilization.rally_text else unset)
            + (" 📍" if mobilization.latitude is not None else ""),
        ),
        t.labelled(
            N_("At the rally point"),
            t.gettext("at once")
            if mobilization.rally_in_minutes == 0
            else t.gettext("in {minutes} minutes").format(minutes=mobilization.rally_in_minutes),
        ),
        t.labelled(
            N_("Needed"),
            " · ".join(
                t.gettext("{skill} ×{n}").format(skill=skill_label(t, n.skill.value), n=n.needed)
                for n in mobilization.needs
            )
            or unset,
        ),
        t.labelled(
            N_("Kind"),
            t.gettext("🧪 Drill") if mobilization.is_drill else t.gettext("🚨 Real emergency"),
        ),
    ]
    if mobilization.missing:
        lines += [
            "",
            t.gettext(
                "Still needed before it can start: the title, the rally point with its pin, "
                "and at least one person."
            ),
        ]
    return "\n".join(lines)


def draft_keyboard(t: Translator, mobilization: Mobilization) -> InlineKeyboardMarkup:
    mid = mobilization.mobilization_id
    version = draft_stamp(mobilization)
    needed = mobilization.needed
    rows: list[list[InlineKeyboardButton]] = [
        [
            MobTitle(mid).button(t.gettext("✏️ What")),
            MobPlace(mid).button(t.gettext("📍 Rally point")),
        ],
        [
            MobRally(mid, version, minutes).button(
                ("✓ " if minutes == mobilization.rally_in_minutes else "")
                + (
                    t.gettext("At once")
                    if minutes == 0
                    else t.gettext("+{minutes} min").format(minutes=minutes)
                )
            )
            for minutes in RALLY_CHOICES
        ],
    ]
    for skill in NeedSkill:
        count = needed.get(skill, 0)
        row = [
            MobNeed(mid, version, skill, True).button(
                t.gettext("{skill}: {n} ➕").format(skill=skill_label(t, skill.value), n=count)
            )
        ]
        if count:
            row.append(MobNeed(mid, version, skill, False).button("➖"))
        rows.append(row)
    rows.append(
        [
            MobDrill(mid, version, True).button(
                ("✓ " if mobilization.is_drill else "") + t.gettext("🧪 Drill")
            ),
            MobDrill(mid, version, False).button(
                ("✓ " if not mobilization.is_drill else "") + t.gettext("🚨 Real emergency")
            ),
        ]
    )
    if not mobilization.missing:
        rows.append(
            [MobStart(mid, version).button(t.gettext("🚀 Start: alert the on-call volunteers"))]
        )
    rows.append([MobMenu().button(t.gettext("⬅️ Back"))])
    return InlineKeyboardMarkup(rows)


async def show_draft(update: Update, context: ZyContext, mobilization: Mobilization) -> None:
    t = context.t
    await show(update, draft_text(t, mobilization), draft_keyboard(t, mobilization))


async def send_draft(update: Update, context: ZyContext, mobilization: Mobilization) -> None:
    t = context.t
    await send(update, draft_text(t, mobilization), draft_keyboard(t, mobilization))


async def ask_title(update: Update, context: ZyContext, mobilization_id: int) -> None:
    await take(context, FLOW, ASKED_TITLE, {"mobilization": mobilization_id})
    await send(
        update,
        context.t.gettext(
            "What is happening, in a few words? For example: Flooding at Orange Isle — "
            "sandbags and first aid. (2 to 60 characters; /cancel to stop)"
        ),
    )


async def on_new(update: Update, context: ZyContext, press: MobNew) -> None:
    mobilization = await context.services.emergency.new_draft(
        context.user.telegram_id, press.organization_id
    )
    await answer(update)
    await ask_title(update, context, mobilization.mobilization_id)


async def on_draft(update: Update, context: ZyContext, press: MobDraft) -> None:
    mobilization = await context.services.emergency.draft(
        context.user.telegram_id, press.mobilization_id
    )
    await answer(update)
    await show_draft(update, context, mobilization)


async def on_title(update: Update, context: ZyContext, press: MobTitle) -> None:
    await context.services.emergency.draft(context.user.telegram_id, press.mobilization_id)
    await answer(update)
    await ask_title(update, context, press.mobilization_id)


async def on_place(update: Update, context: ZyContext, press: MobPlace) -> None:
    await context.services.emergency.draft(context.user.telegram_id, press.mobilization_id)
    await answer(update)
    await take(context, FLOW, ASKED_PIN, {"mobilization": press.mobilization_id})
    await send(
        update,
        context.t.gettext(
            "Send the rally point as a map pin: 📎 → Location, then move the map to the place. "
            "Distances to the on-call volunteers are measured from it."
        ),
    )


async def _unless_changed(
    update: Update, context: ZyContext, mobilization_id: int, change: Awaitable[T]
) -> T | None:
    """Apply a press drawn for one version of the draft. If the draft changed since (another
    press, another device), the press is refused with an alert and the draft is shown as it is
    now (``None``); every other refusal goes to the module's refusal texts."""
    try:
        return await change
    except EmergencyRefused as error:
        if error.reason is not EmergencyRefusal.CHANGED:
            raise
    await answer(
        update, context.t.gettext(EMERGENCY_REFUSALS[EmergencyRefusal.CHANGED]), alert=True
    )
    mobilization = await context.services.emergency.draft(context.user.telegram_id, mobilization_id)
    await show_draft(update, context, mobilization)
    return None


async def _show_changed(
    update: Update, context: ZyContext, mobilization_id: int, change: Awaitable[Mobilization]
) -> None:
    mobilization = await _unless_changed(update, context, mobilization_id, change)
    if mobilization is not None:
        await answer(update)
        await show_draft(update, context, mobilization)


async def on_rally(update: Update, context: ZyContext, press: MobRally) -> None:
    change = context.services.emergency.set_rally_in(
        context.user.telegram_id, press.mobilization_id, press.version, press.minutes
    )
    await _show_changed(update, context, press.mobilization_id, change)


async def on_drill(update: Update, context: ZyContext, press: MobDrill) -> None:
    change = context.services.emergency.set_drill(
        context.user.telegram_id, press.mobilization_id, press.version, press.drill
    )
    await _show_changed(update, context, press.mobilization_id, change)


async def on_need(update: Update, context: ZyContext, press: MobNeed) -> None:
    step = 1 if press.up else -1
    change = context.services.emergency.change_need(
        context.user.telegram_id, press.mobilization_id, press.version, press.skill, step
    )
    await _show_changed(update, context, press.mobilization_id, change)


async def on_start(update: Update, context: ZyContext, press: MobStart) -> None:
    svc = context.services.emergency
    t = context.t
    draft = await svc.draft(context.user.telegram_id, press.mobilization_id)
    started = await _unless_changed(
        update,
        context,
        press.mobilization_id,
        svc.start(
            context.user.telegram_id, press.mobilization_id, press.version, activity_title(t, draft)
        ),
    )
    if started is None:
        return
    await answer(update)
    nudge_outbox(context)
    mobilization = started.mobilization
    text = "\n".join(
        [
            banner(t, mobilization),
            t.ngettext(
                "🚀 Started: {n} on-call volunteer is being alerted, nearest first.",
                "🚀 Started: {n} on-call volunteers are being alerted, nearest first.",
                started.alerted,
            ).format(n=started.alerted),
            t.gettext(
                "Further waves widen the radius every few minutes while people are still "
                "missing. The headcount below updates itself as answers arrive."
            ),
        ]
    )
    await show(update, text)
    await send_headcount(update, context, mobilization.mobilization_id)


# ------------------------------------------------------------------------------ typed answers


def _draft_id(owner: FlowOwner) -> int | None:
    return owner.int_state("mobilization")


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    mobilization_id = _draft_id(owner)
    if message is None or message.text is None or mobilization_id is None:
        return
    svc = context.services.emergency
    me = context.user.telegram_id
    t = context.t
    if owner.waiting_for == ASKED_PIN:
        await send(update, t.gettext("Please send the rally point as a map pin (📎 → Location)."))
        return
    try:
        if owner.waiting_for == ASKED_TITLE:
            mobilization = await svc.set_title(me, mobilization_id, message.text)
        else:
            mobilization = await svc.set_rally_text(me, mobilization_id, message.text)
    except InvalidInput as error:
        await send(update, error.translate(t.gettext))  # the same question still waits
        return
    if owner.waiting_for == ASKED_TITLE and mobilization.latitude is None:
        # A new draft: straight on to the rally point.
        await take(context, FLOW, ASKED_PIN, {"mobilization": mobilization_id})
        await send(
            update,
            t.gettext(
                "Send the rally point as a map pin: 📎 → Location, then move the map to the "
                "place. Distances to the on-call volunteers are measured from it."
            ),
        )
        return
    await release(context, FLOW)
    await send_draft(update, context, mobilization)


@flow_refusing(TEXTS)
async def on_location(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    mobilization_id = _draft_id(owner)
    if message is None or message.location is None or mobilization_id is None:
        return
    where = Point(message.location.latitude, message.location.longitude)
    await context.services.emergency.set_place(context.user.telegram_id, mobilization_id, where)
    await take(context, FLOW, ASKED_RALLY, {"mobilization": mobilization_id})
    await send(
        update,
        context.t.gettext(
            "📍 Pin saved. Now describe the rally point in words, so people find it. For "
            "example: North gate of the stadium, by the red tent. (2 to 100 characters)"
        ),
        ReplyKeyboardRemove(),
    )


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(
        update,
        context.t.gettext("OK. The draft is kept: /mobilize shows it."),
        ReplyKeyboardRemove(),
    )


# ---------------------------------------------------------------------- allowed organizations


async def show_orgs(update: Update, context: ZyContext, notice: str | None = None) -> None:
    t = context.t
    allowed = await context.services.emergency.authorized(context.user.telegram_id)
    lines = [t.gettext("🔑 <b>Organizations allowed to mobilize</b>")]
    if notice:
        lines.insert(0, notice)
    lines.append(
        t.gettext(
            "Their organizers may start emergency mobilizations (administrators always may). "
            "Press one to withdraw the right."
        )
        if allowed
        else t.gettext("None yet.")
    )
    rows = [
        [MobRevoke(organization_id).button(t.gettext("✖ {name}").format(name=name))]
        for organization_id, name in allowed
    ]
    rows.append([MobGrantAsk().button(t.gettext("➕ Allow an organization"))])
    rows.append([MobMenu().button(t.gettext("⬅️ Back"))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_orgs(update: Update, context: ZyContext, press: MobOrgs) -> None:
    await context.services.emergency.authorized(context.user.telegram_id)  # admins only
    await answer(update)
    await show_orgs(update, context)


async def on_grant_ask(update: Update, context: ZyContext, press: MobGrantAsk) -> None:
    await context.services.emergency.authorized(context.user.telegram_id)  # admins only
    await answer(update)
    await take(context, GRANT_FLOW, ASKED_NAME)
    await send(update, context.t.gettext("Type part of the organization's name (or /cancel)."))


@flow_refusing(TEXTS)
async def on_grant_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    t = context.t
    try:
        found = await context.services.emergency.find_organizations(
            context.user.telegram_id, message.text
        )
    except InvalidInput as error:
        await send(update, error.translate(t.gettext))
        return
    if not found:
        await send(update, t.gettext("No approved organization has that in its name. Try again."))
        return
    await release(context, GRANT_FLOW)
    rows = [[MobGrant(oid).button(name)] for oid, name in found]
    rows.append([MobOrgs().button(t.gettext("⬅️ Back"))])
    await send(update, t.gettext("Which one may mobilize?"), InlineKeyboardMarkup(rows))


async def on_grant_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, nothing changed."))


async def on_grant(update: Update, context: ZyContext, press: MobGrant) -> None:
    name = await context.services.emergency.grant(context.user.telegram_id, press.organization_id)
    await answer(update)
    notice = context.t.gettext("✅ {name} may now mobilize.").format(name=html(name))
    await show_orgs(update, context, notice)


async def on_revoke(update: Update, context: ZyContext, press: MobRevoke) -> None:
    await context.services.emergency.revoke(context.user.telegram_id, press.organization_id)
    await answer(update, context.t.gettext("Withdrawn."))
    await show_orgs(update, context)


FLOWS = [
    Flow(FLOW, on_text=on_text, on_location=on_location, on_cancel=on_cancel),
    Flow(GRANT_FLOW, on_text=on_grant_text, on_cancel=on_grant_cancel),
]

PRESSES: PressTable = {
    MobMenu: on_menu,
    MobNew: on_new,
    MobDraft: on_draft,
    MobTitle: on_title,
    MobPlace: on_place,
    MobRally: on_rally,
    MobDrill: on_drill,
    MobNeed: on_need,
    MobStart: on_start,
    MobOrgs: on_orgs,
    MobGrantAsk: on_grant_ask,
    MobGrant: on_grant,
    MobRevoke: on_revoke,
}


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("mobilize", refusing(TEXTS)(on_command)))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
