"""派单: dispatchers (of a centre, station or district; appointed per area) see the requests of
their areas with their age, send each to an organization — the suggestion weighs category,
district, load and past acceptance — or reject it with a reason. A periodic job reminds teams
that have not accepted, re-dispatches after twice the timeout, escalates urgent requests to the
federation's administrators and masks old addresses.

```mermaid
flowchart LR
    cmd["/dispatch · dp.queue"] --> queue[queue: urgent first, age of each]
    new[outbox: a new request in your area] --> card
    queue -->|dp.card id| card[card with address, phone and suggestions]
    card -->|dp.send id, version, org| sent[sent: the team asked, the resident told]
    card -->|dp.rej id, version: take| reason((flow request_reject: a reason))
    reason -->|text 2–200| rejected[rejected: the resident told]
    queue -->|dp.stats| numbers[time to dispatch, accept, complete; satisfaction]
    job((every minute)) -->|accept timeout| remind[team reminded]
    job -->|2 × timeout| next[next best team, or back to the queue: dispatchers told]
    job -->|urgent, unaccepted| admins[administrators told]
    job -->|closed 30 days ago| mask[address and phone overwritten]
```

Each press is re-checked by :class:`bot.services.requests.RequestService`: the presser must
dispatch for the request's area, the version must be the one on the button (so two
dispatchers cannot both send it), and the organization must be approved.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.requests import (
    REASON_MAX,
    RequestFigures,
    RequestStatus,
    Suggestion,
    SuggestReason,
    stars,
)
from bot.i18n import N_, Translator
from bot.services.requests import RequestRefusal, RequestRefused
from handlers.callbacks import MenuItem, MenuOpen
from handlers.flows import Flow, take
from handlers.manage_steps import reprompt
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import GENERIC, refusing
from handlers.render import answer, html, send, show
from handlers.request_common import (
    REQUEST,
    TEXTS,
    VERSION,
    DaHome,
    DpCard,
    DpQueue,
    DpReject,
    DpSend,
    DpStats,
    apply_typed_reason,
    duration_text,
    headline,
    names,
    request_card,
    short_line,
)

FLOW = "request_reject"
PROMPT = N_("Please type the reason as text.")

REASON_LABELS: dict[SuggestReason, str] = {
    SuggestReason.CATEGORY: N_("serves this kind"),
    SuggestReason.DISTRICT: N_("same district"),
    SuggestReason.LOAD: N_("busy with other requests"),
    SuggestReason.ACCEPTANCE: N_("accepts {percent} %"),
}


def _home(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
    )


async def _queue_screen(context: ZyContext) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    services = context.services
    uid = context.user.telegram_id
    queue = await services.requests.queue(uid)
    now = services.clock()
    lines = [t.gettext("🗂 <b>Dispatch queue</b>"), ""]
    keyboard: list[list[InlineKeyboardButton]] = []
    if not queue:
        lines.append(t.gettext("No request is waiting. New ones are sent to you as they come."))
    for request in queue:
        age = duration_text(t, now - request.created_at)
        waiting = "📨 " if request.status is RequestStatus.DISPATCHED else ""
        label = f"{waiting}{await short_line(services, t, request)} · {age}"
        keyboard.append([DpCard(request.request_id).button(label[:60])])
    keyboard.append([DpStats().button(t.gettext("📊 Numbers"))])
    if await services.staff.is_admin(uid):
        keyboard.append([DaHome().button(t.gettext("👥 Dispatchers by area"))])
    keyboard.append([_home(t)])
    if queue:
        lines.append(t.gettext("Urgent first, then the oldest. 📨 = sent, waiting for the team."))
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


async def on_command(update: Update, context: ZyContext) -> None:
    await send(update, *await _queue_screen(context))


async def on_queue(update: Update, context: ZyContext, press: DpQueue) -> None:
    screen = await _queue_screen(context)
    await answer(update)
    await show(update, *screen)


def _reasons(t: Translator, suggestion: Suggestion) -> str:
    words = []
    for reason in suggestion.reasons:
        text = t.gettext(REASON_LABELS[reason])
        words.append(text.format(percent=suggestion.acceptance_percent))
    return ", ".join(words) if words else t.gettext("no particular reason")


async def _card(context: ZyContext, request_id: int) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    services = context.services
    view, suggestions = await services.requests.dispatch_card(context.user.telegram_id, request_id)
    request = view.request
    text = await request_card(services, t, view, now=services.clock())
    keyboard: list[list[InlineKeyboardButton]] = []
    if request.status in (RequestStatus.QUEUED, RequestStatus.DISPATCHED):
        if suggestions:
            text += "\n\n" + t.gettext("<b>Suggested organizations</b>")
            for number, suggestion in enumerate(suggestions, start=1):
                text += f"\n{number}. {html(suggestion.candidate.name)} — {_reasons(t, suggestion)}"
                keyboard.append(
                    [
                        DpSend(
                            request.request_id,
                            request.version,
                            suggestion.candidate.organization_id,
                        ).button(f"➡️ {suggestion.candidate.name}"[:60])
                    ]
                )
        else:
            text += "\n\n" + t.gettext("No organization can take it now.")
        keyboard.append(
            [DpReject(request.request_id, request.version).button(t.gettext("❌ Reject"))]
        )
    keyboard.append([DpQueue().button(t.gettext("⬅️ Queue")), _home(t)])
    return text, InlineKeyboardMarkup(keyboard)


async def on_card(update: Update, context: ZyContext, press: DpCard) -> None:
    screen = await _card(context, press.request_id)
    await answer(update)
    await show(update, *screen)


async def on_send(update: Update, context: ZyContext, press: DpSend) -> None:
    request = await context.services.requests.dispatch(
        context.user.telegram_id, press.request_id, press.version, press.organization_id
    )
    nudge_outbox(context)
    await answer(
        update,
        context.t.gettext("Sent to {team}.").format(team=request.organization_name or ""),
    )
    await show(update, *await _card(context, press.request_id))


async def on_reject(update: Update, context: ZyContext, press: DpReject) -> None:
    t = context.t
    view, _ = await context.services.requests.dispatch_card(
        context.user.telegram_id, press.request_id
    )
    if view.request.version != press.version or view.request.status.closed:
        raise RequestRefused(RequestRefusal.STALE)
    await take(context, FLOW, "reason", {REQUEST: press.request_id, VERSION: press.version})
    await answer(update)
    await send(
        update,
        t.gettext(
            "Why is request #{number} rejected? The resident will read your reason "
            "(up to {limit} characters). /cancel keeps it in the queue."
        ).format(number=press.request_id, limit=REASON_MAX),
    )


@flow_refusing(TEXTS)
async def on_reason(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    request_id = await apply_typed_reason(update, context, owner, context.services.requests.reject)
    if request_id is None:
        return
    t = context.t
    await send(
        update,
        t.gettext("Request #{number} is rejected; the resident is told.").format(number=request_id),
        InlineKeyboardMarkup([[DpQueue().button(t.gettext("⬅️ Queue"))]]),
    )


async def on_reason_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, the request stays in the queue."))


# ------------------------------------------------------------------------- numbers


def figures_line(t: Translator, title: str, figures: RequestFigures) -> str:
    """One line of request numbers (also shown in ``/stats``)."""
    return _figures_line(t, title, figures)


def _figures_line(t: Translator, title: str, figures: RequestFigures) -> str:
    def span(value: timedelta | None) -> str:
        return duration_text(t, value) if value is not None else "–"

    rating = (
        t.gettext("{stars} {average} ({count})").format(
            stars="★", average=t.format_number(round(figures.rating, 1)), count=figures.ratings
        )
        if figures.rating is not None
        else "–"
    )
    return t.gettext(
        "<b>{title}</b>: {total} requests, {completed} completed, {open} open · to dispatch "
        "{dispatch} · to accept {accept} · to complete {complete} · satisfaction {rating}"
    ).format(
        title=html(title),
        total=figures.total,
        completed=figures.completed,
        open=figures.open,
        dispatch=span(figures.to_dispatch),
        accept=span(figures.to_accept),
        complete=span(figures.to_complete),
        rating=rating,
    )


async def on_stats(update: Update, context: ZyContext, press: DpStats) -> None:
    t = context.t
    services = context.services
    stats = await services.requests.stats_for(context.user.telegram_id)
    await answer(update)
    lines = [t.gettext("📊 <b>Resident requests: the numbers</b>"), ""]
    lines.append(_figures_line(t, t.gettext("All"), stats.overall))
    if stats.centres:
        lines += ["", t.gettext("<b>By centre (district)</b>")]
        for figures in stats.centres:
            area = await services.requests.area(figures.key)
            lines.append(
                _figures_line(t, area.name(t.language.value) if area else figures.key, figures)
            )
    if stats.teams:
        lines += ["", t.gettext("<b>By team</b>")]
        for figures in stats.teams:
            lines.append(_figures_line(t, figures.name or figures.key, figures))
    markup = InlineKeyboardMarkup([[DpQueue().button(t.gettext("⬅️ Queue")), _home(t)]])
    await show(update, "\n".join(lines), markup)


# ------------------------------------------------------------------------- notices


async def render_new(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    request_id = item.payload.get("request_id")
    if not isinstance(request_id, int):
        return None
    view = await services.requests.dispatcher_notice(item.telegram_id, request_id)
    if view is None or view.request.status is not RequestStatus.QUEUED:
        return None  # dispatched or closed meanwhile, or the recipient no longer dispatches there
    text = t.gettext("🆕 <b>A new request in your area</b>") + "\n\n"
    text += await request_card(services, t, view)
    markup = InlineKeyboardMarkup([[DpCard(request_id).button(t.gettext("🗂 Dispatch it"))]])
    return Rendered(text, markup)


async def render_returned(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    request_id = item.payload.get("request_id")
    why = item.payload.get("why")
    if not isinstance(request_id, int):
        return None
    view = await services.requests.dispatcher_notice(item.telegram_id, request_id)
    if view is None:
        return None
    request = view.request
    category, area = await names(services, t, request)
    head = headline(t, request, category) + " · " + html(area)
    if why == "redispatched":
        text = t.gettext(
            "↪️ The team did not accept in time, so the request went to the next suggested "
            "organization: {team}."
        ).format(team=html(request.organization_name or ""))
    elif why == "timeout":
        text = t.gettext(
            "↩️ The team did not accept in time and no other organization is left to suggest: "
            "the request is back in your queue."
        )
    else:
        text = t.gettext("↩️ The team declined; the request is back in your queue.")
        if request.status_reason:
            text += "\n" + t.labelled(N_("Reason"), html(request.status_reason))
    markup = InlineKeyboardMarkup([[DpCard(request_id).button(t.gettext("🗂 Open"))]])
    return Rendered(head + "\n\n" + text, markup)


async def render_escalated(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    """To administrators: no address or phone here (the card behind the button has them)."""
    request_id = item.payload.get("request_id")
    if not isinstance(request_id, int):
        return None
    request = await services.requests.escalation_notice(item.telegram_id, request_id)
    if request is None:
        return None
    category, area = await names(services, t, request)
    text = t.gettext(
        "🔴 <b>An urgent request is waiting</b>\n{head} · {area}\nOrdered {when}; no team has "
        "accepted it yet."
    ).format(
        head=headline(t, request, category),
        area=html(area),
        when=t.format_moment(request.created_at),
    )
    markup = InlineKeyboardMarkup([[DpCard(request_id).button(t.gettext("🗂 Open"))]])
    return Rendered(text, markup)


async def render_low_rating(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    request_id = item.payload.get("request_id")
    if not isinstance(request_id, int):
        return None
    view = await services.requests.dispatcher_notice(item.telegram_id, request_id)
    if view is None or view.request.rating is None or view.request.rating > 2:
        return None
    request = view.request
    category, area = await names(services, t, request)
    text = t.gettext("⚠️ A resident rated {head} · {area} {stars} ({n}/5).").format(
        head=headline(t, request, category),
        area=html(area),
        stars=stars(request.rating or 0),
        n=request.rating,
    )
    if request.organization_name:
        text += "\n" + t.labelled(N_("Team"), html(request.organization_name))
    if request.rating_comment:
        text += "\n" + t.gettext("Their comment: {comment}").format(
            comment=html(request.rating_comment)
        )
    markup = InlineKeyboardMarkup([[DpCard(request_id).button(t.gettext("🗂 Open"))]])
    return Rendered(text, markup)


# ------------------------------------------------------------------------- the job


async def tick(context: ZyContext) -> None:
    """The repeating job (see :meth:`bot.services.requests.RequestService.tick`)."""
    report = await context.services.requests.tick()
    if report.anything:
        nudge_outbox(context)


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {
    DpQueue: on_queue,
    DpCard: on_card,
    DpSend: on_send,
    DpReject: on_reject,
    DpStats: on_stats,
}

FLOWS = [Flow(FLOW, on_text=on_reason, on_cancel=on_reason_cancel, on_other=reprompt(PROMPT))]

#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.REQUEST_NEW: render_new,
    NotificationKind.REQUEST_RETURNED: render_returned,
    NotificationKind.REQUEST_ESCALATED: render_escalated,
    NotificationKind.REQUEST_LOW_RATING: render_low_rating,
}


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("dispatch", refusing(TEXTS)(on_command)))
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=_invalid):
        application.add_handler(handler, group)
