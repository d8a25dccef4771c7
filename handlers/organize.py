"""For organizers: applying for an organization, and the organization home (co-organizers:
:mod:`handlers.co_organizers`).

``/organize`` and the main menu's "For organizers" entry lead a member of an approved
organization to its home (a chooser first when they belong to several), someone with a pending
application to its status, and anyone else to the application form. The form's draft, with the
step it is at, lives in ``organization_drafts`` (:mod:`bot.services.organizations`); while the
form is open the flow ``organize`` owns the user's typed input (``flow_owners``, taken before
each question is shown), so a restart or a second process carries on at the same step.

```mermaid
stateDiagram-v2
    [*] --> Route: /organize · menu:organize · org.home
    Route --> Home: member of an approved organization (chooser when several)
    Route --> Pending: application under review
    Route --> Form: otherwise (take: the flow owns typed input)
    Form --> Form: typed answer / org.f.type · org.f.area / org.f.back:<step> / org.f.edit:<field>
    Form --> Pending: org.f.submit (administrators notified; release)
    Form --> [*]: /cancel (draft kept; release) · org.f.quit (draft discarded; release)
    Home --> Members: org.mem (managers; handlers.co_organizers)
```

The form's buttons say what they were drawn for: a type or area button belongs to that step,
Back carries the step it was shown on. A press from an older screen (the form has moved on) is
refused with a notice and changes nothing, neither the draft nor that old message. Every press
about an organization is re-authorized with ``services.staff``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import HandlerSink, Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import MemberRole, Organization, OrganizationStatus, OrganizationType
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.refusals import Refused
from bot.domain.validation import InvalidInput, format_phone_for_display
from bot.i18n import N_, Translator
from bot.services.organizations import (
    ApplicationDraft,
    ApplicationStep,
    OrganizationAdminService,
    OrgRefusal,
    OrgRefused,
)
from bot.services.staff import StaffRefusal, StaffRefused
from handlers.awards import AwardStart
from handlers.callbacks import MenuItem, MenuOpen, Press, button_rows, callback
from handlers.flows import Flow, release, take
from handlers.press_table import PressTable, press_handlers, without_press
from handlers.render import answer, html, send, show
from handlers.staff import refuse_staff

log = logging.getLogger(__name__)

Step = ApplicationStep
FLOW = "organize"

PressFn = Callable[[Update, ZyContext, Any], Awaitable[None]]

TYPE_LABELS: dict[OrganizationType, str] = {
    OrganizationType.ASSOCIATION: N_("Industry association / chamber of commerce"),
    OrganizationType.SOCIAL_ORG: N_("Social organization"),
    OrganizationType.COMMUNITY: N_("Community / village"),
    OrganizationType.SCHOOL: N_("School"),
    OrganizationType.ENTERPRISE: N_("Enterprise"),
    OrganizationType.PUBLIC_INSTITUTION: N_("Government agency / public institution"),
    OrganizationType.VOLUNTEER_TEAM: N_("Volunteer service team"),
}

FIELD_LABELS: dict[Step, str] = {
    Step.NAME: N_("Organization name"),
    Step.TYPE: N_("Type"),
    Step.AREA: N_("Area"),
    Step.CONTACT: N_("Contact person"),
    Step.PHONE: N_("Contact phone"),
    # Not the activity's "Description" (活动说明): an organization is described in its own words.
    Step.DESCRIPTION: N_("About the organization"),
}

STATUS_LABELS: dict[OrganizationStatus, str] = {
    OrganizationStatus.PENDING: N_("⏳ waiting for review"),
    OrganizationStatus.APPROVED: N_("✅ approved"),
    OrganizationStatus.REJECTED: N_("❌ rejected"),
    OrganizationStatus.SUSPENDED: N_("⛔ suspended"),
}

REFUSALS: dict[OrgRefusal, str] = {
    OrgRefusal.NO_DRAFT: N_("This application is already submitted or was discarded."),
    OrgRefusal.WRONG_STEP: N_(
        "This button belongs to an earlier screen of the form. Please answer the latest "
        "question; nothing was changed."
    ),
    OrgRefusal.INCOMPLETE: N_("Some answers are missing. Please complete the form."),
    OrgRefusal.PENDING_EXISTS: N_("You already have an application waiting for review."),
    OrgRefusal.NOT_PENDING: N_("The organization's status has changed meanwhile."),
    OrgRefusal.LAST_MANAGER: N_(
        "An organization needs at least one manager: the last manager cannot be removed."
    ),
    OrgRefusal.NOT_MEMBER: N_("That person is not a member any more."),
    OrgRefusal.ALREADY_MEMBER: N_("You are already a member of {organization}."),
    OrgRefusal.INVITE_UNKNOWN: N_(
        "This invitation link is not valid. Please ask the organization's manager for a new one."
    ),
    OrgRefusal.INVITE_EXPIRED: N_(
        "This invitation link has expired. Please ask the organization's manager for a new one."
    ),
    OrgRefusal.INVITE_USED: N_(
        "This invitation link was already used: each link works only once. Please ask the "
        "organization's manager for a new one."
    ),
    OrgRefusal.ORG_NOT_ACTIVE: N_("{organization} is not active at the moment."),
    OrgRefusal.FIXED_ADMIN: N_(
        "Administrators from the bot's configuration (ADMIN_IDS) cannot be removed here."
    ),
    OrgRefusal.SELF: N_("You cannot remove yourself as an administrator."),
    OrgRefusal.ALREADY_ADMIN: N_("That person is already an administrator."),
    OrgRefusal.NOT_ADMIN: N_("That person is not an administrator any more."),
    OrgRefusal.CODE_TAKEN: N_("That code is already used in this list. Please choose another."),
    OrgRefusal.NO_ITEM: N_("That entry does not exist any more."),
}


# ------------------------------------------------------------------------------ buttons


class OrgHome(Press, prefix="org.home"):
    """The organizer entry again: home, pending status or the form."""


class OrgApply(Press, prefix="org.apply"):
    """Apply for another organization although a membership is suspended."""


class OrgOpen(Press, prefix="org.h"):
    organization_id: int


class OrgMembers(Press, prefix="org.mem"):
    organization_id: int


class OrgInvite(Press, prefix="org.inv"):
    organization_id: int


class OrgRemove(Press, prefix="org.rm"):
    organization_id: int
    telegram_id: int


class OrgRemoveYes(Press, prefix="org.rmy"):
    organization_id: int
    telegram_id: int


class OrgJoin(Press, prefix="org.join"):
    code: str


class OrgPickType(Press, prefix="org.f.type"):
    """Drawn on the type step only (the service refuses it at any other step)."""

    kind: OrganizationType


class OrgPickArea(Press, prefix="org.f.area"):
    """Drawn on the area step only (the service refuses it at any other step)."""

    code: str


class OrgBack(Press, prefix="org.f.back"):
    step: ApplicationStep  # the step whose screen showed this Back


class OrgEdit(Press, prefix="org.f.edit"):
    """Drawn on the review only: change one answer."""

    field: ApplicationStep


class OrgSubmit(Press, prefix="org.f.submit"):
    """Drawn on the review only."""


class OrgQuit(Press, prefix="org.f.quit"):
    """Discard the form (from any of its screens: that is what the user asks for)."""


# ------------------------------------------------------------------------------ helpers


def service(context: ZyContext) -> OrganizationAdminService:
    return context.services.org_admin


def refusal_text(t: Translator, error: OrgRefused) -> str:
    name = error.organization.name if error.organization is not None else ""
    return t.gettext(REFUSALS[error.reason]).format(organization=name)


async def answer_refused(update: Update, context: ZyContext, error: Refused) -> None:
    """A refusal from the organization or staff service: an alert on a press, else a message."""
    if isinstance(error, OrgRefused):
        text = refusal_text(context.t, error)
        if update.callback_query is not None:
            await answer(update, text, alert=True)
        else:
            await send(update, text)
        return
    if isinstance(error, StaffRefused):
        await refuse_staff(update, context, error)
        return
    raise error


def home_row(t: Translator) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(
            t.gettext("🏠 Main menu"), callback_data=MenuOpen(MenuItem.HOME).pack()
        )
    ]


def type_label(t: Translator, org_type: OrganizationType) -> str:
    return t.gettext(TYPE_LABELS[org_type])


async def area_name(services: Services, t: Translator, code: str | None) -> str:
    if code is None:
        return t.gettext("—")
    item = await services.catalog.area(code)
    return item.name(t.language.value) if item else code


async def describe(services: Services, t: Translator, organization: Organization) -> str:
    """The organization's card (administrators' review and details screens)."""
    area = await area_name(services, t, organization.area_code)
    lines = [
        f"<b>{html(organization.name)}</b>",
        t.gettext("Type: {type}").format(type=type_label(t, organization.org_type)),
        t.gettext("Area: {area}").format(area=html(area)),
        t.gettext("Contact person: {name}").format(name=html(organization.contact_name)),
        t.gettext("Contact phone: {phone}").format(
            phone=format_phone_for_display(organization.contact_phone)
        ),
        t.gettext("Status: {status}").format(status=t.gettext(STATUS_LABELS[organization.status])),
    ]
    if organization.description:
        lines += [
            "",
            t.gettext("About the organization: {text}").format(text=html(organization.description)),
        ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ the form

#: The prompt of each step but the review, with ``{progress}`` ("step 2 of 6").
PROMPTS: dict[Step, str] = {
    Step.NAME: N_(
        "{progress}: the <b>full name</b> of your organization (2–60 characters). Please type it."
    ),
    Step.TYPE: N_("{progress}: what <b>type</b> of organization is it?"),
    Step.AREA: N_("{progress}: in which <b>area</b> does it work?"),
    Step.CONTACT: N_("{progress}: the <b>contact person</b>'s real name. Please type it."),
    Step.PHONE: N_(
        "{progress}: the contact person's <b>phone number</b>, for example 138 1234 5678."
    ),
    Step.DESCRIPTION: N_(
        "{progress}: a short <b>description</b>: what does the organization do, and whom "
        "does it serve? (10–500 characters)"
    ),
}


async def render_step(
    draft: ApplicationDraft, context: ZyContext
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    step = draft.step
    quit_row = [OrgQuit().button(t.gettext("🗑 Discard the form"))]
    if step is Step.REVIEW:
        return await _render_review(draft, context, quit_row)
    progress = t.gettext("Organization application, step {number} of {total}").format(
        number=list(Step).index(step) + 1, total=len(Step) - 1
    )
    text = t.gettext(PROMPTS[step]).format(progress=progress)
    back = [OrgBack(step).button(t.gettext("⬅️ Back"))]
    if step is Step.NAME:
        return text, InlineKeyboardMarkup([quit_row])
    if step is Step.TYPE:
        buttons = [
            [OrgPickType(kind).button(t.gettext(label))] for kind, label in TYPE_LABELS.items()
        ]
        return text, InlineKeyboardMarkup([*buttons, back])
    if step is Step.AREA:
        areas = await context.services.catalog.areas()
        area_buttons = [
            OrgPickArea(area.code).button(area.name(t.language.value)) for area in areas
        ]
        return text, InlineKeyboardMarkup([*button_rows(area_buttons, 2), back])
    return text, InlineKeyboardMarkup([back])


async def _render_review(
    draft: ApplicationDraft, context: ZyContext, quit_row: list[InlineKeyboardButton]
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    data = draft.data
    none = t.gettext("—")
    values: dict[Step, str] = {
        Step.NAME: html(data.name) if data.name else none,
        Step.TYPE: type_label(t, data.org_type) if data.org_type else none,
        Step.AREA: html(await area_name(context.services, t, data.area_code)),
        Step.CONTACT: html(data.contact_name) if data.contact_name else none,
        Step.PHONE: format_phone_for_display(data.contact_phone) if data.contact_phone else none,
        Step.DESCRIPTION: html(data.description) if data.description else none,
    }
    lines = [t.gettext("<b>Please check your application</b>"), ""]
    lines += [
        t.gettext("<b>{label}:</b> {value}").format(
            label=t.gettext(FIELD_LABELS[field]), value=value
        )
        for field, value in values.items()
    ]
    lines += ["", t.gettext("Tap a field to change it, or submit the application.")]
    edits = [
        OrgEdit(field).button(t.gettext("✏️ {label}").format(label=t.gettext(FIELD_LABELS[field])))
        for field in values
    ]
    submit = OrgSubmit().button(t.gettext("📨 Submit the application"))
    return "\n".join(lines), InlineKeyboardMarkup([*button_rows(edits, 2), [submit], quit_row])


async def present(
    update: Update, context: ZyContext, draft: ApplicationDraft, *, notice: str | None = None
) -> None:
    """Show the draft's step; the flow owns the typed input first (a crash right after the
    question is shown loses nothing)."""
    await take(context, FLOW, draft.step.value)
    text, markup = await render_step(draft, context)
    if notice:
        text = f"{notice}\n\n{text}"
    await show(update, text, markup)


# ----------------------------------------------------------------------------- routing


async def enter(update: Update, context: ZyContext, applying: bool = False) -> None:
    """``/organize``, ``menu:organize``, ``org.home``: home, pending status, or the form."""
    await answer(update)
    t = context.t
    uid = context.user.telegram_id
    organizations = await context.services.staff.organizations_of(uid)
    if len(organizations) == 1:
        organization, role = organizations[0]
        await show_home(update, context, organization, role)
        return
    if organizations:
        buttons = [
            [OrgOpen(organization.organization_id).button(organization.name)]
            for organization, _ in organizations
        ]
        await show(
            update,
            t.gettext("You act for several organizations. Which one?"),
            InlineKeyboardMarkup([*buttons, home_row(t)]),
        )
        return
    svc = service(context)
    pending = await svc.pending_application(uid)
    if pending is not None:
        text = t.gettext(
            "⏳ Your application for <b>{name}</b> is waiting for an administrator's review "
            "(submitted {date}). I will tell you the result here."
        ).format(name=html(pending.name), date=t.format_date(pending.created_at, "medium"))
        await show(update, text, InlineKeyboardMarkup([home_row(t)]))
        return
    suspended = await svc.suspended_memberships(uid)
    if suspended and not applying:
        details = suspended[0]
        text = t.gettext(
            "⛔ <b>{name}</b> is suspended by the administrators, so its organizer tools are "
            "not available. Reason: {reason}"
        ).format(name=html(details.organization.name), reason=html(details.status_reason or "—"))
        apply_row = [OrgApply().button(t.gettext("📝 Apply for another organization"))]
        await show(update, text, InlineKeyboardMarkup([apply_row, home_row(t)]))
        return
    draft = await svc.begin(uid)
    intro = None
    if draft.step is Step.NAME and draft.data.name is None:
        intro = t.gettext(
            "🏢 <b>Apply to publish activities</b>\n\nOrganizations (associations, social "
            "organizations, communities, schools, companies, public institutions, volunteer "
            "teams) publish activities here after an administrator approves them. A few "
            "questions:"
        )
    await present(update, context, draft, notice=intro)


async def on_command(update: Update, context: ZyContext) -> None:
    await enter(update, context)


async def on_home(update: Update, context: ZyContext, _press: OrgHome | None = None) -> None:
    await enter(update, context)


async def on_apply(update: Update, context: ZyContext, _press: OrgApply) -> None:
    await enter(update, context, applying=True)


async def show_home(
    update: Update,
    context: ZyContext,
    organization: Organization,
    role: MemberRole,
    notice: str | None = None,
) -> None:
    t = context.t
    oid = organization.organization_id
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("📋 Activities"), callback_data=callback("mg", "list", oid)
            )
        ],
        [
            InlineKeyboardButton(
                t.gettext("➕ New activity"), callback_data=callback("pub", "new", oid)
            )
        ],
    ]
    rows.append([AwardStart(oid).button(t.gettext("🏅 Enter an award"))])
    if role is MemberRole.MANAGER:
        rows.append([OrgMembers(oid).button(t.gettext("👥 Co-organizers"))])
    rows.append(home_row(t))
    # Whole sentences per role: English needs "a manager" but "an organizer".
    if role is MemberRole.MANAGER:
        text = t.gettext("🏢 <b>{name}</b>\nYou are a manager of this organization.")
    else:
        text = t.gettext("🏢 <b>{name}</b>\nYou are an organizer of this organization.")
    text = text.format(name=html(organization.name))
    if notice:
        text = f"{notice}\n\n{text}"
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_open(update: Update, context: ZyContext, press: OrgOpen) -> None:
    uid = context.user.telegram_id
    organization = await context.services.staff.organization_for(uid, press.organization_id)
    role = await context.services.organizations.membership(press.organization_id, uid)
    await answer(update)
    await show_home(update, context, organization, role or MemberRole.ORGANIZER)


# ------------------------------------------------------------------------- form presses


async def _stale(update: Update, context: ZyContext) -> None:
    """A form button from a screen the form has left: refused, nothing changes (not even the
    old message: rewriting a message far up the chat confuses more than it helps)."""
    await answer(update, context.t.gettext(REFUSALS[OrgRefusal.WRONG_STEP]), alert=True)


def _stale_refused(handler: PressFn) -> PressFn:
    """A form press the service refuses as ``WRONG_STEP`` was drawn for a screen the form has
    left: :func:`_stale`; nothing was written."""

    async def guarded(update: Update, context: ZyContext, press: Any) -> None:
        try:
            await handler(update, context, press)
        except OrgRefused as error:
            if error.reason is not OrgRefusal.WRONG_STEP:
                raise
            await _stale(update, context)

    return guarded


async def _form_step(update: Update, context: ZyContext, draft: ApplicationDraft) -> None:
    await answer(update)
    await present(update, context, draft)


@_stale_refused
async def on_pick_type(update: Update, context: ZyContext, press: OrgPickType) -> None:
    draft = await service(context).set_type(context.user.telegram_id, press.kind.value)
    await _form_step(update, context, draft)


@_stale_refused
async def on_pick_area(update: Update, context: ZyContext, press: OrgPickArea) -> None:
    draft = await service(context).set_area(context.user.telegram_id, press.code)
    await _form_step(update, context, draft)


@_stale_refused
async def on_back(update: Update, context: ZyContext, press: OrgBack) -> None:
    draft = await service(context).back(context.user.telegram_id, press.step)
    await _form_step(update, context, draft)


@_stale_refused
async def on_edit(update: Update, context: ZyContext, press: OrgEdit) -> None:
    draft = await service(context).edit(context.user.telegram_id, press.field)
    await _form_step(update, context, draft)


@_stale_refused
async def on_submit(update: Update, context: ZyContext, _press: OrgSubmit) -> None:
    t = context.t
    organization = await service(context).submit(context.user.telegram_id)
    await release(context, FLOW)
    await answer(update)
    nudge_outbox(context)
    await show(
        update,
        t.gettext(
            "📨 Thank you! The application for <b>{name}</b> is sent to the administrators. "
            "I will tell you here when they have decided."
        ).format(name=html(organization.name)),
        InlineKeyboardMarkup([home_row(t)]),
    )


async def on_quit(update: Update, context: ZyContext, _press: OrgQuit) -> None:
    t = context.t
    await service(context).discard(context.user.telegram_id)
    await release(context, FLOW)
    await answer(update)
    await show(
        update,
        t.gettext("The application form is discarded. You can apply any time with /organize."),
        InlineKeyboardMarkup([home_row(t)]),
    )


# ------------------------------------------------------------------------- typed input


async def _current(update: Update, context: ZyContext) -> ApplicationDraft | None:
    """The draft the typed input is for; none (submitted or discarded elsewhere): say so."""
    try:
        return await service(context).current(context.user.telegram_id)
    except OrgRefused as error:
        await release(context, FLOW)
        await send(
            update, refusal_text(context.t, error), InlineKeyboardMarkup([home_row(context.t)])
        )
        return None


async def on_text(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    svc = service(context)
    uid = context.user.telegram_id
    t = context.t
    draft = await _current(update, context)
    if draft is None:
        return
    setters = {
        Step.NAME: svc.set_name,
        Step.CONTACT: svc.set_contact,
        Step.PHONE: svc.set_phone,
        Step.DESCRIPTION: svc.set_description,
    }
    setter = setters.get(draft.step)
    if setter is None:
        await present(update, context, draft, notice=t.gettext("Please use the buttons below."))
        return
    try:
        draft = await setter(uid, message.text)
    except InvalidInput as error:
        await present(update, context, draft, notice="⚠️ " + error.translate(t.gettext))
        return
    await present(update, context, draft)


async def on_other(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    """Anything else while the form is open (a photo, a pin): show the step again."""
    draft = await _current(update, context)
    if draft is not None:
        await present(
            update, context, draft, notice=context.t.gettext("Please answer the question below.")
        )


async def on_cancel(update: Update, context: ZyContext, _owner: FlowOwner) -> None:
    await send(
        update,
        context.t.gettext(
            "Application paused. Your answers are kept: continue any time with /organize."
        ),
    )


FLOWS = [Flow(FLOW, on_text=on_text, on_other=on_other, on_cancel=on_cancel)]


async def on_malformed(update: Update, context: ZyContext) -> None:
    """An ``org.`` press no family parses (forged, or from an older version of the bot)."""
    await refuse_staff(update, context, StaffRefused(StaffRefusal.NOT_FOUND))


PRESSES: PressTable = {
    OrgHome: on_home,
    OrgApply: on_apply,
    OrgOpen: on_open,
    OrgPickType: on_pick_type,
    OrgPickArea: on_pick_area,
    OrgBack: on_back,
    OrgEdit: on_edit,
    OrgSubmit: on_submit,
    OrgQuit: on_quit,
}


# --------------------------------------------------------------------------- notifications


async def render_decision(item: OutboxItem, services: Services, t: Translator) -> Rendered | None:
    """ORG_DECISION to the applicant (approved / rejected), or to every member (suspended /
    reinstated); stale when the status changed again meanwhile."""
    oid = item.payload.get("organization_id")
    decision = item.payload.get("decision")
    if not isinstance(oid, int) or not isinstance(decision, str):
        return None
    details = await services.organizations.details(oid)
    if details is None or details.organization.status.value != decision:
        return None
    name = html(details.organization.name)
    if item.payload.get("audience") == "members":
        # Suspended or reinstated: told to every member, not only the applicant.
        if details.organization.status is OrganizationStatus.SUSPENDED:
            return Rendered(
                t.gettext(
                    "⛔ <b>{name}</b> is suspended by the administrators, so its organizer tools "
                    "are not available. Reason: {reason}"
                ).format(name=name, reason=html(details.status_reason or "—"))
            )
        return Rendered(t.gettext("♻️ {name} is active again.").format(name=name))
    if details.organization.status is OrganizationStatus.APPROVED:
        text = t.gettext(
            "🎉 Your organization <b>{name}</b> is approved! You are its manager: publish "
            "activities and invite co-organizers from the organization home."
        ).format(name=name)
        markup = InlineKeyboardMarkup([[OrgOpen(oid).button(t.gettext("🏢 Organization home"))]])
        return Rendered(text, markup)
    text = t.gettext(
        "Your application for <b>{name}</b> was not approved.\nReason: {reason}\n\nYou can "
        "apply again with /organize."
    ).format(name=name, reason=html(details.status_reason or "—"))
    return Rendered(text, None)


# ------------------------------------------------------------------------------- wiring


def register(application: HandlerSink) -> None:
    application.add_handler(CommandHandler("organize", on_command))
    # The main menu's "🏢 Organize" (not under the org prefix, so a table of its own).
    for handler, group in press_handlers(
        {MenuOpen(MenuItem.ORGANIZE): without_press(on_home)},
        invalid=on_malformed,
        on_refused=answer_refused,
    ):
        application.add_handler(handler, group)
    for handler, group in press_handlers(
        PRESSES, invalid=on_malformed, on_refused=answer_refused, prefix="org"
    ):
        application.add_handler(handler, group)


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ORG_DECISION: render_decision,
}
