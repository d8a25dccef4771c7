"""Administrator broadcasts: ``/broadcast`` and the admin panel's 📣 Broadcast.

```mermaid
stateDiagram-v2
    [*] --> text: /broadcast · bc.new (admins only; take)
    text --> text: invalid text (empty, too long) → the reason
    text --> audience: text
    audience --> audience: bc.pick:<area|category> (pick one) · bc.aud
    audience --> preview: bc.all · bc.to:<kind>:<code>
    preview --> text: bc.edit
    preview --> audience: bc.aud
    preview --> [*]: bc.ok:<version> → progress screen (bc.p:<id>; release)
    text --> [*]: /cancel · bc.stop (release)
    audience --> [*]: /cancel · bc.stop (release)
    preview --> [*]: /cancel · bc.stop (release)
```

The draft (text and audience) lives in ``broadcast_drafts``; while composing, the flow
``broadcast`` owns the administrator's typed input (``flow_owners``, its ``waiting_for`` is the
screen shown), so a restart or a second process carries on. The preview's ✅ Send carries the
version of the draft it showed (:func:`bot.services.broadcasts.draft_version`): a Send on an
older preview, after the text or audience changed, is refused instead of sending something the
administrator never saw. Outside composing: ``bc.p:<id>`` progress (🔄 Refresh answers with the
time it updated, and says how many messages wait for the end of their recipients' quiet hours),
``bc.x:<id>`` / ``bc.xx:<id>`` cancel the rest (asked, then done), ``bc.list`` the last
broadcasts. Every step and press asks :class:`~bot.services.broadcasts.BroadcastService` again
whether the user is an administrator.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.refusals import Refused
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
    Held,
    Progress,
    draft_version,
)
from handlers.activity_view import short_when
from handlers.callbacks import Press, button_rows
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, press_handlers
from handlers.render import answer, html, send, show

log = logging.getLogger(__name__)

FLOW = "broadcast"
EXCERPT_LENGTH = 60


class Screen(StrEnum):
    """The composer's screen shown last (the flow's ``waiting_for``)."""

    TEXT = "text"
    AUDIENCE = "audience"
    PREVIEW = "preview"


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
    BroadcastRefusal.CHANGED: N_(
        "This preview is out of date: the broadcast was changed after it was shown. Nothing "
        "was sent; please check the latest preview."
    ),
}


# ------------------------------------------------------------------------------ buttons


class BcNew(Press, prefix="bc.new"):
    pass


class BcAudienceMenu(Press, prefix="bc.aud"):
    """Back to "who should receive it?"."""


class BcPickFrom(Press, prefix="bc.pick"):
    kind: AudienceKind  # area or category: show that list


class BcEveryone(Press, prefix="bc.all"):
    pass


class BcAudience(Press, prefix="bc.to"):
    kind: AudienceKind
    code: str


class BcEditText(Press, prefix="bc.edit"):
    pass


class BcSend(Press, prefix="bc.ok"):
    version: str  # draft_version of the previewed draft


class BcDiscard(Press, prefix="bc.stop"):
    pass


class BcProgress(Press, prefix="bc.p"):
    broadcast_id: int


class BcCancelAsk(Press, prefix="bc.x"):
    broadcast_id: int


class BcCancel(Press, prefix="bc.xx"):
    broadcast_id: int


class BcPast(Press, prefix="bc.list"):
    pass


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
    return BcDiscard().button(t.gettext("✖️ Discard"))


def _past_button(t: Translator) -> InlineKeyboardButton:
    return BcPast().button(t.gettext("📋 Past broadcasts"))


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
        [BcEveryone().button(t.gettext("👥 All volunteers ({count})").format(count=everyone))],
        [BcPickFrom(AudienceKind.AREA).button(t.gettext("📍 Volunteers of one area"))],
        [BcPickFrom(AudienceKind.CATEGORY).button(t.gettext("🏷 Followers of a service category"))],
        [BcEditText().button(t.gettext("✏️ Edit text"))],
        [_cancel_button(t)],
    ]
    return text, InlineKeyboardMarkup(rows)


async def list_screen(context: ZyContext, kind: AudienceKind) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    language = t.language.value
    catalog = context.services.catalog
    if kind is AudienceKind.AREA:
        items = await catalog.areas()
        text = t.gettext("📍 Which area? Volunteers living there receive the broadcast.")
    else:
        items = await catalog.categories()
        text = t.gettext(
            "🏷 Which service category? Volunteers who follow it receive the broadcast."
        )
    buttons = [BcAudience(kind, item.code).button(item.name(language)) for item in items]
    back = BcAudienceMenu().button(t.gettext("⬅️ Back"))
    return text, InlineKeyboardMarkup([*button_rows(buttons, 2), [back]])


# ------------------------------------------------------------------------------ composing


async def _show_text(update: Update, context: ZyContext, notice: str | None = None) -> None:
    await take(context, FLOW, Screen.TEXT)
    await show(update, *compose_screen(context.t, notice))


async def _show_audience(
    update: Update, context: ZyContext, notice: str | None = None, *, new_message: bool = False
) -> None:
    await take(context, FLOW, Screen.AUDIENCE)
    screen = await audience_screen(context, notice)
    await (send(update, *screen) if new_message else show(update, *screen))


async def _show_preview(update: Update, context: ZyContext, draft: BroadcastDraft) -> None:
    t = context.t
    services = context.services
    if draft.text is None:
        await _show_text(update, context)
        return
    if draft.audience is None:
        await _show_audience(update, context)
        return
    await take(context, FLOW, Screen.PREVIEW)
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
        label = t.ngettext("✅ Send to {count} person", "✅ Send to {count} people", count)
        rows.append([BcSend(draft_version(draft)).button(label.format(count=count))])
    else:
        summary += "\n\n" + t.gettext(REFUSALS[BroadcastRefusal.NO_RECIPIENTS])
    rows += [
        [BcEditText().button(t.gettext("✏️ Edit text"))],
        [BcAudienceMenu().button(t.gettext("👥 Change audience"))],
        [_cancel_button(t)],
    ]
    await send(update, summary, InlineKeyboardMarkup(rows))


async def on_start(update: Update, context: ZyContext, _press: BcNew | None = None) -> None:
    """``/broadcast`` and ``bc.new``: start a fresh draft."""
    await context.services.broadcasts.begin(context.user.telegram_id)
    await answer(update)
    await _show_text(update, context)


async def on_audience_menu(update: Update, context: ZyContext, _press: BcAudienceMenu) -> None:
    draft = await context.services.broadcasts.draft(context.user.telegram_id)
    if draft.text is None:
        raise BroadcastRefused(BroadcastRefusal.NO_TEXT)
    await answer(update)
    await _show_audience(update, context)


async def on_pick_from(update: Update, context: ZyContext, press: BcPickFrom) -> None:
    draft = await context.services.broadcasts.draft(context.user.telegram_id)
    if draft.text is None:
        raise BroadcastRefused(BroadcastRefusal.NO_TEXT)
    if press.kind is AudienceKind.ALL:
        raise BroadcastRefused(BroadcastRefusal.NOT_FOUND)
    await answer(update)
    await take(context, FLOW, Screen.AUDIENCE)
    await show(update, *await list_screen(context, press.kind))


async def _set_audience(update: Update, context: ZyContext, audience: Audience) -> None:
    draft = await context.services.broadcasts.set_audience(context.user.telegram_id, audience)
    await answer(update)
    await _show_preview(update, context, draft)


async def on_everyone(update: Update, context: ZyContext, _press: BcEveryone) -> None:
    await _set_audience(update, context, Audience(kind=AudienceKind.ALL))


async def on_audience(update: Update, context: ZyContext, press: BcAudience) -> None:
    if press.kind is AudienceKind.ALL:
        raise BroadcastRefused(BroadcastRefusal.NOT_FOUND)
    await _set_audience(update, context, Audience(kind=press.kind, code=press.code))


async def on_edit_text(update: Update, context: ZyContext, _press: BcEditText) -> None:
    await context.services.broadcasts.draft(context.user.telegram_id)
    await answer(update)
    await _show_text(update, context)


async def on_send(update: Update, context: ZyContext, press: BcSend) -> None:
    """``bc.ok:<version>``: create the broadcast, queue its recipients, show the progress."""
    t = context.t
    broadcast = await context.services.broadcasts.confirm(context.user.telegram_id, press.version)
    await release(context, FLOW)
    nudge_outbox(context)
    await answer(
        update,
        t.gettext(
            "📣 Queued. Delivery starts now; people in their quiet hours get it when those end."
        ),
    )
    await show_progress(update, context, broadcast.broadcast_id)


async def on_discard(update: Update, context: ZyContext, _press: BcDiscard | None = None) -> None:
    """``bc.stop``: throw the draft away."""
    await context.services.broadcasts.discard(context.user.telegram_id)
    await release(context, FLOW)
    await answer(update)
    await show(update, context.t.gettext("The broadcast was discarded. Nothing was sent."))


async def compose_refused(update: Update, context: ZyContext, error: Refused) -> None:
    """A composer press refused: some reasons lead back to the step that fixes them."""
    if not isinstance(error, BroadcastRefused):
        raise error
    t = context.t
    text = t.gettext(REFUSALS[error.reason])
    if error.reason is BroadcastRefusal.NO_TEXT:
        await answer(update, text)
        await _show_text(update, context)
    elif error.reason in (BroadcastRefusal.UNKNOWN_AUDIENCE, BroadcastRefusal.NO_RECIPIENTS):
        await answer(update, text)
        await _show_audience(update, context)
    elif update.callback_query is not None:
        # A stale preview (CHANGED) is an alert and leaves that old message as it was.
        alert = error.reason in (BroadcastRefusal.NOT_ADMIN, BroadcastRefusal.CHANGED)
        await answer(update, text, alert=alert)
    else:
        await send(update, text)


# ------------------------------------------------------------------------------ typed input


async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    t = context.t
    svc = context.services.broadcasts
    try:
        if owner.waiting_for != Screen.TEXT:
            await _again(update, context)
            return
        try:
            await svc.set_text(context.user.telegram_id, message.text)
        except InvalidInput as error:
            await take(context, FLOW, Screen.TEXT)
            await send(update, *compose_screen(t, error.translate(t.gettext)))
            return
        await _show_audience(update, context, new_message=True)
    except BroadcastRefused as error:
        await release(context, FLOW)
        await send(update, t.gettext(REFUSALS[error.reason]))


async def _again(update: Update, context: ZyContext) -> None:
    """Anything but the asked-for input: show the current step again."""
    draft = await context.services.broadcasts.draft(context.user.telegram_id)
    notice = context.t.gettext("Please use the buttons below.")
    if draft.text is None:
        await take(context, FLOW, Screen.TEXT)
        await send(update, *compose_screen(context.t))
    elif draft.audience is None:
        await _show_audience(update, context, notice, new_message=True)
    else:
        await send(update, notice)
        await _show_preview(update, context, draft)


async def on_other(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    try:
        await _again(update, context)
    except BroadcastRefused as error:
        await release(context, FLOW)
        await send(update, context.t.gettext(REFUSALS[error.reason]))


async def on_cancel(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    """``/cancel`` while composing: the draft is discarded."""
    try:
        await context.services.broadcasts.discard(context.user.telegram_id)
    except BroadcastRefused as error:
        await send(update, context.t.gettext(REFUSALS[error.reason]))
        return
    await send(update, context.t.gettext("The broadcast was discarded. Nothing was sent."))


FLOWS = [Flow(FLOW, on_text=on_text, on_other=on_other, on_cancel=on_cancel)]


# ------------------------------------------------------------------------------ progress


def held_text(t: Translator, held: Held) -> str:
    """Quiet hours, said: without it a night-time broadcast looks stuck at "Pending"."""
    first = t.format_clock(held.first)
    if t.format_clock(held.last) == first:
        return t.ngettext(
            "🌙 Held until {time} for {count} person in their quiet hours.",
            "🌙 Held until {time} for {count} people in their quiet hours.",
            held.count,
        ).format(time=first, count=held.count)
    return t.ngettext(
        "🌙 Held for {count} person in their quiet hours; the first go out at {time}.",
        "🌙 Held for {count} people in their quiet hours; the first go out at {time}.",
        held.count,
    ).format(time=first, count=held.count)


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
        # "Not sent": cancelled by an administrator, or the recipient blocked the bot.
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
    live = broadcast.status is not BroadcastStatus.CANCELLED
    held = await services.broadcasts.held(broadcast_id) if live and progress.pending else None
    if held is not None:
        text += "\n" + held_text(t, held)
    if live and progress.pending == 0:
        text += "\n\n" + t.gettext("Finished: nothing is left to send.")
    rows = [[BcProgress(broadcast_id).button(t.gettext("🔄 Refresh"))]]
    if live and progress.pending:
        rows.append([BcCancelAsk(broadcast_id).button(t.gettext("⏹ Cancel the rest"))])
    rows.append([_past_button(t)])
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_progress(update: Update, context: ZyContext, press: BcProgress) -> None:
    """``bc.p:<id>``: the progress screen; as 🔄 Refresh it answers with the time it updated
    (an unchanged screen would otherwise give no sign the press did anything)."""
    t = context.t
    await context.services.broadcasts.authorize(context.user.telegram_id)
    await show_progress(update, context, press.broadcast_id)
    now = context.services.clock()
    await answer(update, t.gettext("Updated {time}").format(time=t.format_clock(now)))


async def on_cancel_ask(update: Update, context: ZyContext, press: BcCancelAsk) -> None:
    """``bc.x:<id>``: ask before stopping the rest."""
    t = context.t
    broadcast, progress = await context.services.broadcasts.progress(
        context.user.telegram_id, press.broadcast_id
    )
    await answer(update)
    text = t.ngettext(
        "Stop broadcast #{number}? The {count} message not sent yet will not be sent.",
        "Stop broadcast #{number}? The {count} messages not sent yet will not be sent.",
        progress.pending,
    ).format(number=broadcast.broadcast_id, count=progress.pending)
    rows = [
        [BcCancel(press.broadcast_id).button(t.gettext("⏹ Yes, cancel the rest"))],
        [BcProgress(press.broadcast_id).button(t.gettext("↩️ No, keep sending"))],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_cancel_rest(update: Update, context: ZyContext, press: BcCancel) -> None:
    """``bc.xx:<id>``: drop the pending rest."""
    t = context.t
    dropped = await context.services.broadcasts.cancel(context.user.telegram_id, press.broadcast_id)
    await answer(
        update,
        t.ngettext(
            "Cancelled: {count} message will not be sent.",
            "Cancelled: {count} messages will not be sent.",
            dropped,
        ).format(count=dropped),
    )
    await show_progress(update, context, press.broadcast_id)


async def on_past(update: Update, context: ZyContext, _press: BcPast) -> None:
    """``bc.list``: the last broadcasts with their progress."""
    t = context.t
    services = context.services
    recent = await services.broadcasts.recent(context.user.telegram_id)
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
        BcProgress(broadcast.broadcast_id).button(f"#{broadcast.broadcast_id}")
        for broadcast, _ in recent
    ]
    new = BcNew().button(t.gettext("📣 New broadcast"))
    await show(update, text, InlineKeyboardMarkup([*button_rows(buttons, 5), [new]]))


async def on_malformed(update: Update, context: ZyContext) -> None:
    """Any other ``bc.`` press (forged, or from an older version)."""
    await context.services.broadcasts.authorize(context.user.telegram_id)
    raise BroadcastRefused(BroadcastRefusal.NOT_FOUND)


PRESSES: PressTable = {
    BcNew: on_start,
    BcAudienceMenu: on_audience_menu,
    BcPickFrom: on_pick_from,
    BcEveryone: on_everyone,
    BcAudience: on_audience,
    BcEditText: on_edit_text,
    BcSend: on_send,
    BcDiscard: on_discard,
    BcProgress: on_progress,
    BcCancelAsk: on_cancel_ask,
    BcCancel: on_cancel_rest,
    BcPast: on_past,
}


async def on_command(update: Update, context: ZyContext) -> None:
    try:
        await on_start(update, context)
    except BroadcastRefused as error:
        await compose_refused(update, context, error)


# ------------------------------------------------------------------------------ wiring


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("broadcast", on_command))
    for handler, group in press_handlers(
        PRESSES, invalid=on_malformed, on_refused=compose_refused, prefix="bc"
    ):
        application.add_handler(handler, group)


async def resume_broadcasts(context: ZyContext) -> None:
    """At start-up: finish queuing broadcasts that a stop interrupted."""
    resumed = await context.services.broadcasts.resume_unfinished()
    if resumed:
        nudge_outbox(context)


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.BROADCAST: render_broadcast,
}
