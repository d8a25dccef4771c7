"""接单: the organizers of the organization a request was sent to accept or decline it (with a
reason), then serve it — asking matching volunteers one by one, or publishing it as an activity
with sign-up — mark it in service and completed with the hours and a short report; the
volunteers' hours go into their service records in the completing transaction.

```mermaid
flowchart LR
    notice[outbox: a request for your team] --> card
    list["/requests → tm.list"] -->|tm.card id| card[team card]
    card -->|tm.acc id, version| accepted[accepted: address and phone shown, resident told]
    card -->|tm.dec id, version: take| why((flow request_decline: a reason))
    why --> queue[back to the dispatchers]
    accepted -->|tm.help id| helpers[matching volunteers]
    helpers -->|tm.ask id, volunteer| asked[outbox: asked]
    asked -->|hv.ans id, yes/no| answered[team told]
    accepted -->|tm.act id, version| activity[published activity with sign-up]
    accepted -->|tm.start id, version| service[in service]
    service & accepted -->|tm.done id, version| hours[1 h · 1.5 h · 2 h · 3 h · 4 h]
    hours -->|tm.hours id, version, minutes: take| report((flow request_report: a short report))
    report --> done[completed: records written, volunteers told, resident asked to rate]
```

Privacy: until the team accepts, its card shows the district, time and need only; the address
and phone appear once it has accepted (:func:`bot.domain.requests.shows_contact`). Volunteers
asked by the team see the district and the time, never the address or the phone: the team
briefs the volunteers it sends itself, so the resident's contact never lands in the chat of
someone the resident did not give it to.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.flows import FlowOwner
from bot.domain.matching import ReasonKind
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.requests import (
    MINUTE_CHOICES,
    REASON_MAX,
    REPORT_MAX,
    Helper,
    HelperStatus,
    RequestStatus,
    ServiceMode,
)
from bot.domain.validation import InvalidInput
from bot.i18n import N_, Translator
from bot.services.requests import RequestRefusal, RequestRefused, RequestView
from handlers.callbacks import MenuItem, MenuOpen, button_rows
from handlers.flows import Flow, release, take
from handlers.manage_buttons import ManageCard
from handlers.manage_steps import reprompt
from handlers.press_table import PressTable, flow_refusing, press_handlers
from handlers.refusals import GENERIC
from handlers.render import answer, html, send, show
from handlers.request_common import (
    HELPER_LABELS,
    REQUEST,
    TEXTS,
    VERSION,
    HvAnswer,
    TmAccept,
    TmActivity,
    TmAsk,
    TmCard,
    TmDecline,
    TmDone,
    TmHelpers,
    TmHours,
    TmList,
    TmStart,
    apply_typed_reason,
    headline,
    hours_text,
    names,
    request_card,
    short_line,
)

log = logging.getLogger(__name__)

DECLINE_FLOW = "request_decline"
REPORT_FLOW = "request_report"
MINUTES = "minutes"
REASON_PROMPT = N_("Please type the reason as text.")
REPORT_PROMPT = N_("Please type the report as text.")

MATCH_REASONS: dict[ReasonKind, str] = {
    ReasonKind.INTEREST: N_("interested in this kind"),
    ReasonKind.SKILL: N_("has the skills"),
    ReasonKind.AVAILABILITY: N_("free at that time"),
    ReasonKind.AREA: N_("lives in the district"),
    ReasonKind.DISTANCE: N_("nearby"),
    ReasonKind.SOON: N_("soon"),
}


def _helper_line(t: Translator, helper: Helper) -> str:
    return t.gettext("• {name}: {answer}").format(
        name=html(helper.name), answer=t.gettext(HELPER_LABELS[helper.status])
    )


def _home(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
    )


async def on_list(update: Update, context: ZyContext, press: TmList) -> None:
    t = context.t
    services = context.services
    held = await services.requests.team_requests(context.user.telegram_id)
    lines = [t.gettext("🏢 <b>Requests for my team</b>"), ""]
    if not held:
        lines.append(t.gettext("Your organization holds no request right now."))
    keyboard = [
        [TmCard(request.request_id).button((await short_line(services, t, request))[:60])]
        for request in held
    ]
    keyboard.append([_home(t)])
    await answer(update)
    await show(update, "\n".join(lines), InlineKeyboardMarkup(keyboard))


async def _card(context: ZyContext, request_id: int) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    services = context.services
    view, helpers = await services.requests.team_card(context.user.telegram_id, request_id)
    request = view.request
    text = await request_card(services, t, view)
    if not view.contact_shown and request.status is RequestStatus.DISPATCHED:
        text += "\n\n" + t.gettext("The address and phone are shown once your team accepts.")
    if helpers:
        text += "\n\n" + t.gettext("<b>Volunteers asked</b>")
        for helper in helpers:
            text += "\n" + _helper_line(t, helper)
    if request.service_mode is ServiceMode.ACTIVITY and request.activity_id is not None:
        text += "\n\n" + t.gettext("Published as an activity with sign-up.")
    rid, version = request.request_id, request.version
    keyboard: list[list[InlineKeyboardButton]] = []
    if request.status is RequestStatus.DISPATCHED:
        keyboard.append(
            [
                TmAccept(rid, version).button(t.gettext("✅ Accept")),
                TmDecline(rid, version).button(t.gettext("❌ Decline")),
            ]
        )
    if request.status in (RequestStatus.ACCEPTED, RequestStatus.IN_SERVICE):
        if request.service_mode is not ServiceMode.ACTIVITY:
            keyboard.append([TmHelpers(rid).button(t.gettext("👥 Ask volunteers"))])
        if request.service_mode is None and request.status is RequestStatus.ACCEPTED:
            keyboard.append(
                [TmActivity(rid, version).button(t.gettext("📅 Publish as an activity"))]
            )
        if request.activity_id is not None:
            keyboard.append([ManageCard(request.activity_id).button(t.gettext("📋 The activity"))])
        row = []
        if request.status is RequestStatus.ACCEPTED:
            row.append(TmStart(rid, version).button(t.gettext("🚶 Start the service")))
        row.append(TmDone(rid, version).button(t.gettext("🎉 Completed")))
        keyboard.append(row)
    keyboard.append([TmList().button(t.gettext("⬅️ Team requests")), _home(t)])
    return text, InlineKeyboardMarkup(keyboard)


async def on_card(update: Update, context: ZyContext, press: TmCard) -> None:
    screen = await _card(context, press.request_id)
    await answer(update)
    await show(update, *screen)


async def on_accept(update: Update, context: ZyContext, press: TmAccept) -> None:
    await context.services.requests.accept(
        context.user.telegram_id, press.request_id, press.version
    )
    nudge_outbox(context)
    await answer(update, context.t.gettext("Accepted. The resident is told."))
    await show(update, *await _card(context, press.request_id))


async def on_decline(update: Update, context: ZyContext, press: TmDecline) -> None:
    view, _ = await context.services.requests.team_card(context.user.telegram_id, press.request_id)
    if view.request.version != press.version or view.request.status is not RequestStatus.DISPATCHED:
        raise RequestRefused(RequestRefusal.STALE)
    await take(context, DECLINE_FLOW, "reason", {REQUEST: press.request_id, VERSION: press.version})
    await answer(update)
    await send(
        update,
        context.t.gettext(
            "Why does your team decline request #{number}? The dispatcher will read it (up to "
            "{limit} characters). /cancel to keep it."
        ).format(number=press.request_id, limit=REASON_MAX),
    )


@flow_refusing(TEXTS)
async def on_decline_text(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    done = await apply_typed_reason(update, context, owner, context.services.requests.decline)
    if done is None:
        return
    await send(
        update,
        context.t.gettext("Declined. The request goes back to the dispatcher."),
        InlineKeyboardMarkup([[TmList().button(context.t.gettext("⬅️ Team requests"))]]),
    )


async def on_decline_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, the request stays with your team."))


# ------------------------------------------------------------------------- volunteers


def _reasons(t: Translator, kinds: list[ReasonKind]) -> str:
    return ", ".join(t.gettext(MATCH_REASONS[kind]) for kind in kinds)


async def _helpers_screen(context: ZyContext, request_id: int) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    view, matches, helpers = await context.services.requests.helper_suggestions(
        context.user.telegram_id, request_id
    )
    category, area = await names(context.services, t, view.request)
    lines = [
        t.gettext("👥 <b>Volunteers for request #{number}</b>").format(number=request_id),
        html(category) + " · " + html(area),
        "",
        t.gettext(
            "They see the district and the time, not the address or the phone: brief those who "
            "say yes yourselves."
        ),
    ]
    if helpers:
        lines.append("")
        for helper in helpers:
            lines.append(_helper_line(t, helper))
    keyboard: list[list[InlineKeyboardButton]] = []
    if matches:
        lines += ["", t.gettext("<b>Matching volunteers</b>")]
        for match in matches:
            lines.append(f"• {html(match.name)} — {_reasons(t, [r.kind for r in match.reasons])}")
            keyboard.append(
                [
                    TmAsk(request_id, match.volunteer_id).button(
                        t.gettext("🙋 Ask {name}").format(name=match.name)[:60]
                    )
                ]
            )
    else:
        lines += ["", t.gettext("Nobody else matches right now.")]
    keyboard.append([TmCard(request_id).button(t.gettext("⬅️ The request"))])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


async def on_helpers(update: Update, context: ZyContext, press: TmHelpers) -> None:
    screen = await _helpers_screen(context, press.request_id)
    await answer(update)
    await show(update, *screen)


async def on_ask(update: Update, context: ZyContext, press: TmAsk) -> None:
    helper = await context.services.requests.ask_helper(
        context.user.telegram_id, press.request_id, press.volunteer_id
    )
    nudge_outbox(context)
    await answer(update, context.t.gettext("{name} is asked.").format(name=helper.name))
    await show(update, *await _helpers_screen(context, press.request_id))


async def on_activity(update: Update, context: ZyContext, press: TmActivity) -> None:
    activity = await context.services.requests.make_activity(
        context.user.telegram_id, press.request_id, press.version, context.user.first_name
    )
    await answer(update, context.t.gettext("Published: volunteers find it in the service menu."))
    await show(update, *await _card(context, press.request_id))
    log.info("request %s published as activity %s", press.request_id, activity.activity_id)


async def on_start(update: Update, context: ZyContext, press: TmStart) -> None:
    await context.services.requests.start_service(
        context.user.telegram_id, press.request_id, press.version
    )
    nudge_outbox(context)
    await answer(update, context.t.gettext("In service. The resident is told."))
    await show(update, *await _card(context, press.request_id))


async def on_done(update: Update, context: ZyContext, press: TmDone) -> None:
    t = context.t
    view, _ = await context.services.requests.team_card(context.user.telegram_id, press.request_id)
    if view.request.version != press.version:
        raise RequestRefused(RequestRefusal.STALE)
    await answer(update)
    buttons = [
        TmHours(press.request_id, press.version, minutes).button(hours_text(t, minutes))
        for minutes in MINUTE_CHOICES
    ]
    text = t.gettext(
        "How many hours did the service take? Each volunteer who served gets this in their "
        "service record."
    )
    keyboard = [
        *button_rows(buttons, 3),
        [TmCard(press.request_id).button(t.gettext("⬅️ The request"))],
    ]
    await show(update, text, InlineKeyboardMarkup(keyboard))


async def on_hours(update: Update, context: ZyContext, press: TmHours) -> None:
    await context.services.requests.check_completion(
        context.user.telegram_id, press.request_id, press.minutes
    )
    await take(
        context,
        REPORT_FLOW,
        "report",
        {REQUEST: press.request_id, VERSION: press.version, MINUTES: press.minutes},
    )
    await answer(update)
    await send(
        update,
        context.t.gettext(
            "A short report for the resident and the records: what was done? (up to {limit} "
            "characters)"
        ).format(limit=REPORT_MAX),
    )


@flow_refusing(TEXTS)
async def on_report(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    request_id = owner.int_state(REQUEST)
    version = owner.int_state(VERSION)
    minutes = owner.int_state(MINUTES)
    message = update.effective_message
    if None in (request_id, version, minutes) or message is None or message.text is None:
        await release(context, REPORT_FLOW)
        return
    assert request_id is not None and version is not None and minutes is not None
    try:
        _request, written = await context.services.requests.complete(
            context.user.telegram_id, request_id, version, minutes, message.text,
            context.user.first_name,
        )  # fmt: skip
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))
        return
    await release(context, REPORT_FLOW)
    nudge_outbox(context)
    t = context.t
    await send(
        update,
        t.ngettext(
            "🎉 Request #{number} is completed. {count} volunteer's hours are recorded; the "
            "resident is asked to rate the service.",
            "🎉 Request #{number} is completed. {count} volunteers' hours are recorded; the "
            "resident is asked to rate the service.",
            written,
        ).format(number=request_id, count=written),
        InlineKeyboardMarkup([[TmList().button(t.gettext("⬅️ Team requests"))]]),
    )


async def on_report_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> None:
    await send(update, context.t.gettext("OK, not completed yet."))


# ------------------------------------------------------------------------- volunteers answer


async def _helper_text(services: Services, t: Translator, view: RequestView) -> str:
    text = t.gettext(
        "🙋 <b>Can you help?</b> {team} asks you to serve a resident's request."
    ).format(team=html(view.request.organization_name or ""))
    return text + "\n\n" + await request_card(services, t, view)


async def on_answer(update: Update, context: ZyContext, press: HvAnswer) -> None:
    t = context.t
    view, helper = await context.services.requests.helper_answer(
        context.user.telegram_id, press.request_id, press.accept
    )
    nudge_outbox(context)
    await answer(update, t.gettext("Thank you!"))
    text = await _helper_text(context.services, t, view)
    if helper.status is HelperStatus.ACCEPTED:
        text += "\n\n" + t.gettext(
            "✅ Thank you! The team will contact you with the details (the exact place)."
        )
    else:
        text += "\n\n" + t.gettext("OK, maybe next time.")
    await show(update, text)


# ------------------------------------------------------------------------- notices


async def _team_notice(
    item: OutboxItem, services: Services, t: Translator, intro: str
) -> Rendered | None:
    request_id = item.payload.get("request_id")
    if not isinstance(request_id, int):
        return None
    view = await services.requests.team_notice(item.telegram_id, request_id)
    if view is None:
        return None  # accepted, declined or moved on meanwhile
    request = view.request
    text = intro + "\n\n" + await request_card(services, t, view)
    text += "\n\n" + t.gettext("The address and phone are shown once your team accepts.")
    markup = InlineKeyboardMarkup(
        [
            [
                TmAccept(request_id, request.version).button(t.gettext("✅ Accept")),
                TmDecline(request_id, request.version).button(t.gettext("❌ Decline")),
            ]
        ]
    )
    return Rendered(text, markup)


async def render_assigned(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    return await _team_notice(
        item, services, t, t.gettext("📨 <b>A resident's request for your team</b>")
    )


async def render_reminder(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    return await _team_notice(
        item,
        services,
        t,
        t.gettext(
            "⏰ <b>Still waiting for your answer</b>: without it the request goes to another "
            "team soon."
        ),
    )


async def render_help_asked(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    request_id = item.payload.get("request_id")
    if not isinstance(request_id, int):
        return None
    found = await services.requests.helper_notice(item.telegram_id, request_id)
    if found is None:
        return None
    view, helper = found
    if helper.status is not HelperStatus.ASKED or view.request.status not in (
        RequestStatus.ACCEPTED,
        RequestStatus.IN_SERVICE,
    ):
        return None
    markup = InlineKeyboardMarkup(
        [
            [
                HvAnswer(request_id, True).button(t.gettext("✅ Yes, I will serve")),
                HvAnswer(request_id, False).button(t.gettext("Not this time")),
            ]
        ]
    )
    return Rendered(await _helper_text(services, t, view), markup)


async def render_helper_answer(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    request_id = item.payload.get("request_id")
    volunteer_id = item.payload.get("volunteer_id")
    if not isinstance(request_id, int) or not isinstance(volunteer_id, int):
        return None
    found = await services.requests.helper_answer_notice(item.telegram_id, request_id, volunteer_id)
    if found is None:
        return None
    request, helper = found
    if helper.status is HelperStatus.ACCEPTED:
        text = t.gettext("✅ {name} will serve request #{number}.")
    else:
        text = t.gettext("{name} cannot serve request #{number}.")
    markup = InlineKeyboardMarkup([[TmCard(request_id).button(t.gettext("📋 The request"))]])
    return Rendered(text.format(name=html(helper.name), number=request.request_id), markup)


async def render_withdrawn(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    """To the team, the volunteers asked and the dispatchers: the number, kind and district."""
    request_id = item.payload.get("request_id")
    if not isinstance(request_id, int):
        return None
    request = await services.requests.withdrawn_notice(request_id)
    if request is None:
        return None
    category, area = await names(services, t, request)
    head = headline(t, request, category) + " · " + html(area)
    if request.status is RequestStatus.CANCELLED:
        text = t.gettext("The resident cancelled this request.")
    elif request.status is RequestStatus.REJECTED:
        text = t.gettext("The dispatcher withdrew this request.")
    else:
        text = t.gettext("This request is no longer with your team: it went to another one.")
    return Rendered(head + "\n\n" + text)


async def render_hours(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    request_id = item.payload.get("request_id")
    if not isinstance(request_id, int):
        return None
    found = await services.requests.helper_notice(item.telegram_id, request_id)
    request = await services.requests.withdrawn_notice(request_id)
    if request is None or request.minutes is None:
        return None
    if found is None and request.service_mode is not ServiceMode.ACTIVITY:
        return None
    text = t.gettext(
        "🙏 Thank you for serving request #{number}! {hours} are recorded in your service "
        "record: see /hours."
    ).format(number=request_id, hours=hours_text(t, request.minutes))
    return Rendered(text)


async def _invalid(update: Update, context: ZyContext) -> None:
    await answer(update, context.t.gettext(GENERIC), alert=True)


PRESSES: PressTable = {
    TmList: on_list,
    TmCard: on_card,
    TmAccept: on_accept,
    TmDecline: on_decline,
    TmHelpers: on_helpers,
    TmAsk: on_ask,
    TmActivity: on_activity,
    TmStart: on_start,
    TmDone: on_done,
    TmHours: on_hours,
    HvAnswer: on_answer,
}

FLOWS = [
    Flow(
        DECLINE_FLOW,
        on_text=on_decline_text,
        on_cancel=on_decline_cancel,
        on_other=reprompt(REASON_PROMPT),
    ),
    Flow(
        REPORT_FLOW, on_text=on_report, on_cancel=on_report_cancel, on_other=reprompt(REPORT_PROMPT)
    ),
]

#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.REQUEST_ASSIGNED: render_assigned,
    NotificationKind.REQUEST_ACCEPT_REMINDER: render_reminder,
    NotificationKind.REQUEST_HELP_ASKED: render_help_asked,
    NotificationKind.REQUEST_HELPER_ANSWER: render_helper_answer,
    NotificationKind.REQUEST_WITHDRAWN: render_withdrawn,
    NotificationKind.REQUEST_HOURS: render_hours,
}


def register(application: HandlerSink) -> None:
    for handler, group in press_handlers(PRESSES, texts=TEXTS, invalid=_invalid):
        application.add_handler(handler, group)
