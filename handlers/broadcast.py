"""Administrator broadcasts: ``/broadcast`` and the admin panel's ``bc:new``.

```mermaid
stateDiagram-v2
    [*] --> TEXT: /broadcast · bc:new (admins only)
    TEXT --> TEXT: invalid text (empty, too long) → the reason
    TEXT --> AUDIENCE: text
    AUDIENCE --> AUDIENCE: bc:aud:area · bc:aud:cat (pick one) · bc:back
    AUDIENCE --> PREVIEW: bc:aud:all · bc:area:<code> · bc:cat:<code>
    PREVIEW --> TEXT: bc:edit
    PREVIEW --> AUDIENCE: bc:aud
    PREVIEW --> [*]: bc:ok → progress screen (bc:p:<id>)
    TEXT --> [*]: /cancel · bc:stop
    AUDIENCE --> [*]: /cancel · bc:stop
    PREVIEW --> [*]: /cancel · bc:stop
```

The draft lives in ``broadcast_drafts`` (see :mod:`bot.services.broadcasts`) and says the step
(no text yet: TEXT; no audience: AUDIENCE; else PREVIEW), so every compose button works from
the stored draft, in any process. While composing, the ``broadcast`` flow owns the admin's typed
input (:mod:`handlers.flows`). Apart from composing: ``bc:p:<id>`` progress (🔄 Refresh),
``bc:x:<id>`` / ``bc:xx:<id>`` cancel the rest (asked, then done), ``bc:list`` the last
broadcasts. Every step and press asks
:class:`~bot.services.broadcasts.BroadcastService` again whether the user is an administrator.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.broadcasts import (
    MAX_TEXT_LENGTH,
    Audience,
    AudienceKind,
    Broadcast,
    BroadcastDraft,
    BroadcastRefusal,
    BroadcastRefused,
    BroadcastStatus,
    Progress,
)
from handlers.activity_view import short_when
from handlers.callbacks import button_rows, callback, parse_id, pattern, split
from handlers.flows import Flow, release, take
from handlers.render import answer, html, send, show

log = logging.getLogger(__name__)


EXCERPT_LENGTH = 60

STATUS_LABELS: dict[BroadcastStatus, str] = {
    BroadcastStatus.QUEUING: N_("queuing recipients"),
    BroadcastStatus.QUEUED: N_("sending"),
    BroadcastStatus.CANCELLED: N_("cancelled"),
}

REFUSALS: dict[BroadcastRefusal, str] = {
    BroadcastRefusal.NOT_ADMIN: N_("⛔ Only administrators can send broadcasts."),
    BroadcastRefusal.NOT_FOUND: N_("This button is no longer valid."),
    BroadcastRefusal.NO_DRAFT: N_("This broadcast was already sent or discarded."),
    BroadcastRefusal.NO_TEXT: N_("Please type the announcement first."),
    BroadcastRefusal.NO_AUDIENCE: N_("Please choose who receives it first."),
    BroadcastRefusal.UNKNOWN_AUDIENCE: N_("That area or category does not exist any more."),
    BroadcastRefusal.NO_RECIPIENTS: N_("Nobody matches this audience. Choose another one."),
}


# ------------------------------------------------------------------------------ rendering


def broadcast_message(t: Translator, text: str) -> str:
    """What a recipient sees: a header in their language and the admin's text as written."""
    return t.gettext("📣 <b>Announcement</b>") + "\n\n" + html(text)


async def render_broadcast(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    broadcast_id = item.payload.get("broadcast_id")
    if not isinstance(broadcast_id, int):
        return None
    broadcast = await services.broadcasts.for_delivery(broadcast_id)
    if broadcast is None:
        return None  # cancelled meanwhile: stale
    return Rendered(broadcast_message(t, broadcast.text))


async def audience_label(services: Services, t: Translator, audience: Audience) -> str:
    language = t.language.value
    if audience.kind is AudienceKind.ALL:
        return t.gettext("all volunteers")
    code = audience.code or ""
    if audience.kind is AudienceKind.AREA:
        area = await services.catalog.area(code)
        return t.gettext("volunteers in {area}").format(
            area=html(area.name(language) if area else code)
        )
    category = await services.catalog.category(code)
    return t.gettext("followers of {category}").format(
        category=html(category.name(language) if category else code)
    )


def _excerpt(text: str) -> str:
    line = " ".join(text.split())
    return html(line if len(line) <= EXCERPT_LENGTH else line[: EXCERPT_LENGTH - 1] + "…")


def _cancel_button(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.gettext("✖️ Discard"), callback_data=callback("bc", "stop"))


def _past_button(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.gettext("📋 Past broadcasts"), callback_data="bc:list")


def compose_screen(t: Translator, notice: str | None = None) -> tuple[str, InlineKeyboardMarkup]:
    text = t.gettext(
        "📣 <b>New broadcast</b>\n\n"
        "Type the announcement in one message (up to {limit} characters). It is sent as plain "
        "text, exactly as you type it.\n\nSend /cancel to stop."
    ).format(limit=MAX_TEXT_LENGTH)
    if notice:
        text = f"⚠️ {notice}\n\n{text}"
    return text, InlineKeyboardMarkup([[_past_button(t)], [_cancel_button(t)]])


async def audience_screen(
    context: ZyContext, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    everyone = await context.services.broadcasts.recipient_count(Audience(kind=AudienceKind.ALL))
    text = t.gettext("📣 <b>New broadcast</b>\n\nWho should receive it?")
    if notice:
        text = f"⚠️ {notice}\n\n{text}"
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("👥 All volunteers ({count})").format(count=everyone),
                callback_data="bc:aud:all",
            )
        ],
        [InlineKeyboardButton(t.gettext("📍 Volunteers of one area"), callback_data="bc:aud:area")],
        [
            InlineKeyboardButton(
                t.gettext("🏷 Followers of a service category"), callback_data="bc:aud:cat"
            )
        ],
        [InlineKeyboardButton(t.gettext("✏️ Edit text"), callback_data="bc:edit")],
        [_cancel_button(t)],
    ]
    return text, InlineKeyboardMarkup(rows)


async def list_screen(context: ZyContext, kind: AudienceKind) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    language = t.language.value
    catalog = context.services.catalog
    if kind is AudienceKind.AREA:
        items, prefix = await catalog.areas(), "area"
        text = t.gettext("📍 Which area? Volunteers living there receive the broadcast.")
    else:
        items, prefix = await catalog.categories(), "cat"
        text = t.gettext(
            "🏷 Which service category? Volunteers who follow it receive the broadcast."
        )
    buttons = [
        InlineKeyboardButton(item.name(language), callback_data=callback("bc", prefix, item.code))
        for item in items
    ]
    back = InlineKeyboardButton(t.gettext("⬅️ Back"), callback_data="bc:back")
    return text, InlineKeyboardMarkup([*button_rows(buttons, 2), [back]])


async def _show_preview(update: Update, context: ZyContext, draft: BroadcastDraft) -> object:
    t = context.t
    services = context.services
    if draft.text is None:
        await show(update, *compose_screen(t))
        return None
    if draft.audience is None:
        await show(update, *await audience_screen(context))
        return None
    count = await services.broadcasts.recipient_count(draft.audience)
    label = await audience_label(services, t, draft.audience)
    # The exact message first, as its own message, then the summary with the buttons.
    await show(update, broadcast_message(t, draft.text))
    summary = t.ngettext(
        "☝️ This is exactly what {count} recipient will see (the header in their own "
        "language).\n\nAudience: {audience}.",
        "☝️ This is exactly what {count} recipients will see (the header in their own "
        "language).\n\nAudience: {audience}.",
        count,
    ).format(count=count, audience=label)
    rows: list[list[InlineKeyboardButton]] = []
    if count:
        rows.append(
            [
                InlineKeyboardButton(
                    t.ngettext(
                        "✅ Send to {count} person", "✅ Send to {count} people", count
                    ).format(count=count),
                    callback_data="bc:ok",
                )
            ]
        )
    else:
        summary += "\n\n" + t.gettext(REFUSALS[BroadcastRefusal.NO_RECIPIENTS])
    rows += [
        [InlineKeyboardButton(t.gettext("✏️ Edit text"), callback_data="bc:edit")],
        [InlineKeyboardButton(t.gettext("👥 Change audience"), callback_data="bc:aud")],
        [_cancel_button(t)],
    ]
    await send(update, summary, InlineKeyboardMarkup(rows))
    return None


def progress_text(
    t: Translator, broadcast: Broadcast, progress: Progress, audience: str, header: bool = True
) -> str:
    lines = []
    if header:
        lines.append(
            t.gettext("📣 <b>Broadcast #{number}</b> to {audience}").format(
                number=broadcast.broadcast_id, audience=audience
            )
        )
    lines += [
        t.gettext("Started {when} · {status}").format(
            when=short_when(t, broadcast.created_at),
            status=t.gettext(STATUS_LABELS[broadcast.status]),
        ),
        f"“{_excerpt(broadcast.text)}”",
        t.gettext(
            "✅ Sent: {sent} · ⏳ Pending: {pending} · ⚠️ Failed: {failed} · 🚫 Not sent: {dropped}"
        ).format(
            sent=progress.sent,
            pending=progress.pending,
            failed=progress.failed,
            dropped=progress.dropped,
        ),
    ]
    return "\n".join(lines)


async def show_progress(update: Update, context: ZyContext, broadcast_id: int) -> None:
    t = context.t
    services = context.services
    broadcast, progress = await services.broadcasts.progress(context.user.telegram_id, broadcast_id)
    audience = await audience_label(services, t, broadcast.audience)
    text = progress_text(t, broadcast, progress, audience)
    if broadcast.status is not BroadcastStatus.CANCELLED and progress.pending == 0:
        text += "\n\n" + t.gettext("Finished: nothing is left to send.")
    elif progress.held and progress.held_until is not None:
        text += "\n\n" + t.ngettext(
            "🌙 Held until {time} for {n} person: it is within their quiet hours.",
            "🌙 Held until {time} for {n} people: it is within their quiet hours.",
            progress.held,
        ).format(time=t.format_moment(progress.held_until), n=progress.held)
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("🔄 Refresh"), callback_data=callback("bc", "p", broadcast_id)
            )
        ]
    ]
    if broadcast.status is not BroadcastStatus.CANCELLED and progress.pending:
        rows.append(
            [
                InlineKeyboardButton(
                    t.gettext("⏹ Cancel the rest"), callback_data=callback("bc", "x", broadcast_id)
                )
            ]
        )
    rows.append([_past_button(t)])
    await show(update, text, InlineKeyboardMarkup(rows))


# ------------------------------------------------------------------------------ refusals


async def _refused(update: Update, context: ZyContext, error: BroadcastRefused) -> object:
    """A refusal: a short answer (toast for presses); the conversation ends."""
    text = context.t.gettext(REFUSALS[error.reason])
    if update.callback_query is not None:
        await answer(update, text, alert=error.reason is BroadcastRefusal.NOT_ADMIN)
    else:
        await send(update, text)
    await release(context, BROADCAST_FLOW)
    return None


# ------------------------------------------------------------------------------ composing


async def on_start(update: Update, context: ZyContext) -> object:
    """``/broadcast`` and ``bc:new``: start a fresh draft."""
    try:
        await context.services.broadcasts.begin(context.user.telegram_id)
    except BroadcastRefused as error:
        return await _refused(update, context, error)
    await take(context, BROADCAST_FLOW, "compose")
    await answer(update)
    await show(update, *compose_screen(context.t))
    return None


async def on_typed(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    """Typed text while composing: the announcement while there is none yet, else the current
    step again (the audience and the preview are chosen with buttons)."""
    try:
        draft = await context.services.broadcasts.draft(context.user.telegram_id)
    except BroadcastRefused as error:
        return await _refused(update, context, error)
    if draft.text is None:
        return await on_text(update, context)
    return await on_unexpected(update, context, owner)


async def on_text(update: Update, context: ZyContext) -> object:
    message = update.effective_message
    if message is None or message.text is None:
        return None
    t = context.t
    try:
        await context.services.broadcasts.set_text(context.user.telegram_id, message.text)
    except BroadcastRefused as error:
        return await _refused(update, context, error)
    except InvalidInput as error:
        await send(update, *compose_screen(t, error.translate(t.gettext)))
        return None
    await send(update, *await audience_screen(context))
    return None


async def on_press(update: Update, context: ZyContext) -> object:
    """The compose buttons: ``bc:aud[:all|area|cat]``, ``bc:area:<code>``, ``bc:cat:<code>``,
    ``bc:back``, ``bc:edit``."""
    parts = split(update.callback_query.data if update.callback_query else None)
    action = parts[1] if len(parts) > 1 else ""
    argument = parts[2] if len(parts) > 2 else None
    svc = context.services.broadcasts
    user_id = context.user.telegram_id
    try:
        draft = await svc.draft(user_id)
        # A compose press (also on an older screen) makes typed text the broadcast's again.
        await take(context, BROADCAST_FLOW, "compose")
        if action == "edit":
            await answer(update)
            await show(update, *compose_screen(context.t))
            return None
        if draft.text is None:
            raise BroadcastRefused(BroadcastRefusal.NO_TEXT)
        if action == "back" or (action == "aud" and argument is None):
            await answer(update)
            await show(update, *await audience_screen(context))
            return None
        if action == "aud" and argument in ("area", "cat"):
            await answer(update)
            kind = AudienceKind.AREA if argument == "area" else AudienceKind.CATEGORY
            await show(update, *await list_screen(context, kind))
            return None
        if action == "aud" and argument == "all":
            audience = Audience(kind=AudienceKind.ALL)
        elif action in ("area", "cat") and argument:
            kind = AudienceKind.AREA if action == "area" else AudienceKind.CATEGORY
            audience = Audience(kind=kind, code=argument)
        else:
            raise BroadcastRefused(BroadcastRefusal.NOT_FOUND)
        draft = await svc.set_audience(user_id, audience)
    except BroadcastRefused as error:
        if error.reason is BroadcastRefusal.NO_TEXT:
            await answer(update, context.t.gettext(REFUSALS[error.reason]))
            await show(update, *compose_screen(context.t))
            return None
        if error.reason is BroadcastRefusal.UNKNOWN_AUDIENCE:
            await answer(update, context.t.gettext(REFUSALS[error.reason]))
            await show(update, *await audience_screen(context))
            return None
        return await _refused(update, context, error)
    await answer(update)
    return await _show_preview(update, context, draft)


async def on_confirm(update: Update, context: ZyContext) -> object:
    """``bc:ok``: create the broadcast, queue its recipients, show the progress screen."""
    svc = context.services.broadcasts
    try:
        broadcast = await svc.confirm(context.user.telegram_id)
    except BroadcastRefused as error:
        if error.reason in (BroadcastRefusal.NO_RECIPIENTS, BroadcastRefusal.UNKNOWN_AUDIENCE):
            await answer(update, context.t.gettext(REFUSALS[error.reason]))
            await show(update, *await audience_screen(context))
            return None
        return await _refused(update, context, error)
    await release(context, BROADCAST_FLOW)
    nudge_outbox(context)
    await answer(update, context.t.gettext("📣 Queued. Sending now."))
    await show_progress(update, context, broadcast.broadcast_id)
    return None


async def on_discard(update: Update, context: ZyContext) -> object:
    """``bc:stop``: throw the draft away."""
    try:
        await context.services.broadcasts.discard(context.user.telegram_id)
    except BroadcastRefused as error:
        return await _refused(update, context, error)
    await release(context, BROADCAST_FLOW)
    await answer(update)
    await show(update, context.t.gettext("The broadcast was discarded. Nothing was sent."))
    return None


async def on_cancel_compose(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    """``/cancel`` while composing."""
    return await on_discard(update, context)


async def on_unexpected(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    """Anything else during the conversation: show the current step again."""
    try:
        draft = await context.services.broadcasts.draft(context.user.telegram_id)
    except BroadcastRefused as error:
        return await _refused(update, context, error)
    notice = context.t.gettext("Please use the buttons below.")
    if draft.text is None:
        await send(update, *compose_screen(context.t))
        return None
    if draft.audience is None:
        await send(update, *await audience_screen(context, notice))
        return None
    await send(update, notice)
    return await _show_preview(update, context, draft)


# ------------------------------------------------------------------------------ progress


def _target(update: Update) -> int | None:
    parts = split(update.callback_query.data if update.callback_query else None)
    return parse_id(parts[2]) if len(parts) == 3 else None


async def on_progress(update: Update, context: ZyContext) -> None:
    """``bc:p:<id>``: the progress screen (also 🔄 Refresh)."""
    broadcast_id = _target(update)
    try:
        if broadcast_id is None:
            raise BroadcastRefused(BroadcastRefusal.NOT_FOUND)
        services = context.services
        await services.broadcasts.authorize(context.user.telegram_id)
        # Feedback that Refresh did something, even when the numbers did not change.
        updated = context.t.format_clock(services.clock())
        await answer(update, context.t.gettext("🔄 Updated at {time}.").format(time=updated))
        await show_progress(update, context, broadcast_id)
    except BroadcastRefused as error:
        await _refused(update, context, error)


async def on_cancel_ask(update: Update, context: ZyContext) -> None:
    """``bc:x:<id>``: ask before stopping the rest."""
    broadcast_id = _target(update)
    t = context.t
    try:
        if broadcast_id is None:
            raise BroadcastRefused(BroadcastRefusal.NOT_FOUND)
        broadcast, progress = await context.services.broadcasts.progress(
            context.user.telegram_id, broadcast_id
        )
    except BroadcastRefused as error:
        await _refused(update, context, error)
        return
    await answer(update)
    text = t.ngettext(
        "Stop broadcast #{number}? The {count} message not sent yet will not be sent.",
        "Stop broadcast #{number}? The {count} messages not sent yet will not be sent.",
        progress.pending,
    ).format(number=broadcast.broadcast_id, count=progress.pending)
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("⏹ Yes, cancel the rest"),
                callback_data=callback("bc", "xx", broadcast_id),
            )
        ],
        [
            InlineKeyboardButton(
                t.gettext("↩️ No, keep sending"), callback_data=callback("bc", "p", broadcast_id)
            )
        ],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_cancel(update: Update, context: ZyContext) -> None:
    """``bc:xx:<id>``: drop the pending rest."""
    broadcast_id = _target(update)
    t = context.t
    try:
        if broadcast_id is None:
            raise BroadcastRefused(BroadcastRefusal.NOT_FOUND)
        dropped = await context.services.broadcasts.cancel(context.user.telegram_id, broadcast_id)
    except BroadcastRefused as error:
        await _refused(update, context, error)
        return
    await answer(
        update,
        t.ngettext(
            "Cancelled: {count} message will not be sent.",
            "Cancelled: {count} messages will not be sent.",
            dropped,
        ).format(count=dropped),
    )
    await show_progress(update, context, broadcast_id)


async def on_list(update: Update, context: ZyContext) -> None:
    """``bc:list``: the last broadcasts with their progress."""
    t = context.t
    services = context.services
    try:
        recent = await services.broadcasts.recent(context.user.telegram_id)
    except BroadcastRefused as error:
        await _refused(update, context, error)
        return
    await answer(update)
    if not recent:
        text = t.gettext("📋 <b>Past broadcasts</b>\n\nNo broadcasts yet.")
    else:
        blocks = [
            t.gettext("📋 <b>Past broadcasts</b> (the last {count})").format(count=len(recent))
        ]
        for broadcast, progress in recent:
            audience = await audience_label(services, t, broadcast.audience)
            blocks.append(
                f"<b>#{broadcast.broadcast_id}</b> · {audience}\n"
                + progress_text(t, broadcast, progress, audience, header=False)
            )
        text = "\n\n".join(blocks)
    buttons = [
        InlineKeyboardButton(
            f"#{broadcast.broadcast_id}", callback_data=callback("bc", "p", broadcast.broadcast_id)
        )
        for broadcast, _ in recent
    ]
    new = InlineKeyboardButton(t.gettext("📣 New broadcast"), callback_data="bc:new")
    await show(update, text, InlineKeyboardMarkup([*button_rows(buttons, 5), [new]]))


async def on_stale(update: Update, context: ZyContext) -> None:
    """Any other ``bc:`` press (forged, or from an older version)."""
    try:
        await context.services.broadcasts.authorize(context.user.telegram_id)
    except BroadcastRefused as error:
        await _refused(update, context, error)
        return
    await answer(update, context.t.gettext("This button is no longer valid."))


# ------------------------------------------------------------------------------ wiring

_COMPOSE_PRESSES = r"^bc:(aud|area|cat|back|edit)(:|$)"


BROADCAST_FLOW = "broadcast"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [
    Flow(BROADCAST_FLOW, on_text=on_typed, on_other=on_unexpected, on_cancel=on_cancel_compose)
]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("broadcast", on_start))
    application.add_handler(CallbackQueryHandler(on_start, pattern=r"^bc:new$"))
    application.add_handler(CallbackQueryHandler(on_confirm, pattern=r"^bc:ok$"))
    application.add_handler(CallbackQueryHandler(on_discard, pattern=r"^bc:stop$"))
    application.add_handler(CallbackQueryHandler(on_press, pattern=_COMPOSE_PRESSES))
    application.add_handler(CallbackQueryHandler(on_progress, pattern=r"^bc:p:"))
    application.add_handler(CallbackQueryHandler(on_cancel_ask, pattern=r"^bc:x:"))
    application.add_handler(CallbackQueryHandler(on_cancel, pattern=r"^bc:xx:"))
    application.add_handler(CallbackQueryHandler(on_list, pattern=r"^bc:list$"))
    application.add_handler(CallbackQueryHandler(on_stale, pattern=pattern("bc")))
    if application.job_queue is not None:
        application.job_queue.run_once(resume_broadcasts, 1, name="broadcast-resume")


async def resume_broadcasts(context: ZyContext) -> None:
    """At start-up: finish queuing broadcasts that a stop interrupted."""
    resumed = await context.services.broadcasts.resume_unfinished()
    if resumed:
        nudge_outbox(context)


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.BROADCAST: render_broadcast,
}
