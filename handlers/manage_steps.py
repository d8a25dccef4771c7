"""What the card's typed steps share (cancelling with a typed reason, messaging participants,
duplicating): starting one on an activity, and leaving it with ``/cancel``.

Each is its own flow (``manage_cancel``, ``manage_message``, ``manage_duplicate``;
:mod:`handlers.flows`) whose stored state names the activity. What is typed is kept in the
manage draft (storage.rosters), so a restart between the text and its confirmation loses
nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.context import ZyContext
from bot.domain.activities import Activity
from bot.domain.flows import FlowOwner
from bot.services.activity_management import Action, ManageRefusal, ManageRefused, actions
from bot.services.staff import StaffRefused
from handlers.flows import take
from handlers.manage import show_card
from handlers.render import answer, send

#: The flow state key naming the activity a typed step is for.
ACTIVITY = "activity"


async def begin_typed_step(
    update: Update,
    context: ZyContext,
    *,
    action: Action,
    flow: str,
    waiting_for: str,
    activity_id: int,
) -> Activity:
    """Authorize, check that the activity still allows ``action`` (refused with the card
    otherwise), start its draft and take the user's typed input; the caller then asks."""
    management = context.services.management
    user_id = context.user.telegram_id
    activity = await management.begin(user_id, action.value, activity_id)
    if action not in actions(activity, management.now()):
        await management.drop_draft(user_id)
        raise ManageRefused(ManageRefusal.NOT_NOW, activity)
    await take(context, flow, waiting_for, {ACTIVITY: activity_id})
    await answer(update)
    return activity


async def abandon_typed_step(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    """``/cancel`` while a typed step waits: forget the draft, back to the card."""
    management = context.services.management
    user_id = context.user.telegram_id
    await management.drop_draft(user_id)
    notice = context.t.gettext("OK, nothing was changed.")
    activity_id = owner.int_state(ACTIVITY)
    if activity_id is None:
        await send(update, notice)
        return
    try:
        activity = await management.activity(user_id, activity_id)
    except StaffRefused:
        await send(update, notice)
        return
    await show_card(update, context, activity, notice=notice, new_message=True)


def reprompt(prompt: str) -> Callable[[Update, ZyContext, FlowOwner], Awaitable[None]]:
    """What a typed step says to a photo, a sticker or a pin: it still waits for text."""

    async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
        await send(update, context.t.gettext(prompt))

    return on_other
