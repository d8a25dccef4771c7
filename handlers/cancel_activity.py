"""Cancelling an activity (``mg:cx``): a preset or typed reason, a confirmation that says how
many people will be told, then everyone signed up or waiting is told in their language.

```mermaid
flowchart LR
    card[Management card] -->|mg:cx| why[Why? presets]
    why -->|mg:cxp| sure[Sure? N people told]
    why -->|mg:cxt| reason((type the reason)) -->|text| sure
    reason -->|/cancel| card
    sure -->|mg:cxy| cancelled[Card: cancelled, everyone told]
```
The typed reason is the ``manage_cancel`` flow (:mod:`handlers.flows`); the half-typed step
lives in ``manage_drafts``.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import Activity, ActivityStatus, ManageDraft
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput
from bot.i18n import Translator
from bot.services.organizing import (
    CANCEL_PRESETS,
    CANCEL_REASON_MAX,
    Action,
    ManageRefusal,
    ManageRefused,
    actions,
    clean_cancel_reason,
    shown_cancel_reason,
)
from handlers.activity_view import when
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

# ------------------------------------------------------------------------------------ cancel


@refusing(TEXTS, then=show_card_after_refusal)
async def on_cancel_ask(update: Update, context: ZyContext) -> None:
    """``mg:cx:<id>``: why? (presets, or type a reason)."""
    activity_id = id_at(callback_parts(update), 2)
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


@refusing(TEXTS, then=show_card_after_refusal)
async def on_cancel_preset(update: Update, context: ZyContext) -> None:
    """``mg:cxp:<id>:<code>``: a preset reason → are you sure?"""
    parts = callback_parts(update)
    activity_id = id_at(parts, 2)
    code = parts[3] if len(parts) > 3 else ""
    if activity_id is None or code not in CANCEL_PRESETS:
        await refuse_staff(update, context)
        return
    activity = await context.services.organizing.activity(context.user.telegram_id, activity_id)
    await answer(update)
    await _confirm_cancel(update, context, activity, context.t.gettext(CANCEL_PRESETS[code]), code)


@refusing(TEXTS, then=show_card_after_refusal)
async def on_cancel_confirmed(update: Update, context: ZyContext) -> None:
    """``mg:cxy:<id>:<code>``: cancel now (``t``: the typed reason kept in the draft)."""
    parts = callback_parts(update)
    activity_id = id_at(parts, 2)
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


@refusing(TEXTS, then=show_card_after_refusal)
async def on_cancel_type(update: Update, context: ZyContext) -> object:
    """``mg:cxt:<id>``: wait for a typed reason."""
    activity = await begin_typed_step(update, context, "cancel")
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


@refusing(TEXTS, then=show_card_after_refusal)
async def on_reason_text(update: Update, context: ZyContext) -> bool:
    draft = await current_draft(update, context, "cancel")
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


#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [typed_step_flow("cancel", on_reason_text)]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_cancel_ask, pattern=r"^mg:cx:"))
    application.add_handler(CallbackQueryHandler(on_cancel_preset, pattern=r"^mg:cxp:"))
    application.add_handler(CallbackQueryHandler(on_cancel_confirmed, pattern=r"^mg:cxy:"))
    application.add_handler(CallbackQueryHandler(on_cancel_type, pattern=r"^mg:cxt:"))


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ACTIVITY_CANCELLED: render_cancelled,
}
