"""What the card's typed steps share (cancelling with a typed reason, messaging participants,
duplicating): starting one on an activity, finding its draft, and the flow that owns the
organizer's typed input meanwhile (``manage_cancel``, ``manage_message``, ``manage_duplicate``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update

from bot.context import ZyContext
from bot.domain.activities import Activity, ManageDraft
from bot.domain.flows import FlowOwner
from bot.i18n import N_
from bot.services.organizing import (
    Action,
    ManageRefusal,
    ManageRefused,
    actions,
)
from bot.services.staff import StaffRefused
from handlers.flows import Flow, release, take
from handlers.manage import (
    callback_parts,
    id_at,
    show_card,
)
from handlers.render import answer, send
from handlers.staff import refuse_staff

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------ typed steps, shared


async def begin_typed_step(update: Update, context: ZyContext, action: str) -> Activity | None:
    """Start ``action``'s typed step on the pressed activity (re-authorized; refusals raise)."""
    activity_id = id_at(callback_parts(update), 2)
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
    await take(context, flow_of(action), action, {"activity": activity.activity_id})
    await answer(update)
    return activity


async def current_draft(update: Update, context: ZyContext, action: str) -> ManageDraft | None:
    draft = await context.services.organizing.draft(context.user.telegram_id)
    if draft is None or draft.action != action:
        await send(update, context.t.gettext("This step is over. Please start again."))
        return None
    return draft


def flow_of(action: str) -> str:
    """The flow name of a typed step: ``cancel`` → ``manage_cancel`` …"""
    return f"manage_{action}"


#: Asked again when something else than text comes while a step waits.
PROMPTS = {
    "cancel": N_("Please type the reason as a text message, or send /cancel to go back."),
    "message": N_("Please type your message as text, or send /cancel to go back."),
    "duplicate": N_("Please type the new date and time as text, or send /cancel to go back."),
}

#: A typed step: handles the text, ``True`` while it still waits (a bad answer).
TypedStep = Callable[[Update, ZyContext], Awaitable[bool | None]]


def typed_step_flow(action: str, step: TypedStep) -> Flow:
    """The flow that owns the organizer's typed input while ``action`` waits for its text."""
    name = flow_of(action)

    async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> object:
        if not await step(update, context):
            await release(context, name)
        return None

    async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> object:
        await send(update, context.t.gettext(PROMPTS[action]))
        return None

    return Flow(name, on_text=on_text, on_other=on_other, on_cancel=on_abandon)


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
