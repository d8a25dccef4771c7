"""Duplicating an activity to another date (``mg:dup``): type the new date and time (the
duration is kept), and the copy is published with nobody signed up.

```mermaid
flowchart LR
    card[Management card] -->|mg:dup| when((type a date)) -->|text| copy[Card of the copy]
    when -->|/cancel| card
```
The typed date is the ``manage_duplicate`` flow (:mod:`handlers.flows`).
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import ZyContext
from bot.domain.dateparse import WhenError, parse_when, when_invalid
from handlers.activity_view import when
from handlers.manage import (
    TEXTS,
    show_card,
    show_card_after_refusal,
)
from handlers.manage_steps import begin_typed_step, current_draft, typed_step_flow
from handlers.refusals import refusing
from handlers.render import html, send, show

log = logging.getLogger(__name__)

# -------------------------------------------------------------------------------- duplicate


@refusing(TEXTS, then=show_card_after_refusal)
async def on_duplicate_start(update: Update, context: ZyContext) -> object:
    """``mg:dup:<id>``: wait for the new date and time."""
    activity = await begin_typed_step(update, context, "duplicate")
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


@refusing(TEXTS, then=show_card_after_refusal)
async def on_when_text(update: Update, context: ZyContext) -> bool:
    draft = await current_draft(update, context, "duplicate")
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


#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [typed_step_flow("duplicate", on_when_text)]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_duplicate_start, pattern=r"^mg:dup:"))
