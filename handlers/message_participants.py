"""Messaging an activity's participants: type it, choose who gets it, preview, send.

```mermaid
flowchart LR
    card[Management card] -->|mg.msg: take| text((flow manage_message: type it))
    text -->|too short / long| text
    text -->|/cancel| card
    text -->|text: release| audience[Confirmed only / + waitlist]
    audience -->|mg.msg.to audience, stamp| preview[Preview]
    preview -->|mg.msg.send stamp| queued[Card: N messages queued]
    preview -->|mg.msg| text
    audience & preview -->|mg.card| card
```

The text is kept in the manage draft (storage.rosters), so a restart between the text and its
audience loses nothing. The audience and Send buttons carry a stamp of the text (and audience)
they were drawn for: after the message was typed again, an older "Send" is refused instead of
sending a text the organizer did not see on that preview. Sending forgets the draft, so a
second press sends nothing twice.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import Activity, ManageDraft
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.activity_management import (
    MESSAGE_MAX,
    Action,
    Audience,
    ManageRefusal,
    ManageRefused,
    clean_message,
    draft_stamp,
)
from handlers.activity_view import card_data, when
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
    LEGACY_MESSAGE,
    MessageAudience,
    MessageSend,
    MessageStart,
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

FLOW = "manage_message"
PROMPT = N_("Please type your message as text, or send /cancel to go back.")


@card_on_refusal
async def on_start(update: Update, context: ZyContext, press: MessageStart) -> None:
    """Wait for the text (flow ``manage_message``)."""
    activity = await begin_typed_step(
        update,
        context,
        action=Action.MESSAGE,
        flow=FLOW,
        waiting_for="text",
        activity_id=press.activity_id,
    )
    t = context.t
    await show(
        update,
        t.gettext(
            "Type your message to the participants of <b>{title}</b> (up to {limit} characters; "
            "several lines are fine). You will choose who gets it and see a preview before it "
            "is sent. Send /cancel to go back."
        ).format(title=html(activity.title), limit=MESSAGE_MAX),
    )


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    activity_id = owner.int_state(ACTIVITY)
    message = update.effective_message
    if activity_id is None or message is None or message.text is None:
        await release(context, FLOW)
        return
    t = context.t
    try:
        body = clean_message(message.text)
    except InvalidInput as error:
        await send(update, error.translate(t.gettext))  # still waiting for the text
        return
    management = context.services.management
    user_id = context.user.telegram_id
    await management.save_draft(ManageDraft(user_id, Action.MESSAGE.value, activity_id, body, None))
    sizes = await management.audience_sizes(user_id, activity_id)
    await release(context, FLOW)
    stamp = draft_stamp(body)
    rows = [
        [
            MessageAudience(activity_id, Audience.CONFIRMED, stamp).button(
                t.ngettext(
                    "✅ Signed up only ({n} person)",
                    "✅ Signed up only ({n} people)",
                    sizes[Audience.CONFIRMED],
                ).format(n=sizes[Audience.CONFIRMED])
            )
        ],
        [
            MessageAudience(activity_id, Audience.EVERYONE, stamp).button(
                t.ngettext(
                    "👥 Signed up and waitlist ({n} person)",
                    "👥 Signed up and waitlist ({n} people)",
                    sizes[Audience.EVERYONE],
                ).format(n=sizes[Audience.EVERYONE])
            )
        ],
        back_to_card(t.gettext("↩️ Don't send"), activity_id),
    ]
    await send(update, t.gettext("Who should get it?"), InlineKeyboardMarkup(rows))


async def _draft_seen(
    update: Update, context: ZyContext, activity_id: int, stamp: int, *, audience: bool
) -> ManageDraft | None:
    """The message draft the pressed button was drawn for; otherwise the press is answered
    (step over, or an earlier screen) and ``None``."""
    management = context.services.management
    user_id = context.user.telegram_id
    await management.activity(user_id, activity_id)  # authorized before the draft is read
    draft = await management.draft(user_id)
    if (
        draft is None
        or draft.action != Action.MESSAGE.value
        or draft.activity_id != activity_id
        or not draft.body
    ):
        raise ManageRefused(ManageRefusal.NO_DRAFT)
    if draft_stamp(draft.body, draft.audience if audience else None) != stamp:
        await answer(update, context.t.gettext(STALE), alert=True)
        return None
    return draft


@card_on_refusal
async def on_audience(update: Update, context: ZyContext, press: MessageAudience) -> None:
    """Remember the audience, show the preview."""
    draft = await _draft_seen(update, context, press.activity_id, press.stamp, audience=False)
    if draft is None or draft.body is None:
        return
    management = context.services.management
    user_id = context.user.telegram_id
    t = context.t
    aid = press.activity_id
    await management.save_draft(
        ManageDraft(user_id, Action.MESSAGE.value, aid, draft.body, press.audience.value)
    )
    activity = await management.activity(user_id, aid)
    sizes = await management.audience_sizes(user_id, aid)
    await answer(update)
    rendered = message_text(t, activity, draft.body)
    text = t.ngettext(
        "<b>Preview</b> (to {n} person):",
        "<b>Preview</b> (to {n} people):",
        sizes[press.audience],
    ).format(n=sizes[press.audience])
    rows = [
        [
            MessageSend(aid, draft_stamp(draft.body, press.audience.value)).button(
                t.gettext("📨 Send")
            )
        ],
        [MessageStart(aid).button(t.gettext("✏️ Rewrite"))],
        back_to_card(t.gettext("↩️ Don't send"), aid),
    ]
    await show(update, f"{text}\n\n{rendered}", InlineKeyboardMarkup(rows))


@card_on_refusal
async def on_send(update: Update, context: ZyContext, press: MessageSend) -> None:
    """Queue the previewed message for everyone in the chosen audience."""
    if await _draft_seen(update, context, press.activity_id, press.stamp, audience=True) is None:
        return
    management = context.services.management
    user_id = context.user.telegram_id
    t = context.t
    report = await management.send_message(user_id, press.activity_id, press.stamp)
    activity = await management.activity(user_id, press.activity_id)
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
    found = await services.management.message_for(item.telegram_id, message_id)
    if found is None:
        return None  # gone, or the recipient left the activity meanwhile
    activity, body = found
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("ℹ️ Details"),
                    callback_data=card_data(activity.activity_id),
                )
            ]
        ]
    )
    return Rendered(message_text(t, activity, body), markup)


#: What each of this module's button families does.
PRESSES: PressTable = {
    MessageStart: on_start,
    MessageAudience: on_audience,
    MessageSend: on_send,
}

FLOWS = [Flow(FLOW, on_text=on_text, on_cancel=abandon_typed_step, on_other=reprompt(PROMPT))]

#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ORGANIZER_MESSAGE: render_organizer_message,
}


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(
        PRESSES, texts=TEXTS, invalid=invalid, legacy=(LEGACY_MESSAGE, legacy_press)
    ):
        application.add_handler(handler, group)
