"""``/requests``: residents follow their requests, cancel them before the service starts, and
rate them when completed (评单). The screen also leads organizers to their team's requests and
dispatchers to their queue.

```mermaid
flowchart LR
    cmd["/requests · mr.list"] --> list[my requests · team's · queue]
    list -->|mr.card id| card[request card]
    card -->|mr.cancel id, version| sure{Cancel?}
    sure -->|mr.cyes id, version| cancelled[cancelled: dispatchers, team, volunteers told]
    notice[outbox: status changed] --> card
    notice -->|completed| stars[⭐1 … ⭐5]
    stars -->|mr.star id, n: take| comment((flow request_rating: a comment?))
    comment -->|text ≤ 300| thanks[saved]
    comment -->|mr.skip or /cancel| thanks
    stars -->|rating ≤ 2| low[outbox: the area's dispatchers told]
```

Every press names a request; the service checks that the presser is the resident who ordered
it (``NOT_YOURS`` otherwise) and that the version on the button is the current one.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.requests import COMMENT_MAX, STARS, RequestStatus, ServiceRequest, Viewer
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.requests import view_of
from handlers.callbacks import MenuItem, MenuOpen
from handlers.flows import Flow, owned_by, release, take
from handlers.manage_steps import reprompt
from handlers.press_table import PressTable, flow_refusing, press_handlers, without_press
from handlers.refusals import GENERIC, refusing
from handlers.render import answer, html, send, show
from handlers.request_common import (
    STATUS_LABELS,
    TEXTS,
    DpQueue,
    MrCancel,
    MrCancelYes,
    MrCard,
    MrList,
    MrSkip,
    MrStar,
    TmList,
    headline,
    names,
    request_card,
    short_line,
)

FLOW = "request_rating"
REQUEST = "request"
PROMPT = N_("Please type your comment as text, or press Skip.")


def _home(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
    )


def star_row(request_id: int) -> list[InlineKeyboardButton]:
    return [MrStar(request_id, n).button(f"⭐{n}") for n in STARS]


async def _list_screen(context: ZyContext) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    services = context.services
    uid = context.user.telegram_id
    mine = await services.requests.mine(uid)
    lines = [t.gettext("📮 <b>My requests</b>"), ""]
    keyboard: list[list[InlineKeyboardButton]] = []
    if not mine:
        lines.append(
            t.gettext("You have not requested a service yet. Volunteers can help with errands, "
                      "visits, repairs, tutoring and more: tap “Request a service”.")
        )  # fmt: skip
    for request in mine:
        status = t.gettext(STATUS_LABELS[request.status])
        label = await short_line(services, t, request)
        keyboard.append([MrCard(request.request_id).button(f"{label} · {status}"[:60])])
    keyboard.append(
        [
            InlineKeyboardButton(
                t.gettext("🙋 Request a service"), callback_data=MenuOpen(MenuItem.REQUEST).pack()
            )
        ]
    )
    if await services.requests.team_requests(uid):
        keyboard.append([TmList().button(t.gettext("🏢 Requests for my team"))])
    if await services.requests.is_dispatcher(uid):
        keyboard.append([DpQueue().button(t.gettext("🗂 Dispatch queue"))])
    keyboard.append([_home(t)])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


async def on_command(update: Update, context: ZyContext) -> None:
    text, markup = await _list_screen(context)
    await send(update, text, markup)


async def on_menu(update: Update, context: ZyContext) -> None:
    screen = await _list_screen(context)
    await answer(update)
    await show(update, *screen)


async def on_list(update: Update, context: ZyContext, press: MrList) -> None:
    await answer(update)
    text, markup = await _list_screen(context)
    await show(update, text, markup)


async def _card(context: ZyContext, request: ServiceRequest) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    text = await request_card(context.services, t, view_of(request, Viewer.RESIDENT))
    keyboard: list[list[InlineKeyboardButton]] = []
    if request.status is RequestStatus.COMPLETED:
        text += "\n\n" + t.gettext("How was the service? Rate it from 1 to 5 stars.")
        keyboard.append(star_row(request.request_id))
    if request.status.cancellable:
        keyboard.append(
            [
                MrCancel(request.request_id, request.version).button(
                    t.gettext("🚫 Cancel the request")
                )
            ]
        )
    keyboard.append([MrList().button(t.gettext("⬅️ My requests")), _home(t)])
    return text, InlineKeyboardMarkup(keyboard)


async def on_card(update: Update, context: ZyContext, press: MrCard) -> None:
    request = await context.services.requests.own(context.user.telegram_id, press.request_id)
    await answer(update)
    await show(update, *await _card(context, request))


async def on_cancel_ask(update: Update, context: ZyContext, press: MrCancel) -> None:
    t = context.t
    request = await context.services.requests.own(context.user.telegram_id, press.request_id)
    await answer(update)
    text = t.gettext("Cancel request #{number}? The team and the dispatcher will be told.").format(
        number=request.request_id
    )
    markup = InlineKeyboardMarkup(
        [
            [MrCancelYes(press.request_id, press.version).button(t.gettext("Yes, cancel it"))],
            [MrCard(press.request_id).button(t.gettext("No, keep it"))],
        ]
    )
    await show(update, text, markup)


async def on_cancel_yes(update: Update, context: ZyContext, press: MrCancelYes) -> None:
    request = await context.services.requests.cancel(
        context.user.telegram_id, press.request_id, press.version
    )
    nudge_outbox(context)
    await answer(update, context.t.gettext("The request is cancelled."))
    await show(update, *await _card(context, request))


def _rated_line(t: Translator, request: ServiceRequest) -> str:
    if request.rating is None:
        return ""
    line = t.gettext("Your rating: {stars} ({n}/5)").format(
        stars="★" * request.rating + "☆" * (5 - request.rating), n=request.rating
    )
    if request.rating_comment:
        line += "\n" + t.gettext("Your comment: {comment}").format(
            comment=html(request.rating_comment)
        )
    return line


async def on_star(update: Update, context: ZyContext, press: MrStar) -> None:
    t = context.t
    request = await context.services.requests.rate(
        context.user.telegram_id, press.request_id, press.stars
    )
    nudge_outbox(context)  # a low rating tells the dispatchers
    await take(context, FLOW, "comment", {REQUEST: press.request_id})
    await answer(update, t.gettext("Thank you!"))
    text = t.gettext(
        "Thank you for rating request #{number}.\n{rated}\n\nWould you like to add a comment? "
        "Type it (up to {limit} characters), or press Skip."
    ).format(number=request.request_id, rated=_rated_line(t, request), limit=COMMENT_MAX)
    markup = InlineKeyboardMarkup(
        [star_row(press.request_id), [MrSkip(press.request_id).button(t.gettext("Skip"))]]
    )
    await show(update, text, markup)


async def _thanks(context: ZyContext, request: ServiceRequest) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    text = t.gettext("✅ Thank you! Your feedback on request #{number} is saved.\n{rated}").format(
        number=request.request_id, rated=_rated_line(t, request)
    )
    return text, InlineKeyboardMarkup(
        [star_row(request.request_id), [MrList().button(t.gettext("⬅️ My requests"))]]
    )


async def on_skip(update: Update, context: ZyContext, press: MrSkip) -> None:
    owner = await owned_by(context, FLOW)
    if owner is not None and owner.int_state(REQUEST) == press.request_id:
        await release(context, FLOW)
    request = await context.services.requests.own(context.user.telegram_id, press.request_id)
    if request.rating is None:
        await answer(update, context.t.gettext(GENERIC), alert=True)
        return
    await answer(update)
    await show(update, *await _thanks(context, request))


@flow_refusing(TEXTS)
async def on_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    request_id = owner.int_state(REQUEST)
    message = update.effective_message
    if request_id is None or message is None or message.text is None:
        await release(context, FLOW)
        return
    try:
        request = await context.services.requests.comment(
            context.user.telegram_id, request_id, message.text
        )
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))
        return
    await release(context, FLOW)
    await send(update, *await _thanks(context, request))


async def on_flow_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, no comment. Your rating is kept."))


# ------------------------------------------------------------------------- the notice


async def render_status(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    """Told at every change, rendered as the request is when it is sent (a notice that
    arrives after a later change shows the later state)."""
    request_id = item.payload.get("request_id")
    if not isinstance(request_id, int):
        return None
    request = await services.requests.resident_notice(item.telegram_id, request_id)
    if request is None:
        return None
    category, _area = await names(services, t, request)
    lines = [
        t.gettext("🔔 <b>News about your request</b>"),
        headline(t, request, category),
        "",
        t.labelled(N_("Status"), t.gettext(STATUS_LABELS[request.status])),
    ]
    if request.status is RequestStatus.DISPATCHED and request.organization_name:
        lines.append(
            t.gettext("It was passed to {team}.").format(team=html(request.organization_name))
        )
    if (
        request.status in (RequestStatus.ACCEPTED, RequestStatus.IN_SERVICE)
        and request.organization_name
    ):
        lines.append(
            t.gettext("{team} takes care of it and will contact you if needed.").format(
                team=html(request.organization_name)
            )
        )
    if request.status is RequestStatus.QUEUED:
        lines.append(t.gettext("It is being passed to another team."))
    if request.status is RequestStatus.REJECTED and request.status_reason:
        lines.append(t.labelled(N_("Reason"), html(request.status_reason)))
    keyboard = [[MrCard(request_id).button(t.gettext("📮 Open the request"))]]
    if request.status is RequestStatus.COMPLETED:
        if request.report:
            lines.append(t.labelled(N_("Report"), html(request.report)))
        lines += ["", t.gettext("<b>How was it?</b> Rate the service from 1 to 5 stars.")]
        keyboard.insert(0, star_row(request_id))
    return Rendered("\n".join(lines), InlineKeyboardMarkup(keyboard))


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {
    MrList: on_list,
    MrCard: on_card,
    MrCancel: on_cancel_ask,
    MrCancelYes: on_cancel_yes,
    MrStar: on_star,
    MrSkip: on_skip,
}

FLOWS = [Flow(FLOW, on_text=on_text, on_cancel=on_flow_cancel, on_other=reprompt(PROMPT))]

#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {NotificationKind.REQUEST_STATUS: render_status}


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("requests", refusing(TEXTS)(on_command)))
    for handler, group in press_handlers(
        {MenuOpen(MenuItem.REQUESTS): without_press(on_menu), **PRESSES},
        texts=TEXTS,
        invalid=_invalid,
    ):
        application.add_handler(handler, group)
