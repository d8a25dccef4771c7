"""Organizers decide a volunteer's correction request (民政部令第67号 Art. 13).

```mermaid
flowchart LR
    asked[Request: 2 h → 3 h, reason] -->|cor.ok id| approved[Record changed; volunteer told]
    asked -->|cor.no id: take| why((flow correction_reject: reason))
    why -->|valid: release| rejected[Volunteer told, with the reason]
    why -->|/cancel| asked
```

Each press re-checks that the presser organizes the recording unit and that the request is
still pending (one guarded UPDATE decides it, so two organizers pressing at once decide it once).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext
from bot.delivery import Rendered
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.refusals import Refused
from bot.domain.service_records import Correction, CorrectionStatus
from bot.domain.validation import InvalidInput
from bot.i18n import Translator
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, press_handlers
from handlers.record_buttons import CorrectionApprove, CorrectionReject
from handlers.record_texts import TEXTS, hours_text
from handlers.refusals import answer_refusal
from handlers.render import answer, html, send, show

FLOW = "correction_reject"


def request_text(t: Translator, correction: Correction) -> str:
    lines = [
        t.gettext("✏️ <b>Correction request</b>"),
        t.gettext("{name} asks to change the hours of <b>{title}</b> ({day}):").format(
            name=html(correction.volunteer_name or "—"),
            title=html(correction.activity_title),
            day=t.format_day(correction.service_date),
        ),
        f"{hours_text(t, correction.old_minutes)} → {hours_text(t, correction.proposed_minutes)}",
        t.gettext("Reason: {reason}").format(reason=html(correction.reason)),
    ]
    return "\n".join(lines)


def decided_text(t: Translator, correction: Correction) -> str:
    if correction.status is CorrectionStatus.APPROVED:
        return t.gettext("✅ Approved: the record now says {hours}.").format(
            hours=hours_text(t, correction.proposed_minutes)
        )
    text = t.gettext("❌ Rejected.")
    if correction.decision_reason:
        text += " " + t.gettext("Reason: {reason}").format(reason=html(correction.decision_reason))
    return text


def decide_markup(t: Translator, correction_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                CorrectionApprove(correction_id).button(t.gettext("✅ Approve")),
                CorrectionReject(correction_id).button(t.gettext("❌ Reject")),
            ]
        ]
    )


async def on_approve(update: Update, context: ZyContext, press: CorrectionApprove) -> None:
    decided = await context.services.records.decide(
        context.user.telegram_id, press.correction_id, approve=True, reason=None
    )
    t = context.t
    await answer(update, t.gettext("Approved."))
    await show(update, request_text(t, decided) + "\n\n" + decided_text(t, decided))


async def on_reject(update: Update, context: ZyContext, press: CorrectionReject) -> None:
    correction = await context.services.records.correction_for(
        context.user.telegram_id, press.correction_id
    )
    if correction.status is not CorrectionStatus.PENDING:
        t = context.t
        await answer(update, t.gettext("This correction has already been decided."), alert=True)
        await show(update, request_text(t, correction) + "\n\n" + decided_text(t, correction))
        return
    await answer(update)
    await take(context, FLOW, "reason", {"correction": correction.correction_id})
    await send(
        update,
        context.t.gettext(
            "Why is the request rejected? The volunteer will read your reason (2 to 200 "
            "characters). Send /cancel to go back."
        ),
    )


async def on_reason(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    correction_id = owner.int_state("correction")
    if message is None or not message.text or correction_id is None:
        return
    t = context.t
    try:
        decided = await context.services.records.decide(
            context.user.telegram_id, correction_id, approve=False, reason=message.text
        )
    except InvalidInput:
        await send(update, t.gettext("Please send a reason of 2 to 200 characters."))
        return
    except Refused as error:
        await release(context, FLOW)
        await answer_refusal(update, context, error, TEXTS)
        return
    await release(context, FLOW)
    await send(update, request_text(t, decided) + "\n\n" + decided_text(t, decided))


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await release(context, FLOW)
    correction_id = owner.int_state("correction")
    t = context.t
    if correction_id is None:
        return
    correction = await context.services.records.correction(correction_id)
    if correction is not None and correction.status is CorrectionStatus.PENDING:
        await send(update, request_text(t, correction), decide_markup(t, correction_id))


async def on_other(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("Please answer with a text message, or send /cancel."))


async def render_correction_requested(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    correction_id = item.payload.get("correction")
    if not isinstance(correction_id, int):
        return None
    correction = await services.records.correction(correction_id)
    if correction is None or correction.status is not CorrectionStatus.PENDING:
        return None  # decided meanwhile (by another organizer)
    return Rendered(request_text(t, correction), decide_markup(t, correction_id))


RENDERERS: Renderers = {NotificationKind.CORRECTION_REQUESTED: render_correction_requested}


async def invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext("This button is no longer valid."), alert=True)


PRESSES: PressTable = {CorrectionApprove: on_approve, CorrectionReject: on_reject}

FLOWS = [Flow(FLOW, on_text=on_reason, on_cancel=on_cancel, on_other=on_other)]


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=invalid):
        application.add_handler(handler, group)
