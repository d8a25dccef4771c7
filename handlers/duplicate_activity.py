"""Duplicating an activity to another date: type the new date and time, get the copy's card.

```mermaid
flowchart LR
    card[Management card] -->|mg.dup: take| when((flow manage_duplicate: type a date))
    when -->|unreadable or not allowed| when
    when -->|/cancel| card
    when -->|date: release| copy[Card of the copy, published, nobody signed up]
```

The flow's stored state names the activity being copied, so the date typed after a restart
still copies the activity whose button was pressed. The copy has the same fields and no
sign-ups (:meth:`~bot.services.activity_management.ActivityManagementService.duplicate`).
"""

from __future__ import annotations

from telegram import Update

from bot.context import HandlerSink, ZyContext
from bot.domain.dateparse import WhenError, parse_when, when_invalid
from bot.domain.flows import FlowOwner
from bot.i18n import N_
from bot.services.activity_management import Action
from handlers.activity_view import when
from handlers.flows import Flow, release
from handlers.manage import (
    TEXTS,
    card_on_refusal,
    invalid,
    show_card,
)
from handlers.manage_buttons import LEGACY_DUPLICATE, DuplicateStart, legacy_press
from handlers.manage_steps import (
    ACTIVITY,
    abandon_typed_step,
    begin_typed_step,
    reprompt,
)
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.render import html, send, show

FLOW = "manage_duplicate"
PROMPT = N_("Please type the new date and time as text, or send /cancel to go back.")


@card_on_refusal
async def on_start(update: Update, context: ZyContext, press: DuplicateStart) -> None:
    """Wait for the new date and time (flow ``manage_duplicate``)."""
    activity = await begin_typed_step(
        update,
        context,
        action=Action.DUPLICATE,
        flow=FLOW,
        waiting_for="when",
        activity_id=press.activity_id,
    )
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


@flow_refusing(TEXTS)
async def on_when(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    activity_id = owner.int_state(ACTIVITY)
    message = update.effective_message
    if activity_id is None or message is None or message.text is None:
        await release(context, FLOW)
        return
    t = context.t
    management = context.services.management
    parsed = parse_when(message.text, management.now(), management.tz, t.language.value)
    if isinstance(parsed, WhenError):
        await send(update, when_invalid(parsed).translate(t.gettext))  # still waiting
        return
    copy = await management.duplicate(context.user.telegram_id, activity_id, parsed)
    if isinstance(copy, WhenError):
        await send(update, when_invalid(copy).translate(t.gettext))
        return
    await release(context, FLOW)
    notice = t.gettext("📑 Copied to {when} and published. Nobody is signed up yet.").format(
        when=when(t, copy)
    )
    await show_card(update, context, copy, notice=notice, new_message=True)


#: What each of this module's button families does.
PRESSES: PressTable = {DuplicateStart: on_start}

FLOWS = [Flow(FLOW, on_text=on_when, on_cancel=abandon_typed_step, on_other=reprompt(PROMPT))]


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(
        PRESSES, texts=TEXTS, invalid=invalid, legacy=(LEGACY_DUPLICATE, legacy_press)
    ):
        application.add_handler(handler, group)
