"""Cancelling an activity: why (a preset or a typed reason), are you sure, then everyone is told.

```mermaid
flowchart LR
    card[Management card] -->|mg.cx| why[Why? presets]
    why -->|mg.cx.preset code| sure[Sure? N people told]
    why -->|mg.cx.type: take| reason((flow manage_cancel: type the reason))
    reason -->|text: release| sure
    reason -->|too short / long| reason
    reason -->|/cancel| card
    sure -->|mg.cx.yes code, stamp| cancelled[Card: cancelled, everyone told]
    why & sure -->|mg.card| card
```

The typed reason is kept in the manage draft; the confirmation button carries a stamp of the
reason it showed, so a "Yes" on an older confirmation (the reason was typed again since) is
refused and nothing is cancelled with a reason the organizer did not see there. A preset
reason is in the button itself. The service re-checks the organizer and the activity's state in
the transaction that cancels.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import Activity, ActivityStatus, ManageDraft
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.activity_management import (
    CANCEL_PRESETS,
    CANCEL_REASON_MAX,
    Action,
    ManageRefusal,
    ManageRefused,
    actions,
    clean_cancel_reason,
    draft_stamp,
    shown_cancel_reason,
)
from handlers.activity_view import CATEGORIES, View, list_data, when
from handlers.flows import Flow, release
from handlers.manage import (
    STALE,
    TEXTS,
    back_to_card,
    card_on_refusal,
    invalid,
    show_card,
)
from handlers.manage_buttons import (
    LEGACY_CANCEL,
    TYPED,
    CancelAsk,
    CancelConfirm,
    CancelPreset,
    CancelType,
    legacy_press,
)
from handlers.manage_steps import (
    ACTIVITY,
    abandon_typed_step,
    begin_typed_step,
    reprompt,
)
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.render import answer, html, send, show

FLOW = "manage_cancel"
PROMPT = N_("Please type the reason as a text message, or send /cancel to go back.")


@card_on_refusal
async def on_ask(update: Update, context: ZyContext, press: CancelAsk) -> None:
    """Why? (presets, or type a reason)."""
    management = context.services.management
    activity = await management.activity(context.user.telegram_id, press.activity_id)
    if Action.CANCEL not in actions(activity, management.now()):
        raise ManageRefused(ManageRefusal.NOT_NOW, activity)
    await answer(update)
    t = context.t
    aid = activity.activity_id
    rows = [
        [CancelPreset(aid, code).button(t.gettext(label))] for code, label in CANCEL_PRESETS.items()
    ]
    rows.append([CancelType(aid).button(t.gettext("✍️ Type a reason"))])
    rows.append(back_to_card(t.gettext("↩️ Keep the activity"), aid))
    text = t.gettext(
        "Cancel <b>{title}</b> ({when})?\n\nWhy? The reason is sent to everyone signed up or "
        "waiting."
    ).format(title=html(activity.title), when=when(t, activity))
    await show(update, text, InlineKeyboardMarkup(rows))


async def _confirm(
    update: Update, context: ZyContext, activity: Activity, reason: str, press: CancelConfirm
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
        [press.button(t.gettext("❌ Yes, cancel the activity"))],
        back_to_card(t.gettext("↩️ No, keep it"), activity.activity_id),
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_preset(update: Update, context: ZyContext, press: CancelPreset) -> None:
    """A preset reason → are you sure?"""
    if press.code not in CANCEL_PRESETS:
        await invalid(update, context)
        return
    activity = await context.services.management.activity(
        context.user.telegram_id, press.activity_id
    )
    await answer(update)
    reason = context.t.gettext(CANCEL_PRESETS[press.code])
    await _confirm(update, context, activity, reason, CancelConfirm(press.activity_id, press.code))


@card_on_refusal
async def on_confirmed(update: Update, context: ZyContext, press: CancelConfirm) -> None:
    """Cancel now, with the preset in the button or the typed reason it was drawn for."""
    management = context.services.management
    user_id = context.user.telegram_id
    t = context.t
    if press.code == TYPED:
        await management.activity(user_id, press.activity_id)  # authorized before the draft
        draft = await management.draft(user_id)
        if (
            draft is None
            or draft.action != Action.CANCEL.value
            or draft.activity_id != press.activity_id
            or not draft.body
        ):
            raise ManageRefused(ManageRefusal.NO_DRAFT)
        if draft_stamp(draft.body) != press.stamp:
            await answer(update, t.gettext(STALE), alert=True)
            return
        reason = draft.body
    elif press.code in CANCEL_PRESETS:
        reason = CANCEL_PRESETS[press.code]  # stored untranslated: each reader gets their language
    else:
        await invalid(update, context)
        return
    report = await management.cancel(user_id, press.activity_id, reason)
    nudge_outbox(context)
    await answer(update)
    notice = t.ngettext(
        "❌ The activity is cancelled. {n} person is being told.",
        "❌ The activity is cancelled. {n} people are being told.",
        report.notified,
    ).format(n=report.notified)
    await show_card(update, context, report.activity, notice=notice)


@card_on_refusal
async def on_type(update: Update, context: ZyContext, press: CancelType) -> None:
    """Wait for a typed reason (flow ``manage_cancel``)."""
    activity = await begin_typed_step(
        update,
        context,
        action=Action.CANCEL,
        flow=FLOW,
        waiting_for="reason",
        activity_id=press.activity_id,
    )
    t = context.t
    await show(
        update,
        t.gettext(
            "Type the reason for cancelling <b>{title}</b> in one message (up to {limit} "
            "characters). Everyone signed up or waiting will read it. Send /cancel to go back."
        ).format(title=html(activity.title), limit=CANCEL_REASON_MAX),
    )


@flow_refusing(TEXTS)
async def on_reason(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    activity_id = owner.int_state(ACTIVITY)
    message = update.effective_message
    if activity_id is None or message is None or message.text is None:
        await release(context, FLOW)
        return
    try:
        reason = clean_cancel_reason(message.text)
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))  # still waiting for the reason
        return
    management = context.services.management
    user_id = context.user.telegram_id
    await management.save_draft(
        ManageDraft(user_id, Action.CANCEL.value, activity_id, reason, None)
    )
    activity = await management.activity(user_id, activity_id)
    await release(context, FLOW)
    await _confirm(
        update, context, activity, reason, CancelConfirm(activity_id, TYPED, draft_stamp(reason))
    )


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
        [
            [
                InlineKeyboardButton(
                    t.gettext("🔍 Service menu"), callback_data=list_data(View(CATEGORIES))
                )
            ]
        ]
    )
    return Rendered("\n".join(lines), markup)


#: What each of this module's button families does.
PRESSES: PressTable = {
    CancelAsk: on_ask,
    CancelPreset: on_preset,
    CancelType: on_type,
    CancelConfirm: on_confirmed,
}

FLOWS = [
    Flow(FLOW, on_text=on_reason, on_cancel=abandon_typed_step, on_other=reprompt(PROMPT)),
]

#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ACTIVITY_CANCELLED: render_cancelled,
}


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(
        PRESSES, texts=TEXTS, invalid=invalid, legacy=(LEGACY_CANCEL, legacy_press)
    ):
        application.add_handler(handler, group)
