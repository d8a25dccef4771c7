"""Messaging an activity's participants (``mg:msg``): type the text, choose who gets it, see the
preview, send through the outbox as one batch.

```mermaid
flowchart LR
    card[Management card] -->|mg:msg| text((type the message))
    text -->|text| audience[Confirmed / + waitlist]
    text -->|/cancel| card
    audience -->|mg:aud| preview[Preview] -->|mg:send| queued[Card: N messages queued]
```
The typed text is the ``manage_message`` flow (:mod:`handlers.flows`); it and the chosen
audience live in ``manage_drafts``, so a restart between them loses nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import Activity, ManageDraft
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput
from bot.i18n import Translator
from bot.services.organizing import (
    MESSAGE_MAX,
    Audience,
    ManageRefusal,
    ManageRefused,
    clean_message,
)
from handlers.activity_view import NOWHERE, when
from handlers.callbacks import callback
from handlers.manage import (
    TEXTS,
    callback_parts,
    id_at,
    show_card,
    show_card_after_refusal,
)
from handlers.manage_steps import begin_typed_step, current_draft, typed_step_flow
from handlers.refusals import refusing
from handlers.render import answer, html, send, show
from handlers.staff import refuse_staff

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------- message


@refusing(TEXTS, then=show_card_after_refusal)
async def on_message_start(update: Update, context: ZyContext) -> object:
    """``mg:msg:<id>``: wait for the text."""
    activity = await begin_typed_step(update, context, "message")
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


@refusing(TEXTS, then=show_card_after_refusal)
async def on_message_text(update: Update, context: ZyContext) -> bool:
    draft = await current_draft(update, context, "message")
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


@refusing(TEXTS, then=show_card_after_refusal)
async def on_audience(update: Update, context: ZyContext) -> None:
    """``mg:aud:<id>:<c|e>``: remember the audience, show the preview."""
    parts = callback_parts(update)
    activity_id = id_at(parts, 2)
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


@refusing(TEXTS, then=show_card_after_refusal)
async def on_send(update: Update, context: ZyContext) -> None:
    """``mg:send:<id>``: queue the message for everyone in the chosen audience."""
    activity_id = id_at(callback_parts(update), 2)
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


#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [typed_step_flow("message", on_message_text)]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_message_start, pattern=r"^mg:msg:"))
    application.add_handler(CallbackQueryHandler(on_audience, pattern=r"^mg:aud:"))
    application.add_handler(CallbackQueryHandler(on_send, pattern=r"^mg:send:"))


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ORGANIZER_MESSAGE: render_organizer_message,
}
