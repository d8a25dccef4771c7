"""For organizers: applying for an organization, the organization home and co-organizers.

``/organize`` and the main menu's "For organizers" entry lead a member of an approved
organization to its home (a chooser first when they belong to several), someone with a pending
application to its status, and anyone else to the application form. The form's draft lives in
``organization_drafts`` (:mod:`bot.services.organizations`) with its step; while the form waits
for an answer (``ACTIVE``) the ``organize`` flow owns the typed input (:mod:`handlers.flows`),
so a restart, or another bot process, resumes at the same step.

```mermaid
stateDiagram-v2
    [*] --> Route: /organize · menu:organize · org:home
    Route --> Home: member of an approved organization (chooser when several)
    Route --> Pending: application under review
    Route --> ACTIVE: otherwise, the form (name, type, area, contact, phone, description)
    ACTIVE --> ACTIVE: answer / Back / edit from review
    ACTIVE --> Pending: Submit (administrators notified)
    ACTIVE --> [*]: /cancel (draft kept) · Discard
    Home --> Members: org:mem (managers)
    Members --> Invite: org:inv → one-time link ?start=inv_<code>
    Members --> Members: org:rm → org:rmy (remove)
    InviteLink: /start inv_<code> --> Join: org:join → organizer member
```

Every ``org:`` press about an organization is re-authorized with ``services.staff``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import Renderers, Services, ZyContext, nudge_outbox
from bot.delivery import Rendered
from bot.domain.activities import MemberRole, Organization, OrganizationStatus, OrganizationType
from bot.domain.deeplinks import invite_payload
from bot.domain.flows import FlowOwner
from bot.domain.notifications import NotificationKind, OutboxItem
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
from handlers.callbacks import button_rows, callback, parse_id, parse_telegram_id, split
from handlers.flows import Flow, FlowHandler, release, take
from handlers.render import answer, html, send, show
from handlers.staff import refuse_staff

log = logging.getLogger(__name__)

Step = ApplicationStep
#: What a screen of this module returns: the form waits for an answer, or it does not.
ACTIVE = "active"
END = "end"

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
    OrgRefusal.WRONG_STEP: N_("This button is no longer valid."),
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


def service(context: ZyContext) -> OrganizationAdminService:
    return context.services.org_admin


def refusal_text(t: Translator, error: OrgRefused) -> str:
    name = error.organization.name if error.organization is not None else ""
    return t.gettext(REFUSALS[error.reason]).format(organization=name)


def _home_row(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.gettext("🏠 Main menu"), callback_data="menu:home")]


def type_label(t: Translator, org_type: OrganizationType) -> str:
    return t.gettext(TYPE_LABELS[org_type])


async def area_name(services: Services, t: Translator, code: str | None) -> str:
    if code is None:
        return t.gettext("—")
    item = await services.catalog.area(code)
    return item.name(t.language.value) if item else code


async def describe(services: Services, t: Translator, organization: Organization) -> str:
    """The organization's card (administrators' review and details screens)."""
    lines = [
        f"<b>{html(organization.name)}</b>",
        t.gettext("Type: {type}").format(type=type_label(t, organization.org_type)),
        t.gettext("Area: {area}").format(
            area=html(await area_name(services, t, organization.area_code))
        ),
        t.gettext("Contact person: {name}").format(name=html(organization.contact_name)),
        t.gettext("Contact phone: {phone}").format(
            phone=format_phone_for_display(organization.contact_phone)
        ),
        t.gettext("Status: {status}").format(status=t.gettext(STATUS_LABELS[organization.status])),
    ]
    if organization.description:
        lines += ["", html(organization.description)]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ the form


async def render_step(
    draft: ApplicationDraft, context: ZyContext
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    step = draft.step
    back = [InlineKeyboardButton(t.gettext("⬅️ Back"), callback_data="org:back")]
    quit_row = [InlineKeyboardButton(t.gettext("🗑 Discard the form"), callback_data="org:quit")]
    if step is not Step.REVIEW:
        number = list(Step).index(step) + 1
        progress = t.gettext("Organization application, step {number} of {total}").format(
            number=number, total=len(Step) - 1
        )
    if step is Step.NAME:
        text = t.gettext(
            "{progress}: the <b>full name</b> of your organization (2–60 characters). Please "
            "type it."
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([quit_row])
    if step is Step.TYPE:
        text = t.gettext("{progress}: what <b>type</b> of organization is it?").format(
            progress=progress
        )
        buttons = [
            [InlineKeyboardButton(t.gettext(label), callback_data=callback("org", "t", kind))]
            for kind, label in TYPE_LABELS.items()
        ]
        return text, InlineKeyboardMarkup([*buttons, back])
    if step is Step.AREA:
        text = t.gettext("{progress}: in which <b>area</b> does it work?").format(progress=progress)
        areas = await context.services.catalog.areas()
        area_buttons = [
            InlineKeyboardButton(
                area.name(t.language.value), callback_data=callback("org", "a", area.code)
            )
            for area in areas
        ]
        return text, InlineKeyboardMarkup([*button_rows(area_buttons, 2), back])
    if step is Step.CONTACT:
        text = t.gettext(
            "{progress}: the <b>contact person</b>'s real name. Please type it."
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([back])
    if step is Step.PHONE:
        text = t.gettext(
            "{progress}: the contact person's <b>phone number</b>, for example 138 1234 5678."
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([back])
    if step is Step.DESCRIPTION:
        text = t.gettext(
            "{progress}: a short <b>description</b>: what does the organization do, and whom "
            "does it serve? (10–500 characters)"
        ).format(progress=progress)
        return text, InlineKeyboardMarkup([back])
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
    lines += [t.labelled(FIELD_LABELS[step], value) for step, value in values.items()]
    lines += ["", t.gettext("Tap a field to change it, or submit the application.")]
    edits = [
        InlineKeyboardButton(
            "✏️ " + t.gettext(FIELD_LABELS[field]), callback_data=callback("org", "edit", field)
        )
        for field in values
    ]
    submit = InlineKeyboardButton(
        t.gettext("📨 Submit the application"), callback_data="org:submit"
    )
    return "\n".join(lines), InlineKeyboardMarkup([*button_rows(edits, 2), [submit], quit_row])


async def present(
    update: Update, context: ZyContext, draft: ApplicationDraft, *, notice: str | None = None
) -> str:
    text, markup = await render_step(draft, context)
    if notice:
        text = f"{notice}\n\n{text}"
    # The form reads the next typed answer; owned before it is shown (a crash in between
    # loses nothing).
    await take(context, ORGANIZE_FLOW, draft.step.value)
    await show(update, text, markup)
    return ACTIVE


# ----------------------------------------------------------------------------- routing


async def enter(update: Update, context: ZyContext) -> object:
    """``/organize``, ``menu:organize``, ``org:home``: home, pending status, or the form."""
    await answer(update)
    t = context.t
    uid = context.user.telegram_id
    organizations = await context.services.staff.organizations_of(uid)
    if len(organizations) == 1:
        organization, role = organizations[0]
        await show_home(update, context, organization, role)
        return END
    if organizations:
        buttons = [
            [
                InlineKeyboardButton(
                    organization.name,
                    callback_data=callback("org", "h", organization.organization_id),
                )
            ]
            for organization, _ in organizations
        ]
        await show(
            update,
            t.gettext("You act for several organizations. Which one?"),
            InlineKeyboardMarkup([*buttons, _home_row(t)]),
        )
        return END
    svc = service(context)
    pending = await svc.pending_application(uid)
    if pending is not None:
        text = t.gettext(
            "⏳ Your application for <b>{name}</b> is waiting for an administrator's review "
            "(submitted {date}). I will tell you the result here."
        ).format(name=html(pending.name), date=t.format_day(pending.created_at))
        await show(update, text, InlineKeyboardMarkup([_home_row(t)]))
        return END
    suspended = await svc.suspended_memberships(uid)
    if suspended and not (update.callback_query and update.callback_query.data == "org:apply"):
        details = suspended[0]
        text = t.gettext(
            "⛔ <b>{name}</b> is suspended by the administrators, so its organizer tools are "
            "not available. Reason: {reason}"
        ).format(name=html(details.organization.name), reason=html(details.status_reason or "—"))
        apply_row = [
            InlineKeyboardButton(
                t.gettext("📝 Apply for another organization"), callback_data="org:apply"
            )
        ]
        await show(update, text, InlineKeyboardMarkup([apply_row, _home_row(t)]))
        return END
    draft = await svc.begin(uid)
    intro = None
    if draft.step is Step.NAME and draft.data.name is None:
        intro = t.gettext(
            "🏢 <b>Apply to publish activities</b>\n\nOrganizations (associations, social "
            "organizations, communities, schools, companies, public institutions, volunteer "
            "teams) publish activities here after an administrator approves them. A few "
            "questions:"
        )
    return await present(update, context, draft, notice=intro)


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
    if role is MemberRole.MANAGER:
        rows.append(
            [
                InlineKeyboardButton(
                    t.gettext("👥 Co-organizers"), callback_data=callback("org", "mem", oid)
                )
            ]
        )
    rows.append(_home_row(t))
    # Whole sentences per role: English needs "a manager" but "an organizer".
    if role is MemberRole.MANAGER:
        text = t.gettext("🏢 <b>{name}</b>\nYou are a manager of this organization.")
    else:
        text = t.gettext("🏢 <b>{name}</b>\nYou are an organizer of this organization.")
    text = text.format(name=html(organization.name))
    if notice:
        text = f"{notice}\n\n{text}"
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_button(update: Update, context: ZyContext) -> object:
    """Every ``org:`` press."""
    query = update.callback_query
    parts = split(query.data if query else None)
    action = parts[1] if len(parts) > 1 else ""
    args = parts[2:]
    t = context.t
    uid = context.user.telegram_id
    svc = service(context)
    try:
        if action in ("home", "apply"):
            return await enter(update, context)
        if action == "h":
            oid = parse_id(args[0]) if args else None
            if oid is None:
                raise StaffRefused(StaffRefusal.NOT_FOUND)
            organization = await context.services.staff.organization_for(uid, oid)
            role = await context.services.organizations.membership(oid, uid)
            await answer(update)
            await show_home(update, context, organization, role or MemberRole.ORGANIZER)
            return END
        if action == "mem":
            return await _members(update, context, args)
        if action == "inv":
            return await _invite(update, context, args)
        if action in ("rm", "rmy"):
            return await _remove(update, context, action, args)
        if action == "join":
            return await _join(update, context, args)
        return await _form_button(update, context, action, args)
    except StaffRefused as error:
        await refuse_staff(update, context, error)
        return END
    except OrgRefused as error:
        await answer(update, refusal_text(t, error), alert=True)
        if error.reason is OrgRefusal.WRONG_STEP:
            try:
                draft = await svc.current(uid)
            except OrgRefused:
                return END
            return await present(update, context, draft)
        return END


async def _form_button(update: Update, context: ZyContext, action: str, args: list[str]) -> object:
    svc = service(context)
    uid = context.user.telegram_id
    t = context.t
    argument = args[0] if args else ""
    if action == "quit":
        await svc.discard(uid)
        await answer(update)
        await show(
            update,
            t.gettext("The application form is discarded. You can apply any time with /organize."),
            InlineKeyboardMarkup([_home_row(t)]),
        )
        return END
    if action == "t":
        draft = await svc.set_type(uid, argument)
    elif action == "a":
        draft = await svc.set_area(uid, argument)
    elif action == "back":
        draft = await svc.back(uid)
    elif action == "edit":
        try:
            step = Step(argument)
        except ValueError:
            raise OrgRefused(OrgRefusal.WRONG_STEP) from None
        draft = await svc.edit(uid, step)
    elif action == "submit":
        organization = await svc.submit(uid)
        await answer(update)
        nudge_outbox(context)
        await show(
            update,
            t.gettext(
                "📨 Thank you! The application for <b>{name}</b> is sent to the administrators. "
                "I will tell you here when they have decided."
            ).format(name=html(organization.name)),
            InlineKeyboardMarkup([_home_row(t)]),
        )
        return END
    else:
        raise OrgRefused(OrgRefusal.WRONG_STEP)
    await answer(update)
    return await present(update, context, draft)


async def on_text(update: Update, context: ZyContext) -> object:
    message = update.effective_message
    if message is None or message.text is None:
        return ACTIVE
    svc = service(context)
    uid = context.user.telegram_id
    t = context.t
    try:
        draft = await svc.current(uid)
    except OrgRefused:
        return END
    setters = {
        Step.NAME: svc.set_name,
        Step.CONTACT: svc.set_contact,
        Step.PHONE: svc.set_phone,
        Step.DESCRIPTION: svc.set_description,
    }
    setter = setters.get(draft.step)
    if setter is None:
        return await present(
            update, context, draft, notice=t.gettext("Please use the buttons below.")
        )
    try:
        draft = await setter(uid, message.text)
    except InvalidInput as error:
        return await present(update, context, draft, notice="⚠️ " + error.translate(t.gettext))
    return await present(update, context, draft)


async def on_other(update: Update, context: ZyContext) -> object:
    """Anything else while the form is open (a photo, a sticker): show the step again."""
    try:
        draft = await service(context).current(context.user.telegram_id)
    except OrgRefused:
        return END
    return await present(
        update, context, draft, notice=context.t.gettext("Please answer the question below.")
    )


async def cancel(update: Update, context: ZyContext) -> object:
    await send(
        update,
        context.t.gettext(
            "Application paused. Your answers are kept: continue any time with /organize."
        ),
    )
    return END


# ------------------------------------------------------------------------- co-organizers


async def _members(
    update: Update, context: ZyContext, args: list[str], notice: str | None = None
) -> object:
    t = context.t
    oid = parse_id(args[0]) if args else None
    if oid is None:
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    organization, members = await service(context).members(context.user.telegram_id, oid)
    await answer(update)
    lines = [t.gettext("👥 <b>Members of {name}</b>").format(name=html(organization.name)), ""]
    buttons = []
    for member in members:
        name = " ".join(part for part in (member.first_name, member.last_name) if part)
        if member.username:
            name += f" (@{member.username})"
        role = t.gettext("manager") if member.role is MemberRole.MANAGER else t.gettext("organizer")
        lines.append(f"• {html(name)} — {role}")
        if member.telegram_id != context.user.telegram_id:
            buttons.append(
                [
                    InlineKeyboardButton(
                        t.gettext("➖ Remove {name}").format(name=member.first_name),
                        callback_data=callback("org", "rm", oid, member.telegram_id),
                    )
                ]
            )
    lines += [
        "",
        t.gettext(
            "Invite a co-organizer with a one-time link: it works once and expires after "
            "{hours} hours."
        ).format(hours=int(service(context).invite_ttl.total_seconds() // 3600)),
    ]
    if notice:
        lines = [notice, "", *lines]
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("🔗 Create an invitation link"), callback_data=callback("org", "inv", oid)
            )
        ],
        *buttons,
        [InlineKeyboardButton(t.gettext("⬅️ Back"), callback_data=callback("org", "h", oid))],
    ]
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))
    return END


async def _invite(update: Update, context: ZyContext, args: list[str]) -> object:
    t = context.t
    oid = parse_id(args[0]) if args else None
    if oid is None:
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    code, expires_at = await service(context).create_invite(context.user.telegram_id, oid)
    await answer(update)
    link = f"https://t.me/{context.bot.username}?start={invite_payload(code)}"
    text = t.gettext(
        "🔗 Send this link to the person you want as a co-organizer. It works <b>once</b> and "
        "expires on {expires}.\n\n{link}"
    ).format(expires=t.format_moment(expires_at), link=html(link))
    await send(
        update,
        text,
        InlineKeyboardMarkup(
            [[InlineKeyboardButton(t.gettext("⬅️ Back"), callback_data=callback("org", "mem", oid))]]
        ),
    )
    return END


async def _remove(update: Update, context: ZyContext, action: str, args: list[str]) -> object:
    t = context.t
    oid = parse_id(args[0]) if args else None
    target = parse_telegram_id(args[1]) if len(args) > 1 else None
    if oid is None or target is None:
        raise StaffRefused(StaffRefusal.NOT_FOUND)
    svc = service(context)
    if action == "rm":
        _, members = await svc.members(context.user.telegram_id, oid)
        member = next((m for m in members if m.telegram_id == target), None)
        if member is None:
            raise OrgRefused(OrgRefusal.NOT_MEMBER)
        await answer(update)
        await show(
            update,
            t.gettext("Remove <b>{name}</b> from the organization?").format(
                name=html(member.first_name)
            ),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.gettext("✅ Yes, remove"),
                            callback_data=callback("org", "rmy", oid, target),
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            t.gettext("⬅️ Back"), callback_data=callback("org", "mem", oid)
                        )
                    ],
                ]
            ),
        )
        return END
    member = await svc.remove_member(context.user.telegram_id, oid, target)
    notice = t.gettext("✅ {name} is no longer a member.").format(name=html(member.first_name))
    return await _members(update, context, [str(oid)], notice=notice)


async def show_invite(update: Update, context: ZyContext, code: str) -> None:
    """``/start inv_<code>``: who invites, and a Join button (nothing changes before it)."""
    t = context.t
    try:
        organization = await service(context).invite_target(context.user.telegram_id, code)
    except OrgRefused as error:
        await send(update, refusal_text(t, error), InlineKeyboardMarkup([_home_row(t)]))
        return
    text = t.gettext(
        "🏢 You are invited to join <b>{name}</b> as a co-organizer: you will be able to "
        "publish and manage its activities. Join?"
    ).format(name=html(organization.name))
    await send(
        update,
        text,
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t.gettext("✅ Join"), callback_data=callback("org", "join", code)
                    )
                ],
                [InlineKeyboardButton(t.gettext("No, thanks"), callback_data="menu:home")],
            ]
        ),
    )


async def _join(update: Update, context: ZyContext, args: list[str]) -> object:
    t = context.t
    code = args[0] if args else ""
    organization = await service(context).accept_invite(context.user.telegram_id, code)
    await answer(update)
    await show_home(
        update,
        context,
        organization,
        MemberRole.ORGANIZER,
        notice=t.gettext("🎉 Welcome! You are now a co-organizer of {name}.").format(
            name=html(organization.name)
        ),
    )
    return END


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
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t.gettext("🏢 Organization home"), callback_data=callback("org", "h", oid)
                    )
                ]
            ]
        )
        return Rendered(text, markup)
    text = t.gettext(
        "Your application for <b>{name}</b> was not approved.\nReason: {reason}\n\nYou can "
        "apply again with /organize."
    ).format(name=name, reason=html(details.status_reason or "—"))
    return Rendered(text, None)


# ------------------------------------------------------------------------------- wiring


def _owning(handler: Callable[[Update, ZyContext], Awaitable[object]]) -> Any:
    """A screen that does not wait for an answer gives the typed input back (only if this form
    had it: a form left half-way elsewhere keeps it)."""

    async def wrapped(update: Update, context: ZyContext) -> None:
        if await handler(update, context) != ACTIVE:
            await release(context, ORGANIZE_FLOW)

    return wrapped


def _typed(handler: Callable[[Update, ZyContext], Awaitable[object]]) -> FlowHandler:
    async def wrapped(update: Update, context: ZyContext, owner: FlowOwner) -> None:
        if await handler(update, context) != ACTIVE:
            await release(context, ORGANIZE_FLOW)

    return wrapped


async def on_cancel(update: Update, context: ZyContext, owner: FlowOwner) -> object:
    return await cancel(update, context)


ORGANIZE_FLOW = "organize"

#: The typed-input flows of this module (routed by handlers.flows).
FLOWS = [
    Flow(ORGANIZE_FLOW, on_text=_typed(on_text), on_other=_typed(on_other), on_cancel=on_cancel)
]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("organize", _owning(enter)))
    application.add_handler(CallbackQueryHandler(_owning(enter), pattern=r"^menu:organize$"))
    application.add_handler(CallbackQueryHandler(_owning(on_button), pattern=r"^org:"))


#: The notifications this module renders (collected by ``handlers.notification_renderers``).
RENDERERS: Renderers = {
    NotificationKind.ORG_DECISION: render_decision,
}
