"""What the request modules share: their button families, refusal texts and the request card.

The card is drawn from a :class:`bot.services.requests.RequestView`, in which the service has
already blanked the address and phone for a viewer who may not see them; the card shows the
contact lines only when ``contact_shown``, so no screen can leak them by mistake.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

from telegram import Update

from bot.context import Services, ZyContext, nudge_outbox
from bot.domain.flows import FlowOwner
from bot.domain.requests import (
    Beneficiary,
    HelperStatus,
    OrderStep,
    RequestStatus,
    ServiceRequest,
    stars,
)
from bot.domain.validation import InvalidInput, format_phone_for_display
from bot.i18n import N_, Translator
from bot.services.requests import RequestRefusal, RequestView
from bot.services.staff import StaffRefusal
from handlers.callbacks import Press
from handlers.flows import release
from handlers.refusals import GENERIC, RefusalTexts
from handlers.render import html, send

# ------------------------------------------------------------------------- button families


class RqChoose(Press, prefix="rq.ch"):
    """A button answer of the order form, for the step it was drawn for."""

    step: OrderStep
    value: str


class RqEdit(Press, prefix="rq.ed"):
    """Change one answer from the preview."""

    step: OrderStep


class RqSend(Press, prefix="rq.send"):
    """Send the order (the draft is removed in the same transaction: a second press is stale)."""


class RqQuit(Press, prefix="rq.quit"):
    """Throw the draft away."""


class MrList(Press, prefix="mr.list"):
    """The resident's requests."""


class MrCard(Press, prefix="mr.card"):
    request_id: int


class MrCancel(Press, prefix="mr.cancel"):
    """Cancel? (asks first)."""

    request_id: int
    version: int


class MrCancelYes(Press, prefix="mr.cyes"):
    request_id: int
    version: int


class MrStar(Press, prefix="mr.star"):
    request_id: int
    stars: int


class MrSkip(Press, prefix="mr.skip"):
    """No comment on the rating."""

    request_id: int


class DpQueue(Press, prefix="dp.queue"):
    """The dispatcher's queue."""


class DpCard(Press, prefix="dp.card"):
    request_id: int


class DpSend(Press, prefix="dp.send"):
    request_id: int
    version: int
    organization_id: int


class DpReject(Press, prefix="dp.rej"):
    request_id: int
    version: int


class DpStats(Press, prefix="dp.stats"):
    """Time to dispatch, accept and complete, and satisfaction."""


class DaHome(Press, prefix="da.home"):
    """The administrators' screen of dispatchers by area."""


class DaArea(Press, prefix="da.area"):
    area_code: str


class DaAppoint(Press, prefix="da.add"):
    area_code: str


class DaRemove(Press, prefix="da.rm"):
    area_code: str
    telegram_id: int


class TmList(Press, prefix="tm.list"):
    """What the presser's teams hold now."""


class TmCard(Press, prefix="tm.card"):
    request_id: int


class TmAccept(Press, prefix="tm.acc"):
    request_id: int
    version: int


class TmDecline(Press, prefix="tm.dec"):
    request_id: int
    version: int


class TmHelpers(Press, prefix="tm.help"):
    request_id: int


class TmAsk(Press, prefix="tm.ask"):
    request_id: int
    volunteer_id: int


class TmActivity(Press, prefix="tm.act"):
    request_id: int
    version: int


class TmStart(Press, prefix="tm.start"):
    request_id: int
    version: int


class TmDone(Press, prefix="tm.done"):
    """Completed: choose the hours next."""

    request_id: int
    version: int


class TmHours(Press, prefix="tm.hours"):
    request_id: int
    version: int
    minutes: int


class HvAnswer(Press, prefix="hv.ans"):
    """A volunteer asked to serve a request says yes or no."""

    request_id: int
    accept: bool


# ------------------------------------------------------------------------- refusals

_REFUSALS: dict[StrEnum, str] = {
    RequestRefusal.NOT_FOUND: GENERIC,
    RequestRefusal.NOT_YOURS: N_("This is not your request."),
    RequestRefusal.NOT_DISPATCHER: N_("Only the dispatchers of this area can do that."),
    RequestRefusal.NOT_TEAM: N_("This request is not with your organization."),
    RequestRefusal.STALE: N_("This request has changed meanwhile. Please look at it again."),
    RequestRefusal.CANNOT_CANCEL: N_(
        "This request can no longer be cancelled: the team has already started."
    ),
    RequestRefusal.NOT_COMPLETED: N_("You can rate a request once it is completed."),
    RequestRefusal.BAD_RATING: GENERIC,
    RequestRefusal.NOT_RATED: N_("Please choose a rating first."),
    RequestRefusal.NOT_ASKED: N_("You were not asked to serve this request."),
    RequestRefusal.NO_DRAFT: N_(
        "This order was already sent or discarded. Send /request to start a new one."
    ),
    RequestRefusal.INCOMPLETE: N_("Please answer every question before sending."),
    RequestRefusal.BAD_CHOICE: GENERIC,
    RequestRefusal.NOT_ADMIN: N_("Only administrators can do that."),
    RequestRefusal.ALREADY_DISPATCHER: N_("They are already a dispatcher of this area."),
    RequestRefusal.NOT_ORGANIZATION: N_("That organization cannot take requests now."),
    RequestRefusal.WRONG_MODE: N_(
        "This request is already being served the other way (volunteers asked, or an activity)."
    ),
    RequestRefusal.TOO_LATE: N_(
        "The requested time has passed, so no activity can be published for it. Ask volunteers "
        "instead."
    ),
    RequestRefusal.NOT_VOLUNTEER: N_("That volunteer can no longer be asked."),
}
_STAFF: dict[StrEnum, str] = {
    StaffRefusal.NOT_FOUND: GENERIC,
    StaffRefusal.NOT_ALLOWED: N_("This request is not with your organization."),
    StaffRefusal.NOT_ACTIVE: N_("Your organization is not active at the moment."),
}
TEXTS = RefusalTexts(_REFUSALS, _STAFF)

# ------------------------------------------------------------------------- words

STATUS_LABELS: dict[RequestStatus, str] = {
    RequestStatus.QUEUED: N_("⏳ Waiting to be dispatched"),
    RequestStatus.DISPATCHED: N_("📨 Sent to a team, waiting for it to accept"),
    RequestStatus.ACCEPTED: N_("✅ Accepted by a team"),
    RequestStatus.IN_SERVICE: N_("🚶 In service"),
    RequestStatus.COMPLETED: N_("🎉 Completed"),
    RequestStatus.REJECTED: N_("❌ Not accepted"),
    RequestStatus.CANCELLED: N_("🚫 Cancelled"),
}

BENEFICIARY_LABELS: dict[Beneficiary, str] = {
    Beneficiary.SELF: N_("Myself"),
    Beneficiary.ELDERLY: N_("An elderly person (e.g. a relative living alone)"),
    Beneficiary.CHILD: N_("A child"),
    Beneficiary.DISABLED: N_("A person with a disability"),
    Beneficiary.OTHER: N_("Someone else"),
}

HELPER_LABELS: dict[HelperStatus, str] = {
    HelperStatus.ASKED: N_("asked"),
    HelperStatus.ACCEPTED: N_("will serve"),
    HelperStatus.DECLINED: N_("declined"),
}


def duration_text(t: Translator, span: timedelta) -> str:
    """ "2 h 5 min" / "2小时5分钟"; days from 48 hours on."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return t.gettext("{minutes} min").format(minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return t.gettext("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return t.gettext("{days} d {hours} h").format(days=days, hours=hours)


def hours_text(t: Translator, minutes: int) -> str:
    return t.gettext("{hours} h").format(hours=t.format_number(minutes / 60))


async def names(services: Services, t: Translator, request: ServiceRequest) -> tuple[str, str]:
    """The request's category and district in the viewer's language."""
    category = await services.requests.category(request.category_code)
    area = await services.requests.area(request.area_code)
    return (
        category.name(t.language.value) if category is not None else request.category_code,
        area.name(t.language.value) if area is not None else request.area_code,
    )


def when_text(t: Translator, request: ServiceRequest) -> str:
    if request.ends_at is not None:
        return t.format_span(request.starts_at, request.ends_at)
    return t.format_moment(request.starts_at)


def headline(t: Translator, request: ServiceRequest, category: str) -> str:
    line = t.gettext("<b>Request #{number}</b> · {category}").format(
        number=request.request_id, category=html(category)
    )
    if request.urgent:
        line += " · " + t.gettext("🔴 Urgent")
    return line


async def request_card(
    services: Services, t: Translator, view: RequestView, *, now: datetime | None = None
) -> str:
    """The request as this viewer may see it. ``now`` adds its age (the dispatchers' queue)."""
    request = view.request
    category, area = await names(services, t, request)
    lines = [headline(t, request, category), ""]
    status = t.gettext(STATUS_LABELS[request.status])
    if request.organization_name and request.status in (
        RequestStatus.DISPATCHED, RequestStatus.ACCEPTED, RequestStatus.IN_SERVICE,
        RequestStatus.COMPLETED,
    ):  # fmt: skip
        status += " · " + html(request.organization_name)
    lines.append(t.labelled(N_("Status"), status))
    lines.append(t.labelled(N_("What is needed"), html(request.need)))
    lines.append(t.labelled(N_("When"), when_text(t, request)))
    where = html(area)
    if view.contact_shown and request.address:
        where += " · " + html(request.address)
    lines.append(t.labelled(N_("Where"), where))
    if view.contact_shown and request.latitude is not None and request.longitude is not None:
        lines.append(t.labelled(N_("Map pin"), f"{request.latitude:.5f}, {request.longitude:.5f}"))
    lines.append(t.labelled(N_("For whom"), t.gettext(BENEFICIARY_LABELS[request.beneficiary])))
    if view.contact_shown and request.phone:
        lines.append(
            t.labelled(
                N_("Contact"),
                f"{html(request.contact_name)} {html(format_phone_for_display(request.phone))}",
            )
        )
    ordered = t.format_moment(request.created_at)
    if now is not None and not request.status.closed:
        ordered += " · " + t.gettext("waiting {age}").format(
            age=duration_text(t, now - request.created_at)
        )
    lines.append(t.labelled(N_("Ordered"), ordered))
    if request.status_reason and request.status in (RequestStatus.REJECTED, RequestStatus.QUEUED):
        lines.append(t.labelled(N_("Reason"), html(request.status_reason)))
    if request.status is RequestStatus.COMPLETED and request.report:
        done = html(request.report)
        if request.minutes:
            done += " (" + hours_text(t, request.minutes) + ")"
        lines.append(t.labelled(N_("Report"), done))
    if request.rating is not None:
        rated = f"{stars(request.rating)} ({request.rating}/5)"
        if request.rating_comment:
            rated += " " + html(request.rating_comment)
        lines.append(t.labelled(N_("Rating"), rated))
    return "\n".join(lines)


async def short_line(services: Services, t: Translator, request: ServiceRequest) -> str:
    """One line of a list (no address, no phone: lists are glanced at over shoulders)."""
    category, area = await names(services, t, request)
    urgent = "🔴 " if request.urgent else ""
    return (
        f"{urgent}#{request.request_id} {category} · {area} · {t.format_moment(request.starts_at)}"
    )


#: Flow-state keys of a reason typed for one version of a request.
REQUEST = "request"
VERSION = "version"


async def apply_typed_reason(
    update: Update,
    context: ZyContext,
    owner: FlowOwner,
    act: Callable[[int, int, int, str], Awaitable[object]],
) -> int | None:
    """A reason typed for the version of a request the person saw (a dispatcher's rejection,
    a team's decline …): ``act(user, request, version, text)``. Text the service refuses is
    answered and asked for again; done, the flow is released and the outbox nudged. Returns
    the request's number once done."""
    request_id = owner.int_state(REQUEST)
    version = owner.int_state(VERSION)
    message = update.effective_message
    if request_id is None or version is None or message is None or message.text is None:
        await release(context, owner.flow)
        return None
    try:
        await act(context.user.telegram_id, request_id, version, message.text)
    except InvalidInput as error:
        await send(update, error.translate(context.t.gettext))
        return None
    await release(context, owner.flow)
    nudge_outbox(context)
    return request_id
